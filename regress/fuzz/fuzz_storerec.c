/*
 * The store's records: what decodes must encode, decode again to the
 * same record and encode again to the same bytes; keys must encode to
 * the bytes they came from.  Decoded peer records are merged into each
 * other and the result must still be a record the decoder takes.
 *
 * The input is read whole as each kind of key and value.  For the
 * merge it is also read as a kind byte, a length n, a record of n
 * bytes and the update that makes up the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storerec.h"
#include "storerec_equal.h"

#define ENC_MAX		(REC_MAXLEN + 64)

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The index of the address in r, or -1. */
static int
addr_index(const struct peer_rec *r, const struct prec_addr *a)
{
	size_t	 i;

	for (i = 0; i < r->naddrs; i++)
		if (r->addrs[i].len == a->len &&
		    memcmp(r->addrs[i].b, a->b, a->len) == 0)
			return (int)i;
	return -1;
}

static int
addrs_distinct(const struct peer_rec *r)
{
	size_t	 i;

	for (i = 0; i < r->naddrs; i++)
		if (addr_index(r, &r->addrs[i]) != (int)i)
			return 0;
	return 1;
}

/* What any record the decoder returns must be. */
static void
prec_valid(const struct peer_rec *r)
{
	size_t	 i;

	if ((r->sources & ~(uint32_t)SRC_ALL) != 0 ||
	    r->fails > PREC_MAXFAILS || r->naddrs > PREC_MAXADDRS ||
	    r->nprotos > PREC_MAXPROTOS ||
	    memchr(r->agent, '\0', sizeof(r->agent)) == NULL ||
	    r->first_seen < 0 || r->last_seen < 0 || r->last_ok < 0 ||
	    r->last_fail < 0)
		abort();
	for (i = 0; i < r->nprotos; i++)
		if (r->protos[i][0] == '\0' ||
		    memchr(r->protos[i], '\0', sizeof(r->protos[i])) == NULL)
			abort();
	for (i = 0; i < r->naddrs; i++)
		if (r->addrs[i].len == 0 || r->addrs[i].len > PREC_ADDRMAX ||
		    r->addrs[i].last_ok < 0 || r->addrs[i].last_fail < 0)
			abort();
}

/* r encodes, decodes to r and encodes to the same bytes, in just as
 * many and in no fewer. */
static void
prec_roundtrip(const struct peer_rec *r)
{
	static struct peer_rec	 r2;
	static uint8_t		 enc[ENC_MAX], enc2[ENC_MAX];
	size_t			 len, len2;

	prec_valid(r);
	if (peer_rec_encode(r, enc, sizeof(enc), &len) == -1 ||
	    len > REC_MAXLEN || enc[0] != REC_VERSION ||
	    peer_rec_decode(enc, len, &r2, NULL, 0) == -1 ||
	    !prec_same(r, &r2) ||
	    peer_rec_encode(&r2, enc2, len, &len2) == -1 ||
	    len2 != len || memcmp(enc, enc2, len) != 0 ||
	    peer_rec_encode(&r2, enc2, len - 1, &len2) != -1)
		abort();
}

/* Fold u into a copy of r and check what the merge promises. */
static void
fuzz_merge(const struct peer_rec *r, const struct peer_rec *u, int kind,
    int64_t now)
{
	static struct peer_rec	 m;
	const struct prec_addr	*last;
	int			 i;

	m = *r;
	peer_rec_merge(&m, u, kind, now);
	if (m.sources != (r->sources | (u->sources & SRC_ALL)) ||
	    m.first_seen != (r->first_seen != 0 ? r->first_seen : now) ||
	    m.naddrs > PREC_MAXADDRS || m.naddrs < r->naddrs)
		abort();
	switch (kind) {
	case UPD_CONNECTED:
		if (m.last_seen != now || m.last_ok != now || m.fails != 0 ||
		    m.last_fail != r->last_fail)
			abort();
		break;
	case UPD_IDENTIFIED:
		if (m.last_seen != now || m.last_ok != r->last_ok ||
		    m.fails != r->fails ||
		    strcmp(m.agent, u->agent[0] != '\0' ? u->agent :
		    r->agent) != 0 ||
		    m.nprotos != (u->nprotos > 0 ? u->nprotos : r->nprotos))
			abort();
		break;
	case UPD_DIAL_FAILED:
		if (m.last_fail != now || m.last_ok != r->last_ok ||
		    m.fails != (r->fails < PREC_MAXFAILS ? r->fails + 1 :
		    r->fails))
			abort();
		break;
	default:
		if (m.last_seen != r->last_seen || m.last_ok != r->last_ok ||
		    m.last_fail != r->last_fail || m.fails != r->fails ||
		    strcmp(m.agent, r->agent) != 0 || m.nprotos != r->nprotos)
			abort();
		break;
	}
	/* the update's last address is there, marked as the kind says */
	if (u->naddrs > 0) {
		last = &u->addrs[u->naddrs - 1];
		if ((i = addr_index(&m, last)) == -1 ||
		    (kind == UPD_CONNECTED && m.addrs[i].last_ok != now) ||
		    (kind == UPD_DIAL_FAILED && m.addrs[i].last_fail != now))
			abort();
	}
	if (addrs_distinct(r) && addrs_distinct(u) && !addrs_distinct(&m))
		abort();
	prec_roundtrip(&m);
}

static int
fuzz_peer(const uint8_t *data, size_t size, struct peer_rec *r)
{
	if (peer_rec_decode(data, size, r, NULL, 0) == -1)
		return -1;
	prec_roundtrip(r);
	return 0;
}

static void
fuzz_merges(const uint8_t *data, size_t size)
{
	static struct peer_rec	 r, u, empty;
	size_t			 n;
	int			 kind;

	/* the whole input into itself and into a new record */
	if (fuzz_peer(data, size, &r) == 0) {
		memset(&empty, 0, sizeof(empty));
		for (kind = 0; kind <= UPD_DISCOVERED + 1; kind++) {
			fuzz_merge(&r, &r, kind, 1700000000);
			fuzz_merge(&empty, &r, kind, 1);
		}
	}
	/* kind, n, a record of n bytes, an update */
	if (size < 2)
		return;
	kind = data[0] % (UPD_DISCOVERED + 2);
	n = data[1];
	if (n > size - 2 || fuzz_peer(data + 2, n, &r) == -1 ||
	    fuzz_peer(data + 2 + n, size - 2 - n, &u) == -1)
		return;
	fuzz_merge(&r, &u, kind, 1 + (int64_t)data[0] * 1000);
	fuzz_merge(&u, &r, kind, INT64_MAX);
}

static void
fuzz_ban_key(const uint8_t *data, size_t size)
{
	struct ban	 b, b2, p;
	uint8_t		 k[BAN_KEYMAX];
	char		 s[BAN_TARGETLEN];
	size_t		 len;

	if (ban_key_decode(data, size, &b) == -1)
		return;
	if ((b.kind != BAN_PEER && b.kind != BAN_NET) ||
	    ban_key_encode(&b, k, &len) == -1 || len != size ||
	    memcmp(k, data, size) != 0 ||
	    ban_key_decode(k, len, &b2) == -1 || b2.kind != b.kind ||
	    !ban_same(&b, &b2))
		abort();
	if (b.kind == BAN_NET && (b.prefix < 0 || b.prefix > 128 ||
	    !ban_match_ip(&b, b.ip) || !ban_same(&b, &b2) ||
	    memcmp(b.ip, b2.ip, sizeof(b.ip)) != 0))
		abort();
	if (b.kind == BAN_PEER && (!peerid_equal(&b.peer, &b2.peer) ||
	    ban_match_ip(&b, b.ip)))
		abort();
	/* what a user is shown reads back as the same ban */
	ban_format(&b, s, sizeof(s));
	if (ban_parse(s, &p, NULL, 0) == -1 || !ban_same(&b, &p))
		abort();
}

/* A block target as a control client sends it: any text. */
static void
fuzz_ban_text(const uint8_t *data, size_t size)
{
	struct ban	 b, p;
	char		 in[BAN_TARGETLEN], s[BAN_TARGETLEN];
	uint8_t		 ip[16];

	if (size >= sizeof(in))
		return;
	memcpy(in, data, size);
	in[size] = '\0';
	if (ban_parse(in, &b, s, sizeof(s)) == -1)
		return;
	if (b.kind == BAN_NET) {
		if (b.prefix < 0 || b.prefix > 128)
			abort();
		memcpy(ip, b.ip, sizeof(ip));
		if (!ban_match_ip(&b, ip))
			abort();
	} else if (b.kind != BAN_PEER)
		abort();
	ban_format(&b, s, sizeof(s));
	if (ban_parse(s, &p, NULL, 0) == -1 || !ban_same(&b, &p))
		abort();
}

static void
fuzz_ban_val(const uint8_t *data, size_t size)
{
	static uint8_t	 enc[ENC_MAX], enc2[ENC_MAX];
	struct ban	 b, b2;
	size_t		 len, len2;

	memset(&b, 0, sizeof(b));
	if (ban_val_decode(data, size, &b, NULL, 0) == -1)
		return;
	memset(&b2, 0, sizeof(b2));
	if (b.until < 0 || b.created < 0 ||
	    memchr(b.reason, '\0', sizeof(b.reason)) == NULL ||
	    ban_val_encode(&b, enc, sizeof(enc), &len) == -1 ||
	    ban_val_decode(enc, len, &b2, NULL, 0) == -1 ||
	    b2.until != b.until || b2.created != b.created ||
	    strcmp(b2.reason, b.reason) != 0 ||
	    ban_val_encode(&b2, enc2, len, &len2) == -1 || len2 != len ||
	    memcmp(enc, enc2, len) != 0 ||
	    ban_val_encode(&b2, enc2, len - 1, &len2) != -1)
		abort();
}

static void
fuzz_acct(const uint8_t *data, size_t size)
{
	static uint8_t	 enc[ENC_MAX], enc2[ENC_MAX];
	struct acct_rec	 a, a2;
	uint8_t		 k[ACCT_KEYMAX];
	size_t		 len, len2;

	if (acct_key_decode(data, size, &a) == 0 &&
	    (acct_key_encode(a.day, &a.peer, k, &len) == -1 ||
	    len != size || memcmp(k, data, size) != 0 ||
	    acct_key_decode(k, len, &a2) == -1 || a2.day != a.day ||
	    !peerid_equal(&a.peer, &a2.peer)))
		abort();

	memset(&a, 0, sizeof(a));
	if (acct_val_decode(data, size, &a, NULL, 0) == -1)
		return;
	memset(&a2, 0, sizeof(a2));
	if (acct_val_encode(&a, enc, sizeof(enc), &len) == -1 ||
	    acct_val_decode(enc, len, &a2, NULL, 0) == -1 ||
	    a2.rsvps != a.rsvps || a2.circuits != a.circuits ||
	    a2.bytes_in != a.bytes_in || a2.bytes_out != a.bytes_out ||
	    acct_val_encode(&a2, enc2, len, &len2) == -1 || len2 != len ||
	    memcmp(enc, enc2, len) != 0 ||
	    acct_val_encode(&a2, enc2, len - 1, &len2) != -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peerid	 id;

	fuzz_merges(data, size);
	fuzz_ban_key(data, size);
	fuzz_ban_text(data, size);
	fuzz_ban_val(data, size);
	fuzz_acct(data, size);
	peer_key_check(data, size, &id);
	return 0;
}
