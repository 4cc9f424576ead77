#ifndef PEERD_PEERID_H
#define PEERD_PEERID_H

#include <stddef.h>
#include <stdint.h>

#define ED25519_PUBKEY_PB_LEN	36	/* protobuf PublicKey of an Ed25519 key */

/* KeyType in the PublicKey protobuf */
#define PUBKEY_RSA		0
#define PUBKEY_ED25519		1
#define PUBKEY_SECP256K1	2
#define PUBKEY_ECDSA		3

#define PEERID_MAXLEN		64	/* multihash bytes */
#define PEERID_STRMAX		96	/* peerid_format output + NUL */
#define PEERID_INLINE_MAX	42	/* longest key inlined */

#define MH_IDENTITY		0x00
#define MH_SHA2_256		0x12
#define MULTICODEC_LIBP2P_KEY	0x72

/* A peer ID is the multihash, stored as it goes on the wire. */
struct peerid {
	size_t		 len;
	uint8_t		 mh[PEERID_MAXLEN];
};

size_t	 pb_ed25519_pubkey(const uint8_t [32], uint8_t *, size_t);
int	 peerid_from_ed25519(const uint8_t [32], char *, size_t);

int	 pubkey_pb_decode(const uint8_t *, size_t, int *, const uint8_t **,
	    size_t *);
int	 peerid_from_mh(const uint8_t *, size_t, struct peerid *);
int	 peerid_from_pubkey_pb(const uint8_t *, size_t, struct peerid *);
int	 peerid_parse(const char *, struct peerid *);
int	 peerid_parse_err(const char *, struct peerid *, char *, size_t);
int	 peerid_format(const struct peerid *, char *, size_t);
int	 peerid_equal(const struct peerid *, const struct peerid *);
int	 peerid_ed25519_pubkey(const struct peerid *, uint8_t [32]);

#endif /* PEERD_PEERID_H */
