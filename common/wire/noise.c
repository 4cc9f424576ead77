/*
 * Noise_XX_25519_ChaChaPoly_SHA256, the libp2p noise handshake:
 *
 *	-> e
 *	<- e, ee, s, es
 *	-> s, se
 *
 * Each side performs exactly three X25519 operations here: making its
 * ephemeral key, ee, and the DH of its ephemeral with the remote static
 * key.  DH(s, re) comes from the key holder through
 * noise_hs_set_static_dh.
 */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "noise.h"

#define PROTOCOL_NAME	"Noise_XX_25519_ChaChaPoly_SHA256"
#define NONCELEN	crypto_aead_chacha20poly1305_ietf_NPUBBYTES
#define SLEN		(NOISE_KEYLEN + NOISE_TAGLEN)

#ifdef NOISE_COUNT_X25519
unsigned long	 noise_x25519_calls;
#define X25519_COUNTED()	noise_x25519_calls++
#else
#define X25519_COUNTED()	do { } while (0)
#endif

static const size_t overhead[3] = {
	NOISE_MSG1_LEN(0), NOISE_MSG2_LEN(0), NOISE_MSG3_LEN(0)
};

static int
x25519(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	X25519_COUNTED();
	/* libsodium refuses low-order points: the result would be zero. */
	return crypto_scalarmult(out, priv, pub);
}

static int
x25519_base(uint8_t pub[32], const uint8_t priv[32])
{
	X25519_COUNTED();
	return crypto_scalarmult_base(pub, priv);
}

static void
hmac(const uint8_t key[32], const uint8_t *data, size_t len,
    uint8_t out[32])
{
	crypto_auth_hmacsha256_state	 st;

	crypto_auth_hmacsha256_init(&st, key, NOISE_HASHLEN);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* o1 may be ck itself. */
static void
hkdf2(const uint8_t ck[32], const uint8_t *ikm, size_t len, uint8_t o1[32],
    uint8_t o2[32])
{
	uint8_t	 tk[NOISE_HASHLEN], buf[NOISE_HASHLEN + 1];

	hmac(ck, ikm, len, tk);
	buf[0] = 0x01;
	hmac(tk, buf, 1, o1);
	memcpy(buf, o1, NOISE_HASHLEN);
	buf[NOISE_HASHLEN] = 0x02;
	hmac(tk, buf, sizeof(buf), o2);
	sodium_memzero(tk, sizeof(tk));
	sodium_memzero(buf, sizeof(buf));
}

static void
mix_hash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state	 st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, hs->h, sizeof(hs->h));
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, hs->h);
}

static void
mix_key(struct noise_hs *hs, const uint8_t ikm[32])
{
	hkdf2(hs->ck, ikm, NOISE_KEYLEN, hs->ck, hs->cs.k);
	hs->cs.n = 0;
	hs->cs.has_key = 1;
}

static int
mix_dh(struct noise_hs *hs, const uint8_t pub[32])
{
	uint8_t	 dh[NOISE_KEYLEN];
	int	 r;

	if ((r = x25519(dh, hs->e_priv, pub)) == 0)
		mix_key(hs, dh);
	sodium_memzero(dh, sizeof(dh));
	return r == 0 ? 0 : -1;
}

static void
nonce(uint8_t out[NONCELEN], uint64_t n)
{
	size_t	 i;

	memset(out, 0, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (n >> (8 * i)) & 0xff;
}

/* The counter value 2^64 - 1 is reserved: it is never used as a nonce. */
static int
cs_encrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t	 iv[NONCELEN];

	if (!cs->has_key || cs->n == UINT64_MAX)
		return -1;
	nonce(iv, cs->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len, ad,
	    adlen, NULL, iv, cs->k);
	cs->n++;
	return 0;
}

static int
cs_decrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t	 iv[NONCELEN];

	if (!cs->has_key || cs->n == UINT64_MAX || len < NOISE_TAGLEN)
		return -1;
	nonce(iv, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len,
	    ad, adlen, iv, cs->k) != 0)
		return -1;
	cs->n++;
	return 0;
}

static int
encrypt_and_hash(struct noise_hs *hs, const uint8_t *pt, size_t len,
    uint8_t *out)
{
	if (hs->cs.has_key) {
		if (cs_encrypt(&hs->cs, hs->h, sizeof(hs->h), pt, len,
		    out) == -1)
			return -1;
		len += NOISE_TAGLEN;
	} else if (len > 0)
		memcpy(out, pt, len);
	mix_hash(hs, out, len);
	return 0;
}

static int
decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
    uint8_t *out)
{
	if (hs->cs.has_key) {
		if (cs_decrypt(&hs->cs, hs->h, sizeof(hs->h), ct, len,
		    out) == -1)
			return -1;
	} else if (len > 0)
		memcpy(out, ct, len);
	mix_hash(hs, ct, len);
	return 0;
}

static int
make_ephemeral(struct noise_hs *hs)
{
	if (hs->have_e)
		return 0;
	randombytes_buf(hs->e_priv, sizeof(hs->e_priv));
	if (x25519_base(hs->e_pub, hs->e_priv) == -1)
		return -1;
	hs->have_e = 1;
	return 0;
}

static void
use_static_dh(struct noise_hs *hs)
{
	mix_key(hs, hs->static_dh);
	sodium_memzero(hs->static_dh, sizeof(hs->static_dh));
	hs->have_static_dh = 0;
}

/* -> e */
static int
write_msg1(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out)
{
	if (make_ephemeral(hs) == -1)
		return -1;
	memcpy(out, hs->e_pub, NOISE_KEYLEN);
	mix_hash(hs, hs->e_pub, NOISE_KEYLEN);
	return encrypt_and_hash(hs, payload, plen, out + NOISE_KEYLEN);
}

/* <- e, ee, s, es */
static int
write_msg2(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out)
{
	if (make_ephemeral(hs) == -1)
		return -1;
	memcpy(out, hs->e_pub, NOISE_KEYLEN);
	mix_hash(hs, hs->e_pub, NOISE_KEYLEN);
	out += NOISE_KEYLEN;
	if (mix_dh(hs, hs->re) == -1 ||
	    encrypt_and_hash(hs, hs->s_pub, NOISE_KEYLEN, out) == -1)
		return -1;
	use_static_dh(hs);
	return encrypt_and_hash(hs, payload, plen, out + SLEN);
}

/* -> s, se */
static int
write_msg3(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out)
{
	if (encrypt_and_hash(hs, hs->s_pub, NOISE_KEYLEN, out) == -1)
		return -1;
	use_static_dh(hs);
	return encrypt_and_hash(hs, payload, plen, out + SLEN);
}

static int
read_msg1(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload)
{
	memcpy(hs->re, msg, NOISE_KEYLEN);
	/* Cheap early refusal; other low-order points fail at ee. */
	if (sodium_is_zero(hs->re, NOISE_KEYLEN))
		return -1;
	hs->have_re = 1;
	mix_hash(hs, hs->re, NOISE_KEYLEN);
	return decrypt_and_hash(hs, msg + NOISE_KEYLEN, len - NOISE_KEYLEN,
	    payload);
}

static int
read_msg2(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload)
{
	memcpy(hs->re, msg, NOISE_KEYLEN);
	hs->have_re = 1;
	mix_hash(hs, hs->re, NOISE_KEYLEN);
	msg += NOISE_KEYLEN;
	len -= NOISE_KEYLEN;
	if (mix_dh(hs, hs->re) == -1 ||
	    decrypt_and_hash(hs, msg, SLEN, hs->rs) == -1)
		return -1;
	hs->have_rs = 1;
	if (mix_dh(hs, hs->rs) == -1)
		return -1;
	sodium_memzero(hs->e_priv, sizeof(hs->e_priv));
	return decrypt_and_hash(hs, msg + SLEN, len - SLEN, payload);
}

static int
read_msg3(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload)
{
	if (decrypt_and_hash(hs, msg, SLEN, hs->rs) == -1)
		return -1;
	hs->have_rs = 1;
	if (mix_dh(hs, hs->rs) == -1)
		return -1;
	sodium_memzero(hs->e_priv, sizeof(hs->e_priv));
	return decrypt_and_hash(hs, msg + SLEN, len - SLEN, payload);
}

static int
our_turn(const struct noise_hs *hs)
{
	return hs->msg < 3 && (hs->msg % 2 == 0) == (hs->initiator != 0);
}

static void
fail(struct noise_hs *hs)
{
	noise_hs_clear(hs);
	hs->failed = 1;
}

void
noise_hs_init(struct noise_hs *hs, int initiator, const uint8_t s_pub[32],
    const uint8_t *prologue, size_t plen)
{
	memset(hs, 0, sizeof(*hs));
	/* The name is exactly HASHLEN bytes, so h is the name itself. */
	memcpy(hs->h, PROTOCOL_NAME, NOISE_HASHLEN);
	memcpy(hs->ck, hs->h, NOISE_HASHLEN);
	mix_hash(hs, prologue, plen);
	memcpy(hs->s_pub, s_pub, NOISE_KEYLEN);
	hs->initiator = initiator != 0;
}

void
noise_hs_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[32])
{
	memcpy(hs->e_priv, e_priv, NOISE_KEYLEN);
	hs->have_e = x25519_base(hs->e_pub, hs->e_priv) == 0;
}

const uint8_t *
noise_hs_remote_ephemeral(const struct noise_hs *hs)
{
	return hs->have_re ? hs->re : NULL;
}

const uint8_t *
noise_hs_remote_static(const struct noise_hs *hs)
{
	return hs->have_rs ? hs->rs : NULL;
}

void
noise_hs_set_static_dh(struct noise_hs *hs, const uint8_t dh[32])
{
	memcpy(hs->static_dh, dh, NOISE_KEYLEN);
	hs->have_static_dh = 1;
}

int
noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t outsz, size_t *outlen)
{
	static int	(*const step[3])(struct noise_hs *, const uint8_t *,
			    size_t, uint8_t *) = {
		write_msg1, write_msg2, write_msg3
	};
	size_t		 len;

	if (hs->failed || !our_turn(hs) || plen > NOISE_MAXMSG)
		return -1;
	len = overhead[hs->msg] + plen;
	if (len > NOISE_MAXMSG || len > outsz)
		return -1;
	if (hs->msg > 0 && !hs->have_static_dh)
		return -1;
	if (step[hs->msg](hs, payload, plen, out) == -1) {
		fail(hs);
		return -1;
	}
	hs->msg++;
	*outlen = len;
	return 0;
}

int
noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t psz, size_t *plen)
{
	static int	(*const step[3])(struct noise_hs *, const uint8_t *,
			    size_t, uint8_t *) = {
		read_msg1, read_msg2, read_msg3
	};

	if (hs->failed || hs->msg >= 3 || our_turn(hs))
		return -1;
	if (len > NOISE_MAXMSG || len < overhead[hs->msg] ||
	    len - overhead[hs->msg] > psz)
		return -1;
	if (step[hs->msg](hs, msg, len, payload) == -1) {
		fail(hs);
		return -1;
	}
	*plen = len - overhead[hs->msg];
	hs->msg++;
	return 0;
}

int
noise_hs_done(const struct noise_hs *hs)
{
	return !hs->failed && hs->msg == 3;
}

void
noise_hs_split(struct noise_hs *hs, struct noise_cs *send,
    struct noise_cs *recv)
{
	struct noise_cs	*c1, *c2;

	memset(send, 0, sizeof(*send));
	memset(recv, 0, sizeof(*recv));
	if (noise_hs_done(hs)) {
		c1 = hs->initiator ? send : recv;
		c2 = hs->initiator ? recv : send;
		hkdf2(hs->ck, NULL, 0, c1->k, c2->k);
		c1->has_key = c2->has_key = 1;
	}
	noise_hs_clear(hs);
}

void
noise_hs_hash(const struct noise_hs *hs, uint8_t h[32])
{
	memcpy(h, hs->h, NOISE_HASHLEN);
}

void
noise_hs_clear(struct noise_hs *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

int
noise_encrypt(struct noise_cs *cs, const uint8_t *pt, size_t len,
    uint8_t *out)
{
	if (len > NOISE_MAXMSG - NOISE_TAGLEN)
		return -1;
	return cs_encrypt(cs, NULL, 0, pt, len, out);
}

int
noise_decrypt(struct noise_cs *cs, const uint8_t *ct, size_t len,
    uint8_t *out)
{
	if (len > NOISE_MAXMSG)
		return -1;
	return cs_decrypt(cs, NULL, 0, ct, len, out);
}

void
noise_cs_clear(struct noise_cs *cs)
{
	sodium_memzero(cs, sizeof(*cs));
}
