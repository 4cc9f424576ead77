/*
 * The encrypted key file: round trip, each region tampered with, every
 * truncation, a wrong passphrase, and the header's parameters honoured
 * (checked against libsodium directly, from the layout in keycrypt.h).
 */
#include <string.h>

#include <sodium.h>

#include "keycrypt.h"
#include "tap.h"

#define PASS	"correct horse battery staple"

static const struct kc_params	 fast = { 1, 8192 };

static uint8_t	 pb[KC_PLAINLEN];
static uint8_t	 file[KC_FILELEN];

static int
open_as(const uint8_t *in, size_t len, const char *pass)
{
	uint8_t			 out[KC_PLAINLEN];
	struct kc_params	 p;

	return kc_open(in, len, pass, strlen(pass), out, sizeof(out), &p);
}

static void
diag_fail(size_t i, int r)
{
	printf("# byte %zu: %s\n", i, kc_strerror(r));
}

/* Flip each byte of [from, to): the first that does not give want. */
static long
tamper(size_t from, size_t to, int want)
{
	uint8_t	 t[KC_FILELEN];
	size_t	 i;
	int	 r;

	for (i = from; i < to; i++) {
		memcpy(t, file, sizeof(t));
		t[i] ^= 0x01;
		if ((r = open_as(t, sizeof(t), PASS)) != want) {
			diag_fail(i, r);
			return (long)i;
		}
	}
	return -1;
}

static void
test_roundtrip(void)
{
	uint8_t			 out[KC_PLAINLEN];
	struct kc_params	 p;

	ok(kc_seal(pb, sizeof(pb), PASS, strlen(PASS), &fast, file,
	    sizeof(file)) == KC_OK, "seal");
	ok(memcmp(file, "PEERDKEY", 8) == 0 && file[8] == 1,
	    "magic and version 1");
	ok(kc_open(file, sizeof(file), PASS, strlen(PASS), out, sizeof(out),
	    &p) == KC_OK && memcmp(out, pb, sizeof(pb)) == 0,
	    "open gives the protobuf key back");
	ok(p.ops == fast.ops && p.mem == fast.mem, "open reports the "
	    "parameters (%u, %llu)", p.ops, (unsigned long long)p.mem);
	ok(memmem(file, sizeof(file), pb + 4, 8) == NULL,
	    "the sealed file does not hold the seed's first 8 bytes");
	ok(kc_is_sealed(file, sizeof(file)) && !kc_is_sealed(pb, sizeof(pb)),
	    "a sealed file is told from a plain protobuf key");
}

static void
test_tamper(void)
{
	long	 at;

	at = tamper(0, 8, KC_E_NOTSEALED);
	ok(at == -1, "each byte of the magic flipped: not sealed (%ld)", at);
	at = tamper(8, 9, KC_E_VERSION);
	ok(at == -1, "the version flipped: unknown version (%ld)", at);
	at = tamper(9, 93, KC_E_HEADER);
	ok(at == -1, "each byte of parameters, salt, nonce, check and sum "
	    "flipped: damaged header (%ld)", at);
	at = tamper(93, KC_FILELEN, KC_E_CIPHERTEXT);
	ok(at == -1, "each byte of the ciphertext and tag flipped: damaged "
	    "ciphertext (%ld)", at);
}

static void
test_truncate(void)
{
	uint8_t	 big[KC_FILELEN + 1];
	size_t	 len;
	int	 r, bad = -1;

	for (len = 0; len < KC_FILELEN; len++)
		if ((r = open_as(file, len, PASS)) != KC_E_TRUNCATED) {
			bad = (int)len;
			diag_fail(len, r);
			break;
		}
	ok(bad == -1, "every truncation (0 to %d bytes) says truncated "
	    "(%d)", KC_FILELEN - 1, bad);
	memcpy(big, file, sizeof(file));
	big[KC_FILELEN] = 0;
	ok(open_as(big, sizeof(big), PASS) == KC_E_TRAILING,
	    "a byte more: trailing bytes");
}

static void
test_passphrase(void)
{
	uint8_t	 out[KC_PLAINLEN];

	ok(open_as(file, sizeof(file), PASS "x") == KC_E_PASSPHRASE,
	    "a wrong passphrase says so");
	ok(open_as(file, sizeof(file), "") == KC_E_EMPTY,
	    "an empty passphrase is refused");
	ok(kc_seal(pb, sizeof(pb), "", 0, &fast, out, sizeof(out)) ==
	    KC_E_EMPTY, "sealing with an empty passphrase is refused");
}

/* What the header says is what libsodium is asked for. */
static void
test_params(void)
{
	struct kc_params	 p = { 2, 1024 * 1024 }, q;
	uint8_t			 f[KC_FILELEN], t[KC_FILELEN], dk[64];
	uint8_t			 out[KC_PLAINLEN];
	unsigned long long	 n;
	int			 ok1;

	ok(kc_seal(pb, sizeof(pb), PASS, strlen(PASS), &p, f, sizeof(f)) ==
	    KC_OK, "seal with opslimit 2, memlimit 1 MiB");
	ok(f[9] == 0 && f[12] == 2 && f[13 + 5] == 0x10 && f[13 + 7] == 0,
	    "the header holds them big-endian");
	ok1 = crypto_pwhash(dk, sizeof(dk), PASS, strlen(PASS), f + 21, 2,
	    1024 * 1024, crypto_pwhash_ALG_ARGON2ID13) == 0 &&
	    crypto_aead_xchacha20poly1305_ietf_decrypt(out, &n, NULL,
	    f + 93, KC_PLAINLEN + 16, f, 93, f + 37, dk) == 0 &&
	    n == KC_PLAINLEN && memcmp(out, pb, sizeof(pb)) == 0;
	ok(ok1, "argon2id with the header's salt and parameters, then "
	    "XChaCha20-Poly1305 with its nonce and the header as AD, opens it");
	/* other parameters, with a sum made anew: another key */
	memcpy(t, f, sizeof(t));
	t[12] = 3;
	crypto_generichash(t + 77, 16, t, 77, NULL, 0);
	ok(open_as(t, sizeof(t), PASS) == KC_E_PASSPHRASE,
	    "other opslimit in a consistent header: the key differs");
	memcpy(t, f, sizeof(t));
	t[12] = KC_OPS_MAX + 1;
	crypto_generichash(t + 77, 16, t, 77, NULL, 0);
	ok(open_as(t, sizeof(t), PASS) == KC_E_PARAMS,
	    "an opslimit above the bound is refused before argon2id runs");
	memcpy(t, f, sizeof(t));
	t[13] = 0x01;		/* 2^56 bytes */
	crypto_generichash(t + 77, 16, t, 77, NULL, 0);
	ok(open_as(t, sizeof(t), PASS) == KC_E_PARAMS,
	    "a memlimit above the bound is refused");
	q.ops = 0;
	q.mem = 8192;
	ok(kc_seal(pb, sizeof(pb), PASS, strlen(PASS), &q, t, sizeof(t)) ==
	    KC_E_PARAMS, "sealing with opslimit 0 is refused");
}

static void
test_salt(void)
{
	uint8_t	 a[KC_FILELEN], b[KC_FILELEN];

	kc_seal(pb, sizeof(pb), PASS, strlen(PASS), &fast, a, sizeof(a));
	kc_seal(pb, sizeof(pb), PASS, strlen(PASS), &fast, b, sizeof(b));
	ok(memcmp(a + 21, b + 21, 16) != 0 && memcmp(a + 37, b + 37, 24) != 0,
	    "two seals of one key: fresh salt and nonce");
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	pb[0] = 0x08;
	pb[1] = 1;
	pb[2] = 0x12;
	pb[3] = 64;
	randombytes_buf(pb + 4, 64);
	test_roundtrip();
	test_tamper();
	test_truncate();
	test_passphrase();
	test_params();
	test_salt();
	return tap_done();
}
