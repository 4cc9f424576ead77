/*
 * keyd's signatures of the pubsub messages we publish (StrictSign): a
 * bounded table of requests in flight, each answered once, by keyd's
 * answer matched on its ID, or with a refusal when keyd has not
 * answered by the deadline.  Calls conn.c's clock and common/.
 */
#include <sys/types.h>

#include <string.h>
#include <time.h>

#include "child.h"
#include "engine.h"
#include "log.h"

struct pssign_req {
	uint32_t	 id;		/* 0: a free slot */
	time_t		 deadline;
	pssign_done_fn	 done;
	void		*arg;
};

static struct pssign_req	 reqs[PSSIGN_MAX];
static uint32_t			 next_id;

/* A free slot, or NULL. */
static struct pssign_req *
pssign_slot(void)
{
	size_t	 i;

	for (i = 0; i < PSSIGN_MAX; i++)
		if (reqs[i].id == 0)
			return &reqs[i];
	return NULL;
}

/*
 * Ask keyd to sign msg, a Message without signature and key.  done is
 * called once, later, with the signature or NULL; -1 (and no call) when
 * the request cannot be made: too large, the table full, keyd gone,
 * behind (its queue half full: what is left is for the handshakes) or
 * locked down.
 */
int
pssign_request(const uint8_t *msg, size_t len, pssign_done_fn done,
    void *arg)
{
	static uint8_t		 buf[sizeof(struct key_ps_sign) +
				    KEY_PSMSG_MAX];
	static struct log_limit	 ll = LOG_LIMIT("pubsub signing busy");
	struct key_ps_sign	 hdr;
	struct pssign_req	*r;

	if (len == 0 || len > KEY_PSMSG_MAX || ident.lockdown ||
	    done == NULL)
		return -1;
	if ((r = pssign_slot()) == NULL || !child_has_room(PROC_KEYD)) {
		counters.pssign_busy++;
		log_limited(&ll, LOG_INFO, "pssign_busy in_flight=%d",
		    pssign_pending());
		return -1;
	}
	if (++next_id == 0)
		next_id = 1;
	hdr.req = next_id;
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), msg, len);
	if (child_compose(PROC_KEYD, IMSG_KEY_SIGN_PUBSUB, 0, -1, buf,
	    sizeof(hdr) + len) == -1)
		return -1;
	r->id = next_id;
	r->deadline = mono_now() + PSSIGN_WAIT;
	r->done = done;
	r->arg = arg;
	return 0;
}

/* keyd's answer: to its request, if it is still waiting. */
void
pssign_result(const struct key_ps_sig *res)
{
	struct pssign_req	 r;
	size_t			 i;

	for (i = 0; i < PSSIGN_MAX; i++)
		if (reqs[i].id != 0 && reqs[i].id == res->req)
			break;
	if (i == PSSIGN_MAX) {
		log_debug("a pubsub signature for request %u, which no "
		    "longer waits", res->req);
		return;
	}
	r = reqs[i];
	memset(&reqs[i], 0, sizeof(reqs[i]));
	if (!res->ok)
		counters.pssign_refused++;
	r.done(r.arg, res->ok ? res->sig : NULL);
}

/* The requests of arg are answered no more: its owner is gone. */
void
pssign_cancel(void *arg)
{
	size_t	 i;

	for (i = 0; i < PSSIGN_MAX; i++)
		if (reqs[i].id != 0 && reqs[i].arg == arg)
			memset(&reqs[i], 0, sizeof(reqs[i]));
}

/* Requests keyd has not answered in time: refused. */
void
pssign_sweep(time_t now)
{
	static struct log_limit	 ll = LOG_LIMIT("pubsub signing late");
	struct pssign_req	 r;
	size_t			 i;

	for (i = 0; i < PSSIGN_MAX; i++) {
		if (reqs[i].id == 0 || reqs[i].deadline > now)
			continue;
		r = reqs[i];
		memset(&reqs[i], 0, sizeof(reqs[i]));
		counters.pssign_timeouts++;
		log_limited(&ll, LOG_WARNING, "keyd did not sign pubsub "
		    "request %u within %d seconds", r.id, PSSIGN_WAIT);
		r.done(r.arg, NULL);
	}
}

int
pssign_pending(void)
{
	int	 i, n = 0;

	for (i = 0; i < PSSIGN_MAX; i++)
		n += reqs[i].id != 0;
	return n;
}
