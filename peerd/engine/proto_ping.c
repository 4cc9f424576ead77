/*
 * /ipfs/ping/1.0.0: echo every 32-byte block; and pings of our own for
 * peerctl, one a second, each with its round-trip time, answered to the
 * control client through control.c.  Calls conn.c, yamux.c, control.c.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event.h>
#include <sodium.h>

#include "engine.h"
#include "log.h"

#define PING_LEN	32
#define PING_ECHO_MAX	(64 * 1024)	/* echoed per turn */
#define PING_TIMEOUT	10		/* seconds for an answer */

struct ping_ctx {
	uint32_t	 ctl;
	uint32_t	 conn;
	uint32_t	 stream;
	int		 count;
	int		 seq;
	int		 waiting;
	int		 done;
	uint8_t		 payload[PING_LEN];
	struct timespec	 sent;
	struct event	 timer;
};

static void	 ping_send(struct ping_ctx *);

/* One round trip, to the control client that asked. */
static void
ping_reply(uint32_t ctl, struct conn *c, int seq, int64_t rtt_us)
{
	struct ctl_ping	 p;

	memset(&p, 0, sizeof(p));
	peerid_format(&c->peer, p.peer, sizeof(p.peer));
	p.seq = seq;
	p.rtt_us = rtt_us;
	control_reply(ctl, IMSG_CTL_PING_REPLY, &p, sizeof(p));
}

/* The answer ends: with err, or after the last reply. */
static void
ping_done(uint32_t ctl, const char *err)
{
	if (err != NULL)
		control_result(ctl, 0, err);
	else
		control_end(ctl);
}

/*
 * Server side: echo what has come while the echo can go out at once.
 * Otherwise the input is left unread, so the peer's window closes: an
 * echo never waits in our memory for a peer that does not read.
 */
static void
ping_echo(struct stream *s)
{
	size_t	 n;

	while (s->in.len >= PING_LEN && s->out.len == 0 &&
	    stream_writable(s)) {
		n = s->in.len < PING_ECHO_MAX ? s->in.len : PING_ECHO_MAX;
		if (n > s->send_window)
			n = s->send_window;
		n -= n % PING_LEN;
		if (n == 0)
			return;
		if (stream_write(s, bq_ptr(&s->in), n) == -1) {
			stream_reset(s);
			return;
		}
		stream_consume(s, n);
	}
}

static void
ping_input(struct stream *s)
{
	struct ping_ctx	*p = s->ctx;
	struct timeval	 tv = { 1, 0 };
	struct timespec	 now;
	int64_t		 us;

	if (!(s->flags & ST_OUTBOUND)) {
		ping_echo(s);
		return;
	}
	if (p == NULL || !p->waiting || s->in.len < PING_LEN)
		return;
	if (memcmp(bq_ptr(&s->in), p->payload, PING_LEN) != 0) {
		p->done = 1;
		ping_done(p->ctl, "ping: the answer does not match");
		stream_reset(s);
		return;
	}
	stream_consume(s, PING_LEN);
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - p->sent.tv_sec) * 1000000LL +
	    (now.tv_nsec - p->sent.tv_nsec) / 1000;
	p->waiting = 0;
	ping_reply(p->ctl, s->conn, p->seq, us);
	evtimer_del(&p->timer);
	if (p->seq >= p->count) {
		p->done = 1;
		ping_done(p->ctl, NULL);
		stream_close(s);
		return;
	}
	evtimer_add(&p->timer, &tv);
}

static void
ping_writable(struct stream *s)
{
	if (!(s->flags & ST_OUTBOUND))
		ping_echo(s);
}

static void
ping_closed(struct stream *s)
{
	struct conn	*c = s->conn;
	uint32_t	 id = s->id;

	if (!(s->flags & ST_OUTBOUND))
		ping_echo(s);
	if ((s = stream_lookup(c, id)) != NULL)
		stream_close(s);
}

static void
ping_timer(int fd, short event, void *arg)
{
	struct ping_ctx	*p = arg;
	struct conn	*c;
	struct stream	*s;

	if ((c = conn_find(p->conn)) == NULL ||
	    (s = stream_lookup(c, p->stream)) == NULL)
		return;
	if (p->waiting) {
		p->done = 1;
		ping_done(p->ctl, "ping: no answer within 10 seconds");
		stream_reset(s);
		return;
	}
	ping_send(p);
	conn_flush(c);
}

static void
ping_send(struct ping_ctx *p)
{
	struct timeval	 tv = { PING_TIMEOUT, 0 };
	struct conn	*c = conn_find(p->conn);
	struct stream	*s;

	if (c == NULL || (s = stream_lookup(c, p->stream)) == NULL)
		return;
	randombytes_buf(p->payload, sizeof(p->payload));
	p->seq++;
	p->waiting = 1;
	clock_gettime(CLOCK_MONOTONIC, &p->sent);
	stream_write(s, p->payload, sizeof(p->payload));
	evtimer_add(&p->timer, &tv);
}

static void
ping_open(struct stream *s)
{
	if (s->flags & ST_OUTBOUND)
		ping_send(s->ctx);
}

static void
ping_free(struct stream *s)
{
	struct ping_ctx	*p = s->ctx;

	if (p == NULL)
		return;
	evtimer_del(&p->timer);
	if (!p->done)
		ping_done(p->ctl, s->flags & ST_NEGOTIATED ?
		    "ping: stream closed" : "ping: the peer does not speak "
		    "/ipfs/ping/1.0.0");
	free(p);
}

/* Start count pings on c for control client ctl. */
void
ping_start(struct conn *c, uint32_t ctl, int count)
{
	struct ping_ctx	*p;
	struct stream	*s;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		ping_done(ctl, "out of memory");
		return;
	}
	if ((s = yamux_open(c, proto_ping.name)) == NULL) {
		free(p);
		ping_done(ctl, "cannot open a stream");
		return;
	}
	p->ctl = ctl;
	p->conn = c->id;
	p->stream = s->id;
	p->count = count;
	evtimer_set(&p->timer, ping_timer, p);
	s->ctx = p;
	conn_flush(c);
}

const struct proto proto_ping = {
	.name = "/ipfs/ping/1.0.0",
	.input = ping_input,
	.writable = ping_writable,
	.closed = ping_closed,
	.open = ping_open,
	.free = ping_free,
};
