/*
 * The libp2p daemon's control protocol (go-libp2p-daemon pb/p2pd.proto,
 * as js-libp2p's @libp2p/daemon-protocol extends it):
 *	Request { Type type 1; ConnectRequest connect 2; StreamOpenRequest
 *	    streamOpen 3; StreamHandlerRequest streamHandler 4; DHTRequest
 *	    dht 5; ConnManagerRequest connManager 6; DisconnectRequest
 *	    disconnect 7; PSRequest pubsub 8; PeerstoreRequest peerStore 9; }
 *	ConnectRequest { bytes peer 1; repeated bytes addrs 2;
 *	    int64 timeout 3; }
 *	StreamOpenRequest { bytes peer 1; repeated string proto 2;
 *	    int64 timeout 3; }
 *	StreamHandlerRequest { bytes addr 1; repeated string proto 2; }
 *	DHTRequest { Type type 1; ... }
 *	ConnManagerRequest { Type type 1; bytes peer 2; string tag 3;
 *	    int64 weight 4; }
 *	DisconnectRequest { bytes peer 1; }
 *	PSRequest { Type type 1; string topic 2; bytes data 3; }
 *	PeerstoreRequest { Type type 1; bytes id 2; repeated string protos 3; }
 *	Response { Type type 1; ErrorResponse error 2; StreamInfo streamInfo 3;
 *	    IdentifyResponse identify 4; DHTResponse dht 5; repeated PeerInfo
 *	    peers 6; PSResponse pubsub 7; PeerstoreResponse peerStore 8; }
 *	ErrorResponse { string msg 1; }
 *	StreamInfo { bytes peer 1; bytes addr 2; string proto 3; }
 *	IdentifyResponse, PeerInfo { bytes id 1; repeated bytes addrs 2; }
 *	PSResponse { repeated string topics 1; repeated bytes peerIDs 2; }
 *	PeerstoreResponse { PeerInfo peer 1; repeated string protos 2; }
 *	PSMessage { bytes from 1; bytes data 2; bytes seqno 3;
 *	    repeated string topicIDs 4; bytes signature 5; bytes key 6; }
 * Each message in a frame, its length as a uvarint before it.
 *
 * The decoder checks a whole request once and keeps views into it: a
 * known field given twice or with the wrong wire type, a string that is
 * not UTF-8, a peer ID or address that does not decode, a size or count
 * over its bound make it malformed; unknown fields are skipped.  The
 * encoder writes fields in field number order as js's protons codec
 * does, and always writes what go's proto2 requires (js omits an empty
 * one; both read either).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "errbuf.h"
#include "multiaddr.h"
#include "p2pd.h"
#include "pb.h"
#include "peerid.h"
#include "pubsub.h"
#include "varint.h"

#define REQF_TYPE	1
#define REQF_CONNECT	2
#define REQF_OPEN	3
#define REQF_HANDLER	4
#define REQF_DHT	5
#define REQF_CM		6
#define REQF_DISCONNECT	7
#define REQF_PS		8
#define REQF_PSTORE	9

#define RESPF_TYPE	1
#define RESPF_ERROR	2
#define RESPF_STREAM	3
#define RESPF_IDENTIFY	4
#define RESPF_PEERS	6
#define RESPF_PS	7
#define RESPF_PSTORE	8

/* fields 1 to 4 of the sub-requests and submessages */
#define F1		1
#define F2		2
#define F3		3
#define F4		4

/* Names of fields 1 to 4 of each submessage, for errors. */
static const char *const connect_f[] = { "peer", "address", "timeout" };
static const char *const open_f[] = { "peer", "protocol", "timeout" };
static const char *const handler_f[] = { "address", "protocol" };
static const char *const ps_f[] = { "type", "topic", "data" };
static const char *const cm_f[] = { "type", "peer", "tag", "weight" };
static const char *const pstore_f[] = { "type", "id", "protocol" };

#define FNAME(t, f)	((f) - 1 < sizeof(t) / sizeof((t)[0]) ? \
	    (t)[(f) - 1] : "?")

/* A bad field of request req; an item of l is named by its number. */
static int
field_err(char *err, size_t errsz, const char *req, const char *name,
    const struct p2pd_list *l, uint32_t field)
{
	if (l != NULL && field == l->field)
		return errbuf(err, errsz, "%s: bad %s %zu", req, name,
		    l->n + 1);
	return errbuf(err, errsz, "%s: bad %s", req, name);
}

/* What the items of a repeated field must be. */
enum item { I_ADDR, I_PROTO };

static int
take_view(const struct pbf *f, struct p2pd_view *v, size_t max)
{
	if (f->wire != PB_LEN || v->p != NULL || f->len > max)
		return -1;
	v->p = f->data;
	v->len = f->len;
	return 0;
}

static int
take_string(const struct pbf *f, struct p2pd_view *v, size_t max)
{
	if (take_view(f, v, max) == -1 || !pb_utf8_valid(v->p, v->len))
		return -1;
	return 0;
}

static int
take_peer(const struct pbf *f, struct p2pd_view *v)
{
	struct peerid	 id;

	if (take_view(f, v, P2PD_MAXPEERID) == -1 ||
	    peerid_from_mh(v->p, v->len, &id) == -1)
		return -1;
	return 0;
}

/* An enum given once, up to max. */
static int
take_type(const struct pbf *f, int *type, int *seen, int max)
{
	if (f->wire != PB_VARINT || *seen || f->v > (uint64_t)max)
		return -1;
	*seen = 1;
	*type = (int)f->v;
	return 0;
}

static int
take_int64(const struct pbf *f, int *has, int64_t *v)
{
	if (f->wire != PB_VARINT || *has)
		return -1;
	*has = 1;
	*v = (int64_t)f->v;
	return 0;
}

/* One more item of l, checked; l->raw is the submessage. */
static int
take_item(const struct pbf *f, struct p2pd_list *l, enum item kind,
    size_t max)
{
	struct multiaddr	 ma;

	if (f->wire != PB_LEN || l->n >= max || f->len == 0)
		return -1;
	if (kind == I_ADDR && (f->len > P2PD_MAXADDR ||
	    maddr_decode(f->data, f->len, &ma) == -1))
		return -1;
	if (kind == I_PROTO && (f->len > P2PD_MAXPROTO ||
	    !pb_utf8_valid(f->data, f->len)))
		return -1;
	l->n++;
	return 0;
}

static void
list_init(struct p2pd_list *l, const uint8_t *p, size_t len, uint32_t field)
{
	l->raw.p = p;
	l->raw.len = len;
	l->field = field;
	l->n = 0;
}

static int
parse_connect(const uint8_t *p, size_t len, struct p2pd_connect *c,
    char *err, size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, bad;

	list_init(&c->addrs, p, len, F2);
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case F1:
			bad = take_peer(&f, &c->peer);
			break;
		case F2:
			bad = take_item(&f, &c->addrs, I_ADDR, P2PD_MAXADDRS);
			break;
		case F3:
			bad = take_int64(&f, &c->has_timeout, &c->timeout);
			break;
		default:
			bad = 0;
		}
		if (bad)
			return field_err(err, errsz, "connect",
			    FNAME(connect_f, f.field), &c->addrs, f.field);
	}
	if (rv == -1 || c->peer.p == NULL)
		return errbuf(err, errsz, "connect: %s", rv == -1 ?
		    "not protobuf" : "no peer");
	return 0;
}

static int
parse_open(const uint8_t *p, size_t len, struct p2pd_open *o, char *err,
    size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, bad;

	list_init(&o->protos, p, len, F2);
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case F1:
			bad = take_peer(&f, &o->peer);
			break;
		case F2:
			bad = take_item(&f, &o->protos, I_PROTO,
			    P2PD_MAXPROTOS);
			break;
		case F3:
			bad = take_int64(&f, &o->has_timeout, &o->timeout);
			break;
		default:
			bad = 0;
		}
		if (bad)
			return field_err(err, errsz, "stream open",
			    FNAME(open_f, f.field), &o->protos, f.field);
	}
	if (rv == -1 || o->peer.p == NULL || o->protos.n == 0)
		return errbuf(err, errsz, "stream open: %s", rv == -1 ?
		    "not protobuf" : "no peer or no protocol");
	return 0;
}

static int
parse_handler(const uint8_t *p, size_t len, struct p2pd_handler *h,
    char *err, size_t errsz)
{
	struct multiaddr	 ma;
	struct pbr		 r;
	struct pbf		 f;
	int			 rv, bad;

	list_init(&h->protos, p, len, F2);
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case F1:
			bad = take_view(&f, &h->addr, P2PD_MAXADDR) == -1 ||
			    maddr_decode(h->addr.p, h->addr.len, &ma) == -1;
			break;
		case F2:
			bad = take_item(&f, &h->protos, I_PROTO,
			    P2PD_MAXPROTOS);
			break;
		default:
			bad = 0;
		}
		if (bad)
			return field_err(err, errsz, "stream handler",
			    FNAME(handler_f, f.field), &h->protos, f.field);
	}
	if (rv == -1 || h->addr.p == NULL || h->protos.n == 0)
		return errbuf(err, errsz, "stream handler: %s", rv == -1 ?
		    "not protobuf" : "no address or no protocol");
	return 0;
}

static int
parse_disconnect(const uint8_t *p, size_t len, struct p2pd_view *peer,
    char *err, size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1)
		if (f.field == F1 && take_peer(&f, peer) == -1)
			return errbuf(err, errsz, "disconnect: bad peer");
	if (rv == -1 || peer->p == NULL)
		return errbuf(err, errsz, "disconnect: %s", rv == -1 ?
		    "not protobuf" : "no peer");
	return 0;
}

static int
parse_ps(const uint8_t *p, size_t len, struct p2pd_psreq *ps, char *err,
    size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, bad, seen = 0;

	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case F1:
			bad = take_type(&f, &ps->type, &seen,
			    P2PD_PS_SUBSCRIBE);
			break;
		case F2:
			bad = take_string(&f, &ps->topic, P2PD_MAXTOPIC);
			break;
		case F3:
			bad = take_view(&f, &ps->data, P2PD_MAXDATA);
			break;
		default:
			bad = 0;
		}
		if (bad)
			return errbuf(err, errsz, "pubsub: bad %s",
			    FNAME(ps_f, f.field));
	}
	if (rv == -1 || !seen)
		return errbuf(err, errsz, "pubsub: %s", rv == -1 ?
		    "not protobuf" : "no type");
	if ((ps->type == P2PD_PS_PUBLISH || ps->type == P2PD_PS_SUBSCRIBE) &&
	    ps->topic.p == NULL)
		return errbuf(err, errsz, "pubsub: no topic");
	if (ps->type == P2PD_PS_PUBLISH && ps->data.p == NULL)
		return errbuf(err, errsz, "pubsub: no data");
	return 0;
}

static int
parse_cm(const uint8_t *p, size_t len, struct p2pd_cmreq *cm, char *err,
    size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, bad, seen = 0;

	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case F1:
			bad = take_type(&f, &cm->type, &seen, P2PD_CM_TRIM);
			break;
		case F2:
			bad = take_peer(&f, &cm->peer);
			break;
		case F3:
			bad = take_string(&f, &cm->tag, P2PD_MAXTAG);
			break;
		case F4:
			bad = take_int64(&f, &cm->has_weight, &cm->weight);
			break;
		default:
			bad = 0;
		}
		if (bad)
			return errbuf(err, errsz, "connmanager: bad %s",
			    FNAME(cm_f, f.field));
	}
	if (rv == -1 || !seen)
		return errbuf(err, errsz, "connmanager: %s", rv == -1 ?
		    "not protobuf" : "no type");
	if (cm->type != P2PD_CM_TRIM && (cm->peer.p == NULL ||
	    cm->tag.p == NULL))
		return errbuf(err, errsz, "connmanager: no peer or no tag");
	if (cm->type == P2PD_CM_TAG_PEER && !cm->has_weight)
		return errbuf(err, errsz, "connmanager: no weight");
	return 0;
}

static int
parse_pstore(const uint8_t *p, size_t len, struct p2pd_pstorereq *ps,
    char *err, size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, bad, seen = 0;

	list_init(&ps->protos, p, len, F3);
	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case F1:
			bad = take_type(&f, &ps->type, &seen,
			    P2PD_PSTORE_GET_PEER_INFO);
			break;
		case F2:
			bad = take_peer(&f, &ps->id);
			break;
		case F3:
			bad = take_item(&f, &ps->protos, I_PROTO,
			    P2PD_MAXPROTOS);
			break;
		default:
			bad = 0;
		}
		if (bad)
			return field_err(err, errsz, "peerstore",
			    FNAME(pstore_f, f.field), &ps->protos, f.field);
	}
	if (rv == -1 || !seen)
		return errbuf(err, errsz, "peerstore: %s", rv == -1 ?
		    "not protobuf" : "no type");
	if (ps->type != P2PD_PSTORE_UNSPECIFIED && ps->id.p == NULL)
		return errbuf(err, errsz, "peerstore: no id");
	return 0;
}

/* Only the type: the other fields are skipped as long as they parse. */
static int
parse_dht(const uint8_t *p, size_t len, int *type, char *err, size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, seen = 0;

	pbr_init(&r, p, len);
	while ((rv = pbr_next(&r, &f)) == 1)
		if (f.field == F1 && take_type(&f, type, &seen,
		    P2PD_DHT_MAXTYPE) == -1)
			return errbuf(err, errsz, "dht: bad type");
	if (rv == -1 || !seen)
		return errbuf(err, errsz, "dht: %s", rv == -1 ?
		    "not protobuf" : "no type");
	return 0;
}

/* The submessage of field f, given once; *seen records which were. */
static int
parse_sub(const struct pbf *f, struct p2pd_req *req, uint32_t *seen,
    char *err, size_t errsz)
{
	if (f->wire != PB_LEN || (*seen & 1U << f->field))
		return errbuf(err, errsz, "request field %u repeated or not "
		    "a message", f->field);
	*seen |= 1U << f->field;
	switch (f->field) {
	case REQF_CONNECT:
		return parse_connect(f->data, f->len, &req->connect, err,
		    errsz);
	case REQF_OPEN:
		return parse_open(f->data, f->len, &req->open, err, errsz);
	case REQF_HANDLER:
		return parse_handler(f->data, f->len, &req->handler, err,
		    errsz);
	case REQF_DHT:
		return parse_dht(f->data, f->len, &req->dhttype, err, errsz);
	case REQF_CM:
		return parse_cm(f->data, f->len, &req->cm, err, errsz);
	case REQF_DISCONNECT:
		return parse_disconnect(f->data, f->len, &req->disconnect, err,
		    errsz);
	case REQF_PS:
		return parse_ps(f->data, f->len, &req->ps, err, errsz);
	case REQF_PSTORE:
		return parse_pstore(f->data, f->len, &req->pstore, err, errsz);
	}
	return 0;
}

/* The field of the submessage each type needs; 0 for none. */
static uint32_t
needed(int type)
{
	static const uint32_t	 f[] = { 0, REQF_CONNECT, REQF_OPEN,
	    REQF_HANDLER, REQF_DHT, 0, REQF_CM, REQF_DISCONNECT, REQF_PS,
	    REQF_PSTORE };

	return f[type];
}

static const char *const type_names[] = { "IDENTIFY", "CONNECT",
    "STREAM_OPEN", "STREAM_HANDLER", "DHT", "LIST_PEERS", "CONNMANAGER",
    "DISCONNECT", "PUBSUB", "PEERSTORE" };

/* Check a whole request; 0 with req filled, -1 with err set. */
int
p2pd_req_decode(const uint8_t *buf, size_t len, struct p2pd_req *req,
    char *err, size_t errsz)
{
	struct pbr	 r;
	struct pbf	 f;
	uint32_t	 seen = 0;
	int		 rv, typed = 0;

	memset(req, 0, sizeof(*req));
	if (len > P2PD_MAXREQ)
		return errbuf(err, errsz, "request of %zu bytes over %d", len,
		    P2PD_MAXREQ);
	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field == REQF_TYPE) {
			if (f.wire != PB_VARINT || typed)
				return errbuf(err, errsz, "bad or second type");
			if (f.v > P2PD_PEERSTORE)
				return errbuf(err, errsz, "unknown request "
				    "type %llu", (unsigned long long)f.v);
			typed = 1;
			req->type = (int)f.v;
		} else if (f.field <= REQF_PSTORE &&
		    parse_sub(&f, req, &seen, err, errsz) == -1)
			return -1;
	}
	if (rv == -1)
		return errbuf(err, errsz, "request is not protobuf");
	if (!typed)
		return errbuf(err, errsz, "request without type");
	if (needed(req->type) != 0 && !(seen & 1U << needed(req->type)))
		return errbuf(err, errsz, "%s request without its field %u",
		    type_names[req->type], needed(req->type));
	return 0;
}

void
p2pd_iter(const struct p2pd_list *l, struct p2pd_iter *it)
{
	it->p = l->raw.p;
	it->len = l->raw.len;
	it->off = 0;
	it->field = l->field;
}

/* The next item of a checked list: 1 with v set, 0 at its end. */
int
p2pd_next(struct p2pd_iter *it, struct p2pd_view *v)
{
	struct pbr	 r;
	struct pbf	 f;

	pbr_init(&r, it->p, it->len);
	r.off = it->off;
	while (pbr_next(&r, &f) == 1) {
		if (f.field != it->field)
			continue;
		it->off = r.off;
		v->p = f.data;
		v->len = f.len;
		return 1;
	}
	it->off = it->len;
	return 0;
}



static void
put_view(struct pbw *w, uint32_t field, const struct p2pd_view *v)
{
	pbw_bytes(w, field, v->p, v->len);
}

static void
put_views(struct pbw *w, uint32_t field, const struct p2pd_view *v,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		put_view(w, field, &v[i]);
}

static void
put_peerinfo(struct pbw *w, uint32_t field, const struct p2pd_peerinfo *pi)
{
	size_t	 at;

	at = pbw_nest_begin(w);
	put_view(w, F1, &pi->id);
	put_views(w, F2, pi->addrs, pi->naddrs);
	pbw_nest_end(w, field, at);
}

static void
put_streaminfo(struct pbw *w, const struct p2pd_streaminfo *si)
{
	put_view(w, F1, &si->peer);
	put_view(w, F2, &si->addr);
	put_view(w, F3, &si->proto);
}

static int
done(struct pbw *w, size_t *len)
{
	if (w->overflow)
		return -1;
	*len = w->len;
	return 0;
}

int
p2pd_resp_encode(const struct p2pd_resp *o, uint8_t *buf, size_t cap,
    size_t *len)
{
	struct pbw	 w;
	size_t		 i, at;

	pbw_init(&w, buf, cap);
	pbw_varint(&w, RESPF_TYPE, (uint64_t)o->type);
	if (o->error != NULL) {
		at = pbw_nest_begin(&w);
		pbw_string(&w, F1, o->error);
		pbw_nest_end(&w, RESPF_ERROR, at);
	}
	if (o->stream != NULL) {
		at = pbw_nest_begin(&w);
		put_streaminfo(&w, o->stream);
		pbw_nest_end(&w, RESPF_STREAM, at);
	}
	if (o->identify != NULL)
		put_peerinfo(&w, RESPF_IDENTIFY, o->identify);
	for (i = 0; i < o->npeers; i++)
		put_peerinfo(&w, RESPF_PEERS, &o->peers[i]);
	if (o->ps != NULL) {
		at = pbw_nest_begin(&w);
		put_views(&w, F1, o->ps->topics, o->ps->ntopics);
		put_views(&w, F2, o->ps->peers, o->ps->npeers);
		pbw_nest_end(&w, RESPF_PS, at);
	}
	if (o->pstore != NULL) {
		at = pbw_nest_begin(&w);
		if (o->pstore->peer != NULL)
			put_peerinfo(&w, F1, o->pstore->peer);
		put_views(&w, F2, o->pstore->protos, o->pstore->nprotos);
		pbw_nest_end(&w, RESPF_PSTORE, at);
	}
	return done(&w, len);
}

/* What goes ahead of an inbound stream to its handler. */
int
p2pd_streaminfo_encode(const struct p2pd_streaminfo *si, uint8_t *buf,
    size_t cap, size_t *len)
{
	struct pbw	 w;

	pbw_init(&w, buf, cap);
	put_streaminfo(&w, si);
	return done(&w, len);
}

/* PSMessage has the numbers and types of the pubsub Message. */
int
p2pd_psmsg_encode(const struct ps_msg *m, uint8_t *buf, size_t cap,
    size_t *len)
{
	return ps_msg_encode(m, 1, buf, cap, len);
}

/*
 * Frame the len bytes at buf + P2PD_HDR in place; returns the bytes
 * of the frame at buf, 0 if cap is too small.
 */
size_t
p2pd_frame(uint8_t *buf, size_t len, size_t cap)
{
	if (cap < P2PD_HDR || len > cap - P2PD_HDR)
		return 0;
	return uvarint_frame_write(buf + P2PD_HDR, len, cap - P2PD_HDR, buf,
	    cap);
}
