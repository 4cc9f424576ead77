#ifndef PEERD_PEERID_H
#define PEERD_PEERID_H

#include <stddef.h>
#include <stdint.h>

#define ED25519_PUBKEY_PB_LEN	36	/* protobuf PublicKey of an Ed25519 key */

size_t	 pb_ed25519_pubkey(const uint8_t [32], uint8_t *, size_t);
int	 peerid_from_ed25519(const uint8_t [32], char *, size_t);

#endif /* PEERD_PEERID_H */
