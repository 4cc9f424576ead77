/*
 * The gossipsub router on a stream, through the engine's yamux and
 * multistream (over the stand-ins of fuzz/engine_stubs.c): a remote
 * opens /meshsub/1.2.0, peerd opens its own stream back and sends its
 * subscription first; the remote subscribes and grafts; then a local
 * publish (gossip_unsigned, signed here as keyd would, gossip_publish)
 * reaches it as one RPC that verifies, with our peer ID as from; a bad
 * signature is refused and nothing is sent; the same message again is a
 * duplicate; a topic not joined goes to the fanout.  A message from the
 * mesh peer counts as its first delivery (P2) and mesh delivery (P3),
 * its copy again does not.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine.h"
#include "fuzz/engine_stubs.h"
#include "gossip.h"
#include "pubsub.h"
#include "tap.h"
#include "varint.h"

#define T_DATA		0
#define T_WINDOW	1
#define F_SYN		1
#define F_ACK		2

static const char	 MSH[] = "\x13/multistream/1.0.0\n";
static const char	 MSMESH[] = "\x0f/meshsub/1.2.0\n";

static uint8_t		 sk[crypto_sign_SECRETKEYBYTES];

int64_t
mono_ms(void)
{
	return (int64_t)stub_now * 1000;
}

void
sockaddr_ip16(const struct sockaddr_storage *ss, uint8_t ip[16])
{
	memset(ip, 0, 16);
	ip[15] = 7;
}

void
known_px(const struct conn *c, const struct peer_record *rec)
{
}

static int
in_frame(int type, int flags, uint32_t id, const void *body, size_t blen)
{
	static uint8_t	 buf[12 + 65536];

	buf[0] = 0;
	buf[1] = type;
	buf[2] = flags >> 8;
	buf[3] = flags;
	buf[4] = id >> 24;
	buf[5] = id >> 16;
	buf[6] = id >> 8;
	buf[7] = id;
	buf[8] = blen >> 24;
	buf[9] = blen >> 16;
	buf[10] = blen >> 8;
	buf[11] = blen;
	if (blen > 65536)
		abort();
	if (blen > 0)
		memcpy(buf + 12, body, blen);
	return yamux_input(stub_conn(), buf, 12 + blen);
}

static void
in_str(uint32_t id, const char *s)
{
	in_frame(T_DATA, 0, id, s, strlen(s));
}

/* The data the engine wrote on stream id, put together. */
static size_t
data_of(uint32_t id, uint8_t *buf, size_t max)
{
	const uint8_t	*p = bq_ptr(&stub_out);
	size_t		 off = 0, n = 0, len;
	uint32_t	 sid;

	while (off + 12 <= stub_out.len) {
		sid = (uint32_t)p[off + 4] << 24 | (uint32_t)p[off + 5] << 16 |
		    (uint32_t)p[off + 6] << 8 | p[off + 7];
		len = (size_t)p[off + 8] << 24 | (size_t)p[off + 9] << 16 |
		    (size_t)p[off + 10] << 8 | p[off + 11];
		off += 12;
		if (p[off - 11] != T_DATA)
			continue;
		if (len > stub_out.len - off || (sid == id && len > max - n))
			abort();
		if (sid == id) {
			memcpy(buf + n, p + off, len);
			n += len;
		}
		off += len;
	}
	return n;
}

/* The RPCs peerd sent on its stream: their messages, and subscriptions. */
struct seen_rpc {
	int		 nrpc, nmsgs, nsubs, verified;
	struct ps_msg	 msg;		/* the last */
	char		 sub[64];	/* the first */
};

static void
read_rpcs(uint32_t id, size_t skip, struct seen_rpc *r)
{
	static uint8_t		 buf[65536], scratch[65536];
	struct ps_limits	 l;
	struct ps_rpc		 rpc;
	struct ps_iter		 it;
	struct ps_sub		 sub;
	const uint8_t		*m;
	size_t			 n, off, mlen, used;

	memset(r, 0, sizeof(*r));
	n = data_of(id, buf, sizeof(buf));
	ps_limits_default(&l);
	for (off = skip; uvarint_frame_read(buf + off, n - off, 65536, &m,
	    &mlen, &used) == 1; off += used) {
		if (ps_rpc_decode(m, mlen, &l, &rpc, NULL, 0) == -1)
			return;
		r->nrpc++;
		ps_subs(&rpc, &it);
		while (ps_next_sub(&it, &sub) == 1)
			if (r->nsubs++ == 0 && sub.topic.len < sizeof(r->sub))
				memcpy(r->sub, sub.topic.p, sub.topic.len);
		ps_msgs(&rpc, &it);
		while (ps_next_msg(&it, &r->msg) == 1) {
			r->nmsgs++;
			if (ps_msg_verify(&r->msg, scratch, sizeof(scratch),
			    NULL, 0) == 0)
				r->verified++;
		}
	}
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* One RPC from the remote on its stream 1. */
static void
remote_rpc(const struct ps_out *o)
{
	uint8_t	 buf[4096], fr[4096 + UVARINT_MAXLEN];
	size_t	 len, n;

	if (ps_rpc_encode(o, buf, sizeof(buf), &len) == -1 ||
	    (n = uvarint_frame_write(buf, len, len, fr, sizeof(fr))) == 0)
		abort();
	in_frame(T_DATA, 0, 1, fr, n);
}

static void
identity(void)
{
	uint8_t	 seed[32], pb[ED25519_PUBKEY_PB_LEN];

	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(ident.pubkey, sk, seed);
	pb_ed25519_pubkey(ident.pubkey, pb, sizeof(pb));
	peerid_from_pubkey_pb(pb, sizeof(pb), &ident.peerid);
}

static uint8_t		 rsk[64];

static void
remote_peer(struct conn *c)
{
	uint8_t	 pk[32], seed[32], pb[ED25519_PUBKEY_PB_LEN];

	memset(seed, 9, sizeof(seed));
	crypto_sign_seed_keypair(pk, rsk, seed);
	pb_ed25519_pubkey(pk, pb, sizeof(pb));
	peerid_from_pubkey_pb(pb, sizeof(pb), &c->peer);
}

static void
configure(void)
{
	static struct engine_conf	 ec;
	struct reconf_engine		*e = &ec.lim;

	memset(&ec, 0, sizeof(ec));
	e->gossip_enabled = 1;
	e->gs_D = 6;
	e->gs_Dlo = 4;
	e->gs_Dhi = 12;
	e->gs_Dlazy = 6;
	e->gs_Dout = 2;
	e->gs_heartbeat = 1000;
	e->gs_fanout_ttl = 60000;
	e->gs_seen_ttl = 120000;
	e->gs_prune_backoff = 60000;
	e->gs_mcache_len = 5;
	e->gs_mcache_gossip = 3;
	e->gs_max_topics = 64;
	e->gs_max_peer_topics = 16;
	e->gs_max_seen = 1000;
	e->gs_max_mcache = 100;
	e->gs_max_ihave = 5000;
	e->gs_max_iwant = 500;
	e->gs_max_queue = 1 << 20;
	e->gs_idontwant_min = 512;
	e->gs_max_rpc = 1 << 20;
	e->gs_gossip_thr = -10;
	e->gs_publish_thr = -50;
	e->gs_graylist_thr = -80;
	e->gs_coloc_thr = 10;
	e->gs_md_thr = 20;
	e->gs_md_window = 10;
	e->gs_md_activation = 5000;
	e->gs_fd_cap = 2000;
	strlcpy(ec.topics[0], "t", sizeof(ec.topics[0]));
	ec.ntopics = 1;
	gossip_configure(&ec);
}

/* A message of the remote's own, signed, in one RPC from it. */
static void
remote_message(const struct conn *c, const char *data, size_t seqlen)
{
	static const uint8_t	 seqno[PS_SEQNO_LEN] = { 1, 2, 3 };
	struct ps_msg		 m;
	struct ps_out		 o;
	uint8_t			 buf[1024], sig[64];
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.from.p = c->peer.mh;
	m.from.len = c->peer.len;
	m.data.p = (const uint8_t *)data;
	m.data.len = strlen(data);
	m.seqno.p = seqno;
	m.seqno.len = seqlen;
	m.topic.p = (const uint8_t *)"t";
	m.topic.len = 1;
	if (ps_sign_bytes(&m, buf, sizeof(buf), &len) == -1)
		abort();
	crypto_sign_detached(sig, NULL, buf, len, rsk);
	m.signature.p = sig;
	m.signature.len = sizeof(sig);
	memset(&o, 0, sizeof(o));
	o.msgs = &m;
	o.nmsgs = 1;
	remote_rpc(&o);
}

/* keyd's part: Ed25519 over the domain and the unsigned message. */
static void
sign(const uint8_t *msg, size_t len, uint8_t sig[64])
{
	uint8_t	 buf[1024];

	if (len + sizeof(PS_SIGN_PREFIX) > sizeof(buf))
		abort();
	memcpy(buf, PS_SIGN_PREFIX, sizeof(PS_SIGN_PREFIX) - 1);
	memcpy(buf + sizeof(PS_SIGN_PREFIX) - 1, msg, len);
	crypto_sign_detached(sig, NULL, buf, sizeof(PS_SIGN_PREFIX) - 1 + len,
	    sk);
}

int
main(void)
{
	static const struct proto *const protocols[] = {
		&proto_identify, &proto_identify_push, &proto_ping,
		&proto_meshsub12, &proto_meshsub11, &proto_meshsub10,
		&proto_floodsub, NULL
	};
	struct conn		*c;
	struct gs_peer		*gp;
	struct gs_sub		*gs;
	struct seen_rpc		 r;
	struct ps_out		 o;
	struct ps_sub		 subs[2];
	struct ps_view		 graft;
	struct peerid		 fromid;
	uint64_t		 seq1;
	uint8_t			 msg[512], sig[64], msg2[512], sig2[64];
	size_t			 mlen, mlen2, before, invalid;
	char			 err[128], id[64], from[64];

	stub_init();
	stub_reset();
	stream_init(protocols);
	identity();
	configure();
	c = stub_conn_open(CONN_INBOUND);
	remote_peer(c);

	in_frame(T_WINDOW, F_SYN, 1, NULL, 0);
	in_str(1, MSH);
	in_str(1, MSMESH);
	ok(data_of(1, msg, sizeof(msg)) == strlen(MSH) + strlen(MSMESH) &&
	    memcmp(msg + strlen(MSH), MSMESH, strlen(MSMESH)) == 0,
	    "the remote's /meshsub/1.2.0 stream is agreed");
	mlen = data_of(2, msg, sizeof(msg));
	ok(mlen == strlen(MSH) + strlen(MSMESH) &&
	    memcmp(msg + strlen(MSH), MSMESH, strlen(MSMESH)) == 0,
	    "peerd opens its own stream back, proposing /meshsub/1.2.0");
	in_frame(T_WINDOW, F_ACK, 2, NULL, 0);
	in_str(2, MSH);
	in_str(2, MSMESH);
	read_rpcs(2, mlen, &r);
	ok(r.nrpc == 1 && r.nsubs == 1 && strcmp(r.sub, "t") == 0,
	    "once agreed, its first RPC subscribes to the topic joined");

	memset(&o, 0, sizeof(o));
	subs[0].subscribe = 1;
	subs[0].topic.p = (const uint8_t *)"t";
	subs[0].topic.len = 1;
	subs[1].subscribe = 1;
	subs[1].topic.p = (const uint8_t *)"u";
	subs[1].topic.len = 1;
	o.subs = subs;
	o.nsubs = 2;
	graft.p = (const uint8_t *)"t";
	graft.len = 1;
	o.graft = &graft;
	o.ngraft = 1;
	remote_rpc(&o);

	bq_free(&stub_out);
	ok(gossip_unsigned("t", (const uint8_t *)"hello", 5, msg, sizeof(msg),
	    &mlen) == 0, "the message keyd is to sign");
	sign(msg, mlen, sig);
	err[0] = '\0';
	ok(gossip_publish(msg, mlen, sig, NULL, err, sizeof(err)) == 0,
	    "a local publish, signed, is taken %s", err);
	read_rpcs(2, 0, &r);
	peerid_format(&ident.peerid, id, sizeof(id));
	from[0] = '\0';
	if (r.nmsgs == 1 &&
	    peerid_from_mh(r.msg.from.p, r.msg.from.len, &fromid) == 0)
		peerid_format(&fromid, from, sizeof(from));
	ok(r.nmsgs == 1 && r.verified == 1 && r.msg.data.len == 5 &&
	    memcmp(r.msg.data.p, "hello", 5) == 0 && r.msg.topic.len == 1 &&
	    strcmp(from, id) == 0 && r.msg.seqno.len == PS_SEQNO_LEN,
	    "the grafted peer gets it: one message, signature good, from "
	    "our peer ID (%s)", from);
	seq1 = r.nmsgs == 1 ? be64(r.msg.seqno.p) : 0;

	bq_free(&stub_out);
	before = counters.gossip.msgs_out;
	ok(gossip_publish(msg, mlen, sig, NULL, err, sizeof(err)) == 0 &&
	    stub_out.len == 0 && counters.gossip.dups == 1 &&
	    counters.gossip.msgs_out == before,
	    "the same message again: a duplicate, not sent");
	if (gossip_unsigned("t", (const uint8_t *)"bad", 3, msg2,
	    sizeof(msg2), &mlen2) == -1)
		abort();
	sign(msg2, mlen2, sig2);
	sig2[0] ^= 1;
	ok(gossip_publish(msg2, mlen2, sig2, NULL, err, sizeof(err)) == -1 &&
	    strstr(err, "signature") != NULL && stub_out.len == 0 &&
	    counters.gossip.drop_invalid == 1,
	    "a bad signature: refused (%s), counted, nothing sent", err);
	ok(gossip_unsigned("u", (const uint8_t *)"fan", 3, msg2,
	    sizeof(msg2), &mlen2) == 0, "another message");
	sign(msg2, mlen2, sig2);
	ok(gossip_publish(msg2, mlen2, sig2, NULL, err, sizeof(err)) == 0,
	    "published to a topic not joined");
	read_rpcs(2, 0, &r);
	ok(r.nmsgs == 1 && r.verified == 1 && r.msg.topic.len == 1 &&
	    r.msg.topic.p[0] == 'u', "it goes to the fanout: the peer "
	    "subscribed to it gets it");
	ok(r.nmsgs == 1 && seq1 != 0 && be64(r.msg.seqno.p) == seq1 + 2,
	    "each message made takes the next seqno");

	before = counters.gossip.msgs_in;
	invalid = counters.gossip.drop_invalid;
	remote_message(c, "short", PS_SEQNO_LEN - 1);
	ok(counters.gossip.msgs_in == before &&
	    counters.gossip.drop_invalid == invalid + 1, "a seqno of 7 bytes, "
	    "signed over as it is (js floodsub's, 1 time in 256): dropped as "
	    "invalid, as js gossipsub does");
	remote_message(c, "mine", PS_SEQNO_LEN);
	gp = gpeer_find(&c->peer);
	gs = gp == NULL ? NULL : sub_find(gp, topic_find((const uint8_t *)"t",
	    1));
	ok(counters.gossip.msgs_in == before + 1 && gs != NULL && gs->mesh &&
	    gs->first == 1 && gs->deliveries == 1, "a message from the mesh "
	    "peer: its first delivery (P2) and a mesh delivery (P3)");
	remote_message(c, "mine", PS_SEQNO_LEN);
	ok(counters.gossip.dups == 2 && gs != NULL && gs->first == 1 &&
	    gs->deliveries == 1, "the same again: a duplicate, not counted "
	    "again");

	gossip_conn_closed(c);
	stub_reset();
	return tap_done();
}
