/*
 * peerbench -B: this machine's crypto bounds on one core, with the
 * primitives peerd uses (libsodium), and the Noise XX responder bound
 * they give: the engine does 3 X25519 (its ephemeral key, ee, se) and
 * one Ed25519 verify (the initiator's payload), keyd one X25519 (es).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "peerbench.h"

/* the largest Noise transport message's plaintext */
#define AEAD_LEN	(NOISE_MAXMSG - NOISE_TAGLEN)

static uint8_t	 big[AEAD_LEN + NOISE_TAGLEN];

/*
 * Calls of f a second: the best of three runs of about secs seconds,
 * since other work on a shared machine only ever slows it down.
 */
static double
rate(double secs, void (*f)(void))
{
	double	 t0, t, r, best = 0;
	size_t	 n, i, k;

	for (k = 0; k < 3; k++) {
		n = 0;
		t0 = now();
		do {
			for (i = 0; i < 16; i++)
				f();
			n += 16;
			t = now();
		} while (t - t0 < secs);
		if ((r = n / (t - t0)) > best)
			best = r;
	}
	return best;
}

static uint8_t	 sk[64], pk[32], sig[64], msg[56], q[32], e[32], p[32];

static void
x25519(void)
{
	if (crypto_scalarmult(q, e, p) != 0)
		memset(q, 0, sizeof(q));
	p[0] ^= q[0] & 1;
}

static void
sign(void)
{
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
}

static void
verify(void)
{
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
		msg[0] ^= 0;
}

static void
aead(void)
{
	static uint64_t	 n;
	uint8_t		 nonce[12] = { 0 };
	unsigned long long clen;

	memcpy(nonce + 4, &n, sizeof(n));
	n++;
	crypto_aead_chacha20poly1305_ietf_encrypt(big, &clen, big, AEAD_LEN,
	    NULL, 0, NULL, nonce, e);
}

int
bound_main(double secs)
{
	double	 x, s, v, a;

	randombytes_buf(e, sizeof(e));
	crypto_scalarmult_base(p, e);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	x = rate(secs, x25519);
	s = rate(secs, sign);
	v = rate(secs, verify);
	a = rate(secs, aead) * AEAD_LEN;
	printf("{\n  \"x25519_per_s\": %.0f,\n  \"ed25519_sign_per_s\": "
	    "%.0f,\n  \"ed25519_verify_per_s\": %.0f,\n"
	    "  \"chacha20poly1305_bytes_per_s\": %.0f,\n", x, s, v, a);
	printf("  \"noise_xx_responder_engine_per_s\": %.1f,\n"
	    "  \"noise_xx_responder_with_keyd_per_s\": %.1f,\n"
	    "  \"relayed_bytes_per_s\": %.0f\n}\n",
	    1 / (3 / x + 1 / v), 1 / (4 / x + 1 / v), a / 2);
	return 0;
}
