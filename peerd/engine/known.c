/*
 * What the engine learns about peers goes to stored: connections that
 * came up, dials that failed, what identify said, addresses from the
 * configuration.  Best effort: nothing here waits for an answer.
 * Calls common/ only; reads the counters and the identity of state.c.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <string.h>

#include "child.h"
#include "engine.h"
#include "identify.h"
#include "log.h"
#include "pb.h"

static struct peer_rec	 upd;

static void
known_send(const struct peerid *id, int kind)
{
	uint8_t			 buf[sizeof(struct store_peer_upd) +
				    REC_MAXLEN];
	struct store_peer_upd	 hdr;
	size_t			 n;

	if (id->len == 0 || (ident.ready && peerid_equal(id, &ident.peerid)))
		return;
	if (!child_has_room(PROC_STORED)) {
		counters.store_dropped++;
		return;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.peer = *id;
	hdr.kind = kind;
	memcpy(buf, &hdr, sizeof(hdr));
	if (peer_rec_encode(&upd, buf + sizeof(hdr), REC_MAXLEN, &n) == -1)
		return;
	child_compose(PROC_STORED, IMSG_STORE_PEER, 0, -1, buf,
	    sizeof(hdr) + n);
}

static void
known_reset(uint32_t sources)
{
	memset(&upd, 0, sizeof(upd));
	upd.sources = sources;
}

/* Addresses without their /p2p part; relayed ones are not kept. */
static void
known_addr(const struct multiaddr *ma)
{
	struct maddr_comp	 c;
	size_t			 off = 0, end = 0;
	int			 r;

	if (maddr_has(ma, MADDR_P2P_CIRCUIT))
		return;
	while ((r = maddr_next(ma, &off, &c)) == 1 && c.code != MADDR_P2P)
		end = off;
	if (r == -1 || end == 0 || end > PREC_ADDRMAX)
		return;
	peer_rec_add_addr(&upd, ma->b, end);
}

static void
known_sockaddr(const struct conn *c)
{
	struct multiaddr	 ma;

	if (c->relayed || c->fd == -1 ||
	    maddr_from_sockaddr((const struct sockaddr *)&c->ss, &ma) == -1)
		return;
	known_addr(&ma);
}

void
known_conn_up(const struct conn *c, uint32_t sources)
{
	if (!c->have_peer)
		return;
	known_reset(sources | (c->relayed ? SRC_RELAY : c->dir ==
	    CONN_INBOUND ? SRC_INBOUND : SRC_DIALLED));
	if (c->dir == CONN_OUTBOUND)
		known_sockaddr(c);
	known_send(&c->peer, UPD_CONNECTED);
}

void
known_dial_failed(const struct conn *c)
{
	if (c->dir != CONN_OUTBOUND || !c->expect_peer || c->relayed)
		return;
	known_reset(SRC_DIALLED);
	if (c->ss.ss_family == AF_INET || c->ss.ss_family == AF_INET6)
		known_sockaddr(c);
	known_send(&c->peer, UPD_DIAL_FAILED);
}

/* Text cut to fit, on a character boundary. */
static void
utf8_copy(char *dst, const char *src, size_t dstsz)
{
	size_t	 n = strlcpy(dst, src, dstsz);

	if (n >= dstsz)
		n = dstsz - 1;
	while (n > 0 && !pb_utf8_valid((const uint8_t *)dst, n))
		dst[--n] = '\0';
}

void
known_identified(const struct conn *c, const struct identify_msg *m)
{
	struct multiaddr	 ma;
	const char		*p;
	size_t			 i;

	if (!c->have_peer)
		return;
	known_reset(SRC_IDENTIFY);
	utf8_copy(upd.agent, m->agent_version, sizeof(upd.agent));
	for (i = 0; i < m->nprotos && upd.nprotos < PREC_MAXPROTOS; i++) {
		p = identify_proto(m, i);
		if (p[0] != '\0' && strlen(p) < PREC_PROTOLEN)
			strlcpy(upd.protos[upd.nprotos++], p, PREC_PROTOLEN);
	}
	for (i = 0; i < m->naddrs; i++)
		if (identify_addr(m, i, &ma) == 0)
			known_addr(&ma);
	known_send(&c->peer, UPD_IDENTIFIED);
}

/* An address from the configuration or an operator. */
void
known_discovered(const struct multiaddr *ma, uint32_t source)
{
	struct peerid	 id;

	if (maddr_get_peerid(ma, &id) == -1)
		return;
	known_reset(source);
	known_addr(ma);
	known_send(&id, UPD_DISCOVERED);
}
