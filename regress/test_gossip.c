/*
 * The gossipsub router's tables, without the network: mesh sizes after
 * heartbeats (Dlo, D, Dhi, Dout), GRAFT and PRUNE with the backoff, the
 * seen cache's expiry and bound, the message cache's windows, IDONTWANT
 * kept per peer, topics freed when nothing holds them.  gscache.c,
 * gstopic.c and gsmesh.c around stand-ins for the connections (none:
 * what the router sends goes nowhere) and the clock.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "engine.h"
#include "envelope.h"
#include "gossip.h"
#include "tap.h"

#define diag(...)	(printf("# "), printf(__VA_ARGS__), printf("\n"))

struct engine_counters	 counters;
struct conn_limits	 conn_limits;
struct gs_conf		 gs_conf;
struct bq_acct		 mem_total;
struct engine_identity	 ident;
static int64_t		 now_ms = 1000000;

int64_t
mono_ms(void)
{
	return now_ms;
}

static struct conn	 pxconn;	/* the one connection conn_find knows */
static struct peerid	 px_got[8];
static int		 npx;

struct conn *
conn_find(uint32_t id)
{
	return id == pxconn.id && id != 0 ? &pxconn : NULL;
}

struct stream *
stream_lookup(struct conn *c, uint32_t id)
{
	return NULL;
}

int
stream_write(struct stream *s, const void *p, size_t n)
{
	return -1;
}

void
stream_reset(struct stream *s)
{
}

void
conn_flush(struct conn *c)
{
}

int
conn_congested(const struct conn *c)
{
	return 0;
}

int
conn_over_budget(const struct conn *c, size_t n)
{
	return 0;
}

void
known_px(const struct conn *c, const struct peer_record *rec)
{
	if (npx < 8)
		px_got[npx++] = rec->id;
}

static void
conf_default(void)
{
	memset(&gs_conf, 0, sizeof(gs_conf));
	gs_conf.enabled = 1;
	gs_conf.D = 6;
	gs_conf.Dlo = 4;
	gs_conf.Dhi = 12;
	gs_conf.Dlazy = 6;
	gs_conf.Dout = 2;
	gs_conf.heartbeat = 1000;
	gs_conf.fanout_ttl = 60000;
	gs_conf.seen_ttl = 120000;
	gs_conf.prune_backoff = 60000;
	gs_conf.mcache_len = 5;
	gs_conf.mcache_gossip = 3;
	gs_conf.max_topics = 16;
	gs_conf.max_peer_topics = 4;
	gs_conf.max_seen = 1000;
	gs_conf.max_mcache = 100;
	gs_conf.max_ihave = 5000;
	gs_conf.max_iwant = 500;
	gs_conf.max_queue = 1 << 20;
	gs_conf.idontwant_min = 512;
	gs_conf.max_rpc = 1 << 20;
	gs_conf.gossip_thr = -10;
	gs_conf.publish_thr = -50;
	gs_conf.graylist_thr = -80;
	gs_conf.coloc_thr = 10;
}

static struct gs_peer *
peer(int i, int outbound)
{
	struct peerid	 id;
	struct gs_peer	*p;

	memset(&id, 0, sizeof(id));
	id.len = 6;
	id.mh[0] = 0x00;
	id.mh[1] = 4;
	id.mh[2] = 'p';
	id.mh[3] = 'e';
	id.mh[4] = i >> 8;
	id.mh[5] = i & 0xff;
	p = gpeer_new(100 + i, &id, GS_MESH12, outbound);
	p->out_stream = 1;
	p->out_ready = 1;
	return p;
}

static struct gs_sub *
subscribe(struct gs_peer *p, struct gs_topic *t)
{
	struct gs_sub	*s = sub_get(p, t);

	if (s != NULL && !s->subscribed) {
		s->subscribed = 1;
		t->nsubs++;
	}
	return s;
}

static int
outbound_mesh(struct gs_topic *t)
{
	struct gs_sub	*s;
	int		 n = 0;

	LIST_FOREACH(s, &t->subs, tentry)
		n += s->mesh && s->peer->outbound;
	return n;
}

/* A control message from p, through the decoder, as gossip.c does. */
static void
control(struct gs_peer *p, const struct ps_out *o)
{
	uint8_t		 buf[4096];
	size_t		 len;
	struct ps_limits l;
	struct ps_rpc	 rpc;
	char		 err[128];

	ps_limits_default(&l);
	if (ps_rpc_encode(o, buf, sizeof(buf), &len) == -1 ||
	    ps_rpc_decode(buf, len, &l, &rpc, err, sizeof(err)) == -1) {
		ok(0, "control message encodes and decodes");
		return;
	}
	mesh_control(p, &rpc);
}

static void
graft_from(struct gs_peer *p, struct gs_topic *t)
{
	struct ps_out	 o;
	struct ps_view	 v = { (const uint8_t *)t->name, t->len };

	memset(&o, 0, sizeof(o));
	o.graft = &v;
	o.ngraft = 1;
	control(p, &o);
}

static void
free_all(void)
{
	struct gs_peer	*p;

	while ((p = TAILQ_FIRST(&gs_peers)) != NULL)
		gpeer_free(p);
}

static void
test_mesh(void)
{
	struct gs_topic	*t;
	struct gs_peer	*ps[20];
	struct gs_sub	*s;
	int		 i, n, inmesh, stayed;

	conf_default();
	t = topic_get((const uint8_t *)"mesh", 4);
	mesh_join(t);
	ok(t->joined && t->nmesh == 0, "joined with no peers: empty mesh");
	for (i = 0; i < 20; i++)
		subscribe(ps[i] = peer(i, i < 3), t);
	mesh_heartbeat();
	ok(t->nmesh == gs_conf.D, "20 subscribed peers: the heartbeat grafts "
	    "D (%d): %d", gs_conf.D, t->nmesh);
	ok(outbound_mesh(t) >= gs_conf.Dout, "at least Dout outbound peers "
	    "in the mesh: %d", outbound_mesh(t));
	mesh_heartbeat();
	ok(t->nmesh == gs_conf.D, "a mesh at D stays at D: %d", t->nmesh);
	for (i = 0; i < 20; i++)
		graft_from(ps[i], t);
	ok(t->nmesh == gs_conf.Dhi, "GRAFTs from every peer: accepted up to "
	    "Dhi (%d): %d", gs_conf.Dhi, t->nmesh);
	n = 0;
	LIST_FOREACH(s, &t->subs, tentry)
		n += !s->mesh && s->backoff > now_ms;
	ok(n == 20 - gs_conf.Dhi, "the %d refused are pruned, with a "
	    "backoff: %d", 20 - gs_conf.Dhi, n);
	/* over Dhi, as if the spec's GRAFT race had let more in */
	LIST_FOREACH(s, &t->subs, tentry)
		if (!s->mesh && t->nmesh < 16) {
			s->backoff = 0;
			sub_set_mesh(s, 1);
		}
	ok(t->nmesh == 16, "16 in the mesh, over Dhi");
	mesh_heartbeat();
	ok(t->nmesh == gs_conf.D && outbound_mesh(t) >= gs_conf.Dout,
	    "the heartbeat prunes down to D, keeping Dout outbound: %d, %d "
	    "outbound", t->nmesh, outbound_mesh(t));
	/* a pruned peer's GRAFT within its backoff is a penalty */
	for (i = 0; i < 20; i++) {
		s = sub_find(ps[i], t);
		if (!s->mesh && s->backoff > now_ms)
			break;
	}
	n = counters.gossip.backoff_penalties;
	graft_from(ps[i], t);
	ok(!sub_find(ps[i], t)->mesh && counters.gossip.backoff_penalties ==
	    (uint64_t)n + 1 && ps[i]->penalty > 0, "a GRAFT during the "
	    "backoff is refused and counted as a behaviour penalty");
	/* the mesh peers go: Dlo missed, refilled from peers out of backoff */
	inmesh = 0;
	for (i = 0; i < 20; i++)
		if (sub_find(ps[i], t)->mesh) {
			gpeer_free(ps[i]);
			ps[i] = NULL;
			inmesh++;
		}
	ok(t->nmesh == 0 && inmesh == gs_conf.D, "the %d mesh peers gone: "
	    "mesh empty", inmesh);
	mesh_heartbeat();
	ok(t->nmesh == 0, "every other peer in backoff: nobody grafted");
	now_ms += gs_conf.prune_backoff + 1;
	mesh_heartbeat();
	ok(t->nmesh == gs_conf.D, "after the backoff the heartbeat grafts D "
	    "again: %d", t->nmesh);
	stayed = 0;
	for (i = 0; i < 20; i++)
		if (ps[i] != NULL && sub_find(ps[i], t) != NULL)
			stayed++;
	ok(stayed == 20 - gs_conf.D, "the other peers kept their "
	    "subscriptions: %d", stayed);
	mesh_leave(t);
	ok(!t->joined && t->nmesh == 0, "left: the mesh is pruned");
	free_all();
	ok(topic_find((const uint8_t *)"mesh", 4) == NULL, "the topic is "
	    "freed once no peer, mesh or cache holds it");
}

static void
test_seen(void)
{
	uint8_t	 id[8];
	int	 i;
	uint64_t drops;

	conf_default();
	seen_add((const uint8_t *)"first", 5);
	ok(seen_has((const uint8_t *)"first", 5) &&
	    !seen_has((const uint8_t *)"other", 5), "seen: an ID added is "
	    "there, another is not");
	now_ms += gs_conf.seen_ttl - 1;
	seen_expire(now_ms);
	ok(seen_has((const uint8_t *)"first", 5), "still there just before "
	    "seenTTL");
	now_ms += 1;
	seen_expire(now_ms);
	ok(!seen_has((const uint8_t *)"first", 5) && seen_count() == 0,
	    "gone at seenTTL");
	drops = counters.gossip.drop_limits;
	for (i = 0; i < 1500; i++) {
		memcpy(id, &i, sizeof(i));
		seen_add(id, sizeof(id));
	}
	ok(seen_count() == (size_t)gs_conf.max_seen &&
	    counters.gossip.drop_limits - drops == 500, "bounded by maxSeen: "
	    "%zu entries, the 500 oldest dropped and counted", seen_count());
	i = 0;
	memcpy(id, &i, sizeof(i));
	ok(!seen_has(id, sizeof(id)), "the oldest went first");
	i = 1499;
	memcpy(id, &i, sizeof(i));
	ok(seen_has(id, sizeof(id)), "the newest is kept");
	now_ms += gs_conf.seen_ttl;
	seen_expire(now_ms);
	ok(seen_count() == 0, "all expire");
}

static void
test_mcache(void)
{
	struct gs_topic		*t, *u;
	const struct gs_msg	*out[64];
	char			 id[16];
	int			 i;
	size_t			 n;

	conf_default();
	t = topic_get((const uint8_t *)"mc", 2);
	u = topic_get((const uint8_t *)"other", 5);
	t->joined = u->joined = 1;
	for (i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		mcache_put(i % 2 ? u : t, (uint8_t *)id, strlen(id),
		    (const uint8_t *)"frame", 5);
		mcache_shift();
	}
	/*
	 * Windows, the current (empty) one included: m5 in the one before,
	 * m1 six back and m0 seven back are past mcacheLength.
	 */
	ok(mcache_get((const uint8_t *)"m0", 2) == NULL &&
	    mcache_get((const uint8_t *)"m1", 2) == NULL &&
	    mcache_get((const uint8_t *)"m2", 2) != NULL &&
	    mcache_get((const uint8_t *)"m5", 2) != NULL, "mcache: "
	    "mcacheLength (5) windows kept, the older gone");
	n = mcache_gossip(t, out, 64);
	ok(n == 1 && memcmp(out[0]->id, "m4", 2) == 0, "gossip: topic mc "
	    "in the last mcacheGossip (3) windows: m4 only (%zu)", n);
	n = mcache_gossip(u, out, 64);
	ok(n == 1 && memcmp(out[0]->id, "m5", 2) == 0, "gossip: topic "
	    "other: m5 only, m3 is older (%zu)", n);
	ok(mcache_get((const uint8_t *)"m5", 2)->framelen == 5 &&
	    memcmp(mcache_get((const uint8_t *)"m5", 2)->frame, "frame", 5) ==
	    0, "the frame is kept as given, for IWANT");
	for (i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "b%d", i);
		mcache_put(t, (uint8_t *)id, strlen(id),
		    (const uint8_t *)"x", 1);
	}
	ok(mcache_count() == (size_t)gs_conf.max_mcache &&
	    mcache_get((const uint8_t *)"b0", 2) == NULL &&
	    mcache_get((const uint8_t *)"b199", 4) != NULL,
	    "bounded by maxCacheEntries (%zu), the oldest dropped",
	    mcache_count());
	t->joined = u->joined = 0;
	mcache_clear();
	topic_release(t);
	topic_release(u);
	ok(topic_find((const uint8_t *)"mc", 2) == NULL &&
	    mcache_count() == 0, "cleared: the topics the cache held go");
}

static void
test_bounds(void)
{
	struct gs_peer	*p;
	struct gs_topic	*t;
	char		 name[16];
	int		 i, subs = 0, topics = 0;

	conf_default();
	p = peer(1, 0);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		if ((t = topic_get((uint8_t *)name, strlen(name))) != NULL) {
			topics++;
			if (subscribe(p, t) != NULL)
				subs++;
		}
	}
	ok(subs == gs_conf.max_peer_topics, "a peer's subscriptions bounded "
	    "by maxTopicsPerPeer: %d", subs);
	for (i = 10; i < 40; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		if (topic_get((uint8_t *)name, strlen(name)) != NULL)
			topics++;
	}
	ok(topics == gs_conf.max_topics, "topics bounded by maxTopics: %d",
	    topics);
	for (i = 0; i < 300; i++)
		gpeer_add_dontwant(p, 1000 + i);
	ok(!gpeer_dontwant(p, 1000) && gpeer_dontwant(p, 1299) &&
	    gpeer_dontwant(p, 1300 - GS_DONTWANT), "IDONTWANT: the last %d "
	    "kept a peer", GS_DONTWANT);
	free_all();
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		if ((t = topic_find((uint8_t *)name, strlen(name))) != NULL)
			topic_release(t);
	}
	ok(RB_EMPTY(&gs_topics), "every topic freed");
}

static void
test_score(void)
{
	struct gs_topic	*t;
	struct gs_peer	*p, *q[12];
	struct gs_sub	*s;
	int		 i;

	conf_default();
	t = topic_get((const uint8_t *)"score", 5);
	mesh_join(t);
	p = peer(500, 0);
	s = subscribe(p, t);
	mesh_heartbeat();
	ok(s->mesh && p->score == 0, "a good peer: score 0, in the mesh");
	for (i = 0; i < 3; i++)
		gpeer_penalize(p, 1);
	ok(p->score == -9 && p->score > gs_conf.gossip_thr, "3 invalid "
	    "messages: score -9 (%.1f), above gossipThreshold", p->score);
	mesh_heartbeat();
	ok(!s->mesh && s->backoff > now_ms, "a negative score: pruned from "
	    "the mesh at the heartbeat, with a backoff");
	for (i = 0; i < 6; i++)
		gpeer_penalize(p, 1);
	ok(p->score < gs_conf.graylist_thr, "9 invalid: under "
	    "graylistThreshold (%.1f)", p->score);
	for (i = 0; i < 2000 && p->score < 0; i++)
		mesh_heartbeat();
	ok(p->score == 0 && i > 100, "the counts decay: back to 0 after %d "
	    "heartbeats", i);
	gpeer_free(p);
	for (i = 0; i < 12; i++) {
		q[i] = peer(600 + i, 0);
		memset(q[i]->ip, 0, 16);
		q[i]->ip[15] = i < 11 ? 1 : 2;
	}
	mesh_heartbeat();
	ok(q[0]->coloc == 11 - gs_conf.coloc_thr && q[0]->score == -1 &&
	    q[11]->score == 0, "11 peers on one IP: each scored for the one "
	    "over ipColocationFactorThreshold (%.1f); alone on another: 0",
	    q[0]->score);
	mesh_leave(t);
	free_all();
}

/* P3: a mesh peer that delivers too little, once active, is pruned. */
static void
test_deficit(void)
{
	struct gs_topic	*t;
	struct gs_peer	*p, *q, *r;
	struct gs_sub	*sp, *sq, *sr;
	struct gs_msg	*m;
	int		 i, j;

	conf_default();
	gs_conf.md_weight = -1;
	gs_conf.md_thr = 4;
	gs_conf.md_window = 10;
	gs_conf.md_activation = 5000;
	gs_conf.mf_weight = -1;
	t = topic_get((const uint8_t *)"p3", 2);
	mesh_join(t);
	p = peer(900, 0);
	q = peer(901, 0);
	r = peer(902, 0);
	sp = subscribe(p, t);
	sq = subscribe(q, t);
	sr = subscribe(r, t);
	mesh_heartbeat();
	ok(sp->mesh && sq->mesh && sr->mesh, "three peers in the mesh");
	for (i = 0; i < 4; i++) {
		now_ms += 1000;
		for (j = 0; j < 8; j++)
			mesh_delivered(q, t, NULL, 1);
		mesh_heartbeat();
	}
	ok(sp->mesh && p->score == 0 && sub_deficit(sp, now_ms) == 0,
	    "nothing delivered, before meshMessageDeliveriesActivation: "
	    "no deficit, score %.1f", p->score);
	for (i = 0; i < 2; i++) {
		now_ms += 1000;
		for (j = 0; j < 8; j++)
			mesh_delivered(q, t, NULL, 1);
		mesh_heartbeat();
	}
	ok(!sp->mesh && sp->backoff > now_ms && p->score < 0,
	    "after activation, under the threshold: score %.1f, pruned",
	    p->score);
	ok(sq->mesh && q->score == 0, "the peer that delivers stays, "
	    "score %.1f (deliveries %.1f)", q->score, sq->deliveries);
	ok(sp->failure > 0 && p->score <= gs_conf.mf_weight * sp->failure,
	    "P3b: the deficit at the prune stays in the score (%.1f)",
	    p->score);
	sub_set_mesh(sr, 1);
	sr->deliveries = 0;
	m = mcache_put(t, (const uint8_t *)"late", 4, (const uint8_t *)"f",
	    1);
	mesh_delivered(q, t, m, 1);
	now_ms += gs_conf.md_window;
	mesh_delivered(r, t, m, 0);
	mesh_delivered(r, t, m, 0);
	ok(sr->deliveries == 1, "a copy within the window counts, once: %.1f",
	    sr->deliveries);
	m = mcache_put(t, (const uint8_t *)"later", 5, (const uint8_t *)"f",
	    1);
	now_ms += gs_conf.md_window + 1;
	mesh_delivered(r, t, m, 0);
	ok(sr->deliveries == 1, "a copy after the window does not: %.1f",
	    sr->deliveries);
	for (i = 0; i < 50; i++)
		mesh_heartbeat();
	ok(p->score == 0 && sp->failure == 0, "P3b decays: score %.1f",
	    p->score);
	mesh_leave(t);
	mcache_clear();
	free_all();
}

static void
ihave_from(struct gs_peer *p, struct gs_topic *t, const char *id)
{
	struct ps_out		 o;
	struct ps_ihave_out	 h;
	struct ps_view		 v = { (const uint8_t *)id, strlen(id) };

	memset(&o, 0, sizeof(o));
	h.topic.p = (const uint8_t *)t->name;
	h.topic.len = t->len;
	h.ids.ids = &v;
	h.ids.n = 1;
	o.ihave = &h;
	o.nihave = 1;
	control(p, &o);
}

static void
test_promises(void)
{
	struct gs_topic	*t;
	struct gs_peer	*p;

	conf_default();
	t = topic_get((const uint8_t *)"pr", 2);
	mesh_join(t);
	p = peer(800, 0);
	subscribe(p, t);
	ihave_from(p, t, "promised-1");
	now_ms += GS_PROMISE_MS - 1;
	mesh_heartbeat();
	ok(counters.gossip.broken_promises == 0 && p->penalty == 0,
	    "IHAVE, our IWANT: not due yet");
	now_ms += 1;
	mesh_heartbeat();
	ok(counters.gossip.broken_promises == 1 && p->penalty > 0,
	    "the message not seen in %d ms: a broken promise, a behaviour "
	    "penalty", GS_PROMISE_MS);
	ihave_from(p, t, "promised-2");
	seen_add((const uint8_t *)"promised-2", 10);
	now_ms += GS_PROMISE_MS;
	mesh_heartbeat();
	ok(counters.gossip.broken_promises == 1, "a promise kept: no "
	    "penalty");
	ihave_from(p, t, "promised-2");
	ok(p->promises[0].until == 0 && p->promises[1].until == 0,
	    "an ID already seen is not asked for, nor promised");
	mesh_leave(t);
	free_all();
}

/* P2: first deliveries raise the score, up to the cap, and decay. */
static void
test_first(void)
{
	struct gs_topic	*t;
	struct gs_peer	*p;
	struct gs_sub	*s;
	int		 i;

	conf_default();
	gs_conf.fd_weight = 2;
	gs_conf.fd_cap = 3;
	t = topic_get((const uint8_t *)"p2", 2);
	mesh_join(t);
	p = peer(920, 0);
	s = subscribe(p, t);
	mesh_delivered(p, t, NULL, 1);
	mesh_delivered(p, t, NULL, 0);
	gpeer_rescore(p);
	ok(s->first == 1 && p->score == 2, "a first delivery counts, a "
	    "copy does not: score %.1f", p->score);
	for (i = 0; i < 5; i++)
		mesh_delivered(p, t, NULL, 1);
	gpeer_rescore(p);
	ok(s->first == 3 && p->score == 6, "up to "
	    "firstMessageDeliveriesCap: score %.1f", p->score);
	for (i = 0; i < 10; i++)
		mesh_heartbeat();
	ok(s->first == 0 && p->score == 0, "and decays: score %.1f",
	    p->score);
	mesh_leave(t);
	free_all();
}

/* An ID announced by two: asked of one; of the other if it fails. */
static void
test_iwant_once(void)
{
	struct gs_topic	*t;
	struct gs_peer	*a, *b;
	int		 i, pa = 0, pb = 0;
	uint64_t	 broken = counters.gossip.broken_promises;

	conf_default();
	t = topic_get((const uint8_t *)"once", 4);
	mesh_join(t);
	a = peer(950, 0);
	b = peer(951, 0);
	subscribe(a, t);
	subscribe(b, t);
	ihave_from(a, t, "twice-announced");
	ihave_from(b, t, "twice-announced");
	for (i = 0; i < GS_PROMISES; i++) {
		pa += a->promises != NULL && a->promises[i].until != 0;
		pb += b->promises != NULL && b->promises[i].until != 0;
	}
	ok(pa == 1 && pb == 0 && counters.gossip.iwant_deduped == 1,
	    "an ID announced by two in one heartbeat: one IWANT, to the "
	    "first (promises %d and %d)", pa, pb);
	ihave_from(b, t, "twice-announced");
	ok(counters.gossip.iwant_deduped == 2 && (b->promises == NULL ||
	    b->promises[0].until == 0), "announced again: still not asked");
	now_ms += GS_PROMISE_MS;
	mesh_heartbeat();
	ok(counters.gossip.iwant_fallback == 1 && b->promises != NULL &&
	    b->promises[0].until != 0 &&
	    counters.gossip.broken_promises == broken + 1 && a->penalty > 0,
	    "the first broke its promise (a penalty): the ID asked of the "
	    "other");
	seen_add((const uint8_t *)"twice-announced", 15);
	now_ms += GS_PROMISE_MS;
	mesh_heartbeat();
	ihave_from(a, t, "twice-announced");
	ok(counters.gossip.iwant_fallback == 1 &&
	    counters.gossip.iwant_deduped == 2, "the other kept it: nothing "
	    "more asked");
	mesh_leave(t);
	free_all();
}

/* The heap the router's tables take, measured: per peer, topic, ID. */
static void
test_memory(void)
{
	struct gs_topic	*t[4];
	struct gs_peer	*p;
	char		 name[16];
	uint8_t		 id[8];
	size_t		 base, used;
	int		 i, k;

	conf_default();
	gs_conf.max_peer_topics = 8;
	gs_conf.max_seen = 100000;
	base = mallinfo2().uordblks;
	for (k = 0; k < 4; k++) {
		snprintf(name, sizeof(name), "/mem/topic/%d", k);
		t[k] = topic_get((uint8_t *)name, strlen(name));
		t[k]->joined = 1;
	}
	used = mallinfo2().uordblks - base;
	diag("a topic: %zu bytes (a 12-byte name)", used / 4);
	ok(used / 4 <= 192, "a topic takes at most 192 bytes: %zu",
	    used / 4);
	base = mallinfo2().uordblks;
	for (i = 0; i < 1000; i++)
		peer(2000 + i, 0);
	used = mallinfo2().uordblks - base;
	diag("a peer: %zu bytes", used / 1000);
	ok(used / 1000 <= 320, "a pubsub peer takes at most 320 bytes: %zu",
	    used / 1000);
	base = mallinfo2().uordblks;
	TAILQ_FOREACH(p, &gs_peers, entry)
		for (k = 0; k < 4; k++)
			subscribe(p, t[k]);
	used = mallinfo2().uordblks - base;
	diag("a subscription: %zu bytes", used / 4000);
	ok(used / 4000 <= 96, "a subscription takes at most 96 bytes: %zu",
	    used / 4000);
	base = mallinfo2().uordblks;
	for (i = 0; i < 10000; i++) {
		memcpy(id, &i, sizeof(i));
		seen_add(id, sizeof(id));
	}
	used = mallinfo2().uordblks - base;
	diag("a seen ID: %zu bytes", used / 10000);
	ok(used / 10000 <= 64, "a seen ID takes at most 64 bytes: %zu",
	    used / 10000);
	for (k = 0; k < 4; k++)
		t[k]->joined = 0;
	free_all();
	mcache_clear();
	ok(RB_EMPTY(&gs_topics) && seen_count() == 0, "all freed");
}

/* A signed peer record of a new Ed25519 key, its ID in id. */
static size_t
signed_record(uint8_t *out, size_t outsz, struct peerid *id)
{
	static struct peer_record	 rec;
	uint8_t		 pk[32], sk[64], pubpb[ED25519_PUBKEY_PB_LEN];
	uint8_t		 payload[512], sbuf[1024], sig[64];
	size_t		 plen, slen, n;
	struct envelope	 env;
	char		 err[64];

	crypto_sign_keypair(pk, sk);
	pb_ed25519_pubkey(pk, pubpb, sizeof(pubpb));
	memset(&rec, 0, sizeof(rec));
	peerid_from_pubkey_pb(pubpb, sizeof(pubpb), &rec.id);
	rec.seq = 1;
	maddr_parse("/ip4/127.0.0.1/tcp/4001", &rec.addrs[0], err,
	    sizeof(err));
	rec.naddrs = 1;
	*id = rec.id;
	if (peer_record_encode(&rec, payload, sizeof(payload), &plen) == -1 ||
	    envelope_signing_buf(ENVELOPE_DOMAIN_PEER_RECORD,
	    ENVELOPE_PTYPE_PEER_RECORD, ENVELOPE_PTYPE_LEN, payload, plen,
	    sbuf, sizeof(sbuf), &slen) == -1)
		return 0;
	crypto_sign_detached(sig, NULL, sbuf, slen, sk);
	memset(&env, 0, sizeof(env));
	env.pubkey = pubpb;
	env.pubkeylen = sizeof(pubpb);
	env.ptype = ENVELOPE_PTYPE_PEER_RECORD;
	env.ptypelen = ENVELOPE_PTYPE_LEN;
	env.payload = payload;
	env.payloadlen = plen;
	env.sig = sig;
	env.siglen = sizeof(sig);
	if (envelope_encode(&env, out, outsz, &n) == -1)
		return 0;
	return n;
}

static void
test_px(void)
{
	struct gs_topic		*t;
	struct gs_peer		*p;
	struct ps_out		 o;
	struct ps_prune_out	 pr;
	struct ps_peerinfo	 pi[3];
	struct peerid		 ida, idb, other;
	uint8_t			 ra[512], rb[512];
	size_t			 la, lb;

	conf_default();
	t = topic_get((const uint8_t *)"px", 2);
	mesh_join(t);
	p = peer(700, 0);
	pxconn.id = p->conn;
	subscribe(p, t);
	la = signed_record(ra, sizeof(ra), &ida);
	lb = signed_record(rb, sizeof(rb), &idb);
	signed_record(rb + 0, 0, &other);
	memset(pi, 0, sizeof(pi));
	pi[0].peerid.p = ida.mh;
	pi[0].peerid.len = ida.len;
	pi[0].record.p = ra;
	pi[0].record.len = la;
	/* b's record under another peer ID: refused */
	pi[1].peerid.p = other.mh;
	pi[1].peerid.len = other.len;
	pi[1].record.p = rb;
	pi[1].record.len = lb;
	/* a's record with a byte of its signature changed: refused */
	ra[la - 1] ^= 1;
	memset(&pr, 0, sizeof(pr));
	pr.topic.p = (const uint8_t *)t->name;
	pr.topic.len = t->len;
	pr.peers = pi;
	pr.npeers = 2;
	memset(&o, 0, sizeof(o));
	o.prune = &pr;
	o.nprune = 1;
	control(p, &o);
	ok(npx == 0 && counters.gossip.px_ignored == 2, "PX: a record with "
	    "a bad signature and one under another ID are not taken");
	ra[la - 1] ^= 1;
	pi[1].peerid.p = idb.mh;
	pi[1].peerid.len = idb.len;
	control(p, &o);
	ok(npx == 2 && peerid_equal(&px_got[0], &ida) &&
	    peerid_equal(&px_got[1], &idb) &&
	    counters.gossip.px_accepted == 2, "PX: the signed records of a "
	    "PRUNE go to known.c (%d)", npx);
	gpeer_penalize(p, 1);
	control(p, &o);
	ok(npx == 2 && counters.gossip.px_ignored == 4, "PX: none taken from "
	    "a peer with a negative score");
	mesh_leave(t);
	free_all();
	pxconn.id = 0;
}

int
main(void)
{
	conf_default();
	seen_init();
	conn_limits.stream_buffer = 1 << 20;
	test_mesh();
	test_seen();
	test_mcache();
	test_bounds();
	test_score();
	test_px();
	test_promises();
	test_deficit();
	test_iwant_once();
	test_first();
	test_memory();
	return tap_done();
}
