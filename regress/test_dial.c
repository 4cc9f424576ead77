/*
 * dial.c's rules for addresses peers gave, around stand-ins for the
 * connections and a clock the test turns: the per-address backoff
 * (dialBackoffMin doubled per dial up to dialBackoffMax, short again
 * after a success, IPv4 and IPv4-mapped IPv6 one address, the table of
 * DIAL_BACKOFF_SLOTS that refuses a new address rather than forget one
 * still waiting), and dialPrivateAddresses at the dial: a kept address
 * under false, what a learned name resolves to.  The only sockets made
 * connect to 127.0.0.1, to a port this test listens on (and never
 * accepts).
 */
#include "../peerd/engine/dial.c"

#include <err.h>
#include <stdlib.h>

#include "tap.h"

struct engine_counters	 counters;

static int64_t		 now_ms = 1000000;
static int		 sockets, closed;
static char		 closed_why[256];
static struct conn	*last;
static uint16_t		 lport;		/* ours, listening on 127.0.0.1 */

int64_t
mono_ms(void)
{
	return now_ms;
}

int
bans_check_ip(const struct sockaddr_storage *ss)
{
	return 0;
}

int
bans_check_peer(const struct peerid *id)
{
	return 0;
}

struct conn *
conn_find(uint32_t id)
{
	return last != NULL && last->id == id ? last : NULL;
}

struct conn *
conn_find_peer(const struct peerid *id)
{
	return NULL;
}

struct conn *
conn_new_pending(enum conn_dir dir)
{
	free(last);
	if ((last = calloc(1, sizeof(*last))) == NULL)
		abort();
	last->id = 7;
	last->fd = -1;
	last->dir = dir;
	last->state = CS_CONNECTING;
	return last;
}

void
conn_set_socket(struct conn *c, int fd, const struct sockaddr_storage *ss,
    socklen_t len)
{
	sockets++;
	close(fd);
	c->ss = *ss;
}

void
conn_close(struct conn *c, const char *reason)
{
	closed++;
	strlcpy(closed_why, reason, sizeof(closed_why));
}

struct conn_limits	 conn_limits = { .ws_max_message = 1 << 20 };
struct engine_identity	 ident;
static struct wsconn	*ws_made;
static char		 ws_host[64];

struct wsconn *
wsc_new(int side, uint64_t maxmsg, struct bq_acct *acct)
{
	static char	 w;

	return side == WS_CLIENT && maxmsg == conn_limits.ws_max_message ?
	    (struct wsconn *)&w : NULL;
}

int
wsc_client_start(struct wsconn *w, const struct multiaddr *ma)
{
	ws_made = w;
	return maddr_format(ma, ws_host, sizeof(ws_host));
}

int
child_compose(enum proc_id to, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	return 0;
}

void
sockaddr_ip16(const struct sockaddr_storage *ss, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (ss->ss_family == AF_INET) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else
		memcpy(ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

void
sockaddr_fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	snprintf(buf, len, "addr");
}

static struct sockaddr_storage
v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	sin->sin_port = htons(port);
	return ss;
}

static struct sockaddr_storage
v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	sin6->sin6_port = htons(port);
	return ss;
}

static void
configure(int priv, int64_t min, int64_t max)
{
	struct reconf_engine	 lim;

	memset(&lim, 0, sizeof(lim));
	lim.dial_private = priv;
	lim.dial_backoff_min = min;
	lim.dial_backoff_max = max;
	dial_configure(&lim);
	memset(backoffs, 0, sizeof(backoffs));
}

/* The waits after each dial: 1, 2, 4, 8 s, then 10 s, the maximum. */
static void
test_schedule(void)
{
	static const int64_t	 waits[] = { 1000, 2000, 4000, 8000, 10000,
				    10000 };
	struct sockaddr_storage	 a = v4("127.0.0.1", 4001);
	struct conn		 c;
	size_t			 i;
	int			 good = 1;

	configure(DIALPRIV_TRUE, 1000, 10000);
	for (i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		good &= backoff_take(&a) == 0;
		now_ms += waits[i] - 1;
		good &= backoff_take(&a) == -1;
		now_ms += 1;
	}
	ok(good, "one address: dialled again only after 1, 2, 4, 8, 10, "
	    "10 s (min 1 s doubled, max 10 s)");
	ok(backoff_take(&a) == 0, "and again after those");
	memset(&c, 0, sizeof(c));
	c.learned = 1;
	c.ss = a;
	dial_succeeded(&c);
	now_ms += 9999;
	ok(backoff_take(&a) == -1, "a success does not end the wait it is in");
	now_ms += 1;
	ok(backoff_take(&a) == 0, "(which ends)");
	now_ms += 999;
	ok(backoff_take(&a) == -1, "but the wait after it is the minimum...");
	now_ms += 1;
	ok(backoff_take(&a) == 0, "...1 s");
	now_ms += 1999;
	ok(backoff_take(&a) == -1, "and doubles again from there");
	now_ms += 1;
	ok(backoff_take(&a) == 0, "(2 s)");
	c.learned = 0;
	dial_succeeded(&c);
	now_ms += 3999;
	ok(backoff_take(&a) == -1,
	    "a connection that was not a learned dial resets nothing (4 s)");
	now_ms += 4001;
}

static void
test_keys(void)
{
	struct sockaddr_storage	 a = v4("127.0.0.1", 4001);
	struct sockaddr_storage	 m = v6("::ffff:127.0.0.1", 4001);
	struct sockaddr_storage	 p = v4("127.0.0.1", 4002);
	struct sockaddr_storage	 b = v4("127.0.0.2", 4001);
	struct sockaddr_storage	 l = v6("::1", 4001);

	configure(DIALPRIV_TRUE, 5000, 60000);
	ok(backoff_take(&a) == 0, "127.0.0.1:4001 is dialled");
	ok(backoff_take(&m) == -1,
	    "[::ffff:127.0.0.1]:4001 is the same address: it waits");
	ok(backoff_take(&p) == 0 && backoff_take(&b) == 0 &&
	    backoff_take(&l) == 0,
	    "another port, another IPv4 address and ::1 each have their own");
}

/* Every slot waiting: a new address waits too, until one slot's ends. */
static void
test_full(void)
{
	struct sockaddr_storage	 a;
	size_t			 i;
	int			 good = 1;
	int64_t			 t0;

	configure(DIALPRIV_TRUE, 60000, 60000);
	t0 = now_ms;
	for (i = 0; i < DIAL_BACKOFF_SLOTS; i++) {
		a = v4("127.0.0.1", (uint16_t)(10000 + i));
		good &= backoff_take(&a) == 0;
		now_ms += 1;
	}
	ok(good, "%d addresses dialled, 1 ms apart, each to wait 60 s",
	    DIAL_BACKOFF_SLOTS);
	a = v4("127.0.0.2", 10000);
	ok(backoff_take(&a) == -2, "a new address waits while all %d do",
	    DIAL_BACKOFF_SLOTS);
	a = v4("127.0.0.1", 10000);
	ok(backoff_take(&a) == -1, "the first still waits");
	now_ms = t0 + 60000;
	a = v4("127.0.0.2", 10000);
	ok(backoff_take(&a) == 0, "once the first one's wait ended, the new "
	    "address takes its slot");
	a = v4("127.0.0.1", 10001);
	ok(backoff_take(&a) == -1, "the second still waits");
	a = v4("127.0.0.1", 10000);
	ok(backoff_take(&a) == -2,
	    "the first, forgotten, is new again and waits for a slot");
	now_ms += 120000;
}

/* Scope at the dial: a kept address, and what a learned name gives. */
/* prefix, then our port */
static void
maddr(struct multiaddr *ma, const char *prefix)
{
	char	 text[128], err[128];

	snprintf(text, sizeof(text), "%s%u", prefix, lport);
	if (maddr_parse(text, ma, err, sizeof(err)) == -1)
		errx(1, "%s: %s", text, err);
}

static void
test_scope(void)
{
	struct multiaddr	 ma;
	struct resolve_res	 res;
	struct conn		*c;
	char			 err[256];
	uint64_t		 f;

	configure(DIALPRIV_FALSE, 1000, 60000);
	f = counters.addrs_filtered;
	maddr(&ma, "/ip4/127.0.0.1/tcp/");
	ok(dial_learned(&ma, err, sizeof(err)) == NULL &&
	    strstr(err, "loopback") != NULL &&
	    counters.addrs_filtered == f + 1,
	    "false: a kept loopback address is not dialled, and counted: %s",
	    err);
	maddr(&ma, "/ip6/fe80::1/tcp/");
	ok(dial_learned(&ma, err, sizeof(err)) == NULL &&
	    counters.addrs_filtered == f + 2, "false: nor a link-local one");
	maddr(&ma, "/ip4/127.0.0.1/tcp/");
	ok(dial_maddr(&ma, err, sizeof(err)) != NULL && sockets == 1,
	    "the same address given by the operator is dialled");

	configure(DIALPRIV_AUTO, 1000, 60000);
	ok(dial_scope_ok(SCOPE_LOOPBACK, 0) && dial_scope_ok(SCOPE_PRIVATE, 0),
	    "auto: a kept address is dialled (judged when it was learned)");
	ok(!dial_scope_ok(SCOPE_LOOPBACK, 1) && !dial_scope_ok(SCOPE_PRIVATE, 1)
	    && dial_scope_ok(SCOPE_PUBLIC, 1),
	    "auto: a name must resolve to a public address");
	ok(!dial_scope_ok(SCOPE_NEVER, 0) && !dial_scope_ok(SCOPE_NEVER, 1),
	    "auto: an unusable address never");

	maddr(&ma, "/dns4/peer.example/tcp/");
	c = dial_learned(&ma, err, sizeof(err));
	ok(c != NULL && c->learned && c->fd == -1,
	    "a learned name is resolved first: %s", c ? "pending" : err);
	memset(&res, 0, sizeof(res));
	res.ok = 1;
	res.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", res.addr);
	closed = 0;
	dial_resolved(7, &res);
	ok(closed == 1 && strstr(closed_why, "loopback") != NULL &&
	    counters.addrs_filtered == f + 3 && sockets == 1,
	    "auto: it resolves to 127.0.0.1, and the dial is given up: %s",
	    closed_why);

	configure(DIALPRIV_TRUE, 1000, 60000);
	c = dial_learned(&ma, err, sizeof(err));
	closed = 0;
	dial_resolved(7, &res);
	ok(c != NULL && closed == 0 && sockets == 2,
	    "true: the loopback address it resolves to is dialled");
	c = dial_learned(&ma, err, sizeof(err));
	closed = 0;
	dial_resolved(7, &res);
	ok(c != NULL && closed == 1 && strstr(closed_why, "backoff") &&
	    sockets == 2, "a second name to the same address waits on its "
	    "backoff: %s", closed_why);
	res.family = AF_INET6;
	memset(res.addr, 0, sizeof(res.addr));
	res.addr[15] = 1;
	maddr(&ma, "/dns6/peer.example/tcp/");
	configure(DIALPRIV_FALSE, 1000, 60000);
	c = dial_learned(&ma, err, sizeof(err));
	closed = 0;
	dial_resolved(7, &res);
	ok(c != NULL && closed == 1 && strstr(closed_why, "loopback") &&
	    sockets == 2, "false: a name resolving to ::1 is not dialled");
}

/* /ws goes over a WebSocket client; TLS is a proxy's, never dialled. */
static void
test_ws(void)
{
	struct multiaddr	 ma;
	struct conn		*c;
	char			 text[128], err[256];
	int			 n = sockets;

	snprintf(text, sizeof(text), "/ip4/127.0.0.1/tcp/%u/ws", lport);
	maddr_parse(text, &ma, err, sizeof(err));
	c = dial_maddr(&ma, err, sizeof(err));
	ok(c != NULL && c->ws != NULL && c->ws == ws_made &&
	    strcmp(ws_host, text) == 0 && sockets == n + 1,
	    "/ws: a socket, and a WebSocket client started for %s", ws_host);
	maddr_parse("/ip4/127.0.0.1/tcp/443/wss", &ma, err, sizeof(err));
	ok(dial_maddr(&ma, err, sizeof(err)) == NULL &&
	    strstr(err, "TLS") != NULL && sockets == n + 1,
	    "/wss is refused without a socket: %s", err);
	maddr_parse("/ip4/127.0.0.1/tcp/443/tls/ws", &ma, err, sizeof(err));
	ok(dial_maddr(&ma, err, sizeof(err)) == NULL && sockets == n + 1,
	    "/tls/ws too");
	snprintf(text, sizeof(text), "/ip4/127.0.0.1/tcp/%u/p2p/"
	    "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", lport);
	maddr_parse(text, &ma, err, sizeof(err));
	maddr_get_peerid(&ma, &ident.peerid);
	ident.ready = 1;
	ok(dial_maddr(&ma, err, sizeof(err)) == NULL && sockets == n + 1 &&
	    strstr(err, "own") != NULL, "our own peer ID is not dialled: %s",
	    err);
	ident.ready = 0;
}

int
main(void)
{
	struct sockaddr_storage	 ss = v4("127.0.0.1", 0);
	socklen_t		 len = sizeof(struct sockaddr_in);
	int			 s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&ss, len) == -1 || listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) == -1)
		err(1, "a listener on 127.0.0.1");
	lport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	test_schedule();
	test_keys();
	test_full();
	test_scope();
	test_ws();
	free(last);
	return tap_done();
}
