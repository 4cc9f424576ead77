/*
 * The pubsub RPC of floodsub and gossipsub (libp2p specs pubsub/README.md,
 * gossipsub-v1.0.md to v1.2.md):
 *	RPC { repeated SubOpts subscriptions 1; repeated Message publish 2;
 *	    ControlMessage control 3; }
 *	SubOpts { bool subscribe 1; string topicid 2; }
 *	Message { bytes from 1; bytes data 2; bytes seqno 3; string topic 4;
 *	    bytes signature 5; bytes key 6; }
 *	ControlMessage { repeated ControlIHave ihave 1; repeated ControlIWant
 *	    iwant 2; repeated ControlGraft graft 3; repeated ControlPrune
 *	    prune 4; repeated ControlIDontWant idontwant 5; }
 *	ControlIHave { string topicID 1; repeated bytes messageIDs 2; }
 *	ControlIWant { repeated bytes messageIDs 1; }
 *	ControlGraft { string topicID 1; }
 *	ControlPrune { string topicID 1; repeated PeerInfo peers 2;
 *	    uint64 backoff 3; }
 *	PeerInfo { bytes peerID 1; bytes signedPeerRecord 2; }
 *	ControlIDontWant { repeated bytes messageIDs 1; }
 * Each RPC goes in a frame, its length as a uvarint before it.
 *
 * The decoder checks the whole RPC once and keeps no copy: the caller
 * walks it with the iterators, which read the views again.  A known
 * field given twice or with the wrong wire type, a topic that is not
 * UTF-8, a count over its limit make the RPC malformed; unknown fields
 * are skipped.  The encoder writes fields in field number order, as
 * js-libp2p's protons codec does.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "errbuf.h"
#include "pb.h"
#include "peerid.h"
#include "pubsub.h"
#include "varint.h"

#define RPCF_SUBS	1
#define RPCF_PUBLISH	2
#define RPCF_CONTROL	3

#define SUBF_SUBSCRIBE	1
#define SUBF_TOPIC	2

#define MSGF_FROM	1
#define MSGF_DATA	2
#define MSGF_SEQNO	3
#define MSGF_TOPIC	4
#define MSGF_SIG	5
#define MSGF_KEY	6

#define CTLF_IHAVE	1
#define CTLF_IWANT	2
#define CTLF_GRAFT	3
#define CTLF_PRUNE	4
#define CTLF_IDONTWANT	5

#define IHAVEF_TOPIC	1
#define IHAVEF_IDS	2
#define IDSF_IDS	1	/* IWANT and IDONTWANT */
#define GRAFTF_TOPIC	1
#define PRUNEF_TOPIC	1
#define PRUNEF_PEERS	2
#define PRUNEF_BACKOFF	3
#define PEERF_ID	1
#define PEERF_RECORD	2

/* Limits of a walk over an RPC already checked: none. */
static const struct ps_limits nolimits = {
	SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX,
	SIZE_MAX, SIZE_MAX, SIZE_MAX
};

void
ps_limits_default(struct ps_limits *l)
{
	l->maxrpc = PS_MAXRPC_DEFAULT;
	l->maxsubs = 5000;
	l->maxmsgs = 5000;
	l->maxctrl = 5000;
	l->maxihaveids = 5000;
	l->maxiwantids = 5000;
	l->maxidontwantids = 512;
	l->maxpeers = 16;
	l->maxtopic = 1024;
	l->maxmsgid = 256;
}

/* A bytes field given once. */
static int
take_view(const struct pbf *f, struct ps_view *v)
{
	if (f->wire != PB_LEN || v->p != NULL)
		return -1;
	v->p = f->data;
	v->len = f->len;
	return 0;
}

static int
take_topic(const struct pbf *f, const struct ps_limits *l,
    struct ps_view *v)
{
	if (take_view(f, v) == -1 || v->len > l->maxtopic ||
	    !pb_utf8_valid(v->p, v->len))
		return -1;
	return 0;
}

static int
parse_sub(const uint8_t *p, size_t len, const struct ps_limits *l,
    struct ps_sub *s)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, seen = 0;

	memset(s, 0, sizeof(*s));
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field == SUBF_SUBSCRIBE) {
			if (f.wire != PB_VARINT || seen)
				return -1;
			seen = 1;
			s->subscribe = f.v != 0;
		} else if (f.field == SUBF_TOPIC) {
			if (take_topic(&f, l, &s->topic) == -1)
				return -1;
		}
	}
	return rv == -1 || s->topic.p == NULL ? -1 : 0;
}

static int
parse_msg(const uint8_t *p, size_t len, const struct ps_limits *l,
    struct ps_msg *m)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, bad;

	memset(m, 0, sizeof(*m));
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case MSGF_FROM:
			bad = take_view(&f, &m->from);
			break;
		case MSGF_DATA:
			bad = take_view(&f, &m->data);
			break;
		case MSGF_SEQNO:
			bad = take_view(&f, &m->seqno);
			break;
		case MSGF_TOPIC:
			bad = take_topic(&f, l, &m->topic);
			break;
		case MSGF_SIG:
			bad = take_view(&f, &m->signature);
			break;
		case MSGF_KEY:
			bad = take_view(&f, &m->key);
			break;
		default:
			bad = 0;
		}
		if (bad)
			return -1;
	}
	return rv;
}

/* Count the message IDs in field idf of p; other fields are the caller's. */
static int
count_ids(const uint8_t *p, size_t len, uint32_t idf, size_t max,
    const struct ps_limits *l, struct ps_ids *ids)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	ids->raw.p = p;
	ids->raw.len = len;
	ids->field = idf;
	ids->n = 0;
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field != idf)
			continue;
		if (f.wire != PB_LEN || f.len == 0 || f.len > l->maxmsgid ||
		    ids->n >= max)
			return -1;
		ids->n++;
	}
	return rv;
}

static int
parse_ihave(const uint8_t *p, size_t len, const struct ps_limits *l,
    struct ps_ihave *h)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	memset(h, 0, sizeof(*h));
	if (count_ids(p, len, IHAVEF_IDS, l->maxihaveids, l, &h->ids) == -1)
		return -1;
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1)
		if (f.field == IHAVEF_TOPIC &&
		    take_topic(&f, l, &h->topic) == -1)
			return -1;
	return rv == -1 || h->topic.p == NULL ? -1 : 0;
}

static int
parse_graft(const uint8_t *p, size_t len, const struct ps_limits *l,
    struct ps_view *topic)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	memset(topic, 0, sizeof(*topic));
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1)
		if (f.field == GRAFTF_TOPIC && take_topic(&f, l, topic) == -1)
			return -1;
	return rv == -1 || topic->p == NULL ? -1 : 0;
}

static int
parse_peer(const uint8_t *p, size_t len, struct ps_peerinfo *pi)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	memset(pi, 0, sizeof(*pi));
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field == PEERF_ID && take_view(&f, &pi->peerid) == -1)
			return -1;
		if (f.field == PEERF_RECORD &&
		    take_view(&f, &pi->record) == -1)
			return -1;
	}
	return rv;
}

static int
parse_prune(const uint8_t *p, size_t len, const struct ps_limits *l,
    struct ps_prune *pr)
{
	struct pbr		 r;
	struct pbf		 f;
	struct ps_peerinfo	 pi;
	int			 rv;

	memset(pr, 0, sizeof(*pr));
	pr->rawpeers.p = p;
	pr->rawpeers.len = len;
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case PRUNEF_TOPIC:
			if (take_topic(&f, l, &pr->topic) == -1)
				return -1;
			break;
		case PRUNEF_PEERS:
			if (f.wire != PB_LEN || pr->npeers >= l->maxpeers ||
			    parse_peer(f.data, f.len, &pi) == -1)
				return -1;
			pr->npeers++;
			break;
		case PRUNEF_BACKOFF:
			if (f.wire != PB_VARINT || pr->has_backoff)
				return -1;
			pr->has_backoff = 1;
			pr->backoff = f.v;
			break;
		}
	}
	return rv == -1 || pr->topic.p == NULL ? -1 : 0;
}

static int
check_control(const uint8_t *p, size_t len, const struct ps_limits *l,
    struct ps_rpc *rpc, char *err, size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	struct ps_ihave	 h;
	struct ps_ids	 ids;
	struct ps_prune	 pr;
	struct ps_view	 t;
	size_t		*n;
	int		 rv, bad;

	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case CTLF_IHAVE:
			n = &rpc->nihave;
			bad = parse_ihave(f.data, f.len, l, &h);
			rpc->nids += h.ids.n;
			break;
		case CTLF_IWANT:
			n = &rpc->niwant;
			bad = count_ids(f.data, f.len, IDSF_IDS,
			    l->maxiwantids, l, &ids);
			rpc->nids += ids.n;
			break;
		case CTLF_GRAFT:
			n = &rpc->ngraft;
			bad = parse_graft(f.data, f.len, l, &t);
			break;
		case CTLF_PRUNE:
			n = &rpc->nprune;
			bad = parse_prune(f.data, f.len, l, &pr);
			rpc->npeers += pr.npeers;
			break;
		case CTLF_IDONTWANT:
			n = &rpc->nidontwant;
			bad = count_ids(f.data, f.len, IDSF_IDS,
			    l->maxidontwantids, l, &ids);
			rpc->nids += ids.n;
			break;
		default:
			continue;
		}
		if (f.wire != PB_LEN || bad || *n >= l->maxctrl)
			return errbuf(err, errsz, "bad control field %u "
			    "(entry %zu)", f.field, *n);
		(*n)++;
	}
	if (rv == -1)
		return errbuf(err, errsz, "control is not protobuf");
	return 0;
}

static int
check_rpc_field(const struct pbf *f, const struct ps_limits *l,
    struct ps_rpc *rpc, char *err, size_t errsz)
{
	struct ps_sub	 s;
	struct ps_msg	 m;

	switch (f->field) {
	case RPCF_SUBS:
		if (f->wire != PB_LEN || rpc->nsubs >= l->maxsubs ||
		    parse_sub(f->data, f->len, l, &s) == -1)
			return errbuf(err, errsz, "bad subscription %zu",
			    rpc->nsubs);
		rpc->nsubs++;
		break;
	case RPCF_PUBLISH:
		if (f->wire != PB_LEN || rpc->nmsgs >= l->maxmsgs ||
		    parse_msg(f->data, f->len, l, &m) == -1)
			return errbuf(err, errsz, "bad message %zu",
			    rpc->nmsgs);
		rpc->nmsgs++;
		break;
	case RPCF_CONTROL:
		if (f->wire != PB_LEN || rpc->control.p != NULL)
			return errbuf(err, errsz, "bad or second control");
		rpc->control.p = f->data;
		rpc->control.len = f->len;
		return check_control(f->data, f->len, l, rpc, err, errsz);
	}
	return 0;
}

/* Check a whole RPC against l; 0 with rpc filled, -1 with err set. */
int
ps_rpc_decode(const uint8_t *buf, size_t len, const struct ps_limits *l,
    struct ps_rpc *rpc, char *err, size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	memset(rpc, 0, sizeof(*rpc));
	if (len > l->maxrpc)
		return errbuf(err, errsz, "RPC of %zu bytes over %zu", len,
		    l->maxrpc);
	rpc->rpc.p = buf;
	rpc->rpc.len = len;
	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1)
		if (check_rpc_field(&f, l, rpc, err, errsz) == -1)
			return -1;
	if (rv == -1)
		return errbuf(err, errsz, "RPC is not protobuf");
	return 0;
}

static void
iter_init(struct ps_iter *it, const struct ps_view *v, uint32_t field)
{
	it->p = v->p;
	it->len = v->p == NULL ? 0 : v->len;
	it->off = 0;
	it->field = field;
}

/* The next field of the iterator's number: 1, or 0 at the end. */
static int
iter_next(struct ps_iter *it, const uint8_t **p, size_t *len)
{
	struct pbr	 r;
	struct pbf	 f;

	pbr_init(&r, it->p, it->len);
	r.off = it->off;
	while (pbr_next(&r, &f) == 1) {
		it->off = r.off;
		if (f.field == it->field && f.wire == PB_LEN) {
			*p = f.data;
			*len = f.len;
			return 1;
		}
	}
	it->off = it->len;
	return 0;
}

void
ps_subs(const struct ps_rpc *rpc, struct ps_iter *it)
{
	iter_init(it, &rpc->rpc, RPCF_SUBS);
}

int
ps_next_sub(struct ps_iter *it, struct ps_sub *s)
{
	const uint8_t	*p;
	size_t		 len;

	while (iter_next(it, &p, &len))
		if (parse_sub(p, len, &nolimits, s) == 0)
			return 1;
	return 0;
}

void
ps_msgs(const struct ps_rpc *rpc, struct ps_iter *it)
{
	iter_init(it, &rpc->rpc, RPCF_PUBLISH);
}

int
ps_next_msg(struct ps_iter *it, struct ps_msg *m)
{
	const uint8_t	*p;
	size_t		 len;

	while (iter_next(it, &p, &len))
		if (parse_msg(p, len, &nolimits, m) == 0)
			return 1;
	return 0;
}

/* One Message alone, as keyd is given one to sign. */
int
ps_msg_decode(const uint8_t *p, size_t len, const struct ps_limits *l,
    struct ps_msg *m)
{
	return parse_msg(p, len, l, m) == 0 ? 0 : -1;
}

void
ps_ihaves(const struct ps_rpc *rpc, struct ps_iter *it)
{
	iter_init(it, &rpc->control, CTLF_IHAVE);
}

int
ps_next_ihave(struct ps_iter *it, struct ps_ihave *h)
{
	const uint8_t	*p;
	size_t		 len;

	while (iter_next(it, &p, &len))
		if (parse_ihave(p, len, &nolimits, h) == 0)
			return 1;
	return 0;
}

static int
next_ids(struct ps_iter *it, struct ps_ids *ids)
{
	const uint8_t	*p;
	size_t		 len;

	while (iter_next(it, &p, &len))
		if (count_ids(p, len, IDSF_IDS, SIZE_MAX, &nolimits,
		    ids) == 0)
			return 1;
	return 0;
}

void
ps_iwants(const struct ps_rpc *rpc, struct ps_iter *it)
{
	iter_init(it, &rpc->control, CTLF_IWANT);
}

int
ps_next_iwant(struct ps_iter *it, struct ps_ids *ids)
{
	return next_ids(it, ids);
}

void
ps_grafts(const struct ps_rpc *rpc, struct ps_iter *it)
{
	iter_init(it, &rpc->control, CTLF_GRAFT);
}

int
ps_next_graft(struct ps_iter *it, struct ps_view *topic)
{
	const uint8_t	*p;
	size_t		 len;

	while (iter_next(it, &p, &len))
		if (parse_graft(p, len, &nolimits, topic) == 0)
			return 1;
	return 0;
}

void
ps_prunes(const struct ps_rpc *rpc, struct ps_iter *it)
{
	iter_init(it, &rpc->control, CTLF_PRUNE);
}

int
ps_next_prune(struct ps_iter *it, struct ps_prune *pr)
{
	const uint8_t	*p;
	size_t		 len;

	while (iter_next(it, &p, &len))
		if (parse_prune(p, len, &nolimits, pr) == 0)
			return 1;
	return 0;
}

void
ps_idontwants(const struct ps_rpc *rpc, struct ps_iter *it)
{
	iter_init(it, &rpc->control, CTLF_IDONTWANT);
}

int
ps_next_idontwant(struct ps_iter *it, struct ps_ids *ids)
{
	return next_ids(it, ids);
}

void
ps_ids_iter(const struct ps_ids *ids, struct ps_iter *it)
{
	iter_init(it, &ids->raw, ids->field);
}

int
ps_next_id(struct ps_iter *it, struct ps_view *id)
{
	const uint8_t	*p;
	size_t		 len;

	if (!iter_next(it, &p, &len))
		return 0;
	id->p = p;
	id->len = len;
	return 1;
}

void
ps_peers_iter(const struct ps_prune *pr, struct ps_iter *it)
{
	iter_init(it, &pr->rawpeers, PRUNEF_PEERS);
}

int
ps_next_peer(struct ps_iter *it, struct ps_peerinfo *pi)
{
	const uint8_t	*p;
	size_t		 len;

	while (iter_next(it, &p, &len))
		if (parse_peer(p, len, pi) == 0)
			return 1;
	return 0;
}



static void
put_view(struct pbw *w, uint32_t field, const struct ps_view *v)
{
	if (v->p != NULL)
		pbw_bytes(w, field, v->p, v->len);
}

/* js-libp2p leaves out an empty topic; so do its signed bytes. */
static void
put_msg(struct pbw *w, const struct ps_msg *m, int withsig)
{
	put_view(w, MSGF_FROM, &m->from);
	put_view(w, MSGF_DATA, &m->data);
	put_view(w, MSGF_SEQNO, &m->seqno);
	if (m->topic.p != NULL && m->topic.len > 0)
		put_view(w, MSGF_TOPIC, &m->topic);
	if (withsig) {
		put_view(w, MSGF_SIG, &m->signature);
		put_view(w, MSGF_KEY, &m->key);
	}
}

static void
put_ids(struct pbw *w, uint32_t field, const struct ps_idlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		put_view(w, field, &l->ids[i]);
}

static void
put_prune(struct pbw *w, const struct ps_prune_out *pr)
{
	size_t	 i, at;

	put_view(w, PRUNEF_TOPIC, &pr->topic);
	for (i = 0; i < pr->npeers; i++) {
		at = pbw_nest_begin(w);
		put_view(w, PEERF_ID, &pr->peers[i].peerid);
		put_view(w, PEERF_RECORD, &pr->peers[i].record);
		pbw_nest_end(w, PRUNEF_PEERS, at);
	}
	if (pr->has_backoff)
		pbw_varint(w, PRUNEF_BACKOFF, pr->backoff);
}

static void
put_control(struct pbw *w, const struct ps_out *o)
{
	size_t	 i, at;

	for (i = 0; i < o->nihave; i++) {
		at = pbw_nest_begin(w);
		put_view(w, IHAVEF_TOPIC, &o->ihave[i].topic);
		put_ids(w, IHAVEF_IDS, &o->ihave[i].ids);
		pbw_nest_end(w, CTLF_IHAVE, at);
	}
	for (i = 0; i < o->niwant; i++) {
		at = pbw_nest_begin(w);
		put_ids(w, IDSF_IDS, &o->iwant[i]);
		pbw_nest_end(w, CTLF_IWANT, at);
	}
	for (i = 0; i < o->ngraft; i++) {
		at = pbw_nest_begin(w);
		put_view(w, GRAFTF_TOPIC, &o->graft[i]);
		pbw_nest_end(w, CTLF_GRAFT, at);
	}
	for (i = 0; i < o->nprune; i++) {
		at = pbw_nest_begin(w);
		put_prune(w, &o->prune[i]);
		pbw_nest_end(w, CTLF_PRUNE, at);
	}
	for (i = 0; i < o->nidontwant; i++) {
		at = pbw_nest_begin(w);
		put_ids(w, IDSF_IDS, &o->idontwant[i]);
		pbw_nest_end(w, CTLF_IDONTWANT, at);
	}
}

/*
 * Write an RPC; the control message only when it has an entry.  Needs
 * NEST_HDR bytes to spare past the end of each submessage.
 */
int
ps_rpc_encode(const struct ps_out *o, uint8_t *buf, size_t cap,
    size_t *len)
{
	struct pbw	 w;
	size_t		 i, at;

	pbw_init(&w, buf, cap);
	for (i = 0; i < o->nsubs; i++) {
		at = pbw_nest_begin(&w);
		pbw_varint(&w, SUBF_SUBSCRIBE, o->subs[i].subscribe != 0);
		put_view(&w, SUBF_TOPIC, &o->subs[i].topic);
		pbw_nest_end(&w, RPCF_SUBS, at);
	}
	for (i = 0; i < o->nmsgs; i++) {
		at = pbw_nest_begin(&w);
		put_msg(&w, &o->msgs[i], 1);
		pbw_nest_end(&w, RPCF_PUBLISH, at);
	}
	if (o->nihave + o->niwant + o->ngraft + o->nprune +
	    o->nidontwant > 0) {
		at = pbw_nest_begin(&w);
		put_control(&w, o);
		pbw_nest_end(&w, RPCF_CONTROL, at);
	}
	if (w.overflow)
		return -1;
	*len = w.len;
	return 0;
}

/* A Message alone; without signature and key if withsig is 0. */
int
ps_msg_encode(const struct ps_msg *m, int withsig, uint8_t *buf,
    size_t cap, size_t *len)
{
	struct pbw	 w;

	pbw_init(&w, buf, cap);
	put_msg(&w, m, withsig);
	if (w.overflow)
		return -1;
	*len = w.len;
	return 0;
}

/* "libp2p-pubsub:" and the Message without signature and key. */
int
ps_sign_bytes(const struct ps_msg *m, uint8_t *buf, size_t cap,
    size_t *len)
{
	size_t	 pl = sizeof(PS_SIGN_PREFIX) - 1, n;

	if (cap < pl || ps_msg_encode(m, 0, buf + pl, cap - pl, &n) == -1)
		return -1;
	memcpy(buf, PS_SIGN_PREFIX, pl);
	*len = pl + n;
	return 0;
}

/*
 * The Ed25519 key of the author: the key field, which must give the
 * from peer ID, or else the key from embeds.  Other key types are not
 * taken.
 */
static int
msg_pubkey(const struct ps_msg *m, uint8_t pub[32], char *err,
    size_t errsz)
{
	struct peerid	 from, kid;
	const uint8_t	*data;
	size_t		 dlen;
	int		 type;

	if (m->from.p == NULL ||
	    peerid_from_mh(m->from.p, m->from.len, &from) == -1)
		return errbuf(err, errsz, "no or bad from");
	if (m->key.p == NULL) {
		if (peerid_ed25519_pubkey(&from, pub) == -1)
			return errbuf(err, errsz, "from embeds no Ed25519 "
			    "key and no key given");
		return 0;
	}
	if (pubkey_pb_decode(m->key.p, m->key.len, &type, &data,
	    &dlen) == -1)
		return errbuf(err, errsz, "bad key");
	if (type != PUBKEY_ED25519)
		return errbuf(err, errsz, "key type %d not supported", type);
	if (peerid_from_pubkey_pb(m->key.p, m->key.len, &kid) == -1 ||
	    !peerid_equal(&kid, &from))
		return errbuf(err, errsz, "key is not from's");
	memcpy(pub, data, 32);
	return 0;
}

int
ps_msg_pubkey(const struct ps_msg *m, uint8_t pub[32])
{
	return msg_pubkey(m, pub, NULL, 0);
}

/*
 * StrictSign: an 8 byte seqno, a from, a signature by from's key over
 * ps_sign_bytes.  scratch holds those bytes: the message's size and
 * 14 more.
 */
int
ps_msg_verify(const struct ps_msg *m, uint8_t *scratch, size_t scratchsz,
    char *err, size_t errsz)
{
	uint8_t	 pub[32];
	size_t	 n;

	if (m->seqno.p == NULL || m->seqno.len != PS_SEQNO_LEN)
		return errbuf(err, errsz, "no or bad seqno");
	if (m->signature.p == NULL || m->signature.len != PS_SIG_LEN)
		return errbuf(err, errsz, "no or bad signature");
	if (msg_pubkey(m, pub, err, errsz) == -1)
		return -1;
	if (ps_sign_bytes(m, scratch, scratchsz, &n) == -1)
		return errbuf(err, errsz, "message too large to check");
	if (crypto_sign_verify_detached(m->signature.p, scratch, n, pub) != 0)
		return errbuf(err, errsz, "signature does not verify");
	return 0;
}

/*
 * js-libp2p's default ID (msgIdFnStrictSign): the author's public key
 * as a protobuf, then the seqno as 8 big-endian bytes.  go-libp2p's
 * default is from then seqno; for an Ed25519 author from is these key
 * bytes after a two byte identity multihash header.
 */
int
ps_msgid_default(const struct ps_msg *m, uint8_t *out, size_t cap,
    size_t *len)
{
	uint8_t	 pub[32];

	if (cap < PS_MSGID_MAX || m->seqno.p == NULL ||
	    m->seqno.len != PS_SEQNO_LEN || ps_msg_pubkey(m, pub) == -1)
		return -1;
	pb_ed25519_pubkey(pub, out, ED25519_PUBKEY_PB_LEN);
	memcpy(out + ED25519_PUBKEY_PB_LEN, m->seqno.p, PS_SEQNO_LEN);
	*len = ED25519_PUBKEY_PB_LEN + PS_SEQNO_LEN;
	return 0;
}

/* The content ID of js (msgIdFnStrictNoSign) and go: sha256 of data. */
void
ps_msgid_hash(const struct ps_msg *m, uint8_t out[32])
{
	crypto_hash_sha256(out, m->data.p == NULL ? (const uint8_t *)"" :
	    m->data.p, m->data.p == NULL ? 0 : m->data.len);
}
