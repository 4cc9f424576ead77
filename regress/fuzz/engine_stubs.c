/*
 * The engine around yamux.c, stream.c, proto_ping.c and
 * proto_identify.c, reduced to what they call: see engine_stubs.h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event.h>
#include <sodium.h>

#include "circuit.h"
#include "engine.h"
#include "engine_stubs.h"
#include "log.h"
#include "multiaddr.h"

#define STUB_MAXTIMERS	64

/* RFC 8032, test 1: a public key for identify to carry. */
static const uint8_t	 stub_pubkey[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
	0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
	0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

/* Not a signed envelope: identify carries it as it is. */
static uint8_t		 stub_record[] = "a signed peer record";

struct connlist		 conns = TAILQ_HEAD_INITIALIZER(conns);
struct engine_counters	 counters;
struct conn_limits	 conn_limits;
struct bq_acct		 mem_total;
struct engine_identity	 ident;

time_t			 stub_now = 1000;
int			 stub_congested;
int			 stub_max_streams = 16;
size_t			 stub_out_max = CONN_MAX_OUT;
size_t			 stub_stream_buffer = 256 * 1024;
size_t			 stub_conn_buffer = 4 * 1024 * 1024;
size_t			 stub_total_buffer = 32 * 1024 * 1024;
struct bq		 stub_out;
int			 stub_closed;
char			 stub_close_reason[256];
int			 stub_ping_replies;
int			 stub_ping_done;
char			 stub_ping_err[256];

static struct conn	*cur;
static uint32_t		 next_id = 1;
static struct event_base *base;
static struct multiaddr	 listen_ma;

/* Deterministic randomness: ping payloads and keepalive values. */
static const char *
zero_name(void)
{
	return "zero";
}

static uint32_t
zero_random(void)
{
	return 0;
}

static void
zero_stir(void)
{
}

static void
zero_buf(void * const buf, const size_t len)
{
	memset(buf, 0, len);
}

static int
zero_close(void)
{
	return 0;
}

static randombytes_implementation zero_rng = {
	.implementation_name = zero_name,
	.random = zero_random,
	.stir = zero_stir,
	.uniform = NULL,
	.buf = zero_buf,
	.close = zero_close,
};

void
stub_init(void)
{
	static const struct proto *const protocols[] = {
		&proto_identify, &proto_identify_push, &proto_ping,
		&proto_hop, &proto_stop, NULL
	};
	char	 err[128];

	if (base != NULL)
		return;
	stream_init(protocols);
	randombytes_set_implementation(&zero_rng);
	if (sodium_init() == -1)
		abort();
	log_init(1, LOG_DAEMON);
	if ((base = event_init()) == NULL)
		abort();
	if (maddr_parse("/ip4/192.0.2.1/tcp/4001", &listen_ma, err,
	    sizeof(err)) == -1 ||
	    maddr_parse("/dns4/peer.example/tcp/4001", &ident.announce[0],
	    err, sizeof(err)) == -1)
		abort();
	memcpy(ident.pubkey, stub_pubkey, sizeof(ident.pubkey));
	ident.record = stub_record;
	ident.recordlen = sizeof(stub_record) - 1;
	ident.nannounce = 1;
	ident.ready = 1;
}

struct conn *
stub_conn_open(enum conn_dir dir)
{
	struct sockaddr_in	*sin;
	struct conn		*c;

	stub_init();
	if (cur != NULL)
		conn_close(cur, "replaced");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->id = next_id++;
	c->fd = -1;
	c->dir = dir;
	c->events = -1;
	sin = (struct sockaddr_in *)&c->ss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(4001);
	inet_pton(AF_INET, "192.0.2.7", &sin->sin_addr);
	sin = (struct sockaddr_in *)&c->lss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(4001);
	inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
	c->have_peer = 1;
	c->started = c->last_io = stub_now;
	c->state = CS_OPEN;
	c->mem.up = &mem_total;
	conn_limits.max_streams = stub_max_streams;
	conn_limits.stream_buffer = stub_stream_buffer;
	conn_limits.conn_buffer = stub_conn_buffer;
	conn_limits.total_buffer = stub_total_buffer;
	yamux_init(c);
	cur = c;
	return c;
}

struct conn *
stub_conn(void)
{
	return cur;
}

void
stub_reset(void)
{
	if (cur != NULL)
		conn_close(cur, "reset");
	bq_free(&stub_out);
	stub_now = 1000;
	stub_congested = 0;
	stub_max_streams = 16;
	stub_out_max = CONN_MAX_OUT;
	stub_stream_buffer = 256 * 1024;
	stub_conn_buffer = 4 * 1024 * 1024;
	stub_total_buffer = 32 * 1024 * 1024;
	stub_closed = 0;
	stub_close_reason[0] = '\0';
	stub_ping_replies = 0;
	stub_ping_done = 0;
	stub_ping_err[0] = '\0';
	memset(&counters, 0, sizeof(counters));
}

void
stub_drain(void)
{
	int	 was = cur != NULL && conn_congested(cur);

	bq_free(&stub_out);
	if (cur != NULL && was && !conn_congested(cur) &&
	    cur->state == CS_OPEN)
		yamux_send_pending(cur);
}

struct timers {
	struct event	*ev[STUB_MAXTIMERS];
	int		 n;
};

static int
collect(const struct event_base *b, const struct event *ev, void *arg)
{
	struct timers	*t = arg;

	if (t->n < STUB_MAXTIMERS && event_pending(ev, EV_TIMEOUT, NULL))
		t->ev[t->n++] = (struct event *)(uintptr_t)ev;
	return 0;
}

int
stub_timers(void)
{
	struct timers	 t;

	t.n = 0;
	if (base != NULL)
		event_base_foreach_event(base, collect, &t);
	return t.n;
}

int
stub_fire_timer(unsigned int k)
{
	struct timers	 t;

	t.n = 0;
	if (base == NULL)
		return 0;
	event_base_foreach_event(base, collect, &t);
	if (t.n == 0)
		return 0;
	event_active(t.ev[k % t.n], EV_TIMEOUT, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 1;
}

/* conn.c */

time_t
mono_now(void)
{
	return stub_now;
}

struct conn *
conn_find(uint32_t id)
{
	return cur != NULL && cur->id == id ? cur : NULL;
}

void
conn_close(struct conn *c, const char *reason)
{
	strlcpy(stub_close_reason, reason, sizeof(stub_close_reason));
	stub_closed++;
	yamux_free(c);
	bq_free(&c->raw);
	bq_free(&c->out);
	bq_free(&c->mspt);
	peer_info_free(c->info);
	if (c == cur)
		cur = NULL;
	free(c);
}

void
conn_fail(struct conn *c, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	counters.protocol_errors++;
	conn_close(c, msg);
}

void
conn_abort(struct conn *c, const char *reason)
{
	conn_close(c, reason);
}

/* In clear, all or nothing, with conn.c's bound on the queue. */
int
conn_write(struct conn *c, const void *data, size_t len)
{
	return bq_append(&stub_out, data, len, stub_out_max + CONN_MAX_RAW);
}

void
conn_flush(struct conn *c)
{
	if (stub_out.len + NOISE_TAGLEN > stub_out_max + CONN_MAX_RAW)
		conn_fail(c, "output queue full");
}

int
conn_congested(const struct conn *c)
{
	return stub_congested || stub_out.len >= stub_out_max / 2;
}

int
conn_over_budget(const struct conn *c, size_t n)
{
	return c->mem.held + n > conn_limits.conn_buffer ||
	    mem_total.held + n > conn_limits.total_buffer;
}

/* listen.c */

size_t
listen_addrs(struct multiaddr *out, size_t max,
    const struct sockaddr_storage *local)
{
	if (max == 0)
		return 0;
	out[0] = listen_ma;
	return 1;
}

/*
 * relay.c, relay_client.c: not linked; the relay is off, as it is by
 * default, and we hold no reservations.
 */

static int
relay_off(void)
{
	return 0;
}

const struct proto proto_hop = {
	.name = CIRCUIT_HOP,
	.enabled = relay_off,
};

const struct proto proto_stop = {
	.name = CIRCUIT_STOP,
	.enabled = relay_off,
};

size_t
rclient_addrs(struct multiaddr *out, size_t max)
{
	return 0;
}

/* control.c: what ping answers its control client */

void
control_reply(uint32_t id, uint32_t type, const void *data, size_t len)
{
	if (type != IMSG_CTL_PING_REPLY || len != sizeof(struct ctl_ping))
		abort();
	stub_ping_replies++;
}

void
control_result(uint32_t id, int ok, const char *msg)
{
	stub_ping_done++;
	strlcpy(stub_ping_err, msg, sizeof(stub_ping_err));
}

void
control_end(uint32_t id)
{
	stub_ping_done++;
	stub_ping_err[0] = '\0';
}

/* known.c: what identify said goes nowhere here */

void
known_identified(const struct conn *c, const struct identify_msg *m)
{
}
