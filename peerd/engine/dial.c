/*
 * Dialing: a TCP connection to an ip4, ip6 or DNS multiaddr, over
 * WebSocket for /ws, with the peer ID of its /p2p part checked in the
 * handshake.  A live connection to the same peer is reused.  An address a peer gave is dialled only if
 * connectionManager.dialPrivateAddresses allows its scope (for a name,
 * the scope of what it resolves to), and one IP address and port at most
 * once per backoff, however many peers name it.  Calls conn.c and
 * bans.c; a /p2p-circuit address goes to the relay client through the
 * hook the engine sets.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addrscope.h"
#include "child.h"
#include "engine.h"
#include "log.h"
#include "ws.h"

/* One address dialled lately: 32 bytes, 32 KiB for the table. */
struct backoff {
	uint8_t		 ip[16];	/* IPv4 as ::ffff:a.b.c.d */
	uint16_t	 port;
	uint8_t		 tries;		/* dials since the last success */
	int64_t		 until;		/* monotonic ms; 0: a free slot */
};

static struct dial_hooks	 hooks;
static struct backoff		 backoffs[DIAL_BACKOFF_SLOTS];
static int			 policy = DIALPRIV_AUTO;
static int64_t			 backoff_min = 1000, backoff_max = 60000;

void
dial_set_hooks(const struct dial_hooks *h)
{
	hooks = *h;
}

/* The engine's part of the configuration: what learned dials follow. */
void
dial_configure(const struct reconf_engine *lim)
{
	policy = lim->dial_private;
	backoff_min = lim->dial_backoff_min;
	backoff_max = lim->dial_backoff_max;
}

static struct backoff *
backoff_find(const struct sockaddr_storage *ss)
{
	uint8_t		 ip[16];
	uint16_t	 port;
	size_t		 i;

	sockaddr_ip16(ss, ip);
	port = ss->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port;
	for (i = 0; i < DIAL_BACKOFF_SLOTS; i++)
		if (backoffs[i].until != 0 && backoffs[i].port == port &&
		    memcmp(backoffs[i].ip, ip, 16) == 0)
			return &backoffs[i];
	return NULL;
}

/*
 * A dial of ss may start (0): the wait before the next is dialBackoffMin,
 * doubled with each dial until one succeeds, at most dialBackoffMax.  A
 * new address takes the slot whose wait ended first; when every slot is
 * still waiting (-2), the dial waits too rather than forget a backoff.
 */
static int
backoff_take(const struct sockaddr_storage *ss)
{
	struct backoff	*b;
	int64_t		 now = mono_ms(), wait;
	size_t		 i;

	if ((b = backoff_find(ss)) == NULL) {
		b = &backoffs[0];
		for (i = 1; i < DIAL_BACKOFF_SLOTS; i++)
			if (backoffs[i].until < b->until)
				b = &backoffs[i];
		if (b->until > now)
			return -2;
		memset(b, 0, sizeof(*b));
		sockaddr_ip16(ss, b->ip);
		b->port = ss->ss_family == AF_INET ?
		    ((const struct sockaddr_in *)ss)->sin_port :
		    ((const struct sockaddr_in6 *)ss)->sin6_port;
	} else if (now < b->until)
		return -1;
	for (wait = backoff_min, i = 0; i < b->tries && wait < backoff_max;
	    i++)
		wait *= 2;
	b->until = now + (wait < backoff_max ? wait : backoff_max);
	if (b->tries < UINT8_MAX)
		b->tries++;
	return 0;
}

/* A learned dial came up: the next wait at that address is short again. */
void
dial_succeeded(const struct conn *c)
{
	struct backoff	*b;

	if (c->learned && !c->relayed && (b = backoff_find(&c->ss)) != NULL)
		b->tries = 0;
}

/* May a learned address of this scope be dialled, whoever named it? */
static int
dial_scope_ok(int scope, int resolved)
{
	int	 p = policy;

	/* auto decided when the address was learned (known.c); a name
	 * is judged as if a public peer gave it */
	if (p == DIALPRIV_AUTO && !resolved)
		p = DIALPRIV_TRUE;
	return addr_scope_allowed(p, scope, SCOPE_PUBLIC);
}

/* A learned address its scope keeps from a dial. */
static int
dial_filtered(int scope, const char *addr, char *err, size_t errlen)
{
	static struct log_limit	 ll = LOG_LIMIT("learned addresses filtered "
				    "at dial");

	counters.addrs_filtered++;
	log_limited(&ll, LOG_INFO, "dial_filtered address=%s scope=%s", addr,
	    addr_scope_name(scope));
	snprintf(err, errlen, "%s is a %s address a peer gave "
	    "(connectionManager.dialPrivateAddresses)", addr,
	    addr_scope_name(scope));
	return -1;
}

static int
dial_backoff(const struct sockaddr_storage *ss, char *err, size_t errlen)
{
	static struct log_limit	 ll = LOG_LIMIT("dials in backoff");
	char			 addr[INET6_ADDRSTRLEN + 8];
	int			 r;

	if ((r = backoff_take(ss)) == 0)
		return 0;
	counters.dials_backed_off++;
	sockaddr_fmt(ss, addr, sizeof(addr));
	log_limited(&ll, LOG_INFO, "dial_backoff address=%s table=%s", addr,
	    r == -2 ? "full" : "ok");
	if (r == -2)
		snprintf(err, errlen, "%d addresses were dialled less than a "
		    "backoff ago", DIAL_BACKOFF_SLOTS);
	else
		snprintf(err, errlen, "%s was dialled less than a backoff ago",
		    addr);
	return -1;
}

/* What a learned name resolved to: its scope, then the backoff. */
static int
dial_resolved_ok(const struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char	 addr[INET6_ADDRSTRLEN + 8];
	uint8_t	 ip[16];
	int	 scope;

	sockaddr_ip16(ss, ip);
	scope = addr_scope_ip(ip);
	if (!dial_scope_ok(scope, 1)) {
		sockaddr_fmt(ss, addr, sizeof(addr));
		return dial_filtered(scope, addr, err, errlen);
	}
	return dial_backoff(ss, err, errlen);
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
	if ((c->learned && dial_resolved_ok(&ss, err, sizeof(err)) == -1) ||
	    dial_socket(c, &ss, len, err, sizeof(err)) == -1)
		conn_close(c, err);
}

/* Over WebSocket: the request goes once TCP is up. */
static int
dial_ws(struct conn *c, const struct multiaddr *ma, char *err, size_t errlen)
{
	if ((c->ws = wsc_new(WS_CLIENT, conn_limits.ws_max_message,
	    &c->mem)) == NULL || wsc_client_start(c->ws, ma) == -1) {
		snprintf(err, errlen, "cannot start a WebSocket: %s",
		    c->ws == NULL ? "out of memory" : "no host and port");
		conn_close(c, err);
		return -1;
	}
	return 0;
}

struct conn *
dial_maddr(const struct multiaddr *ma, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct peerid		 id;
	struct conn		*c;
	int			 have_id;

	if (ident.lockdown) {
		snprintf(err, errlen, "peerd is in lockdown: it dials nothing "
		    "until it is restarted");
		return NULL;
	}
	if (maddr_has(ma, MADDR_P2P_CIRCUIT))
		return hooks.relayed(ma, err, errlen);
	have_id = maddr_get_peerid(ma, &id) == 0;
	if (have_id && ident.ready && peerid_equal(&id, &ident.peerid)) {
		snprintf(err, errlen, "that is this peer's own ID");
		return NULL;
	}
	if (have_id && (c = conn_find_peer(&id)) != NULL)
		return c;
	if (have_id && bans_check_peer(&id)) {
		snprintf(err, errlen, "the peer is blocked");
		return NULL;
	}
	if (maddr_has(ma, MADDR_WSS) || maddr_has(ma, MADDR_TLS)) {
		snprintf(err, errlen, "peerd does not speak TLS: /wss and "
		    "/tls cannot be dialled");
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
	if (c == NULL || (maddr_has(ma, MADDR_WS) && dial_ws(c, ma, err,
	    errlen) == -1))
		return NULL;
	if (have_id) {
		c->peer = id;
		c->expect_peer = 1;
	}
	counters.dialed++;
	return c;
}

/*
 * An address a peer gave, from the store: its scope was judged when it
 * was learned, and is again here under dialPrivateAddresses false (it
 * may have been kept under another setting); a name is judged by what
 * it resolves to.
 */
struct conn *
dial_learned(const struct multiaddr *ma, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct conn		*c;
	socklen_t		 len;
	char			 text[MADDR_STRMAX];
	int			 scope;

	scope = addr_scope(ma);
	if (scope != SCOPE_NAME && !dial_scope_ok(scope, 0)) {
		if (maddr_format(ma, text, sizeof(text)) == -1)
			strlcpy(text, "?", sizeof(text));
		dial_filtered(scope, text, err, errlen);
		return NULL;
	}
	if (!maddr_has(ma, MADDR_P2P_CIRCUIT) &&
	    maddr_to_sockaddr(ma, &ss, &len) == 0 &&
	    dial_backoff(&ss, err, errlen) == -1)
		return NULL;
	if ((c = dial_maddr(ma, err, errlen)) != NULL && !c->relayed &&
	    c->state == CS_CONNECTING)
		c->learned = 1;
	return c;
}
