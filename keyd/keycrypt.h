/*
 * A key file encrypted at rest (keycrypt.c): a versioned header, then
 * XChaCha20-Poly1305 over libp2p's protobuf PrivateKey, the key derived
 * from a passphrase with argon2id.
 *
 *	offset	size
 *	0	8	magic "PEERDKEY"
 *	8	1	version (1)
 *	9	4	argon2id opslimit, big-endian
 *	13	8	argon2id memlimit in bytes, big-endian
 *	21	16	salt
 *	37	24	nonce
 *	61	16	check: BLAKE2b keyed with the derived check key, of 0..61
 *	77	16	sum: BLAKE2b of 0..77, unkeyed (a damaged header)
 *	93	84	the protobuf key (68 bytes) sealed, the header as AD
 */
#ifndef PEERD_KEYCRYPT_H
#define PEERD_KEYCRYPT_H

#include <stddef.h>
#include <stdint.h>

#define KC_MAGIC		"PEERDKEY"
#define KC_MAGICLEN		8
#define KC_VERSION		1
#define KC_SALTLEN		16
#define KC_NONCELEN		24
#define KC_TAGLEN		16
#define KC_PARAMS_END		(KC_MAGICLEN + 1 + 4 + 8 + KC_SALTLEN + \
				    KC_NONCELEN)
#define KC_HEADERLEN		(KC_PARAMS_END + 2 * KC_TAGLEN)
#define KC_PLAINLEN		68
#define KC_FILELEN		(KC_HEADERLEN + KC_PLAINLEN + KC_TAGLEN)
#define KC_PASSMAX		1024

/* argon2id: moderate time, interactive memory (see keyd(8)) */
#define KC_OPS_DEFAULT		3
#define KC_MEM_DEFAULT		(64ULL * 1024 * 1024)
/* what a file may ask for: a crafted header cannot take the machine */
#define KC_OPS_MAX		16
#define KC_MEM_MAX		(1024ULL * 1024 * 1024)

enum kc_error {
	KC_OK = 0,
	KC_E_NOTSEALED,		/* not this format */
	KC_E_VERSION,		/* a version we do not know */
	KC_E_TRUNCATED,
	KC_E_TRAILING,
	KC_E_HEADER,		/* the header's sum does not match */
	KC_E_PARAMS,		/* argon2id parameters out of range */
	KC_E_PASSPHRASE,	/* the check does not match: wrong passphrase */
	KC_E_CIPHERTEXT,	/* the AEAD tag does not match */
	KC_E_NOMEM,		/* argon2id could not get its memory */
	KC_E_EMPTY		/* an empty passphrase */
};

struct kc_params {
	uint32_t	 ops;
	uint64_t	 mem;
};

int		 kc_is_sealed(const uint8_t *, size_t);
int		 kc_seal(const uint8_t *, size_t, const char *, size_t,
		    const struct kc_params *, uint8_t *, size_t);
int		 kc_open(const uint8_t *, size_t, const char *, size_t,
		    uint8_t *, size_t, struct kc_params *);
const char	*kc_strerror(int);

#endif /* PEERD_KEYCRYPT_H */
