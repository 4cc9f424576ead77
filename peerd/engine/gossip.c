/*
 * The gossipsub router, gossipSub.enabled: /meshsub/1.2.0, 1.1.0, 1.0.0
 * and /floodsub/1.0.0.  A peer's inbound stream carries its RPCs to us;
 * we open one stream to each pubsub peer (when identify lists a pubsub
 * protocol, or when the peer opens its own), the best protocol both
 * speak, and send our subscriptions first.  A message is checked
 * (StrictSign: a signature, from and key agreeing), deduplicated by the
 * seen cache, encoded once as a frame, cached, and that frame is written
 * to each mesh peer (each subscribed floodsub peer) but the source and
 * the author.  A local publish enters the same path (gossip_publish).
 * Calls conn.c, control.c, yamux.c, gstopic.c, gsmesh.c and gscache.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event.h>

#include "engine.h"
#include "errbuf.h"
#include "gossip.h"
#include "log.h"

#define TOPIC_LIST_MAX	4000	/* in one listing */

_Static_assert(sizeof(((struct gossip_sent *)0)->id) >= GS_IDMAX,
    "a message ID fits gossip_sent");

struct gs_conf		 gs_conf;
static struct event	 ev_beat;
static int		 started;
static uint8_t		*scratch;	/* signed bytes, and our frames */
static size_t		 scratchsz;
static gossip_deliver_fn deliver;	/* gspub.c's, for the watched */

static const struct {
	const char	*name;
	enum gs_kind	 kind;
} kinds[] = {
	{ PS_MESHSUB12, GS_MESH12 },
	{ PS_MESHSUB11, GS_MESH11 },
	{ PS_MESHSUB10, GS_MESH10 },
	{ PS_FLOODSUB, GS_FLOOD },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static int
gossip_enabled(void)
{
	return gs_conf.enabled && !ident.lockdown;
}

int
gossip_on(void)
{
	return gossip_enabled();
}

void
gossip_set_deliver(gossip_deliver_fn fn)
{
	deliver = fn;
}

static enum gs_kind
kind_of(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return kinds[i].kind;
	return GS_FLOOD;
}

/* Every topic we joined, in one RPC: the first thing on our stream. */
static void
send_joined(struct gs_peer *p)
{
	static struct ps_sub	 subs[CONF_MAX_TOPICS];
	struct gs_topic		*t;
	struct ps_out		 o;
	size_t			 n = 0;

	RB_FOREACH(t, gs_topics, &gs_topics) {
		if (!t->joined || n >= CONF_MAX_TOPICS)
			continue;
		subs[n].subscribe = 1;
		subs[n].topic.p = (const uint8_t *)t->name;
		subs[n++].topic.len = t->len;
	}
	if (n == 0)
		return;
	memset(&o, 0, sizeof(o));
	o.subs = subs;
	o.nsubs = n;
	gpeer_send_rpc(p, &o);
}

static void
open_out(struct gs_peer *p, struct conn *c, const char *name)
{
	struct stream	*s;

	if ((s = yamux_open(c, name)) == NULL) {
		log_debug("gossip: connection %u: cannot open %s", c->id,
		    name);
		return;
	}
	s->ctx = p;
	p->out_stream = s->id;
	p->out_ready = 0;
	p->kind = kind_of(name);
	gpeer_dirty(p);
}

/* The pubsub peer of a connection, made if needed (NULL: another has it). */
static struct gs_peer *
peer_of(struct conn *c, enum gs_kind kind)
{
	struct gs_peer	*p;

	if (!c->have_peer)
		return NULL;
	if ((p = gpeer_find(&c->peer)) != NULL)
		return p->conn == c->id ? p : NULL;
	if ((p = gpeer_new(c->id, &c->peer, kind, c->dir == CONN_OUTBOUND)) !=
	    NULL && !c->relayed)
		sockaddr_ip16(&c->ss, p->ip);
	return p;
}

/* Identify told the remote's protocols: our stream, if it speaks pubsub. */
void
gossip_conn_identified(struct conn *c)
{
	struct gs_peer	*p;
	const char	*name;
	size_t		 i, off;

	if (!gossip_enabled() || c->info == NULL ||
	    c->info->protocols == NULL)
		return;
	for (i = 0; i < NKINDS; i++) {
		for (off = 0; off < c->info->protocols_len;
		    off += strlen(name) + 1) {
			name = c->info->protocols + off;
			if (strcmp(name, kinds[i].name) == 0)
				break;
		}
		if (off < c->info->protocols_len)
			break;
	}
	if (i == NKINDS || (p = peer_of(c, kinds[i].kind)) == NULL ||
	    p->out_stream != 0)
		return;
	open_out(p, c, kinds[i].name);
	gs_flush(c->id);
}

static void
gs_open(struct stream *s)
{
	struct conn	*c = s->conn;
	struct gs_peer	*p;
	struct stream	*old;

	if (s->flags & ST_OUTBOUND) {
		if ((p = s->ctx) != NULL && p->out_stream == s->id) {
			p->out_ready = 1;
			send_joined(p);
			gs_flush(c->id);
		}
		return;
	}
	if ((p = peer_of(c, kind_of(s->proto->name))) == NULL) {
		stream_reset(s);
		return;
	}
	if (p->in_stream != 0 && (old = stream_lookup(c, p->in_stream)) !=
	    NULL) {
		old->ctx = NULL;
		stream_reset(old);
	}
	bq_free(&p->big);
	s->ctx = p;
	p->in_stream = s->id;
	if (p->out_stream == 0)
		open_out(p, c, s->proto->name);
	gs_flush(c->id);
}

static size_t
msg_frame(const struct ps_msg *m, size_t *len)
{
	struct ps_out	 o;
	size_t		 n;

	memset(&o, 0, sizeof(o));
	o.msgs = m;
	o.nmsgs = 1;
	if (ps_rpc_encode(&o, scratch + UVARINT_MAXLEN, scratchsz -
	    UVARINT_MAXLEN, &n) == -1)
		return 0;
	return *len = uvarint_frame_write(scratch + UVARINT_MAXLEN, n, n,
	    scratch, scratchsz);
}

/* The frame to each mesh (or fanout, or floodsub) peer but src, author:
 * how many it was written to. */
static int
forward(struct gs_topic *t, const struct gs_peer *src,
    const struct peerid *author, const struct gs_msg *gm)
{
	struct gs_sub	*s;
	struct gs_peer	*p;
	int		 to, n = 0;

	LIST_FOREACH(s, &t->subs, tentry) {
		p = s->peer;
		if (p == src || peerid_equal(&p->id, author) ||
		    (src == NULL && p->score < gs_conf.publish_thr))
			continue;
		/* our own messages go to every subscriber (flood publish) */
		if (p->kind == GS_FLOOD || src == NULL)
			to = s->subscribed;
		else
			to = t->joined ? s->mesh : s->fanout;
		if (!to)
			continue;
		if (gpeer_dontwant(p, gm->hash)) {
			counters.gossip.idontwant_saved++;
			continue;
		}
		if (gpeer_send(p, gm->frame, gm->framelen) == 0) {
			counters.gossip.msgs_out++;
			t->msgs_out++;
			n++;
		} else
			t->dropped++;
	}
	return n;
}

/* A message from a peer, to the peerctl subscribe clients of its topic. */
static void
deliver_watched(const struct gs_topic *t, const struct peerid *author,
    const struct ps_msg *m, const uint8_t *id, size_t idlen)
{
	struct gossip_delivery	 d;

	if (deliver == NULL || t->watchers == 0)
		return;
	d.topic = t->name;
	d.from = author;
	d.id = id;
	d.idlen = idlen;
	d.seqno = m->seqno.p;
	d.seqnolen = m->seqno.p != NULL ? m->seqno.len : 0;
	d.data = m->data.p;
	d.len = m->data.p != NULL ? m->data.len : 0;
	d.msg = m;
	deliver(&d);
}

static int
msg_id(const struct ps_msg *m, uint8_t *id, size_t *len)
{
	if (gs_conf.hash_ids) {
		ps_msgid_hash(m, id);
		*len = 32;
		return 0;
	}
	return ps_msgid_default(m, id, GS_IDMAX, len);
}

static void
drop(struct gs_topic *t, uint64_t *counter, const struct gs_peer *src,
    const char *why)
{
	static struct log_limit	 ll = LOG_LIMIT("gossipsub messages dropped");
	char			 id[64] = "local";

	(*counter)++;
	if (t != NULL)
		t->dropped++;
	if (src != NULL)
		peerid_format(&src->id, id, sizeof(id));
	log_limited(&ll, LOG_INFO, "gossip_message_dropped peer=%s "
	    "reason=\"%s\"", id, why);
}

/*
 * One message, from src (NULL: published here, its ID and peers told in
 * sent): NULL when it was taken or was a duplicate, else why it was
 * dropped.
 */
static const char *
gs_message(struct gs_peer *src, const struct ps_msg *m,
    struct gossip_sent *sent)
{
	struct gs_topic	*t;
	struct gs_msg	*gm;
	struct peerid	 author;
	uint8_t		 id[GS_IDMAX];
	size_t		 idlen, flen;
	char		 err[128];
	int		 n;

	t = m->topic.p == NULL ? NULL : src == NULL ?
	    topic_get(m->topic.p, m->topic.len) :
	    topic_find(m->topic.p, m->topic.len);
	if (t == NULL || (src != NULL && !t->joined)) {
		drop(t, &counters.gossip.drop_topic, src, "topic not joined");
		return "topic not joined";
	}
	if (m->signature.p == NULL) {
		if (src != NULL)
			gpeer_penalize(src, 1);
		drop(t, &counters.gossip.drop_unsigned, src, "unsigned");
		return "unsigned";
	}
	/* js floodsub drops a seqno's leading zero bytes, 1 time in 256 */
	if (m->seqno.p == NULL || m->seqno.len != PS_SEQNO_LEN) {
		if (src != NULL)
			gpeer_penalize(src, 1);
		drop(t, &counters.gossip.drop_invalid, src, "seqno not 8 bytes");
		return "seqno not 8 bytes";
	}
	if (msg_id(m, id, &idlen) == -1 || m->from.p == NULL ||
	    peerid_from_mh(m->from.p, m->from.len, &author) == -1) {
		drop(t, &counters.gossip.drop_invalid, src, "no message ID");
		return "no message ID";
	}
	if (seen_has(id, idlen)) {
		counters.gossip.dups++;
		t->dups++;
		mesh_delivered(src, t, mcache_get(id, idlen), 0);
		return NULL;
	}
	if (ps_msg_verify(m, scratch, scratchsz, err, sizeof(err)) == -1) {
		if (src != NULL)
			gpeer_penalize(src, 1);
		drop(t, &counters.gossip.drop_invalid, src, err);
		return "invalid signature";
	}
	seen_add(id, idlen);
	counters.gossip.msgs_in++;
	t->msgs_in++;
	if (msg_frame(m, &flen) == 0 ||
	    (gm = mcache_put(t, id, idlen, scratch, flen)) == NULL) {
		drop(t, &counters.gossip.drop_limits, src, "no memory");
		return "no memory";
	}
	mesh_delivered(src, t, gm, 1);
	if (src == NULL && !t->joined) {
		t->fanout_last = gs_now();
		if (t->nfanout == 0)
			mesh_fanout(t);
	}
	if (m->data.len >= (uint64_t)gs_conf.idontwant_min)
		mesh_idontwant(t, src, gm);
	n = forward(t, src, &author, gm);
	if (sent != NULL) {
		memcpy(sent->id, id, idlen);
		sent->idlen = idlen;
		sent->peers = n;
	}
	if (src != NULL)
		deliver_watched(t, &author, m, id, idlen);
	return NULL;
}

static void
gs_rpc(struct gs_peer *p, const uint8_t *buf, size_t len)
{
	static struct log_limit	 ll = LOG_LIMIT("gossipsub malformed RPCs");
	static struct log_limit	 llg = LOG_LIMIT("gossipsub graylisted RPCs");
	struct ps_limits	 l;
	struct ps_rpc		 rpc;
	struct ps_iter		 it;
	struct ps_sub		 sub;
	struct ps_msg		 m;
	char			 err[128], id[64];

	ps_limits_default(&l);
	l.maxrpc = gs_conf.max_rpc;
	if (p->score < gs_conf.graylist_thr) {
		counters.gossip.drop_graylist++;
		peerid_format(&p->id, id, sizeof(id));
		log_limited(&llg, LOG_INFO, "gossip_rpc_ignored peer=%s "
		    "score=%.1f reason=\"graylisted\"", id, p->score);
		return;
	}
	if (ps_rpc_decode(buf, len, &l, &rpc, err, sizeof(err)) == -1) {
		counters.gossip.drop_malformed++;
		gpeer_penalize(p, 0);
		peerid_format(&p->id, id, sizeof(id));
		log_limited(&ll, LOG_INFO, "gossip_rpc_malformed peer=%s "
		    "error=\"%s\"", id, err);
		return;
	}
	ps_subs(&rpc, &it);
	while (ps_next_sub(&it, &sub) == 1)
		sub_apply(p, &sub);
	ps_msgs(&rpc, &it);
	while (ps_next_msg(&it, &m) == 1)
		gs_message(p, &m, NULL);
	mesh_control(p, &rpc);
}

/* Bytes of the frame that starts s->in, or 0 while its length is not in. */
static size_t
frame_size(const struct stream *s)
{
	uint64_t	 n;
	size_t		 hl;

	if (uvarint_decode(bq_ptr(&s->in), s->in.len, &n, &hl) != 1 ||
	    n > (uint64_t)gs_conf.max_rpc)
		return 0;
	return hl + n;
}

/*
 * An RPC larger than half the stream's window cannot wait whole in its
 * input: the peer would have no window left to finish it.  It is taken
 * out into p->big, counted in the connection's budget, as it comes.
 * -1: no memory; 0: not whole yet; 1: taken in.
 */
static int
gs_assemble(struct gs_peer *p, struct stream *s, size_t size)
{
	size_t	 take, hl;
	uint64_t n;

	if (p->big.len == 0)
		p->big.acct = &s->conn->mem;
	else if (uvarint_decode(bq_ptr(&p->big), p->big.len, &n, &hl) == 1)
		size = hl + n;
	take = size - p->big.len;
	if (take > s->in.len)
		take = s->in.len;
	if (bq_append(&p->big, bq_ptr(&s->in), take, size) == -1)
		return -1;
	stream_consume(s, take);
	if (p->big.len < size)
		return 0;
	uvarint_decode(bq_ptr(&p->big), p->big.len, &n, &hl);
	gs_rpc(p, bq_ptr(&p->big) + hl, n);
	bq_free(&p->big);
	return 1;
}

/* Each whole RPC on the peer's stream; one over maxRpcSize resets it. */
static void
gs_input(struct stream *s)
{
	static struct log_limit	 ll = LOG_LIMIT("gossipsub RPCs too large");
	struct conn		*c = s->conn;
	struct gs_peer		*p = s->ctx;
	const uint8_t		*msg;
	size_t			 mlen, used, size;
	uint32_t		 id = s->id;
	int			 r = 0;

	if (p == NULL || (s->flags & ST_OUTBOUND)) {
		stream_consume(s, s->in.len);
		return;
	}
	if (p->big.len > 0)
		r = gs_assemble(p, s, 0);
	while (r != -1 && p->big.len == 0 &&
	    (r = uvarint_frame_read(bq_ptr(&s->in), s->in.len,
	    gs_conf.max_rpc, &msg, &mlen, &used)) == 1) {
		gs_rpc(p, msg, mlen);
		stream_consume(s, used);
	}
	if (r == 0 && p->big.len == 0 &&
	    (size = frame_size(s)) > YAMUX_WINDOW / 2)
		r = gs_assemble(p, s, size);
	gs_flush(c->id);
	if ((s = stream_lookup(c, id)) == NULL || r != -1)
		return;
	counters.gossip.drop_malformed++;
	log_limited(&ll, LOG_INFO, "gossip_rpc_too_large conn=%u limit=%lld",
	    c->id, (long long)gs_conf.max_rpc);
	bq_free(&p->big);
	p->in_stream = 0;
	s->ctx = NULL;
	stream_reset(s);
}

static void
gs_closed(struct stream *s)
{
	stream_close(s);
}

static void
gs_free(struct stream *s)
{
	struct gs_peer	*p = s->ctx;

	if (p == NULL)
		return;
	if (p->out_stream == s->id && (s->flags & ST_OUTBOUND)) {
		p->out_stream = 0;
		p->out_ready = 0;
	} else if (p->in_stream == s->id) {
		p->in_stream = 0;
		bq_free(&p->big);
	}
}

void
gossip_conn_closed(struct conn *c)
{
	struct gs_peer	*p, *next;
	struct stream	*s;

	TAILQ_FOREACH_SAFE(p, &gs_peers, entry, next) {
		if (p->conn != c->id)
			continue;
		TAILQ_FOREACH(s, &c->mux.streams, entry)
			if (s->ctx == p)
				s->ctx = NULL;
		p->out_stream = p->in_stream = 0;
		gpeer_free(p);
	}
}

/* Peers whose stream to them went: freed, the mesh heals without them. */
static void
peers_sweep(void)
{
	struct gs_peer	*p, *next;

	TAILQ_FOREACH_SAFE(p, &gs_peers, entry, next)
		if (p->out_stream == 0)
			gpeer_free(p);
}

static void
beat_arm(void)
{
	struct timeval	 tv;

	tv.tv_sec = gs_conf.heartbeat / 1000;
	tv.tv_usec = (gs_conf.heartbeat % 1000) * 1000;
	evtimer_add(&ev_beat, &tv);
}

static void
gs_beat(int fd, short event, void *arg)
{
	peers_sweep();
	mesh_heartbeat();
	gs_flush(0);
	if (gossip_enabled())
		beat_arm();
}

/*
 * What keyd signs for a message published here (its StrictSign bytes
 * are PS_SIGN_PREFIX and these): the Message with our peer ID as from,
 * data, a seqno one past the last, and topic; -1 if it does not fit.
 */
int
gossip_unsigned(const char *topic, const uint8_t *data, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	static uint64_t	 seq;
	struct timespec	 ts;
	struct ps_msg	 m;
	uint8_t		 sq[PS_SEQNO_LEN];
	int		 i;

	if (!ident.ready || topic[0] == '\0' || strlen(topic) > GS_TOPICMAX)
		return -1;
	/* unique across restarts: from the time in ns, as js's */
	if (seq == 0 && clock_gettime(CLOCK_REALTIME, &ts) == 0)
		seq = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	seq++;
	for (i = 0; i < PS_SEQNO_LEN; i++)
		sq[i] = seq >> (8 * (PS_SEQNO_LEN - 1 - i));
	memset(&m, 0, sizeof(m));
	m.from.p = ident.peerid.mh;
	m.from.len = ident.peerid.len;
	m.data.p = data != NULL ? data : (const uint8_t *)"";
	m.data.len = len;
	m.seqno.p = sq;
	m.seqno.len = sizeof(sq);
	m.topic.p = (const uint8_t *)topic;
	m.topic.len = strlen(topic);
	return ps_msg_encode(&m, 0, out, cap, outlen);
}

/*
 * A message published here: the bytes gossip_unsigned made and keyd's
 * signature of them.  Checked as any message, it goes to the mesh of
 * a topic we joined, else to its fanout, and to floodsub peers.
 */
int
gossip_publish(const uint8_t *msg, size_t len, const uint8_t *sig,
    struct gossip_sent *sent, char *err, size_t errlen)
{
	struct ps_limits	 l;
	struct ps_rpc		 rpc;
	struct ps_iter		 it;
	struct ps_msg		 m;
	const char		*why;
	uint8_t			*buf;
	size_t			 hl;

	if (!gossip_enabled())
		return errbuf(err, errlen, "gossipSub is not enabled");
	if (len > (uint64_t)gs_conf.max_rpc - 2 * UVARINT_MAXLEN - PS_SIG_LEN ||
	    (buf = malloc(len + UVARINT_MAXLEN + 1)) == NULL)
		return errbuf(err, errlen, "message too large");
	buf[0] = 0x12;		/* RPC.publish, length-delimited */
	hl = 1 + uvarint_encode(len, buf + 1);
	memcpy(buf + hl, msg, len);
	ps_limits_default(&l);
	l.maxrpc = gs_conf.max_rpc;
	if (ps_rpc_decode(buf, hl + len, &l, &rpc, err, errlen) == -1 ||
	    rpc.nmsgs != 1) {
		free(buf);
		return errbuf(err, errlen, "not one pubsub message");
	}
	ps_msgs(&rpc, &it);
	ps_next_msg(&it, &m);
	m.signature.p = sig;
	m.signature.len = PS_SIG_LEN;
	m.key.p = NULL;
	why = gs_message(NULL, &m, sent);
	gs_flush(0);
	free(buf);
	if (why != NULL)
		return errbuf(err, errlen, "%s", why);
	return 0;
}

static void
gs_conf_set(const struct reconf_engine *e)
{
	gs_conf.enabled = e->gossip_enabled;
	gs_conf.D = e->gs_D;
	gs_conf.Dlo = e->gs_Dlo;
	gs_conf.Dhi = e->gs_Dhi;
	gs_conf.Dlazy = e->gs_Dlazy;
	gs_conf.Dout = e->gs_Dout;
	gs_conf.heartbeat = e->gs_heartbeat;
	gs_conf.fanout_ttl = e->gs_fanout_ttl;
	gs_conf.seen_ttl = e->gs_seen_ttl;
	gs_conf.prune_backoff = e->gs_prune_backoff;
	gs_conf.mcache_len = e->gs_mcache_len;
	gs_conf.mcache_gossip = e->gs_mcache_gossip;
	gs_conf.max_topics = e->gs_max_topics;
	gs_conf.max_peer_topics = e->gs_max_peer_topics;
	gs_conf.max_seen = e->gs_max_seen;
	gs_conf.max_mcache = e->gs_max_mcache;
	gs_conf.max_ihave = e->gs_max_ihave;
	gs_conf.max_iwant = e->gs_max_iwant;
	gs_conf.max_queue = e->gs_max_queue;
	gs_conf.idontwant_min = e->gs_idontwant_min;
	gs_conf.max_rpc = e->gs_max_rpc;
	gs_conf.hash_ids = e->gs_hash_ids;
	gs_conf.gossip_thr = e->gs_gossip_thr;
	gs_conf.publish_thr = e->gs_publish_thr;
	gs_conf.graylist_thr = e->gs_graylist_thr;
	gs_conf.coloc_thr = e->gs_coloc_thr;
	gs_conf.md_weight = e->gs_md_weight;
	gs_conf.md_thr = e->gs_md_thr;
	gs_conf.md_window = e->gs_md_window;
	gs_conf.md_activation = e->gs_md_activation;
	gs_conf.mf_weight = e->gs_mf_weight;
	gs_conf.fd_weight = e->gs_fd_weight;
	gs_conf.fd_cap = e->gs_fd_cap;
	/* the spec's order: Dout < Dlo <= D <= Dhi, gossip <= length */
	if (gs_conf.Dlo > gs_conf.D)
		gs_conf.Dlo = gs_conf.D;
	if (gs_conf.Dhi < gs_conf.D)
		gs_conf.Dhi = gs_conf.D;
	if (gs_conf.Dout >= gs_conf.Dlo)
		gs_conf.Dout = gs_conf.Dlo / 2;
	if (gs_conf.mcache_gossip > gs_conf.mcache_len)
		gs_conf.mcache_gossip = gs_conf.mcache_len;
	if (gs_conf.publish_thr > gs_conf.gossip_thr)
		gs_conf.publish_thr = gs_conf.gossip_thr;
	if (gs_conf.graylist_thr > gs_conf.publish_thr)
		gs_conf.graylist_thr = gs_conf.publish_thr;
}

/* Everything goes: gossipSub.enabled turned off, or lockdown. */
static void
gossip_stop(void)
{
	struct gs_peer	*p;
	struct gs_topic	*t, *tn;

	while ((p = TAILQ_FIRST(&gs_peers)) != NULL)
		gpeer_free(p);
	RB_FOREACH_SAFE(t, gs_topics, &gs_topics, tn) {
		t->joined = 0;
		t->fanout_last = 0;
	}
	mcache_clear();
	RB_FOREACH_SAFE(t, gs_topics, &gs_topics, tn)
		topic_release(t);
	evtimer_del(&ev_beat);
}

static int
configured(const struct engine_conf *ec, const struct gs_topic *t)
{
	size_t	 i;

	for (i = 0; i < ec->ntopics; i++)
		if (strlen(ec->topics[i]) == t->len &&
		    memcmp(ec->topics[i], t->name, t->len) == 0)
			return 1;
	return 0;
}

/* At each load: the values, and gossipSub.topics joined and left. */
void
gossip_configure(const struct engine_conf *ec)
{
	struct gs_topic	*t, *tn;
	size_t		 i, sz;
	int		 was = gossip_enabled();

	if (!started) {
		seen_init();
		evtimer_set(&ev_beat, gs_beat, NULL);
		started = 1;
	}
	gs_conf_set(&ec->lim);
	if (!gossip_enabled()) {
		if (was)
			gossip_stop();
		return;
	}
	sz = gs_conf.max_rpc + 2 * UVARINT_MAXLEN + sizeof(PS_SIGN_PREFIX);
	if (sz != scratchsz) {
		free(scratch);
		if ((scratch = malloc(sz)) == NULL)
			fatal("gossip");
		scratchsz = sz;
	}
	RB_FOREACH_SAFE(t, gs_topics, &gs_topics, tn) {
		t->configured = configured(ec, t);
		if (t->joined && !t->configured && t->watchers == 0)
			mesh_leave(t);
	}
	for (i = 0; i < ec->ntopics; i++)
		if ((t = topic_get((const uint8_t *)ec->topics[i],
		    strlen(ec->topics[i]))) != NULL) {
			t->configured = 1;
			mesh_join(t);
		}
	gs_flush(0);
	if (!was)
		beat_arm();
}

/* peerctl subscribe: the topic is joined while a client watches it. */
int
gossip_watch(const char *topic)
{
	struct gs_topic	*t;

	if (!gossip_enabled() || (t = topic_get((const uint8_t *)topic,
	    strlen(topic))) == NULL)
		return -1;
	t->watchers++;
	mesh_join(t);
	gs_flush(0);
	return 0;
}

/* The last client gone, it is left, unless gossipSub.topics has it. */
void
gossip_unwatch(const char *topic)
{
	struct gs_topic	*t;

	if ((t = topic_find((const uint8_t *)topic, strlen(topic))) == NULL ||
	    t->watchers == 0)
		return;
	if (--t->watchers > 0)
		return;
	if (t->joined && !t->configured) {
		mesh_leave(t);
		gs_flush(0);
	} else if (!t->joined)
		topic_release(t);
}

/* Peers in the mesh of a topic we joined. */
int
gossip_mesh_size(const char *topic)
{
	struct gs_topic	*t;

	if ((t = topic_find((const uint8_t *)topic, strlen(topic))) == NULL)
		return 0;
	return t->nmesh;
}

void
gossip_tally(struct gossip_tally *g)
{
	struct gs_peer	*p;
	struct gs_topic	*t;

	memset(g, 0, sizeof(*g));
	TAILQ_FOREACH(p, &gs_peers, entry)
		g->peers++;
	RB_FOREACH(t, gs_topics, &gs_topics) {
		g->topics++;
		g->joined += t->joined;
	}
	g->seen = seen_count();
	g->cached = mcache_count();
}

/* peerctl show topics: each topic, joined first, at most TOPIC_LIST_MAX. */
int
gossip_show_topics(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_topic	 ct;
	struct ctl_result	 res;
	struct gs_topic		*t;
	size_t			 n = 0;
	int			 pass;

	for (pass = 1; pass >= 0; pass--)
		RB_FOREACH(t, gs_topics, &gs_topics) {
			if (t->joined != pass || n++ >= TOPIC_LIST_MAX)
				continue;
			memset(&ct, 0, sizeof(ct));
			memcpy(ct.topic, t->name, t->len);
			ct.joined = t->joined;
			ct.peers = t->nsubs;
			ct.mesh = t->nmesh;
			ct.fanout = t->nfanout;
			ct.msgs_in = t->msgs_in;
			ct.msgs_out = t->msgs_out;
			ct.dups = t->dups;
			ct.dropped = t->dropped;
			control_reply(ctl, IMSG_CTL_TOPIC, &ct, sizeof(ct));
		}
	if (msg_list_more(&res, n, TOPIC_LIST_MAX, "topics"))
		control_reply(ctl, IMSG_CTL_RESULT, &res, sizeof(res));
	control_end(ctl);
	return 0;
}

/* The topics we joined, for the daemon API: each given to fn. */
void
gossip_topics(void (*fn)(const char *, size_t, void *), void *arg)
{
	struct gs_topic	*t;

	RB_FOREACH(t, gs_topics, &gs_topics)
		if (t->joined)
			fn(t->name, t->len, arg);
}

/* The peers subscribed to a topic, each given to fn. */
void
gossip_topic_peers(const char *topic, void (*fn)(const struct peerid *,
    void *), void *arg)
{
	struct gs_topic	*t;
	struct gs_sub	*sub;

	if ((t = topic_find((const uint8_t *)topic, strlen(topic))) == NULL)
		return;
	LIST_FOREACH(sub, &t->subs, tentry)
		if (sub->subscribed)
			fn(&sub->peer->id, arg);
}

#define GS_PROTO(var, pname)						\
const struct proto var = {						\
	.name = pname,							\
	.enabled = gossip_enabled,					\
	.open = gs_open,						\
	.input = gs_input,						\
	.closed = gs_closed,						\
	.free = gs_free,						\
}

GS_PROTO(proto_meshsub12, PS_MESHSUB12);
GS_PROTO(proto_meshsub11, PS_MESHSUB11);
GS_PROTO(proto_meshsub10, PS_MESHSUB10);
GS_PROTO(proto_floodsub, PS_FLOODSUB);
