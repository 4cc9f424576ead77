/*
 * The gossipsub router's tables: topics (at most gossipSub.maxTopics),
 * pubsub peers, and what each peer has with each topic (at most
 * gossipSub.maxTopicsPerPeer a peer); and the output to a peer, on its
 * one outbound stream, within gossipSub.maxPeerQueue: over it the
 * frame is dropped for that peer and counted.  Calls conn.c, yamux.c
 * and gscache.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gossip.h"
#include "log.h"

#define GS_RPCBUF	(256 * 1024)	/* one RPC of ours, control included */

struct gs_peers		 gs_peers = TAILQ_HEAD_INITIALIZER(gs_peers);
struct gs_topics	 gs_topics = RB_INITIALIZER(&gs_topics);
static int		 ntopics;
static uint32_t		*flushq;	/* connections written to */
static size_t		 nflush, flushcap;

int
gs_topic_cmp(struct gs_topic *a, struct gs_topic *b)
{
	size_t	 n = a->len < b->len ? a->len : b->len;
	int	 r;

	if ((r = memcmp(a->name, b->name, n)) != 0)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

RB_GENERATE(gs_topics, gs_topic, entry, gs_topic_cmp)

struct gs_topic *
topic_find(const uint8_t *name, size_t len)
{
	struct gs_topic	 key;

	key.name = (char *)(uintptr_t)name;
	key.len = len;
	return RB_FIND(gs_topics, &gs_topics, &key);
}

/* Found or made; NULL over maxTopics, counted and logged. */
struct gs_topic *
topic_get(const uint8_t *name, size_t len)
{
	static struct log_limit	 ll = LOG_LIMIT("gossipsub topics full");
	struct gs_topic		*t;

	if ((t = topic_find(name, len)) != NULL)
		return t;
	if (len == 0 || len > GS_TOPICMAX)
		return NULL;
	if (ntopics >= gs_conf.max_topics) {
		counters.gossip.drop_limits++;
		log_limited(&ll, LOG_INFO, "gossip_topics_full topics=%d",
		    ntopics);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->name = malloc(len + 1)) == NULL) {
		free(t);
		return NULL;
	}
	memcpy(t->name, name, len);
	t->name[len] = '\0';
	t->len = len;
	LIST_INIT(&t->subs);
	RB_INSERT(gs_topics, &gs_topics, t);
	ntopics++;
	return t;
}

/* Freed once nothing holds it. */
void
topic_release(struct gs_topic *t)
{
	if (t->joined || t->refs > 0 || t->watchers > 0 ||
	    !LIST_EMPTY(&t->subs) ||
	    t->fanout_last != 0)
		return;
	RB_REMOVE(gs_topics, &gs_topics, t);
	free(t->name);
	free(t);
	ntopics--;
}

struct gs_sub *
sub_find(struct gs_peer *p, struct gs_topic *t)
{
	struct gs_sub	*s;

	LIST_FOREACH(s, &p->subs, pentry)
		if (s->topic == t)
			return s;
	return NULL;
}

struct gs_sub *
sub_get(struct gs_peer *p, struct gs_topic *t)
{
	static struct log_limit	 ll = LOG_LIMIT("gossipsub peer topics full");
	struct gs_sub		*s;
	char			 id[64];

	if ((s = sub_find(p, t)) != NULL)
		return s;
	if (p->nsubs >= gs_conf.max_peer_topics) {
		counters.gossip.drop_limits++;
		peerid_format(&p->id, id, sizeof(id));
		log_limited(&ll, LOG_INFO, "gossip_peer_topics_full peer=%s "
		    "topics=%d", id, p->nsubs);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->peer = p;
	s->topic = t;
	LIST_INSERT_HEAD(&p->subs, s, pentry);
	LIST_INSERT_HEAD(&t->subs, s, tentry);
	p->nsubs++;
	return s;
}

void
sub_set_mesh(struct gs_sub *s, int on)
{
	if (s->mesh == on)
		return;
	s->mesh = on;
	s->topic->nmesh += on ? 1 : -1;
	if (on)
		s->grafted = gs_now();
}

void
sub_set_fanout(struct gs_sub *s, int on)
{
	if (s->fanout == on)
		return;
	s->fanout = on;
	s->topic->nfanout += on ? 1 : -1;
}

static void
sub_free(struct gs_sub *s)
{
	struct gs_topic	*t = s->topic;

	sub_set_mesh(s, 0);
	sub_set_fanout(s, 0);
	if (s->subscribed)
		t->nsubs--;
	LIST_REMOVE(s, pentry);
	LIST_REMOVE(s, tentry);
	s->peer->nsubs--;
	free(s);
	topic_release(t);
}

/* Freed when it holds nothing: no subscription, mesh, fanout, backoff. */
void
sub_release(struct gs_sub *s)
{
	if (s->subscribed || s->mesh || s->fanout || s->backoff > gs_now())
		return;
	sub_free(s);
}

struct gs_peer *
gpeer_find(const struct peerid *id)
{
	struct gs_peer	*p;

	TAILQ_FOREACH(p, &gs_peers, entry)
		if (peerid_equal(&p->id, id))
			return p;
	return NULL;
}

struct gs_peer *
gpeer_new(uint32_t conn, const struct peerid *id, enum gs_kind kind,
    int outbound)
{
	struct gs_peer	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->conn = conn;
	p->id = *id;
	p->kind = kind;
	p->outbound = outbound;
	LIST_INIT(&p->subs);
	TAILQ_INSERT_TAIL(&gs_peers, p, entry);
	return p;
}

static void
gpeer_drop_stream(uint32_t conn, uint32_t id)
{
	struct conn	*c;
	struct stream	*s;

	if (id == 0 || (c = conn_find(conn)) == NULL ||
	    (s = stream_lookup(c, id)) == NULL)
		return;
	s->ctx = NULL;
	stream_reset(s);
}

/* Everything it had goes; its streams are reset. */
void
gpeer_free(struct gs_peer *p)
{
	struct gs_sub	*s;

	while ((s = LIST_FIRST(&p->subs)) != NULL)
		sub_free(s);
	TAILQ_REMOVE(&gs_peers, p, entry);
	gpeer_drop_stream(p->conn, p->out_stream);
	gpeer_drop_stream(p->conn, p->in_stream);
	free(p->dontwant);
	free(p->promises);
	bq_free(&p->big);
	free(p);
}

/*
 * P3 of gossipsub v1.1: what a mesh peer owes of
 * meshMessageDeliveriesThreshold, once it has been in the mesh for
 * meshMessageDeliveriesActivation; 0 while meshMessageDeliveriesWeight
 * is 0 (off, as in js-libp2p, which scores no topic by default).
 */
double
sub_deficit(const struct gs_sub *s, int64_t now)
{
	if (gs_conf.md_weight == 0 || !s->mesh ||
	    now - s->grafted < gs_conf.md_activation ||
	    s->deliveries >= gs_conf.md_thr)
		return 0;
	return gs_conf.md_thr - s->deliveries;
}

/*
 * The score of gossipsub v1.1: invalid messages (P4), IP colocation
 * (P6) and behaviour penalties (P7), each squared, each of weight -1;
 * the counts decay by SCORE_DECAY a heartbeat.  With the default
 * thresholds 9 invalid messages (or GRAFTs in backoff) graylist a peer,
 * and 4 stop gossip with it.  Per topic, the mesh delivery deficit
 * squared (P3) and the penalty of leaving the mesh with one (P3b),
 * each with its weight, and the first deliveries (P2), capped.
 */
void
gpeer_rescore(struct gs_peer *p)
{
	struct gs_sub	*s;
	double		 d;
	int64_t		 now = gs_now();

	p->score = -(p->invalid * p->invalid) - (p->penalty * p->penalty) -
	    (double)p->coloc * p->coloc;
	LIST_FOREACH(s, &p->subs, pentry) {
		d = sub_deficit(s, now);
		p->score += gs_conf.md_weight * d * d +
		    gs_conf.mf_weight * s->failure +
		    gs_conf.fd_weight * s->first;
	}
}

/* invalid: an invalid message, else a behaviour penalty. */
void
gpeer_penalize(struct gs_peer *p, int invalid)
{
	if (invalid)
		p->invalid += 1;
	else
		p->penalty += 1;
	gpeer_rescore(p);
}

int
gs_kind_mesh(enum gs_kind k)
{
	return k != GS_FLOOD;
}

/*
 * One frame to the peer, as it is: over its budget, or before its
 * stream is agreed, it is dropped for that peer (and counted).
 */
int
gpeer_send(struct gs_peer *p, const uint8_t *frame, size_t len)
{
	static struct log_limit	 ll = LOG_LIMIT("gossipsub peer over budget");
	struct conn		*c;
	struct stream		*s;
	size_t			 direct = 0, queued;
	char			 id[64];

	if (!p->out_ready || (c = conn_find(p->conn)) == NULL ||
	    (s = stream_lookup(c, p->out_stream)) == NULL)
		return -1;
	/* what stream_write sends at once, within the window; the rest waits */
	if (s->out.len == 0 && !conn_congested(c))
		direct = len < s->send_window ? len : s->send_window;
	queued = s->out.len + len - direct;
	if (queued > (uint64_t)gs_conf.max_queue ||
	    queued > conn_limits.stream_buffer || conn_over_budget(c, len)) {
		counters.gossip.drop_queue++;
		peerid_format(&p->id, id, sizeof(id));
		log_limited(&ll, LOG_INFO, "gossip_peer_queue_full peer=%s "
		    "queued=%zu frame=%zu", id, s->out.len, len);
		return -1;
	}
	if (stream_write(s, frame, len) == -1) {
		s->ctx = NULL;
		stream_reset(s);
		p->out_stream = 0;
		p->out_ready = 0;
		return -1;
	}
	gpeer_dirty(p);
	return 0;
}

/* Its connection is flushed by gs_flush(), once, when the work is done. */
void
gpeer_dirty(struct gs_peer *p)
{
	uint32_t	*q;
	size_t		 cap;

	if (p->dirty)
		return;
	if (nflush == flushcap) {
		cap = flushcap == 0 ? 64 : flushcap * 2;
		if ((q = reallocarray(flushq, cap, sizeof(*q))) == NULL)
			return;	/* flushed by the engine's sweep instead */
		flushq = q;
		flushcap = cap;
	}
	flushq[nflush++] = p->conn;
	p->dirty = 1;
}

/*
 * The connections written to, but skip: a flush may close one (and so
 * free its peer), which is why it waits until the router's tables are
 * no longer walked; skip is the connection whose input runs, which
 * conn.c flushes when it returns.
 */
void
gs_flush(uint32_t skip)
{
	struct gs_peer	*p;
	struct conn	*c;
	size_t		 i, n = nflush;

	TAILQ_FOREACH(p, &gs_peers, entry)
		p->dirty = 0;
	nflush = 0;
	for (i = 0; i < n; i++)
		if (flushq[i] != skip && (c = conn_find(flushq[i])) != NULL)
			conn_flush(c);
}

int
gpeer_send_rpc(struct gs_peer *p, const struct ps_out *o)
{
	static uint8_t	 buf[GS_RPCBUF];
	size_t		 len, n;

	if (ps_rpc_encode(o, buf + UVARINT_MAXLEN, sizeof(buf) -
	    UVARINT_MAXLEN, &len) == -1)
		return -1;
	if ((n = uvarint_frame_write(buf + UVARINT_MAXLEN, len, len, buf,
	    sizeof(buf))) == 0)
		return -1;
	return gpeer_send(p, buf, n);
}

int
gpeer_dontwant(const struct gs_peer *p, uint64_t h)
{
	int	 i;

	if (p->dontwant == NULL)
		return 0;
	for (i = 0; i < p->ndontwant; i++)
		if (p->dontwant[i] == h)
			return 1;
	return 0;
}

/* Kept in a ring of GS_DONTWANT: the oldest are forgotten. */
void
gpeer_add_dontwant(struct gs_peer *p, uint64_t h)
{
	if (p->dontwant == NULL &&
	    (p->dontwant = calloc(GS_DONTWANT, sizeof(uint64_t))) == NULL)
		return;
	if (p->ndontwant < GS_DONTWANT)
		p->dontwant[p->ndontwant++] = h;
	else {
		memmove(p->dontwant, p->dontwant + 1,
		    (GS_DONTWANT - 1) * sizeof(uint64_t));
		p->dontwant[GS_DONTWANT - 1] = h;
	}
}

/* A peer's SUBSCRIBE or UNSUBSCRIBE. */
void
sub_apply(struct gs_peer *p, const struct ps_sub *sub)
{
	struct gs_topic	*t;
	struct gs_sub	*s;

	if (sub->subscribe) {
		if ((t = topic_get(sub->topic.p, sub->topic.len)) == NULL)
			return;
		if ((s = sub_get(p, t)) == NULL) {
			topic_release(t);
			return;
		}
		if (!s->subscribed) {
			s->subscribed = 1;
			t->nsubs++;
		}
		return;
	}
	if ((t = topic_find(sub->topic.p, sub->topic.len)) == NULL ||
	    (s = sub_find(p, t)) == NULL)
		return;
	if (s->subscribed) {
		s->subscribed = 0;
		t->nsubs--;
	}
	sub_set_mesh(s, 0);
	sub_set_fanout(s, 0);
	sub_release(s);
}
