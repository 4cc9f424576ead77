/*
 * Daemon control codec: the requests @libp2p/daemon-protocol wrote
 * (argv[1], regress/vectors/p2pd_js.txt) decoded field by field, the
 * responses, StreamInfo and PSMessage encoded to js's bytes; frames,
 * every cut, wrong wire types, bounds, unknown fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "p2pd.h"
#include "pb.h"
#include "pubsub.h"
#include "tap.h"
#include "vectors.h"

#define TOPIC		"/openclaw/v1/announce"
#define ECHO		"/echo/1.0.0"
#define diag(...)	(printf("# "), printf(__VA_ARGS__), printf("\n"))

static uint8_t		 big[P2PD_MAXREQ + 4096];
static uint8_t		 data[P2PD_MAXDATA + 1];
static uint8_t		 psreq[P2PD_MAXDATA + 64];

static int
eqv(const struct p2pd_view *v, const void *p, size_t len)
{
	return v->p != NULL && v->len == len && memcmp(v->p, p, len) == 0;
}

static int
eqvec(const struct p2pd_view *v, const char *name)
{
	const struct vec	*x = vec(name);

	return eqv(v, x->b, x->len);
}

static int
eqs(const struct p2pd_view *v, const char *s)
{
	return eqv(v, s, strlen(s));
}

static struct p2pd_view
sv(const char *s)
{
	struct p2pd_view	 v = { (const uint8_t *)s, strlen(s) };

	return v;
}

static struct p2pd_view
vv(const char *name)
{
	const struct vec	*x = vec(name);
	struct p2pd_view	 v = { x->b, x->len };

	return v;
}

static int
dec(const uint8_t *b, size_t len, struct p2pd_req *req)
{
	char	 err[160] = "";

	if (p2pd_req_decode(b, len, req, err, sizeof(err)) == -1) {
		diag("refused: %s", err);
		return -1;
	}
	return 0;
}

static int
decv(const char *name, struct p2pd_req *req)
{
	const struct vec	*x = vec(name);

	return dec(x->b, x->len, req);
}

/* The items of l are the named vectors or strings, in order. */
static int
list_is(const struct p2pd_list *l, int vecs_, const char *a, const char *b)
{
	struct p2pd_iter	 it;
	struct p2pd_view	 v;
	const char		*want[2] = { a, b };
	size_t			 i, n = b == NULL ? 1 : 2;

	if (a == NULL)
		n = 0;
	if (l->n != n)
		return 0;
	p2pd_iter(l, &it);
	for (i = 0; i < n; i++)
		if (!p2pd_next(&it, &v) || !(vecs_ ? eqvec(&v, want[i]) :
		    eqs(&v, want[i])))
			return 0;
	return !p2pd_next(&it, &v);
}

static void
test_requests(void)
{
	struct p2pd_req	 r;

	ok(decv("req_identify", &r) == 0 && r.type == P2PD_IDENTIFY,
	    "IDENTIFY");
	ok(decv("req_list_peers", &r) == 0 && r.type == P2PD_LIST_PEERS,
	    "LIST_PEERS");
	ok(decv("req_connect", &r) == 0 && r.type == P2PD_CONNECT &&
	    eqvec(&r.connect.peer, "peer") &&
	    list_is(&r.connect.addrs, 1, "a1", "a2") &&
	    !r.connect.has_timeout, "CONNECT: peer, two addresses");
	ok(decv("req_connect_relay", &r) == 0 && r.type == P2PD_CONNECT &&
	    eqvec(&r.connect.peer, "peer") &&
	    list_is(&r.connect.addrs, 1, "relayed", NULL),
	    "CONNECT through a relay: /p2p/.../p2p-circuit/p2p/... decodes");
	ok(decv("req_connect_timeout", &r) == 0 && r.type == P2PD_CONNECT &&
	    eqvec(&r.connect.peer, "peer") &&
	    list_is(&r.connect.addrs, 1, "a1", NULL) &&
	    r.connect.has_timeout && r.connect.timeout == 30,
	    "CONNECT with timeout 30");
	ok(decv("req_stream_open", &r) == 0 && r.type == P2PD_STREAM_OPEN &&
	    eqvec(&r.open.peer, "peer") &&
	    list_is(&r.open.protos, 0, ECHO, NULL) && !r.open.has_timeout,
	    "STREAM_OPEN: peer, " ECHO);
	ok(decv("req_stream_open2", &r) == 0 && eqvec(&r.open.peer, "peer2") &&
	    list_is(&r.open.protos, 0, ECHO, "/ping/1.0.0") &&
	    r.open.has_timeout && r.open.timeout == -1,
	    "STREAM_OPEN: two protocols, timeout -1 (ten byte varint)");
	ok(decv("req_stream_handler", &r) == 0 &&
	    r.type == P2PD_STREAM_HANDLER && eqvec(&r.handler.addr, "hl") &&
	    list_is(&r.handler.protos, 0, ECHO, NULL),
	    "STREAM_HANDLER: multiaddr, " ECHO);
	ok(decv("req_disconnect", &r) == 0 && r.type == P2PD_DISCONNECT &&
	    eqvec(&r.disconnect, "peer"), "DISCONNECT: peer");
	ok(decv("req_ps_get_topics", &r) == 0 && r.type == P2PD_PUBSUB &&
	    r.ps.type == P2PD_PS_GET_TOPICS && r.ps.topic.p == NULL &&
	    r.ps.data.p == NULL, "PUBSUB GET_TOPICS");
	ok(decv("req_ps_list_peers", &r) == 0 &&
	    r.ps.type == P2PD_PS_LIST_PEERS && eqs(&r.ps.topic, TOPIC),
	    "PUBSUB LIST_PEERS of " TOPIC);
	ok(decv("req_ps_publish", &r) == 0 && r.ps.type == P2PD_PS_PUBLISH &&
	    eqs(&r.ps.topic, TOPIC) && eqs(&r.ps.data, "hello daemon"),
	    "PUBSUB PUBLISH: topic, data");
	ok(decv("req_ps_subscribe", &r) == 0 &&
	    r.ps.type == P2PD_PS_SUBSCRIBE && eqs(&r.ps.topic, TOPIC) &&
	    r.ps.data.p == NULL, "PUBSUB SUBSCRIBE");
	ok(decv("req_cm_tag", &r) == 0 && r.type == P2PD_CONNMANAGER &&
	    r.cm.type == P2PD_CM_TAG_PEER && eqvec(&r.cm.peer, "peer") &&
	    eqs(&r.cm.tag, "keep") && r.cm.has_weight && r.cm.weight == 10,
	    "CONNMANAGER TAG_PEER keep 10");
	ok(decv("req_cm_untag", &r) == 0 && r.cm.type == P2PD_CM_UNTAG_PEER &&
	    eqvec(&r.cm.peer, "peer") && eqs(&r.cm.tag, "keep") &&
	    !r.cm.has_weight, "CONNMANAGER UNTAG_PEER");
	ok(decv("req_cm_trim", &r) == 0 && r.cm.type == P2PD_CM_TRIM &&
	    r.cm.peer.p == NULL, "CONNMANAGER TRIM");
	ok(decv("req_dht_find_peer", &r) == 0 && r.type == P2PD_DHT &&
	    r.dhttype == 0, "DHT FIND_PEER: type only");
	ok(decv("req_dht_put_value", &r) == 0 && r.type == P2PD_DHT &&
	    r.dhttype == 7, "DHT PUT_VALUE: type only");
	ok(decv("req_pstore_protocols", &r) == 0 && r.type == P2PD_PEERSTORE &&
	    r.pstore.type == P2PD_PSTORE_GET_PROTOCOLS &&
	    eqvec(&r.pstore.id, "peer") && r.pstore.protos.n == 0,
	    "PEERSTORE GET_PROTOCOLS");
	ok(decv("req_pstore_info", &r) == 0 &&
	    r.pstore.type == P2PD_PSTORE_GET_PEER_INFO &&
	    eqvec(&r.pstore.id, "peer2"), "PEERSTORE GET_PEER_INFO");
}

static int
encodes_to(const struct p2pd_resp *o, const char *name)
{
	const struct vec	*x = vec(name);
	uint8_t			 buf[VEC_MAXLEN];
	size_t			 n, m, cap;

	if (p2pd_resp_encode(o, buf, sizeof(buf), &n) == -1)
		return 0;
	if (n != x->len || memcmp(buf, x->b, n) != 0) {
		diag("%s: encoded %zu bytes, js %zu", name, n, x->len);
		return 0;
	}
	/* every smaller buffer is refused; one with the slack is enough */
	for (cap = 0; cap < n; cap++)
		if (p2pd_resp_encode(o, buf, cap, &m) == 0)
			return 0;
	return p2pd_resp_encode(o, buf, n + P2PD_SLACK, &m) == 0 && m == n &&
	    memcmp(buf, x->b, n) == 0;
}

static void
test_responses(void)
{
	struct p2pd_resp	 o;
	struct p2pd_view	 addrs[2] = { vv("a1"), vv("a2") };
	struct p2pd_view	 a2[1] = { vv("a2") };
	struct p2pd_view	 topics[2] = { sv(TOPIC), sv("other") };
	struct p2pd_view	 ids[2] = { vv("peer"), vv("peer2") };
	struct p2pd_view	 protos[2] = { sv(ECHO), sv("/ipfs/id/1.0.0") };
	struct p2pd_peerinfo	 me = { vv("peer"), addrs, 2 };
	struct p2pd_peerinfo	 pl[2] = { { vv("peer"), addrs, 2 },
	    { vv("peer2"), NULL, 0 } };
	struct p2pd_peerinfo	 p2 = { vv("peer2"), a2, 1 };
	struct p2pd_streaminfo	 si = { vv("peer"), vv("a1"), sv(ECHO) };
	struct p2pd_psresp	 ps;
	struct p2pd_pstoreresp	 pst;

	memset(&o, 0, sizeof(o));
	ok(encodes_to(&o, "resp_ok"), "OK");
	o.type = P2PD_ERROR;
	o.error = "DHT not supported";
	ok(encodes_to(&o, "resp_error"), "ERROR: DHT not supported");
	memset(&o, 0, sizeof(o));
	o.identify = &me;
	ok(encodes_to(&o, "resp_identify"), "IdentifyResponse");
	o.identify = NULL;
	o.stream = &si;
	ok(encodes_to(&o, "resp_stream"), "StreamInfo in a response");
	o.stream = NULL;
	o.peers = pl;
	o.npeers = 2;
	ok(encodes_to(&o, "resp_peers"), "two PeerInfo, one without addresses");
	o.peers = NULL;
	o.npeers = 0;
	memset(&ps, 0, sizeof(ps));
	o.ps = &ps;
	ok(encodes_to(&o, "resp_ps_empty"), "empty PSResponse is written");
	ps.topics = topics;
	ps.ntopics = 2;
	ok(encodes_to(&o, "resp_ps_topics"), "PSResponse topics");
	memset(&ps, 0, sizeof(ps));
	ps.peers = ids;
	ps.npeers = 2;
	ok(encodes_to(&o, "resp_ps_peers"), "PSResponse peerIDs");
	o.ps = NULL;
	memset(&pst, 0, sizeof(pst));
	pst.protos = protos;
	pst.nprotos = 2;
	o.pstore = &pst;
	ok(encodes_to(&o, "resp_pstore_protos"), "PeerstoreResponse protos");
	memset(&pst, 0, sizeof(pst));
	pst.peer = &p2;
	ok(encodes_to(&o, "resp_pstore_info"), "PeerstoreResponse peer");
}

static int
bytes_are(const uint8_t *b, size_t n, const char *name)
{
	const struct vec	*x = vec(name);

	if (n != x->len || memcmp(b, x->b, n) != 0) {
		diag("%s: %zu bytes, js %zu", name, n, x->len);
		return 0;
	}
	return 1;
}

static void
test_streaminfo_psmsg(void)
{
	struct p2pd_streaminfo	 si = { vv("peer2"), vv("a2"), sv(ECHO) };
	struct ps_msg		 m;
	const struct vec	*peer = vec("peer");
	uint8_t			 buf[VEC_MAXLEN];
	size_t			 n;

	ok(p2pd_streaminfo_encode(&si, buf, sizeof(buf), &n) == 0 &&
	    bytes_are(buf, n, "streaminfo"), "StreamInfo ahead of a stream");
	ok(p2pd_streaminfo_encode(&si, buf, vec("streaminfo")->len - 1,
	    &n) == -1, "StreamInfo one byte short is refused");
	ok(p2pd_streaminfo_encode(&si, buf, vec("streaminfo")->len, &n) == 0,
	    "StreamInfo fits its own size: no submessage, no slack");
	memset(&m, 0, sizeof(m));
	m.from.p = peer->b;
	m.from.len = peer->len;
	m.data.p = (const uint8_t *)"hello daemon";
	m.data.len = 12;
	m.seqno.p = vec("seqno")->b;
	m.seqno.len = vec("seqno")->len;
	m.topic.p = (const uint8_t *)TOPIC;
	m.topic.len = strlen(TOPIC);
	ok(p2pd_psmsg_encode(&m, buf, sizeof(buf), &n) == 0 &&
	    bytes_are(buf, n, "psmsg_nosig"), "PSMessage without signature");
	m.signature.p = vec("sig")->b;
	m.signature.len = vec("sig")->len;
	m.key.p = peer->b + 2;
	m.key.len = peer->len - 2;
	ok(p2pd_psmsg_encode(&m, buf, sizeof(buf), &n) == 0 &&
	    bytes_are(buf, n, "psmsg"), "PSMessage with signature and key");
}

static void
test_frames(void)
{
	const struct vec	*x = vec("req_connect");
	struct p2pd_resp	 o;
	struct p2pd_req		 r;
	const uint8_t		*msg;
	uint8_t			 buf[VEC_MAXLEN];
	size_t			 n, fl, len, used;

	memset(&o, 0, sizeof(o));
	o.type = P2PD_ERROR;
	o.error = "DHT not supported";
	ok(p2pd_resp_encode(&o, buf + P2PD_HDR, sizeof(buf) - P2PD_HDR,
	    &n) == 0 && (fl = p2pd_frame(buf, n, sizeof(buf))) == n + 1 &&
	    buf[0] == vec("resp_error")->len &&
	    memcmp(buf + 1, vec("resp_error")->b, n) == 0,
	    "a response framed in place: one length byte, then js's bytes");
	ok(p2pd_frame(buf, n, n + P2PD_HDR - 1) == 0,
	    "framing refused when the message passes the buffer");
	/* a request framed as pbStream writes it */
	buf[0] = (uint8_t)x->len;
	memcpy(buf + 1, x->b, x->len);
	ok(uvarint_frame_read(buf, x->len + 1, P2PD_MAXREQ, &msg, &len,
	    &used) == 1 && used == x->len + 1 && dec(msg, len, &r) == 0 &&
	    r.type == P2PD_CONNECT, "a framed request reads and decodes");
	ok(uvarint_frame_read(buf, x->len, P2PD_MAXREQ, &msg, &len,
	    &used) == 0, "a frame one byte short waits for more");
	n = uvarint_encode(P2PD_MAXREQ + 1, buf);
	ok(uvarint_frame_read(buf, n, P2PD_MAXREQ, &msg, &len, &used) == -1,
	    "a frame length over P2PD_MAXREQ is refused at once");
}

/* Every strict prefix of every request is refused. */
static void
test_cuts(void)
{
	struct p2pd_req	 r;
	size_t		 i, n, bad = 0, tried = 0;
	char		 err[160];

	for (i = 0; i < nvecs; i++) {
		if (strncmp(vecs[i].name, "req_", 4) != 0)
			continue;
		for (n = 0; n < vecs[i].len; n++, tried++)
			if (p2pd_req_decode(vecs[i].b, n, &r, err,
			    sizeof(err)) == 0) {
				diag("%s cut at %zu decodes", vecs[i].name, n);
				bad++;
			}
	}
	ok(tried > 500 && bad == 0, "%zu cuts of requests all refused",
	    tried);
}

/* A request: type, then a submessage of field sf built by the caller. */
static size_t
wrap(uint8_t *out, size_t cap, uint64_t type, uint32_t sf,
    const uint8_t *sub, size_t sublen)
{
	struct pbw	 w;

	pbw_init(&w, out, cap);
	pbw_varint(&w, 1, type);
	if (sf != 0)
		pbw_bytes(&w, sf, sub, sublen);
	return w.overflow ? 0 : w.len;
}

static int
refused(const uint8_t *b, size_t len, const char *what)
{
	struct p2pd_req	 r;
	char		 err[160] = "";

	if (p2pd_req_decode(b, len, &r, err, sizeof(err)) == 0)
		return 0;
	diag("%s: %s", what, err);
	return err[0] != '\0';
}

static void
test_malformed(void)
{
	const struct vec	*peer = vec("peer"), *a1 = vec("a1");
	uint8_t			 sub[4096], req[8192];
	struct pbw		 w;
	size_t			 n, i;

	ok(refused((const uint8_t *)"", 0, "empty"), "no type");
	ok(refused((const uint8_t *)"\x0a\x00", 2, "type as bytes"),
	    "type with the wrong wire type");
	ok(refused((const uint8_t *)"\x08\x00\x08\x05", 4, "two types"),
	    "type given twice");
	ok(refused((const uint8_t *)"\x08\x0a", 2, "type 10"),
	    "unknown request type 10");
	ok(refused((const uint8_t *)"\x08\x01", 2, "connect alone"),
	    "CONNECT without ConnectRequest");
	ok(refused((const uint8_t *)"\x08\x01\x10\x01", 4, "connect varint"),
	    "ConnectRequest as a varint");
	ok(refused((const uint8_t *)"\x08\x01\x12\x02\x08\x01", 6,
	    "peer varint"), "ConnectRequest peer as a varint");
	ok(refused((const uint8_t *)"\x08\x08\x42\x00", 4, "ps no type"),
	    "PSRequest without type");
	ok(refused((const uint8_t *)"\x08\x08\x42\x02\x08\x04", 6,
	    "ps type 4"), "PSRequest type 4");
	ok(refused((const uint8_t *)"\x08\x08\x42\x02\x08\x02", 6,
	    "publish bare"), "PUBLISH without topic or data");
	ok(refused((const uint8_t *)"\x08\x04\x2a\x02\x08\x09", 6,
	    "dht type 9"), "DHT type 9");
	ok(refused((const uint8_t *)"\x08\x06\x32\x02\x08\x00", 6,
	    "tag bare"), "TAG_PEER without peer, tag, weight");

	/* a second ConnectRequest */
	n = wrap(req, sizeof(req), 1, 2, vec("req_connect")->b + 4,
	    vec("req_connect")->len - 4);
	memcpy(req + n, vec("req_connect")->b + 2, vec("req_connect")->len - 2);
	ok(refused(req, n + vec("req_connect")->len - 2, "two connects"),
	    "ConnectRequest given twice");

	/* a peer ID that is not one */
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, "\x12\x03\x01\x02\x03", 5);
	n = wrap(req, sizeof(req), 7, 7, sub, w.len);
	ok(refused(req, n, "bad peer"), "DISCONNECT of a bad peer ID");
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, big, P2PD_MAXPEERID + 1);
	n = wrap(req, sizeof(req), 7, 7, sub, w.len);
	ok(refused(req, n, "long peer"), "peer ID over P2PD_MAXPEERID");

	/* addresses: a bad one, one too many */
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, peer->b, peer->len);
	pbw_bytes(&w, 2, "\x04\x7f\x00", 3);
	n = wrap(req, sizeof(req), 1, 2, sub, w.len);
	ok(refused(req, n, "bad addr"), "connect to a cut multiaddr");
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, peer->b, peer->len);
	for (i = 0; i < P2PD_MAXADDRS; i++)
		pbw_bytes(&w, 2, a1->b, a1->len);
	n = wrap(req, sizeof(req), 1, 2, sub, w.len);
	ok(dec(req, n, &(struct p2pd_req){ 0 }) == 0,
	    "connect with P2PD_MAXADDRS addresses decodes");
	pbw_bytes(&w, 2, a1->b, a1->len);
	n = wrap(req, sizeof(req), 1, 2, sub, w.len);
	ok(!w.overflow && refused(req, n, "addrs"),
	    "connect with one address more is refused");

	/* protocols: too many, too long, not UTF-8, empty */
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, peer->b, peer->len);
	for (i = 0; i <= P2PD_MAXPROTOS; i++)
		pbw_string(&w, 2, ECHO);
	n = wrap(req, sizeof(req), 2, 3, sub, w.len);
	ok(refused(req, n, "protos"), "stream open with 17 protocols");
	memset(big, 'p', P2PD_MAXPROTO + 1);
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, peer->b, peer->len);
	pbw_bytes(&w, 2, big, P2PD_MAXPROTO + 1);
	n = wrap(req, sizeof(req), 2, 3, sub, w.len);
	ok(refused(req, n, "long proto"), "protocol over P2PD_MAXPROTO");
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, peer->b, peer->len);
	pbw_bytes(&w, 2, "/\xff", 2);
	n = wrap(req, sizeof(req), 2, 3, sub, w.len);
	ok(refused(req, n, "utf8 proto"), "protocol not UTF-8");
	pbw_init(&w, sub, sizeof(sub));
	pbw_bytes(&w, 1, peer->b, peer->len);
	pbw_bytes(&w, 2, "", 0);
	n = wrap(req, sizeof(req), 2, 3, sub, w.len);
	ok(refused(req, n, "empty proto"), "empty protocol");

	/* topic and tag bounds, UTF-8 */
	memset(big, 't', P2PD_MAXTOPIC + 1);
	pbw_init(&w, sub, sizeof(sub));
	pbw_varint(&w, 1, 3);
	pbw_bytes(&w, 2, big, P2PD_MAXTOPIC);
	n = wrap(req, sizeof(req), 8, 8, sub, w.len);
	ok(dec(req, n, &(struct p2pd_req){ 0 }) == 0,
	    "topic of P2PD_MAXTOPIC bytes decodes");
	pbw_init(&w, sub, sizeof(sub));
	pbw_varint(&w, 1, 3);
	pbw_bytes(&w, 2, big, P2PD_MAXTOPIC + 1);
	n = wrap(req, sizeof(req), 8, 8, sub, w.len);
	ok(refused(req, n, "long topic"), "topic one byte longer");
	pbw_init(&w, sub, sizeof(sub));
	pbw_varint(&w, 1, 3);
	pbw_bytes(&w, 2, "a\xc0\x80", 3);
	n = wrap(req, sizeof(req), 8, 8, sub, w.len);
	ok(refused(req, n, "overlong topic"), "topic with an overlong NUL");
	pbw_init(&w, sub, sizeof(sub));
	pbw_varint(&w, 1, 0);
	pbw_bytes(&w, 2, peer->b, peer->len);
	pbw_bytes(&w, 3, big, P2PD_MAXTAG + 1);
	pbw_varint(&w, 4, 1);
	n = wrap(req, sizeof(req), 6, 6, sub, w.len);
	ok(refused(req, n, "long tag"), "tag over P2PD_MAXTAG");

	/* publish data: up to P2PD_MAXDATA */
	for (i = P2PD_MAXDATA; i <= P2PD_MAXDATA + 1; i++) {
		pbw_init(&w, psreq, sizeof(psreq));
		pbw_varint(&w, 1, 2);
		pbw_string(&w, 2, TOPIC);
		pbw_bytes(&w, 3, data, i);
		n = wrap(big, sizeof(big), 8, 8, psreq, w.len);
		if (i == P2PD_MAXDATA)
			ok(n > P2PD_MAXDATA && n <= P2PD_MAXREQ &&
			    dec(big, n, &(struct p2pd_req){ 0 }) == 0,
			    "publish of P2PD_MAXDATA bytes fits a request");
		else
			ok(n > 0 && refused(big, n, "long data"),
			    "publish of one byte more is refused");
	}
	ok(refused(big, P2PD_MAXREQ + 1, "long request"),
	    "request over P2PD_MAXREQ");
}

static void
test_unknown(void)
{
	const struct vec	*x = vec("req_cm_tag");
	struct p2pd_req		 r;
	/* fields 15 to 18: varint, bytes, fixed32, fixed64 */
	static const uint8_t	 unk[] = { 0x78, 0x05, 0x82, 0x01, 0x02, 'z',
	    'z', 0x8d, 0x01, 1, 2, 3, 4, 0x91, 0x01, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t			 sub[512], req[1024];
	struct pbw		 w;
	size_t			 n;

	/* unknown fields of every wire type inside and around the request */
	memcpy(sub, x->b + 4, x->len - 4);
	n = x->len - 4;
	memcpy(sub + n, unk, sizeof(unk));
	n += sizeof(unk);
	pbw_init(&w, req, sizeof(req));
	pbw_varint(&w, 1, 6);
	pbw_varint(&w, 20, 99);
	pbw_bytes(&w, 6, sub, n);
	pbw_bytes(&w, 100, "junk", 4);
	ok(dec(req, w.len, &r) == 0 && r.cm.type == P2PD_CM_TAG_PEER &&
	    eqvec(&r.cm.peer, "peer") && eqs(&r.cm.tag, "keep") &&
	    r.cm.weight == 10, "unknown fields of each wire type are skipped");
	/* a sub-request of another type is checked, not used */
	pbw_init(&w, req, sizeof(req));
	pbw_varint(&w, 1, 0);
	pbw_bytes(&w, 8, "\x08\x03", 2);
	ok(refused(req, w.len, "other sub"),
	    "a malformed sub-request of another type is refused");
	ok(refused((const uint8_t *)"\x08\x00\x7b", 3, "group"),
	    "a group wire type is refused");
}

int
main(int argc, char *argv[])
{
	if (sodium_init() == -1 || argc != 2 || load(argv[1]) == -1) {
		fprintf(stderr, "usage: test_p2pd p2pd_js.txt\n");
		return 1;
	}
	test_requests();
	test_responses();
	test_streaminfo_psmsg();
	test_frames();
	test_cuts();
	test_malformed();
	test_unknown();
	return tap_done();
}
