/*
 * Listening sockets, bound by the parent and passed down.  Accepting
 * obeys the bounds: the rate per source, handshakes per source and in
 * all (with the early drop), connections per source, the total.  A
 * source is an address or a prefix (sockaddr_group).  Calls conn.c,
 * sketch.c, bans.c and upgrade.c (to start the upgrade of an accepted
 * connection); reads the bounds and the identity of state.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>

#include "engine.h"
#include "log.h"
#include "ws.h"

struct listener {
	TAILQ_ENTRY(listener)	 entry;
	int			 fd;
	struct event		 ev;
	struct multiaddr	 ma;
	struct sockaddr_storage	 ss;
	int			 active;
	int			 ws;		/* /ws: WebSocket */
};

#define RATE_WINDOW	60000	/* ms: connectionsPerMinute */
#define DROP_COST	10	/* attempts a dropped handshake counts for */

static struct sketch		 rates;
static TAILQ_HEAD(, listener)	 listeners =
    TAILQ_HEAD_INITIALIZER(listeners);
static struct event		 ev_resume;
static int			 paused = 1;

static void	 listen_accept(int, short, void *);

/* A listening socket from the parent; -1 when its address does not parse. */
int
listen_add(int fd, const char *text)
{
	struct listener	*l;
	struct multiaddr ma;
	socklen_t	 len;
	char		 err[128];

	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("listen_add");
	if (maddr_parse(text, &l->ma, err, sizeof(err)) == -1) {
		log_warnx("listen address from parent: %s", err);
		free(l);
		return -1;
	}
	l->fd = fd;
	l->ws = maddr_has(&l->ma, MADDR_WS);
	len = sizeof(l->ss);
	if (getsockname(fd, (struct sockaddr *)&l->ss, &len) == -1)
		fatal("getsockname");
	/* tcp/0: the port the kernel chose is the one to tell */
	if (maddr_from_sockaddr((struct sockaddr *)&l->ss, &ma) == 0 &&
	    (!l->ws || maddr_put(&ma, MADDR_WS, NULL, 0) == 0))
		l->ma = ma;
	event_set(&l->ev, fd, EV_READ | EV_PERSIST, listen_accept, l);
	TAILQ_INSERT_TAIL(&listeners, l, entry);
	if (!paused) {
		event_add(&l->ev, NULL);
		l->active = 1;
	}
	return 0;
}

static void
listen_resume_cb(int fd, short event, void *arg)
{
	listen_resume();
}

/* Accept again, once the identity is known and while there is room. */
void
listen_resume(void)
{
	struct listener	*l;

	if (!ident.ready || !bans_ready || ident.lockdown ||
	    conn_count() >= conn_limits.max_connections)
		return;
	paused = 0;
	TAILQ_FOREACH(l, &listeners, entry)
		if (!l->active) {
			event_add(&l->ev, NULL);
			l->active = 1;
		}
}

void
listen_pause(void)
{
	struct listener	*l;
	struct timeval	 tv = { 1, 0 };

	paused = 1;
	TAILQ_FOREACH(l, &listeners, entry)
		if (l->active) {
			event_del(&l->ev);
			l->active = 0;
		}
	if (!evtimer_initialized(&ev_resume))
		evtimer_set(&ev_resume, listen_resume_cb, NULL);
	evtimer_add(&ev_resume, &tv);
}

/* One log line a second at most for refusals; all are counted. */
static void
refused(const char *why, const struct sockaddr_storage *ss)
{
	static struct log_limit	 ll = LOG_LIMIT("connection_refused");
	char			 addr[128];

	sockaddr_fmt(ss, addr, sizeof(addr));
	log_limited(&ll, LOG_INFO, "connection_refused addr=%s reason=%s",
	    addr, why);
}

/*
 * relay.rateLimit.connectionsPerMinute: the attempts of each source over
 * the last minute, refused ones too, so that a source that keeps trying
 * faster than the limit stays refused.  The sketch has fixed memory and
 * forgets no source however many others come.
 */
static int
rate_count(const struct sockaddr_storage *ss, uint32_t n)
{
	int64_t		 limit = conn_limits.conns_per_minute, now = mono_ms();
	uint8_t		 key[16];

	if (limit <= 0)
		return 1;
	if (!rates.ready)
		sketch_init(&rates, RATE_WINDOW, now);
	sockaddr_group(ss, key);
	return sketch_add(&rates, key, sizeof(key), n, limit, now);
}

/*
 * connectionManager.maxIncomingPendingConnections, with the early drop:
 * at the bound, a newcomer takes the place of the oldest handshake of
 * the source with the most, if that source has more than its own; so a
 * storm from many addresses still leaves a newcomer a chance.  The
 * dropped handshake counts as DROP_COST attempts of its source, so that
 * sources that never finish theirs soon reach the rate, and the slots
 * last long enough for those that do.
 */
static int
pending_room(int n)
{
	static struct log_limit	 ll = LOG_LIMIT("handshakes dropped");
	struct conn		*v;
	char			 addr[128];

	if (conn_pending() < conn_limits.max_pending)
		return 1;
	if ((v = conn_pending_victim(n)) == NULL)
		return 0;
	counters.pending_dropped++;
	rate_count(&v->ss, DROP_COST);
	sockaddr_fmt(&v->ss, addr, sizeof(addr));
	log_limited(&ll, LOG_INFO, "dropped the handshake of connection %u "
	    "from %s for a newcomer: %d handshakes from its source", v->id,
	    addr, conn_pending_src(&v->ss));
	conn_close(v, "handshake dropped for a newcomer");
	return 1;
}

/*
 * The bounds on one source: a ban, the rate, its handshakes (*n), its
 * connections.  1 when refused, counted and logged.
 */
static int
source_refused(const struct sockaddr_storage *ss, int *n)
{
	const char	*why = NULL;

	*n = conn_pending_src(ss);
	if (bans_check_ip(ss)) {
		counters.refused_banned++;
		why = "banned";
	} else if (!rate_count(ss, 1)) {
		counters.refused_rate++;
		why = "rate_limit";
	} else if (*n >= conn_limits.max_pending_per_ip) {
		counters.refused_pending_ip++;
		why = "max_pending_per_ip";
	} else if (conn_count_ip(ss) >= conn_limits.max_per_ip) {
		counters.refused_per_ip++;
		why = "max_per_ip";
	}
	if (why != NULL)
		refused(why, ss);
	return why != NULL;
}

/* websocket.trustedProxies */
static int
proxy_trusted(const struct sockaddr_storage *ss)
{
	uint8_t	 ip[16];
	int	 i;

	sockaddr_ip16(ss, ip);
	for (i = 0; i < conn_limits.ws_nproxies; i++)
		if (ip_prefix_match(&conn_limits.ws_proxies[i], ip))
			return 1;
	return 0;
}

/* The first X-Forwarded-For address into ss, port 0; "" leaves ss. */
static int
forwarded_addr(const char *xff, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	struct sockaddr_storage	 out;

	if (xff[0] == '\0')
		return 0;
	memset(&out, 0, sizeof(out));
	sin = (struct sockaddr_in *)&out;
	sin6 = (struct sockaddr_in6 *)&out;
	if (inet_pton(AF_INET, xff, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, xff, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return -1;
	*ss = out;
	return 0;
}

static void
listen_accept(int fd, short event, void *arg)
{
	static struct log_limit	 ll = LOG_LIMIT("accept errors");
	struct listener		*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct conn		*c;
	int			 s, n;

	if ((s = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_limited(&ll, LOG_WARNING, "accept: %s",
			    strerror(errno));
			listen_pause();
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_limited(&ll, LOG_WARNING, "accept: %s",
			    strerror(errno));
		return;
	}
	/* the limit may have been reached by dials or a reload */
	if (conn_count() >= conn_limits.max_connections) {
		counters.refused_limit++;
		refused("max_connections", &ss);
		close(s);
		listen_pause();
		return;
	}
	/* a trusted proxy's clients are judged once it names them */
	if (l->ws && proxy_trusted(&ss))
		n = 0;
	else if (source_refused(&ss, &n)) {
		close(s);
		return;
	}
	if (!pending_room(n)) {
		counters.refused_pending++;
		refused("max_pending", &ss);
		close(s);
		return;
	}
	if ((c = conn_new(s, CONN_INBOUND, (struct sockaddr *)&ss, len)) ==
	    NULL) {
		close(s);
		return;
	}
	counters.accepted++;
	if (!l->ws)
		upgrade_start(c);
	else if ((c->ws = wsc_new(WS_SERVER, conn_limits.ws_max_message,
	    &c->mem)) == NULL)
		conn_close(c, "out of memory");
	if (conn_count() >= conn_limits.max_connections)
		listen_pause();
}

/*
 * An inbound WebSocket upgraded.  From a trusted proxy, the address its
 * X-Forwarded-For names (or the proxy's own, without one) is the source,
 * and must pass what any source must; then the upgrade goes on.
 */
void
listen_ws_open(struct conn *c)
{
	struct sockaddr_storage	 ss = c->ss;
	int			 n;

	if (proxy_trusted(&c->ss)) {
		if (forwarded_addr(wsc_forwarded(c->ws), &ss) == -1) {
			conn_fail(c, "X-Forwarded-For from a trusted proxy "
			    "is not an IP address");
			return;
		}
		if (source_refused(&ss, &n)) {
			conn_close(c, "refused");
			return;
		}
		conn_set_remote(c, &ss);
	}
	upgrade_start(c);
}

int
sockaddr_unspecified(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr,
		    &any6, sizeof(any6)) == 0;
	return 0;
}

/*
 * Where we listen, as multiaddrs; for a connection (local given) an
 * unspecified address is shown as the connection's local address.
 */
size_t
listen_addrs(struct multiaddr *out, size_t max,
    const struct sockaddr_storage *local)
{
	struct sockaddr_storage	 ss;
	struct listener		*l;
	size_t			 n = 0;

	TAILQ_FOREACH(l, &listeners, entry) {
		if (n == max)
			break;
		if (!sockaddr_unspecified(&l->ss) || local == NULL) {
			out[n++] = l->ma;
			continue;
		}
		if (local->ss_family != l->ss.ss_family)
			continue;
		ss = *local;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port =
			    ((struct sockaddr_in *)&l->ss)->sin_port;
		else
			((struct sockaddr_in6 *)&ss)->sin6_port =
			    ((struct sockaddr_in6 *)&l->ss)->sin6_port;
		if (maddr_from_sockaddr((struct sockaddr *)&ss, &out[n]) == -1)
			continue;
		if (l->ws && maddr_put(&out[n], MADDR_WS, NULL, 0) == -1)
			continue;
		n++;
	}
	return n;
}

void
listen_close_all(void)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(&listeners)) != NULL) {
		TAILQ_REMOVE(&listeners, l, entry);
		if (l->active)
			event_del(&l->ev);
		close(l->fd);
		free(l);
	}
	if (evtimer_initialized(&ev_resume))
		evtimer_del(&ev_resume);
}
