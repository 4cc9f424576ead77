/*
 * Ready is when the daemon API answers IDENTIFY (p2pd.proto): one
 * varint-framed Request{type: IDENTIFY} on a new connection, one
 * varint-framed Response{type: OK, identify{id, addrs}} back.  Then the
 * lines p2pd prints when it is ready.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pd.h"
#include "pb.h"
#include "varint.h"
#include "p2pdwrap.h"

#define READY_MAXRESP	65536	/* an IDENTIFY answer is well under */

static int
ready_connect(const struct wrapconf *wc)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { 2, 0 };
	const struct sockaddr	*sa = (const struct sockaddr *)&wc->api_ss;
	socklen_t		 len = wc->api_sslen;
	int			 fd;

	if (wc->sock[0] != '\0') {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, wc->sock, sizeof(sun.sun_path));
		sa = (const struct sockaddr *)&sun;
		len = sizeof(sun);
	}
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* bounded: a daemon that accepts and never answers is not ready */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, sa, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Response.identify: the peer ID and the addresses, formatted. */
static int
ready_identify(const uint8_t *p, size_t len, struct ready *rd)
{
	struct pbr		 r;
	struct pbf		 f;
	struct peerid		 id;
	struct multiaddr	 ma;
	char			 s[MADDR_STRMAX];
	int			 e, haveid = 0;

	pbr_init(&r, p, len);
	while ((e = pbr_next(&r, &f)) == 1) {
		if (f.field == 1 && f.wire == PB_LEN) {
			if (peerid_from_mh(f.data, f.len, &id) == -1 ||
			    peerid_format(&id, rd->id, sizeof(rd->id)) == -1)
				return -1;
			haveid = 1;
		} else if (f.field == 2 && f.wire == PB_LEN) {
			if (rd->naddrs == sizeof(rd->addrs) /
			    sizeof(rd->addrs[0]) ||
			    maddr_decode(f.data, f.len, &ma) == -1 ||
			    maddr_format(&ma, s, sizeof(s)) == -1 ||
			    (rd->addrs[rd->naddrs] = strdup(s)) == NULL)
				return -1;
			rd->naddrs++;
		}
	}
	return e == 0 && haveid ? 0 : -1;
}

static int
ready_response(const uint8_t *p, size_t len, struct ready *rd)
{
	struct pbr	 r;
	struct pbf	 f;
	const uint8_t	*ident = NULL;
	size_t		 ilen = 0;
	uint64_t	 type = P2PD_ERROR;
	int		 e;

	pbr_init(&r, p, len);
	while ((e = pbr_next(&r, &f)) == 1) {
		if (f.field == 1 && f.wire == PB_VARINT)
			type = f.v;
		else if (f.field == 4 && f.wire == PB_LEN) {
			ident = f.data;
			ilen = f.len;
		}
	}
	if (e != 0 || type != P2PD_OK || ident == NULL)
		return -1;
	return ready_identify(ident, ilen, rd);
}

/* 1 when the daemon API answered IDENTIFY, with rd filled; else 0. */
int
ready_probe(const struct wrapconf *wc, struct ready *rd)
{
	static const uint8_t	 req[] = { 0x02, 0x08, P2PD_IDENTIFY };
	uint8_t			*buf;
	const uint8_t		*msg;
	size_t			 len = 0, mlen, used;
	ssize_t			 n;
	int			 fd, r = 0;

	if ((fd = ready_connect(wc)) == -1)
		return 0;
	if ((buf = malloc(READY_MAXRESP)) == NULL ||
	    write(fd, req, sizeof(req)) != sizeof(req)) {
		free(buf);
		close(fd);
		return 0;
	}
	while ((n = read(fd, buf + len, READY_MAXRESP - len)) > 0) {
		len += n;
		if ((r = uvarint_frame_read(buf, len, READY_MAXRESP, &msg,
		    &mlen, &used)) != 0)
			break;
	}
	close(fd);
	if (r == 1) {
		memset(rd, 0, sizeof(*rd));
		if (ready_response(msg, mlen, rd) == -1) {
			ready_free(rd);
			r = 0;
		}
	} else
		r = 0;
	free(buf);
	return r;
}

void
ready_print(const struct wrapconf *wc, const struct ready *rd)
{
	size_t	 i;

	if (wc->quiet)
		return;
	printf("Control socket: %s\n", wc->api);
	printf("Peer ID: %s\n", rd->id);
	printf("Peer Addrs:\n");
	for (i = 0; i < rd->naddrs; i++)
		printf("%s\n", rd->addrs[i]);
	fflush(stdout);
}

void
ready_free(struct ready *rd)
{
	size_t	 i;

	for (i = 0; i < rd->naddrs; i++)
		free(rd->addrs[i]);
	rd->naddrs = 0;
}
