/*
 * Dialing: a TCP connection to an ip4, ip6 or DNS multiaddr, with the
 * peer ID of its /p2p part checked in the handshake.  A live connection
 * to the same peer is reused.  Calls conn.c and bans.c; a /p2p-circuit
 * address goes to the relay client through the hook the engine sets.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "engine.h"
#include "log.h"

static struct dial_hooks	 hooks;

void
dial_set_hooks(const struct dial_hooks *h)
{
	hooks = *h;
}

static int
dial_socket(struct conn *c, const struct sockaddr_storage *ss, socklen_t len,
    char *err, size_t errlen)
{
	int	 s;

	if (bans_check_ip(ss)) {
		snprintf(err, errlen, "the address is blocked");
		return -1;
	}
	if ((s = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(s, (const struct sockaddr *)ss, len) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(s);
		return -1;
	}
	conn_set_socket(c, s, ss, len);
	return 0;
}

/* /dns, /dns4, /dns6 with /tcp: the parent resolves the name. */
static struct conn *
dial_name(const struct multiaddr *ma, char *err, size_t errlen)
{
	struct resolve_req	 req;
	struct maddr_comp	 name, port;
	struct conn		*c;
	size_t			 off = 0;

	if (maddr_next(ma, &off, &name) != 1 ||
	    maddr_next(ma, &off, &port) != 1 || port.code != MADDR_TCP ||
	    name.vlen >= sizeof(req.name)) {
		snprintf(err, errlen, "a name must be followed by /tcp");
		return NULL;
	}
	if ((c = conn_new_pending(CONN_OUTBOUND)) == NULL) {
		snprintf(err, errlen, "connection limit reached");
		return NULL;
	}
	memset(&req, 0, sizeof(req));
	memcpy(req.name, name.val, name.vlen);
	req.family = name.code == MADDR_DNS4 ? AF_INET :
	    name.code == MADDR_DNS6 ? AF_INET6 : AF_UNSPEC;
	c->port = (uint16_t)(port.val[0] << 8 | port.val[1]);
	if (child_compose(PROC_PARENT, IMSG_RESOLVE, c->id, -1, &req,
	    sizeof(req)) == -1) {
		conn_close(c, "parent is gone");
		snprintf(err, errlen, "cannot resolve now");
		return NULL;
	}
	return c;
}

/* The parent's answer: connect, or give up on the connection. */
void
dial_resolved(uint32_t id, const struct resolve_res *res)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct conn		*c;
	socklen_t		 len;
	char			 err[256];

	if ((c = conn_find(id)) == NULL || c->state != CS_CONNECTING ||
	    c->fd != -1 || c->relayed)
		return;
	if (!res->ok) {
		snprintf(err, sizeof(err), "cannot resolve: %s", res->err);
		conn_close(c, err);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (res->family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, res->addr, 4);
		sin->sin_port = htons(c->port);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, res->addr, 16);
		sin6->sin6_port = htons(c->port);
		len = sizeof(*sin6);
	}
	if (dial_socket(c, &ss, len, err, sizeof(err)) == -1)
		conn_close(c, err);
}

struct conn *
dial_maddr(const struct multiaddr *ma, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct peerid		 id;
	struct conn		*c;
	int			 have_id;

	if (maddr_has(ma, MADDR_P2P_CIRCUIT))
		return hooks.relayed(ma, err, errlen);
	have_id = maddr_get_peerid(ma, &id) == 0;
	if (have_id && (c = conn_find_peer(&id)) != NULL)
		return c;
	if (have_id && bans_check_peer(&id)) {
		snprintf(err, errlen, "the peer is blocked");
		return NULL;
	}
	if (maddr_has(ma, MADDR_WS) || maddr_has(ma, MADDR_WSS)) {
		snprintf(err, errlen, "the WebSocket transport is not "
		    "supported yet");
		return NULL;
	}
	if (maddr_has(ma, MADDR_DNSADDR)) {
		snprintf(err, errlen, "/dnsaddr is not resolved yet: give "
		    "/dns4 or /dns6 with /tcp");
		return NULL;
	}
	if (maddr_has(ma, MADDR_DNS) || maddr_has(ma, MADDR_DNS4) ||
	    maddr_has(ma, MADDR_DNS6))
		c = dial_name(ma, err, errlen);
	else if (maddr_to_sockaddr(ma, &ss, &len) == -1) {
		snprintf(err, errlen, "only /ip4, /ip6 or /dns4, /dns6 with "
		    "/tcp can be dialled");
		return NULL;
	} else if ((c = conn_new_pending(CONN_OUTBOUND)) == NULL) {
		snprintf(err, errlen, "connection limit reached");
		return NULL;
	} else if (dial_socket(c, &ss, len, err, errlen) == -1) {
		conn_close(c, err);
		return NULL;
	}
	if (c == NULL)
		return NULL;
	if (have_id) {
		c->peer = id;
		c->expect_peer = 1;
	}
	counters.dialed++;
	return c;
}
