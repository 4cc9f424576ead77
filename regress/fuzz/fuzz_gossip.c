/*
 * The gossipsub router's tables under RPCs as peers send them: the
 * input is a run of records, each a control byte (bits 0-1: which of
 * four peers sends it; bit 2: a heartbeat first; bit 3: the clock moves
 * past the backoff; bit 4: that peer's connection is outbound) and a
 * uvarint-framed RPC.  Subscriptions are applied as gossip.c does, new
 * messages go to the seen and message caches (unverified: the tables
 * are under test here), control goes to gsmesh.c.  After each record
 * the counts the tables keep must match what they hold and every bound
 * must hold; at the end everything is freed.  gscache.c, gstopic.c and
 * gsmesh.c around stand-ins for the connections and the clock.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "envelope.h"
#include "gossip.h"
#include "varint.h"

#define NPEERS	4

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct engine_counters	 counters;
struct conn_limits	 conn_limits;
struct gs_conf		 gs_conf;
struct bq_acct		 mem_total;
struct engine_identity	 ident;
static int64_t		 now_ms = 1000000;
static struct conn	 theconn;

int64_t
mono_ms(void)
{
	return now_ms;
}

struct conn *
conn_find(uint32_t id)
{
	return id == 1 ? &theconn : NULL;
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
}

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
conf(void)
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
	gs_conf.max_topics = 32;
	gs_conf.max_peer_topics = 8;
	gs_conf.max_seen = 1000;
	gs_conf.max_mcache = 100;
	gs_conf.max_ihave = 100;
	gs_conf.max_iwant = 10;
	gs_conf.max_queue = 1 << 20;
	gs_conf.idontwant_min = 512;
	gs_conf.max_rpc = 1 << 20;
	gs_conf.gossip_thr = -10;
	gs_conf.publish_thr = -50;
	gs_conf.graylist_thr = -80;
	gs_conf.coloc_thr = 10;
	conn_limits.stream_buffer = 1 << 20;
}

static void
message(const struct ps_msg *m, const uint8_t *frame, size_t len)
{
	struct gs_topic	*t;
	uint8_t		 id[GS_IDMAX];
	size_t		 idlen;

	if (m->topic.p == NULL ||
	    (t = topic_find(m->topic.p, m->topic.len)) == NULL)
		return;
	if (ps_msgid_default(m, id, sizeof(id), &idlen) == -1) {
		ps_msgid_hash(m, id);
		idlen = 32;
	}
	if (seen_has(id, idlen))
		return;
	seen_add(id, idlen);
	mcache_put(t, id, idlen, frame, len);
}

static void
rpc(struct gs_peer *p, const uint8_t *buf, size_t len)
{
	struct ps_limits	 l;
	struct ps_rpc		 r;
	struct ps_iter		 it;
	struct ps_sub		 sub;
	struct ps_msg		 m;

	if (p->score < gs_conf.graylist_thr)
		return;
	ps_limits_default(&l);
	if (ps_rpc_decode(buf, len, &l, &r, NULL, 0) == -1) {
		gpeer_penalize(p, 0);
		return;
	}
	ps_subs(&r, &it);
	while (ps_next_sub(&it, &sub) == 1)
		sub_apply(p, &sub);
	ps_msgs(&r, &it);
	while (ps_next_msg(&it, &m) == 1)
		message(&m, buf, len);
	mesh_control(p, &r);
}

/* What the tables count is what they hold, within every bound. */
static void
invariants(void)
{
	struct gs_topic	*t;
	struct gs_peer	*p;
	struct gs_sub	*s;
	int		 subs, mesh, fanout, n, ntopics = 0;

	RB_FOREACH(t, gs_topics, &gs_topics) {
		subs = mesh = fanout = 0;
		LIST_FOREACH(s, &t->subs, tentry) {
			check(s->topic == t);
			subs += s->subscribed;
			mesh += s->mesh;
			fanout += s->fanout;
		}
		check(subs == t->nsubs && mesh == t->nmesh &&
		    fanout == t->nfanout);
		check(t->nmesh <= gs_conf.Dhi + gs_conf.Dout);
		check(t->len > 0 && t->len <= GS_TOPICMAX);
		ntopics++;
	}
	check(ntopics <= gs_conf.max_topics);
	TAILQ_FOREACH(p, &gs_peers, entry) {
		n = 0;
		LIST_FOREACH(s, &p->subs, pentry) {
			check(s->peer == p);
			n++;
		}
		check(n == p->nsubs && n <= gs_conf.max_peer_topics);
		check(p->ndontwant <= GS_DONTWANT);
	}
	check(seen_count() <= (size_t)gs_conf.max_seen);
	check(mcache_count() <= (size_t)gs_conf.max_mcache);
}

static struct gs_peer *
mkpeer(int i, int outbound)
{
	struct peerid	 id;
	struct gs_peer	*p;

	memset(&id, 0, sizeof(id));
	id.len = 4;
	id.mh[0] = 0x00;
	id.mh[1] = 2;
	id.mh[2] = 'p';
	id.mh[3] = i;
	if ((p = gpeer_new(1, &id, GS_MESH12, outbound)) == NULL)
		abort();
	p->out_stream = 1;
	p->out_ready = 1;
	return p;
}

static void
teardown(void)
{
	struct gs_peer	*p;
	struct gs_topic	*t, *tn;

	RB_FOREACH_SAFE(t, gs_topics, &gs_topics, tn)
		if (t->joined)
			mesh_leave(t);
	while ((p = TAILQ_FIRST(&gs_peers)) != NULL)
		gpeer_free(p);
	mcache_clear();
	RB_FOREACH_SAFE(t, gs_topics, &gs_topics, tn) {
		t->fanout_last = 0;
		topic_release(t);
	}
	check(RB_EMPTY(&gs_topics) && seen_count() == 0 &&
	    mcache_count() == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 inited;
	struct gs_peer	*peers[NPEERS];
	struct gs_topic	*t;
	const uint8_t	*msg;
	size_t		 off = 0, mlen, used;
	uint8_t		 ctl;
	int		 i;

	if (!inited) {
		conf();
		seen_init();
		inited = 1;
	}
	theconn.id = 1;
	t = topic_get((const uint8_t *)"/t", 2);
	mesh_join(t);
	for (i = 0; i < NPEERS; i++)
		peers[i] = NULL;
	while (off < size) {
		ctl = data[off++];
		if (uvarint_frame_read(data + off, size - off, 65536, &msg,
		    &mlen, &used) != 1)
			break;
		off += used;
		if (ctl & 0x08)
			now_ms += gs_conf.prune_backoff + 1;
		if (ctl & 0x04)
			mesh_heartbeat();
		if (peers[ctl & 3] == NULL)
			peers[ctl & 3] = mkpeer(ctl & 3, (ctl & 0x10) != 0);
		rpc(peers[ctl & 3], msg, mlen);
		invariants();
	}
	mesh_heartbeat();
	invariants();
	teardown();
	return 0;
}
