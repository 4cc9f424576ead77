/*
 * Circuit relay v2, the relay's data plane: the hop protocol (RESERVE and
 * CONNECT), the stop stream to the target, and the splice between the two
 * streams.  relayd decides every admission; relayed bytes stay here and
 * move under both streams' flow control, within the circuit's limits.
 * Our side of hop and stop as a client is relay_client.c's, which the
 * two protocols pass it to.  Calls conn.c, yamux.c, control.c, listen.c
 * and relay_client.c; reads the identity and the switches (conn_limits)
 * of state.c.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "circuit.h"
#include "engine.h"
#include "log.h"

#define RELAY_PUMP_MAX		(64 * 1024)
#define RELAY_SETUP_TIMEOUT	30	/* seconds to open a circuit */
#define RELAY_MAX_PENDING	1024	/* requests waiting for relayd */
#define CIRCUIT_LIST_MAX	4000	/* in one listing */

enum circuit_state {
	C_RESERVE,		/* RESERVE sent to relayd */
	C_ADMIT,		/* CONNECT sent to relayd */
	C_STOP,			/* STOP CONNECT sent to the target */
	C_SPLICED
};

struct circuit {
	TAILQ_ENTRY(circuit)	 entry;
	enum circuit_state	 state;
	uint32_t		 token;		/* our request ID for relayd */
	uint32_t		 id;		/* relayd's circuit ID */
	uint32_t		 src_conn, src_stream;	/* hop stream */
	uint32_t		 dst_conn, dst_stream;	/* stop stream */
	struct peerid		 src, dst;
	uint64_t		 bytes[2];	/* 0: src to dst, 1: back */
	uint32_t		 limit_duration;	/* seconds */
	uint64_t		 limit_data;
	time_t			 started;
	int64_t			 spliced_ms;
	const char		*reason;
};

static TAILQ_HEAD(, circuit)	 circuits = TAILQ_HEAD_INITIALIZER(circuits);
static uint32_t			 next_token = 1;
static int			 npending;

/* relay.enabled and relay.hop.enabled: we serve hop */
static int
hop_enabled(void)
{
	return conn_limits.relay_hop;
}

static struct stream *
side_stream(uint32_t conn, uint32_t stream)
{
	struct conn	*c;

	if (stream == 0 || (c = conn_find(conn)) == NULL)
		return NULL;
	return stream_lookup(c, stream);
}

static struct circuit *
circuit_by_token(uint32_t token)
{
	struct circuit	*c;

	TAILQ_FOREACH(c, &circuits, entry)
		if (c->token == token)
			return c;
	return NULL;
}

/* Relay side streams: hop streams we accept and stop streams we open. */
static int
server_side(const struct stream *s)
{
	return (s->proto == &proto_hop) == !(s->flags & ST_OUTBOUND);
}

static int
is_src(const struct circuit *c, const struct stream *s)
{
	return s->conn->id == c->src_conn && s->id == c->src_stream;
}

static void
ip_of(const struct conn *c, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (c->ss.ss_family == AF_INET) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((const struct sockaddr_in *)&c->ss)->sin_addr,
		    4);
	} else if (c->ss.ss_family == AF_INET6)
		memcpy(ip, &((const struct sockaddr_in6 *)&c->ss)->sin6_addr,
		    16);
}

/* Our addresses for a reservation, each ending in /p2p/<relay>. */
static void
rsvp_addrs(struct hop_msg *m, const struct conn *c)
{
	struct multiaddr	 ma[CIRCUIT_MAXADDRS];
	size_t			 i, n;

	for (n = 0; n < ident.nannounce && n < CIRCUIT_MAXADDRS; n++)
		ma[n] = ident.announce[n];
	if (n == 0)
		n = listen_addrs(ma, CIRCUIT_MAXADDRS, &c->lss);
	for (i = 0; i < n; i++)
		if (maddr_append_peerid(&ma[i], &ident.peerid) == 0)
			circuit_addr_add(&m->rsvp.addrs, &ma[i]);
}

static void
hop_status(struct stream *s, int status, const struct relay_rsvp_res *rr,
    const struct relay_connect_res *cr)
{
	static struct hop_msg	 m;
	static uint8_t		 buf[CIRCUIT_MAXMSG];
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.type = HOP_STATUS;
	m.has_type = 1;
	m.status = status;
	m.has_status = 1;
	if (rr != NULL && status == CIRCUIT_OK) {
		m.rsvp.present = 1;
		m.rsvp.expire = rr->expire;
		rsvp_addrs(&m, s->conn);
		m.rsvp.voucher = rr->voucher;
		m.rsvp.voucherlen = rr->voucherlen;
	}
	if ((rr != NULL || cr != NULL) && status == CIRCUIT_OK) {
		m.limit.present = 1;
		m.limit.duration = rr ? rr->limit_duration : cr->limit_duration;
		m.limit.data = rr ? rr->limit_data : cr->limit_data;
	}
	if (hop_encode(&m, buf, sizeof(buf), &len) == -1 ||
	    stream_write_msg(s, buf, len) == -1) {
		stream_reset(s);
		return;
	}
	if (status != CIRCUIT_OK || rr != NULL)
		stream_close(s);
	conn_flush(s->conn);
}

static struct circuit *
circuit_new(struct stream *s, enum circuit_state state)
{
	struct circuit	*c;

	if (npending >= RELAY_MAX_PENDING || (c = calloc(1, sizeof(*c))) ==
	    NULL)
		return NULL;
	c->state = state;
	c->token = next_token++;
	if (next_token == 0)
		next_token = 1;
	c->src_conn = s->conn->id;
	c->src_stream = s->id;
	c->src = s->conn->peer;
	c->started = mono_now();
	TAILQ_INSERT_TAIL(&circuits, c, entry);
	npending++;
	s->ctx = c;
	return c;
}

static void
circuit_finish(struct circuit *c)
{
	struct relay_circuit_end	 e;

	if (c->id != 0) {
		memset(&e, 0, sizeof(e));
		e.circuit = c->id;
		e.bytes_src_dst = c->bytes[0];
		e.bytes_dst_src = c->bytes[1];
		strlcpy(e.reason, c->reason ? c->reason : "closed",
		    sizeof(e.reason));
		child_compose(PROC_RELAYD, IMSG_RELAY_CIRCUIT_END, 0, -1, &e,
		    sizeof(e));
	}
	if (c->state != C_SPLICED)
		npending--;
	TAILQ_REMOVE(&circuits, c, entry);
	free(c);
}

/* A stream of the circuit is gone: take the other one down too. */
static void
circuit_detach(struct circuit *c, struct stream *s)
{
	struct stream	*other;

	if (is_src(c, s)) {
		c->src_stream = 0;
		other = side_stream(c->dst_conn, c->dst_stream);
	} else {
		c->dst_stream = 0;
		other = side_stream(c->src_conn, c->src_stream);
	}
	if (c->reason == NULL)
		c->reason = "stream_closed";
	if (other != NULL) {
		/* a stream that ended both ways ends the other one too */
		if ((s->flags & ST_FIN_SENT) && (s->flags & ST_REMOTE_FIN) &&
		    c->state == C_SPLICED)
			stream_close(other);
		else
			stream_reset(other);
		return;
	}
	if (c->src_stream == 0 && c->dst_stream == 0)
		circuit_finish(c);
}

static void
circuit_fail(struct circuit *c, const char *reason)
{
	struct stream	*s;
	struct conn	*conn;
	uint32_t	 ids[2] = { c->src_conn, c->dst_conn };
	int		 i;

	c->reason = reason;
	if ((s = side_stream(c->src_conn, c->src_stream)) != NULL)
		stream_reset(s);
	else if ((s = side_stream(c->dst_conn, c->dst_stream)) != NULL)
		stream_reset(s);
	else
		circuit_finish(c);
	/* the resets go out now, not with the next bytes */
	for (i = 0; i < 2; i++)
		if (ids[i] != 0 && (conn = conn_find(ids[i])) != NULL)
			conn_flush(conn);
}

/* Move what one side has read to the other, as far as it can take. */
static void
pump(struct circuit *c, struct stream *from)
{
	struct stream	*to;
	struct conn	*conn;
	uint32_t	 tc, fc;
	int		 dir = is_src(c, from) ? 0 : 1;
	size_t		 n;

	to = dir == 0 ? side_stream(c->dst_conn, c->dst_stream) :
	    side_stream(c->src_conn, c->src_stream);
	if (to == NULL) {
		/* the other side has ended: nowhere to deliver */
		if (from->in.len > 0)
			stream_reset(from);
		return;
	}
	/*
	 * Only what the other side's window takes now: the rest waits in
	 * from's input, which its own window bounds, and is not copied into
	 * to's queue to be copied again from there.
	 */
	while (from->in.len > 0 && stream_writable(to) && to->out.len == 0 &&
	    to->send_window > 0) {
		n = from->in.len < RELAY_PUMP_MAX ? from->in.len :
		    RELAY_PUMP_MAX;
		if (n > to->send_window)
			n = to->send_window;
		if (c->limit_data != 0 && c->bytes[dir] + n > c->limit_data)
			n = c->limit_data - c->bytes[dir];
		if (n > 0 && stream_write(to, bq_ptr(&from->in), n) == -1)
			break;
		stream_consume(from, n);
		c->bytes[dir] += n;
		if (c->limit_data != 0 && c->bytes[dir] >= c->limit_data &&
		    from->in.len > 0) {
			conn_flush(to->conn);
			circuit_fail(c, "data_limit");
			return;
		}
	}
	if (from->in.len > 0) fprintf(stderr, "PUMPSTOP in=%zu to.out=%zu win=%u cong=%d fl=%x\n", from->in.len, to->out.len, to->send_window, conn_congested(to->conn), to->flags);
	tc = to->conn->id;
	fc = from->conn->id;
	/* closing may free both streams and the circuit */
	if ((from->flags & ST_REMOTE_FIN) && from->in.len == 0)
		stream_close(to);
	if ((conn = conn_find(tc)) != NULL)
		conn_flush(conn);
	/*
	 * What was consumed may have granted the sender window: when the
	 * pump ran for the other side's event, nothing else sends it.
	 */
	if ((conn = conn_find(fc)) != NULL)
		conn_flush(conn);
}

/*
 * Bytes of a frame on a spliced stream, straight to the other side when
 * its window takes them now; the data limit is left to pump().
 */
static size_t
relay_direct(struct stream *s, const uint8_t *buf, size_t n)
{
	struct circuit	*c = s->ctx;
	struct stream	*to;
	int		 dir;

	if (!server_side(s) || c == NULL || c->state != C_SPLICED)
		return 0;
	dir = is_src(c, s) ? 0 : 1;
	to = dir == 0 ? side_stream(c->dst_conn, c->dst_stream) :
	    side_stream(c->src_conn, c->src_stream);
	if (to == NULL || to->out.len > 0 || !stream_writable(to))
		return 0;
	if (n > to->send_window)
		n = to->send_window;
	if (c->limit_data != 0 && c->bytes[dir] + n >= c->limit_data)
		return 0;
	if (n == 0 || stream_write(to, buf, n) == -1)
		return 0;
	c->bytes[dir] += n;
	conn_flush(to->conn);
	return n;
}

static void
hop_reserve(struct stream *s)
{
	struct relay_rsvp_req	 req;
	struct circuit		*c;

	if ((c = circuit_new(s, C_RESERVE)) == NULL) {
		hop_status(s, CIRCUIT_RESOURCE_LIMIT_EXCEEDED, NULL, NULL);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.peer = s->conn->peer;
	ip_of(s->conn, req.ip);
	req.conn = s->conn->id;
	child_compose(PROC_RELAYD, IMSG_RELAY_RESERVE, c->token, -1, &req,
	    sizeof(req));
}

static void
hop_connect(struct stream *s, const struct peerid *dst)
{
	struct relay_connect_req	 req;
	struct circuit			*c;

	if ((c = circuit_new(s, C_ADMIT)) == NULL) {
		hop_status(s, CIRCUIT_RESOURCE_LIMIT_EXCEEDED, NULL, NULL);
		return;
	}
	c->dst = *dst;
	memset(&req, 0, sizeof(req));
	req.src = s->conn->peer;
	req.dst = *dst;
	ip_of(s->conn, req.ip);
	req.stream = s->id;
	req.conn = s->conn->id;
	child_compose(PROC_RELAYD, IMSG_RELAY_CONNECT, c->token, -1, &req,
	    sizeof(req));
}

/* A request on a hop stream we serve. */
static void
hop_request(struct stream *s)
{
	static struct hop_msg	 m;
	const uint8_t		*msg;
	size_t			 len, used;
	int			 r;

	if ((r = circuit_frame_read(bq_ptr(&s->in), s->in.len, &msg, &len,
	    &used)) == 0)
		return;
	if (r == -1 || hop_decode(msg, len, &m) == -1) {
		stream_consume(s, s->in.len);
		hop_status(s, CIRCUIT_MALFORMED_MESSAGE, NULL, NULL);
		return;
	}
	stream_consume(s, used);
	if (s->conn->relayed || !hop_enabled()) {
		hop_status(s, CIRCUIT_PERMISSION_DENIED, NULL, NULL);
		return;
	}
	switch (m.type) {
	case HOP_RESERVE:
		hop_reserve(s);
		break;
	case HOP_CONNECT:
		if (!m.peer.present) {
			hop_status(s, CIRCUIT_MALFORMED_MESSAGE, NULL, NULL);
			break;
		}
		hop_connect(s, &m.peer.id);
		break;
	default:
		hop_status(s, CIRCUIT_UNEXPECTED_MESSAGE, NULL, NULL);
		break;
	}
}

static void
hop_input(struct stream *s)
{
	struct circuit	*c = s->ctx;

	if (!server_side(s)) {
		rclient_input(s);
		return;
	}
	if (c == NULL)
		hop_request(s);
	else if (c->state == C_SPLICED)
		pump(c, s);
}

static void
relay_writable(struct stream *s)
{
	struct circuit	*c = s->ctx;
	struct stream	*from;

	if (!server_side(s)) {
		rclient_writable(s);
		return;
	}
	if (c == NULL || c->state != C_SPLICED)
		return;
	from = is_src(c, s) ? side_stream(c->dst_conn, c->dst_stream) :
	    side_stream(c->src_conn, c->src_stream);
	if (from != NULL)
		pump(c, from);
}

static void
relay_closed(struct stream *s)
{
	struct circuit	*c = s->ctx;

	if (!server_side(s))
		rclient_closed(s);
	else if (c != NULL && c->state == C_SPLICED)
		pump(c, s);
	else if (c == NULL)
		stream_close(s);
}

static void
relay_free(struct stream *s)
{
	struct circuit	*c = s->ctx;

	if (!server_side(s))
		rclient_free(s);
	else if (c != NULL)
		circuit_detach(c, s);
}

/* relayd's answer to a RESERVE; -1 when its voucher overruns its array. */
int
relay_reserve_result(struct imsg *imsg)
{
	struct relay_rsvp_res	 rr;
	struct circuit		*c;
	struct stream		*s;
	struct conn		*conn;

	imsg_get_data(imsg, &rr, sizeof(rr));
	if (rr.voucherlen > sizeof(rr.voucher))
		return -1;
	if ((c = circuit_by_token(imsg_get_id(imsg))) == NULL)
		return 0;
	s = side_stream(c->src_conn, c->src_stream);
	if (s != NULL)
		s->ctx = NULL;
	c->src_stream = 0;
	circuit_finish(c);
	if (s == NULL)
		return 0;
	conn = s->conn;
	if (rr.status == CIRCUIT_OK)
		conn->reserved = (int64_t)rr.expire;
	hop_status(s, rr.status, &rr, NULL);
	if (rr.status == CIRCUIT_OK && !rr.voucherlen)
		log_warnx("reservation for connection %u has no voucher",
		    conn->id);
	return 0;
}

/* relayd's answer to a CONNECT: open the stop stream to the target. */
void
relay_connect_result(struct imsg *imsg)
{
	struct relay_connect_res	 cr;
	struct circuit			*c;
	struct stream			*s, *stop;
	struct conn			*dst;

	imsg_get_data(imsg, &cr, sizeof(cr));
	if ((c = circuit_by_token(imsg_get_id(imsg))) == NULL) {
		if (cr.status == CIRCUIT_OK) {
			struct relay_circuit_end e;

			memset(&e, 0, sizeof(e));
			e.circuit = cr.circuit;
			strlcpy(e.reason, "source_gone", sizeof(e.reason));
			child_compose(PROC_RELAYD, IMSG_RELAY_CIRCUIT_END, 0,
			    -1, &e, sizeof(e));
		}
		return;
	}
	if (cr.status == CIRCUIT_OK)
		c->id = cr.circuit;
	if ((s = side_stream(c->src_conn, c->src_stream)) == NULL) {
		circuit_fail(c, "source_gone");
		return;
	}
	if (cr.status != CIRCUIT_OK) {
		s->ctx = NULL;
		c->src_stream = 0;
		circuit_finish(c);
		hop_status(s, cr.status, NULL, NULL);
		return;
	}
	c->limit_duration = cr.limit_duration;
	c->limit_data = cr.limit_data;
	if ((dst = conn_find_peer(&c->dst)) == NULL ||
	    (stop = yamux_open(dst, CIRCUIT_STOP)) == NULL) {
		c->reason = "target_not_connected";
		s->ctx = NULL;
		c->src_stream = 0;
		circuit_finish(c);
		hop_status(s, CIRCUIT_CONNECTION_FAILED, NULL, NULL);
		return;
	}
	c->state = C_STOP;
	c->dst_conn = dst->id;
	c->dst_stream = stop->id;
	stop->ctx = c;
	conn_flush(dst);
}

/* The target answers our STOP CONNECT. */
static void
stop_answer(struct stream *s, struct circuit *c)
{
	static struct stop_msg	 m;
	struct relay_connect_res cr;
	struct stream		*src;
	const uint8_t		*msg;
	size_t			 len, used;
	uint32_t		 sconn, sid;
	int			 r;

	if ((r = circuit_frame_read(bq_ptr(&s->in), s->in.len, &msg, &len,
	    &used)) == 0)
		return;
	if (r == -1 || stop_decode(msg, len, &m) == -1 ||
	    m.type != STOP_STATUS || !m.has_status ||
	    m.status != CIRCUIT_OK) {
		c->reason = "target_refused";
		if ((src = side_stream(c->src_conn, c->src_stream)) != NULL) {
			src->ctx = NULL;
			c->src_stream = 0;
			hop_status(src, CIRCUIT_CONNECTION_FAILED, NULL, NULL);
		}
		stream_reset(s);
		return;
	}
	stream_consume(s, used);
	if ((src = side_stream(c->src_conn, c->src_stream)) == NULL) {
		stream_reset(s);
		return;
	}
	memset(&cr, 0, sizeof(cr));
	cr.limit_duration = c->limit_duration;
	cr.limit_data = c->limit_data;
	hop_status(src, CIRCUIT_OK, NULL, &cr);
	c->state = C_SPLICED;
	c->started = mono_now();
	c->spliced_ms = mono_ms();
	npending--;
	sconn = c->src_conn;
	sid = c->src_stream;
	pump(c, s);
	/* while the source stream lives, so does the circuit */
	if ((src = side_stream(sconn, sid)) != NULL)
		pump(c, src);
}

/* Our STOP CONNECT, once the target has agreed to the protocol. */
static void
stop_open(struct stream *s)
{
	static struct stop_msg	 m;
	static uint8_t		 buf[CIRCUIT_MAXMSG];
	struct circuit		*c = s->ctx;
	size_t			 len;

	if (!server_side(s) || c == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.type = STOP_CONNECT;
	m.has_type = 1;
	m.peer.present = 1;
	m.peer.id = c->src;
	if (c->limit_duration || c->limit_data) {
		m.limit.present = 1;
		m.limit.duration = c->limit_duration;
		m.limit.data = c->limit_data;
	}
	if (stop_encode(&m, buf, sizeof(buf), &len) == -1 ||
	    stream_write_msg(s, buf, len) == -1)
		stream_reset(s);
}

static void
stop_input(struct stream *s)
{
	struct circuit	*c = s->ctx;

	if (!server_side(s)) {
		rclient_input(s);
		return;
	}
	if (c == NULL)
		return;
	if (c->state == C_STOP)
		stop_answer(s, c);
	else if (c->state == C_SPLICED)
		pump(c, s);
}

/* The peer behind a closed connection loses its reservation. */
void
relay_conn_closed(struct conn *c)
{
	struct relay_peer_gone	 g;
	struct conn		*other;

	if (!c->reserved || !c->have_peer)
		return;
	if ((other = conn_find_peer_other(&c->peer, c)) != NULL) {
		other->reserved = c->reserved;
		return;
	}
	memset(&g, 0, sizeof(g));
	g.peer = c->peer;
	child_compose(PROC_RELAYD, IMSG_RELAY_PEER_GONE, 0, -1, &g,
	    sizeof(g));
}

/* Once a second: duration limits and circuits stuck in setup. */
void
relay_sweep(time_t now)
{
	struct circuit	*c, *t;

	TAILQ_FOREACH_SAFE(c, &circuits, entry, t) {
		if (c->state == C_SPLICED && c->limit_duration != 0 &&
		    mono_ms() - c->spliced_ms >= c->limit_duration * 1000LL)
			circuit_fail(c, "duration_limit");
		else if (c->state != C_SPLICED &&
		    now - c->started >= RELAY_SETUP_TIMEOUT)
			circuit_fail(c, "setup timed out");
	}
}

int
relay_show_circuits(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_circuit	 cc;
	struct ctl_result	 res;
	struct circuit		*c;
	time_t			 now = mono_now();
	size_t			 n = 0;

	TAILQ_FOREACH(c, &circuits, entry) {
		if (c->state != C_SPLICED || n++ >= CIRCUIT_LIST_MAX)
			continue;
		memset(&cc, 0, sizeof(cc));
		cc.id = c->id;
		peerid_format(&c->src, cc.src, sizeof(cc.src));
		peerid_format(&c->dst, cc.dst, sizeof(cc.dst));
		cc.bytes_src_dst = c->bytes[0];
		cc.bytes_dst_src = c->bytes[1];
		cc.age = now - c->started;
		cc.limit_duration = c->limit_duration;
		cc.limit_data = c->limit_data;
		control_reply(ctl, IMSG_CTL_CIRCUIT, &cc, sizeof(cc));
	}
	if (msg_list_more(&res, n, CIRCUIT_LIST_MAX, "circuits"))
		control_reply(ctl, IMSG_CTL_RESULT, &res, sizeof(res));
	control_end(ctl);
	return 0;
}

int
relay_circuit_count(void)
{
	struct circuit	*c;
	int		 n = 0;

	TAILQ_FOREACH(c, &circuits, entry)
		if (c->state == C_SPLICED)
			n++;
	return n;
}

const struct proto proto_hop = {
	.name = CIRCUIT_HOP,
	.direct = relay_direct,
	.enabled = hop_enabled,
	.input = hop_input,
	.writable = relay_writable,
	.closed = relay_closed,
	.free = relay_free,
};

const struct proto proto_stop = {
	.name = CIRCUIT_STOP,
	.direct = relay_direct,
	.enabled = rclient_enabled,
	.open = stop_open,
	.input = stop_input,
	.writable = relay_writable,
	.closed = relay_closed,
	.free = relay_free,
};

/* A connection that carries a circuit is not trimmed. */
int
relay_conn_busy(const struct conn *conn)
{
	struct circuit	*c;

	TAILQ_FOREACH(c, &circuits, entry)
		if (c->src_conn == conn->id || c->dst_conn == conn->id)
			return 1;
	return 0;
}
