/*
 * Circuit relay v2 (libp2p specs relay/circuit-v2.md), the messages of
 * the hop and stop protocols and the reservation voucher:
 *	HopMessage { Type type 1; Peer peer 2; Reservation reservation 3;
 *	    Limit limit 4; Status status 5; }
 *	StopMessage { Type type 1; Peer peer 2; Limit limit 3;
 *	    Status status 4; }
 *	Peer { bytes id 1; repeated bytes addrs 2; }
 *	Reservation { uint64 expire 1; repeated bytes addrs 2;
 *	    bytes voucher 3; }
 *	Limit { uint32 duration 1; uint64 data 2; }
 *	Voucher { bytes relay 1; bytes peer 2; uint64 expiration 3; }
 * Each message goes in a frame, its length as a uvarint before it.
 *
 * The type is required: go-libp2p and js-libp2p send it even when it is
 * zero.  A known field given twice or with the wrong wire type makes
 * the message malformed; unknown fields are skipped.  The encoder
 * writes fields in field number order, an optional one only when it is
 * present, so that its output is what go-libp2p writes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "circuit.h"
#include "envelope.h"
#include "multiaddr.h"
#include "pb.h"
#include "peerid.h"
#include "varint.h"

#define HOPF_TYPE		1
#define HOPF_PEER		2
#define HOPF_RSVP		3
#define HOPF_LIMIT		4
#define HOPF_STATUS		5

#define STOPF_TYPE		1
#define STOPF_PEER		2
#define STOPF_LIMIT		3
#define STOPF_STATUS		4

#define PEERF_ID		1
#define PEERF_ADDRS		2

#define RSVPF_EXPIRE		1
#define RSVPF_ADDRS		2
#define RSVPF_VOUCHER		3

#define LIMITF_DURATION		1
#define LIMITF_DATA		2

#define VOUCHERF_RELAY		1
#define VOUCHERF_PEER		2
#define VOUCHERF_EXPIRATION	3

/*
 * Room for an encoded submessage: one byte tags, lengths of at most
 * two bytes (an address is at most MADDR_MAXLEN).
 */
#define ADDRS_ENCMAX	(3 * CIRCUIT_MAXADDRS + CIRCUIT_ADDRPOOL)
#define PEER_ENCMAX	(2 + PEERID_MAXLEN + ADDRS_ENCMAX)
#define RSVP_ENCMAX	(1 + UVARINT_MAXLEN + ADDRS_ENCMAX + 3 + \
			    CIRCUIT_MAXVOUCHER)
#define LIMIT_ENCMAX	(2 + 2 * UVARINT_MAXLEN)

/* Seen flags of the scalar fields of a submessage being decoded. */
struct rsvp_ctx {
	struct circuit_reservation	*rs;
	int				 expire;
};

struct limit_ctx {
	struct circuit_limit	*l;
	int			 duration;
	int			 data;
};

struct voucher_ctx {
	struct rsvp_voucher	*v;
	int			 relay;
	int			 peer;
	int			 expiration;
};

static const struct {
	int		 code;
	const char	*name;
} status_names[] = {
	{ 0,					"UNUSED" },
	{ CIRCUIT_OK,				"OK" },
	{ CIRCUIT_RESERVATION_REFUSED,		"RESERVATION_REFUSED" },
	{ CIRCUIT_RESOURCE_LIMIT_EXCEEDED,	"RESOURCE_LIMIT_EXCEEDED" },
	{ CIRCUIT_PERMISSION_DENIED,		"PERMISSION_DENIED" },
	{ CIRCUIT_CONNECTION_FAILED,		"CONNECTION_FAILED" },
	{ CIRCUIT_NO_RESERVATION,		"NO_RESERVATION" },
	{ CIRCUIT_MALFORMED_MESSAGE,		"MALFORMED_MESSAGE" },
	{ CIRCUIT_UNEXPECTED_MESSAGE,		"UNEXPECTED_MESSAGE" },
};

/* The name in the Status enum; 0 is UNUSED in go-libp2p and js-libp2p. */
const char *
circuit_status_name(int status)
{
	size_t	 i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].code == status)
			return status_names[i].name;
	return "UNKNOWN";
}

static int
addr_ok(const struct circuit_addrs *a, size_t i)
{
	return i < a->naddrs && i < CIRCUIT_MAXADDRS && a->len[i] > 0 &&
	    a->len[i] <= MADDR_MAXLEN &&
	    a->off[i] <= CIRCUIT_ADDRPOOL - a->len[i];
}

int
circuit_addr_add(struct circuit_addrs *a, const struct multiaddr *ma)
{
	if (a->naddrs >= CIRCUIT_MAXADDRS || a->poollen > CIRCUIT_ADDRPOOL ||
	    ma->len == 0 || ma->len > MADDR_MAXLEN ||
	    ma->len > CIRCUIT_ADDRPOOL - a->poollen)
		return -1;
	memcpy(a->pool + a->poollen, ma->b, ma->len);
	a->off[a->naddrs] = (uint16_t)a->poollen;
	a->len[a->naddrs] = (uint16_t)ma->len;
	a->poollen += ma->len;
	a->naddrs++;
	return 0;
}

int
circuit_addr(const struct circuit_addrs *a, size_t i, struct multiaddr *ma)
{
	if (!addr_ok(a, i))
		return -1;
	memcpy(ma->b, a->pool + a->off[i], a->len[i]);
	ma->len = a->len[i];
	return 0;
}

int
circuit_peer_addr(const struct circuit_peer *p, size_t i,
    struct multiaddr *ma)
{
	return circuit_addr(&p->addrs, i, ma);
}

int
circuit_rsvp_addr(const struct circuit_reservation *rs, size_t i,
    struct multiaddr *ma)
{
	return circuit_addr(&rs->addrs, i, ma);
}

/* Call fn on each field; 0 at the end, -1 if fn or the protobuf fails. */
static int
pb_walk(const uint8_t *buf, size_t len,
    int (*fn)(void *, const struct pbf *), void *arg)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1)
		if (fn(arg, &f) == -1)
			return -1;
	return rv;
}

/* A varint field: once, and no more than max. */
static int
take_u64(const struct pbf *f, int *seen, uint64_t max, uint64_t *v)
{
	if (f->wire != PB_VARINT || *seen || f->v > max)
		return -1;
	*seen = 1;
	*v = f->v;
	return 0;
}

static int
take_enum(const struct pbf *f, int *seen, int max, int *v)
{
	uint64_t	 x;

	if (take_u64(f, seen, (uint64_t)max, &x) == -1)
		return -1;
	*v = (int)x;
	return 0;
}

static int
take_id(const struct pbf *f, int *seen, struct peerid *id)
{
	if (f->wire != PB_LEN || *seen ||
	    peerid_from_mh(f->data, f->len, id) == -1)
		return -1;
	*seen = 1;
	return 0;
}

/* An address that does not decode or fit is skipped and counted. */
static int
take_addr(const struct pbf *f, struct circuit_addrs *a)
{
	struct multiaddr	 ma;

	if (f->wire != PB_LEN)
		return -1;
	if (maddr_decode(f->data, f->len, &ma) == -1)
		a->nbad++;
	else if (circuit_addr_add(a, &ma) == -1)
		a->ndropped++;
	return 0;
}

static int
peer_field(void *arg, const struct pbf *f)
{
	struct circuit_peer	*p = arg;
	int			 seen;

	switch (f->field) {
	case PEERF_ID:
		seen = p->id.len != 0;
		return take_id(f, &seen, &p->id);
	case PEERF_ADDRS:
		return take_addr(f, &p->addrs);
	default:
		return 0;
	}
}

static int
take_peer(const struct pbf *f, struct circuit_peer *p)
{
	if (f->wire != PB_LEN || p->present)
		return -1;
	p->present = 1;
	if (pb_walk(f->data, f->len, peer_field, p) == -1 || p->id.len == 0)
		return -1;
	return 0;
}

static int
rsvp_field(void *arg, const struct pbf *f)
{
	struct rsvp_ctx			*c = arg;
	struct circuit_reservation	*rs = c->rs;

	switch (f->field) {
	case RSVPF_EXPIRE:
		return take_u64(f, &c->expire, UINT64_MAX, &rs->expire);
	case RSVPF_ADDRS:
		return take_addr(f, &rs->addrs);
	case RSVPF_VOUCHER:
		if (f->wire != PB_LEN || rs->voucher != NULL ||
		    f->len > CIRCUIT_MAXVOUCHER)
			return -1;
		rs->voucher = f->data;
		rs->voucherlen = f->len;
		return 0;
	default:
		return 0;
	}
}

static int
take_rsvp(const struct pbf *f, struct circuit_reservation *rs)
{
	struct rsvp_ctx	 c = { rs, 0 };

	if (f->wire != PB_LEN || rs->present)
		return -1;
	rs->present = 1;
	return pb_walk(f->data, f->len, rsvp_field, &c);
}

static int
limit_field(void *arg, const struct pbf *f)
{
	struct limit_ctx	*c = arg;
	uint64_t		 v;

	switch (f->field) {
	case LIMITF_DURATION:
		if (take_u64(f, &c->duration, UINT32_MAX, &v) == -1)
			return -1;
		c->l->duration = (uint32_t)v;
		return 0;
	case LIMITF_DATA:
		return take_u64(f, &c->data, UINT64_MAX, &c->l->data);
	default:
		return 0;
	}
}

static int
take_limit(const struct pbf *f, struct circuit_limit *l)
{
	struct limit_ctx	 c = { l, 0, 0 };

	if (f->wire != PB_LEN || l->present)
		return -1;
	l->present = 1;
	return pb_walk(f->data, f->len, limit_field, &c);
}

static int
hop_field(void *arg, const struct pbf *f)
{
	struct hop_msg	*m = arg;

	switch (f->field) {
	case HOPF_TYPE:
		return take_enum(f, &m->has_type, HOP_STATUS, &m->type);
	case HOPF_PEER:
		return take_peer(f, &m->peer);
	case HOPF_RSVP:
		return take_rsvp(f, &m->rsvp);
	case HOPF_LIMIT:
		return take_limit(f, &m->limit);
	case HOPF_STATUS:
		return take_enum(f, &m->has_status, INT32_MAX, &m->status);
	default:
		return 0;
	}
}

/*
 * Returns 0, or -1 when the message is not a well-formed HopMessage.
 * The voucher points into buf.  Any status is returned; the caller
 * decides what a status it does not know means.
 */
int
hop_decode(const uint8_t *buf, size_t len, struct hop_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (pb_walk(buf, len, hop_field, m) == -1 || !m->has_type)
		return -1;
	return 0;
}

static int
stop_field(void *arg, const struct pbf *f)
{
	struct stop_msg	*m = arg;

	switch (f->field) {
	case STOPF_TYPE:
		return take_enum(f, &m->has_type, STOP_STATUS, &m->type);
	case STOPF_PEER:
		return take_peer(f, &m->peer);
	case STOPF_LIMIT:
		return take_limit(f, &m->limit);
	case STOPF_STATUS:
		return take_enum(f, &m->has_status, INT32_MAX, &m->status);
	default:
		return 0;
	}
}

int
stop_decode(const uint8_t *buf, size_t len, struct stop_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (pb_walk(buf, len, stop_field, m) == -1 || !m->has_type)
		return -1;
	return 0;
}

static int
id_ok(const struct peerid *id)
{
	struct peerid	 tmp;

	return peerid_from_mh(id->mh, id->len, &tmp) == 0;
}

static int
put_addrs(struct pbw *w, uint32_t field, const struct circuit_addrs *a)
{
	size_t	 i;

	if (a->naddrs > CIRCUIT_MAXADDRS)
		return -1;
	for (i = 0; i < a->naddrs; i++) {
		if (!addr_ok(a, i))
			return -1;
		pbw_bytes(w, field, a->pool + a->off[i], a->len[i]);
	}
	return 0;
}

static int
put_peer(struct pbw *w, uint32_t field, const struct circuit_peer *p)
{
	uint8_t		 buf[PEER_ENCMAX];
	struct pbw	 s;

	if (!p->present)
		return 0;
	if (!id_ok(&p->id))
		return -1;
	pbw_init(&s, buf, sizeof(buf));
	pbw_bytes(&s, PEERF_ID, p->id.mh, p->id.len);
	if (put_addrs(&s, PEERF_ADDRS, &p->addrs) == -1 || s.overflow)
		return -1;
	pbw_bytes(w, field, buf, s.len);
	return 0;
}

/* The expiry is always written: proto2 go-libp2p required it. */
static int
put_rsvp(struct pbw *w, uint32_t field, const struct circuit_reservation *rs)
{
	uint8_t		 buf[RSVP_ENCMAX];
	struct pbw	 s;

	if (!rs->present)
		return 0;
	if (rs->voucherlen > CIRCUIT_MAXVOUCHER ||
	    (rs->voucher == NULL && rs->voucherlen != 0))
		return -1;
	pbw_init(&s, buf, sizeof(buf));
	pbw_varint(&s, RSVPF_EXPIRE, rs->expire);
	if (put_addrs(&s, RSVPF_ADDRS, &rs->addrs) == -1)
		return -1;
	if (rs->voucher != NULL)
		pbw_bytes(&s, RSVPF_VOUCHER, rs->voucher, rs->voucherlen);
	if (s.overflow)
		return -1;
	pbw_bytes(w, field, buf, s.len);
	return 0;
}

/* Both fields, as go-libp2p writes them; zero means no limit. */
static void
put_limit(struct pbw *w, uint32_t field, const struct circuit_limit *l)
{
	uint8_t		 buf[LIMIT_ENCMAX];
	struct pbw	 s;

	if (!l->present)
		return;
	pbw_init(&s, buf, sizeof(buf));
	pbw_varint(&s, LIMITF_DURATION, l->duration);
	pbw_varint(&s, LIMITF_DATA, l->data);
	pbw_bytes(w, field, buf, s.len);
}

static int
status_ok(int has, int status)
{
	return !has || status >= 0;
}

int
hop_encode(const struct hop_msg *m, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct pbw	 w;

	if (!m->has_type || m->type < 0 || m->type > HOP_STATUS ||
	    !status_ok(m->has_status, m->status))
		return -1;
	pbw_init(&w, out, outsz);
	pbw_varint(&w, HOPF_TYPE, (uint64_t)m->type);
	if (put_peer(&w, HOPF_PEER, &m->peer) == -1 ||
	    put_rsvp(&w, HOPF_RSVP, &m->rsvp) == -1)
		return -1;
	put_limit(&w, HOPF_LIMIT, &m->limit);
	if (m->has_status)
		pbw_varint(&w, HOPF_STATUS, (uint64_t)m->status);
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}

int
stop_encode(const struct stop_msg *m, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct pbw	 w;

	if (!m->has_type || m->type < 0 || m->type > STOP_STATUS ||
	    !status_ok(m->has_status, m->status))
		return -1;
	pbw_init(&w, out, outsz);
	pbw_varint(&w, STOPF_TYPE, (uint64_t)m->type);
	if (put_peer(&w, STOPF_PEER, &m->peer) == -1)
		return -1;
	put_limit(&w, STOPF_LIMIT, &m->limit);
	if (m->has_status)
		pbw_varint(&w, STOPF_STATUS, (uint64_t)m->status);
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}

/* Canonical: all three fields in order, as the spec asks. */
int
voucher_encode(const struct rsvp_voucher *v, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct pbw	 w;

	if (!id_ok(&v->relay) || !id_ok(&v->peer))
		return -1;
	pbw_init(&w, out, outsz);
	pbw_bytes(&w, VOUCHERF_RELAY, v->relay.mh, v->relay.len);
	pbw_bytes(&w, VOUCHERF_PEER, v->peer.mh, v->peer.len);
	pbw_varint(&w, VOUCHERF_EXPIRATION, v->expiration);
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}

static int
voucher_field(void *arg, const struct pbf *f)
{
	struct voucher_ctx	*c = arg;

	switch (f->field) {
	case VOUCHERF_RELAY:
		return take_id(f, &c->relay, &c->v->relay);
	case VOUCHERF_PEER:
		return take_id(f, &c->peer, &c->v->peer);
	case VOUCHERF_EXPIRATION:
		return take_u64(f, &c->expiration, UINT64_MAX,
		    &c->v->expiration);
	default:
		return 0;
	}
}

/* All three fields are required, each once. */
int
voucher_decode(const uint8_t *buf, size_t len, struct rsvp_voucher *v)
{
	struct voucher_ctx	 c = { v, 0, 0, 0 };

	memset(v, 0, sizeof(*v));
	if (pb_walk(buf, len, voucher_field, &c) == -1 || !c.relay ||
	    !c.peer || !c.expiration)
		return -1;
	return 0;
}

/*
 * A voucher as a relay hands it out: a signed envelope of the voucher
 * type, verified under the relay domain, signed by the relay it names.
 * The signer's peer ID goes to *signer unless that is NULL.  A relay
 * with another key than Ed25519 fails: envelope_verify knows no other.
 * Whether the voucher names us and is still valid is for the caller.
 */
int
voucher_open(const uint8_t *buf, size_t len, struct rsvp_voucher *v,
    struct peerid *signer)
{
	struct envelope	 env;
	struct peerid	 id;

	if (signer == NULL)
		signer = &id;
	if (envelope_decode(buf, len, &env) == -1 ||
	    env.ptypelen != ENVELOPE_PTYPE_LEN ||
	    memcmp(env.ptype, ENVELOPE_PTYPE_RELAY_RSVP,
	    ENVELOPE_PTYPE_LEN) != 0 ||
	    envelope_verify(&env, ENVELOPE_DOMAIN_RELAY_RSVP) == -1 ||
	    voucher_decode(env.payload, env.payloadlen, v) == -1 ||
	    peerid_from_pubkey_pb(env.pubkey, env.pubkeylen, signer) == -1 ||
	    !peerid_equal(signer, &v->relay))
		return -1;
	return 0;
}

/*
 * One frame from the start of buf: 1 with *msg, *msglen and the bytes
 * taken in *used; 0 when more input is needed; -1 for a length that is
 * not a minimal uvarint or is over CIRCUIT_MAXMSG, known as soon as
 * the length is.
 */
int
circuit_frame_read(const uint8_t *buf, size_t len, const uint8_t **msg,
    size_t *msglen, size_t *used)
{
	return uvarint_frame_read(buf, len, CIRCUIT_MAXMSG, msg, msglen, used);
}

/*
 * Write msg as a frame; returns the bytes written, 0 if it is over
 * CIRCUIT_MAXMSG or does not fit.  msg may overlap out.
 */
size_t
circuit_frame_write(const uint8_t *msg, size_t len, uint8_t *out,
    size_t outsz)
{
	return uvarint_frame_write(msg, len, CIRCUIT_MAXMSG, out, outsz);
}
