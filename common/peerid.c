/*
 * Peer IDs: the identity multihash of the protobuf-encoded public key
 * (keys of at most 42 bytes are inlined), printed in base58btc.
 */
#include <stdint.h>
#include <string.h>

#include "base58.h"
#include "peerid.h"

#define PB_KEYTYPE_ED25519	1
#define MH_IDENTITY		0x00

/* PublicKey { KeyType Type = 1; bytes Data = 2; } */
size_t
pb_ed25519_pubkey(const uint8_t pub[32], uint8_t *out, size_t outsz)
{
	if (outsz < ED25519_PUBKEY_PB_LEN)
		return 0;
	out[0] = 0x08;
	out[1] = PB_KEYTYPE_ED25519;
	out[2] = 0x12;
	out[3] = 32;
	memcpy(out + 4, pub, 32);
	return ED25519_PUBKEY_PB_LEN;
}

int
peerid_from_ed25519(const uint8_t pub[32], char *out, size_t outsz)
{
	uint8_t	 mh[2 + ED25519_PUBKEY_PB_LEN];

	mh[0] = MH_IDENTITY;
	mh[1] = ED25519_PUBKEY_PB_LEN;
	pb_ed25519_pubkey(pub, mh + 2, sizeof(mh) - 2);
	return base58_encode(mh, sizeof(mh), out, outsz);
}
