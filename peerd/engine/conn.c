/*
 * Connections: the socket, one event each, input framing and the output
 * queue.  Plaintext is written straight into the output queue and sealed
 * there in place, so an outgoing byte is copied once and encrypted once.
 * The lowest layer of the network: what lies above it (the upgrade,
 * yamux, a relayed connection's carrier, those who must hear of a close)
 * is reached through the hooks the engine sets.  Calls common/ only, and
 * reads the counters and bounds of state.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "engine.h"
#include "log.h"
#include "ws.h"

#define READ_CHUNK	(256 * 1024)

/*
 * The inbound connections in their handshake from one source (an
 * address, or a prefix: sockaddr_group), oldest first.  Each source is
 * also in the list of those with as many, in the order they got there,
 * so that the early drop finds the most represented in one step.
 */
struct srcgroup {
	RB_ENTRY(srcgroup)	 node;
	TAILQ_ENTRY(srcgroup)	 rank;
	struct connlist		 conns;
	uint8_t			 key[16];
	int			 n;
};

RB_HEAD(srctree, srcgroup);
TAILQ_HEAD(srcrank, srcgroup);

/* The connections with an IP address, by source: maxConnectionsPerIP. */
struct ipcount {
	RB_ENTRY(ipcount)	 node;
	uint8_t			 key[16];
	int			 n;
};

RB_HEAD(iptree, ipcount);
RB_HEAD(conntree, conn);

struct connlist		 conns = TAILQ_HEAD_INITIALIZER(conns);
static struct connlist	 upgrading = TAILQ_HEAD_INITIALIZER(upgrading);
static struct srctree	 srcs = RB_INITIALIZER(&srcs);
static struct iptree	 ips = RB_INITIALIZER(&ips);
static struct conntree	 byid = RB_INITIALIZER(&byid);
static struct srcrank	 byrank[PENDING_SRC_MAX + 1];
static int		 toprank;
static uint32_t		 next_conn_id = 1;
static int		 nconns, npending;
static uint64_t		 ncloses;
static uint8_t		 scratch[READ_CHUNK];
static struct conn_hooks hooks;
static struct log_limit	 ll_closed = LOG_LIMIT("connection_closed");
static struct log_limit	 ll_fail = LOG_LIMIT("connection errors");
static struct log_limit	 ll_timeout = LOG_LIMIT("handshake timeouts");
static struct log_limit	 ll_mem = LOG_LIMIT("connections over a memory "
			    "budget");

static void	 conn_io(int, short, void *);
static int	 conn_seal(struct conn *);
static void	 conn_mem_init(struct conn *);
static void	 src_add(struct conn *);
static void	 src_remove(struct conn *);
static void	 ip_join(struct conn *);
static void	 ip_leave(struct conn *);

static int
src_cmp(const struct srcgroup *a, const struct srcgroup *b)
{
	return memcmp(a->key, b->key, sizeof(a->key));
}

static int
ip_cmp(const struct ipcount *a, const struct ipcount *b)
{
	return memcmp(a->key, b->key, sizeof(a->key));
}

static int
id_cmp(const struct conn *a, const struct conn *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

/* RB_GENERATE_STATIC wants __unused, which libbsd leaves undefined */
RB_GENERATE_INTERNAL(srctree, srcgroup, node, src_cmp,
    __attribute__((__unused__)) static)
RB_GENERATE_INTERNAL(iptree, ipcount, node, ip_cmp,
    __attribute__((__unused__)) static)
RB_GENERATE_INTERNAL(conntree, conn, id_entry, id_cmp,
    __attribute__((__unused__)) static)

void
conn_set_hooks(const struct conn_hooks *h)
{
	hooks = *h;
}

time_t
mono_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Its queues count in its budget, which counts in the engine's. */
static void
conn_mem_init(struct conn *c)
{
	c->mem.up = &mem_total;
	c->raw.acct = &c->mem;
	c->out.acct = &c->mem;
	c->mspt.acct = &c->mem;
}

/* A new connection gets a free ID and joins the lists, upgrading. */
static void
conn_link(struct conn *c, enum conn_dir dir)
{
	do {
		c->id = next_conn_id++;
		if (next_conn_id == 0)
			next_conn_id = 1;
	} while (RB_INSERT(conntree, &byid, c) != NULL);
	c->dir = dir;
	c->events = -1;
	c->started = c->last_io = mono_now();
	conn_mem_init(c);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	TAILQ_INSERT_TAIL(&upgrading, c, hs_entry);
	c->in_upgrade = 1;
	nconns++;
	npending++;
}

struct conn *
conn_new(int fd, enum conn_dir dir, const struct sockaddr *sa, socklen_t len)
{
	struct conn	*c;
	socklen_t	 llen;
	int		 one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	if (len > sizeof(c->ss))
		len = sizeof(c->ss);
	memcpy(&c->ss, sa, len);
	llen = sizeof(c->lss);
	getsockname(fd, (struct sockaddr *)&c->lss, &llen);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_link(c, dir);
	c->state = dir == CONN_OUTBOUND ? CS_CONNECTING : CS_MS_SECURITY;
	if (dir == CONN_INBOUND)
		src_add(c);
	ip_join(c);
	conn_update_events(c);
	return c;
}

/* An outbound connection whose socket comes later (after a lookup). */
struct conn *
conn_new_pending(enum conn_dir dir)
{
	struct conn	*c;

	if (conn_count() >= conn_limits.max_connections ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	conn_link(c, dir);
	c->state = CS_CONNECTING;
	return c;
}

/* The socket of a pending connection: connecting, watched for writing. */
void
conn_set_socket(struct conn *c, int fd, const struct sockaddr_storage *ss,
    socklen_t len)
{
	int	 one = 1;

	c->fd = fd;
	if (len > sizeof(c->ss))
		len = sizeof(c->ss);
	memcpy(&c->ss, ss, len);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ip_join(c);
	conn_update_events(c);
}

/*
 * Whom an inbound connection is from, as a trusted proxy told it: its
 * source changes with it.
 */
void
conn_set_remote(struct conn *c, const struct sockaddr_storage *ss)
{
	if (c->in_upgrade)
		src_remove(c);
	ip_leave(c);
	c->ss = *ss;
	ip_join(c);
	if (c->in_upgrade && c->dir == CONN_INBOUND)
		src_add(c);
}

/* A connection carried by a stream through a relay; no socket. */
struct conn *
conn_new_relayed(enum conn_dir dir)
{
	struct conn	*c;

	if (dir == CONN_INBOUND && conn_pending() >= conn_limits.max_pending)
		return NULL;
	if ((c = conn_new_pending(dir)) != NULL)
		c->relayed = 1;
	return c;
}

void
conn_update_events(struct conn *c)
{
	short	 events = EV_PERSIST;

	if (c->fd == -1) {
		if (c->relayed && c->out.len > 0)
			hooks.push(c);
		return;
	}

	/* a peer that does not read what we send is not read either */
	if (!conn_congested(c)) {
		events |= EV_READ;
		c->stalled = 0;
	} else if (c->stalled == 0) {
		c->stalled = mono_now();
		counters.mem_reads_paused++;
	}
	if (c->state == CS_CONNECTING || c->out.len > 0 ||
	    (c->ws != NULL && wsc_pending(c->ws)))
		events |= EV_WRITE;
	if (events == c->events)
		return;
	if (c->events != -1)
		event_del(&c->ev);
	event_set(&c->ev, c->fd, events, conn_io, c);
	event_add(&c->ev, NULL);
	c->events = events;
}

struct conn *
conn_find(uint32_t id)
{
	struct conn	 key;

	key.id = id;
	return RB_FIND(conntree, &byid, &key);
}

/* An open connection to this peer, if there is one. */
struct conn *
conn_find_peer(const struct peerid *p)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry)
		if (c->state == CS_OPEN && c->have_peer &&
		    peerid_equal(&c->peer, p))
			return c;
	return NULL;
}

struct conn *
conn_find_peer_other(const struct peerid *p, const struct conn *not)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry)
		if (c != not && c->state == CS_OPEN && c->have_peer &&
		    peerid_equal(&c->peer, p))
			return c;
	return NULL;
}

int
conn_count(void)
{
	return nconns;
}

int
conn_pending(void)
{
	return npending;
}

/* Connections with an address of the source of ss (sockaddr_group). */
int
conn_count_ip(const struct sockaddr_storage *ss)
{
	struct ipcount	 key, *g;

	sockaddr_group(ss, key.key);
	return (g = RB_FIND(iptree, &ips, &key)) == NULL ? 0 : g->n;
}

/* A connection with an IP address counts to its source. */
static void
ip_join(struct conn *c)
{
	struct ipcount	 key, *g;

	if (c->ipc != NULL || (c->ss.ss_family != AF_INET &&
	    c->ss.ss_family != AF_INET6))
		return;
	sockaddr_group(&c->ss, key.key);
	if ((g = RB_FIND(iptree, &ips, &key)) == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL)
			return;		/* not counted: fails open, as src_add */
		memcpy(g->key, key.key, sizeof(g->key));
		RB_INSERT(iptree, &ips, g);
	}
	g->n++;
	c->ipc = g;
}

static void
ip_leave(struct conn *c)
{
	struct ipcount	*g = c->ipc;

	if (g == NULL)
		return;
	c->ipc = NULL;
	if (--g->n == 0) {
		RB_REMOVE(iptree, &ips, g);
		free(g);
	}
}

/* The grouping of addresses changed (ipv4/ipv6PrefixLength): recount. */
void
conn_regroup(void)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry) {
		ip_leave(c);
		ip_join(c);
	}
}

/* Move a source to the list of those with n handshakes. */
static void
src_rank(struct srcgroup *g, int n)
{
	static int	 ready;
	int		 i;

	if (!ready) {
		for (i = 0; i <= PENDING_SRC_MAX; i++)
			TAILQ_INIT(&byrank[i]);
		ready = 1;
	}
	if (g->n > 0)
		TAILQ_REMOVE(&byrank[g->n], g, rank);
	g->n = n > PENDING_SRC_MAX ? PENDING_SRC_MAX : n;
	if (g->n > 0)
		TAILQ_INSERT_TAIL(&byrank[g->n], g, rank);
	if (g->n > toprank)
		toprank = g->n;
	while (toprank > 0 && TAILQ_EMPTY(&byrank[toprank]))
		toprank--;
}

static struct srcgroup *
src_find(const struct sockaddr_storage *ss)
{
	struct srcgroup	 key;

	sockaddr_group(ss, key.key);
	return RB_FIND(srctree, &srcs, &key);
}

/* An inbound connection starts its handshake: count it to its source. */
static void
src_add(struct conn *c)
{
	struct srcgroup	*g;

	if ((g = src_find(&c->ss)) == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL)
			return;		/* not counted; the handshake goes on */
		sockaddr_group(&c->ss, g->key);
		TAILQ_INIT(&g->conns);
		RB_INSERT(srctree, &srcs, g);
	}
	TAILQ_INSERT_TAIL(&g->conns, c, src_entry);
	c->src = g;
	src_rank(g, g->n + 1);
}

static void
src_remove(struct conn *c)
{
	struct srcgroup	*g = c->src;

	if (g == NULL)
		return;
	c->src = NULL;
	TAILQ_REMOVE(&g->conns, c, src_entry);
	src_rank(g, g->n - 1);
	if (g->n == 0) {
		RB_REMOVE(srctree, &srcs, g);
		free(g);
	}
}

/* Inbound connections in their handshake from the source of ss. */
int
conn_pending_src(const struct sockaddr_storage *ss)
{
	struct srcgroup	*g;

	return (g = src_find(ss)) == NULL ? 0 : g->n;
}

/*
 * The handshake to drop for a newcomer whose source has n: the oldest of
 * the source with the most, if that is more than n; else none.
 */
struct conn *
conn_pending_victim(int n)
{
	if (toprank <= n)
		return NULL;
	return TAILQ_FIRST(&TAILQ_FIRST(&byrank[toprank])->conns);
}

/* The upgrade is over: the connection leaves the handshake list. */
void
conn_upgraded(struct conn *c)
{
	if (c->in_upgrade) {
		TAILQ_REMOVE(&upgrading, c, hs_entry);
		src_remove(c);
		c->in_upgrade = 0;
		npending--;
	}
}

void
conn_close(struct conn *c, const char *reason)
{
	char		 what[256], why[256];

	if (!c->in_upgrade) {
		conn_event_fmt(c, what, sizeof(what));
		log_limited(&ll_closed, LOG_INFO, "connection_closed %s "
		    "reason=\"%s\"", what, log_quote(reason, why, sizeof(why)));
	} else {
		log_debug("connection %u closed during upgrade: %s", c->id,
		    reason);
		TAILQ_REMOVE(&upgrading, c, hs_entry);
		src_remove(c);
		npending--;
	}
	hooks.closing(c, reason);
	TAILQ_REMOVE(&conns, c, entry);
	RB_REMOVE(conntree, &byid, c);
	ip_leave(c);
	nconns--;
	ncloses++;
	if (c->events != -1)
		event_del(&c->ev);
	if (c->ws != NULL && c->fd != -1)
		wsc_bye(c->ws, c->fd, WS_CLOSE_NORMAL);
	wsc_free(c->ws);
	if (c->fd != -1)
		close(c->fd);
	if (c->hs != NULL) {
		noise_hs_clear(c->hs);
		free(c->hs);
	}
	sodium_memzero(&c->tx, sizeof(c->tx));
	sodium_memzero(&c->rx, sizeof(c->rx));
	bq_free(&c->raw);
	bq_free(&c->out);
	bq_free(&c->mspt);
	if (c->mem.held != 0) {
		log_warnx("connection %u: %zu bytes left in its budget",
		    c->id, c->mem.held);
		mem_total.held -= c->mem.held;
	}
	free(c);
	hooks.freed();
}

/* A violation: one line in the log, one count, this connection only. */
void
conn_fail(struct conn *c, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->in_upgrade)
		counters.protocol_errors++;
	else
		counters.handshake_failures++;
	log_limited(&ll_fail, LOG_INFO, "connection %u: %s", c->id, msg);
	conn_close(c, msg);
}

/* Close after handing the peer what is queued, as far as it can take. */
void
conn_abort(struct conn *c, const char *reason)
{
	if (conn_seal(c) == 0 && c->out.len > 0) {
		if (c->fd != -1 && c->ws != NULL)
			wsc_send(c->ws, c->fd, c->out.data + c->out.off,
			    c->out.len);
		else if (c->fd != -1)
			send(c->fd, bq_ptr(&c->out), c->out.len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		else if (c->relayed)
			hooks.push(c);
	}
	conn_close(c, reason);
}

void
sockaddr_fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "unknown");
}

/*
 * "conn=N dir=D addr=A peer=P" for the connection events: addr is the
 * socket's, or the relay's circuit when relayed; peer none before the
 * handshake says it.
 */
void
conn_event_fmt(const struct conn *c, char *buf, size_t len)
{
	char	 addr[PEERID_STRMAX + 32], peer[PEERID_STRMAX] = "none";

	if (c->relayed) {
		strlcpy(addr, "/p2p/", sizeof(addr));
		peerid_format(&c->via, addr + 5, sizeof(addr) - 5);
		strlcat(addr, "/p2p-circuit", sizeof(addr));
	} else
		sockaddr_fmt(&c->ss, addr, sizeof(addr));
	if (c->have_peer)
		peerid_format(&c->peer, peer, sizeof(peer));
	snprintf(buf, len, "conn=%u dir=%s addr=%s peer=%s", c->id,
	    c->dir == CONN_INBOUND ? "inbound" : "outbound", addr, peer);
}

/* The address as 16 bytes, IPv4 mapped into IPv6. */
void
sockaddr_ip16(const struct sockaddr_storage *ss, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (ss->ss_family == AF_INET) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6)
		memcpy(ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/*
 * The source an address belongs to, for the bounds per source: an IPv4
 * address (or one mapped into IPv6) by its first ipv4_prefix bits, an
 * IPv6 address by its first ipv6_prefix, as 16 bytes.
 */
void
sockaddr_group(const struct sockaddr_storage *ss, uint8_t key[16])
{
	int	 bits, i;

	sockaddr_ip16(ss, key);
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)key))
		bits = 96 + conn_limits.ipv4_prefix;
	else
		bits = conn_limits.ipv6_prefix;
	for (i = 0; i < 16; i++, bits -= 8)
		if (bits < 8)
			key[i] &= bits <= 0 ? 0 : 0xff << (8 - bits);
}

/* Bytes before the security handshake, as they are. */
int
conn_write_raw(struct conn *c, const void *data, size_t len)
{
	if (bq_append(&c->out, data, len, CONN_MAX_OUT) == -1)
		return -1;
	conn_update_events(c);
	return 0;
}

static int
conn_seal(struct conn *c)
{
	uint8_t	*p;
	size_t	 ptlen;

	if (!c->framing)
		return 0;
	c->framing = 0;
	ptlen = c->out.len - c->frame - 2;
	if (bq_reserve(&c->out, NOISE_TAGLEN, CONN_MAX_OUT + CONN_MAX_RAW) ==
	    NULL)
		return -1;
	p = c->out.data + c->out.off + c->frame;
	if (noise_encrypt(&c->tx, p + 2, ptlen, p + 2) == -1)
		return -1;
	c->out.len += NOISE_TAGLEN;
	p[0] = (ptlen + NOISE_TAGLEN) >> 8;
	p[1] = (ptlen + NOISE_TAGLEN) & 0xff;
	return 0;
}

/* Plaintext after the handshake: framed and sealed in the output queue. */
int
conn_write(struct conn *c, const void *data, size_t len)
{
	const uint8_t	*d = data;
	size_t		 room, n;
	uint8_t		*p;

	while (len > 0) {
		if (!c->framing) {
			if ((p = bq_reserve(&c->out, 2, CONN_MAX_OUT +
			    CONN_MAX_RAW)) == NULL)
				return -1;
			c->frame = c->out.len;
			c->out.len += 2;
			c->framing = 1;
		}
		room = NOISE_MAXPT - (c->out.len - c->frame - 2);
		n = len < room ? len : room;
		/* room for the tag too: sealing must not move the queue */
		if (bq_reserve(&c->out, n + NOISE_TAGLEN, CONN_MAX_OUT +
		    CONN_MAX_RAW) == NULL ||
		    bq_append(&c->out, d, n, CONN_MAX_OUT + CONN_MAX_RAW) == -1)
			return -1;
		d += n;
		len -= n;
		if (n == room && conn_seal(c) == -1)
			return -1;
	}
	return 0;
}

/* A queue could not take more: out of memory, or over its bound. */
static void
conn_nomem(struct conn *c, const char *over)
{
	if (errno == ENOMEM) {
		counters.mem_alloc_failed++;
		conn_fail(c, "out of memory");
	} else
		conn_fail(c, "%s", over);
}

void
conn_flush(struct conn *c)
{
	if (conn_seal(c) == -1) {
		conn_nomem(c, "output queue full");
		return;
	}
	conn_update_events(c);
}

/* Half its budget waits to be sent: the peer is not keeping up. */
int
conn_congested(const struct conn *c)
{
	size_t	 most = conn_limits.conn_buffer;

	if (most > CONN_MAX_OUT)
		most = CONN_MAX_OUT;
	return c->out.len >= most / 2;
}

/* Whether taking n more bytes would put c or the engine over budget. */
int
conn_over_budget(const struct conn *c, size_t n)
{
	return c->mem.held + n > conn_limits.conn_buffer ||
	    mem_total.held + n > conn_limits.total_buffer;
}

/* Bytes the current partial frame still needs; 0 if unknown. */
static size_t
frame_need(const struct conn *c)
{
	const uint8_t	*p = bq_ptr(&c->raw);

	if (c->state == CS_MS_SECURITY || c->raw.len < 2)
		return 0;
	return 2 + ((size_t)p[0] << 8 | p[1]) - c->raw.len;
}

/*
 * Feed input to the state machine.  Returns bytes consumed; the rest is
 * an incomplete frame.  The connection may be gone when *gone is set.
 */
static size_t
conn_input(struct conn *c, uint8_t *buf, size_t len, int *gone)
{
	uint32_t	 id = c->id;
	size_t		 used = 0, n;

	while (used < len) {
		hooks.input(c, buf + used, len - used, &n);
		if (conn_find(id) != c) {
			*gone = 1;
			return used;
		}
		if (n == 0)
			break;
		used += n;
	}
	return used;
}

/* Input from a relay stream; returns what was used. */
size_t
conn_feed(struct conn *c, uint8_t *buf, size_t len)
{
	int	 gone = 0;

	c->last_io = mono_now();
	return conn_input(c, buf, len, &gone);
}

/* Bytes a WebSocket read brought: the payload in p, or what it says. */
static ssize_t
conn_ws_input(struct conn *c, uint8_t *p, size_t n)
{
	uint32_t	 id = c->id;
	uint16_t	 code;
	char		 err[128];

	switch (wsc_input(c->ws, p, &n, &code, err, sizeof(err))) {
	case WSC_OPENED:
		if (c->dir == CONN_INBOUND)
			hooks.ws_open(c);
		else
			hooks.start(c);
		if (conn_find(id) != c)
			return -2;
		break;
	case WSC_CLOSE:
		snprintf(err, sizeof(err), "closed by peer (WebSocket %u)",
		    code);
		conn_close(c, err);
		return -2;
	case WSC_ERROR:
		if (wsc_upgraded(c->ws))
			counters.ws_frame_errors++;
		else
			counters.ws_refused++;
		conn_fail(c, "WebSocket %u: %s", code, err);
		return -2;
	}
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	return n;
}

/*
 * Up to len bytes of the connection's stream into p, from its socket,
 * unframed if it is a WebSocket: 0 at its end, -1 with errno (EAGAIN
 * when nothing came yet), -2 when it was closed here.
 */
static ssize_t
conn_recv(struct conn *c, uint8_t *p, size_t len)
{
	ssize_t	 n;

	if ((n = read(c->fd, p, len)) <= 0 || c->ws == NULL)
		return n;
	c->last_io = mono_now();
	return conn_ws_input(c, p, n);
}

static int
conn_read(struct conn *c)
{
	uint32_t	 id = c->id;
	ssize_t		 n;
	size_t		 need, used;
	uint8_t		*p;
	int		 gone = 0;

	if (c->raw.len > 0 && (need = frame_need(c)) > 0) {
		if ((p = bq_reserve(&c->raw, need, CONN_MAX_RAW)) == NULL) {
			conn_nomem(c, "frame too large");
			return -1;
		}
		if ((n = conn_recv(c, p, need)) <= 0)
			goto eof;
		c->raw.len += n;
		if ((size_t)n < need)
			return 0;
		used = conn_input(c, c->raw.data + c->raw.off, c->raw.len,
		    &gone);
		if (gone)
			return -1;
		bq_consume(&c->raw, used);
	}
	if ((n = conn_recv(c, scratch, sizeof(scratch))) <= 0)
		goto eof;
	c->last_io = mono_now();
	if (c->raw.len > 0) {
		if (bq_append(&c->raw, scratch, n, CONN_MAX_RAW) == -1) {
			conn_nomem(c, "frame too large");
			return -1;
		}
		used = conn_input(c, c->raw.data + c->raw.off, c->raw.len,
		    &gone);
		if (!gone)
			bq_consume(&c->raw, used);
	} else {
		used = conn_input(c, scratch, n, &gone);
		if (!gone && used < (size_t)n &&
		    bq_append(&c->raw, scratch + used, n - used,
		    CONN_MAX_RAW) == -1) {
			conn_nomem(c, "frame too large");
			return -1;
		}
	}
	return gone ? -1 : 0;
 eof:
	if (n == -2)
		return -1;
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (conn_find(id) == c)
		conn_close(c, n == 0 ? "closed by peer" : strerror(errno));
	return -1;
}

static int
conn_send(struct conn *c)
{
	ssize_t	 n;
	size_t	 len;
	int	 was = conn_congested(c);

	if (conn_seal(c) == -1) {
		conn_nomem(c, "output queue full");
		return -1;
	}
	if ((len = c->out.len) == 0 && (c->ws == NULL || !wsc_pending(c->ws)))
		return 0;
	if (c->ws != NULL)
		n = wsc_send(c->ws, c->fd, c->out.data + c->out.off, len);
	else
		n = send(c->fd, bq_ptr(&c->out), len, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		conn_close(c, strerror(errno));
		return -1;
	}
	bq_consume(&c->out, n);
	if (was && !conn_congested(c) && c->state == CS_OPEN)
		hooks.drained(c);
	return 0;
}

static void
conn_connected(struct conn *c)
{
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		conn_close(c, strerror(err));
		return;
	}
	len = sizeof(c->lss);
	getsockname(c->fd, (struct sockaddr *)&c->lss, &len);
	c->state = CS_MS_SECURITY;
	if (c->ws == NULL)
		hooks.start(c);
}

static void
conn_io(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	uint32_t	 id = c->id;

	if (event & EV_WRITE) {
		if (c->state == CS_CONNECTING) {
			conn_connected(c);
			if (conn_find(id) != c)
				return;
		} else if (conn_send(c) == -1)
			return;
	}
	if ((event & EV_READ) && c->state != CS_CONNECTING &&
	    conn_read(c) == -1)
		return;
	if (conn_find(id) != c)
		return;
	/*
	 * What the input made goes out now: waiting for EV_WRITE would
	 * cost two epoll_ctl calls and a turn of the loop for each answer.
	 */
	if ((event & EV_READ) && c->state != CS_CONNECTING &&
	    conn_send(c) == -1)
		return;
	if (conn_find(id) != c)
		return;
	if (c->state == CS_CLOSING && c->out.len == 0) {
		conn_close(c, "done");
		return;
	}
	conn_flush(c);
	conn_reclaim();
}

/*
 * Over the engine's budget: the connections holding the most are closed
 * until it is under again.
 */
void
conn_reclaim(void)
{
	struct conn	*c, *most;

	if (mem_total.held > counters.mem_peak)
		counters.mem_peak = mem_total.held;
	while (mem_total.held > conn_limits.total_buffer) {
		most = NULL;
		TAILQ_FOREACH(c, &conns, entry)
			if (most == NULL || c->mem.held > most->mem.held)
				most = c;
		if (most == NULL || most->mem.held == 0)
			return;
		counters.mem_reclaimed++;
		log_limited(&ll_mem, LOG_INFO, "connection %u holds %zu KiB "
		    "and the engine is over its budget of %zu KiB: closing it",
		    most->id, most->mem.held >> 10,
		    conn_limits.total_buffer >> 10);
		conn_close(most, "over the engine's memory budget");
	}
}

/* Congested for too long: the peer does not read what it asked for. */
static void
conn_stall_check(struct conn *c, void *arg)
{
	time_t	 now = *(time_t *)arg;

	if (c->stalled == 0 || now - c->stalled < conn_limits.stalled_timeout)
		return;
	counters.mem_stalled++;
	log_limited(&ll_mem, LOG_INFO, "connection %u has not read %zu KiB "
	    "of output in %lld s: closing it", c->id, c->out.len >> 10,
	    (long long)(now - c->stalled));
	conn_close(c, "the peer does not read");
}

/* Once a second: handshake deadlines, peers not reading, the budget. */
void
conn_sweep(time_t now)
{
	struct conn	*c, *t;
	time_t		 limit = conn_limits.upgrade_timeout;

	for (c = TAILQ_FIRST(&upgrading); c != NULL; c = t) {
		t = TAILQ_NEXT(c, hs_entry);
		if (now - c->started < limit)
			break;
		counters.handshake_timeouts++;
		log_limited(&ll_timeout, LOG_INFO,
		    "connection %u: handshake timed out", c->id);
		conn_close(c, "handshake timed out");
	}
	conn_walk(conn_stall_check, &now);
	conn_reclaim();
}

/*
 * Call fn once on every connection.  A close can take others with it
 * (those relayed over it, freed with their carrier stream), so after a
 * close the walk starts again from the head, skipping those it saw.
 */
void
conn_walk(void (*fn)(struct conn *, void *), void *arg)
{
	static uint32_t	 walk;
	struct conn	*c;
	uint64_t	 closes;

	if (++walk == 0)
		walk = 1;
 again:
	TAILQ_FOREACH(c, &conns, entry) {
		if (c->walk == walk)
			continue;
		c->walk = walk;
		closes = ncloses;
		fn(c, arg);
		if (ncloses != closes)
			goto again;
	}
}

/* Each connection is handed to last (its last words), then aborted. */
void
conn_close_all(void (*last)(struct conn *))
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		last(c);
		conn_abort(c, "shutting down");
	}
}
