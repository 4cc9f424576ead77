/*
 * The encrypted key file (keycrypt.h has the layout): pure functions
 * over buffers.  The derived keys live in sodium_malloc'd memory and
 * are wiped before return; the caller keeps the passphrase in such
 * memory too.  Each way a file can be wrong has its own error, so that
 * a damaged file is never taken for a wrong passphrase.
 */
#include <string.h>

#include <sodium.h>

#include "keycrypt.h"

#define KC_OFF_VERSION	KC_MAGICLEN
#define KC_OFF_OPS	(KC_OFF_VERSION + 1)
#define KC_OFF_MEM	(KC_OFF_OPS + 4)
#define KC_OFF_SALT	(KC_OFF_MEM + 8)
#define KC_OFF_NONCE	(KC_OFF_SALT + KC_SALTLEN)
#define KC_OFF_CHECK	KC_PARAMS_END
#define KC_OFF_SUM	(KC_OFF_CHECK + KC_TAGLEN)
#define KC_DKLEN	(crypto_aead_xchacha20poly1305_ietf_KEYBYTES + 32)

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int
kc_params_ok(const struct kc_params *p)
{
	return p->ops >= crypto_pwhash_OPSLIMIT_MIN && p->ops <= KC_OPS_MAX &&
	    p->mem >= crypto_pwhash_MEMLIMIT_MIN && p->mem <= KC_MEM_MAX;
}

/*
 * The AEAD key, then the check key, from the passphrase and the header's
 * parameters; NULL when argon2id cannot have its memory.
 */
static uint8_t *
kc_derive(const uint8_t *hdr, const char *pass, size_t passlen)
{
	uint8_t	*dk;

	if ((dk = sodium_malloc(KC_DKLEN)) == NULL)
		return NULL;
	if (crypto_pwhash(dk, KC_DKLEN, pass, passlen, hdr + KC_OFF_SALT,
	    get_be(hdr + KC_OFF_OPS, 4), get_be(hdr + KC_OFF_MEM, 8),
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_free(dk);
		return NULL;
	}
	return dk;
}

static void
kc_check(const uint8_t *hdr, const uint8_t *dk, uint8_t *out)
{
	crypto_generichash(out, KC_TAGLEN, hdr, KC_OFF_CHECK,
	    dk + crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 32);
}

static void
kc_sum(const uint8_t *hdr, uint8_t *out)
{
	crypto_generichash(out, KC_TAGLEN, hdr, KC_OFF_SUM, NULL, 0);
}

/* The file starts as this format does (or is a piece of its magic). */
int
kc_is_sealed(const uint8_t *buf, size_t len)
{
	return len > 0 && memcmp(buf, KC_MAGIC, len < KC_MAGICLEN ? len :
	    KC_MAGICLEN) == 0;
}

/* Seal a protobuf key of KC_PLAINLEN bytes into out[KC_FILELEN]. */
int
kc_seal(const uint8_t *pb, size_t pblen, const char *pass, size_t passlen,
    const struct kc_params *p, uint8_t *out, size_t outsz)
{
	uint8_t	*dk;

	if (passlen == 0)
		return KC_E_EMPTY;
	if (!kc_params_ok(p))
		return KC_E_PARAMS;
	if (pblen != KC_PLAINLEN || outsz < KC_FILELEN)
		return KC_E_TRUNCATED;
	memcpy(out, KC_MAGIC, KC_MAGICLEN);
	out[KC_OFF_VERSION] = KC_VERSION;
	put_be(out + KC_OFF_OPS, p->ops, 4);
	put_be(out + KC_OFF_MEM, p->mem, 8);
	randombytes_buf(out + KC_OFF_SALT, KC_SALTLEN);
	randombytes_buf(out + KC_OFF_NONCE, KC_NONCELEN);
	if ((dk = kc_derive(out, pass, passlen)) == NULL)
		return KC_E_NOMEM;
	kc_check(out, dk, out + KC_OFF_CHECK);
	kc_sum(out, out + KC_OFF_SUM);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + KC_HEADERLEN, NULL,
	    pb, pblen, out, KC_HEADERLEN, NULL, out + KC_OFF_NONCE, dk);
	sodium_free(dk);
	return KC_OK;
}

/* The checks that need no passphrase, in the order a reader meets them. */
static int
kc_shape(const uint8_t *in, size_t len, struct kc_params *p)
{
	uint8_t	 sum[KC_TAGLEN];

	if (!kc_is_sealed(in, len) && len != 0)
		return KC_E_NOTSEALED;
	if (len <= KC_OFF_VERSION)
		return KC_E_TRUNCATED;
	if (in[KC_OFF_VERSION] != KC_VERSION)
		return KC_E_VERSION;
	if (len < KC_FILELEN)
		return KC_E_TRUNCATED;
	if (len > KC_FILELEN)
		return KC_E_TRAILING;
	kc_sum(in, sum);
	if (sodium_memcmp(sum, in + KC_OFF_SUM, KC_TAGLEN) != 0)
		return KC_E_HEADER;
	p->ops = get_be(in + KC_OFF_OPS, 4);
	p->mem = get_be(in + KC_OFF_MEM, 8);
	if (!kc_params_ok(p))
		return KC_E_PARAMS;
	return KC_OK;
}

/*
 * Open a sealed file into pb[KC_PLAINLEN]; the parameters it was sealed
 * with go to p.  pb is wiped on any failure.
 */
int
kc_open(const uint8_t *in, size_t len, const char *pass, size_t passlen,
    uint8_t *pb, size_t pbsz, struct kc_params *p)
{
	uint8_t	 check[KC_TAGLEN];
	uint8_t	*dk;
	int	 r;

	if ((r = kc_shape(in, len, p)) != KC_OK)
		return r;
	if (passlen == 0)
		return KC_E_EMPTY;
	if (pbsz < KC_PLAINLEN)
		return KC_E_TRUNCATED;
	if ((dk = kc_derive(in, pass, passlen)) == NULL)
		return KC_E_NOMEM;
	kc_check(in, dk, check);
	if (sodium_memcmp(check, in + KC_OFF_CHECK, KC_TAGLEN) != 0)
		r = KC_E_PASSPHRASE;
	else if (crypto_aead_xchacha20poly1305_ietf_decrypt(pb, NULL, NULL,
	    in + KC_HEADERLEN, KC_PLAINLEN + KC_TAGLEN, in, KC_HEADERLEN,
	    in + KC_OFF_NONCE, dk) != 0)
		r = KC_E_CIPHERTEXT;
	sodium_free(dk);
	if (r != KC_OK)
		sodium_memzero(pb, pbsz);
	return r;
}

const char *
kc_strerror(int e)
{
	switch (e) {
	case KC_OK:
		return "no error";
	case KC_E_NOTSEALED:
		return "not an encrypted key file";
	case KC_E_VERSION:
		return "an encrypted key file of an unknown version";
	case KC_E_TRUNCATED:
		return "truncated encrypted key file";
	case KC_E_TRAILING:
		return "encrypted key file with trailing bytes";
	case KC_E_HEADER:
		return "damaged header (its checksum does not match)";
	case KC_E_PARAMS:
		return "argon2id parameters out of range";
	case KC_E_PASSPHRASE:
		return "wrong passphrase";
	case KC_E_CIPHERTEXT:
		return "damaged ciphertext (authentication failed)";
	case KC_E_NOMEM:
		return "argon2id could not allocate its memory";
	case KC_E_EMPTY:
		return "empty passphrase";
	default:
		return "unknown error";
	}
}
