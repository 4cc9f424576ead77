/*
 * The engine's admission: the count-min sketch behind the rate per
 * source (no source over the limit is ever let through, however many
 * others come; how often an honest source is refused for a collision,
 * measured at the default width), the grouping of addresses into
 * sources, and the bookkeeping of handshakes per source that the early
 * drop uses.  Links the engine's library; connections are made on
 * socketpairs, never on the network.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>
#include <sodium.h>

#include "engine.h"
#include "tap.h"

#define MIN		60000		/* ms */
#define LIMIT		60		/* the default connectionsPerMinute */

static struct sketch	 sk;

/* The key of source i: 16 bytes, as sockaddr_group makes them. */
static void
source(uint32_t i, uint32_t salt, uint8_t key[16])
{
	memset(key, 0, 16);
	memcpy(key, &salt, sizeof(salt));
	memcpy(key + 12, &i, sizeof(i));
}

/* Sources over the limit stay refused however many others come after. */
static void
test_no_false_negative(void)
{
	uint8_t		 k[16];
	uint32_t	 i, j, admitted = 0, let_through = 0, lost = 0;
	int64_t		 now = 1000;

	sketch_init(&sk, MIN, now);
	for (i = 0; i < 1000; i++) {
		source(i, 1, k);
		for (j = 0; j < 2 * LIMIT; j++)
			admitted += sketch_add(&sk, k, 16, 1, LIMIT, now);
	}
	ok(admitted <= 1000 * LIMIT, "1,000 sources trying %d times each: "
	    "%u admitted, at most %d each", 2 * LIMIT, admitted, LIMIT);
	/* 200,000 others, one attempt each: an LRU of any size short of it
	 * would have forgotten the first */
	for (i = 0; i < 200000; i++) {
		source(i, 2, k);
		sketch_add(&sk, k, 16, 1, LIMIT, now + 1 + i / 10000);
	}
	now += 30000;
	for (i = 0; i < 1000; i++) {
		source(i, 1, k);
		let_through += sketch_add(&sk, k, 16, 1, LIMIT, now);
		if (sketch_estimate(&sk, k, 16, now) < 2 * LIMIT * 1000)
			lost++;
	}
	ok(let_through == 0, "after 200,000 other sources, the 1,000 over "
	    "the limit are all still refused: %u let through", let_through);
	ok(lost == 0, "no estimate fell below the true count: %u did", lost);
}

/* The previous minute counts for what is left of it, then not at all. */
static void
test_decay(void)
{
	uint8_t		 k[16];
	uint64_t	 e1, e2, e3;
	int		 i, in;

	source(7, 3, k);
	sketch_init(&sk, MIN, 0);
	for (i = 0; i < 2 * LIMIT; i++)
		sketch_add(&sk, k, 16, 1, LIMIT, 50000);
	e1 = sketch_estimate(&sk, k, 16, 59999);
	e2 = sketch_estimate(&sk, k, 16, 90000);	/* half the window */
	ok(e1 == 2 * LIMIT * 1000 && e2 == LIMIT * 1000,
	    "%d attempts: %llu thousandths within the minute, %llu half a "
	    "minute into the next", 2 * LIMIT, (unsigned long long)e1,
	    (unsigned long long)e2);
	ok(!sketch_add(&sk, k, 16, 1, LIMIT, 90000),
	    "still refused at half weight: the estimate is at the limit");
	e3 = sketch_estimate(&sk, k, 16, 120000);
	ok(e3 > 0 && e3 <= 1000, "the minute after that holds only the "
	    "one attempt made in it: %llu thousandths",
	    (unsigned long long)e3);
	ok(sketch_estimate(&sk, k, 16, 240000) == 0 &&
	    sketch_add(&sk, k, 16, 1, LIMIT, 240000),
	    "two idle minutes later the source starts afresh");
	in = sketch_add(&sk, k, 16, 10, LIMIT, 240000);
	e1 = sketch_estimate(&sk, k, 16, 240000);
	ok(in && e1 == 11000, "ten more at once (a dropped handshake): 11 "
	    "attempts counted, %llu thousandths", (unsigned long long)e1);
}

/*
 * Honest sources (one attempt each) refused because every row of their
 * key collides with a source at the limit.  The key is random in each
 * run; the bound asserted is far above what is expected.
 */
static double
false_positives(uint32_t attackers, uint32_t honest)
{
	uint8_t		 k[16];
	uint32_t	 i, j, refused = 0;

	sketch_init(&sk, MIN, 0);
	for (i = 0; i < attackers; i++) {
		source(i, 4, k);
		for (j = 0; j < LIMIT; j++)
			sketch_add(&sk, k, 16, 1, LIMIT, 0);
	}
	for (i = 0; i < honest; i++) {
		source(i, 5, k);
		refused += !sketch_add(&sk, k, 16, 1, LIMIT, 0);
	}
	return (double)refused / honest;
}

static void
test_false_positives(void)
{
	static const uint32_t	 load[] = { 0, 1000, 2000, 5000, 10000 };
	double			 fp;
	size_t			 i;

	printf("# sketch: %d rows of %d counters, two windows: %zu bytes\n",
	    SKETCH_ROWS, SKETCH_WIDTH, sizeof(struct sketch));
	for (i = 0; i < sizeof(load) / sizeof(load[0]); i++) {
		fp = false_positives(load[i], 100000);
		printf("# %u sources at the limit of %d: %.4f%% of 100,000 "
		    "honest sources refused\n", load[i], LIMIT, fp * 100);
		if (load[i] == 0)
			ok(fp == 0, "no attacker: no honest source refused "
			    "(%.4f%%)", fp * 100);
		if (load[i] == 2000)
			ok(fp < 0.01, "2,000 sources at the limit: %.4f%% of "
			    "honest sources refused, under 1%%", fp * 100);
	}
}

static void
sin4(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(4001);
	inet_pton(AF_INET, a, &sin->sin_addr);
}

static void
sin6(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(4001);
	inet_pton(AF_INET6, a, &sin6->sin6_addr);
}

static int
same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	uint8_t		 ka[16], kb[16];

	sockaddr_group(a, ka);
	sockaddr_group(b, kb);
	return memcmp(ka, kb, 16) == 0;
}

static void
test_group(void)
{
	struct sockaddr_storage	 a, b;

	conn_limits.ipv4_prefix = 32;
	conn_limits.ipv6_prefix = 64;
	sin4(&a, "127.1.2.3");
	sin4(&b, "127.1.2.4");
	ok(!same_source(&a, &b), "IPv4 /32: two addresses, two sources");
	sin6(&b, "::ffff:127.1.2.3");
	ok(same_source(&a, &b), "an IPv4-mapped IPv6 address is its IPv4");
	sin6(&a, "2001:db8:1:2:aaaa::1");
	sin6(&b, "2001:db8:1:2:bbbb:cccc:dddd:eeee");
	ok(same_source(&a, &b), "IPv6 /64: one source for the whole /64");
	sin6(&b, "2001:db8:1:3::1");
	ok(!same_source(&a, &b), "IPv6 /64: the next /64 is another source");
	conn_limits.ipv6_prefix = 48;
	ok(same_source(&a, &b), "IPv6 /48: both in one source");
	conn_limits.ipv6_prefix = 65;
	sin6(&a, "2001:db8:1:2:7f00::1");
	sin6(&b, "2001:db8:1:2:8000::1");
	ok(!same_source(&a, &b), "IPv6 /65: split within a byte");
	sin6(&b, "2001:db8:1:2:0::1");
	ok(same_source(&a, &b), "IPv6 /65: same first 65 bits, one source");
	conn_limits.ipv6_prefix = 128;
	sin6(&b, "2001:db8:1:2:7f00::2");
	ok(!same_source(&a, &b), "IPv6 /128: every address its own source");
	conn_limits.ipv4_prefix = 24;
	sin4(&a, "127.1.2.3");
	sin4(&b, "127.1.2.250");
	ok(same_source(&a, &b), "IPv4 /24: one source for the /24");
	sin6(&b, "::ffff:127.1.3.1");
	ok(!same_source(&a, &b), "IPv4 /24, mapped: the next /24 is another");
	sin6(&a, "::127.1.2.3");
	ok(!same_source(&a, &b), "an IPv4-compatible address is IPv6");
	conn_limits.ipv4_prefix = 32;
	conn_limits.ipv6_prefix = 64;
}

static void	 nop_conn(struct conn *c) { }
static void	 nop_closing(struct conn *c, const char *r) { }
static void	 nop(void) { }

static struct conn *
inbound(const char *addr)
{
	struct sockaddr_storage	 ss;
	int			 sv[2];
	struct conn		*c;

	sin4(&ss, addr);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return NULL;
	close(sv[1]);
	if ((c = conn_new(sv[0], CONN_INBOUND, (struct sockaddr *)&ss,
	    sizeof(struct sockaddr_in))) == NULL)
		close(sv[0]);
	return c;
}

/* Handshakes per source, and whom the early drop picks. */
static void
test_pending(void)
{
	static const struct conn_hooks	 hooks = {
		.start = nop_conn, .closing = nop_closing, .freed = nop,
	};
	struct sockaddr_storage		 ss;
	struct conn			*a[3], *b[2], *c1, *v;

	conn_set_hooks(&hooks);
	conn_limits.max_connections = 100;
	a[0] = inbound("127.0.0.10");
	b[0] = inbound("127.0.0.20");
	a[1] = inbound("127.0.0.10");
	b[1] = inbound("127.0.0.20");
	a[2] = inbound("127.0.0.10");
	c1 = inbound("127.0.0.30");
	if (!ok(a[0] && a[1] && a[2] && b[0] && b[1] && c1,
	    "six inbound connections from three sources"))
		return;
	sin4(&ss, "127.0.0.10");
	ok(conn_pending_src(&ss) == 3 && conn_count_ip(&ss) == 3,
	    "three handshakes from 127.0.0.10: %d pending, %d connections",
	    conn_pending_src(&ss), conn_count_ip(&ss));
	sin4(&ss, "127.0.0.99");
	ok(conn_pending_src(&ss) == 0, "none from 127.0.0.99");
	v = conn_pending_victim(0);
	ok(v == a[0], "a newcomer takes the place of the oldest handshake of "
	    "the source with the most: connection %u", v ? v->id : 0);
	ok(conn_pending_victim(3) == NULL, "a newcomer from a source that "
	    "already has as many takes no one's place");
	conn_close(a[0], "test");
	conn_upgraded(a[1]);
	sin4(&ss, "127.0.0.10");
	ok(conn_pending_src(&ss) == 1 && conn_count_ip(&ss) == 2,
	    "one closed, one upgraded: 127.0.0.10 has %d handshake, %d "
	    "connections", conn_pending_src(&ss), conn_count_ip(&ss));
	v = conn_pending_victim(1);
	ok(v == b[0], "now 127.0.0.20 has the most: its oldest goes first "
	    "(connection %u)", v ? v->id : 0);
	ok(conn_pending_victim(2) == NULL, "and no one for a source with 2");
	conn_close(b[0], "test");
	conn_close(b[1], "test");
	v = conn_pending_victim(0);
	ok(v == a[2] || v == c1, "all at one each: the source that got there "
	    "first loses its handshake (connection %u)", v ? v->id : 0);
	ok(conn_find(a[2]->id) == a[2] && conn_find(a[2]->id + 100000) ==
	    NULL, "connections are found by their ID, and an unknown ID not");
	conn_limits.ipv4_prefix = 24;
	conn_regroup();
	sin4(&ss, "127.0.0.77");
	ok(conn_count_ip(&ss) == 3, "with ipv4PrefixLength 24 after a "
	    "regroup, 127.0.0.77 counts the three of 127.0.0.0/24: %d",
	    conn_count_ip(&ss));
	conn_limits.ipv4_prefix = 32;
	conn_regroup();
	conn_close(a[1], "test");
	conn_close(a[2], "test");
	conn_close(c1, "test");
	sin4(&ss, "127.0.0.10");
	ok(conn_count_ip(&ss) == 0, "all closed: 127.0.0.10 counts %d",
	    conn_count_ip(&ss));
	ok(conn_pending() == 0 && conn_count() == 0 &&
	    conn_pending_victim(0) == NULL, "all gone: nothing pending, "
	    "no victim");
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	event_init();
	test_no_false_negative();
	test_decay();
	test_false_positives();
	test_group();
	test_pending();
	return tap_done();
}
