/*
 * Noise_XX_25519_ChaChaPoly_SHA256: the handshake and transport against
 * the vectors in argv[1] (regress/vectors), then random handshakes and
 * every refusal.  The test plays keyd too: it holds both static private
 * keys and hands the engines DH(s, re).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noise.h"
#include "tap.h"

#define MAXVEC		8
#define MAXVMSG		8
#define MAXVLEN		512
#define HSBUF		256

#ifdef NOISE_COUNT_X25519
#define X25519_CALLS()	noise_x25519_calls
#else
#define X25519_CALLS()	0UL
#endif

struct vmsg {
	uint8_t		 pt[MAXVLEN];
	size_t		 ptlen;
	uint8_t		 ct[MAXVLEN];
	size_t		 ctlen;
};

struct vector {
	char		 name[64];
	uint8_t		 prologue[MAXVLEN];
	size_t		 plen;
	uint8_t		 init_s[32], init_e[32], resp_s[32], resp_e[32];
	uint8_t		 hash[32];
	int		 has_hash;
	struct vmsg	 msg[MAXVMSG];
	size_t		 nmsg;
};

struct peer {
	struct noise_hs	 hs;
	uint8_t		 s[32];
	uint8_t		 s_pub[32];
};

static struct vector	 vecs[MAXVEC];
static size_t		 nvecs;
static uint8_t		 big[NOISE_MAXMSG + 1], big2[NOISE_MAXMSG + 1];

static int
unhex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t	 sl = strlen(s);

	*len = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (sodium_hex2bin(out, max, s, sl, NULL, len, NULL) != 0 ||
	    *len * 2 != sl)
		return -1;
	return 0;
}

static int
unhex32(const char *s, uint8_t out[32])
{
	size_t	 n;

	return unhex(s, out, 32, &n) == 0 && n == 32 ? 0 : -1;
}

static int
vec_field(struct vector *v, const char *key, const char *a, const char *b)
{
	struct vmsg	*m;

	if (a == NULL)
		return -1;
	if (strcmp(key, "prologue") == 0)
		return unhex(a, v->prologue, sizeof(v->prologue), &v->plen);
	if (strcmp(key, "init_static") == 0)
		return unhex32(a, v->init_s);
	if (strcmp(key, "init_ephemeral") == 0)
		return unhex32(a, v->init_e);
	if (strcmp(key, "resp_static") == 0)
		return unhex32(a, v->resp_s);
	if (strcmp(key, "resp_ephemeral") == 0)
		return unhex32(a, v->resp_e);
	if (strcmp(key, "handshake_hash") == 0) {
		v->has_hash = 1;
		return unhex32(a, v->hash);
	}
	if (strcmp(key, "msg") != 0 || b == NULL || v->nmsg == MAXVMSG)
		return -1;
	m = &v->msg[v->nmsg++];
	if (unhex(a, m->pt, sizeof(m->pt), &m->ptlen) == -1 ||
	    unhex(b, m->ct, sizeof(m->ct), &m->ctlen) == -1)
		return -1;
	return 0;
}

static int
load_vectors(const char *path)
{
	FILE		*fp;
	struct vector	*v = NULL;
	char		*line = NULL, *key, *a, *b;
	size_t		 cap = 0;
	int		 rv = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (rv == 0 && getline(&line, &cap, fp) != -1) {
		key = strtok(line, " \t\r\n");
		if (key == NULL || key[0] == '#')
			continue;
		a = strtok(NULL, " \t\r\n");
		b = strtok(NULL, " \t\r\n");
		if (strcmp(key, "vector") == 0) {
			if (v != NULL || nvecs == MAXVEC || a == NULL)
				rv = -1;
			else {
				v = &vecs[nvecs];
				strlcpy(v->name, a, sizeof(v->name));
			}
		} else if (v == NULL)
			rv = -1;
		else if (strcmp(key, "end") == 0) {
			nvecs++;
			v = NULL;
		} else
			rv = vec_field(v, key, a, b);
	}
	free(line);
	fclose(fp);
	return rv == 0 && v == NULL ? 0 : -1;
}

static void
peer_init(struct peer *p, int initiator, const uint8_t *s, const uint8_t *e,
    const uint8_t *prologue, size_t plen)
{
	if (s != NULL)
		memcpy(p->s, s, 32);
	else
		randombytes_buf(p->s, sizeof(p->s));
	crypto_scalarmult_base(p->s_pub, p->s);
	noise_hs_init(&p->hs, initiator, p->s_pub, prologue, plen);
	if (e != NULL)
		noise_hs_set_ephemeral(&p->hs, e);
}

static void
pair_init(struct peer *i, struct peer *r)
{
	peer_init(i, 1, NULL, NULL, NULL, 0);
	peer_init(r, 0, NULL, NULL, NULL, 0);
}

/* keyd's part: DH(s, re). */
static int
keyd_dh(struct peer *p)
{
	const uint8_t	*re;
	uint8_t		 dh[32];

	if ((re = noise_hs_remote_ephemeral(&p->hs)) == NULL ||
	    crypto_scalarmult(dh, p->s, re) != 0)
		return -1;
	noise_hs_set_static_dh(&p->hs, dh);
	sodium_memzero(dh, sizeof(dh));
	return 0;
}

static int
send_msg(struct peer *p, const uint8_t *pl, size_t plen, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	if (p->hs.msg > 0 && keyd_dh(p) == -1)
		return -1;
	return noise_hs_write(&p->hs, pl, plen, out, outsz, outlen);
}

/* Handshake message number n (1 to 3) from the side whose turn it is. */
static int
xfer(struct peer *i, struct peer *r, int n, uint8_t *buf, size_t *len)
{
	struct peer	*from = n == 2 ? r : i, *to = n == 2 ? i : r;
	uint8_t		 pl[64];
	size_t		 plen;

	if (send_msg(from, (const uint8_t *)"payload", 7, buf, HSBUF,
	    len) == -1)
		return -1;
	return noise_hs_read(&to->hs, buf, *len, pl, sizeof(pl), &plen);
}

/* A fresh pair with messages 1 to n-1 done; message n written. */
static int
prepare(struct peer *i, struct peer *r, int n, uint8_t *buf, size_t *len)
{
	int	 k;

	pair_init(i, r);
	for (k = 1; k < n; k++)
		if (xfer(i, r, k, buf, len) == -1)
			return -1;
	return send_msg(n == 2 ? r : i, (const uint8_t *)"payload", 7, buf,
	    HSBUF, len);
}

static int
hs_zero(const struct noise_hs *hs)
{
	return sodium_is_zero((const unsigned char *)hs, sizeof(*hs));
}

static void
run_transport(const struct vector *v, struct noise_cs *is, struct noise_cs *ir,
    struct noise_cs *rs, struct noise_cs *rr)
{
	const struct vmsg	*m;
	struct noise_cs		*send, *recv;
	uint8_t			 buf[MAXVLEN + NOISE_TAGLEN], pt[MAXVLEN];
	size_t			 k;

	for (k = 3; k < v->nmsg; k++) {
		m = &v->msg[k];
		send = k % 2 == 0 ? is : rs;
		recv = k % 2 == 0 ? rr : ir;
		ok(noise_encrypt(send, m->pt, m->ptlen, buf) == 0 &&
		    m->ptlen + NOISE_TAGLEN == m->ctlen &&
		    memcmp(buf, m->ct, m->ctlen) == 0,
		    "%s: transport message %zu ciphertext", v->name, k + 1);
		ok(m->ctlen >= NOISE_TAGLEN &&
		    noise_decrypt(recv, m->ct, m->ctlen, pt) == 0 &&
		    memcmp(pt, m->pt, m->ptlen) == 0,
		    "%s: transport message %zu decrypts", v->name, k + 1);
	}
}

static void
run_vector(const struct vector *v)
{
	struct peer		 i, r, *from, *to;
	struct noise_cs		 is, ir, rs, rr;
	const struct vmsg	*m;
	const uint8_t		*rstat;
	uint8_t			 buf[MAXVLEN], pl[MAXVLEN], hi[32], hr[32];
	size_t			 k, len, n;

	peer_init(&i, 1, v->init_s, v->init_e, v->prologue, v->plen);
	peer_init(&r, 0, v->resp_s, v->resp_e, v->prologue, v->plen);
	for (k = 0; k < 3 && k < v->nmsg; k++) {
		from = k == 1 ? &r : &i;
		to = k == 1 ? &i : &r;
		m = &v->msg[k];
		ok(send_msg(from, m->pt, m->ptlen, buf, sizeof(buf), &len) == 0 &&
		    len == m->ctlen && memcmp(buf, m->ct, len) == 0,
		    "%s: handshake message %zu ciphertext", v->name, k + 1);
		ok(noise_hs_read(&to->hs, m->ct, m->ctlen, pl, sizeof(pl),
		    &n) == 0 && n == m->ptlen && memcmp(pl, m->pt, n) == 0,
		    "%s: handshake message %zu payload", v->name, k + 1);
	}
	ok(noise_hs_done(&i.hs) && noise_hs_done(&r.hs),
	    "%s: both sides done", v->name);
	rstat = noise_hs_remote_static(&i.hs);
	ok(rstat != NULL && memcmp(rstat, r.s_pub, 32) == 0,
	    "%s: initiator learnt the responder's static key", v->name);
	rstat = noise_hs_remote_static(&r.hs);
	ok(rstat != NULL && memcmp(rstat, i.s_pub, 32) == 0,
	    "%s: responder learnt the initiator's static key", v->name);
	noise_hs_hash(&i.hs, hi);
	noise_hs_hash(&r.hs, hr);
	ok(memcmp(hi, hr, 32) == 0 && (!v->has_hash ||
	    memcmp(hi, v->hash, 32) == 0), "%s: handshake hash %s", v->name,
	    v->has_hash ? "matches the vector" : "agrees");
	noise_hs_split(&i.hs, &is, &ir);
	noise_hs_split(&r.hs, &rs, &rr);
	ok(hs_zero(&i.hs) && hs_zero(&r.hs), "%s: split wipes the handshake",
	    v->name);
	run_transport(v, &is, &ir, &rs, &rr);
}

/* Random lengths, random data, every other one in place. */
static int
transport_ok(struct noise_cs *send, struct noise_cs *recv, int k)
{
	size_t	 len = randombytes_uniform(2048);

	randombytes_buf(big, len);
	memcpy(big2, big, len);
	if (k % 2 == 0) {
		if (noise_encrypt(send, big2, len, big2) == -1 ||
		    noise_decrypt(recv, big2, len + NOISE_TAGLEN, big2) == -1)
			return 0;
		return memcmp(big, big2, len) == 0;
	}
	if (noise_encrypt(send, big, len, big2) == -1 ||
	    noise_decrypt(recv, big2, len + NOISE_TAGLEN, big2) == -1)
		return 0;
	return memcmp(big, big2, len) == 0;
}

static void
test_random(void)
{
	struct peer	 i, r;
	struct noise_cs	 is, ir, rs, rr;
	uint8_t		 buf[HSBUF], hi[32], hr[32];
	size_t		 len;
	unsigned long	 c, ci = 0, cr = 0;
	int		 k, good = 1, a2b = 0, b2a = 0;

	pair_init(&i, &r);
	for (k = 1; k <= 3; k++) {
		c = X25519_CALLS();
		good &= send_msg(k == 2 ? &r : &i, (const uint8_t *)"x", 1, buf,
		    sizeof(buf), &len) == 0;
		*(k == 2 ? &cr : &ci) += X25519_CALLS() - c;
		c = X25519_CALLS();
		good &= noise_hs_read(k == 2 ? &i.hs : &r.hs, buf, len, hi,
		    sizeof(hi), &len) == 0 && len == 1 && hi[0] == 'x';
		*(k == 2 ? &ci : &cr) += X25519_CALLS() - c;
	}
	ok(good && noise_hs_done(&i.hs) && noise_hs_done(&r.hs),
	    "random keys, empty prologue: handshake completes");
#ifdef NOISE_COUNT_X25519
	ok(ci == 3 && cr == 3, "three X25519 operations per side (%lu, %lu)",
	    ci, cr);
#else
	/* counted by the noise-count build of this test */
	(void)ci;
	(void)cr;
#endif
	ok(good && memcmp(noise_hs_remote_static(&i.hs), r.s_pub, 32) == 0 &&
	    memcmp(noise_hs_remote_static(&r.hs), i.s_pub, 32) == 0,
	    "random keys: static keys learnt");
	noise_hs_hash(&i.hs, hi);
	noise_hs_hash(&r.hs, hr);
	ok(memcmp(hi, hr, 32) == 0, "random keys: handshake hashes agree");
	noise_hs_split(&i.hs, &is, &ir);
	noise_hs_split(&r.hs, &rs, &rr);
	for (k = 0; k < 1000; k++) {
		a2b += transport_ok(&is, &rr, k);
		b2a += transport_ok(&rs, &ir, k);
	}
	ok(a2b == 1000 && is.n == 1000 && rr.n == 1000,
	    "1000 transport messages initiator to responder");
	ok(b2a == 1000 && rs.n == 1000 && ir.n == 1000,
	    "1000 transport messages responder to initiator");
	noise_cs_clear(&is);
	ok(sodium_is_zero((unsigned char *)&is, sizeof(is)),
	    "noise_cs_clear wipes");
}

/* Every single-bit flip of handshake message n is refused. */
static void
test_tamper(int n)
{
	struct peer	 i, r;
	uint8_t		 buf[HSBUF], pl[64];
	size_t		 len, plen, byte;
	int		 bit, refused = 0, total = 0;

	for (byte = 0; ; byte++) {
		for (bit = 0; bit < 8; bit++) {
			if (prepare(&i, &r, n, buf, &len) == -1)
				break;
			if (byte >= len)
				break;
			buf[byte] ^= 1 << bit;
			total++;
			refused += noise_hs_read(n == 2 ? &i.hs : &r.hs, buf,
			    len, pl, sizeof(pl), &plen) == -1;
		}
		if (bit < 8)
			break;
	}
	ok(total > 0 && refused == total, "message %d: all %d one-bit flips "
	    "refused", n, total);
}

/* Every truncation of message n, and one byte too many, is refused. */
static void
test_truncate(int n)
{
	struct peer	 i, r;
	struct noise_hs	*to;
	uint8_t		 buf[HSBUF], pl[64];
	size_t		 len, cut, plen;
	int		 refused = 0, total = 0;

	for (cut = 1; ; cut++) {
		if (prepare(&i, &r, n, buf, &len) == -1 || cut > len)
			break;
		to = n == 2 ? &i.hs : &r.hs;
		total++;
		refused += noise_hs_read(to, buf, len - cut, pl, sizeof(pl),
		    &plen) == -1;
	}
	ok(total > 0 && refused == total, "message %d: all %d truncations "
	    "refused", n, total);
	prepare(&i, &r, n, buf, &len);
	buf[len] = 0;
	ok(noise_hs_read(n == 2 ? &i.hs : &r.hs, buf, len + 1, pl, sizeof(pl),
	    &plen) == -1, "message %d: trailing byte refused", n);
}

static void
test_msg1_unauthenticated(void)
{
	struct peer	 i, r;
	uint8_t		 buf[HSBUF], pl[64];
	size_t		 len, plen;

	prepare(&i, &r, 1, buf, &len);
	ok(noise_hs_read(&r.hs, buf, 31, pl, sizeof(pl), &plen) == -1,
	    "message 1 shorter than a key refused");
	ok(noise_hs_read(&r.hs, buf, len - 1, pl, sizeof(pl), &plen) == 0 &&
	    send_msg(&r, NULL, 0, buf, sizeof(buf), &len) == 0 &&
	    noise_hs_read(&i.hs, buf, len, pl, sizeof(pl), &plen) == -1,
	    "message 1 cut in its payload: caught by the initiator at 2");
}

static void
test_poison(void)
{
	struct peer	 i, r;
	uint8_t		 buf[HSBUF], good[HSBUF], pl[64];
	size_t		 len, plen;

	prepare(&i, &r, 2, buf, &len);
	memcpy(good, buf, len);
	buf[40] ^= 1;
	ok(noise_hs_read(&i.hs, buf, len, pl, sizeof(pl), &plen) == -1 &&
	    noise_hs_read(&i.hs, good, len, pl, sizeof(pl), &plen) == -1 &&
	    !noise_hs_done(&i.hs),
	    "after a MAC failure the genuine message is refused too");
}

static void
test_order(void)
{
	struct peer	 i, r;
	uint8_t		 buf[HSBUF], pl[64];
	size_t		 len, len1, plen;

	pair_init(&i, &r);
	memset(buf, 9, sizeof(buf));
	ok(noise_hs_write(&r.hs, NULL, 0, buf, sizeof(buf), &len) == -1,
	    "responder cannot write first");
	ok(noise_hs_read(&i.hs, buf, 32, pl, sizeof(pl), &plen) == -1,
	    "initiator cannot read first");
	ok(noise_hs_remote_ephemeral(&r.hs) == NULL &&
	    noise_hs_remote_static(&i.hs) == NULL,
	    "no remote keys before reading");
	ok(noise_hs_write(&i.hs, NULL, 0, buf, 31, &len) == -1,
	    "message 1 into a short buffer refused");
	ok(noise_hs_write(&i.hs, NULL, 0, buf, sizeof(buf), &len1) == 0 &&
	    len1 == NOISE_MSG1_LEN(0), "message 1 written after refusals");
	ok(noise_hs_write(&i.hs, NULL, 0, pl, sizeof(pl), &len) == -1,
	    "initiator cannot write twice");
	ok(noise_hs_read(&r.hs, buf, len1, pl, sizeof(pl), &plen) == 0 &&
	    noise_hs_remote_ephemeral(&r.hs) != NULL,
	    "responder knows re after message 1");
	ok(noise_hs_read(&r.hs, buf, len1, pl, sizeof(pl), &plen) == -1,
	    "responder cannot read twice");
	ok(noise_hs_write(&r.hs, NULL, 0, buf, sizeof(buf), &len) == -1,
	    "message 2 without the static DH refused");
	keyd_dh(&r);
	ok(noise_hs_write(&r.hs, NULL, 0, buf, NOISE_MSG2_LEN(0) - 1,
	    &len) == -1, "message 2 into a short buffer refused");
	ok(noise_hs_write(&r.hs, NULL, 0, buf, sizeof(buf), &len) == 0 &&
	    len == NOISE_MSG2_LEN(0), "message 2 written once the DH is set");
	ok(noise_hs_read(&i.hs, buf, len, pl, 0, &plen) == 0 &&
	    noise_hs_remote_static(&i.hs) != NULL &&
	    noise_hs_remote_ephemeral(&i.hs) != NULL,
	    "initiator knows re and rs after message 2");
	ok(noise_hs_write(&i.hs, NULL, 0, buf, sizeof(buf), &len) == -1,
	    "message 3 without the static DH refused");
	ok(noise_hs_remote_static(&r.hs) == NULL,
	    "responder has no rs before message 3");
	ok(send_msg(&i, NULL, 0, buf, sizeof(buf), &len) == 0 &&
	    len == NOISE_MSG3_LEN(0) &&
	    noise_hs_read(&r.hs, buf, len, pl, sizeof(pl), &plen) == 0 &&
	    noise_hs_done(&i.hs) && noise_hs_done(&r.hs),
	    "message 3 completes the handshake");
	ok(noise_hs_write(&i.hs, NULL, 0, buf, sizeof(buf), &len) == -1 &&
	    noise_hs_write(&r.hs, NULL, 0, buf, sizeof(buf), &len) == -1 &&
	    noise_hs_read(&r.hs, buf, len, pl, sizeof(pl), &plen) == -1,
	    "no writing or reading after the handshake");
	noise_hs_clear(&i.hs);
	ok(hs_zero(&i.hs), "noise_hs_clear wipes");
}

static void
test_sizes(void)
{
	struct peer	 i, r;
	uint8_t		 pl[8];
	size_t		 len, plen;

	pair_init(&i, &r);
	ok(noise_hs_write(&i.hs, big, NOISE_MAXMSG - 31, big2, sizeof(big2),
	    &len) == -1, "handshake message over 65535 bytes refused");
	ok(noise_hs_write(&i.hs, big, NOISE_MAXMSG - 32, big2, sizeof(big2),
	    &len) == 0 && len == NOISE_MAXMSG,
	    "handshake message of exactly 65535 bytes");
	ok(noise_hs_read(&r.hs, big2, len, pl, sizeof(pl), &plen) == -1,
	    "payload buffer too small refused");
	ok(noise_hs_read(&r.hs, big2, len + 1, big, sizeof(big), &plen) == -1,
	    "message over 65535 bytes refused");
	ok(noise_hs_read(&r.hs, big2, len, big, sizeof(big), &plen) == 0 &&
	    plen == NOISE_MAXMSG - 32, "maximal message 1 read");
}

static void
handshake_pair(struct noise_cs *is, struct noise_cs *ir, struct noise_cs *rs,
    struct noise_cs *rr)
{
	struct peer	 i, r;
	uint8_t		 buf[HSBUF];
	size_t		 len;
	int		 k;

	pair_init(&i, &r);
	for (k = 1; k <= 3; k++)
		xfer(&i, &r, k, buf, &len);
	noise_hs_split(&i.hs, is, ir);
	noise_hs_split(&r.hs, rs, rr);
}

static void
test_transport_refusals(void)
{
	struct noise_cs	 is, ir, rs, rr;
	struct peer	 i, r;
	uint8_t		 ct[64], bad[64], pt[64];
	uint64_t	 n;

	handshake_pair(&is, &ir, &rs, &rr);
	noise_encrypt(&is, (const uint8_t *)"hello", 5, ct);
	memcpy(bad, ct, sizeof(ct));
	bad[2] ^= 0x10;
	n = rr.n;
	ok(noise_decrypt(&rr, bad, 5 + NOISE_TAGLEN, pt) == -1 && rr.n == n,
	    "tampered transport frame refused, nonce kept");
	ok(noise_decrypt(&rr, ct, NOISE_TAGLEN - 1, pt) == -1 && rr.n == n,
	    "transport frame shorter than a tag refused");
	ok(noise_decrypt(&rr, ct, 5 + NOISE_TAGLEN, pt) == 0 &&
	    memcmp(pt, "hello", 5) == 0 && rr.n == n + 1,
	    "genuine frame decrypts after the refusal");
	ok(noise_decrypt(&rr, ct, 5 + NOISE_TAGLEN, pt) == -1,
	    "replayed frame refused");
	ok(noise_encrypt(&is, big, NOISE_MAXMSG - NOISE_TAGLEN + 1,
	    big2) == -1, "transport frame over 65535 bytes refused");
	ok(noise_encrypt(&is, big, NOISE_MAXMSG - NOISE_TAGLEN, big2) == 0,
	    "transport frame of exactly 65535 bytes");
	is.n = rr.n = UINT64_MAX - 1;
	ok(noise_encrypt(&is, pt, 3, ct) == 0 &&
	    noise_decrypt(&rr, ct, 3 + NOISE_TAGLEN, pt) == 0,
	    "nonce 2^64-2 is the last one used");
	ok(noise_encrypt(&is, pt, 3, ct) == -1 && is.n == UINT64_MAX &&
	    noise_decrypt(&rr, ct, 3 + NOISE_TAGLEN, pt) == -1,
	    "nonce 2^64-1 is never used");
	pair_init(&i, &r);
	noise_hs_split(&i.hs, &is, &ir);
	ok(!is.has_key && noise_encrypt(&is, pt, 3, ct) == -1,
	    "split before the end gives no keys");
}

static void
test_low_order(void)
{
	static const uint8_t one[32] = { 1 };
	struct peer	 i, r;
	uint8_t		 buf[HSBUF], pl[64], dh[32];
	size_t		 len, plen;

	prepare(&i, &r, 1, buf, &len);
	memset(buf, 0, 32);
	ok(noise_hs_read(&r.hs, buf, len, pl, sizeof(pl), &plen) == -1,
	    "all-zero remote ephemeral refused on message 1");
	prepare(&i, &r, 1, buf, &len);
	memcpy(buf, one, 32);
	memset(dh, 7, sizeof(dh));
	noise_hs_read(&r.hs, buf, len, pl, sizeof(pl), &plen);
	noise_hs_set_static_dh(&r.hs, dh);
	ok(noise_hs_write(&r.hs, NULL, 0, buf, sizeof(buf), &len) == -1,
	    "low-order remote ephemeral (u = 1) refused at ee");
	prepare(&i, &r, 2, buf, &len);
	memset(buf, 0, 32);
	ok(noise_hs_read(&i.hs, buf, len, pl, sizeof(pl), &plen) == -1,
	    "all-zero remote ephemeral refused on message 2");
	/*
	 * A responder claiming the all-zero static key, with the all-zero
	 * DH an unchecking initiator would also compute: only the es check
	 * can refuse it.
	 */
	pair_init(&i, &r);
	memset(r.s_pub, 0, sizeof(r.s_pub));
	noise_hs_init(&r.hs, 0, r.s_pub, NULL, 0);
	xfer(&i, &r, 1, buf, &len);
	memset(dh, 0, sizeof(dh));
	noise_hs_set_static_dh(&r.hs, dh);
	ok(noise_hs_write(&r.hs, NULL, 0, buf, sizeof(buf), &len) == 0 &&
	    noise_hs_read(&i.hs, buf, len, pl, sizeof(pl), &plen) == -1,
	    "all-zero remote static refused at es");
}

int
main(int argc, char *argv[])
{
	size_t	 k;
	int	 loaded;

	if (sodium_init() == -1) {
		ok(0, "sodium_init");
		return tap_done();
	}
	loaded = argc > 1 && load_vectors(argv[1]) == 0;
	ok(loaded && nvecs > 0, "%zu vectors loaded from %s", nvecs,
	    argc > 1 ? argv[1] : "(no file given)");
	for (k = 0; k < nvecs; k++)
		run_vector(&vecs[k]);
	test_random();
	test_tamper(2);
	test_tamper(3);
	test_truncate(2);
	test_truncate(3);
	test_msg1_unauthenticated();
	test_poison();
	test_order();
	test_sizes();
	test_transport_refusals();
	test_low_order();
	return tap_done();
}
