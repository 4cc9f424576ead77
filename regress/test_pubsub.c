/*
 * Pubsub RPC codec: the bytes js-libp2p gossipsub wrote (argv[1],
 * regress/vectors/pubsub_js.txt) decoded field by field, encoded back
 * to the same bytes, its signature checked and remade from the same
 * seed; every cut, every limit, malformed fields, frames.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pb.h"
#include "peerid.h"
#include "pubsub.h"
#include "tap.h"
#include "vectors.h"

#define TOPIC		"/openclaw/v1/announce"
#define diag(...)	(printf("# "), printf(__VA_ARGS__), printf("\n"))

static uint8_t		 scratch[4096];

static int
eqv(const struct ps_view *v, const void *p, size_t len)
{
	return v->p != NULL && v->len == len && memcmp(v->p, p, len) == 0;
}

static int
eqvec(const struct ps_view *v, const char *name)
{
	const struct vec	*x = vec(name);

	return eqv(v, x->b, x->len);
}

static int
eqs(const struct ps_view *v, const char *s)
{
	return eqv(v, s, strlen(s));
}

static struct ps_view
sv(const char *s)
{
	struct ps_view	 v = { (const uint8_t *)s, strlen(s) };

	return v;
}

static struct ps_view
vv(const char *name)
{
	const struct vec	*x = vec(name);
	struct ps_view		 v = { x->b, x->len };

	return v;
}

static int
decode(const uint8_t *b, size_t len, struct ps_rpc *rpc)
{
	struct ps_limits	 l;
	char			 err[128];

	ps_limits_default(&l);
	return ps_rpc_decode(b, len, &l, rpc, err, sizeof(err));
}

static int
decode_lim(const char *name, const struct ps_limits *l)
{
	const struct vec	*x = vec(name);
	struct ps_rpc		 rpc;
	char			 err[128] = "";

	if (ps_rpc_decode(x->b, x->len, l, &rpc, err, sizeof(err)) == -1) {
		diag("%s: %s", name, err);
		return -1;
	}
	return 0;
}

static int
first_msg(const char *name, struct ps_msg *m)
{
	const struct vec	*x = vec(name);
	struct ps_rpc		 rpc;
	struct ps_iter		 it;

	if (decode(x->b, x->len, &rpc) == -1 || rpc.nmsgs != 1)
		return -1;
	ps_msgs(&rpc, &it);
	return ps_next_msg(&it, m) == 1 ? 0 : -1;
}

static int
encodes_to(const struct ps_out *o, const char *name)
{
	const struct vec	*x = vec(name);
	uint8_t			 buf[VEC_MAXLEN];
	size_t			 n;

	if (ps_rpc_encode(o, buf, sizeof(buf), &n) == -1)
		return 0;
	if (n != x->len || memcmp(buf, x->b, n) != 0) {
		diag("%s: encoded %zu bytes, js %zu", name, n, x->len);
		return 0;
	}
	return 1;
}

static void
test_subs(void)
{
	struct ps_rpc	 rpc;
	struct ps_iter	 it;
	struct ps_sub	 s[3];
	struct ps_out	 o;
	const struct vec *x = vec("rpc_subs");

	ok(decode(x->b, x->len, &rpc) == 0 && rpc.nsubs == 2 &&
	    rpc.nmsgs == 0 && rpc.control.p == NULL, "js subscriptions decode");
	ps_subs(&rpc, &it);
	ok(ps_next_sub(&it, &s[0]) && s[0].subscribe &&
	    eqs(&s[0].topic, TOPIC), "first subscribes to " TOPIC);
	ok(ps_next_sub(&it, &s[1]) && !s[1].subscribe &&
	    eqs(&s[1].topic, "other"), "second unsubscribes from other");
	ok(!ps_next_sub(&it, &s[2]), "and no third");
	memset(&o, 0, sizeof(o));
	o.subs = s;
	o.nsubs = 2;
	ok(encodes_to(&o, "rpc_subs"), "subscriptions encode as js does");
}

static void
test_publish(void)
{
	struct ps_msg	 m, m2;
	struct ps_out	 o;
	uint8_t		 id[PS_MSGID_MAX], h[32], pk[32], sk[64], seed[32];
	uint8_t		 sig[64];
	size_t		 n, i;
	char		 err[128] = "";

	ok(first_msg("rpc_publish", &m) == 0, "js signed message decodes");
	ok(eqvec(&m.from, "peer") && eqs(&m.data, "hello from js") &&
	    eqvec(&m.seqno, "msg_seqno") && eqs(&m.topic, TOPIC) &&
	    eqvec(&m.signature, "msg_signature") && eqvec(&m.key, "msg_key"),
	    "its six fields are js's");
	ok(ps_msg_verify(&m, scratch, sizeof(scratch), err,
	    sizeof(err)) == 0, "its signature verifies (%s)", err);
	ok(ps_msgid_default(&m, id, sizeof(id), &n) == 0 &&
	    n == vec("msg_id")->len && memcmp(id, vec("msg_id")->b, n) == 0,
	    "default message ID is js msgIdFnStrictSign's");
	ps_msgid_hash(&m, h);
	ok(memcmp(h, vec("msg_id_hash")->b, 32) == 0,
	    "content ID is js msgIdFnStrictNoSign's");
	memset(&o, 0, sizeof(o));
	o.msgs = &m;
	o.nmsgs = 1;
	ok(encodes_to(&o, "rpc_publish"), "message encodes as js does");

	ok(first_msg("rpc_publish_nokey", &m2) == 0 && m2.key.p == NULL &&
	    ps_msg_verify(&m2, scratch, sizeof(scratch), err,
	    sizeof(err)) == 0, "without key, the key in from verifies (%s)",
	    err);
	ok(ps_msgid_default(&m2, id, sizeof(id), &n) == 0 &&
	    memcmp(id, vec("msg_id")->b, n) == 0, "and gives the same ID");
	ok(first_msg("rpc_forged", &m2) == 0 && ps_msg_verify(&m2, scratch,
	    sizeof(scratch), err, sizeof(err)) == -1,
	    "data changed after signing is refused (%s)", err);

	/* the same seed signs the same bytes into the same signature */
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	crypto_sign_seed_keypair(pk, sk, seed);
	ok(ps_msg_pubkey(&m, h) == 0 && memcmp(h, pk, 32) == 0,
	    "seed 01..20 is js's signer");
	ok(ps_sign_bytes(&m, scratch, sizeof(scratch), &n) == 0 &&
	    crypto_sign_detached(sig, NULL, scratch, n, sk) == 0 &&
	    memcmp(sig, m.signature.p, 64) == 0,
	    "signing our signed bytes gives js's signature");
	explicit_bzero(sk, sizeof(sk));

	m2 = m;
	m2.seqno.len = 7;
	ok(ps_msg_verify(&m2, scratch, sizeof(scratch), NULL, 0) == -1,
	    "a 7 byte seqno is refused");
	m2 = m;
	m2.signature.p = NULL;
	ok(ps_msg_verify(&m2, scratch, sizeof(scratch), NULL, 0) == -1,
	    "no signature is refused");
	m2 = m;
	m2.from = vv("peer2");
	ok(ps_msg_verify(&m2, scratch, sizeof(scratch), err,
	    sizeof(err)) == -1, "a key that is not from's is refused (%s)",
	    err);
	m2.key.p = NULL;
	ok(ps_msg_verify(&m2, scratch, sizeof(scratch), err,
	    sizeof(err)) == -1, "another from is refused (%s)", err);
	m2 = m;
	m2.from.len--;
	ok(ps_msg_verify(&m2, scratch, sizeof(scratch), NULL, 0) == -1,
	    "a bad from is refused");
	ok(ps_msg_verify(&m, scratch, 50, NULL, 0) == -1,
	    "a scratch too small is refused, not overrun");
}

static void
test_control(void)
{
	const struct vec	*x = vec("rpc_control");
	struct ps_rpc		 rpc;
	struct ps_iter		 it, it2;
	struct ps_ihave		 h;
	struct ps_ids		 ids;
	struct ps_prune		 pr;
	struct ps_peerinfo	 pi;
	struct ps_view		 v, id12[2], id3, graft;
	struct ps_peerinfo	 peers[2];
	struct ps_ihave_out	 ho;
	struct ps_idlist	 iw, idw;
	struct ps_prune_out	 po;
	struct ps_out		 o;

	ok(decode(x->b, x->len, &rpc) == 0 && rpc.nihave == 1 &&
	    rpc.niwant == 1 && rpc.ngraft == 1 && rpc.nprune == 1 &&
	    rpc.nidontwant == 1 && rpc.nids == 4 && rpc.npeers == 2,
	    "js control decodes with its counts");
	ps_ihaves(&rpc, &it);
	ok(ps_next_ihave(&it, &h) && eqs(&h.topic, TOPIC) && h.ids.n == 2,
	    "IHAVE topic and two IDs");
	ps_ids_iter(&h.ids, &it2);
	ok(ps_next_id(&it2, &v) && eqvec(&v, "id1") &&
	    ps_next_id(&it2, &v) && eqvec(&v, "id2") && !ps_next_id(&it2, &v),
	    "IHAVE IDs are id1, id2");
	ps_iwants(&rpc, &it);
	ok(ps_next_iwant(&it, &ids) && ids.n == 1, "one IWANT");
	ps_ids_iter(&ids, &it2);
	ok(ps_next_id(&it2, &v) && eqvec(&v, "id3"), "for id3");
	ps_grafts(&rpc, &it);
	ok(ps_next_graft(&it, &v) && eqs(&v, "g") && !ps_next_graft(&it, &v),
	    "GRAFT g");
	ps_prunes(&rpc, &it);
	ok(ps_next_prune(&it, &pr) && eqs(&pr.topic, TOPIC) &&
	    pr.npeers == 2 && pr.has_backoff && pr.backoff == 60,
	    "PRUNE with two peers and backoff 60");
	ps_peers_iter(&pr, &it2);
	ok(ps_next_peer(&it2, &pi) && eqvec(&pi.peerid, "peer2") &&
	    eqvec(&pi.record, "record"), "first peer with its record");
	ok(ps_next_peer(&it2, &pi) && eqvec(&pi.peerid, "peer") &&
	    pi.record.p == NULL && !ps_next_peer(&it2, &pi),
	    "second peer without");
	ps_idontwants(&rpc, &it);
	ok(ps_next_idontwant(&it, &ids) && ids.n == 1, "one IDONTWANT");
	ps_ids_iter(&ids, &it2);
	ok(ps_next_id(&it2, &v) && eqvec(&v, "id1"), "for id1");

	id12[0] = vv("id1");
	id12[1] = vv("id2");
	id3 = vv("id3");
	ho.topic = sv(TOPIC);
	ho.ids.ids = id12;
	ho.ids.n = 2;
	iw.ids = &id3;
	iw.n = 1;
	idw.ids = id12;
	idw.n = 1;
	graft = sv("g");
	peers[0].peerid = vv("peer2");
	peers[0].record = vv("record");
	peers[1].peerid = vv("peer");
	peers[1].record.p = NULL;
	po.topic = sv(TOPIC);
	po.peers = peers;
	po.npeers = 2;
	po.has_backoff = 1;
	po.backoff = 60;
	memset(&o, 0, sizeof(o));
	o.ihave = &ho;
	o.nihave = 1;
	o.iwant = &iw;
	o.niwant = 1;
	o.graft = &graft;
	o.ngraft = 1;
	o.prune = &po;
	o.nprune = 1;
	o.idontwant = &idw;
	o.nidontwant = 1;
	ok(encodes_to(&o, "rpc_control"), "control encodes as js does");
}

/*
 * An RPC with every part, its message signed here (seed 42*32):
 * pubsub_js.mjs checked that js takes these very bytes.
 */
static void
test_c_rpc(void)
{
	uint8_t			 seed[32], pk[32], sk[64], kpb[36], from[38];
	uint8_t			 sig[64], sb[256], buf[1024], id[PS_MSGID_MAX];
	uint8_t			 seq[8] = { 0, 0, 1, 2, 3, 4, 5, 6 };
	size_t			 n, idl;
	struct ps_msg		 m, m2;
	struct ps_sub		 s;
	struct ps_view		 ids[2], g;
	struct ps_ihave_out	 ih;
	struct ps_idlist	 il;
	struct ps_peerinfo	 pi;
	struct ps_prune_out	 pr;
	struct ps_out		 o;
	char			 err[128] = "";

	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	pb_ed25519_pubkey(pk, kpb, sizeof(kpb));
	from[0] = MH_IDENTITY;
	from[1] = sizeof(kpb);
	memcpy(from + 2, kpb, sizeof(kpb));
	memset(&m, 0, sizeof(m));
	m.from = (struct ps_view){ from, sizeof(from) };
	m.data = sv("hello from peerd");
	m.seqno = (struct ps_view){ seq, sizeof(seq) };
	m.topic = sv(TOPIC);
	ok(ps_sign_bytes(&m, sb, sizeof(sb), &n) == 0 &&
	    crypto_sign_detached(sig, NULL, sb, n, sk) == 0, "signed here");
	explicit_bzero(sk, sizeof(sk));
	m.signature = (struct ps_view){ sig, sizeof(sig) };
	m.key = (struct ps_view){ kpb, sizeof(kpb) };
	s.subscribe = 1;
	s.topic = sv(TOPIC);
	ids[0] = sv("idone");
	ids[1] = sv("idtwo");
	g = sv("g");
	ih.topic = sv("t");
	ih.ids.ids = ids;
	ih.ids.n = 2;
	il.ids = ids;
	il.n = 1;
	pi.peerid = m.from;
	pi.record = sv("rec");
	pr.topic = sv("t");
	pr.peers = &pi;
	pr.npeers = 1;
	pr.has_backoff = 1;
	pr.backoff = 60;
	o = (struct ps_out){ &s, 1, &m, 1, &ih, 1, &il, 1, &g, 1, &pr, 1,
	    &il, 1 };
	ok(encodes_to(&o, "c_rpc"), "our RPC is the one js took");
	ok(ps_msgid_default(&m, id, sizeof(id), &idl) == 0 &&
	    idl == vec("c_msg_id")->len &&
	    memcmp(id, vec("c_msg_id")->b, idl) == 0,
	    "and its ID the one js gave");
	ok(ps_rpc_encode(&o, buf, sizeof(buf), &n) == 0 &&
	    first_msg("c_rpc", &m2) == 0 && ps_msg_verify(&m2, scratch,
	    sizeof(scratch), err, sizeof(err)) == 0,
	    "it decodes and verifies here too (%s)", err);
}

/* rpc_all: every cut is refused unless it ends between top fields. */
static void
test_cuts(void)
{
	const struct vec	*x = vec("rpc_all");
	struct ps_rpc		 rpc;
	struct ps_msg		 m;
	struct ps_iter		 it;
	struct pbr		 r;
	struct pbf		 f;
	uint8_t			 frame[VEC_MAXLEN + 16];
	const uint8_t		*body;
	size_t			 bounds[8], nb = 0, i, k, fl, bl, used;
	int			 bad = 0, isb, rv;
	char			 err[128];

	ok(decode(x->b, x->len, &rpc) == 0 && rpc.nsubs == 1 &&
	    rpc.nmsgs == 1 && rpc.nihave == 1 && rpc.nprune == 1,
	    "js RPC with all parts decodes");
	ps_msgs(&rpc, &it);
	ok(ps_next_msg(&it, &m) && ps_msg_verify(&m, scratch,
	    sizeof(scratch), err, sizeof(err)) == 0, "its message verifies");

	pbr_init(&r, x->b, x->len);
	bounds[nb++] = 0;
	while (pbr_next(&r, &f) == 1 && nb < 8)
		bounds[nb++] = r.off;
	ok(nb == 4, "three top fields");
	for (i = 0; i < x->len; i++) {
		for (isb = 0, k = 0; k < nb; k++)
			isb |= bounds[k] == i;
		rv = decode(x->b, i, &rpc);
		if ((rv == 0) != isb) {
			diag("cut at %zu: %d", i, rv);
			bad++;
		}
	}
	ok(bad == 0, "%zu cuts: refused unless between fields", x->len);

	fl = uvarint_frame_write(x->b, x->len, PS_MAXRPC_DEFAULT, frame,
	    sizeof(frame));
	ok(fl == x->len + 2, "framed with a 2 byte length");
	for (bad = 0, i = 0; i < fl; i++)
		if (uvarint_frame_read(frame, i, PS_MAXRPC_DEFAULT, &body, &bl,
		    &used) != 0)
			bad++;
	ok(bad == 0, "every cut frame asks for more");
	ok(uvarint_frame_read(frame, fl, PS_MAXRPC_DEFAULT, &body, &bl,
	    &used) == 1 && used == fl && bl == x->len &&
	    memcmp(body, x->b, bl) == 0, "the whole frame reads back");
	ok(uvarint_frame_read(frame, fl, x->len - 1, &body, &bl, &used) == -1,
	    "a frame over the limit is refused");
	ok(uvarint_frame_read((const uint8_t *)"\xff\xff\xff", 3, 1024, &body, &bl,
	    &used) == -1, "a length header longer than the limit's is refused");
	ok(uvarint_frame_read((const uint8_t *)"\x80\x00", 2, 1024, &body, &bl,
	    &used) == -1, "a non-minimal length is refused");
	ok(uvarint_frame_write(x->b, x->len, x->len - 1, frame, sizeof(frame)) == 0,
	    "no frame is written over the limit");
}

static void
test_limits(void)
{
	struct ps_limits	 l, d;

	ps_limits_default(&d);
	ok(decode_lim("rpc_all", &d) == 0, "defaults take js's RPC");
	l = d;
	l.maxrpc = vec("rpc_all")->len - 1;
	ok(decode_lim("rpc_all", &l) == -1, "an RPC over maxrpc");
	l = d;
	l.maxsubs = 1;
	ok(decode_lim("rpc_subs", &l) == -1, "two subscriptions over one");
	l = d;
	l.maxmsgs = 0;
	ok(decode_lim("rpc_publish", &l) == -1, "a message over none");
	l = d;
	l.maxctrl = 0;
	ok(decode_lim("rpc_control", &l) == -1, "a control entry over none");
	l = d;
	l.maxihaveids = 1;
	ok(decode_lim("rpc_control", &l) == -1, "two IHAVE IDs over one");
	l = d;
	l.maxiwantids = 0;
	ok(decode_lim("rpc_control", &l) == -1, "an IWANT ID over none");
	l = d;
	l.maxidontwantids = 0;
	ok(decode_lim("rpc_control", &l) == -1, "an IDONTWANT ID over none");
	l = d;
	l.maxpeers = 1;
	ok(decode_lim("rpc_control", &l) == -1, "two PRUNE peers over one");
	l = d;
	l.maxtopic = strlen(TOPIC) - 1;
	ok(decode_lim("rpc_subs", &l) == -1, "a topic over maxtopic");
	l = d;
	l.maxmsgid = 43;
	ok(decode_lim("rpc_control", &l) == -1, "a 44 byte ID over 43");
	l.maxmsgid = 44;
	ok(decode_lim("rpc_control", &l) == 0, "and not over 44");
}

static int
dec_hex(const char *hex)
{
	uint8_t		 b[256];
	size_t		 n;
	struct ps_rpc	 rpc;

	if (sodium_hex2bin(b, sizeof(b), hex, strlen(hex), NULL, &n,
	    NULL) != 0)
		return -2;
	return decode(b, n, &rpc);
}

static void
test_malformed(void)
{
	ok(dec_hex("") == 0, "an empty RPC is an RPC");
	ok(dec_hex("0a03120174" "f80600") == 0,
	    "an unknown field is skipped");
	ok(dec_hex("0a0612017478f806") == 0,
	    "an unknown field in a subscription too");
	ok(dec_hex("0a020801") == -1, "a subscription without topic");
	ok(dec_hex("0a0412017408") == -1, "a cut subscription");
	ok(dec_hex("0a03120180") == -1, "a topic that is not UTF-8");
	ok(dec_hex("0a03120100") == -1, "a topic with NUL");
	ok(dec_hex("0a0412017410") == -1, "a stray varint");
	ok(dec_hex("0a021074") == -1, "a topic as varint");
	ok(dec_hex("0a080801120174120174") == -1, "a topic twice");
	ok(dec_hex("12060a01410a0142") == -1, "from twice in a message");
	ok(dec_hex("120522017422ff") == -1, "a bad second topic");
	ok(dec_hex("1a001a00") == -1, "control twice");
	ok(dec_hex("1a0708") == -1, "control cut");
	ok(dec_hex("1a0308") == -1, "control with a stray tag");
	ok(dec_hex("1a030a0112") == -1, "an IHAVE cut");
	ok(dec_hex("1a050a030a0174") == 0, "an IHAVE without IDs");
	ok(dec_hex("1a070a050a01741200") == -1, "an empty message ID");
	ok(dec_hex("1a020a00") == -1, "an IHAVE without topic");
	ok(dec_hex("1a021a00") == -1, "a GRAFT without topic");
	ok(dec_hex("1a022200") == -1, "a PRUNE without topic");
	ok(dec_hex("1a07220510010a0174") == -1, "a PRUNE peer as varint");
	ok(dec_hex("1a0722050a0174183c") == 0, "a PRUNE with backoff");
	ok(dec_hex("1a0922070a0174183c1801") == -1, "backoff twice");
	ok(dec_hex("1a092207120508000a0174") == -1, "PeerInfo odd");
	ok(dec_hex("1a0a2208120400000a0174") == -1, "PeerInfo bad");
	ok(dec_hex("1a0d220b0a01741206" "0a0141" "0a0141") == -1,
	    "a PeerInfo with peerID twice");
	ok(dec_hex("1a0212ff") == -1, "an IWANT longer than control");
	ok(dec_hex("1a022a00") == 0, "an empty IDONTWANT");
	ok(dec_hex("1a032a0108") == -1, "an IDONTWANT cut");
	ok(dec_hex("0b") == -1, "a group wire type");
	ok(dec_hex("00") == -1, "field zero");
}

/* Random RPCs encode, decode and encode to the same bytes. */
static void
test_random(void)
{
	uint8_t			 pool[512], a[4096], b[4096];
	struct ps_view		 ids[8], topics[4];
	struct ps_sub		 subs[4];
	struct ps_msg		 msgs[2];
	struct ps_ihave_out	 ho[2];
	struct ps_idlist	 iw[2];
	struct ps_peerinfo	 pi[3];
	struct ps_prune_out	 po[2];
	struct ps_out		 o, o2;
	struct ps_rpc		 rpc;
	struct ps_iter		 it;
	size_t			 i, k, na, nb;
	int			 bad = 0;

	for (k = 0; k < 2000; k++) {
		randombytes_buf(pool, sizeof(pool));
		for (i = 0; i < 4; i++) {
			topics[i].p = (const uint8_t *)"abcdefghijklmnop" + i;
			topics[i].len = 1 + pool[i] % 12;
			subs[i].subscribe = pool[i] & 1;
			subs[i].topic = topics[i];
		}
		for (i = 0; i < 8; i++) {
			ids[i].p = pool + 64 + i * 20;
			ids[i].len = 1 + pool[8 + i] % 20;
		}
		for (i = 0; i < 2; i++) {
			msgs[i].from.p = pool[16 + i] & 1 ? pool : NULL;
			msgs[i].from.len = pool[18 + i] % 40;
			msgs[i].data.p = pool[20 + i] & 1 ? pool + 200 : NULL;
			msgs[i].data.len = pool[22 + i];
			msgs[i].seqno.p = pool[24 + i] & 1 ? pool + 40 : NULL;
			msgs[i].seqno.len = 8;
			msgs[i].topic = topics[i];
			msgs[i].signature.p = pool[26 + i] & 1 ? pool : NULL;
			msgs[i].signature.len = 64;
			msgs[i].key.p = pool[28 + i] & 1 ? pool + 100 : NULL;
			msgs[i].key.len = 36;
			ho[i].topic = topics[i + 2];
			ho[i].ids.ids = ids + i * 4;
			ho[i].ids.n = pool[30 + i] % 5;
			iw[i].ids = ids + i;
			iw[i].n = pool[32 + i] % 7;
			po[i].topic = topics[i];
			po[i].peers = pi;
			po[i].npeers = pool[34 + i] % 4;
			po[i].has_backoff = pool[36 + i] & 1;
			po[i].backoff = pool[38 + i] * 1000003ULL;
		}
		for (i = 0; i < 3; i++) {
			pi[i].peerid = ids[i];
			pi[i].record.p = pool[50 + i] & 1 ? pool : NULL;
			pi[i].record.len = pool[53 + i];
		}
		memset(&o, 0, sizeof(o));
		o.subs = subs;
		o.nsubs = pool[56] % 5;
		o.msgs = msgs;
		o.nmsgs = pool[57] % 3;
		o.ihave = ho;
		o.nihave = pool[58] % 3;
		o.iwant = iw;
		o.niwant = pool[59] % 3;
		o.graft = topics;
		o.ngraft = pool[60] % 5;
		o.prune = po;
		o.nprune = pool[61] % 3;
		o.idontwant = iw;
		o.nidontwant = pool[62] % 3;
		if (ps_rpc_encode(&o, a, sizeof(a), &na) == -1 ||
		    decode(a, na, &rpc) == -1 || rpc.nsubs != o.nsubs ||
		    rpc.nmsgs != o.nmsgs || rpc.nprune != o.nprune) {
			bad++;
			continue;
		}
		/* messages and subscriptions back from the decoded views */
		memcpy(&o2, &o, sizeof(o2));
		ps_subs(&rpc, &it);
		for (i = 0; i < rpc.nsubs; i++)
			ps_next_sub(&it, &subs[i]);
		ps_msgs(&rpc, &it);
		for (i = 0; i < rpc.nmsgs; i++)
			ps_next_msg(&it, &msgs[i]);
		if (ps_rpc_encode(&o2, b, sizeof(b), &nb) == -1 || nb != na ||
		    memcmp(a, b, na) != 0)
			bad++;
	}
	ok(bad == 0, "2000 random RPCs round trip (%d bad)", bad);
	memset(&o, 0, sizeof(o));
	o.subs = subs;
	o.nsubs = 4;
	ok(ps_rpc_encode(&o, a, 10, &na) == -1, "no room is refused");
}

int
main(int argc, char *argv[])
{
	if (sodium_init() == -1 || argc != 2 || load(argv[1]) == -1) {
		fprintf(stderr, "usage: test_pubsub pubsub_js.txt\n");
		return 1;
	}
	test_subs();
	test_publish();
	test_control();
	test_c_rpc();
	test_cuts();
	test_limits();
	test_malformed();
	test_random();
	return tap_done();
}
