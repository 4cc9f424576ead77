/*
 * The engine's table of pubsub signatures asked of keyd (pssign.c),
 * driven without keyd: a channel whose other end the test reads and
 * answers, and a clock of its own.  Full, answered, late, cancelled.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <string.h>

#include <event.h>

#include "child.h"
#include "engine.h"
#include "log.h"
#include "tap.h"

#define NCALLS	(PSSIGN_MAX + 8)

static time_t		 clock_now = 1000;
static struct child	 test_child = { .id = PROC_ENGINE };
static struct imsgbuf	 keyd_end;

/* What done was called with, per arg. */
static struct call {
	int	 n;
	int	 signed_;
	uint8_t	 first;
} calls[NCALLS];

time_t
mono_now(void)
{
	return clock_now;
}

static void
done(void *arg, const uint8_t *sig)
{
	struct call	*c = arg;

	c->n++;
	c->signed_ = sig != NULL;
	c->first = sig != NULL ? sig[0] : 0;
}

/* The requests keyd got, their IDs in order. */
static int
keyd_read(uint32_t *ids, int max, const uint8_t *want, size_t wantlen)
{
	struct imsg		 m;
	struct key_ps_sign	 h;
	int			 n = 0;

	if (imsgbuf_write(&test_child.iev[PROC_KEYD].ibuf) == -1)
		return -1;
	while (n < max) {
		if (imsg_get(&keyd_end, &m) <= 0) {
			if (imsgbuf_read(&keyd_end) <= 0)
				break;
			continue;
		}
		if (m.hdr.type != IMSG_KEY_SIGN_PUBSUB ||
		    imsg_get_len(&m) != sizeof(h) + wantlen ||
		    memcmp((uint8_t *)m.data + sizeof(h), want, wantlen) != 0)
			n = -1000;
		memcpy(&h, m.data, sizeof(h));
		ids[n < 0 ? 0 : n] = h.req;
		n++;
		imsg_free(&m);
	}
	return n;
}

static void
answer(uint32_t req, int ok_, uint8_t first)
{
	struct key_ps_sig	 r;

	memset(&r, 0, sizeof(r));
	r.req = req;
	r.ok = ok_;
	r.sig[0] = first;
	pssign_result(&r);
}

int
main(void)
{
	static uint8_t	 big[KEY_PSMSG_MAX + 1];
	const uint8_t	 msg[] = "\x0a\x02xy";
	uint32_t	 ids[NCALLS];
	int		 sv[2], i, n, got = 0;

	log_init(1, 0);
	log_procinit("engine");
	event_init();
	child = &test_child;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		fatal("socketpair");
	imsgev_init(&child->iev[PROC_KEYD], sv[0], NULL, NULL);
	imsgbuf_init(&keyd_end, sv[1]);

	ok(pssign_request(big, sizeof(big), done, &calls[0]) == -1 &&
	    pssign_request(msg, 0, done, &calls[0]) == -1 &&
	    pssign_pending() == 0, "an empty or too large message is not asked");
	for (i = 0; i < PSSIGN_MAX; i++)
		got += pssign_request(msg, sizeof(msg) - 1, done,
		    &calls[i]) == 0;
	ok(got == PSSIGN_MAX && pssign_request(msg, sizeof(msg) - 1, done,
	    &calls[PSSIGN_MAX]) == -1 && counters.pssign_busy == 1,
	    "%d requests in flight, then the next refused and counted (%d "
	    "taken)", PSSIGN_MAX, got);
	n = keyd_read(ids, NCALLS, msg, sizeof(msg) - 1);
	ok(n == PSSIGN_MAX && ids[0] != ids[1] && ids[0] != 0,
	    "keyd got each, with the message and an ID of its own (%d)", n);
	if (n != PSSIGN_MAX)
		return tap_done();

	answer(ids[0], 1, 0xab);
	answer(ids[0], 1, 0xcd);
	answer(ids[1], 0, 0);
	answer(0xdeadbeef, 1, 1);
	ok(calls[0].n == 1 && calls[0].signed_ && calls[0].first == 0xab,
	    "an answer goes to its request, once: %d calls", calls[0].n);
	ok(calls[1].n == 1 && !calls[1].signed_ &&
	    counters.pssign_refused == 1, "a refusal is a NULL signature, "
	    "counted");
	ok(pssign_pending() == PSSIGN_MAX - 2 &&
	    pssign_request(msg, sizeof(msg) - 1, done, &calls[PSSIGN_MAX]) ==
	    0, "an answered request frees its slot for a new one");

	pssign_cancel(&calls[2]);
	answer(ids[2], 1, 1);
	ok(calls[2].n == 0 && pssign_pending() == PSSIGN_MAX - 2,
	    "a cancelled request is not answered, its slot free");

	clock_now += PSSIGN_WAIT - 1;
	pssign_sweep(clock_now);
	ok(calls[3].n == 0, "before the deadline nothing is given up");
	clock_now += 1;
	pssign_sweep(clock_now);
	for (i = 3, got = 0; i <= PSSIGN_MAX; i++)
		got += calls[i].n == 1 && !calls[i].signed_;
	ok(got == PSSIGN_MAX - 2 && pssign_pending() == 0 &&
	    counters.pssign_timeouts == PSSIGN_MAX - 2,
	    "at the deadline each left gets NULL once, counted (%d of %d)",
	    got, PSSIGN_MAX - 2);
	answer(ids[5], 1, 1);
	ok(calls[5].n == 1, "keyd's late answer is dropped");

	imsgbuf_write(&test_child.iev[PROC_KEYD].ibuf);
	test_child.iev[PROC_KEYD].ibuf.maxqueue = 2 * (IMSG_HEADER_SIZE +
	    sizeof(struct key_ps_sign) + sizeof(msg) - 1);
	ok(pssign_request(msg, sizeof(msg) - 1, done, &calls[0]) == 0 &&
	    pssign_request(msg, sizeof(msg) - 1, done, &calls[1]) == -1 &&
	    counters.pssign_busy == 2, "a request that would fill more than "
	    "half of keyd's queue is refused and counted");
	pssign_cancel(&calls[0]);
	ident.lockdown = 1;
	ok(pssign_request(msg, sizeof(msg) - 1, done, &calls[0]) == -1,
	    "in lockdown nothing is asked");
	return tap_done();
}
