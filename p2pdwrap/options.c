/*
 * From p2pd's flags to what peerd is started with.  A flag for what
 * peerd does not offer is refused with one line naming it and the word
 * "unsupported" (test harnesses turn that line into a skip), a bad
 * value with a line of its own; both exit 1 before anything starts.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pdwrap.h"

enum when { R_TRUE, R_FALSE, R_SET };

static const struct refusal {
	const char	*name;
	enum when	 when;
	const char	*why;
} refusals[] = {
	{ "tls", R_TRUE, "peerd secures connections with Noise only, not "
	    "TLS 1.3" },
	{ "plaintext", R_TRUE, "peerd never runs unencrypted connections "
	    "(Noise only)" },
	{ "noise", R_FALSE, "Noise is the only security protocol peerd "
	    "speaks" },
	{ "dht", R_TRUE, "peerd has no Kademlia DHT" },
	{ "dhtClient", R_TRUE, "peerd has no Kademlia DHT" },
	{ "dhtServer", R_TRUE, "peerd has no Kademlia DHT" },
	{ "b", R_TRUE, "bootstrapping the DHT: peerd has no DHT (set "
	    "bootstrapPeers in a peerd.conf instead)" },
	{ "autoRelay", R_TRUE, "autorelay finds relays through the DHT: "
	    "peerd has none (set relays in a peerd.conf instead)" },
	{ "natPortMap", R_TRUE, "peerd maps no ports on NAT devices" },
	{ "autonat", R_TRUE, "peerd has no AutoNAT service" },
	{ "forceReachabilityPublic", R_TRUE, "peerd has no AutoNAT "
	    "reachability to force" },
	{ "forceReachabilityPrivate", R_TRUE, "peerd has no AutoNAT "
	    "reachability to force" },
	{ "echo", R_TRUE, "peerd serves no /echo/1.0.0 of its own (a client "
	    "can register one with STREAM_HANDLER)" },
	{ "pubsubSign", R_FALSE, "peerd always signs the messages it "
	    "publishes" },
	{ "pubsubSignStrict", R_FALSE, "peerd always drops unsigned "
	    "messages (StrictSign)" },
	{ "gossipsubHeartbeatInitialDelay", R_SET, "peerd's first heartbeat "
	    "has no delay of its own" },
	{ "metricsAddr", R_SET, "peerd's metrics have other names and are "
	    "served on admin.listen of a peerd.conf" },
	{ "f", R_SET, "p2pd's JSON configuration is not read (run peerd "
	    "with a peerd.conf instead)" },
	{ "i", R_TRUE, "p2pd's JSON configuration is not read (run peerd "
	    "with a peerd.conf instead)" },
	{ "pprof", R_TRUE, "the Go profiler: peerd is not a Go program" },
};

/* Transports in a -hostAddrs address that peerd has not. */
static const char *nottcp[] = { "udp", "quic", "quic-v1", "webtransport",
    "webrtc", "webrtc-direct", "wss", "tls", "sni", "certhash",
    "p2p-circuit", "p2p-webrtc-star", "p2p-websocket-star" };

__attribute__((__noreturn__, __format__(__printf__, 2, 3)))
static void
unsupported(const char *flag, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: unsupported flag %s: ", WRAP_NAME, flag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}


static void
check_refusals(void)
{
	const struct refusal	*r;
	struct flag		*f;
	char			 given[128];
	size_t			 i;
	int			 on;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		r = &refusals[i];
		f = flag_get(r->name);
		if (!f->set)
			continue;
		if (f->kind == F_BOOL)
			on = r->when == R_TRUE ? f->b : r->when == R_FALSE ?
			    !f->b : 1;
		else if (f->kind == F_STR)
			on = f->s[0] != '\0';
		else
			on = f->n != 0;
		if (!on)
			continue;
		if (f->kind == F_BOOL)
			snprintf(given, sizeof(given), "-%s=%s", f->name,
			    f->b ? "true" : "false");
		else
			snprintf(given, sizeof(given), "-%s", f->name);
		unsupported(given, "%s", r->why);
	}
}

/* The protocol names of a multiaddr's text, for nottcp. */
static void
check_transport(const char *flag, const char *a)
{
	char	*copy, *p, *tok;
	size_t	 i;

	if ((copy = strdup(a)) == NULL)
		errx(1, "out of memory");
	for (p = copy; (tok = strsep(&p, "/")) != NULL; )
		for (i = 0; i < sizeof(nottcp) / sizeof(nottcp[0]); i++)
			if (strcmp(tok, nottcp[i]) == 0)
				unsupported(flag, "%s: peerd listens on TCP "
				    "and WebSocket (/ws) only, not /%s", a,
				    nottcp[i]);
	free(copy);
}

/* /ip4 or /ip6, /tcp/N, perhaps /ws: what peerd's listen takes. */
static void
check_listen(const char *a)
{
	struct multiaddr	 ma;
	struct maddr_comp	 c;
	char			 e[256];
	size_t			 off = 0;
	int			 n = 0, ok = 1;

	check_transport("-hostAddrs", a);
	if (maddr_parse(a, &ma, e, sizeof(e)) == -1)
		errx(1, "invalid value \"%s\" in -hostAddrs: %s", a, e);
	while (ok && maddr_next(&ma, &off, &c) == 1) {
		if (n == 0)
			ok = c.code == MADDR_IP4 || c.code == MADDR_IP6;
		else if (n == 1)
			ok = c.code == MADDR_TCP;
		else
			ok = n == 2 && c.code == MADDR_WS;
		n++;
	}
	if (!ok || n < 2)
		errx(1, "invalid value \"%s\" in -hostAddrs: peerd listens on "
		    "/ip4 or /ip6 addresses with /tcp/PORT, and /ws after it "
		    "for WebSocket", a);
}

/* A comma separated list, each kept; an empty one is none. */
static size_t
split_addrs(const char *flag, const char *s, const char **out,
    void (*check)(const char *))
{
	char	*copy, *p, *tok;
	size_t	 n = 0;

	if (*s == '\0')
		return 0;
	if ((copy = strdup(s)) == NULL)
		errx(1, "out of memory");
	for (p = copy; (tok = strsep(&p, ",")) != NULL; ) {
		if (n == WRAP_MAXADDRS)
			errx(1, "%s: more than %d addresses", flag, WRAP_MAXADDRS);
		if (check != NULL)
			check(tok);
		if ((out[n++] = strdup(tok)) == NULL)
			errx(1, "out of memory");
	}
	free(copy);
	return n;
}

static void
check_announce(const char *a)
{
	struct multiaddr	 ma;
	char			 e[256];

	if (maddr_parse(a, &ma, e, sizeof(e)) == -1)
		errx(1, "invalid value \"%s\" in -announceAddrs: %s", a, e);
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

/* -listen: /unix/ABSOLUTE/PATH or a loopback /ip4|/ip6 .../tcp/PORT. */
static void
map_api(struct wrapconf *wc, const char *s)
{
	struct sockaddr_un	 sun;
	struct multiaddr	 ma;
	struct maddr_comp	 c;
	char			 e[256];
	size_t			 off = 0;
	int			 n = 0;

	if (strlcpy(wc->api, s, sizeof(wc->api)) >= sizeof(wc->api))
		errx(1, "-listen %s: too long", s);
	if (strncmp(s, "/unix/", 6) == 0) {
		if (strlen(s + 5) >= sizeof(sun.sun_path))
			errx(1, "-listen %s: path too long for a UNIX socket", s);
		strlcpy(wc->sock, s + 5, sizeof(wc->sock));
		return;
	}
	if (maddr_parse(s, &ma, e, sizeof(e)) == -1)
		errx(1, "invalid value \"%s\" for flag -listen: %s", s, e);
	while (maddr_next(&ma, &off, &c) == 1)
		n++;
	if (n != 2 || maddr_to_sockaddr(&ma, &wc->api_ss,
	    &wc->api_sslen) == -1)
		errx(1, "invalid value \"%s\" for flag -listen: a daemon API "
		    "address is /unix/PATH or /ip4|/ip6 .../tcp/PORT", s);
	if (!is_loopback(&wc->api_ss))
		unsupported("-listen", "%s: peerd serves the daemon API on a "
		    "UNIX socket or a loopback address only", s);
	if ((wc->api_ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&wc->api_ss)->sin_port :
	    ((struct sockaddr_in6 *)&wc->api_ss)->sin6_port) == 0)
		unsupported("-listen", "%s: peerd needs the daemon API's "
		    "port given, not 0", s);
}

static void
map_connmgr(struct wrapconf *wc)
{
	struct flag	*hi = flag_get("connHi");

	if (!flag_get("connManager")->b)
		return;		/* as p2pd: the water marks need it */
	if (flag_get("connLo")->set)
		unsupported("-connLo", "peerd has no low water mark: above "
		    "connectionManager.maxConnections (-connHi) it closes "
		    "the least useful connections down to that limit");
	if (flag_get("connGrace")->set)
		unsupported("-connGrace", "peerd gives new connections no "
		    "grace period");
	if (hi->n < 1 || hi->n > 1000000)
		errx(1, "invalid value %lld for flag -connHi: 1 to 1000000", hi->n);
	wc->maxconns = hi->n;
}

static void
map_pubsub(struct wrapconf *wc)
{
	const char	*router = flag_get("pubsubRouter")->s;
	long long	 hb = flag_get("gossipsubHeartbeatInterval")->n;

	if (strcmp(router, "gossipsub") != 0 &&
	    strcmp(router, "floodsub") != 0)
		errx(1, "invalid value \"%s\" for flag -pubsubRouter: gossipsub or "
		    "floodsub", router);
	if (hb > 0 && (hb < 100 || hb > 60000))
		errx(1, "invalid value for flag -gossipsubHeartbeatInterval: "
		    "100ms to 1m");
	wc->gossip = flag_get("pubsub")->b;
	wc->heartbeat = hb > 0 ? hb : 0;
}

void
options_map(struct wrapconf *wc)
{
	const char	*muxer = flag_get("muxer")->s;
	struct flag	*f;

	check_refusals();
	if (strcmp(muxer, "mplex") == 0)
		unsupported("-muxer=mplex", "peerd multiplexes with yamux "
		    "only");
	if (strcmp(muxer, "yamux") != 0)
		errx(1, "invalid value \"%s\" for flag -muxer: yamux", muxer);
	map_api(wc, flag_get("listen")->s);
	map_connmgr(wc);
	map_pubsub(wc);
	/* as p2pd: the relay service on -relay, the client always */
	f = flag_get("relay");
	wc->hop = f->set && f->b;
	wc->quiet = flag_get("q")->b;
	if ((f = flag_get("id"))->s[0] != '\0')
		wc->idfile = f->s;
	wc->nannounce = split_addrs("-announceAddrs",
	    flag_get("announceAddrs")->s, wc->announce, check_announce);
	wc->nlisten = split_addrs("-hostAddrs", flag_get("hostAddrs")->s,
	    wc->listen, check_listen);
	if (wc->nlisten == 0) {
		/* libp2p's TCP defaults, as p2pd without -hostAddrs */
		wc->listen[0] = "/ip4/0.0.0.0/tcp/0";
		wc->listen[1] = "/ip6/::/tcp/0";
		wc->nlisten = 2;
	}
	if (flag_get("noListenAddrs")->b)
		wc->nlisten = 0;
}
