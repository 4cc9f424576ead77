/*
 * Configuration file parsing, defaults, emitting and comparison, all
 * driven by one table of keys, and the typed parts of it the parent
 * sends the children (msg.h).  The file is read with the libyaml event
 * API so that positions, duplicate keys and aliases can be reported.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <yaml.h>

#include "addrscope.h"
#include "config.h"
#include "errbuf.h"
#include "log.h"

#define CONF_MAXFILE	(4 * 1024 * 1024)
#define LIST_MAX	CONF_LIST_MAX
#define KEY_MAX		128
#define MADDR_MAX	1024
#define PEERID_MAX	128
#define TOPIC_MAX	256
#define USER_MAX	32
#define QUOTE_MAX	100	/* bytes of a value quoted in an error */

#define LOWER		"abcdefghijklmnopqrstuvwxyz"
#define UPPER		"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT		"0123456789"

enum ktype {
	KT_BOOL,
	KT_INT,
	KT_ENUM,
	KT_STR,
	KT_LIST,	/* struct strlist */
	KT_MADDRS,	/* struct maddrlist */
	KT_PEERIDS	/* struct peeridlist */
};

/* One parsed entry of a typed list. */
union kval {
	struct multiaddr	 ma;
	struct peerid		 id;
};

#define K_STATIC	0x01	/* cannot change while running */
#define K_ALIAS		0x02	/* another name, not emitted */

struct kenum {
	const char	*name;
	int		 value;
};

struct ckey {
	const char		*name;
	enum ktype		 type;
	size_t			 off;
	int			 flags;
	long long		 min;
	long long		 max;
	long long		 def;
	const char		*defstr;
	const char *const	*deflist;
	const struct kenum	*enums;
	const char		*(*check)(const char *);
	/* typed lists: the real parser of an entry, and the most entries */
	int			 (*parse)(const char *, union kval *, char *,
				    size_t);
	size_t			 maxn;
};

static const char *check_path(const char *);
static const char *check_optpath(const char *);
static const char *check_hostport(const char *);
static const char *check_dapi(const char *);
static const char *check_user(const char *);
static const char *check_maddr(const char *);
static const char *check_peerid(const char *);
static const char *check_topic(const char *);
static const char *check_metricns(const char *);
static const char *check_proxy(const char *);
static int	 parse_maddr(const char *, union kval *, char *, size_t);
static int	 parse_listen(const char *, union kval *, char *, size_t);
static int	 parse_relay(const char *, union kval *, char *, size_t);
static int	 parse_peerid(const char *, union kval *, char *, size_t);

static const struct kenum modes[] = {
	{ "relay",	MODE_RELAY },
	{ "peer",	MODE_PEER },
	{ NULL,		0 }
};

static const struct kenum logformats[] = {
	{ "text",	LOG_FORMAT_TEXT },
	{ "json",	LOG_FORMAT_JSON },
	{ NULL,		0 }
};

static const struct kenum facilities[] = {
	{ "daemon",	LOG_DAEMON },
	{ "user",	LOG_USER },
	{ "auth",	LOG_AUTH },
	{ "local0",	LOG_LOCAL0 },
	{ "local1",	LOG_LOCAL1 },
	{ "local2",	LOG_LOCAL2 },
	{ "local3",	LOG_LOCAL3 },
	{ "local4",	LOG_LOCAL4 },
	{ "local5",	LOG_LOCAL5 },
	{ "local6",	LOG_LOCAL6 },
	{ "local7",	LOG_LOCAL7 },
	{ NULL,		0 }
};

static const struct kenum dialprivs[] = {
	{ "auto",	DIALPRIV_AUTO },
	{ "true",	DIALPRIV_TRUE },
	{ "false",	DIALPRIV_FALSE },
	{ NULL,		0 }
};

static const char *const listen_def[] = { "/ip4/127.0.0.1/tcp/4001", NULL };

#define OFF(f)	offsetof(struct peerd_conf, f)
#define KBOOL(n, f, d, fl)						\
	{ .name = n, .type = KT_BOOL, .off = OFF(f), .def = d, .flags = fl }
#define KINT(n, f, lo, hi, d, fl)					\
	{ .name = n, .type = KT_INT, .off = OFF(f), .min = lo, .max = hi, \
	    .def = d, .flags = fl }
#define KENUM(n, f, e, d, fl)						\
	{ .name = n, .type = KT_ENUM, .off = OFF(f), .enums = e,	\
	    .def = d, .flags = fl }
#define KSTR(n, f, chk, d, fl)						\
	{ .name = n, .type = KT_STR, .off = OFF(f), .check = chk,	\
	    .defstr = d, .flags = fl }
#define KLIST(n, f, chk, d, fl)						\
	{ .name = n, .type = KT_LIST, .off = OFF(f), .check = chk,	\
	    .deflist = d, .flags = fl, .maxn = LIST_MAX }
#define KMADDRS(n, f, prs, mx, d, fl)					\
	{ .name = n, .type = KT_MADDRS, .off = OFF(f), .check = check_maddr, \
	    .parse = prs, .maxn = mx, .deflist = d, .flags = fl }
#define KPEERIDS(n, f, mx, fl)						\
	{ .name = n, .type = KT_PEERIDS, .off = OFF(f),			\
	    .check = check_peerid, .parse = parse_peerid, .maxn = mx,	\
	    .flags = fl }

static const struct ckey keys[] = {
	KENUM("mode", mode, modes, MODE_RELAY, K_STATIC),
	KMADDRS("listen", listen, parse_listen, LIST_MAX, listen_def,
	    K_STATIC),
	KMADDRS("announce", announce, parse_maddr, CONF_MAX_ANNOUNCE, NULL, 0),
	KSTR("stateDir", state_dir, check_path, "/var/lib/peerd/state",
	    K_STATIC),
	KSTR("keyDir", key_dir, check_path, "/var/lib/peerd/keys", K_STATIC),
	KSTR("emptyDir", empty_dir, check_path, "/var/empty", K_STATIC),
	KSTR("controlSocket", control_socket, check_path, PEERD_SOCKET,
	    K_STATIC),
	KSTR("controlSocketReadonly", control_socket_ro, check_optpath, "",
	    K_STATIC),
	KINT("controlSocketMaxClients", ctl_max_clients, 1, 256, 32, 0),
	KINT("controlSocketReadonlyMaxClients", ctl_ro_max_clients, 1, 256,
	    32, 0),
	KINT("controlSocketReadonlyMaxPerUser", ctl_ro_max_per_uid, 1, 256,
	    4, 0),
	KINT("controlSocketReadonlyIdleTimeout", ctl_ro_idle, 1000, 3600000,
	    10000, 0),
	KSTR("admin.listen", admin_listen, check_hostport, "127.0.0.1:4003",
	    K_STATIC),
	KBOOL("admin.allowRemote", admin_allow_remote, 0, K_STATIC),
	KINT("admin.maxClients", admin_max_clients, 1, 1024, 64, 0),
	KINT("admin.maxRequestSize", admin_max_request, 1024, 65536, 8192, 0),
	KINT("admin.timeout", admin_timeout, 1000, 600000, 10000, 0),
	KSTR("daemonApi.listen", dapi_listen, check_dapi, "", K_STATIC),
	KINT("daemonApi.maxClients", dapi_max_clients, 1, 1024, 64, 0),
	KINT("daemonApi.maxStreams", dapi_max_streams, 1, 65536, 256, 0),
	KINT("daemonApi.rateLimit", dapi_rate, 1, 1000000, 1000, 0),
	KSTR("metrics.namespace", metrics_ns, check_metricns, "peerd", 0),
	KENUM("log.format", log_format, logformats, LOG_FORMAT_TEXT, 0),
	KINT("log.rateLimit", log_rate_limit, 0, 1000000, LOG_LIMIT_BURST, 0),
	KENUM("log.facility", log_facility, facilities, LOG_DAEMON, K_STATIC),
	KSTR("user", user, check_user, "_peerd", K_STATIC),
	KSTR("keyUser", key_user, check_user, "_peerkey", K_STATIC),
	KSTR("keys.passphraseFile", key_passfile, check_optpath, "",
	    K_STATIC),
	KBOOL("relay.enabled", relay.enabled, 1, 0),
	KBOOL("relay.hop.enabled", relay.hop_enabled, 1, 0),
	KBOOL("relay.hop.active", relay.hop_active, 1, 0),
	KBOOL("relay.advertise.enabled", relay.advertise_enabled, 1, 0),
	KINT("relay.advertise.ttl", relay.advertise_ttl, 1000, 86400000,
	    30000, 0),
	KINT("relay.reservations.max", relay.reservations_max, 0, 1000000,
	    1000, 0),
	KINT("relay.reservations.ttl", relay.reservations_ttl, 1000, 86400000,
	    3600000, 0),
	KINT("relay.reservations.maxPerIP", relay.reservations_per_ip,
	    1, 1000000, 8, 0),
	KINT("relay.limit.duration", relay.limit_duration, 0, 86400000,
	    120000, 0),
	KINT("relay.limit.data", relay.limit_data, 0, 1099511627776LL,
	    131072, 0),
	KINT("relay.rateLimit.connectionsPerMinute", relay.conns_per_minute,
	    0, 1000000, 60, 0),
	KINT("relay.rateLimit.reservationsPerHour", relay.rsvp_per_hour,
	    0, 1000000, 30, 0),
	KINT("relay.maxPendingVouchers", relay.max_pending_vouchers,
	    1, 4096, 256, 0),
	KPEERIDS("relay.allowlist", relay.allowlist, LIST_MAX, 0),
	KPEERIDS("relay.blocklist", relay.blocklist, LIST_MAX, 0),
	/* the operator guide's spelling */
	KPEERIDS("relay.blockTrustedlist", relay.blocklist, LIST_MAX, K_ALIAS),
	KINT("connectionManager.maxConnections", max_connections,
	    1, 1000000, 2000, 0),
	KINT("connectionManager.minConnections", min_connections,
	    0, 1000000, 10, 0),
	KINT("connectionManager.maxOutgoing", max_outgoing, 0, 100000, 20, 0),
	KINT("connectionManager.maxIncomingPendingConnections", max_pending,
	    1, 100000, 256, 0),
	KINT("connectionManager.inboundUpgradeTimeout", upgrade_timeout,
	    1000, 600000, 10000, 0),
	KINT("connectionManager.maxConnectionsPerIP", max_per_ip,
	    1, 1000000, 16, 0),
	KINT("connectionManager.maxStreamsPerConnection", max_streams,
	    1, 65536, 256, 0),
	KINT("connectionManager.maxStreamBuffer", stream_buffer,
	    4096, 16777216, 262144, 0),
	KINT("connectionManager.maxConnectionBuffer", conn_buffer,
	    65536, 1073741824, 4194304, 0),
	KINT("connectionManager.maxBuffer", total_buffer,
	    1048576, 68719476736LL, 33554432, 0),
	KINT("connectionManager.stalledTimeout", stalled_timeout,
	    1000, 3600000, 30000, 0),
	KINT("connectionManager.maxPendingPerIP", max_pending_per_ip,
	    1, 1024, 8, 0),
	KINT("connectionManager.ipv4PrefixLength", ipv4_prefix, 8, 32, 32, 0),
	KINT("connectionManager.ipv6PrefixLength", ipv6_prefix, 32, 128, 64,
	    0),
	KPEERIDS("connectionManager.protected", protected_peers,
	    CONF_MAX_PROTECTED, 0),
	KINT("connectionManager.dialBackoffMin", dial_backoff_min,
	    100, 3600000, 1000, 0),
	KINT("connectionManager.dialBackoffMax", dial_backoff_max,
	    1000, 86400000, 60000, 0),
	KENUM("connectionManager.dialPrivateAddresses", dial_private,
	    dialprivs, DIALPRIV_AUTO, 0),
	KBOOL("gossipSub.enabled", gossip_enabled, 0, 0),
	{ .name = "gossipSub.topics", .type = KT_LIST,
	    .off = OFF(gossip_topics), .check = check_topic,
	    .maxn = CONF_MAX_TOPICS },
	KINT("gossipSub.D", gs_D, 1, 64, 6, 0),
	KINT("gossipSub.Dlo", gs_Dlo, 0, 64, 4, 0),
	KINT("gossipSub.Dhi", gs_Dhi, 1, 128, 12, 0),
	KINT("gossipSub.Dlazy", gs_Dlazy, 0, 64, 6, 0),
	KINT("gossipSub.Dout", gs_Dout, 0, 32, 2, 0),
	KINT("gossipSub.heartbeatInterval", gs_heartbeat, 100, 60000, 1000, 0),
	KINT("gossipSub.fanoutTTL", gs_fanout_ttl, 1000, 3600000, 60000, 0),
	KINT("gossipSub.seenTTL", gs_seen_ttl, 1000, 3600000, 120000, 0),
	KINT("gossipSub.pruneBackoff", gs_prune_backoff, 1000, 3600000,
	    60000, 0),
	KINT("gossipSub.mcacheLength", gs_mcache_len, 1, 64, 5, 0),
	KINT("gossipSub.mcacheGossip", gs_mcache_gossip, 1, 64, 3, 0),
	KINT("gossipSub.maxTopics", gs_max_topics, 1, 65536, 1024, 0),
	KINT("gossipSub.maxTopicsPerPeer", gs_max_peer_topics, 1, 4096, 128,
	    0),
	KINT("gossipSub.maxSeen", gs_max_seen, 1000, 10000000, 100000, 0),
	KINT("gossipSub.maxCacheEntries", gs_max_mcache, 100, 1000000, 10000,
	    0),
	KINT("gossipSub.maxIHaveLength", gs_max_ihave, 1, 5000, 5000, 0),
	KINT("gossipSub.maxIWantAnswers", gs_max_iwant, 1, 100000, 500, 0),
	KINT("gossipSub.maxPeerQueue", gs_max_queue, 65536, 67108864, 1048576,
	    0),
	KINT("gossipSub.idontwantMinDataSize", gs_idontwant_min, 0, 4194304,
	    512, 0),
	KINT("gossipSub.maxRpcSize", gs_max_rpc, 4096, 4194304, 1048576, 0),
	KBOOL("gossipSub.msgIdContentHash", gs_hash_ids, 0, 0),
	KINT("gossipSub.gossipThreshold", gs_gossip_thr, -1000000, 0, -10, 0),
	KINT("gossipSub.publishThreshold", gs_publish_thr, -1000000, 0, -50,
	    0),
	KINT("gossipSub.graylistThreshold", gs_graylist_thr, -1000000, 0,
	    -80, 0),
	KINT("gossipSub.ipColocationFactorThreshold", gs_coloc_thr, 1, 100000,
	    10, 0),
	KINT("gossipSub.maxSubscribers", gs_max_watchers, 0, 1024, 16, 0),
	KINT("gossipSub.maxTopicSubscribers", gs_max_topic_watchers, 0, 1024,
	    4, 0),
	KINT("gossipSub.meshMessageDeliveriesWeight", gs_md_weight, -1000, 0,
	    0, 0),
	KINT("gossipSub.meshMessageDeliveriesThreshold", gs_md_thr, 1, 10000,
	    20, 0),
	KINT("gossipSub.meshMessageDeliveriesWindow", gs_md_window, 1, 60000,
	    10, 0),
	KINT("gossipSub.meshMessageDeliveriesActivation", gs_md_activation,
	    1000, 3600000, 5000, 0),
	KINT("gossipSub.meshFailurePenaltyWeight", gs_mf_weight, -1000, 0, -1,
	    0),
	KINT("gossipSub.firstMessageDeliveriesWeight", gs_fd_weight, 0, 1000,
	    0, 0),
	KINT("gossipSub.firstMessageDeliveriesCap", gs_fd_cap, 1, 100000,
	    2000, 0),
	KMADDRS("bootstrapPeers", bootstrap_peers, parse_maddr,
	    CONF_MAX_BOOTSTRAP, NULL, 0),
	KMADDRS("relays", relays, parse_relay, CONF_MAX_RELAYS, NULL, 0),
	KINT("store.mapSize", store_map_size, 1048576, 1099511627776LL,
	    268435456, K_STATIC),
	KINT("store.maxPeers", store_max_peers, 16, 10000000, 10000, 0),
	KINT("store.maxAccounting", store_max_acct, 16, 100000000, 100000, 0),
	KINT("store.maxAccountingSize", store_max_acct_size, 1048576,
	    1099511627776LL, 67108864, 0),
	KINT("websocket.maxMessageSize", ws_max_message, 65536, 67108864,
	    1048576, 0),
	{ .name = "websocket.trustedProxies", .type = KT_LIST,
	    .off = OFF(ws_proxies), .check = check_proxy,
	    .maxn = CONF_MAX_PROXIES },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

struct parser {
	yaml_parser_t		 yp;
	yaml_event_t		 ev;
	int			 have_ev;
	const char		*buf;
	size_t			 len;
	const char		*name;
	char			*err;
	size_t			 errlen;
	struct peerd_conf	*conf;
	struct strlist		 seen;
	size_t			 seencap;
	int			 set[NKEYS];
	yaml_mark_t		 mark[NKEYS];
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));
static int
perr(struct parser *, const yaml_mark_t *, const char *, ...)
    __attribute__((__format__ (printf, 3, 4)));
static int	 parse_map(struct parser *, const char *);

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
perr(struct parser *p, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (p->err == NULL || p->errlen == 0)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->name,
	    m->line + 1, m->column + 1);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
nomem(struct parser *p)
{
	seterr(p->err, p->errlen, "%s: %s", p->name, strerror(ENOMEM));
	return -1;
}

static int
has_cntrl(const char *s)
{
	const unsigned char	*u;

	/* C0, DEL, and C1 (U+0080 to U+009F) */
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f)
			return 1;
		if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			return 1;
	}
	return 0;
}

static const char *
check_path(const char *s)
{
	if (s[0] != '/')
		return "expected an absolute path";
	if (strlen(s) >= PATH_MAX)
		return "path too long";
	if (has_cntrl(s))
		return "control character in path";
	return NULL;
}

static const char *
check_optpath(const char *s)
{
	if (s[0] == '\0')
		return NULL;
	return check_path(s);
}

static int
valid_port(const char *s)
{
	const char	*errstr;
	size_t		 len;

	len = strlen(s);
	if (len == 0 || len > 5 || strspn(s, DIGIT) != len)
		return 0;
	strtonum(s, 1, 65535, &errstr);
	return errstr == NULL;
}

static const char *
check_hostport(const char *s)
{
	const char	*why = "expected IPv4:port or [IPv6]:port";
	char		 host[INET6_ADDRSTRLEN];
	unsigned char	 addr[sizeof(struct in6_addr)];
	const char	*colon, *h = s;
	size_t		 hlen;
	int		 af = AF_INET;

	if (s[0] == '\0')
		return NULL;
	if ((colon = strrchr(s, ':')) == NULL)
		return why;
	if (s[0] == '[') {
		if (colon[-1] != ']')
			return why;
		af = AF_INET6;
		h = s + 1;
		hlen = colon - 1 - h;
	} else
		hlen = colon - s;
	if (hlen >= sizeof(host))
		return why;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (inet_pton(af, host, addr) != 1 || !valid_port(colon + 1))
		return why;
	return NULL;
}

/* A checked admin.listen as a socket address: 0, or -1 when it is not. */
int
config_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*colon;
	size_t			 hlen;

	memset(ss, 0, sizeof(*ss));
	if (check_hostport(s) != NULL || s[0] == '\0')
		return -1;
	colon = strrchr(s, ':');
	hlen = s[0] == '[' ? (size_t)(colon - s - 2) : (size_t)(colon - s);
	memcpy(host, s[0] == '[' ? s + 1 : s, hlen);
	host[hlen] = '\0';
	if (s[0] == '[') {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(colon + 1));
		inet_pton(AF_INET6, host, &sin6->sin6_addr);
		*len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(colon + 1));
		inet_pton(AF_INET, host, &sin->sin_addr);
		*len = sizeof(*sin);
	}
	return 0;
}

/*
 * daemonApi.listen as a socket address: a UNIX socket, or TCP on
 * 127.0.0.0/8 or ::1 only (whoever reaches it drives the node).
 * 0, or -1 when it is none of these.
 */
int
config_dapi_addr(const char *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;
	struct multiaddr	 ma;
	struct maddr_comp	 comp;
	size_t			 off = 0;
	int			 n = 0;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(s, "/unix/", 6) == 0) {
		sun->sun_family = AF_UNIX;
		if (check_path(s + 5) != NULL || strlcpy(sun->sun_path,
		    s + 5, sizeof(sun->sun_path)) >= sizeof(sun->sun_path))
			return -1;
		*len = sizeof(*sun);
		return 0;
	}
	if (maddr_parse(s, &ma, NULL, 0) == -1 ||
	    maddr_to_sockaddr(&ma, ss, len) == -1)
		return -1;
	/* an address and a port of its own: no /ws, no tcp/0 */
	while (maddr_next(&ma, &off, &comp) == 1)
		n++;
	if (n != 2 || (ss->ss_family == AF_INET ?
	    ((struct sockaddr_in *)ss)->sin_port :
	    ((struct sockaddr_in6 *)ss)->sin6_port) == 0)
		return -1;
	return addr_scope(&ma) == SCOPE_LOOPBACK ? 0 : -1;
}

static const char *
check_dapi(const char *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	if (s[0] == '\0' || config_dapi_addr(s, &ss, &len) == 0)
		return NULL;
	return "expected /unix/ABSOLUTE-PATH (at most 107 bytes), "
	    "/ip4/127.0.0.1/tcp/PORT or /ip6/::1/tcp/PORT";
}

/* 127.0.0.0/8 or ::1 (an empty admin.listen, off, counts as local). */
int
config_admin_local(const char *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	const uint8_t		*a;

	if (config_hostport(s, &ss, &len) == -1)
		return 1;
	if (ss.ss_family == AF_INET) {
		a = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
		return a[0] == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

/* A Prometheus name: [a-zA-Z_][a-zA-Z0-9_]*, as the engine checks. */
static const char *
check_metricns(const char *s)
{
	const char	*ok = "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
	size_t		 len = strlen(s);

	if (len == 0 || len >= METRIC_NSLEN || strspn(s, ok) != len ||
	    (s[0] >= '0' && s[0] <= '9'))
		return "expected a name of [a-zA-Z_][a-zA-Z0-9_]*, "
		    "at most 63 characters";
	return NULL;
}

static const char *
check_user(const char *s)
{
	size_t	 len;

	len = strlen(s);
	if (len == 0 || len > USER_MAX || strchr(LOWER "_", s[0]) == NULL ||
	    strspn(s, LOWER DIGIT "_-") != len)
		return "invalid user name";
	return NULL;
}

static const char *
check_maddr(const char *s)
{
	if (s[0] != '/')
		return "invalid multiaddr: must start with '/'";
	if (strlen(s) > MADDR_MAX)
		return "invalid multiaddr: too long";
	if (has_cntrl(s) || strchr(s, ' ') != NULL)
		return "invalid multiaddr: contains white space or control "
		    "characters";
	return NULL;
}

static const char *
check_peerid(const char *s)
{
	size_t	 len;

	len = strlen(s);
	if (len == 0 || len > PEERID_MAX ||
	    strspn(s, LOWER UPPER DIGIT ".") != len)
		return "invalid peer ID";
	return NULL;
}

static const char *
check_proxy(const char *s)
{
	struct ip_prefix	 p;

	if (ip_prefix_parse(s, &p) == -1)
		return "not an IP address or prefix (192.0.2.1, 10.0.0.0/8, "
		    "2001:db8::/32) with its host bits zero";
	return NULL;
}

static const char *
check_topic(const char *s)
{
	size_t	 len;

	len = strlen(s);
	if (len == 0 || len > TOPIC_MAX)
		return "invalid topic: must be 1 to 256 bytes";
	if (has_cntrl(s))
		return "invalid topic: contains control characters";
	return NULL;
}

/* A value in an error: quoted, and cut short so the reason shows. */
static const char *
quote(const char *s, char *buf, size_t len)
{
	if (strlen(s) <= QUOTE_MAX)
		snprintf(buf, len, "\"%s\"", s);
	else
		snprintf(buf, len, "\"%.*s...\"", QUOTE_MAX - 3, s);
	return buf;
}

/* The real parser of the engine, after check_maddr. */
static int
parse_maddr(const char *s, union kval *v, char *err, size_t errlen)
{
	char	 why[CONF_ERRLEN], q[QUOTE_MAX + 3];

	if (maddr_parse(s, &v->ma, why, sizeof(why)) == -1)
		return errbuf(err, errlen, "invalid multiaddr %s: %s",
		    quote(s, q, sizeof(q)), why);
	return 0;
}

/* The parent binds it, or skips a /wss or /tls address with a warning. */
static int
parse_listen(const char *s, union kval *v, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 q[QUOTE_MAX + 3];

	if (parse_maddr(s, v, err, errlen) == -1)
		return -1;
	if (!maddr_has(&v->ma, MADDR_WSS) && !maddr_has(&v->ma, MADDR_TLS) &&
	    maddr_to_sockaddr(&v->ma, &ss, &len) == -1)
		return errbuf(err, errlen, "%s cannot be listened on: only "
		    "/ip4 or /ip6 with /tcp can", quote(s, q, sizeof(q)));
	return 0;
}

/* The engine reserves on a relay it knows by its peer ID. */
static int
parse_relay(const char *s, union kval *v, char *err, size_t errlen)
{
	struct peerid	 id;
	char		 q[QUOTE_MAX + 3];

	if (parse_maddr(s, v, err, errlen) == -1)
		return -1;
	if (maddr_get_peerid(&v->ma, &id) == -1)
		return errbuf(err, errlen, "%s has no peer ID: a relay's "
		    "address ends in /p2p/<peer ID>", quote(s, q, sizeof(q)));
	return 0;
}

/* The real parser of peer IDs, after check_peerid. */
static int
parse_peerid(const char *s, union kval *v, char *err, size_t errlen)
{
	char	 why[CONF_ERRLEN], q[QUOTE_MAX + 3];

	if (peerid_parse_err(s, &v->id, why, sizeof(why)) == -1)
		return errbuf(err, errlen, "invalid peer ID %s: %s",
		    quote(s, q, sizeof(q)), why);
	return 0;
}

static void *
kptr(struct peerd_conf *c, const struct ckey *k)
{
	return (char *)c + k->off;
}

static const void *
kcptr(const struct peerd_conf *c, const struct ckey *k)
{
	return (const char *)c + k->off;
}

static size_t
lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	return i;
}

static int
is_prefix(const char *name)
{
	size_t	 i, len;

	len = strlen(name);
	for (i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].name, name, len) == 0 &&
		    keys[i].name[len] == '.')
			return 1;
	return 0;
}

static const char *
enum_name(const struct kenum *e, int value)
{
	for (; e->name != NULL; e++)
		if (e->value == value)
			return e->name;
	return NULL;
}

static void
strlist_clear(struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
strlist_push(struct strlist *l, size_t *cap, const char *s)
{
	char	**v, *d;
	size_t	  ncap;

	if (l->n == *cap) {
		ncap = *cap ? *cap * 2 : 8;
		if ((v = reallocarray(l->v, ncap, sizeof(*v))) == NULL)
			return -1;
		l->v = v;
		*cap = ncap;
	}
	if ((d = strdup(s)) == NULL)
		return -1;
	l->v[l->n++] = d;
	return 0;
}

static int
strlist_contains(const struct strlist *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static int
is_list(const struct ckey *k)
{
	return k->type == KT_LIST || k->type == KT_MADDRS ||
	    k->type == KT_PEERIDS;
}

/* The text of a list key, as written. */
static struct strlist *
list_text(struct peerd_conf *c, const struct ckey *k)
{
	switch (k->type) {
	case KT_MADDRS:
		return &((struct maddrlist *)kptr(c, k))->text;
	case KT_PEERIDS:
		return &((struct peeridlist *)kptr(c, k))->text;
	default:
		return kptr(c, k);
	}
}

static const struct strlist *
list_ctext(const struct peerd_conf *c, const struct ckey *k)
{
	switch (k->type) {
	case KT_MADDRS:
		return &((const struct maddrlist *)kcptr(c, k))->text;
	case KT_PEERIDS:
		return &((const struct peeridlist *)kcptr(c, k))->text;
	default:
		return kcptr(c, k);
	}
}

/* Room for cap parsed values beside the text. */
static int
list_grow(struct peerd_conf *c, const struct ckey *k, size_t cap)
{
	struct maddrlist	*ml = kptr(c, k);
	struct peeridlist	*pl = kptr(c, k);
	void			*v;

	if (k->type == KT_MADDRS) {
		if ((v = reallocarray(ml->ma, cap, sizeof(*ml->ma))) == NULL)
			return -1;
		ml->ma = v;
	} else if (k->type == KT_PEERIDS) {
		if ((v = reallocarray(pl->id, cap, sizeof(*pl->id))) == NULL)
			return -1;
		pl->id = v;
	}
	return 0;
}

static void
list_set(struct peerd_conf *c, const struct ckey *k, size_t i,
    const union kval *v)
{
	struct maddrlist	*ml = kptr(c, k);
	struct peeridlist	*pl = kptr(c, k);

	if (k->type == KT_MADDRS)
		ml->ma[i] = v->ma;
	else if (k->type == KT_PEERIDS)
		pl->id[i] = v->id;
}

/* Append an entry: its text, and v, its value parsed from the text. */
static int
list_push(struct peerd_conf *c, const struct ckey *k, size_t *cap,
    const char *s, const union kval *v)
{
	struct strlist	*l = list_text(c, k);
	size_t		 ocap = *cap;

	if (strlist_push(l, cap, s) == -1)
		return -1;
	if (*cap != ocap && list_grow(c, k, *cap) == -1) {
		free(l->v[--l->n]);
		*cap = ocap;
		return -1;
	}
	list_set(c, k, l->n - 1, v);
	return 0;
}

static void
list_clear(struct peerd_conf *c, const struct ckey *k)
{
	struct maddrlist	*ml = kptr(c, k);
	struct peeridlist	*pl = kptr(c, k);

	strlist_clear(list_text(c, k));
	if (k->type == KT_MADDRS) {
		free(ml->ma);
		ml->ma = NULL;
	} else if (k->type == KT_PEERIDS) {
		free(pl->id);
		pl->id = NULL;
	}
}

static int
set_string(char **dst, const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

static int
set_default(struct peerd_conf *c, const struct ckey *k)
{
	const char *const	*d;
	union kval		 v;
	size_t			 cap = 0;

	switch (k->type) {
	case KT_BOOL:
	case KT_ENUM:
		*(int *)kptr(c, k) = k->def;
		break;
	case KT_INT:
		*(int64_t *)kptr(c, k) = k->def;
		break;
	case KT_STR:
		return set_string(kptr(c, k), k->defstr);
	case KT_LIST:
	case KT_MADDRS:
	case KT_PEERIDS:
		for (d = k->deflist; d != NULL && *d != NULL; d++) {
			if (k->parse != NULL && k->parse(*d, &v, NULL, 0) == -1)
				return -1;
			if (list_push(c, k, &cap, *d, &v) == -1)
				return -1;
		}
		break;
	}
	return 0;
}

struct peerd_conf *
config_new(void)
{
	struct peerd_conf	*c;
	size_t			 i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].flags & K_ALIAS)
			continue;
		if (set_default(c, &keys[i]) == -1) {
			config_free(c);
			return NULL;
		}
	}
	return c;
}

void
config_free(struct peerd_conf *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].flags & K_ALIAS)
			continue;
		if (keys[i].type == KT_STR)
			free(*(char **)kptr(c, &keys[i]));
		else if (is_list(&keys[i]))
			list_clear(c, &keys[i]);
	}
	free(c);
}

static const char *
event_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/* Reader errors carry a byte offset rather than a mark. */
static void
offset_mark(const struct parser *p, size_t off, yaml_mark_t *m)
{
	size_t	 i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < off && i < p->len; i++) {
		if (p->buf[i] == '\n') {
			m->line++;
			m->column = 0;
		} else if (((unsigned char)p->buf[i] & 0xc0) != 0x80)
			m->column++;
	}
}

static int
yaml_error(struct parser *p)
{
	yaml_parser_t	*yp = &p->yp;
	yaml_mark_t	 m;
	const char	*problem;

	problem = yp->problem != NULL ? yp->problem : "syntax error";
	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		return nomem(p);
	case YAML_READER_ERROR:
		offset_mark(p, yp->problem_offset, &m);
		return perr(p, &m, "%s", problem);
	default:
		if (yp->context != NULL)
			return perr(p, &yp->problem_mark, "%s (%s)", problem,
			    yp->context);
		return perr(p, &yp->problem_mark, "%s", problem);
	}
}

static int
next_event(struct parser *p)
{
	if (p->have_ev)
		yaml_event_delete(&p->ev);
	p->have_ev = 0;
	if (!yaml_parser_parse(&p->yp, &p->ev))
		return yaml_error(p);
	p->have_ev = 1;
	if (p->ev.type == YAML_ALIAS_EVENT || event_anchor(&p->ev) != NULL)
		return perr(p, &p->ev.start_mark, "aliases are not allowed");
	return 0;
}

static int
is_null(const yaml_event_t *ev)
{
	const char	*s;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = (const char *)ev->data.scalar.value;
	return strcmp(s, "") == 0 || strcmp(s, "~") == 0 ||
	    strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0;
}

static const char *
scalar(const struct parser *p)
{
	return (const char *)p->ev.data.scalar.value;
}

static int
has_nul(const struct parser *p)
{
	return strlen(scalar(p)) != p->ev.data.scalar.length;
}

static int
parse_bool(struct parser *p, const struct ckey *k)
{
	const char	*s = scalar(p);
	int		*v = kptr(p->conf, k);

	if (p->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		s = "";
	if (strcmp(s, "true") == 0)
		*v = 1;
	else if (strcmp(s, "false") == 0)
		*v = 0;
	else
		return perr(p, &p->ev.start_mark, "%s: expected true or false",
		    k->name);
	return 0;
}

static int
parse_int(struct parser *p, const struct ckey *k)
{
	const char	*errstr = "invalid";
	long long	 v = 0;

	if (p->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    !has_nul(p))
		v = strtonum(scalar(p), k->min, k->max, &errstr);
	if (errstr != NULL)
		return perr(p, &p->ev.start_mark,
		    "%s: expected an integer from %lld to %lld", k->name,
		    k->min, k->max);
	*(int64_t *)kptr(p->conf, k) = v;
	return 0;
}

static int
parse_enum(struct parser *p, const struct ckey *k)
{
	const struct kenum	*e;
	char			 names[256] = "";

	for (e = k->enums; e->name != NULL; e++) {
		if (strcmp(e->name, scalar(p)) == 0 && !has_nul(p)) {
			*(int *)kptr(p->conf, k) = e->value;
			return 0;
		}
		if (e != k->enums)
			strlcat(names, ", ", sizeof(names));
		strlcat(names, e->name, sizeof(names));
	}
	return perr(p, &p->ev.start_mark, "%s: expected one of %s", k->name,
	    names);
}

static int
parse_string(struct parser *p, const struct ckey *k)
{
	const char	*why;

	if (has_nul(p))
		return perr(p, &p->ev.start_mark, "%s: NUL character in value",
		    k->name);
	if ((why = k->check(scalar(p))) != NULL)
		return perr(p, &p->ev.start_mark, "%s: %s", k->name, why);
	if (set_string(kptr(p->conf, k), scalar(p)) == -1)
		return nomem(p);
	return 0;
}

static int
parse_scalar(struct parser *p, const struct ckey *k)
{
	switch (k->type) {
	case KT_BOOL:
		return parse_bool(p, k);
	case KT_INT:
		return parse_int(p, k);
	case KT_ENUM:
		return parse_enum(p, k);
	case KT_STR:
		return parse_string(p, k);
	case KT_LIST:
	case KT_MADDRS:
	case KT_PEERIDS:
		break;
	}
	return perr(p, &p->ev.start_mark, "%s: expected a list", k->name);
}

static int
alias_set(const struct parser *p, size_t idx)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (i != idx && keys[i].off == keys[idx].off &&
		    is_list(&keys[i]) && p->set[i])
			return 1;
	return 0;
}

/*
 * An entry is checked as text, then, in a typed list, read by the parser
 * of the process that uses it: what it refuses is refused here, at the
 * entry's line and column.
 */
static int
parse_entry(struct parser *p, const struct ckey *k, size_t *cap)
{
	const yaml_mark_t	*m = &p->ev.start_mark;
	const char		*why;
	char			 err[CONF_ERRLEN];
	union kval		 v;

	if (p->ev.type != YAML_SCALAR_EVENT)
		return perr(p, m, "%s: list entries must be strings", k->name);
	if (is_null(&p->ev))
		return perr(p, m, "%s: empty value", k->name);
	if (list_text(p->conf, k)->n >= k->maxn)
		return perr(p, m, "%s: more than %zu entries", k->name,
		    k->maxn);
	if (has_nul(p))
		return perr(p, m, "%s: NUL character in value", k->name);
	if ((why = k->check(scalar(p))) != NULL)
		return perr(p, m, "%s: %s", k->name, why);
	if (k->parse != NULL && k->parse(scalar(p), &v, err,
	    sizeof(err)) == -1)
		return perr(p, m, "%s: %s", k->name, err);
	if (list_push(p->conf, k, cap, scalar(p), &v) == -1)
		return nomem(p);
	return 0;
}

static int
parse_list(struct parser *p, size_t idx)
{
	const struct ckey	*k = &keys[idx];
	size_t			 cap;

	if (!alias_set(p, idx))
		list_clear(p->conf, k);
	cap = list_text(p->conf, k)->n;
	for (;;) {
		if (next_event(p) == -1)
			return -1;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (parse_entry(p, k, &cap) == -1)
			return -1;
	}
}

static int
parse_value(struct parser *p, size_t idx, const yaml_mark_t *km)
{
	const struct ckey	*k = &keys[idx];
	const char		*want;

	p->set[idx] = 1;
	p->mark[idx] = p->ev.start_mark;
	want = is_list(k) ? "a list" : "a single value";
	switch (p->ev.type) {
	case YAML_SCALAR_EVENT:
		if (is_null(&p->ev))
			return perr(p, km, "%s: empty value", k->name);
		return parse_scalar(p, k);
	case YAML_SEQUENCE_START_EVENT:
		if (is_list(k))
			return parse_list(p, idx);
		return perr(p, &p->ev.start_mark, "%s: expected %s, not a list",
		    k->name, want);
	default:
		return perr(p, &p->ev.start_mark,
		    "%s: expected %s, not a mapping", k->name, want);
	}
}

static int
parse_submap(struct parser *p, const char *name, const yaml_mark_t *km)
{
	if (p->ev.type == YAML_MAPPING_START_EVENT)
		return parse_map(p, name);
	if (is_null(&p->ev))
		return perr(p, km, "%s: empty value", name);
	return perr(p, &p->ev.start_mark, "%s: expected a mapping", name);
}

static int
key_name(struct parser *p, const char *prefix, char *full, size_t len)
{
	const char	*key = scalar(p);
	const char	*dot = prefix[0] != '\0' ? "." : "";
	int		 n;

	if (key[0] == '\0')
		return perr(p, &p->ev.start_mark, "empty key");
	n = snprintf(full, len, "%s%s%s", prefix, dot, key);
	if (has_nul(p) || strchr(key, '.') != NULL || n < 0 ||
	    (size_t)n >= len || (lookup(full) == NKEYS && !is_prefix(full)))
		return perr(p, &p->ev.start_mark, "unknown key \"%s%s%s\"",
		    prefix, dot, key);
	if (strlist_contains(&p->seen, full))
		return perr(p, &p->ev.start_mark, "duplicate key \"%s\"", full);
	return 0;
}

static int
parse_map(struct parser *p, const char *prefix)
{
	char		 full[KEY_MAX];
	yaml_mark_t	 km;
	size_t		 i;

	for (;;) {
		if (next_event(p) == -1)
			return -1;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		km = p->ev.start_mark;
		if (p->ev.type != YAML_SCALAR_EVENT)
			return perr(p, &km, "expected a scalar key");
		if (key_name(p, prefix, full, sizeof(full)) == -1)
			return -1;
		if (strlist_push(&p->seen, &p->seencap, full) == -1)
			return nomem(p);
		if (next_event(p) == -1)
			return -1;
		if ((i = lookup(full)) != NKEYS) {
			if (parse_value(p, i, &km) == -1)
				return -1;
		} else if (parse_submap(p, full, &km) == -1)
			return -1;
	}
}

/* Pairs of keys where the first may not exceed the second. */
static const struct {
	const char	*lo, *hi;
} ordered[] = {
	{ "connectionManager.minConnections",
	    "connectionManager.maxConnections" },
	{ "connectionManager.dialBackoffMin",
	    "connectionManager.dialBackoffMax" },
	{ "connectionManager.maxStreamBuffer",
	    "connectionManager.maxConnectionBuffer" },
	{ "connectionManager.maxConnectionBuffer",
	    "connectionManager.maxBuffer" },
};

static int
check_conf(struct parser *p)
{
	size_t		 i, lo, hi;
	int64_t		 a, b;

	for (i = 0; i < sizeof(ordered) / sizeof(ordered[0]); i++) {
		lo = lookup(ordered[i].lo);
		hi = lookup(ordered[i].hi);
		memcpy(&a, kptr(p->conf, &keys[lo]), sizeof(a));
		memcpy(&b, kptr(p->conf, &keys[hi]), sizeof(b));
		if (a > b)
			return perr(p, p->set[lo] ? &p->mark[lo] :
			    &p->mark[hi], "%s (%lld) is greater than %s (%lld)",
			    keys[lo].name, (long long)a, keys[hi].name,
			    (long long)b);
	}
	i = lookup("admin.listen");
	if (!config_admin_local(p->conf->admin_listen) &&
	    !p->conf->admin_allow_remote)
		return perr(p, &p->mark[i], "admin.listen %s is not a loopback "
		    "address: set admin.allowRemote: true to serve /status, "
		    "/health and /metrics to the network",
		    p->conf->admin_listen);
	return 0;
}

static int
parse_document(struct parser *p)
{
	if (next_event(p) == -1)
		return -1;
	if (p->ev.type == YAML_MAPPING_START_EVENT) {
		if (parse_map(p, "") == -1)
			return -1;
	} else if (!is_null(&p->ev))
		return perr(p, &p->ev.start_mark,
		    "expected a mapping at the top level");
	if (check_conf(p) == -1)
		return -1;
	if (next_event(p) == -1)
		return -1;
	if (next_event(p) == -1)
		return -1;
	if (p->ev.type == YAML_DOCUMENT_START_EVENT)
		return perr(p, &p->ev.start_mark, "more than one document");
	return 0;
}

static int
parse_stream(struct parser *p)
{
	if (next_event(p) == -1 || next_event(p) == -1)
		return -1;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return 0;
	return parse_document(p);
}

struct peerd_conf *
config_parse(const char *buf, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct parser	 p;
	int		 rv;

	seterr(err, errlen, "%s", "");
	memset(&p, 0, sizeof(p));
	p.buf = buf != NULL ? buf : "";
	p.len = buf != NULL ? len : 0;
	p.name = name;
	p.err = err;
	p.errlen = errlen;
	if ((p.conf = config_new()) == NULL) {
		nomem(&p);
		return NULL;
	}
	if (!yaml_parser_initialize(&p.yp)) {
		config_free(p.conf);
		nomem(&p);
		return NULL;
	}
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)p.buf,
	    p.len);
	rv = parse_stream(&p);
	if (p.have_ev)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.yp);
	strlist_clear(&p.seen);
	if (rv == -1) {
		config_free(p.conf);
		return NULL;
	}
	return p.conf;
}

static int
read_all(int fd, const char *path, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;

	if ((buf = malloc(CONF_MAXFILE + 1)) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (len <= CONF_MAXFILE &&
	    (n = read(fd, buf + len, CONF_MAXFILE + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			return -1;
		}
		len += n;
	}
	if (len > CONF_MAXFILE) {
		seterr(err, errlen, "%s: file too large (more than %d bytes)",
		    path, CONF_MAXFILE);
		free(buf);
		return -1;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

struct peerd_conf *
config_load(const char *path, int must_exist, char *err, size_t errlen)
{
	struct peerd_conf	*c;
	char			*buf;
	size_t			 len;
	int			 fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || must_exist) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		if ((c = config_new()) == NULL)
			seterr(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return c;
	}
	rv = read_all(fd, path, &buf, &len, err, errlen);
	close(fd);
	if (rv == -1)
		return NULL;
	c = config_parse(buf, len, path, err, errlen);
	free(buf);
	return c;
}

static int
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
key_equal(const struct peerd_conf *a, const struct peerd_conf *b,
    const struct ckey *k)
{
	const struct strlist	*la, *lb;
	size_t			 i;

	switch (k->type) {
	case KT_BOOL:
	case KT_ENUM:
		return *(const int *)kcptr(a, k) == *(const int *)kcptr(b, k);
	case KT_INT:
		return *(const int64_t *)kcptr(a, k) ==
		    *(const int64_t *)kcptr(b, k);
	case KT_STR:
		return str_equal(*(char *const *)kcptr(a, k),
		    *(char *const *)kcptr(b, k));
	case KT_LIST:
	case KT_MADDRS:
	case KT_PEERIDS:
		la = list_ctext(a, k);
		lb = list_ctext(b, k);
		if (la->n != lb->n)
			return 0;
		for (i = 0; i < la->n; i++)
			if (!str_equal(la->v[i], lb->v[i]))
				return 0;
		return 1;
	}
	return 0;
}

int
config_equal(const struct peerd_conf *a, const struct peerd_conf *b)
{
	size_t	 i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; i < NKEYS; i++)
		if (!(keys[i].flags & K_ALIAS) && !key_equal(a, b, &keys[i]))
			return 0;
	return 1;
}

void
config_diff_static(const struct peerd_conf *old, const struct peerd_conf *new,
    void (*cb)(const char *))
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if ((keys[i].flags & (K_STATIC | K_ALIAS)) == K_STATIC &&
		    !key_equal(old, new, &keys[i]))
			cb(keys[i].name);
}

static size_t
key_size(const struct ckey *k)
{
	switch (k->type) {
	case KT_BOOL:
	case KT_ENUM:
		return sizeof(int);
	case KT_INT:
		return sizeof(int64_t);
	case KT_STR:
		return sizeof(char *);
	case KT_LIST:
		return sizeof(struct strlist);
	case KT_MADDRS:
		return sizeof(struct maddrlist);
	case KT_PEERIDS:
		return sizeof(struct peeridlist);
	}
	return 0;
}

/*
 * The static keys of nconf take the running values of oconf, which gets
 * nconf's in exchange and is about to be freed.
 */
void
config_keep_static(struct peerd_conf *nconf, struct peerd_conf *oconf)
{
	union {
		struct strlist		 l;
		struct maddrlist	 m;
		struct peeridlist	 p;
		char			*s;
		int64_t			 i;
	}		 tmp;
	size_t		 i, sz;

	for (i = 0; i < NKEYS; i++) {
		if ((keys[i].flags & (K_STATIC | K_ALIAS)) != K_STATIC)
			continue;
		sz = key_size(&keys[i]);
		memcpy(&tmp, kptr(nconf, &keys[i]), sz);
		memcpy(kptr(nconf, &keys[i]), kptr(oconf, &keys[i]), sz);
		memcpy(kptr(oconf, &keys[i]), &tmp, sz);
	}
}

/* The parts of the configuration the children get (msg.h). */
void
config_part_engine(const struct peerd_conf *c, struct reconf_engine *e)
{
	struct ip_prefix	 p;
	size_t			 i;

	memset(e, 0, sizeof(*e));
	e->mode = c->mode;
	e->relay_enabled = c->relay.enabled;
	e->hop_enabled = c->relay.hop_enabled;
	e->conns_per_minute = c->relay.conns_per_minute;
	e->max_connections = c->max_connections;
	e->min_connections = c->min_connections;
	e->max_outgoing = c->max_outgoing;
	e->max_pending = c->max_pending;
	e->upgrade_timeout = c->upgrade_timeout;
	e->max_per_ip = c->max_per_ip;
	e->max_streams = c->max_streams;
	e->dial_backoff_min = c->dial_backoff_min;
	e->dial_backoff_max = c->dial_backoff_max;
	e->stream_buffer = c->stream_buffer;
	e->conn_buffer = c->conn_buffer;
	e->total_buffer = c->total_buffer;
	e->stalled_timeout = c->stalled_timeout;
	e->dial_private = c->dial_private;
	e->max_pending_per_ip = c->max_pending_per_ip;
	e->ipv4_prefix = c->ipv4_prefix;
	e->ipv6_prefix = c->ipv6_prefix;
	e->ctl_max_clients = c->ctl_max_clients;
	e->ctl_ro_max_clients = c->ctl_ro_max_clients;
	e->ctl_ro_max_per_uid = c->ctl_ro_max_per_uid;
	e->ctl_ro_idle = c->ctl_ro_idle;
	e->admin_max_clients = c->admin_max_clients;
	e->dapi_max_clients = c->dapi_max_clients;
	e->dapi_max_streams = c->dapi_max_streams;
	e->dapi_rate = c->dapi_rate;
	e->admin_max_request = c->admin_max_request;
	e->admin_timeout = c->admin_timeout;
	strlcpy(e->metrics_ns, c->metrics_ns, sizeof(e->metrics_ns));
	e->ws_max_message = c->ws_max_message;
	for (i = 0; i < c->ws_proxies.n && i < CONF_MAX_PROXIES; i++) {
		if (ip_prefix_parse(c->ws_proxies.v[i], &p) == -1)
			continue;
		memcpy(e->ws_proxy_ip[e->ws_nproxies], p.ip, 16);
		e->ws_proxy_bits[e->ws_nproxies++] = p.bits;
	}
	e->gossip_enabled = c->gossip_enabled;
	e->gs_D = c->gs_D;
	e->gs_Dlo = c->gs_Dlo;
	e->gs_Dhi = c->gs_Dhi;
	e->gs_Dlazy = c->gs_Dlazy;
	e->gs_Dout = c->gs_Dout;
	e->gs_heartbeat = c->gs_heartbeat;
	e->gs_fanout_ttl = c->gs_fanout_ttl;
	e->gs_seen_ttl = c->gs_seen_ttl;
	e->gs_prune_backoff = c->gs_prune_backoff;
	e->gs_mcache_len = c->gs_mcache_len;
	e->gs_mcache_gossip = c->gs_mcache_gossip;
	e->gs_max_topics = c->gs_max_topics;
	e->gs_max_peer_topics = c->gs_max_peer_topics;
	e->gs_max_seen = c->gs_max_seen;
	e->gs_max_mcache = c->gs_max_mcache;
	e->gs_max_ihave = c->gs_max_ihave;
	e->gs_max_iwant = c->gs_max_iwant;
	e->gs_max_queue = c->gs_max_queue;
	e->gs_idontwant_min = c->gs_idontwant_min;
	e->gs_max_rpc = c->gs_max_rpc;
	e->gs_hash_ids = c->gs_hash_ids;
	e->gs_gossip_thr = c->gs_gossip_thr;
	e->gs_publish_thr = c->gs_publish_thr;
	e->gs_graylist_thr = c->gs_graylist_thr;
	e->gs_coloc_thr = c->gs_coloc_thr;
	e->gs_max_watchers = c->gs_max_watchers;
	e->gs_max_topic_watchers = c->gs_max_topic_watchers;
	e->advertise_enabled = c->relay.advertise_enabled;
	e->advertise_ttl = c->relay.advertise_ttl;
	e->gs_md_weight = c->gs_md_weight;
	e->gs_md_thr = c->gs_md_thr;
	e->gs_md_window = c->gs_md_window;
	e->gs_md_activation = c->gs_md_activation;
	e->gs_mf_weight = c->gs_mf_weight;
	e->gs_fd_weight = c->gs_fd_weight;
	e->gs_fd_cap = c->gs_fd_cap;
}

void
config_part_relay(const struct peerd_conf *c, struct reconf_relay *r)
{
	memset(r, 0, sizeof(*r));
	r->enabled = c->relay.enabled;
	r->hop_enabled = c->relay.hop_enabled;
	r->reservations_max = c->relay.reservations_max;
	r->reservations_ttl = c->relay.reservations_ttl;
	r->reservations_per_ip = c->relay.reservations_per_ip;
	r->limit_duration = c->relay.limit_duration;
	r->limit_data = c->relay.limit_data;
	r->rsvp_per_hour = c->relay.rsvp_per_hour;
	r->max_pending_vouchers = c->relay.max_pending_vouchers;
}

void
config_part_store(const struct peerd_conf *c, struct reconf_store *s)
{
	memset(s, 0, sizeof(*s));
	s->map_size = c->store_map_size;
	s->max_peers = c->store_max_peers;
	s->max_acct = c->store_max_acct;
	s->max_acct_size = c->store_max_acct_size;
}

const char *
config_mode_name(int mode)
{
	const char	*name;

	if ((name = enum_name(modes, mode)) == NULL)
		return "unknown";
	return name;
}

/* Length of a valid UTF-8 sequence at s, 0 if it is not one. */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t	 n, i;
	uint32_t min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		*cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		*cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		*cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

static int
utf8_escape(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

static void
emit_str(FILE *fp, const char *s)
{
	const unsigned char	*u;
	uint32_t		 cp;
	size_t			 n;

	putc('"', fp);
	for (u = (const unsigned char *)(s ? s : ""); *u != '\0'; u += n) {
		n = 1;
		if (*u == '"' || *u == '\\')
			fprintf(fp, "\\%c", *u);
		else if (*u == '\n')
			fputs("\\n", fp);
		else if (*u == '\t')
			fputs("\\t", fp);
		else if (*u < 0x20 || *u == 0x7f)
			fprintf(fp, "\\x%02x", *u);
		else if (*u < 0x80)
			putc(*u, fp);
		else if ((n = utf8_decode(u, &cp)) == 0) {
			/* YAML cannot carry a byte that is not UTF-8 */
			fprintf(fp, "\\x%02x", *u);
			n = 1;
		} else if (utf8_escape(cp))
			fprintf(fp, "\\u%04x", (unsigned int)cp);
		else
			fwrite(u, 1, n, fp);
	}
	putc('"', fp);
}

static void
emit_list(FILE *fp, const struct strlist *l, int depth)
{
	size_t	 i;

	if (l->n == 0) {
		fputs(" []\n", fp);
		return;
	}
	putc('\n', fp);
	for (i = 0; i < l->n; i++) {
		fprintf(fp, "%*s- ", (depth + 1) * 2, "");
		emit_str(fp, l->v[i]);
		putc('\n', fp);
	}
}

static void
emit_leaf(FILE *fp, const struct peerd_conf *c, const struct ckey *k,
    const char *name, int depth)
{
	const char	*s;
	int		 v;

	fprintf(fp, "%*s%s:", depth * 2, "", name);
	switch (k->type) {
	case KT_BOOL:
		v = *(const int *)kcptr(c, k);
		fprintf(fp, " %s\n", v ? "true" : "false");
		break;
	case KT_INT:
		fprintf(fp, " %lld\n",
		    (long long)*(const int64_t *)kcptr(c, k));
		break;
	case KT_ENUM:
		v = *(const int *)kcptr(c, k);
		if ((s = enum_name(k->enums, v)) != NULL)
			fprintf(fp, " %s\n", s);
		else
			fprintf(fp, " %d\n", v);
		break;
	case KT_STR:
		putc(' ', fp);
		emit_str(fp, *(char *const *)kcptr(c, k));
		putc('\n', fp);
		break;
	case KT_LIST:
	case KT_MADDRS:
	case KT_PEERIDS:
		emit_list(fp, list_ctext(c, k), depth);
		break;
	}
}

/* Whether a key before idx already opened the mapping name[0..len). */
static int
map_emitted(size_t idx, size_t len)
{
	size_t	 i;

	for (i = 0; i < idx; i++)
		if (!(keys[i].flags & K_ALIAS) &&
		    strncmp(keys[i].name, keys[idx].name, len + 1) == 0)
			return 1;
	return 0;
}

static void
emit_map(FILE *fp, const struct peerd_conf *c, const char *prefix,
    size_t plen, int depth)
{
	const char	*rest, *dot;
	size_t		 i;

	for (i = 0; i < NKEYS; i++) {
		if ((keys[i].flags & K_ALIAS) ||
		    strncmp(keys[i].name, prefix, plen) != 0)
			continue;
		rest = keys[i].name + plen;
		if ((dot = strchr(rest, '.')) == NULL) {
			emit_leaf(fp, c, &keys[i], rest, depth);
			continue;
		}
		if (map_emitted(i, dot - keys[i].name))
			continue;
		fprintf(fp, "%*s%.*s:\n", depth * 2, "", (int)(dot - rest),
		    rest);
		emit_map(fp, c, keys[i].name, dot - keys[i].name + 1,
		    depth + 1);
	}
}

char *
config_emit(const struct peerd_conf *c, size_t *lenp)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;
	int	 error;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	emit_map(fp, c, "", 0, 0);
	error = ferror(fp);
	if (fclose(fp) == EOF || error) {
		free(buf);
		return NULL;
	}
	if (lenp != NULL)
		*lenp = len;
	return buf;
}
