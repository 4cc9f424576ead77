/*
 * The daemon API's streams: STREAM_OPEN, after which the client's
 * connection is the stream; STREAM_HANDLER, a protocol served by
 * dialling the handler's loopback TCP address for each inbound stream
 * and writing a StreamInfo first; and the splice between a libp2p
 * stream and a socket, with the stream's window as the only buffer of
 * any size.  Also the responses, which dapiclient.c and dapi.c write
 * through here.
 * Calls conn.c, yamux.c, stream.c and relay_client.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "circuit.h"
#include "engine.h"
#include "log.h"
#include "p2pd.h"

#define SPLICE_MAXOUT	(64 * 1024)	/* queued to a socket, at most */
#define SPLICE_CHUNK	(32 * 1024)	/* taken from a socket at once */
#define DAPI_MAXHANDLERS 64		/* protocols served at once */

struct dapi_handler {
	LIST_ENTRY(dapi_handler) entry;
	char			 proto[P2PD_MAXPROTO + 1];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
};

struct splice {
	LIST_ENTRY(splice)	 entry;
	struct bufferevent	*bev;
	struct stream		*s;		/* NULL once it is gone */
	int			 opening;	/* STREAM_OPEN not answered */
	int			 dialling;	/* the handler not yet reached */
	int			 sock_eof;	/* the socket sent all */
	int			 remote_fin;	/* the stream sent all */
	int			 draining;	/* the stream gone: flush, close */
	time_t			 started;	/* monotonic */
	struct peerid		 peer;
	struct multiaddr	 addr;
	char			 proto[P2PD_MAXPROTO + 1];
};

static LIST_HEAD(, dapi_handler) handlers = LIST_HEAD_INITIALIZER(handlers);
static LIST_HEAD(, splice)	 splices = LIST_HEAD_INITIALIZER(splices);
static int			 nsplices, nhandlers;
static int			 max_splices = 256;
static struct timeval		 stall_tv = { 30, 0 };
static struct event_base	*base;

static void	splice_pump_out(struct splice *);
static void	splice_pump_in(struct splice *);

/* A bound of the daemon API met: counted, logged. */
void
dapi_refused(const char *what)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API bounds met");

	counters.dapi_refused++;
	log_limited(&ll, LOG_INFO, "dapi_refused bound=%s", what);
}

/* Where a connection's peer is: its socket's address, or the circuit. */
void
dapi_conn_addr(const struct conn *c, struct multiaddr *ma)
{
	struct conn	*carrier;

	ma->len = 0;
	if (!c->relayed) {
		if (maddr_from_sockaddr((const struct sockaddr *)&c->ss,
		    ma) == -1)
			ma->len = 0;
		return;
	}
	if ((carrier = conn_find(c->carrier_conn)) == NULL ||
	    maddr_from_sockaddr((const struct sockaddr *)&carrier->ss,
	    ma) == -1 || maddr_append_peerid(ma, &c->via) == -1 ||
	    maddr_put(ma, MADDR_P2P_CIRCUIT, NULL, 0) == -1)
		ma->len = 0;
}

/* One Response, framed, to a client; -1 when it cannot be queued. */
int
dapi_respond(struct bufferevent *bev, const struct p2pd_resp *r)
{
	uint8_t	*buf;
	size_t	 cap = 4096, len, n;
	size_t	 i;
	int	 rv = -1;

	for (i = 0; i < r->npeers; i++)
		cap += P2PD_MAXPEERID + 16 +
		    r->peers[i].naddrs * (MADDR_MAXLEN + 8);
	if (r->identify != NULL)
		cap += r->identify->naddrs * (MADDR_MAXLEN + 8);
	if (r->ps != NULL)
		cap += r->ps->npeers * (P2PD_MAXPEERID + 8) +
		    r->ps->ntopics * (P2PD_MAXTOPIC + 8);
	if (r->pstore != NULL) {
		cap += r->pstore->nprotos * (P2PD_MAXPROTO + 8);
		if (r->pstore->peer != NULL)
			cap += r->pstore->peer->naddrs * (MADDR_MAXLEN + 8);
	}
	cap += P2PD_HDR + P2PD_SLACK;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	if (p2pd_resp_encode(r, buf + P2PD_HDR, cap - P2PD_HDR, &len) == 0 &&
	    (n = p2pd_frame(buf, len, cap)) != 0)
		rv = bufferevent_write(bev, buf, n);
	free(buf);
	return rv;
}

/* Response{ERROR, error{msg}}. */
int
dapi_error(struct bufferevent *bev, const char *msg)
{
	struct p2pd_resp	 r;

	memset(&r, 0, sizeof(r));
	r.type = P2PD_ERROR;
	r.error = msg;
	counters.dapi_errors++;
	return dapi_respond(bev, &r);
}

static void
streaminfo(const struct splice *sp, struct p2pd_streaminfo *si)
{
	si->peer.p = sp->peer.mh;
	si->peer.len = sp->peer.len;
	si->addr.p = sp->addr.b;
	si->addr.len = sp->addr.len;
	si->proto.p = (const uint8_t *)sp->proto;
	si->proto.len = strlen(sp->proto);
}

/* The varint-framed StreamInfo a handler reads first. */
static int
splice_streaminfo(struct splice *sp)
{
	struct p2pd_streaminfo	 si;
	uint8_t			 buf[P2PD_HDR + 3 * P2PD_MAXPROTO +
				    MADDR_MAXLEN + P2PD_SLACK];
	size_t			 len, n;

	streaminfo(sp, &si);
	if (p2pd_streaminfo_encode(&si, buf + P2PD_HDR,
	    sizeof(buf) - P2PD_HDR, &len) == -1 ||
	    (n = p2pd_frame(buf, len, sizeof(buf))) == 0)
		return -1;
	return bufferevent_write(sp->bev, buf, n);
}

static void
splice_free(struct splice *sp)
{
	LIST_REMOVE(sp, entry);
	nsplices--;
	if (sp->s != NULL) {
		sp->s->ctx = NULL;
		stream_reset(sp->s);
	}
	bufferevent_free(sp->bev);
	free(sp);
}

/* The stream is gone: what the socket holds is flushed, then it ends. */
static void
splice_drain(struct splice *sp)
{
	sp->draining = 1;
	bufferevent_disable(sp->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(sp->bev)) == 0)
		splice_free(sp);
}

/* Stream to socket, as far as the socket's queue allows. */
static void
splice_pump_out(struct splice *sp)
{
	struct evbuffer	*out = bufferevent_get_output(sp->bev);
	struct stream	*s = sp->s;
	size_t		 n, have;

	if (s == NULL || sp->opening)
		return;
	while (s->in.len > 0 && (have = evbuffer_get_length(out)) <
	    SPLICE_MAXOUT) {
		n = s->in.len;
		/* the stream's last bytes go whole: it may be freed next */
		if (n > SPLICE_MAXOUT - have && !sp->remote_fin)
			n = SPLICE_MAXOUT - have;
		if (evbuffer_add(out, bq_ptr(&s->in), n) == -1)
			break;
		stream_consume(s, n);
	}
	if (sp->remote_fin && !sp->dialling && s->in.len == 0 &&
	    evbuffer_get_length(out) == 0)
		shutdown(bufferevent_getfd(sp->bev), SHUT_WR);
}

/* Socket to stream, as far as the stream's queue allows. */
static void
splice_pump_in(struct splice *sp)
{
	struct evbuffer	*in = bufferevent_get_input(sp->bev);
	struct stream	*s = sp->s;
	size_t		 n, room;

	if (s == NULL || sp->dialling || sp->opening)
		return;
	while ((n = evbuffer_get_length(in)) > 0) {
		/* the peer's answers need room too: half the budget is ours */
		if (!stream_writable(s) || conn_over_budget(s->conn,
		    conn_limits.conn_buffer / 2)) {
			bufferevent_disable(sp->bev, EV_READ);
			return;
		}
		room = conn_limits.stream_buffer - s->out.len;
		if (n > room)
			n = room;
		if (n > SPLICE_CHUNK)
			n = SPLICE_CHUNK;
		if (stream_write(s, evbuffer_pullup(in, n), n) == -1) {
			splice_free(sp);
			return;
		}
		evbuffer_drain(in, n);
	}
	bufferevent_enable(sp->bev, EV_READ);
	if (sp->sock_eof) {
		/* may free the stream: its free hook clears sp->s */
		stream_close(s);
	}
}

/*
 * What a socket's event queued on the stream's connection (data, a
 * window update, a FIN or a reset) is sealed and sent now: nothing in
 * the connection's own loop would send it before the next sweep.
 */
static uint32_t
splice_conn(const struct splice *sp)
{
	return sp->s != NULL ? sp->s->conn->id : 0;
}

static void
splice_send(uint32_t id)
{
	struct conn	*c;

	if (id != 0 && (c = conn_find(id)) != NULL)
		conn_flush(c);
}

static void
splice_read_cb(struct bufferevent *bev, void *arg)
{
	uint32_t	 id = splice_conn(arg);

	splice_pump_in(arg);
	splice_send(id);
}

static void
splice_write_cb(struct bufferevent *bev, void *arg)
{
	struct splice	*sp = arg;
	uint32_t	 id = splice_conn(sp);

	if (sp->draining)
		splice_free(sp);
	else
		splice_pump_out(sp);
	splice_send(id);
}

static void
splice_event(struct bufferevent *bev, short what, struct splice *sp)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API stream ends");

	if (what & BEV_EVENT_CONNECTED) {
		sp->dialling = 0;
		bufferevent_enable(bev, EV_READ);
		splice_pump_out(sp);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		sp->sock_eof = 1;
		if (sp->s == NULL)
			splice_free(sp);
		else
			splice_pump_in(sp);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		counters.dapi_stalled++;
	log_limited(&ll, LOG_INFO, "dapi_stream_closed protocol=\"%s\" "
	    "reason=%s", sp->proto, what & BEV_EVENT_TIMEOUT ? "stalled" :
	    sp->dialling ? "handler_unreachable" : "socket_error");
	splice_free(sp);
}

static void
splice_event_cb(struct bufferevent *bev, short what, void *arg)
{
	uint32_t	 id = splice_conn(arg);

	splice_event(bev, what, arg);
	splice_send(id);
}

static struct splice *
splice_new(struct bufferevent *bev, const struct peerid *peer,
    const char *proto)
{
	struct splice	*sp;

	if (nsplices >= max_splices) {
		dapi_refused("streams");
		return NULL;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->bev = bev;
	sp->peer = *peer;
	sp->started = mono_now();
	strlcpy(sp->proto, proto, sizeof(sp->proto));
	return sp;
}

/* The socket is the splice's from here on. */
static void
splice_attach(struct splice *sp)
{
	bufferevent_setcb(sp->bev, splice_read_cb, splice_write_cb,
	    splice_event_cb, sp);
	bufferevent_setwatermark(sp->bev, EV_READ, 0, SPLICE_CHUNK);
	bufferevent_set_timeouts(sp->bev, NULL, &stall_tv);
	LIST_INSERT_HEAD(&splices, sp, entry);
	nsplices++;
	counters.dapi_streams++;
}

static void
sp_open(struct stream *s)
{
	struct splice		*sp = s->ctx;
	struct p2pd_streaminfo	 si;
	struct p2pd_resp	 r;

	if (sp == NULL || !sp->opening)
		return;
	sp->opening = 0;
	dapi_conn_addr(s->conn, &sp->addr);
	streaminfo(sp, &si);
	memset(&r, 0, sizeof(r));
	r.type = P2PD_OK;
	r.stream = &si;
	if (dapi_respond(sp->bev, &r) == -1) {
		splice_free(sp);
		return;
	}
	bufferevent_enable(sp->bev, EV_READ);
	splice_pump_in(sp);
}

/*
 * Bytes of a frame straight to the socket's queue, while it has room and
 * nothing waits before them: they never sit in the connection's budget.
 */
static size_t
sp_direct(struct stream *s, const uint8_t *buf, size_t n)
{
	struct splice	*sp = s->ctx;
	struct evbuffer	*out;
	size_t		 have;

	if (sp == NULL || sp->opening)
		return 0;
	out = bufferevent_get_output(sp->bev);
	if ((have = evbuffer_get_length(out)) >= SPLICE_MAXOUT)
		return 0;
	if (n > SPLICE_MAXOUT - have)
		n = SPLICE_MAXOUT - have;
	if (evbuffer_add(out, buf, n) == -1)
		return 0;
	return n;
}

static void
sp_input(struct stream *s)
{
	if (s->ctx != NULL)
		splice_pump_out(s->ctx);
}

static void
sp_writable(struct stream *s)
{
	if (s->ctx != NULL)
		splice_pump_in(s->ctx);
}

static void
sp_closed(struct stream *s)
{
	struct splice	*sp = s->ctx;

	if (sp == NULL) {
		stream_close(s);
		return;
	}
	sp->remote_fin = 1;
	splice_pump_out(sp);
}

static void
sp_free(struct stream *s)
{
	struct splice	*sp = s->ctx;

	if (sp == NULL)
		return;
	sp->s = NULL;
	if (sp->opening) {
		sp->opening = 0;
		dapi_error(sp->bev, "the peer refused the protocol, or the "
		    "stream was reset");
		splice_drain(sp);
	} else if (sp->remote_fin && sp->sock_eof)
		splice_drain(sp);
	else
		splice_free(sp);
}

static const struct proto proto_splice = {
	.name = "daemon API stream",
	.direct = sp_direct,
	.open = sp_open,
	.input = sp_input,
	.writable = sp_writable,
	.closed = sp_closed,
	.free = sp_free,
};

/*
 * STREAM_OPEN on an open connection: the client's bufferevent is the
 * splice's from here on; the answer comes once the peer agrees.  NULL,
 * or why not (the bufferevent is still the caller's).
 */
const char *
dapi_stream_open(struct bufferevent *bev, struct conn *c, const char *proto)
{
	struct splice	*sp;
	struct stream	*s;

	if ((sp = splice_new(bev, &c->peer, proto)) == NULL)
		return "too many daemon API streams (daemonApi.maxStreams)";
	sp->opening = 1;
	if ((s = stream_open_as(c, sp->proto, &proto_splice, sp)) == NULL) {
		free(sp);
		return "the connection takes no new stream "
		    "(connectionManager.maxStreamsPerConnection, or closing)";
	}
	sp->s = s;
	splice_attach(sp);
	bufferevent_disable(bev, EV_READ);
	/* the client reserves there itself: the relay's STOP is ours */
	if (strcmp(proto, CIRCUIT_HOP) == 0)
		rclient_api_relay(&c->peer);
	conn_flush(c);
	return NULL;
}

/* An inbound stream for a protocol a handler serves: its socket dialled. */
static const struct proto *
dapi_dynamic(struct stream *s, const char *name)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API handler dials");
	struct dapi_handler	*h;
	struct bufferevent	*bev;
	struct splice		*sp;

	LIST_FOREACH(h, &handlers, entry)
		if (strcmp(h->proto, name) == 0)
			break;
	if (h == NULL || !s->conn->have_peer)
		return NULL;
	if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL;
	if ((sp = splice_new(bev, &s->conn->peer, name)) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	splice_attach(sp);
	sp->dialling = 1;
	sp->s = s;
	dapi_conn_addr(s->conn, &sp->addr);
	/* StreamInfo first; the stream's bytes may queue behind it now */
	if (splice_streaminfo(sp) == -1 ||
	    bufferevent_socket_connect(bev, (struct sockaddr *)&h->ss,
	    h->sslen) == -1) {
		log_limited(&ll, LOG_INFO, "dapi_handler_unreachable "
		    "protocol=\"%s\"", name);
		sp->s = NULL;
		splice_free(sp);
		return NULL;
	}
	s->ctx = sp;
	return &proto_splice;
}

/*
 * STREAM_HANDLER: each protocol served by the handler at addr, which
 * must be loopback TCP (the engine may open no UNIX socket).  NULL, or
 * why not.
 */
const char *
dapi_handler_add(const struct multiaddr *addr, const char *const *protos,
    size_t n)
{
	struct sockaddr_storage	 ss;
	struct dapi_handler	*h;
	socklen_t		 len;
	size_t			 i;

	if (maddr_to_sockaddr(addr, &ss, &len) == -1 ||
	    addr_scope(addr) != SCOPE_LOOPBACK)
		return "the handler's address must be /ip4/127.0.0.1/tcp/PORT "
		    "or /ip6/::1/tcp/PORT: peerd dials handlers on loopback "
		    "TCP only";
	for (i = 0; i < n; i++) {
		LIST_FOREACH(h, &handlers, entry)
			if (strcmp(h->proto, protos[i]) == 0)
				break;
		if (h == NULL) {
			if (nhandlers >= DAPI_MAXHANDLERS) {
				dapi_refused("handlers");
				return "too many stream handlers (64)";
			}
			if ((h = calloc(1, sizeof(*h))) == NULL)
				return "out of memory";
			strlcpy(h->proto, protos[i], sizeof(h->proto));
			LIST_INSERT_HEAD(&handlers, h, entry);
			nhandlers++;
		}
		h->ss = ss;
		h->sslen = len;
	}
	return NULL;
}

/* A STREAM_OPEN the peer has not agreed to in STREAM_MS_TIMEOUT. */
void
dapistream_sweep(time_t now)
{
	struct splice	*sp, *next;

	LIST_FOREACH_SAFE(sp, &splices, entry, next)
		if (sp->opening && sp->s != NULL &&
		    now - sp->started >= STREAM_MS_TIMEOUT)
			stream_reset(sp->s);
}

int
dapi_stream_count(void)
{
	return nsplices;
}

void
dapistream_configure(const struct reconf_engine *lim)
{
	max_splices = lim->dapi_max_streams;
	stall_tv.tv_sec = lim->stalled_timeout / 1000;
	stall_tv.tv_usec = (lim->stalled_timeout % 1000) * 1000;
}

void
dapistream_init(struct event_base *b)
{
	base = b;
	stream_set_dynamic(dapi_dynamic);
}

void
dapistream_shutdown(void)
{
	struct dapi_handler	*h;
	struct splice		*sp;

	while ((sp = LIST_FIRST(&splices)) != NULL)
		splice_free(sp);
	while ((h = LIST_FIRST(&handlers)) != NULL) {
		LIST_REMOVE(h, entry);
		free(h);
	}
	nhandlers = 0;
}
