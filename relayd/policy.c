/*
 * The relay policy.  Statuses follow go-libp2p's relay: an access list
 * says PERMISSION_DENIED, the reservation constraints (total, per IP)
 * say RESERVATION_REFUSED, circuit caps say RESOURCE_LIMIT_EXCEEDED.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "policy.h"

#define HOUR_MS		3600000LL
#define DAY_S		86400
/* One reservation of the hourly rate limit, in units that refill by 1/ms. */
#define RATE_TOKEN	HOUR_MS

struct ipcount {
	RB_ENTRY(ipcount) entry;
	uint8_t		 ip[16];
	uint32_t	 n;
};

/* A token bucket: rsvp_per_hour tokens, refilled over an hour. */
struct rate {
	RB_ENTRY(rate)	 entry;
	TAILQ_ENTRY(rate) lru;
	struct peerid	 peer;
	int64_t		 tokens;	/* RATE_TOKEN units */
	int64_t		 last;		/* monotonic ms */
};

struct peercount {
	RB_ENTRY(peercount) entry;
	struct peerid	 peer;
	uint32_t	 n;
};

static int
peerid_cmp(const struct peerid *a, const struct peerid *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->mh, b->mh, a->len);
}

static int
peerid_qcmp(const void *a, const void *b)
{
	return peerid_cmp(a, b);
}

static int
rsvp_peer_cmp(const struct rsvp *a, const struct rsvp *b)
{
	return peerid_cmp(&a->peer, &b->peer);
}

static int
rsvp_deadline_cmp(const struct rsvp *a, const struct rsvp *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline ? -1 : 1;
	return peerid_cmp(&a->peer, &b->peer);
}

static int
ipcount_cmp(const struct ipcount *a, const struct ipcount *b)
{
	return memcmp(a->ip, b->ip, sizeof(a->ip));
}

static int
rate_cmp(const struct rate *a, const struct rate *b)
{
	return peerid_cmp(&a->peer, &b->peer);
}

static int
circuit_cmp(const struct circuit *a, const struct circuit *b)
{
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

static int
peercount_cmp(const struct peercount *a, const struct peercount *b)
{
	return peerid_cmp(&a->peer, &b->peer);
}

static int
acct_cmp(const struct acct *a, const struct acct *b)
{
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return peerid_cmp(&a->peer, &b->peer);
}

/* libbsd leaves __unused undefined, which RB_GENERATE_STATIC needs. */
#define RB_GENERATE_UNUSED(name, type, field, cmp)			\
	RB_GENERATE_INTERNAL(name, type, field, cmp,			\
	    __attribute__((__unused__)) static)

RB_GENERATE_UNUSED(rsvp_peers, rsvp, by_peer, rsvp_peer_cmp)
RB_GENERATE_UNUSED(rsvp_deadlines, rsvp, by_deadline, rsvp_deadline_cmp)
RB_GENERATE_UNUSED(ipcounts, ipcount, entry, ipcount_cmp)
RB_GENERATE_UNUSED(rates, rate, entry, rate_cmp)
RB_GENERATE_UNUSED(circuits, circuit, entry, circuit_cmp)
RB_GENERATE_UNUSED(peercounts, peercount, entry, peercount_cmp)
RB_GENERATE_UNUSED(accts, acct, entry, acct_cmp)

void
policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	RB_INIT(&p->rsvps);
	RB_INIT(&p->deadlines);
	RB_INIT(&p->ips);
	RB_INIT(&p->rates);
	TAILQ_INIT(&p->rate_lru);
	RB_INIT(&p->circuits);
	RB_INIT(&p->peercounts);
	RB_INIT(&p->accts);
	TAILQ_INIT(&p->acct_lru);
}

uint32_t
policy_seconds(int64_t ms)
{
	if (ms <= 0)
		return 0;
	if (ms / 1000 >= UINT32_MAX)
		return UINT32_MAX;
	return (ms + 999) / 1000;
}

/* Access lists */

/* A sorted copy of the peer IDs of the configuration, for bsearch. */
static int
peerlist_sorted(const struct peerid *l, size_t n, struct peerid **out,
    size_t *nout)
{
	struct peerid	*v;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	memcpy(v, l, n * sizeof(*v));
	qsort(v, n, sizeof(*v), peerid_qcmp);
	*out = v;
	*nout = n;
	return 0;
}

static int
peerlist_has(const struct peerid *v, size_t n, const struct peerid *id)
{
	return n > 0 && bsearch(id, v, n, sizeof(*v), peerid_qcmp) != NULL;
}

static const char *
policy_off(const struct policy *p)
{
	if (!p->enabled)
		return "relay_disabled";
	if (!p->hop)
		return "hop_disabled";
	return NULL;
}

static int
policy_blocked(const struct policy *p, const struct peerid *id)
{
	return peerlist_has(p->block, p->nblock, id);
}

/* An empty allowlist admits everyone. */
static int
policy_allowed(const struct policy *p, const struct peerid *id)
{
	return p->nallow == 0 || peerlist_has(p->allow, p->nallow, id);
}

/* Why this peer may not hold a reservation, or NULL. */
static const char *
policy_refusal(const struct policy *p, const struct peerid *id)
{
	const char	*why;

	if ((why = policy_off(p)) != NULL)
		return why;
	if (policy_blocked(p, id))
		return "blocked";
	if (!policy_allowed(p, id))
		return "not_allowed";
	return NULL;
}

/* Reservations */

static struct ipcount *
ipcount_find(struct policy *p, const uint8_t ip[16])
{
	struct ipcount	 key;

	memcpy(key.ip, ip, sizeof(key.ip));
	return RB_FIND(ipcounts, &p->ips, &key);
}

static struct ipcount *
ipcount_get(struct policy *p, const uint8_t ip[16])
{
	struct ipcount	*ic;

	if ((ic = ipcount_find(p, ip)) != NULL)
		return ic;
	if ((ic = calloc(1, sizeof(*ic))) == NULL)
		return NULL;
	memcpy(ic->ip, ip, sizeof(ic->ip));
	RB_INSERT(ipcounts, &p->ips, ic);
	return ic;
}

static void
ipcount_put(struct policy *p, struct ipcount *ic)
{
	if (ic->n > 0 && --ic->n > 0)
		return;
	RB_REMOVE(ipcounts, &p->ips, ic);
	free(ic);
}

static struct rsvp *
rsvp_find(struct policy *p, const struct peerid *peer)
{
	struct rsvp	 key;

	key.peer = *peer;
	return RB_FIND(rsvp_peers, &p->rsvps, &key);
}

static void
rsvp_remove(struct policy *p, struct rsvp *r)
{
	struct ipcount	*ic;

	RB_REMOVE(rsvp_peers, &p->rsvps, r);
	RB_REMOVE(rsvp_deadlines, &p->deadlines, r);
	if ((ic = ipcount_find(p, r->ip)) != NULL)
		ipcount_put(p, ic);
	p->nrsvps--;
	free(r);
}

const struct rsvp *
policy_rsvp(struct policy *p, const struct peerid *peer)
{
	return rsvp_find(p, peer);
}

int
policy_unreserve(struct policy *p, const struct peerid *peer)
{
	struct rsvp	*r;

	if ((r = rsvp_find(p, peer)) == NULL)
		return -1;
	rsvp_remove(p, r);
	return 0;
}

void
policy_rsvp_foreach(struct policy *p, void (*cb)(const struct rsvp *, void *),
    void *arg)
{
	struct rsvp	*r;

	RB_FOREACH(r, rsvp_peers, &p->rsvps)
		cb(r, arg);
}

void
policy_expire(struct policy *p, const struct policy_time *now)
{
	struct rsvp	*r;

	while ((r = RB_MIN(rsvp_deadlines, &p->deadlines)) != NULL &&
	    r->deadline <= now->ms) {
		if (p->removed != NULL)
			p->removed(r, "expired", p->arg);
		rsvp_remove(p, r);
	}
}

/* Rate limit */

static struct rate *
rate_find(struct policy *p, const struct peerid *peer)
{
	struct rate	 key;

	key.peer = *peer;
	return RB_FIND(rates, &p->rates, &key);
}

static void
rate_remove(struct policy *p, struct rate *r)
{
	RB_REMOVE(rates, &p->rates, r);
	TAILQ_REMOVE(&p->rate_lru, r, lru);
	p->nrates--;
	free(r);
}

static int64_t
rate_level(const struct policy *p, const struct rate *r, int64_t now)
{
	int64_t	 cap = p->rsvp_per_hour * RATE_TOKEN;
	int64_t	 elapsed = now - r->last;

	if (elapsed < 0)
		elapsed = 0;
	if (elapsed > HOUR_MS)
		elapsed = HOUR_MS;
	if (r->tokens > cap - elapsed * p->rsvp_per_hour)
		return cap;
	return r->tokens + elapsed * p->rsvp_per_hour;
}

static int
rate_allows(struct policy *p, const struct peerid *peer, int64_t now)
{
	struct rate	*r;

	if (p->rsvp_per_hour == 0 || (r = rate_find(p, peer)) == NULL)
		return 1;
	return rate_level(p, r, now) >= RATE_TOKEN;
}

static int
rate_take(struct policy *p, const struct peerid *peer, int64_t now)
{
	struct rate	*r;

	if (p->rsvp_per_hour == 0)
		return 0;
	if ((r = rate_find(p, peer)) == NULL) {
		if (p->nrates >= RELAY_RATE_MAX)
			rate_remove(p, TAILQ_FIRST(&p->rate_lru));
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return -1;
		r->peer = *peer;
		r->tokens = p->rsvp_per_hour * RATE_TOKEN;
		r->last = now;
		RB_INSERT(rates, &p->rates, r);
		p->nrates++;
	} else
		TAILQ_REMOVE(&p->rate_lru, r, lru);
	r->tokens = rate_level(p, r, now) - RATE_TOKEN;
	r->last = now;
	TAILQ_INSERT_TAIL(&p->rate_lru, r, lru);
	return 0;
}

/* Drop rate entries whose bucket is full again: they hold nothing. */
void
policy_sweep(struct policy *p, const struct policy_time *now)
{
	struct rate	*r;

	while ((r = TAILQ_FIRST(&p->rate_lru)) != NULL &&
	    (p->rsvp_per_hour == 0 || now->ms - r->last >= HOUR_MS))
		rate_remove(p, r);
}

static int
reserve_check(struct policy *p, const struct peerid *peer,
    const uint8_t ip[16], const struct rsvp *r, int64_t now,
    const char **reason)
{
	struct ipcount	*ic;
	int64_t		 n;

	if ((*reason = policy_refusal(p, peer)) != NULL)
		return CIRCUIT_PERMISSION_DENIED;
	if (!rate_allows(p, peer, now)) {
		*reason = "rate_limit";
		return CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	}
	if (r == NULL && (int64_t)p->nrsvps >= p->rsvp_max) {
		*reason = "too_many_reservations";
		return CIRCUIT_RESERVATION_REFUSED;
	}
	n = (ic = ipcount_find(p, ip)) != NULL ? ic->n : 0;
	if (r != NULL && memcmp(r->ip, ip, sizeof(r->ip)) == 0)
		n--;
	if (n >= p->rsvp_per_ip) {
		*reason = "too_many_reservations_for_ip";
		return CIRCUIT_RESERVATION_REFUSED;
	}
	return CIRCUIT_OK;
}

/* Every allocation first, so that a failure changes nothing. */
static int
reserve_commit(struct policy *p, const struct peerid *peer,
    const uint8_t ip[16], struct rsvp *r, const struct policy_time *now)
{
	struct rsvp	*nr = NULL;
	struct ipcount	*ic, *old;

	if (r == NULL && (nr = calloc(1, sizeof(*nr))) == NULL)
		return -1;
	if ((ic = ipcount_get(p, ip)) == NULL) {
		free(nr);
		return -1;
	}
	ic->n++;
	if (rate_take(p, peer, now->ms) == -1) {
		ipcount_put(p, ic);
		free(nr);
		return -1;
	}
	if (r != NULL) {
		RB_REMOVE(rsvp_deadlines, &p->deadlines, r);
		if ((old = ipcount_find(p, r->ip)) != NULL)
			ipcount_put(p, old);
	} else {
		r = nr;
		r->peer = *peer;
		r->created = now->wall;
		RB_INSERT(rsvp_peers, &p->rsvps, r);
		p->nrsvps++;
	}
	memcpy(r->ip, ip, sizeof(r->ip));
	r->deadline = now->ms + p->rsvp_ttl;
	r->expire = now->wall + p->rsvp_ttl / 1000;
	RB_INSERT(rsvp_deadlines, &p->deadlines, r);
	return 0;
}

/*
 * Grant or refresh the one reservation of a peer.  Fills in everything
 * of the answer but conn and the voucher.
 */
int
policy_reserve(struct policy *p, const struct peerid *peer,
    const uint8_t ip[16], const struct policy_time *now,
    struct relay_rsvp_res *res, const char **reason)
{
	struct rsvp	*r;
	int		 status;

	policy_expire(p, now);
	res->refreshed = 0;
	res->expire = 0;
	res->limit_duration = 0;
	res->limit_data = 0;
	r = rsvp_find(p, peer);
	if ((status = reserve_check(p, peer, ip, r, now->ms, reason)) !=
	    CIRCUIT_OK) {
		res->status = status;
		return status;
	}
	if (reserve_commit(p, peer, ip, r, now) == -1) {
		*reason = "out_of_memory";
		res->status = CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
		return res->status;
	}
	*reason = NULL;
	res->status = CIRCUIT_OK;
	res->refreshed = r != NULL;
	res->expire = now->wall + p->rsvp_ttl / 1000;
	res->limit_duration = policy_seconds(p->limit_duration);
	res->limit_data = p->limit_data;
	return CIRCUIT_OK;
}

/* Circuits */

static struct peercount *
peercount_find(struct policy *p, const struct peerid *peer)
{
	struct peercount key;

	key.peer = *peer;
	return RB_FIND(peercounts, &p->peercounts, &key);
}

static uint32_t
peercount_n(struct policy *p, const struct peerid *peer)
{
	struct peercount *pc;

	return (pc = peercount_find(p, peer)) != NULL ? pc->n : 0;
}

static int
peercount_add(struct policy *p, const struct peerid *peer)
{
	struct peercount *pc;

	if ((pc = peercount_find(p, peer)) == NULL) {
		if ((pc = calloc(1, sizeof(*pc))) == NULL)
			return -1;
		pc->peer = *peer;
		RB_INSERT(peercounts, &p->peercounts, pc);
	}
	pc->n++;
	return 0;
}

static void
peercount_del(struct policy *p, const struct peerid *peer)
{
	struct peercount *pc;

	if ((pc = peercount_find(p, peer)) == NULL || --pc->n > 0)
		return;
	RB_REMOVE(peercounts, &p->peercounts, pc);
	free(pc);
}

size_t
policy_circuit_cap(const struct policy *p)
{
	if (p->rsvp_max >= RELAY_MAX_CIRCUITS / RELAY_CIRCUITS_PER_RSVP)
		return RELAY_MAX_CIRCUITS;
	return p->rsvp_max * RELAY_CIRCUITS_PER_RSVP;
}

/*
 * When the allowlist is not empty both ends must be on it: the guide
 * names the peers "allowed to use the relay", and a circuit uses it for
 * both.
 */
static int
connect_check(struct policy *p, const struct peerid *src,
    const struct peerid *dst, const char **reason)
{
	if ((*reason = policy_off(p)) != NULL)
		return CIRCUIT_PERMISSION_DENIED;
	if (policy_blocked(p, src) || policy_blocked(p, dst)) {
		*reason = "blocked";
		return CIRCUIT_PERMISSION_DENIED;
	}
	if (!policy_allowed(p, src) || !policy_allowed(p, dst)) {
		*reason = "not_allowed";
		return CIRCUIT_PERMISSION_DENIED;
	}
	if (rsvp_find(p, dst) == NULL) {
		*reason = "no_reservation";
		return CIRCUIT_NO_RESERVATION;
	}
	if (p->ncircuits >= policy_circuit_cap(p)) {
		*reason = "too_many_circuits";
		return CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	}
	if (peercount_n(p, src) >= RELAY_MAX_CIRCUITS_PER_PEER) {
		*reason = "too_many_circuits_from_source";
		return CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	}
	if (peercount_n(p, dst) >= RELAY_MAX_CIRCUITS_PER_PEER) {
		*reason = "too_many_circuits_to_destination";
		return CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	}
	return CIRCUIT_OK;
}

static struct circuit *
circuit_new(struct policy *p, const struct peerid *src,
    const struct peerid *dst, int64_t now)
{
	struct circuit	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (peercount_add(p, src) == -1) {
		free(c);
		return NULL;
	}
	if (peercount_add(p, dst) == -1) {
		peercount_del(p, src);
		free(c);
		return NULL;
	}
	c->src = *src;
	c->dst = *dst;
	c->start = now;
	do {
		c->id = ++p->next_circuit;
	} while (c->id == 0 || RB_FIND(circuits, &p->circuits, c) != NULL);
	RB_INSERT(circuits, &p->circuits, c);
	p->ncircuits++;
	return c;
}

int
policy_connect(struct policy *p, const struct peerid *src,
    const struct peerid *dst, const struct policy_time *now,
    struct relay_connect_res *res, const char **reason)
{
	struct circuit	*c;
	int		 status;

	policy_expire(p, now);
	res->circuit = 0;
	res->limit_duration = 0;
	res->limit_data = 0;
	if ((status = connect_check(p, src, dst, reason)) != CIRCUIT_OK) {
		res->status = status;
		return status;
	}
	if ((c = circuit_new(p, src, dst, now->ms)) == NULL) {
		*reason = "out_of_memory";
		res->status = CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
		return res->status;
	}
	*reason = NULL;
	res->status = CIRCUIT_OK;
	res->circuit = c->id;
	res->limit_duration = policy_seconds(p->limit_duration);
	res->limit_data = p->limit_data;
	return CIRCUIT_OK;
}

static struct acct *
acct_find(struct policy *p, const struct peerid *peer, int64_t day)
{
	struct acct	 key;

	key.peer = *peer;
	key.day = day;
	return RB_FIND(accts, &p->accts, &key);
}

static void
acct_remove(struct policy *p, struct acct *a)
{
	RB_REMOVE(accts, &p->accts, a);
	TAILQ_REMOVE(&p->acct_lru, a, lru);
	p->naccts--;
	free(a);
}

/* A full table forgets the peer-day used longest ago. */
static void
acct_add(struct policy *p, const struct peerid *peer, int64_t day,
    uint64_t in, uint64_t out)
{
	struct acct	*a;

	if ((a = acct_find(p, peer, day)) == NULL) {
		if (p->naccts >= RELAY_ACCT_MAX)
			acct_remove(p, TAILQ_FIRST(&p->acct_lru));
		if ((a = calloc(1, sizeof(*a))) == NULL)
			return;
		a->peer = *peer;
		a->day = day;
		RB_INSERT(accts, &p->accts, a);
		p->naccts++;
	} else
		TAILQ_REMOVE(&p->acct_lru, a, lru);
	a->bytes_in += in;
	a->bytes_out += out;
	a->circuits++;
	TAILQ_INSERT_TAIL(&p->acct_lru, a, lru);
}

const struct acct *
policy_acct(struct policy *p, const struct peerid *peer, int64_t day)
{
	return acct_find(p, peer, day);
}

/* Close a circuit; *out gets a copy of it for the log. */
int
policy_circuit_end(struct policy *p, uint32_t id, uint64_t src_dst,
    uint64_t dst_src, const struct policy_time *now, struct circuit *out)
{
	struct circuit	 key, *c;
	int64_t		 day = now->wall / DAY_S;

	key.id = id;
	if ((c = RB_FIND(circuits, &p->circuits, &key)) == NULL)
		return -1;
	*out = *c;
	RB_REMOVE(circuits, &p->circuits, c);
	p->ncircuits--;
	peercount_del(p, &c->src);
	peercount_del(p, &c->dst);
	acct_add(p, &c->src, day, dst_src, src_dst);
	acct_add(p, &c->dst, day, src_dst, dst_src);
	free(c);
	return 0;
}

/* Configuration */

static void
policy_prune(struct policy *p)
{
	struct rsvp	*r, *tmp;
	const char	*why;

	RB_FOREACH_SAFE(r, rsvp_peers, &p->rsvps, tmp) {
		if ((why = policy_refusal(p, &r->peer)) == NULL)
			continue;
		if (p->removed != NULL)
			p->removed(r, why, p->arg);
		rsvp_remove(p, r);
	}
}

/*
 * Take new settings: they apply to the next request, and a peer that
 * may no longer reserve loses its reservation now.  Returns 0, or -1
 * without memory.
 */
int
policy_configure(struct policy *p, const struct relayd_conf *rc)
{
	const struct reconf_relay	*lim = &rc->lim;
	struct peerid			*allow, *block;
	size_t				 nallow, nblock;

	if (peerlist_sorted(rc->allow, rc->nallow, &allow, &nallow) == -1)
		return -1;
	if (peerlist_sorted(rc->block, rc->nblock, &block, &nblock) == -1) {
		free(allow);
		return -1;
	}
	free(p->allow);
	free(p->block);
	p->allow = allow;
	p->nallow = nallow;
	p->block = block;
	p->nblock = nblock;
	p->enabled = lim->enabled;
	p->hop = lim->hop_enabled;
	p->rsvp_max = lim->reservations_max;
	p->rsvp_ttl = lim->reservations_ttl;
	p->rsvp_per_ip = lim->reservations_per_ip;
	p->rsvp_per_hour = lim->rsvp_per_hour;
	p->limit_duration = lim->limit_duration;
	p->limit_data = lim->limit_data;
	policy_prune(p);
	return 0;
}

void
policy_free(struct policy *p)
{
	struct rsvp	*r;
	struct rate	*rt;
	struct circuit	*c;
	struct peercount *pc;
	struct acct	*a;

	while ((r = RB_MIN(rsvp_peers, &p->rsvps)) != NULL)
		rsvp_remove(p, r);
	while ((rt = TAILQ_FIRST(&p->rate_lru)) != NULL)
		rate_remove(p, rt);
	while ((c = RB_MIN(circuits, &p->circuits)) != NULL) {
		RB_REMOVE(circuits, &p->circuits, c);
		free(c);
	}
	while ((pc = RB_MIN(peercounts, &p->peercounts)) != NULL) {
		RB_REMOVE(peercounts, &p->peercounts, pc);
		free(pc);
	}
	while ((a = TAILQ_FIRST(&p->acct_lru)) != NULL)
		acct_remove(p, a);
	free(p->allow);
	free(p->block);
	policy_init(p);
}
