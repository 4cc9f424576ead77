/*
 * yamux, multistream-select on streams, ping and identify: the real
 * yamux.c, stream.c, proto_ping.c and proto_identify.c on one open
 * connection whose surroundings are engine_stubs.c.
 *
 * Input: one setup byte, then operations.  Bit 0 of the setup byte makes
 * the connection outbound, bit 1 starts identify as upgrade_open() does,
 * bits 2-3 pick the stream limit, bit 4 a small output queue, bit 5 a
 * small connection budget, bit 6 a small engine budget.  An
 * operation byte below 0xc0 is followed by a chunk of yamux input of
 * (b + 1) bytes (b < 0x80) or ((b & 0x3f) + 1) * 128 bytes, so frames
 * are cut anywhere, as Noise frames would cut them; 0xc0 and up are
 * the other things that happen to a connection between two reads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_stubs.h"

#define OP_PING		0xc0	/* ping_start(), as peerctl ping does */
#define OP_IDENTIFY	0xc1	/* identify_start() */
#define OP_PENDING	0xc2	/* yamux_send_pending() */
#define OP_KEEPALIVE	0xc3	/* +arg seconds, yamux_keepalive() */
#define OP_CONGEST	0xc4	/* toggle congestion */
#define OP_DRAIN	0xc5	/* the socket took all the output */
#define OP_GOAWAY	0xc6	/* yamux_goaway(), as disconnect does */
#define OP_TIMER	0xc7	/* fire pending timer number arg */
#define OP_CLOCK	0xc8	/* +arg seconds */
#define OP_REGRANT	0xc9	/* yamux_regrant(), as the sweep does */

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_yamux: invariant: %s\n", what);
		abort();
	}
}

/* What must hold between two events, whatever the peer sent. */
static void
invariants(struct conn *c)
{
	struct stream	*s;
	uint32_t	 n = 0;
	size_t		 held = c->raw.cap + c->out.cap + c->mspt.cap;
	int		 body = c->mux.body_stream == NULL ||
			    c->mux.body_left == 0;

	TAILQ_FOREACH(s, &c->mux.streams, entry) {
		n++;
		check(s->conn == c, "stream of another connection");
		check(stream_lookup(c, s->id) == s, "duplicate stream ID");
		check(s->out.len <= conn_limits.stream_buffer, "output over bound");
		check((uint64_t)s->recv_window + s->unacked + s->in.len <=
		    YAMUX_WINDOW, "receive window accounting");
		check((s->flags & ST_OUTBOUND) ?
		    (s->id & 1) == (c->dir == CONN_OUTBOUND) :
		    (s->id & 1) != (c->dir == CONN_OUTBOUND),
		    "stream ID parity");
		if (s == c->mux.body_stream)
			body = 1;
		held += s->in.cap + s->out.cap;
	}
	check(c->mem.held == held && mem_total.held == held,
	    "memory accounting");
	check(n == c->mux.nstreams, "stream count");
	check(n <= (uint32_t)stub_max_streams, "stream limit");
	check(body, "data frame body for a stream that is gone");
	check(c->mux.hdrlen < YAMUX_HDRLEN, "header length");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int	 limits[] = { 16, 1, 4, 64 };
	struct conn		*c;
	size_t			 n;
	uint32_t		 ctl = 1;
	uint8_t			 op, setup;
	int			 was;

	if (size < 1)
		return 0;
	stub_reset();
	setup = data[0];
	data++;
	size--;
	stub_max_streams = limits[(setup >> 2) & 3];
	if (setup & 0x10)
		stub_out_max = 64 * 1024;
	if (setup & 0x20)
		stub_conn_buffer = 64 * 1024;
	if (setup & 0x40)
		stub_total_buffer = 1024 * 1024;
	c = stub_conn_open(setup & 1 ? CONN_OUTBOUND : CONN_INBOUND);
	if (setup & 2)
		identify_start(c);

	while (size > 0 && (c = stub_conn()) != NULL &&
	    c->state == CS_OPEN) {
		op = *data++;
		size--;
		if (op < 0xc0) {
			n = op < 0x80 ? (size_t)op + 1 :
			    ((size_t)(op & 0x3f) + 1) * 128;
			if (n > size)
				n = size;
			c->last_io = stub_now;
			yamux_input(c, data, n);
			data += n;
			size -= n;
			if ((c = stub_conn()) != NULL)
				conn_flush(c);
		} else {
			switch (op) {
			case OP_PING:
				ping_start(c, ctl, 1 + (ctl & 3));
				ctl++;
				break;
			case OP_IDENTIFY:
				identify_start(c);
				break;
			case OP_PENDING:
				yamux_send_pending(c);
				break;
			case OP_KEEPALIVE:
			case OP_CLOCK:
				if (size > 0) {
					stub_now += *data++;
					size--;
				}
				if (op == OP_KEEPALIVE)
					yamux_keepalive(c, stub_now);
				break;
			case OP_CONGEST:
				was = conn_congested(c);
				stub_congested = !stub_congested;
				if (was && !conn_congested(c))
					yamux_send_pending(c);
				break;
			case OP_DRAIN:
				stub_drain();
				break;
			case OP_REGRANT:
				yamux_regrant(c);
				break;
			case OP_GOAWAY:
				yamux_goaway(c, 0);
				break;
			case OP_TIMER:
				if (size > 0) {
					stub_fire_timer(*data++);
					size--;
				}
				break;
			default:
				break;
			}
		}
		if ((c = stub_conn()) != NULL)
			invariants(c);
	}
	stub_reset();
	check(mem_total.held == 0, "memory left after the connection");
	return 0;
}
