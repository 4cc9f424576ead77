/*
 * yamux (github.com/hashicorp/yamux/spec.md, as libp2p uses it): streams
 * in both directions with per-stream flow control.  Incoming bytes are
 * parsed as they come; a data frame's body is handed to its stream in
 * whatever pieces the Noise frames cut it into.  Calls conn.c below it;
 * streams go up through the upcalls stream.c registers.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "circuit.h"
#include "engine.h"
#include "log.h"
#include "varint.h"
#include "yamuxhdr.h"

#define Y_MAXFRAME	(64 * 1024)	/* our data frames */
#define Y_DISCARD_MAX	(16 * 1024 * 1024)

static void	 stream_destroy(struct stream *);

static struct stream_upcalls	 up;

static int
y_send(struct conn *c, int type, int flags, uint32_t id, uint32_t len)
{
	uint8_t	 h[YAMUX_HDRLEN];

	yamux_hdr_encode(h, type, flags, id, len);
	return conn_write(c, h, sizeof(h));
}

void
yamux_set_upcalls(const struct stream_upcalls *u)
{
	up = *u;
}

void
yamux_init(struct conn *c)
{
	TAILQ_INIT(&c->mux.streams);
	c->mux.next_id = c->dir == CONN_OUTBOUND ? 1 : 2;
}

struct stream *
stream_lookup(struct conn *c, uint32_t id)
{
	struct stream	*s;

	TAILQ_FOREACH(s, &c->mux.streams, entry)
		if (s->id == id)
			return s;
	return NULL;
}

static struct stream *
stream_new(struct conn *c, uint32_t id)
{
	struct stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->conn = c;
	s->id = id;
	s->in.acct = &c->mem;
	s->out.acct = &c->mem;
	s->send_window = YAMUX_WINDOW;
	s->recv_window = YAMUX_WINDOW;
	s->opened = mono_now();
	TAILQ_INSERT_TAIL(&c->mux.streams, s, entry);
	c->mux.nstreams++;
	return s;
}

static void
stream_destroy(struct stream *s)
{
	struct conn	*c = s->conn;

	up.freed(s);
	if (c->mux.body_stream == s)
		c->mux.body_stream = NULL;
	TAILQ_REMOVE(&c->mux.streams, s, entry);
	c->mux.nstreams--;
	bq_free(&s->in);
	bq_free(&s->out);
	free(s);
	if (c->mux.goaway && c->mux.nstreams == 0 && c->state == CS_OPEN)
		c->state = CS_CLOSING;
}

struct stream *
yamux_open(struct conn *c, const char *proto)
{
	struct stream	*s;

	if (c->state != CS_OPEN || c->mux.goaway ||
	    c->mux.nstreams >= (uint32_t)conn_limits.max_streams)
		return NULL;
	if ((s = stream_new(c, c->mux.next_id)) == NULL)
		return NULL;
	c->mux.next_id += 2;
	s->flags |= ST_OUTBOUND;
	s->want = proto;
	y_send(c, YAMUX_T_WINDOW, YAMUX_F_SYN, s->id, 0);
	up.opened(s);
	return s;
}

static void
stream_send_fin(struct stream *s)
{
	s->flags |= ST_FIN_SENT;
	y_send(s->conn, YAMUX_T_WINDOW, YAMUX_F_FIN, s->id, 0);
	if (s->flags & ST_REMOTE_FIN)
		stream_destroy(s);
}

/* Send what the window allows from the stream's waiting output. */
static void
stream_push(struct stream *s)
{
	size_t	 n;

	while (s->out.len > 0 && s->send_window > 0 &&
	    !conn_congested(s->conn)) {
		n = s->out.len;
		if (n > s->send_window)
			n = s->send_window;
		if (n > Y_MAXFRAME)
			n = Y_MAXFRAME;
		y_send(s->conn, YAMUX_T_DATA, 0, s->id, n);
		conn_write(s->conn, bq_ptr(&s->out), n);
		bq_consume(&s->out, n);
		s->send_window -= n;
	}
	if (s->out.len == 0 && (s->flags & ST_LOCAL_FIN) &&
	    !(s->flags & ST_FIN_SENT))
		stream_send_fin(s);
}

int
stream_writable(const struct stream *s)
{
	return !(s->flags & (ST_LOCAL_FIN | ST_RESET)) &&
	    s->out.len < conn_limits.stream_buffer &&
	    !conn_congested(s->conn);
}

/* Returns 0, or -1 when the stream is closed or its queue full. */
int
stream_write(struct stream *s, const void *data, size_t len)
{
	const uint8_t	*d = data;
	size_t		 n;

	if (s->flags & (ST_LOCAL_FIN | ST_RESET))
		return -1;
	while (s->out.len == 0 && len > 0 && s->send_window > 0 &&
	    !conn_congested(s->conn)) {
		n = len;
		if (n > s->send_window)
			n = s->send_window;
		if (n > Y_MAXFRAME)
			n = Y_MAXFRAME;
		if (y_send(s->conn, YAMUX_T_DATA, 0, s->id, n) == -1 ||
		    conn_write(s->conn, d, n) == -1)
			return -1;
		s->send_window -= n;
		d += n;
		len -= n;
	}
	return bq_append(&s->out, d, len, conn_limits.stream_buffer);
}

/* One circuit relay message, framed by circuit.c, for relay and client. */
int
stream_write_msg(struct stream *s, const uint8_t *msg, size_t len)
{
	uint8_t	 buf[UVARINT_MAXLEN + CIRCUIT_MAXMSG];
	size_t	 n;

	if ((n = circuit_frame_write(msg, len, buf, sizeof(buf))) == 0)
		return -1;
	return stream_write(s, buf, n);
}

static void
stream_grant(struct stream *s)
{
	y_send(s->conn, YAMUX_T_WINDOW, 0, s->id, s->unacked);
	s->recv_window += s->unacked;
	s->unacked = 0;
}

/*
 * Window updates are the only way a peer is slowed: while the
 * connection or the engine is over budget they are held back.
 */
static void
stream_credit(struct stream *s, size_t n)
{
	s->unacked += n;
	if (s->unacked < YAMUX_WINDOW / 2 ||
	    (s->flags & (ST_REMOTE_FIN | ST_RESET)))
		return;
	if (conn_over_budget(s->conn, 0)) {
		if (!s->conn->mux.held)
			counters.mem_windows_held++;
		s->conn->mux.held = 1;
		return;
	}
	stream_grant(s);
}

/* The updates held back, once there is room again. */
void
yamux_regrant(struct conn *c)
{
	struct stream	*s;

	if (!c->mux.held || c->state != CS_OPEN || conn_over_budget(c, 0))
		return;
	c->mux.held = 0;
	TAILQ_FOREACH(s, &c->mux.streams, entry)
		if (s->unacked >= YAMUX_WINDOW / 2 &&
		    !(s->flags & (ST_REMOTE_FIN | ST_RESET)))
			stream_grant(s);
}

/* The protocol has used n bytes of input: grant the window back. */
void
stream_consume(struct stream *s, size_t n)
{
	bq_consume(&s->in, n);
	stream_credit(s, n);
}

void
stream_close(struct stream *s)
{
	if (s->flags & (ST_LOCAL_FIN | ST_RESET))
		return;
	s->flags |= ST_LOCAL_FIN;
	if (s->out.len == 0)
		stream_send_fin(s);
}

void
stream_reset(struct stream *s)
{
	y_send(s->conn, YAMUX_T_WINDOW, YAMUX_F_RST, s->id, 0);
	stream_destroy(s);
}

static void
apply_flags(struct conn *c, uint32_t id, int flags)
{
	struct stream	*s;

	if ((s = stream_lookup(c, id)) == NULL)
		return;
	if (flags & YAMUX_F_ACK)
		s->flags |= ST_ACKED;
	if (flags & YAMUX_F_RST) {
		stream_destroy(s);
		return;
	}
	if ((flags & YAMUX_F_FIN) && !(s->flags & ST_REMOTE_FIN)) {
		s->flags |= ST_REMOTE_FIN;
		up.remote_closed(s);
		if ((s = stream_lookup(c, id)) != NULL &&
		    (s->flags & ST_FIN_SENT))
			stream_destroy(s);
	}
}

static int
y_error(struct conn *c, const char *what)
{
	static struct log_limit	 ll = LOG_LIMIT("yamux errors");
	char			 msg[128];

	y_send(c, YAMUX_T_GOAWAY, 0, 0, 1);
	snprintf(msg, sizeof(msg), "yamux: %s", what);
	counters.protocol_errors++;
	log_limited(&ll, LOG_INFO, "connection %u: %s", c->id, msg);
	conn_abort(c, msg);
	return -1;
}

/* Whether data for s may have to wait in s->in rather than go on. */
static int
stream_must_hold(const struct stream *s)
{
	return s->in.len > 0 || !(s->flags & ST_NEGOTIATED) ||
	    s->proto == NULL || s->proto->direct == NULL;
}

/* Data that would put the connection or the engine over budget. */
static struct stream *
stream_refuse(struct stream *s, size_t len)
{
	static struct log_limit	 ll = LOG_LIMIT("streams over a memory "
				    "budget");
	struct conn		*c = s->conn;

	counters.mem_streams_reset++;
	log_limited(&ll, LOG_INFO, "connection %u stream %u: %zu bytes "
	    "would put it (%zu KiB) or the engine (%zu KiB) over its "
	    "budget: resetting the stream", c->id, s->id, len,
	    c->mem.held >> 10, mem_total.held >> 10);
	stream_reset(s);
	return NULL;
}

/* A SYN from the remote: a new inbound stream, if we take it. */
static int
stream_accept(struct conn *c, uint32_t id, struct stream **sp)
{
	struct stream	*s;

	*sp = NULL;
	if (id == 0 || (id & 1) == (c->dir == CONN_OUTBOUND))
		return y_error(c, "stream ID of the wrong parity");
	if (stream_lookup(c, id) != NULL)
		return y_error(c, "SYN for an open stream");
	if (c->mux.goaway || c->mux.nstreams >=
	    (uint32_t)conn_limits.max_streams ||
	    (s = stream_new(c, id)) == NULL) {
		counters.streams_refused++;
		y_send(c, YAMUX_T_WINDOW, YAMUX_F_RST, id, 0);
		return 0;
	}
	y_send(c, YAMUX_T_WINDOW, YAMUX_F_ACK, id, 0);
	*sp = s;
	up.opened(s);
	return 0;
}

static int
frame_data(struct conn *c, int flags, uint32_t id, uint32_t len)
{
	struct stream	*s = NULL;

	if ((flags & YAMUX_F_SYN) && stream_accept(c, id, &s) == -1)
		return -1;
	if (s == NULL)
		s = stream_lookup(c, id);
	if (s != NULL && len > s->recv_window)
		return y_error(c, "data beyond the receive window");
	if (s != NULL && len > 0 && stream_must_hold(s) &&
	    conn_over_budget(c, len))
		s = stream_refuse(s, len);
	if (s == NULL && len > Y_DISCARD_MAX)
		return y_error(c, "oversized data frame");
	if (s != NULL)
		s->recv_window -= len;
	c->mux.body_stream = s;
	c->mux.body_left = len;
	c->mux.body_type = flags;
	if (len == 0)
		apply_flags(c, id, flags);
	return 0;
}

static int
frame_window(struct conn *c, int flags, uint32_t id, uint32_t len)
{
	struct stream	*s = NULL;

	if ((flags & YAMUX_F_SYN) && stream_accept(c, id, &s) == -1)
		return -1;
	if (s == NULL && (s = stream_lookup(c, id)) == NULL)
		return 0;
	if ((uint64_t)s->send_window + len > UINT32_MAX)
		return y_error(c, "window overflow");
	s->send_window += len;
	apply_flags(c, id, flags);
	if ((s = stream_lookup(c, id)) != NULL && len > 0) {
		stream_push(s);
		if ((s = stream_lookup(c, id)) != NULL && stream_writable(s))
			up.writable(s);
	}
	return 0;
}

static int
frame_header(struct conn *c)
{
	struct yamux_hdr	 h;
	int			 flags;
	uint32_t		 id, len;

	if (yamux_hdr_decode(c->mux.hdr, &h) == -1)
		return y_error(c, h.version != 0 ? "unknown version" :
		    "unknown frame type");
	flags = h.flags;
	id = h.id;
	len = h.len;
	switch (h.type) {
	case YAMUX_T_DATA:
		return frame_data(c, flags, id, len);
	case YAMUX_T_WINDOW:
		return frame_window(c, flags, id, len);
	case YAMUX_T_PING:
		if (flags & YAMUX_F_SYN)
			y_send(c, YAMUX_T_PING, YAMUX_F_ACK, 0, len);
		else if ((flags & YAMUX_F_ACK) && len == c->mux.ping_out)
			c->mux.ping_out = 0;
		return 0;
	case YAMUX_T_GOAWAY:
		c->mux.goaway = 1;
		if (c->mux.nstreams == 0)
			c->state = CS_CLOSING;
		return 0;
	default:
		return y_error(c, "unknown frame type");
	}
}

/* Part of a data frame's body has arrived. */
static void
frame_body(struct conn *c, const uint8_t *buf, size_t n)
{
	struct stream	*s = c->mux.body_stream;
	uint32_t	 id;
	size_t		 used;

	c->mux.body_left -= n;
	if (s == NULL) {
		if (c->mux.body_left == 0)
			c->mux.body_type = 0;
		return;
	}
	id = s->id;
	/* relayed bytes go straight on when nothing waits before them */
	if (s->in.len == 0 && (s->flags & ST_NEGOTIATED) &&
	    !(s->flags & ST_REMOTE_FIN) && s->proto->direct != NULL) {
		used = s->proto->direct(s, buf, n);
		stream_credit(s, used);
		buf += used;
		n -= used;
	}
	if (n > 0 && !(s->flags & ST_REMOTE_FIN)) {
		if (bq_append(&s->in, buf, n, YAMUX_WINDOW) == -1) {
			counters.mem_alloc_failed++;
			stream_reset(s);
			c->mux.body_stream = NULL;
			return;
		}
		up.input(s);
	}
	if (c->mux.body_left == 0) {
		c->mux.body_stream = NULL;
		apply_flags(c, id, c->mux.body_type);
	} else if (stream_lookup(c, id) == NULL)
		c->mux.body_stream = NULL;
}

/* Returns -1 when the connection was closed. */
int
yamux_input(struct conn *c, const uint8_t *buf, size_t len)
{
	uint32_t	 id = c->id;
	size_t		 n;

	while (len > 0) {
		if (c->mux.body_left > 0) {
			n = len < c->mux.body_left ? len : c->mux.body_left;
			frame_body(c, buf, n);
		} else {
			n = YAMUX_HDRLEN - c->mux.hdrlen;
			if (n > len)
				n = len;
			memcpy(c->mux.hdr + c->mux.hdrlen, buf, n);
			c->mux.hdrlen += n;
			if (c->mux.hdrlen == YAMUX_HDRLEN) {
				c->mux.hdrlen = 0;
				if (frame_header(c) == -1)
					return -1;
			}
		}
		if (conn_find(id) != c)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* The connection can take output again. */
void
yamux_send_pending(struct conn *c)
{
	struct stream	*s, *t;
	uint32_t	 id;

	TAILQ_FOREACH_SAFE(s, &c->mux.streams, entry, t) {
		id = s->id;
		stream_push(s);
		if ((s = stream_lookup(c, id)) != NULL && stream_writable(s))
			up.writable(s);
		if (conn_congested(c))
			break;
	}
	yamux_regrant(c);
}

void
yamux_goaway(struct conn *c, uint32_t code)
{
	if (c->state == CS_OPEN)
		y_send(c, YAMUX_T_GOAWAY, 0, 0, code);
	c->mux.goaway = 1;
}

void
yamux_keepalive(struct conn *c, time_t now)
{
	struct stream	*s, *t;

	TAILQ_FOREACH_SAFE(s, &c->mux.streams, entry, t)
		if (!(s->flags & ST_NEGOTIATED) &&
		    now - s->opened >= STREAM_MS_TIMEOUT)
			stream_reset(s);
	if (c->mux.ping_out != 0 && now - c->last_io >= 2 * YAMUX_KEEPALIVE) {
		conn_close(c, "keepalive timed out");
		return;
	}
	if (c->mux.ping_out == 0 && now - c->last_io >= YAMUX_KEEPALIVE) {
		c->mux.ping_out = randombytes_random() | 1;
		y_send(c, YAMUX_T_PING, YAMUX_F_SYN, 0, c->mux.ping_out);
		conn_flush(c);
	}
}

void
yamux_free(struct conn *c)
{
	struct stream	*s;

	if (c->mux.streams.tqh_last == NULL)
		return;
	while ((s = TAILQ_FIRST(&c->mux.streams)) != NULL)
		stream_destroy(s);
}
