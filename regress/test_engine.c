/*
 * The engine's yamux, multistream-select on streams, ping and identify,
 * over the stand-ins of fuzz/engine_stubs.c.  Every frame sent in is
 * written out byte by byte from the yamux spec
 * (github.com/hashicorp/yamux/blob/master/spec.md): version 0, type,
 * flags (be16), stream ID (be32), length (be32); types data 0, window
 * update 1, ping 2, go away 3; flags SYN 1, ACK 2, FIN 4, RST 8.  What
 * the engine writes is in clear (the stub does not seal), and is parsed
 * here the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz/engine_stubs.h"
#include "multistream.h"
#include "tap.h"

#define T_DATA		0
#define T_WINDOW	1
#define T_PING		2
#define T_GOAWAY	3

#define F_SYN		1
#define F_ACK		2
#define F_FIN		4
#define F_RST		8

#define MAXFRAMES	4096

/* multistream messages: varint length, text, '\n' */
static const char	 MSH[] = "\x13/multistream/1.0.0\n";
static const char	 MSPING[] = "\x11/ipfs/ping/1.0.0\n";
static const char	 MSID[] = "\x0f/ipfs/id/1.0.0\n";
static const char	 MSUNK[] = "\x0f/unknown/1.0.0\n";
static const char	 MSNA[] = "\x03na\n";

struct frame {
	int		 version;
	int		 type;
	int		 flags;
	uint32_t	 id;
	uint32_t	 len;
	const uint8_t	*body;		/* data frames */
};

static struct frame	 out[MAXFRAMES];
static int		 nout;
static int		 out_ok;	/* parsed to the last byte */

/* A header, from the spec. */
static size_t
hdr(uint8_t *p, int type, int flags, uint32_t id, uint32_t len)
{
	p[0] = 0;
	p[1] = type;
	p[2] = flags >> 8;
	p[3] = flags;
	p[4] = id >> 24;
	p[5] = id >> 16;
	p[6] = id >> 8;
	p[7] = id;
	p[8] = len >> 24;
	p[9] = len >> 16;
	p[10] = len >> 8;
	p[11] = len;
	return 12;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Send one frame to the engine; body for data frames only. */
static int
in_frame(int type, int flags, uint32_t id, uint32_t len, const void *body,
    size_t blen)
{
	static uint8_t	 buf[12 + 65536];
	size_t		 n;

	n = hdr(buf, type, flags, id, len);
	if (blen > sizeof(buf) - n)
		abort();
	if (blen > 0)
		memcpy(buf + n, body, blen);
	return yamux_input(stub_conn(), buf, n + blen);
}

static int
in_data(int flags, uint32_t id, const void *body, size_t len)
{
	return in_frame(T_DATA, flags, id, len, body, len);
}

static int
in_str(uint32_t id, const char *s)
{
	return in_data(0, id, s, strlen(s));
}

/* Split what the engine wrote into frames. */
static void
parse_out(void)
{
	const uint8_t	*p = bq_ptr(&stub_out);
	size_t		 len = stub_out.len, off = 0;
	struct frame	*f;

	nout = 0;
	out_ok = 0;
	while (off + 12 <= len && nout < MAXFRAMES) {
		f = &out[nout++];
		f->version = p[off];
		f->type = p[off + 1];
		f->flags = p[off + 2] << 8 | p[off + 3];
		f->id = be32(p + off + 4);
		f->len = be32(p + off + 8);
		f->body = NULL;
		off += 12;
		if (f->type == T_DATA) {
			if (f->len > len - off)
				return;
			f->body = p + off;
			off += f->len;
		}
	}
	out_ok = off == len;
}

static void
clear_out(void)
{
	bq_free(&stub_out);
	nout = 0;
}

/* The i-th frame of the output, if it is exactly this. */
static int
is_frame(int i, int type, int flags, uint32_t id, uint32_t len)
{
	return i < nout && out[i].version == 0 && out[i].type == type &&
	    out[i].flags == flags && out[i].id == id && out[i].len == len;
}

static int
count_frames(int type, int flags, uint32_t id)
{
	int	 i, n = 0;

	for (i = 0; i < nout; i++)
		if (out[i].type == type && out[i].flags == flags &&
		    out[i].id == id)
			n++;
	return n;
}

/* The data frames of a stream, bodies put together. */
static size_t
data_of(uint32_t id, uint8_t *buf, size_t max)
{
	size_t	 n = 0;
	int	 i;

	for (i = 0; i < nout; i++) {
		if (out[i].type != T_DATA || out[i].id != id)
			continue;
		if (out[i].len > max - n)
			abort();
		memcpy(buf + n, out[i].body, out[i].len);
		n += out[i].len;
	}
	return n;
}

static int
data_is(uint32_t id, const void *want, size_t len)
{
	static uint8_t	 buf[1024 * 1024];
	size_t		 n;

	n = data_of(id, buf, sizeof(buf));
	return n == len && memcmp(buf, want, len) == 0;
}

/* An inbound stream from the remote, agreed on ping. */
static void
open_ping(uint32_t id)
{
	in_frame(T_WINDOW, F_SYN, id, 0, NULL, 0);
	in_str(id, MSH);
	in_str(id, MSPING);
}

static void
test_syn_ack(void)
{
	/* window update, SYN, stream 1, length 0 */
	static const uint8_t	 syn[] = {
		0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t	 ms_in[] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x26,
		0x13, '/', 'm', 'u', 'l', 't', 'i', 's', 't', 'r', 'e', 'a',
		'm', '/', '1', '.', '0', '.', '0', '\n',
		0x11, '/', 'i', 'p', 'f', 's', '/', 'p', 'i', 'n', 'g', '/',
		'1', '.', '0', '.', '0', '\n',
	};
	struct conn	*c;
	uint8_t		 ping[32];
	size_t		 i;

	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	ok(yamux_input(c, syn, sizeof(syn)) == 0, "SYN taken");
	parse_out();
	ok(out_ok && nout == 2, "SYN: two frames out (%d)", nout);
	ok(is_frame(0, T_WINDOW, F_ACK, 1, 0),
	    "SYN answered by a window update with ACK");
	ok(is_frame(1, T_DATA, 0, 1, 20) &&
	    memcmp(out[1].body, MSH, 20) == 0,
	    "the multistream header on the new stream");
	ok(c->mux.nstreams == 1 && stream_lookup(c, 1) != NULL,
	    "one stream open");
	clear_out();

	ok(yamux_input(c, ms_in, sizeof(ms_in)) == 0, "proposal taken");
	parse_out();
	ok(out_ok && data_is(1, MSPING, strlen(MSPING)),
	    "/ipfs/ping/1.0.0 echoed");
	ok(stream_lookup(c, 1) != NULL &&
	    (stream_lookup(c, 1)->flags & ST_NEGOTIATED), "stream agreed");
	clear_out();

	for (i = 0; i < sizeof(ping); i++)
		ping[i] = 0xa0 + i;
	ok(in_data(0, 1, ping, sizeof(ping)) == 0, "32 bytes of ping taken");
	parse_out();
	ok(out_ok && nout == 1 && is_frame(0, T_DATA, 0, 1, 32) &&
	    memcmp(out[0].body, ping, 32) == 0,
	    "ping echoed in one data frame, the same bytes");
	clear_out();

	/* two blocks and a half: two echoed, the half kept */
	in_data(0, 1, ping, sizeof(ping));
	in_data(0, 1, ping, sizeof(ping));
	in_data(0, 1, ping, 16);
	parse_out();
	ok(count_frames(T_DATA, 0, 1) == 2 && out[0].len == 32 &&
	    out[1].len == 32, "two pings, two echoes");
	clear_out();
	in_data(0, 1, ping + 16, 16);
	parse_out();
	ok(nout == 1 && is_frame(0, T_DATA, 0, 1, 32) &&
	    memcmp(out[0].body, ping, 32) == 0,
	    "a ping cut in two is echoed once, whole");
	clear_out();

	ok(in_frame(T_WINDOW, F_FIN, 1, 0, NULL, 0) == 0, "FIN taken");
	parse_out();
	ok(out_ok && nout == 1 && is_frame(0, T_WINDOW, F_FIN, 1, 0),
	    "FIN answered by a window update with FIN, length 0");
	ok(stream_lookup(c, 1) == NULL && c->mux.nstreams == 0,
	    "the stream is freed");
	clear_out();

	/* data and FIN on one frame, SYN on the data frame */
	in_data(F_SYN, 3, MSH, strlen(MSH));
	in_str(3, MSPING);
	clear_out();
	in_data(F_FIN, 3, ping, sizeof(ping));
	parse_out();
	ok(out_ok && nout == 2 && is_frame(0, T_DATA, 0, 3, 32) &&
	    is_frame(1, T_WINDOW, F_FIN, 3, 0) && stream_lookup(c, 3) == NULL,
	    "data with FIN: echo, FIN, freed");
	ok(stub_conn() == c && stub_closed == 0, "connection still open");
	stub_reset();
}

static void
test_negotiation(void)
{
	static const char	 ls_answer[] =
	    "\x38" "\x0f/ipfs/id/1.0.0\n" "\x14/ipfs/id/push/1.0.0\n"
	    "\x11/ipfs/ping/1.0.0\n" "\n";
	struct conn	*c;
	uint8_t		 buf[128];
	size_t		 n = 0;
	int		 i;

	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	in_frame(T_WINDOW, F_SYN, 1, 0, NULL, 0);
	in_str(1, MSH);
	clear_out();
	in_str(1, MSUNK);
	parse_out();
	ok(out_ok && data_is(1, MSNA, strlen(MSNA)) &&
	    counters.protocols_unknown == 1, "unknown protocol: na, counted");
	clear_out();
	in_str(1, "\x03ls\n");
	parse_out();
	ok(out_ok && data_is(1, ls_answer, strlen(ls_answer)),
	    "ls: the protocol table");
	clear_out();
	in_str(1, MSPING);
	parse_out();
	ok(data_is(1, MSPING, strlen(MSPING)), "then ping is agreed");
	clear_out();

	/* the header, the proposal and a ping, all in one frame */
	memcpy(buf, MSH, strlen(MSH));
	n += strlen(MSH);
	memcpy(buf + n, MSPING, strlen(MSPING));
	n += strlen(MSPING);
	memset(buf + n, 0x77, 32);
	n += 32;
	in_data(F_SYN, 3, buf, n);
	parse_out();
	ok(out_ok && nout == 4 && is_frame(0, T_WINDOW, F_ACK, 3, 0) &&
	    data_is(3, buf, n),
	    "everything in one frame: ACK, header, echo, ping echoed");
	clear_out();

	/* no header first: reset */
	in_frame(T_WINDOW, F_SYN, 5, 0, NULL, 0);
	clear_out();
	in_str(5, MSPING);
	parse_out();
	ok(is_frame(0, T_WINDOW, F_RST, 5, 0) && stream_lookup(c, 5) == NULL,
	    "a proposal before the header: RST");
	clear_out();

	/* too many wrong proposals */
	in_frame(T_WINDOW, F_SYN, 7, 0, NULL, 0);
	in_str(7, MSH);
	clear_out();
	for (i = 0; i < 8; i++)
		in_str(7, MSUNK);
	parse_out();
	ok(count_frames(T_DATA, 0, 7) == 8 && stream_lookup(c, 7) != NULL,
	    "eight unknown proposals: eight na");
	clear_out();
	in_str(7, MSUNK);
	parse_out();
	ok(is_frame(0, T_WINDOW, F_RST, 7, 0) && stream_lookup(c, 7) == NULL,
	    "the ninth: RST");
	ok(counters.protocols_unknown == 10,
	    "every unknown proposal counted: %llu",
	    (unsigned long long)counters.protocols_unknown);
	clear_out();

	/* FIN before agreement */
	in_frame(T_WINDOW, F_SYN, 9, 0, NULL, 0);
	clear_out();
	in_frame(T_WINDOW, F_FIN, 9, 0, NULL, 0);
	parse_out();
	ok(is_frame(0, T_WINDOW, F_RST, 9, 0) && stream_lookup(c, 9) == NULL,
	    "FIN before agreement: RST");
	clear_out();

	/* RST from the remote: freed, nothing said */
	in_frame(T_WINDOW, F_SYN, 11, 0, NULL, 0);
	clear_out();
	in_frame(T_WINDOW, F_RST, 11, 0, NULL, 0);
	parse_out();
	ok(nout == 0 && stream_lookup(c, 11) == NULL, "RST: stream freed");
	ok(stub_conn() == c, "connection still open");
	stub_reset();
}

static void
test_ping_frame(void)
{
	struct conn	*c;
	uint8_t		 junk[5] = { 'h', 'e', 'l', 'l', 'o' };

	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	ok(in_frame(T_PING, F_SYN, 0, 7, NULL, 0) == 0, "ping taken");
	parse_out();
	ok(out_ok && nout == 1 && is_frame(0, T_PING, F_ACK, 0, 7),
	    "ping 7 answered by ping ACK 7");
	clear_out();
	in_frame(T_PING, F_ACK, 0, 12345, NULL, 0);
	parse_out();
	ok(nout == 0 && stub_conn() == c, "an unasked ping ACK: ignored");

	/* a data frame for no stream is skipped, and parsing goes on */
	in_data(0, 7, junk, sizeof(junk));
	in_frame(T_PING, F_SYN, 0, 0xfffffffe, NULL, 0);
	parse_out();
	ok(nout == 1 && is_frame(0, T_PING, F_ACK, 0, 0xfffffffe),
	    "data for no stream skipped");
	clear_out();

	/* keepalive: our ping after 30 s idle (randomness is all zeros) */
	stub_now += 29;
	yamux_keepalive(c, stub_now);
	parse_out();
	ok(nout == 0, "no ping before 30 s");
	stub_now += 1;
	yamux_keepalive(c, stub_now);
	parse_out();
	ok(nout == 1 && is_frame(0, T_PING, F_SYN, 0, 1),
	    "keepalive ping after 30 s");
	clear_out();
	in_frame(T_PING, F_ACK, 0, 1, NULL, 0);
	ok(c->mux.ping_out == 0, "its ACK is taken");
	c->last_io = stub_now - 30;
	yamux_keepalive(c, stub_now);
	c->last_io = stub_now - 60;
	yamux_keepalive(c, stub_now);
	ok(stub_conn() == NULL && strstr(stub_close_reason, "keepalive"),
	    "no answer in 60 s: closed");
	stub_reset();
}

/* Send a frame that must close the connection with a protocol error. */
static void
fatal_frame(enum conn_dir dir, int type, int flags, uint32_t id,
    uint32_t len, int ver, const char *why)
{
	uint8_t	 buf[12];
	int	 r;

	stub_reset();
	stub_conn_open(dir);
	in_frame(T_WINDOW, F_SYN, dir == CONN_INBOUND ? 1 : 2, 0, NULL, 0);
	clear_out();
	hdr(buf, type, flags, id, len);
	buf[0] = ver;
	r = yamux_input(stub_conn(), buf, sizeof(buf));
	parse_out();
	ok(r == -1 && stub_conn() == NULL && counters.protocol_errors == 1 &&
	    nout >= 1 && is_frame(nout - 1, T_GOAWAY, 0, 0, 1),
	    "%s: go away (protocol error), closed", why);
	stub_reset();
}

static void
test_violations(void)
{
	struct conn	*c;

	fatal_frame(CONN_INBOUND, T_DATA, 0, 1, 256 * 1024 + 1, 0,
	    "data beyond the 256 KiB window");
	fatal_frame(CONN_INBOUND, T_WINDOW, F_SYN, 2, 0, 0,
	    "inbound, even stream ID from the remote");
	fatal_frame(CONN_OUTBOUND, T_WINDOW, F_SYN, 3, 0, 0,
	    "outbound, odd stream ID from the remote");
	fatal_frame(CONN_INBOUND, T_DATA, F_SYN, 4, 0, 0,
	    "SYN of the wrong parity on a data frame");
	fatal_frame(CONN_INBOUND, T_WINDOW, F_SYN, 0, 0, 0,
	    "SYN for stream 0");
	fatal_frame(CONN_INBOUND, T_WINDOW, F_SYN, 1, 0, 0,
	    "SYN for an open stream");
	fatal_frame(CONN_INBOUND, T_WINDOW, 0, 1, 0xffffffff, 0,
	    "window overflow");
	fatal_frame(CONN_INBOUND, T_WINDOW, 0, 1, 0, 1, "version 1");
	fatal_frame(CONN_INBOUND, 4, 0, 1, 0, 0, "frame type 4");
	fatal_frame(CONN_INBOUND, T_DATA, 0, 9, 16 * 1024 * 1024 + 1, 0,
	    "16 MiB data for no stream");

	/* exactly the window: taken */
	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	in_frame(T_WINDOW, F_SYN, 1, 0, NULL, 0);
	ok(in_frame(T_DATA, 0, 1, 256 * 1024, NULL, 0) == 0 &&
	    stub_conn() == c && c->mux.body_left == 256 * 1024,
	    "data of exactly the window: taken");
	/* outbound, the remote's even IDs are fine */
	stub_reset();
	c = stub_conn_open(CONN_OUTBOUND);
	in_frame(T_WINDOW, F_SYN, 2, 0, NULL, 0);
	parse_out();
	ok(stub_conn() == c && is_frame(0, T_WINDOW, F_ACK, 2, 0),
	    "outbound: SYN for stream 2 ACKed");
	stub_reset();
}

static void
test_limits(void)
{
	struct conn	*c;

	stub_reset();
	stub_max_streams = 2;
	c = stub_conn_open(CONN_INBOUND);
	in_frame(T_WINDOW, F_SYN, 1, 0, NULL, 0);
	in_frame(T_WINDOW, F_SYN, 3, 0, NULL, 0);
	in_frame(T_WINDOW, F_SYN, 5, 0, NULL, 0);
	in_data(0, 5, MSH, strlen(MSH));	/* skipped */
	parse_out();
	ok(out_ok && is_frame(0, T_WINDOW, F_ACK, 1, 0) &&
	    is_frame(2, T_WINDOW, F_ACK, 3, 0), "two streams ACKed");
	ok(nout == 5 && is_frame(4, T_WINDOW, F_RST, 5, 0),
	    "the third refused with RST");
	ok(c->mux.nstreams == 2 && stream_lookup(c, 5) == NULL &&
	    counters.streams_refused == 1 && stub_conn() == c,
	    "refused, counted, connection open");
	clear_out();
	ok(yamux_open(c, "/ipfs/ping/1.0.0") == NULL,
	    "our own streams count too");
	in_frame(T_WINDOW, F_RST, 1, 0, NULL, 0);
	in_frame(T_WINDOW, F_SYN, 7, 0, NULL, 0);
	parse_out();
	ok(is_frame(0, T_WINDOW, F_ACK, 7, 0), "room again after a RST");
	stub_reset();
}

static void
test_window(void)
{
	static uint8_t	 block[16384], echo[9 * 16384];
	struct conn	*c;
	struct stream	*s;
	uint32_t	 want;
	size_t		 i, sw, left;
	int		 n;

	for (i = 0; i < sizeof(block); i++)
		block[i] = i * 7;
	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	open_ping(1);
	clear_out();
	for (i = 0; i < 7; i++)
		in_data(0, 1, block, sizeof(block));
	parse_out();
	ok(count_frames(T_WINDOW, 0, 1) == 0,
	    "no window update before half the window is used");
	ok(data_of(1, echo, sizeof(echo)) == 7 * sizeof(block),
	    "112 KiB echoed");
	s = stream_lookup(c, 1);
	ok(s != NULL && s->recv_window == 256 * 1024 - strlen(MSH) -
	    strlen(MSPING) - 7 * 16384, "receive window down by what came");
	clear_out();
	in_data(0, 1, block, sizeof(block));
	parse_out();
	/* the header and proposal were consumed too */
	want = strlen(MSH) + strlen(MSPING) + 8 * sizeof(block);
	ok(count_frames(T_WINDOW, 0, 1) == 1, "one window update at half");
	for (n = 0; n < nout; n++)
		if (out[n].type == T_WINDOW && out[n].id == 1)
			break;
	ok(n < nout && out[n].len == want,
	    "it grants back all that was consumed (%u)", want);
	s = stream_lookup(c, 1);
	ok(s != NULL && s->recv_window == 256 * 1024,
	    "receive window whole again");
	clear_out();

	/*
	 * our send window: 256 KiB in all, echoed in whole 32-byte pings,
	 * then the rest waits unread
	 */
	sw = 256 * 1024 - strlen(MSH) - strlen(MSPING) - 8 * sizeof(block);
	left = sw % 32;
	sw -= left;
	for (i = 0; i < 9; i++)
		in_data(0, 1, block, sizeof(block));
	parse_out();
	ok(data_of(1, echo, sizeof(echo)) == sw,
	    "echo stops at our send window, in whole pings (%zu)", sw);
	s = stream_lookup(c, 1);
	ok(s != NULL && s->send_window == left && s->out.len == 0 &&
	    s->in.len == 9 * sizeof(block) - sw,
	    "the rest waits unread, not as echoes (in %zu, out %zu)",
	    s == NULL ? 0 : s->in.len, s == NULL ? 0 : s->out.len);
	clear_out();
	in_frame(T_WINDOW, 0, 1, 10000, NULL, 0);
	parse_out();
	n = data_of(1, echo, sizeof(echo));
	want = (left + 10000) / 32 * 32;
	for (i = 0; i < want; i++)
		if (echo[i] != block[(sw + i) % sizeof(block)])
			break;
	ok(n == (int)want && i == want,
	    "a window update of 10000 lets the next %u go (%d)", want, n);
	clear_out();
	stub_reset();
}

/*
 * A peer that sends pings and never reads the echoes: once our send
 * window is used up, the echo stops reading, no window update is sent,
 * and the peer cannot send more than its window without breaking the
 * protocol.  Nothing waits as output.
 */
static void
test_ping_flood(void)
{
	static uint8_t	 block[16384];
	struct conn	*c;
	struct stream	*s;
	size_t		 most_in = 0, most_out = 0, sent = 0;
	int		 i, updates = 0;

	memset(block, 0x5a, sizeof(block));
	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	open_ping(1);
	for (i = 0; i < 64 && (s = stream_lookup(c, 1)) != NULL &&
	    s->recv_window >= sizeof(block); i++) {
		clear_out();
		in_data(0, 1, block, sizeof(block));
		sent += sizeof(block);
		parse_out();
		updates += count_frames(T_WINDOW, 0, 1);
		if ((s = stream_lookup(c, 1)) != NULL) {
			if (s->in.len > most_in)
				most_in = s->in.len;
			if (s->out.len > most_out)
				most_out = s->out.len;
		}
	}
	s = stream_lookup(c, 1);
	ok(s != NULL && s->send_window < 32 && s->recv_window < sizeof(block),
	    "pings never read: both windows closed after %zu KiB sent",
	    sent >> 10);
	ok(sent <= 2 * YAMUX_WINDOW && updates <= 2,
	    "the peer could send at most our send window plus its own "
	    "(%zu KiB, %d window updates)", sent >> 10, updates);
	ok(most_out == 0 && most_in <= YAMUX_WINDOW,
	    "no echo waits as output (%zu), the input stays within the "
	    "window (%zu)", most_out, most_in);
	ok(c->mem.held <= YAMUX_WINDOW && c->mem.held == mem_total.held,
	    "the connection's budget counts what it holds (%zu KiB, engine "
	    "%zu KiB)", c->mem.held >> 10, mem_total.held >> 10);
	clear_out();
	in_data(0, 1, block, sizeof(block));
	ok(stub_conn() == NULL || stub_closed > 0,
	    "data beyond the window closes the connection");
	ok(mem_total.held == 0, "and its memory is given back (%zu)",
	    mem_total.held);
	stub_reset();
}

/*
 * The connection's budget: data that would put it over resets the stream
 * it is for, and the others carry on.
 */
static void
test_conn_budget(void)
{
	static uint8_t	 block[16384], echo[1024 * 1024];
	struct conn	*c;
	uint32_t	 id, reset = 0;
	int		 i;

	memset(block, 0x33, sizeof(block));
	stub_reset();
	stub_conn_buffer = 128 * 1024;
	c = stub_conn_open(CONN_INBOUND);
	open_ping(1);
	open_ping(3);
	stub_congested = 1;		/* no echo can go out: input waits */
	for (i = 0; i < 32 && reset == 0; i++) {
		id = i % 2 ? 3 : 1;
		clear_out();
		in_data(0, id, block, sizeof(block));
		parse_out();
		if (count_frames(T_WINDOW, F_RST, id) == 1)
			reset = id;
	}
	ok(reset != 0 && stream_lookup(c, reset) == NULL &&
	    counters.mem_streams_reset == 1,
	    "data over the connection's budget of 128 KiB resets its stream "
	    "(stream %u, after %d KiB)", reset, i * 16);
	ok(stream_lookup(c, reset == 1 ? 3 : 1) != NULL && stub_conn() == c,
	    "the other stream and the connection stay");
	ok(c->mem.held <= stub_conn_buffer, "the connection holds %zu KiB",
	    c->mem.held >> 10);
	stub_congested = 0;
	clear_out();
	yamux_send_pending(c);
	parse_out();
	ok(data_of(reset == 1 ? 3 : 1, echo, sizeof(echo)) > 0,
	    "and its pings are echoed once the output has room");
	stub_reset();
	ok(mem_total.held == 0, "all given back when the connection goes "
	    "(%zu)", mem_total.held);
}

/*
 * The engine's budget: while it is over, window updates are held back;
 * once under, they go.
 */
static void
test_window_held(void)
{
	static uint8_t	 block[16384], echo[1024 * 1024];
	struct conn	*c;
	size_t		 other = 40 * 1024 * 1024;
	int		 i;

	memset(block, 0x44, sizeof(block));
	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	open_ping(1);
	stub_congested = 1;		/* the input waits */
	for (i = 0; i < 10; i++)
		in_data(0, 1, block, sizeof(block));
	mem_total.held += other;	/* what other connections hold */
	stub_congested = 0;
	clear_out();
	yamux_send_pending(c);
	parse_out();
	ok(data_of(1, echo, sizeof(echo)) == 10 * sizeof(block),
	    "what waited is echoed");
	ok(count_frames(T_WINDOW, 0, 1) == 0 && counters.mem_windows_held == 1,
	    "the engine over its budget: no window update (%d), counted %llu",
	    count_frames(T_WINDOW, 0, 1),
	    (unsigned long long)counters.mem_windows_held);
	clear_out();
	yamux_regrant(c);
	parse_out();
	ok(count_frames(T_WINDOW, 0, 1) == 0, "still over: still held");
	mem_total.held -= other;
	clear_out();
	yamux_regrant(c);
	parse_out();
	ok(count_frames(T_WINDOW, 0, 1) == 1,
	    "under again: the update goes out");
	stub_reset();
}

static void
test_goaway(void)
{
	struct conn	*c;

	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	open_ping(1);
	clear_out();
	ok(in_frame(T_GOAWAY, 0, 0, 0, NULL, 0) == 0 && c->mux.goaway,
	    "go away marks the session");
	ok(c->state == CS_OPEN, "open while a stream is");
	in_frame(T_WINDOW, F_SYN, 3, 0, NULL, 0);
	parse_out();
	ok(nout == 1 && is_frame(0, T_WINDOW, F_RST, 3, 0),
	    "new streams refused after go away");
	ok(yamux_open(c, "/ipfs/id/1.0.0") == NULL, "and none of ours");
	clear_out();
	in_frame(T_WINDOW, F_FIN, 1, 0, NULL, 0);
	ok(c->mux.nstreams == 0 && c->state == CS_CLOSING,
	    "the last stream gone: closing");

	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	in_frame(T_GOAWAY, 0, 0, 2, NULL, 0);
	ok(c->state == CS_CLOSING, "go away with no streams: closing");
	stub_reset();
}

/* Walk a protobuf message of length-delimited fields for field f. */
static int
pb_has(const uint8_t *p, size_t len, int f, const void *val, size_t vlen)
{
	size_t	 off = 0, l;
	int	 tag;

	while (off < len) {
		tag = p[off++];
		if ((tag & 7) != 2 || off >= len || p[off] >= 0x80)
			return 0;	/* not what we write */
		l = p[off++];
		if (l > len - off)
			return 0;
		if (tag >> 3 == f && l == vlen && memcmp(p + off, val, l) == 0)
			return 1;
		off += l;
	}
	return 0;
}

static void
test_identify(void)
{
	static const uint8_t	 pubkey[] = {
		0x08, 0x01, 0x12, 0x20,
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
		0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
		0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
		0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
	};
	/* /ip4/192.0.2.7/tcp/4001 and /ip4/192.0.2.1/tcp/4001 */
	static const uint8_t	 observed[] = {
		0x04, 192, 0, 2, 7, 0x06, 0x0f, 0xa1,
	};
	static const uint8_t	 listen[] = {
		0x04, 192, 0, 2, 1, 0x06, 0x0f, 0xa1,
	};
	/* the remote's: agent, one protocol, one listen address */
	static const uint8_t	 theirs[] = {
		0x32, 0x08, 't', 'e', 's', 't', '/', '1', '.', '0',
		0x1a, 0x10, '/', 'i', 'p', 'f', 's', '/', 'p', 'i', 'n', 'g',
		'/', '1', '.', '0', '.', '0',
		0x12, 0x08, 0x04, 192, 0, 2, 7, 0x06, 0x0f, 0xa1,
	};
	uint8_t		 buf[8192], msg[128];
	struct conn	*c;
	size_t		 n, hl, mlen;

	/* inbound: we answer */
	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	in_frame(T_WINDOW, F_SYN, 1, 0, NULL, 0);
	in_str(1, MSH);
	clear_out();
	in_str(1, MSID);
	parse_out();
	n = data_of(1, buf, sizeof(buf));
	hl = strlen(MSID);
	ok(n > hl + 2 && memcmp(buf, MSID, hl) == 0, "identify: echoed");
	if (n < hl + 2)
		n = hl + 2;
	if (buf[hl] < 0x80) {
		mlen = buf[hl];
		hl += 1;
	} else {
		mlen = (buf[hl] & 0x7f) | (size_t)buf[hl + 1] << 7;
		hl += 2;
	}
	ok(mlen == n - hl, "identify: one length-prefixed message");
	ok(pb_has(buf + hl, n - hl, 1, pubkey, sizeof(pubkey)),
	    "identify: our public key");
	ok(pb_has(buf + hl, n - hl, 6, "peerd/0.1.0", 11) &&
	    pb_has(buf + hl, n - hl, 5, "ipfs/0.1.0", 10),
	    "identify: agent and protocol version");
	ok(pb_has(buf + hl, n - hl, 3, "/ipfs/ping/1.0.0", 16) &&
	    pb_has(buf + hl, n - hl, 3, "/ipfs/id/1.0.0", 14),
	    "identify: protocols");
	ok(pb_has(buf + hl, n - hl, 4, observed, sizeof(observed)),
	    "identify: the observed address");
	ok(pb_has(buf + hl, n - hl, 2, listen, sizeof(listen)),
	    "identify: a listen address");
	ok(pb_has(buf + hl, n - hl, 8, "a signed peer record", 20),
	    "identify: our signed peer record");
	ok(nout > 0 && is_frame(nout - 1, T_WINDOW, F_FIN, 1, 0),
	    "identify: then FIN");
	clear_out();
	in_frame(T_WINDOW, F_FIN, 1, 0, NULL, 0);
	ok(stream_lookup(c, 1) == NULL, "identify: freed on the remote FIN");

	/* outbound: we ask */
	stub_reset();
	c = stub_conn_open(CONN_OUTBOUND);
	identify_start(c);
	parse_out();
	ok(is_frame(0, T_WINDOW, F_SYN, 1, 0), "identify_start: SYN, odd ID");
	memcpy(buf, MSH, strlen(MSH));
	memcpy(buf + strlen(MSH), MSID, strlen(MSID));
	ok(data_is(1, buf, strlen(MSH) + strlen(MSID)),
	    "identify_start: header and proposal");
	clear_out();
	in_frame(T_WINDOW, F_ACK, 1, 0, NULL, 0);
	n = 0;
	memcpy(msg, MSH, strlen(MSH));
	n += strlen(MSH);
	memcpy(msg + n, MSID, strlen(MSID));
	n += strlen(MSID);
	msg[n++] = sizeof(theirs);
	memcpy(msg + n, theirs, sizeof(theirs));
	n += sizeof(theirs);
	in_data(0, 1, msg, n - 10);
	ok(c->info == NULL, "identify: nothing kept from half a message");
	in_data(0, 1, msg + n - 10, 10);
	ok(c->info != NULL && c->info->agent != NULL &&
	    strcmp(c->info->agent, "test/1.0") == 0, "identify: agent kept");
	ok(c->info != NULL && c->info->protocols_len == 17 &&
	    memcmp(c->info->protocols, "/ipfs/ping/1.0.0", 17) == 0,
	    "identify: protocols kept");
	ok(c->info != NULL && c->info->addrs_len == 10 &&
	    c->info->addrs[0] == 0 && c->info->addrs[1] == 8 &&
	    memcmp(c->info->addrs + 2, observed, 8) == 0,
	    "identify: listen address kept");
	parse_out();
	ok(nout == 1 && is_frame(0, T_WINDOW, F_FIN, 1, 0),
	    "identify: we close after reading");
	clear_out();
	in_frame(T_WINDOW, F_FIN, 1, 0, NULL, 0);
	ok(stream_lookup(c, 1) == NULL && c->mux.nstreams == 0,
	    "identify: freed");
	stub_reset();
}

static void
test_ping_out(void)
{
	uint8_t		 buf[128], zero[32], bad[32];
	struct conn	*c;
	size_t		 n;

	memset(zero, 0, sizeof(zero));
	memset(bad, 0xff, sizeof(bad));
	stub_reset();
	c = stub_conn_open(CONN_OUTBOUND);
	ping_start(c, 42, 1);
	parse_out();
	memcpy(buf, MSH, strlen(MSH));
	memcpy(buf + strlen(MSH), MSPING, strlen(MSPING));
	ok(is_frame(0, T_WINDOW, F_SYN, 1, 0) &&
	    data_is(1, buf, strlen(MSH) + strlen(MSPING)),
	    "ping_start: SYN, header, proposal");
	clear_out();
	in_frame(T_WINDOW, F_ACK, 1, 0, NULL, 0);
	n = strlen(MSH) + strlen(MSPING);
	in_data(0, 1, buf, n);
	parse_out();
	ok(data_is(1, zero, 32), "agreed: a 32-byte ping goes out");
	ok(stub_timers() == 1, "with its timer");
	clear_out();
	in_data(0, 1, zero, 16);
	ok(stub_ping_replies == 0, "half an answer: nothing yet");
	in_data(0, 1, zero, 16);
	ok(stub_ping_replies == 1 && stub_ping_done == 1 &&
	    stub_ping_err[0] == '\0', "the answer: one reply, done");
	parse_out();
	ok(nout == 1 && is_frame(0, T_WINDOW, F_FIN, 1, 0),
	    "then FIN");
	in_frame(T_WINDOW, F_FIN, 1, 0, NULL, 0);
	ok(stream_lookup(c, 1) == NULL && stub_ping_done == 1,
	    "freed, done reported once");

	/* two pings: the timer sends the second */
	stub_reset();
	c = stub_conn_open(CONN_OUTBOUND);
	ping_start(c, 43, 2);
	in_frame(T_WINDOW, F_ACK, 1, 0, NULL, 0);
	in_data(0, 1, buf, n);
	in_data(0, 1, zero, 32);
	clear_out();
	ok(stub_ping_replies == 1 && stub_ping_done == 0 &&
	    stub_timers() == 1, "first answer: waiting a second");
	stub_fire_timer(0);
	parse_out();
	ok(data_is(1, zero, 32), "the timer sends the second ping");
	clear_out();
	in_data(0, 1, bad, 32);
	parse_out();
	ok(stub_ping_done == 1 && strstr(stub_ping_err, "does not match") &&
	    is_frame(0, T_WINDOW, F_RST, 1, 0) && stream_lookup(c, 1) == NULL,
	    "a wrong answer: error, RST");
	ok(stub_timers() == 0, "no timer left");

	/* the peer does not speak ping */
	stub_reset();
	c = stub_conn_open(CONN_OUTBOUND);
	ping_start(c, 44, 1);
	in_frame(T_WINDOW, F_ACK, 1, 0, NULL, 0);
	in_str(1, MSH);
	in_str(1, MSNA);
	ok(stub_ping_done == 1 && strstr(stub_ping_err, "does not speak") &&
	    stream_lookup(c, 1) == NULL, "na: error, stream gone");
	stub_reset();
}

static void
test_timeouts(void)
{
	struct conn	*c;
	uint8_t		 buf[12];

	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	in_frame(T_WINDOW, F_SYN, 1, 0, NULL, 0);
	open_ping(3);
	clear_out();
	stub_now += 9;
	yamux_keepalive(c, stub_now);
	parse_out();
	ok(nout == 0, "no agreement for 9 s: still there");
	stub_now += 1;
	c->last_io = stub_now;
	yamux_keepalive(c, stub_now);
	parse_out();
	ok(nout == 1 && is_frame(0, T_WINDOW, F_RST, 1, 0) &&
	    stream_lookup(c, 1) == NULL && stream_lookup(c, 3) != NULL,
	    "after 10 s: RST, the agreed stream stays");
	clear_out();

	/*
	 * A data frame half in when its stream is reset between two reads:
	 * the rest of the body must be skipped, not given to freed memory.
	 */
	in_frame(T_WINDOW, F_SYN, 5, 0, NULL, 0);
	hdr(buf, T_DATA, 0, 5, 30);
	yamux_input(c, buf, sizeof(buf));
	yamux_input(c, (const uint8_t *)MSH, 10);
	stub_now += 10;
	c->last_io = stub_now;
	yamux_keepalive(c, stub_now);
	ok(stream_lookup(c, 5) == NULL, "half-agreed stream reset");
	if (ok(c->mux.body_stream == NULL, "the body in progress is let go")) {
		clear_out();
		yamux_input(c, (const uint8_t *)MSH + 10, 10);
		yamux_input(c, (const uint8_t *)"0123456789", 10);
		in_frame(T_PING, F_SYN, 0, 9, NULL, 0);
		parse_out();
		ok(nout == 1 && is_frame(0, T_PING, F_ACK, 0, 9),
		    "the rest is skipped, the next frame parsed");
	} else
		ok(0, "the rest is skipped (not tried: use after free)");

	/* the same with our ping's timer resetting the stream */
	stub_reset();
	c = stub_conn_open(CONN_OUTBOUND);
	ping_start(c, 45, 1);
	in_frame(T_WINDOW, F_ACK, 1, 0, NULL, 0);
	in_str(1, MSH);
	in_str(1, MSPING);
	hdr(buf, T_DATA, 0, 1, 32);
	yamux_input(c, buf, sizeof(buf));
	yamux_input(c, (const uint8_t *)"0123456789", 10);
	stub_fire_timer(0);
	ok(stream_lookup(c, 1) == NULL && strstr(stub_ping_err, "no answer"),
	    "ping timeout resets its stream");
	ok(c->mux.body_stream == NULL,
	    "the body in progress is let go (ping timer)");
	stub_reset();
}

/* What the engine wrote, data frames of a stream put together. */
struct summary {
	int		 types[16];
	int		 flags[16];
	int		 n;
	uint8_t		 data[256];
	size_t		 datalen;
};

static void
summarize(struct summary *sum)
{
	int	 i;

	parse_out();
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < nout && sum->n < 16; i++) {
		if (out[i].type == T_DATA)
			continue;
		sum->types[sum->n] = out[i].type;
		sum->flags[sum->n++] = out[i].flags;
	}
	sum->datalen = data_of(1, sum->data, sizeof(sum->data));
}

/* The same conversation fed whole, then cut everywhere. */
static void
test_split(void)
{
	static uint8_t	 conv[512], want[256];
	struct summary	 whole, cut;
	struct conn	*c;
	size_t		 n = 0, wl = 0, i, k;
	uint8_t		 ping[64];
	int		 same = 1, done = 1;

	for (i = 0; i < sizeof(ping); i++)
		ping[i] = i;
	n += hdr(conv + n, T_WINDOW, F_SYN, 1, 0);
	n += hdr(conv + n, T_DATA, 0, 1, strlen(MSH) + strlen(MSPING));
	memcpy(conv + n, MSH, strlen(MSH));
	n += strlen(MSH);
	memcpy(conv + n, MSPING, strlen(MSPING));
	n += strlen(MSPING);
	n += hdr(conv + n, T_PING, F_SYN, 0, 3);
	n += hdr(conv + n, T_DATA, F_FIN, 1, sizeof(ping));
	memcpy(conv + n, ping, sizeof(ping));
	n += sizeof(ping);

	stub_reset();
	c = stub_conn_open(CONN_INBOUND);
	yamux_input(c, conv, n);
	parse_out();
	ok(out_ok && nout == 6 && is_frame(0, T_WINDOW, F_ACK, 1, 0) &&
	    is_frame(1, T_DATA, 0, 1, strlen(MSH)) &&
	    is_frame(2, T_DATA, 0, 1, strlen(MSPING)) &&
	    is_frame(3, T_PING, F_ACK, 0, 3) &&
	    is_frame(4, T_DATA, 0, 1, sizeof(ping)) &&
	    is_frame(5, T_WINDOW, F_FIN, 1, 0),
	    "whole: ACK, header, echo, ping ACK, ping echo, FIN");
	memcpy(want, MSH, strlen(MSH));
	wl += strlen(MSH);
	memcpy(want + wl, MSPING, strlen(MSPING));
	wl += strlen(MSPING);
	memcpy(want + wl, ping, sizeof(ping));
	wl += sizeof(ping);
	ok(data_is(1, want, wl), "whole: header, echo, ping echoed");
	ok(stream_lookup(c, 1) == NULL, "whole: stream done");
	summarize(&whole);

	/* every piece size from 1 to 13 bytes */
	for (k = 1; k <= 13; k++) {
		stub_reset();
		c = stub_conn_open(CONN_INBOUND);
		for (i = 0; i < n; i += k)
			yamux_input(c, conv + i, n - i < k ? n - i : k);
		summarize(&cut);
		if (cut.n != whole.n || memcmp(cut.types, whole.types,
		    sizeof(cut.types)) != 0 || memcmp(cut.flags, whole.flags,
		    sizeof(cut.flags)) != 0 || cut.datalen != whole.datalen ||
		    memcmp(cut.data, whole.data, cut.datalen) != 0)
			same = 0;
		if (stream_lookup(c, 1) != NULL)
			done = 0;
	}
	ok(same, "cut in pieces of 1 to 13 bytes: the same answer");
	ok(done, "cut in pieces: the stream is done");
	stub_reset();
}

static void
test_ms_decode(void)
{
	uint8_t	 buf[1100];
	char	 line[MS_MAXMSG + 1];
	size_t	 used;

	used = 0;
	ok(ms_decode((const uint8_t *)MSH, 20, line, sizeof(line), &used) ==
	    1 && used == 20 && strcmp(line, "/multistream/1.0.0") == 0,
	    "ms: \\x13/multistream/1.0.0\\n");
	ok(ms_decode((const uint8_t *)MSH, 19, line, sizeof(line), &used) ==
	    0, "ms: one byte short: more needed");
	ok(ms_decode((const uint8_t *)MSH, 1, line, sizeof(line), &used) ==
	    0, "ms: the length alone: more needed");
	ok(ms_decode((const uint8_t *)MSH, 0, line, sizeof(line), &used) ==
	    0, "ms: nothing: more needed");

	/* 1024 bytes, newline included: the most there may be */
	buf[0] = 0x80;
	buf[1] = 0x08;
	memset(buf + 2, 'a', 1023);
	buf[2 + 1023] = '\n';
	ok(ms_decode(buf, 1026, line, sizeof(line), &used) == 1 &&
	    used == 1026 && strlen(line) == 1023, "ms: 1024 bytes");
	/* 1025: too long, said as soon as the length is known */
	buf[0] = 0x81;
	buf[1] = 0x08;
	memset(buf + 2, 'a', 1024);
	buf[2 + 1024] = '\n';
	ok(ms_decode(buf, 1027, line, sizeof(line), &used) == -1,
	    "ms: 1025 bytes: too long");
	ok(ms_decode(buf, 2, line, sizeof(line), &used) == -1,
	    "ms: 1025 bytes: refused from the length");
	/* split varint */
	ok(ms_decode(buf, 1, line, sizeof(line), &used) == 0,
	    "ms: split varint: more needed");
	buf[0] = 0x80;
	buf[1] = 0x08;
	ok(ms_decode(buf, 500, line, sizeof(line), &used) == 0,
	    "ms: two-byte length, half the message: more needed");

	ok(ms_decode((const uint8_t *)"\x05" "abcde", 6, line, sizeof(line),
	    &used) == -1, "ms: missing newline");
	ok(ms_decode((const uint8_t *)"\x04" "a\0b\n", 5, line, sizeof(line),
	    &used) == -1, "ms: NUL inside");
	ok(ms_decode((const uint8_t *)"\x00", 1, line, sizeof(line),
	    &used) == -1, "ms: length 0");
	ok(ms_decode((const uint8_t *)"\x83\x00" "ab\n", 5, line,
	    sizeof(line), &used) == -1, "ms: length not minimally encoded");
	ok(ms_decode((const uint8_t *)MSH, 20, line, 18, &used) == -1,
	    "ms: no room for the line");
	ok(ms_encode("/multistream/1.0.0", buf, sizeof(buf)) == 20 &&
	    memcmp(buf, MSH, 20) == 0, "ms: encode the header");
	memset(line, 'a', 1024);
	line[1024] = '\0';
	ok(ms_encode(line, buf, sizeof(buf)) == 0, "ms: encode 1025: refused");
}

int
main(void)
{
	stub_init();
	test_syn_ack();
	test_negotiation();
	test_ping_frame();
	test_violations();
	test_limits();
	test_window();
	test_ping_flood();
	test_conn_budget();
	test_window_held();
	test_goaway();
	test_identify();
	test_ping_out();
	test_timeouts();
	test_split();
	test_ms_decode();
	stub_reset();
	return tap_done();
}
