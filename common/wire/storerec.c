/*
 * Store records: encoding, decoding with every invariant checked, and
 * the merge of an engine update into a known peer.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "multiaddr.h"
#include "pb.h"
#include "storerec.h"

/* peer record fields */
#define PR_SOURCES	1
#define PR_AGENT	2
#define PR_PROTO	3
#define PR_ADDR		4
#define PR_FIRST	5
#define PR_SEEN		6
#define PR_OK		7
#define PR_FAIL		8
#define PR_FAILS	9
/* address sub-message */
#define PA_ADDR		1
#define PA_OK		2
#define PA_FAIL		3
/* ban value */
#define BV_UNTIL	1
#define BV_CREATED	2
#define BV_REASON	3
/* accounting value */
#define AV_RSVPS	1
#define AV_CIRCUITS	2
#define AV_IN		3
#define AV_OUT		4

#define INT64_FIELD_MAX	((uint64_t)INT64_MAX)

/* The version byte, then the fields: 0 or -1 when it does not fit. */
static int
rec_finish(struct pbw *w, uint8_t *out, size_t *len)
{
	if (w->overflow)
		return -1;
	out[0] = REC_VERSION;
	*len = w->len + 1;
	return 0;
}

static int
rec_start(struct pbw *w, uint8_t *out, size_t outsz)
{
	if (outsz < 1)
		return -1;
	pbw_init(w, out + 1, outsz - 1);
	return 0;
}

static int
rec_version(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	if (len == 0)
		return errbuf(err, errlen, "empty record");
	if (p[0] != REC_VERSION)
		return errbuf(err, errlen, "record version %u is unknown",
		    p[0]);
	return 0;
}

static void
pbw_time(struct pbw *w, uint32_t field, int64_t t)
{
	if (t > 0)
		pbw_varint(w, field, (uint64_t)t);
}

int
peer_rec_encode(const struct peer_rec *r, uint8_t *out, size_t outsz,
    size_t *len)
{
	struct pbw	 w, a;
	uint8_t		 sub[PREC_ADDRMAX + 32];
	size_t		 i;

	if (rec_start(&w, out, outsz) == -1)
		return -1;
	if (r->sources)
		pbw_varint(&w, PR_SOURCES, r->sources);
	if (r->agent[0] != '\0')
		pbw_string(&w, PR_AGENT, r->agent);
	for (i = 0; i < r->nprotos && i < PREC_MAXPROTOS; i++)
		pbw_string(&w, PR_PROTO, r->protos[i]);
	for (i = 0; i < r->naddrs && i < PREC_MAXADDRS; i++) {
		pbw_init(&a, sub, sizeof(sub));
		pbw_bytes(&a, PA_ADDR, r->addrs[i].b, r->addrs[i].len);
		pbw_time(&a, PA_OK, r->addrs[i].last_ok);
		pbw_time(&a, PA_FAIL, r->addrs[i].last_fail);
		if (a.overflow)
			return -1;
		pbw_bytes(&w, PR_ADDR, sub, a.len);
	}
	pbw_time(&w, PR_FIRST, r->first_seen);
	pbw_time(&w, PR_SEEN, r->last_seen);
	pbw_time(&w, PR_OK, r->last_ok);
	pbw_time(&w, PR_FAIL, r->last_fail);
	if (r->fails)
		pbw_varint(&w, PR_FAILS, r->fails);
	return rec_finish(&w, out, len);
}

static int
get_time(const struct pbf *f, int64_t *t, char *err, size_t errlen)
{
	/* the encoder leaves out a time of 0: written, it is not ours */
	if (f->wire != PB_VARINT || f->v == 0 || f->v > INT64_FIELD_MAX)
		return errbuf(err, errlen, "field %u: not a time", f->field);
	if (*t != 0)
		return errbuf(err, errlen, "field %u twice", f->field);
	*t = (int64_t)f->v;
	return 0;
}

static int
get_string(const struct pbf *f, char *dst, size_t dstsz, const char *what,
    char *err, size_t errlen)
{
	if (f->wire != PB_LEN || f->len == 0 || f->len >= dstsz ||
	    !pb_utf8_valid(f->data, f->len))
		return errbuf(err, errlen, "bad %s", what);
	memcpy(dst, f->data, f->len);
	dst[f->len] = '\0';
	return 0;
}

static int
addr_decode(const struct pbf *pf, struct prec_addr *a, char *err,
    size_t errlen)
{
	struct multiaddr	 ma;
	struct pbr		 r;
	struct pbf		 f;
	int			 rv;

	if (pf->wire != PB_LEN)
		return errbuf(err, errlen, "bad address entry");
	memset(a, 0, sizeof(*a));
	pbr_init(&r, pf->data, pf->len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case PA_ADDR:
			if (f.wire != PB_LEN || a->len != 0 ||
			    f.len > PREC_ADDRMAX ||
			    maddr_decode(f.data, f.len, &ma) == -1)
				return errbuf(err, errlen, "bad multiaddr");
			memcpy(a->b, f.data, f.len);
			a->len = f.len;
			break;
		case PA_OK:
			if (get_time(&f, &a->last_ok, err, errlen) == -1)
				return -1;
			break;
		case PA_FAIL:
			if (get_time(&f, &a->last_fail, err, errlen) == -1)
				return -1;
			break;
		default:
			return errbuf(err, errlen, "unknown address field %u",
			    f.field);
		}
	}
	if (rv == -1 || a->len == 0)
		return errbuf(err, errlen, "bad address entry");
	return 0;
}

static struct prec_addr *
addr_find(struct peer_rec *r, const uint8_t *b, size_t len)
{
	size_t	 i;

	for (i = 0; i < r->naddrs; i++)
		if (r->addrs[i].len == len && memcmp(r->addrs[i].b, b,
		    len) == 0)
			return &r->addrs[i];
	return NULL;
}

static int
peer_field(struct peer_rec *r, const struct pbf *f, char *err,
    size_t errlen)
{
	switch (f->field) {
	case PR_SOURCES:
		if (f->wire != PB_VARINT || f->v == 0 || (f->v & ~SRC_ALL) ||
		    r->sources != 0)
			return errbuf(err, errlen, "bad sources");
		r->sources = (uint32_t)f->v;
		return 0;
	case PR_AGENT:
		if (r->agent[0] != '\0')
			return errbuf(err, errlen, "agent twice");
		return get_string(f, r->agent, sizeof(r->agent), "agent",
		    err, errlen);
	case PR_PROTO:
		if (r->nprotos == PREC_MAXPROTOS)
			return errbuf(err, errlen, "too many protocols");
		return get_string(f, r->protos[r->nprotos++],
		    sizeof(r->protos[0]), "protocol", err, errlen);
	case PR_ADDR:
		if (r->naddrs == PREC_MAXADDRS)
			return errbuf(err, errlen, "too many addresses");
		if (addr_decode(f, &r->addrs[r->naddrs], err, errlen) == -1)
			return -1;
		if (addr_find(r, r->addrs[r->naddrs].b,
		    r->addrs[r->naddrs].len) != NULL)
			return errbuf(err, errlen, "an address twice");
		r->naddrs++;
		return 0;
	case PR_FIRST:
		return get_time(f, &r->first_seen, err, errlen);
	case PR_SEEN:
		return get_time(f, &r->last_seen, err, errlen);
	case PR_OK:
		return get_time(f, &r->last_ok, err, errlen);
	case PR_FAIL:
		return get_time(f, &r->last_fail, err, errlen);
	case PR_FAILS:
		if (f->wire != PB_VARINT || f->v == 0 ||
		    f->v > PREC_MAXFAILS || r->fails != 0)
			return errbuf(err, errlen, "bad failure count");
		r->fails = (uint32_t)f->v;
		return 0;
	default:
		return errbuf(err, errlen, "unknown field %u", f->field);
	}
}

int
peer_rec_decode(const uint8_t *p, size_t len, struct peer_rec *r, char *err,
    size_t errlen)
{
	struct pbr	 pr;
	struct pbf	 f;
	int		 rv;

	memset(r, 0, sizeof(*r));
	if (rec_version(p, len, err, errlen) == -1)
		return -1;
	if (len > REC_MAXLEN)
		return errbuf(err, errlen, "record of %zu bytes", len);
	pbr_init(&pr, p + 1, len - 1);
	while ((rv = pbr_next(&pr, &f)) == 1)
		if (peer_field(r, &f, err, errlen) == -1)
			return -1;
	if (rv == -1)
		return errbuf(err, errlen, "malformed fields");
	return 0;
}

/*
 * What ages a known peer: when it was last seen, or else when it was
 * learned; read without decoding the rest.  -1 when it does not decode.
 */
int
peer_rec_age(const uint8_t *p, size_t len, int64_t *age)
{
	struct pbr	 pr;
	struct pbf	 f;
	int64_t		 first = 0, seen = 0;
	int		 rv;

	*age = 0;
	if (rec_version(p, len, NULL, 0) == -1 || len > REC_MAXLEN)
		return -1;
	pbr_init(&pr, p + 1, len - 1);
	while ((rv = pbr_next(&pr, &f)) == 1)
		if ((f.field == PR_FIRST &&
		    get_time(&f, &first, NULL, 0) == -1) ||
		    (f.field == PR_SEEN && get_time(&f, &seen, NULL, 0) == -1))
			return -1;
	if (rv == -1)
		return -1;
	*age = seen > first ? seen : first;
	return 0;
}

/* A peer ID as a key: its multihash bytes. */
int
peer_key_check(const uint8_t *k, size_t len, struct peerid *id)
{
	return peerid_from_mh(k, len, id);
}

/* Room for one more address: the one that never worked, or worked
 * longest ago, makes way. */
static struct prec_addr *
addr_slot(struct peer_rec *r)
{
	size_t	 i, worst = 0;

	if (r->naddrs < PREC_MAXADDRS)
		return &r->addrs[r->naddrs++];
	for (i = 1; i < r->naddrs; i++)
		if (r->addrs[i].last_ok < r->addrs[worst].last_ok ||
		    (r->addrs[i].last_ok == r->addrs[worst].last_ok &&
		    r->addrs[i].last_fail > r->addrs[worst].last_fail))
			worst = i;
	return &r->addrs[worst];
}

int
peer_rec_add_addr(struct peer_rec *r, const uint8_t *b, size_t len)
{
	struct prec_addr	*a;

	if (len == 0 || len > PREC_ADDRMAX)
		return -1;
	if (addr_find(r, b, len) != NULL)
		return 0;
	a = addr_slot(r);
	memset(a, 0, sizeof(*a));
	memcpy(a->b, b, len);
	a->len = len;
	return 0;
}

static void
merge_addrs(struct peer_rec *r, const struct peer_rec *u, int kind,
    int64_t now)
{
	struct prec_addr	*a;
	size_t			 i;

	for (i = 0; i < u->naddrs; i++) {
		if (peer_rec_add_addr(r, u->addrs[i].b, u->addrs[i].len) == -1)
			continue;
		a = addr_find(r, u->addrs[i].b, u->addrs[i].len);
		if (kind == UPD_CONNECTED)
			a->last_ok = now;
		else if (kind == UPD_DIAL_FAILED)
			a->last_fail = now;
	}
}

/* Fold what the engine saw at time now into the stored record. */
void
peer_rec_merge(struct peer_rec *r, const struct peer_rec *u, int kind,
    int64_t now)
{
	size_t	 i;

	r->sources |= u->sources & SRC_ALL;
	if (r->first_seen == 0)
		r->first_seen = now;
	switch (kind) {
	case UPD_CONNECTED:
		r->last_seen = r->last_ok = now;
		r->fails = 0;
		break;
	case UPD_IDENTIFIED:
		r->last_seen = now;
		if (u->agent[0] != '\0')
			strlcpy(r->agent, u->agent, sizeof(r->agent));
		if (u->nprotos > 0) {
			r->nprotos = u->nprotos;
			for (i = 0; i < u->nprotos; i++)
				strlcpy(r->protos[i], u->protos[i],
				    sizeof(r->protos[i]));
		}
		break;
	case UPD_DIAL_FAILED:
		r->last_fail = now;
		if (r->fails < PREC_MAXFAILS)
			r->fails++;
		break;
	default:
		break;
	}
	merge_addrs(r, u, kind, now);
}

static void
ip_mask(uint8_t ip[16], int prefix)
{
	int	 i;

	for (i = 0; i < 16; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		ip[i] &= (uint8_t)(0xff00 >> prefix);
		prefix = 0;
	}
}

int
ban_key_encode(const struct ban *b, uint8_t *k, size_t *len)
{
	if (b->kind == BAN_PEER) {
		if (b->peer.len == 0 || b->peer.len > PEERID_MAXLEN)
			return -1;
		k[0] = 'p';
		memcpy(k + 1, b->peer.mh, b->peer.len);
		*len = 1 + b->peer.len;
		return 0;
	}
	if (b->kind != BAN_NET || b->prefix < 0 || b->prefix > 128)
		return -1;
	k[0] = 'n';
	memcpy(k + 1, b->ip, 16);
	k[17] = (uint8_t)b->prefix;
	*len = 18;
	return 0;
}

int
ban_key_decode(const uint8_t *k, size_t len, struct ban *b)
{
	uint8_t	 ip[16];

	memset(b, 0, sizeof(*b));
	if (len > 1 && k[0] == 'p') {
		b->kind = BAN_PEER;
		return peerid_from_mh(k + 1, len - 1, &b->peer);
	}
	if (len != 18 || k[0] != 'n' || k[17] > 128)
		return -1;
	memcpy(ip, k + 1, 16);
	ip_mask(ip, k[17]);
	/* host bits set: not a key this code wrote */
	if (memcmp(ip, k + 1, 16) != 0)
		return -1;
	b->kind = BAN_NET;
	memcpy(b->ip, ip, 16);
	b->prefix = k[17];
	return 0;
}

int
ban_val_encode(const struct ban *b, uint8_t *out, size_t outsz, size_t *len)
{
	struct pbw	 w;

	if (rec_start(&w, out, outsz) == -1)
		return -1;
	pbw_time(&w, BV_UNTIL, b->until);
	pbw_time(&w, BV_CREATED, b->created);
	if (b->reason[0] != '\0')
		pbw_string(&w, BV_REASON, b->reason);
	return rec_finish(&w, out, len);
}

int
ban_val_decode(const uint8_t *p, size_t len, struct ban *b, char *err,
    size_t errlen)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	b->until = b->created = 0;
	b->reason[0] = '\0';
	if (rec_version(p, len, err, errlen) == -1)
		return -1;
	pbr_init(&r, p + 1, len - 1);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case BV_UNTIL:
			rv = get_time(&f, &b->until, err, errlen);
			break;
		case BV_CREATED:
			rv = get_time(&f, &b->created, err, errlen);
			break;
		case BV_REASON:
			rv = b->reason[0] != '\0' ? errbuf(err, errlen,
			    "reason twice") : get_string(&f, b->reason,
			    sizeof(b->reason), "reason", err, errlen);
			break;
		default:
			rv = errbuf(err, errlen, "unknown field %u", f.field);
			break;
		}
		if (rv == -1)
			return -1;
	}
	if (rv == -1)
		return errbuf(err, errlen, "malformed fields");
	return 0;
}

static int
ban_parse_net(const char *s, struct ban *b)
{
	char		 addr[INET6_ADDRSTRLEN + 8], *slash;
	const char	*errstr;
	int		 max = 128;

	if (strlcpy(addr, s, sizeof(addr)) >= sizeof(addr))
		return -1;
	if ((slash = strchr(addr, '/')) != NULL)
		*slash++ = '\0';
	memset(b->ip, 0, 16);
	if (inet_pton(AF_INET, addr, b->ip + 12) == 1) {
		b->ip[10] = b->ip[11] = 0xff;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, b->ip) != 1)
		return -1;
	b->prefix = max;
	if (slash != NULL) {
		b->prefix = (int32_t)strtonum(slash, 0, max, &errstr);
		if (errstr != NULL)
			return -1;
	}
	if (max == 32)
		b->prefix += 96;
	ip_mask(b->ip, b->prefix);
	b->kind = BAN_NET;
	return 0;
}

/* A peer ID, an address or a network in CIDR notation. */
int
ban_parse(const char *s, struct ban *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	if (peerid_parse(s, &b->peer) == 0) {
		b->kind = BAN_PEER;
		return 0;
	}
	if (ban_parse_net(s, b) == 0)
		return 0;
	return errbuf(err, errlen, "%s: not a peer ID, an IP address or a "
	    "network (CIDR)", s);
}

static int
ip_is_v4(const uint8_t ip[16])
{
	static const uint8_t	 pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	return memcmp(ip, pfx, sizeof(pfx)) == 0;
}

void
ban_format(const struct ban *b, char *out, size_t outsz)
{
	char	 a[INET6_ADDRSTRLEN];
	int	 v4;

	if (b->kind == BAN_PEER) {
		if (peerid_format(&b->peer, out, outsz) == -1)
			strlcpy(out, "?", outsz);
		return;
	}
	v4 = ip_is_v4(b->ip) && b->prefix >= 96;
	if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? b->ip + 12 : b->ip, a,
	    sizeof(a)) == NULL)
		strlcpy(a, "?", sizeof(a));
	if (b->prefix == 128)
		snprintf(out, outsz, "%s", a);
	else
		snprintf(out, outsz, "%s/%d", a, v4 ? b->prefix - 96 :
		    b->prefix);
}

int
ban_same(const struct ban *a, const struct ban *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == BAN_PEER)
		return peerid_equal(&a->peer, &b->peer);
	return a->prefix == b->prefix && memcmp(a->ip, b->ip, 16) == 0;
}

int
ban_match_ip(const struct ban *b, const uint8_t ip[16])
{
	uint8_t	 m[16];

	if (b->kind != BAN_NET)
		return 0;
	memcpy(m, ip, 16);
	ip_mask(m, b->prefix);
	return memcmp(m, b->ip, 16) == 0;
}

int
acct_key_encode(uint32_t day, const struct peerid *id, uint8_t *k,
    size_t *len)
{
	if (id->len == 0 || id->len > PEERID_MAXLEN)
		return -1;
	k[0] = day >> 24;
	k[1] = day >> 16;
	k[2] = day >> 8;
	k[3] = day;
	memcpy(k + 4, id->mh, id->len);
	*len = 4 + id->len;
	return 0;
}

int
acct_key_decode(const uint8_t *k, size_t len, struct acct_rec *a)
{
	memset(a, 0, sizeof(*a));
	if (len < 5)
		return -1;
	a->day = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 |
	    (uint32_t)k[2] << 8 | k[3];
	return peerid_from_mh(k + 4, len - 4, &a->peer);
}

int
acct_val_encode(const struct acct_rec *a, uint8_t *out, size_t outsz,
    size_t *len)
{
	struct pbw	 w;

	if (rec_start(&w, out, outsz) == -1)
		return -1;
	if (a->rsvps)
		pbw_varint(&w, AV_RSVPS, a->rsvps);
	if (a->circuits)
		pbw_varint(&w, AV_CIRCUITS, a->circuits);
	if (a->bytes_in)
		pbw_varint(&w, AV_IN, a->bytes_in);
	if (a->bytes_out)
		pbw_varint(&w, AV_OUT, a->bytes_out);
	return rec_finish(&w, out, len);
}

int
acct_val_decode(const uint8_t *p, size_t len, struct acct_rec *a, char *err,
    size_t errlen)
{
	struct pbr	 r;
	struct pbf	 f;
	uint64_t	*v;
	int		 rv;

	a->rsvps = a->circuits = a->bytes_in = a->bytes_out = 0;
	if (rec_version(p, len, err, errlen) == -1)
		return -1;
	pbr_init(&r, p + 1, len - 1);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case AV_RSVPS:
			v = &a->rsvps;
			break;
		case AV_CIRCUITS:
			v = &a->circuits;
			break;
		case AV_IN:
			v = &a->bytes_in;
			break;
		case AV_OUT:
			v = &a->bytes_out;
			break;
		default:
			return errbuf(err, errlen, "unknown field %u", f.field);
		}
		if (f.wire != PB_VARINT || *v != 0 || f.v == 0)
			return errbuf(err, errlen, "bad field %u", f.field);
		*v = f.v;
	}
	if (rv == -1)
		return errbuf(err, errlen, "malformed fields");
	return 0;
}
