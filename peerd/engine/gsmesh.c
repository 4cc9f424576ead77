/*
 * The gossipsub mesh (libp2p specs pubsub/gossipsub, v1.0 to v1.2): for
 * each topic we joined, between Dlo and Dhi peers that get every
 * message, at least Dout of them on connections we made; fanout peers
 * for topics we publish to without joining, for fanoutTTL; GRAFT and
 * PRUNE with a backoff (a GRAFT during it is a behaviour penalty, and
 * is answered with PRUNE); IHAVE to Dlazy other peers from the message
 * cache, IWANT asked and answered within bounds per heartbeat (an ID
 * several peers announce asked of one, then of another if the first
 * does not send it in time); IDONTWANT sent and kept; an IWANT's
 * promise not kept in 3 s a behaviour penalty; the delivery counts (P2,
 * P3) kept; the scores (gstopic.c) made each heartbeat: a peer under 0
 * leaves the mesh, under gossipThreshold gets no gossip and its IHAVE
 * and IWANT are ignored.  Peer exchange: the signed peer records
 * a PRUNE carries go to known.c as discovered addresses (we send none).
 * Calls conn.c, known.c, gstopic.c and gscache.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "envelope.h"
#include "gossip.h"
#include "log.h"

#define MESH_MAXIDS	5000	/* IDs in one IHAVE or IWANT of ours */
#define GOSSIP_FACTOR	4	/* IHAVE to a quarter of the others, or Dlazy */
#define SCORE_DECAY	0.99	/* of the counts, a heartbeat */
#define PX_PER_BEAT	16	/* signed records checked a peer a heartbeat */
#define MD_DECAY	0.5	/* P3, P3b: js's default topic decay */
#define MD_CAP		5	/* P3's count: at most 5 times the threshold */
#define ASKED_SLOTS	1024	/* IDs asked with IWANT, awaited */

/*
 * An ID we asked one peer for: another that announces it meanwhile is
 * not asked too, but kept (one) to ask if the first breaks its promise.
 * A slot holds one ID; while it waits, an ID of the same slot is asked
 * of whoever announces it.
 */
struct asked {
	uint64_t	 hash;
	int64_t		 until;		/* ms; 0: free */
	uint32_t	 conn;		/* the peer asked */
	uint32_t	 alt;		/* another that announced it, 0: none */
	uint8_t		 id[GS_IDMAX];
	uint8_t		 idlen;
};

static struct ps_view	 ids[MESH_MAXIDS];
static const struct gs_msg *gmsgs[MESH_MAXIDS];
static struct asked	 asked[ASKED_SLOTS];

static void
send_control(struct gs_peer *p, const struct ps_out *o)
{
	if (gpeer_send_rpc(p, o) == -1)
		log_debug("gossip: control to peer on connection %u not sent",
		    p->conn);
}

static void
send_graft(struct gs_peer *p, struct gs_topic *t)
{
	struct ps_out	 o;
	struct ps_view	 topic = { (const uint8_t *)t->name, t->len };

	memset(&o, 0, sizeof(o));
	o.graft = &topic;
	o.ngraft = 1;
	send_control(p, &o);
}

static void
send_prune(struct gs_peer *p, struct gs_topic *t)
{
	struct ps_out		 o;
	struct ps_prune_out	 pr;

	memset(&o, 0, sizeof(o));
	memset(&pr, 0, sizeof(pr));
	pr.topic.p = (const uint8_t *)t->name;
	pr.topic.len = t->len;
	if (p->kind >= GS_MESH11) {
		pr.has_backoff = 1;
		pr.backoff = gs_conf.prune_backoff / 1000;
	}
	o.prune = &pr;
	o.nprune = 1;
	send_control(p, &o);
}

static void
send_subscription(struct gs_topic *t, int on)
{
	struct gs_peer	*p;
	struct ps_out	 o;
	struct ps_sub	 sub;

	memset(&o, 0, sizeof(o));
	sub.subscribe = on;
	sub.topic.p = (const uint8_t *)t->name;
	sub.topic.len = t->len;
	o.subs = &sub;
	o.nsubs = 1;
	TAILQ_FOREACH(p, &gs_peers, entry)
		send_control(p, &o);
}

/* Out of the mesh; with a delivery deficit, P3b keeps its square. */
static void
mesh_out(struct gs_sub *s)
{
	double	 d = sub_deficit(s, gs_now());

	s->failure += d * d;
	sub_set_mesh(s, 0);
}

static void
prune(struct gs_sub *s)
{
	static struct log_limit	 ll = LOG_LIMIT("gossipsub mesh deficit");
	double			 d = sub_deficit(s, gs_now());
	char			 id[64];

	if (d > 0) {
		counters.gossip.deficit_prunes++;
		peerid_format(&s->peer->id, id, sizeof(id));
		log_limited(&ll, LOG_INFO, "gossip_mesh_deficit peer=%s "
		    "deficit=%.1f score=%.1f", id, d, s->peer->score);
	}
	mesh_out(s);
	s->backoff = gs_now() + gs_conf.prune_backoff;
	send_prune(s->peer, s->topic);
}

static void
graft(struct gs_sub *s)
{
	sub_set_mesh(s, 1);
	sub_set_fanout(s, 0);
	send_graft(s->peer, s->topic);
}

static void
on_graft(struct gs_peer *p, const struct ps_view *topic)
{
	struct gs_topic	*t;
	struct gs_sub	*s;

	counters.gossip.grafts++;
	if ((t = topic_find(topic->p, topic->len)) == NULL || !t->joined ||
	    !gs_kind_mesh(p->kind) || (s = sub_get(p, t)) == NULL)
		return;
	if (s->mesh)
		return;
	if (s->backoff > gs_now()) {
		counters.gossip.backoff_penalties++;
		gpeer_penalize(p, 0);
		prune(s);
		return;
	}
	if (t->nmesh >= gs_conf.Dhi || p->score < 0) {
		prune(s);
		return;
	}
	sub_set_mesh(s, 1);
	sub_set_fanout(s, 0);
}

/*
 * Peer exchange: the signed records a peer with a score of 0 or more
 * gives, at most PX_PER_BEAT a heartbeat, verified, to known.c.
 */
static void
on_px(struct gs_peer *p, const struct ps_prune *pr)
{
	static struct peer_record	 rec;
	struct ps_iter			 it;
	struct ps_peerinfo		 pi;
	struct peerid			 id;
	struct conn			*c;

	if ((c = conn_find(p->conn)) == NULL || p->score < 0) {
		counters.gossip.px_ignored += pr->npeers;
		return;
	}
	ps_peers_iter(pr, &it);
	while (ps_next_peer(&it, &pi) == 1) {
		if (pi.record.p == NULL || p->px_taken >= PX_PER_BEAT ||
		    peer_record_open(pi.record.p, pi.record.len, &rec) == -1 ||
		    (pi.peerid.p != NULL &&
		    (peerid_from_mh(pi.peerid.p, pi.peerid.len, &id) == -1 ||
		    !peerid_equal(&id, &rec.id))) ||
		    peerid_equal(&rec.id, &ident.peerid)) {
			counters.gossip.px_ignored++;
			continue;
		}
		p->px_taken++;
		counters.gossip.px_accepted++;
		known_px(c, &rec);
	}
}

static void
on_prune(struct gs_peer *p, const struct ps_prune *pr)
{
	struct gs_topic	*t;
	struct gs_sub	*s;
	int64_t		 backoff = gs_conf.prune_backoff;

	counters.gossip.prunes++;
	if (pr->npeers > 0)
		on_px(p, pr);
	if ((t = topic_find(pr->topic.p, pr->topic.len)) == NULL ||
	    (s = sub_find(p, t)) == NULL)
		return;
	mesh_out(s);
	if (pr->has_backoff && pr->backoff < 86400 &&
	    (int64_t)pr->backoff * 1000 > backoff)
		backoff = (int64_t)pr->backoff * 1000;
	s->backoff = gs_now() + backoff;
}

/*
 * One of the IDs we ask for, kept as the peer's promise (as go-libp2p
 * does, one an IWANT): not seen within GS_PROMISE_MS, it is a
 * behaviour penalty.  Promises past GS_PROMISES are not kept.
 */
static void
promise(struct gs_peer *p, const struct ps_view *id)
{
	int	 i;

	if (p->promises == NULL && (p->promises = calloc(GS_PROMISES,
	    sizeof(*p->promises))) == NULL)
		return;
	for (i = 0; i < GS_PROMISES; i++)
		if (p->promises[i].until == 0) {
			p->promises[i].hash = gs_idhash(id->p, id->len);
			p->promises[i].until = gs_now() + GS_PROMISE_MS;
			return;
		}
}

/* The promises due: kept, or broken and counted. */
static void
promises_check(struct gs_peer *p, int64_t now)
{
	struct gs_promise	*pr;
	int			 i;

	for (i = 0; p->promises != NULL && i < GS_PROMISES; i++) {
		pr = &p->promises[i];
		if (pr->until == 0)
			continue;
		if (seen_has_hash(pr->hash))
			pr->until = 0;
		else if (now >= pr->until) {
			pr->until = 0;
			counters.gossip.broken_promises++;
			gpeer_penalize(p, 0);
		}
	}
}

/* 1: the ID is to be asked of p (and is now awaited from it). */
static int
ask(struct gs_peer *p, const struct ps_view *id, int64_t now)
{
	uint64_t	 h = gs_idhash(id->p, id->len);
	struct asked	*a = &asked[h & (ASKED_SLOTS - 1)];

	if (a->until > now && a->hash == h) {
		if (a->conn != p->conn && a->alt == 0)
			a->alt = p->conn;
		counters.gossip.iwant_deduped++;
		return 0;
	}
	if (a->until > now)
		return 1;
	a->hash = h;
	a->until = now + GS_PROMISE_MS;
	a->conn = p->conn;
	a->alt = 0;
	memcpy(a->id, id->p, id->len);
	a->idlen = id->len;
	return 1;
}

static struct gs_peer *
peer_on(uint32_t conn)
{
	struct gs_peer	*p;

	TAILQ_FOREACH(p, &gs_peers, entry)
		if (p->conn == conn)
			return p;
	return NULL;
}

/* IDs awaited past their time: asked of the other peer, if one. */
static void
asked_sweep(int64_t now)
{
	struct asked	*a;
	struct gs_peer	*p;
	struct ps_out	 o;
	struct ps_idlist want;
	struct ps_view	 id;
	size_t		 i;

	for (i = 0; i < ASKED_SLOTS; i++) {
		a = &asked[i];
		if (a->until == 0 || (a->until > now &&
		    !seen_has_hash(a->hash)))
			continue;
		a->until = 0;
		if (seen_has_hash(a->hash) || a->alt == 0 ||
		    (p = peer_on(a->alt)) == NULL ||
		    p->score < gs_conf.gossip_thr)
			continue;
		id.p = a->id;
		id.len = a->idlen;
		memset(&o, 0, sizeof(o));
		want.ids = &id;
		want.n = 1;
		o.iwant = &want;
		o.niwant = 1;
		send_control(p, &o);
		promise(p, &id);
		counters.gossip.iwant_fallback++;
		a->until = now + GS_PROMISE_MS;
		a->conn = a->alt;
		a->alt = 0;
	}
}

/*
 * IDs we have not seen, asked for within maxIHaveLength a heartbeat,
 * of one peer at a time.
 */
static void
on_ihave(struct gs_peer *p, const struct ps_ihave *h)
{
	struct gs_topic	*t;
	struct ps_iter	 it;
	struct ps_view	 id;
	struct ps_out	 o;
	struct ps_idlist want;
	size_t		 n = 0;
	int64_t		 now = gs_now();

	if ((t = topic_find(h->topic.p, h->topic.len)) == NULL ||
	    !t->joined || p->score < gs_conf.gossip_thr)
		return;
	ps_ids_iter(&h->ids, &it);
	while (ps_next_id(&it, &id) == 1 && n < MESH_MAXIDS) {
		if (p->ihave_ids >= gs_conf.max_ihave)
			break;
		p->ihave_ids++;
		if (id.len > GS_IDMAX || seen_has(id.p, id.len) ||
		    !ask(p, &id, now))
			continue;
		ids[n++] = id;
	}
	if (n == 0)
		return;
	memset(&o, 0, sizeof(o));
	want.ids = ids;
	want.n = n;
	o.iwant = &want;
	o.niwant = 1;
	send_control(p, &o);
	promise(p, &ids[arc4random_uniform(n)]);
}

/* Each frame from the cache, at most maxIWantAnswers a heartbeat. */
static void
on_iwant(struct gs_peer *p, const struct ps_ids *want)
{
	struct ps_iter	 it;
	struct ps_view	 id;
	struct gs_msg	*m;

	if (p->score < gs_conf.gossip_thr)
		return;
	ps_ids_iter(want, &it);
	while (ps_next_id(&it, &id) == 1) {
		if (p->iwant_sent >= gs_conf.max_iwant)
			return;
		if ((m = mcache_get(id.p, id.len)) == NULL)
			continue;
		p->iwant_sent++;
		if (gpeer_send(p, m->frame, m->framelen) == 0) {
			counters.gossip.iwant_served++;
			counters.gossip.msgs_out++;
		}
	}
}

static void
on_idontwant(struct gs_peer *p, const struct ps_ids *dw)
{
	struct ps_iter	 it;
	struct ps_view	 id;

	if (p->kind != GS_MESH12)
		return;
	ps_ids_iter(dw, &it);
	while (ps_next_id(&it, &id) == 1) {
		counters.gossip.idontwant_recv++;
		gpeer_add_dontwant(p, gs_idhash(id.p, id.len));
	}
}

/* The control part of an RPC the decoder has checked. */
void
mesh_control(struct gs_peer *p, const struct ps_rpc *rpc)
{
	struct ps_iter		 it;
	struct ps_view		 topic;
	struct ps_prune		 pr;
	struct ps_ihave		 h;
	struct ps_ids		 l;

	if (rpc->control.p == NULL || !gs_kind_mesh(p->kind))
		return;
	ps_grafts(rpc, &it);
	while (ps_next_graft(&it, &topic) == 1)
		on_graft(p, &topic);
	ps_prunes(rpc, &it);
	while (ps_next_prune(&it, &pr) == 1)
		on_prune(p, &pr);
	ps_ihaves(rpc, &it);
	while (ps_next_ihave(&it, &h) == 1)
		on_ihave(p, &h);
	ps_iwants(rpc, &it);
	while (ps_next_iwant(&it, &l) == 1)
		on_iwant(p, &l);
	ps_idontwants(rpc, &it);
	while (ps_next_idontwant(&it, &l) == 1)
		on_idontwant(p, &l);
}

static void
shuffle(struct gs_sub **v, size_t n)
{
	struct gs_sub	*x;
	size_t		 i, j;

	for (i = n; i > 1; i--) {
		j = arc4random_uniform(i);
		x = v[i - 1];
		v[i - 1] = v[j];
		v[j] = x;
	}
}

/* Peers of the topic that could be grafted, or gossiped to. */
static int
eligible(const struct gs_sub *s, int64_t now)
{
	return s->subscribed && gs_kind_mesh(s->peer->kind) &&
	    s->peer->out_ready && s->backoff <= now && s->peer->score >= 0;
}

static size_t
collect(struct gs_topic *t, struct gs_sub **v, size_t max, int mesh,
    int64_t now)
{
	struct gs_sub	*s;
	size_t		 n = 0;

	LIST_FOREACH(s, &t->subs, tentry) {
		if (n >= max)
			break;
		if (mesh ? s->mesh : (!s->mesh && eligible(s, now)))
			v[n++] = s;
	}
	shuffle(v, n);
	return n;
}

static int
outbound_in_mesh(struct gs_topic *t)
{
	struct gs_sub	*s;
	int		 n = 0;

	LIST_FOREACH(s, &t->subs, tentry)
		if (s->mesh && s->peer->outbound)
			n++;
	return n;
}

/* Over Dhi: down to D, keeping Dout of the outbound ones. */
static void
mesh_trim(struct gs_topic *t, struct gs_sub **v, int64_t now)
{
	struct gs_sub	*x;
	size_t		 n, i, keep = 0;
	int		 out = 0;

	n = collect(t, v, MESH_MAXIDS, 1, now);
	for (i = 0; i < n && out < gs_conf.Dout; i++)
		if (v[i]->peer->outbound) {
			x = v[keep];
			v[keep++] = v[i];
			v[i] = x;
			out++;
		}
	for (i = gs_conf.D; i < n; i++)
		prune(v[i]);
}

/* Under Dlo: up to D, Dout outbound ones first; then Dout outbound. */
static void
mesh_fill(struct gs_topic *t, struct gs_sub **v, int64_t now)
{
	size_t	 n, i;
	int	 out = outbound_in_mesh(t);

	n = collect(t, v, MESH_MAXIDS, 0, now);
	if (t->nmesh < gs_conf.Dlo) {
		for (i = 0; i < n && out < gs_conf.Dout &&
		    t->nmesh < gs_conf.D; i++)
			if (v[i]->peer->outbound) {
				graft(v[i]);
				out++;
			}
		for (i = 0; i < n && t->nmesh < gs_conf.D; i++)
			if (!v[i]->mesh)
				graft(v[i]);
	}
	for (i = 0; i < n && out < gs_conf.Dout; i++)
		if (!v[i]->mesh && v[i]->peer->outbound) {
			graft(v[i]);
			out++;
		}
}

/* IHAVE of the recent messages to Dlazy peers outside the mesh. */
static void
mesh_gossip(struct gs_topic *t, struct gs_sub **v, int64_t now)
{
	struct ps_out		 o;
	struct ps_ihave_out	 h;
	size_t			 n, i, k, nid, want;

	if ((nid = mcache_gossip(t, gmsgs, MESH_MAXIDS)) == 0)
		return;
	for (i = 0; i < nid; i++) {
		ids[i].p = gmsgs[i]->id;
		ids[i].len = gmsgs[i]->idlen;
	}
	n = collect(t, v, MESH_MAXIDS, 0, now);
	want = n / GOSSIP_FACTOR;
	if (want < (size_t)gs_conf.Dlazy)
		want = gs_conf.Dlazy;
	memset(&o, 0, sizeof(o));
	h.topic.p = (const uint8_t *)t->name;
	h.topic.len = t->len;
	h.ids.ids = ids;
	h.ids.n = nid;
	o.ihave = &h;
	o.nihave = 1;
	for (i = 0, k = 0; i < n && k < want; i++) {
		if (v[i]->fanout || v[i]->peer->score < gs_conf.gossip_thr)
			continue;
		send_control(v[i]->peer, &o);
		counters.gossip.ihave_sent++;
		k++;
	}
}

/* Fanout: gone after fanoutTTL without a publish, else kept at D. */
static void
fanout_keep(struct gs_topic *t, struct gs_sub **v, int64_t now)
{
	struct gs_sub	*s, *next;
	size_t		 n, i;

	if (now - t->fanout_last > gs_conf.fanout_ttl) {
		LIST_FOREACH_SAFE(s, &t->subs, tentry, next)
			sub_set_fanout(s, 0);
		t->fanout_last = 0;
		return;
	}
	n = collect(t, v, MESH_MAXIDS, 0, now);
	for (i = 0; i < n && t->nfanout < gs_conf.D; i++)
		sub_set_fanout(v[i], 1);
}

static void
heartbeat_topic(struct gs_topic *t, int64_t now)
{
	static struct gs_sub	*v[MESH_MAXIDS];
	struct gs_sub		*s;

	LIST_FOREACH(s, &t->subs, tentry)
		if (s->mesh && s->peer->score < 0)
			prune(s);
	if (t->joined) {
		if (t->nmesh > gs_conf.Dhi)
			mesh_trim(t, v, now);
		mesh_fill(t, v, now);
	} else if (t->fanout_last != 0)
		fanout_keep(t, v, now);
	if (t->joined || t->fanout_last != 0)
		mesh_gossip(t, v, now);
}

static double
decay(double v, double by)
{
	return v * by < 0.1 ? 0 : v * by;
}

/* The counts decay, the peers on one IP are counted, the scores made. */
static void
scores(void)
{
	static const uint8_t	 none[16];
	struct gs_peer		*p, *q;
	struct gs_sub		*s;
	int			 same;

	TAILQ_FOREACH(p, &gs_peers, entry) {
		p->invalid = decay(p->invalid, SCORE_DECAY);
		p->penalty = decay(p->penalty, SCORE_DECAY);
		LIST_FOREACH(s, &p->subs, pentry) {
			s->deliveries = decay(s->deliveries, MD_DECAY);
			s->failure = decay(s->failure, MD_DECAY);
			s->first = decay(s->first, MD_DECAY);
		}
		same = 0;
		if (memcmp(p->ip, none, sizeof(none)) != 0)
			TAILQ_FOREACH(q, &gs_peers, entry)
				same += memcmp(p->ip, q->ip, 16) == 0;
		p->coloc = same > gs_conf.coloc_thr ?
		    same - gs_conf.coloc_thr : 0;
		gpeer_rescore(p);
	}
}

void
mesh_heartbeat(void)
{
	struct gs_topic	*t, *tn;
	struct gs_peer	*p;
	struct gs_sub	*s, *sn;
	int64_t		 now = gs_now();

	RB_FOREACH_SAFE(t, gs_topics, &gs_topics, tn) {
		heartbeat_topic(t, now);
		topic_release(t);
	}
	TAILQ_FOREACH(p, &gs_peers, entry)
		promises_check(p, now);
	asked_sweep(now);
	scores();
	TAILQ_FOREACH(p, &gs_peers, entry) {
		p->ihave_ids = 0;
		p->iwant_sent = 0;
		p->px_taken = 0;
		LIST_FOREACH_SAFE(s, &p->subs, pentry, sn)
			sub_release(s);
	}
	mcache_shift();
	seen_expire(now);
}

/* Joined: told to every peer, the mesh made from fanout first. */
void
mesh_join(struct gs_topic *t)
{
	static struct gs_sub	*v[MESH_MAXIDS];
	struct gs_sub		*s;

	if (t->joined)
		return;
	t->joined = 1;
	send_subscription(t, 1);
	LIST_FOREACH(s, &t->subs, tentry)
		if (s->fanout && t->nmesh < gs_conf.D)
			graft(s);
	t->fanout_last = 0;
	mesh_fill(t, v, gs_now());
}

/* Left: the mesh pruned, the unsubscription told to every peer. */
void
mesh_leave(struct gs_topic *t)
{
	struct gs_sub	*s;

	if (!t->joined)
		return;
	LIST_FOREACH(s, &t->subs, tentry)
		if (s->mesh)
			prune(s);
	t->joined = 0;
	send_subscription(t, 0);
	topic_release(t);
}

/* v1.2: a large message, told to the other 1.2 peers of the mesh. */
void
mesh_idontwant(struct gs_topic *t, const struct gs_peer *src,
    const struct gs_msg *m)
{
	struct gs_sub		*s;
	struct ps_out		 o;
	struct ps_idlist	 l;
	struct ps_view		 id = { m->id, m->idlen };

	memset(&o, 0, sizeof(o));
	l.ids = &id;
	l.n = 1;
	o.idontwant = &l;
	o.nidontwant = 1;
	LIST_FOREACH(s, &t->subs, tentry) {
		if (!s->mesh || s->peer == src || s->peer->kind != GS_MESH12)
			continue;
		if (gpeer_send_rpc(s->peer, &o) == 0)
			counters.gossip.idontwant_sent++;
	}
}

/*
 * P2: the first copy of a message (first), up to
 * firstMessageDeliveriesCap.  P3: from a mesh peer, the first copy, or
 * one within meshMessageDeliveriesWindow of the first, credited once
 * to a peer.
 */
void
mesh_delivered(struct gs_peer *src, struct gs_topic *t, struct gs_msg *m,
    int first)
{
	struct gs_sub	*s;

	if (src == NULL || (s = sub_find(src, t)) == NULL)
		return;
	if (first && s->first < gs_conf.fd_cap)
		s->first += 1;
	if (!s->mesh)
		return;
	if (!first && (m == NULL || m->credited == src->conn ||
	    gs_now() - m->first > gs_conf.md_window))
		return;
	if (m != NULL)
		m->credited = src->conn;
	if (s->deliveries < (double)gs_conf.md_thr * MD_CAP)
		s->deliveries += 1;
}

/* A publish to a topic we did not join: D fanout peers, if none yet. */
void
mesh_fanout(struct gs_topic *t)
{
	static struct gs_sub	*v[MESH_MAXIDS];

	fanout_keep(t, v, gs_now());
}
