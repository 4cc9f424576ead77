/*
 * Peer IDs: the identity multihash of the protobuf-encoded public key
 * (keys of at most 42 bytes are inlined) or its sha2-256 multihash,
 * printed in base58btc and also read as a CIDv1 (libp2p-key, base32).
 */
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "base58.h"
#include "errbuf.h"
#include "pb.h"
#include "peerid.h"
#include "varint.h"

#define CID_V1		1
/* A CIDv1: version, codec, multihash */
#define CID_MAXLEN	(PEERID_MAXLEN + 2)

/* PublicKey { KeyType Type = 1; bytes Data = 2; } */
size_t
pb_ed25519_pubkey(const uint8_t pub[32], uint8_t *out, size_t outsz)
{
	if (outsz < ED25519_PUBKEY_PB_LEN)
		return 0;
	out[0] = 0x08;
	out[1] = PUBKEY_ED25519;
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

/*
 * Decode a PublicKey protobuf.  Type and Data must each appear once and
 * nothing else may; *data points into the input.  An Ed25519 key must
 * be 32 bytes, other types are returned unchecked.
 */
int
pubkey_pb_decode(const uint8_t *pb, size_t len, int *type,
    const uint8_t **data, size_t *dlen)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, havetype = 0, havedata = 0;

	pbr_init(&r, pb, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field == 1 && f.wire == PB_VARINT && !havetype) {
			if (f.v > INT_MAX)
				return -1;
			*type = (int)f.v;
			havetype = 1;
		} else if (f.field == 2 && f.wire == PB_LEN && !havedata) {
			*data = f.data;
			*dlen = f.len;
			havedata = 1;
		} else
			return -1;
	}
	if (rv == -1 || !havetype || !havedata)
		return -1;
	if (*type == PUBKEY_ED25519 && *dlen != 32)
		return -1;
	return 0;
}

/* Accept an identity multihash of 1..62 bytes or a sha2-256 one. */
int
peerid_from_mh(const uint8_t *mh, size_t len, struct peerid *id)
{
	uint64_t	 code, dlen;
	size_t		 a, b;

	if (len > PEERID_MAXLEN ||
	    uvarint_decode(mh, len, &code, &a) != 1 ||
	    uvarint_decode(mh + a, len - a, &dlen, &b) != 1 ||
	    dlen != len - a - b)
		return -1;
	if (!(code == MH_IDENTITY && dlen > 0) &&
	    !(code == MH_SHA2_256 && dlen == 32))
		return -1;
	memcpy(id->mh, mh, len);
	id->len = len;
	return 0;
}

int
peerid_from_pubkey_pb(const uint8_t *pb, size_t len, struct peerid *id)
{
	if (len == 0)
		return -1;
	if (len <= PEERID_INLINE_MAX) {
		id->mh[0] = MH_IDENTITY;
		id->mh[1] = (uint8_t)len;
		memcpy(id->mh + 2, pb, len);
		id->len = len + 2;
		return 0;
	}
	id->mh[0] = MH_SHA2_256;
	id->mh[1] = crypto_hash_sha256_BYTES;
	crypto_hash_sha256(id->mh + 2, pb, len);
	id->len = 2 + crypto_hash_sha256_BYTES;
	return 0;
}

/* RFC 4648 base32, lower case, unpadded; spare bits must be zero. */
static int
base32_decode(const char *s, uint8_t *out, size_t outsz, size_t *outlen)
{
	uint32_t	 acc = 0;
	size_t		 n = 0;
	int		 bits = 0, c;

	for (; *s != '\0'; s++) {
		if (*s >= 'a' && *s <= 'z')
			c = *s - 'a';
		else if (*s >= '2' && *s <= '7')
			c = *s - '2' + 26;
		else
			return -1;
		acc = (acc << 5 | (uint32_t)c) & 0xfff;
		if ((bits += 5) >= 8) {
			bits -= 8;
			if (n == outsz)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 5 || (acc & ((1U << bits) - 1)) != 0)
		return -1;
	*outlen = n;
	return 0;
}

static int
peerid_parse_cid(const char *s, struct peerid *id, char *err, size_t errlen)
{
	uint8_t		 cid[CID_MAXLEN];
	uint64_t	 version, codec;
	size_t		 len, a, b;

	if (base32_decode(s, cid, sizeof(cid), &len) == -1)
		return errbuf(err, errlen, "not a base32 CID");
	if (uvarint_decode(cid, len, &version, &a) != 1 ||
	    uvarint_decode(cid + a, len - a, &codec, &b) != 1 ||
	    version != CID_V1 || codec != MULTICODEC_LIBP2P_KEY)
		return errbuf(err, errlen, "not a CIDv1 of a libp2p-key");
	if (peerid_from_mh(cid + a + b, len - a - b, id) == -1)
		return errbuf(err, errlen, "not an identity or sha2-256 "
		    "multihash");
	return 0;
}

/*
 * A bare base58btc multihash ("1..." or "Qm...") or a CIDv1 in base32
 * ("b..."), as the peer-ids spec reads them; err says why not.
 */
int
peerid_parse_err(const char *s, struct peerid *id, char *err, size_t errlen)
{
	uint8_t	 mh[PEERID_MAXLEN];
	size_t	 len;

	if (s[0] == 'b')
		return peerid_parse_cid(s + 1, id, err, errlen);
	if (s[0] != '1' && !(s[0] == 'Q' && s[1] == 'm'))
		return errbuf(err, errlen, "expected base58btc (1... or "
		    "Qm...) or a base32 CID (b...)");
	if (base58_decode(s, mh, sizeof(mh), &len) == -1)
		return errbuf(err, errlen, "not base58btc, or too long");
	if (peerid_from_mh(mh, len, id) == -1)
		return errbuf(err, errlen, "not an identity or sha2-256 "
		    "multihash");
	return 0;
}

int
peerid_parse(const char *s, struct peerid *id)
{
	return peerid_parse_err(s, id, NULL, 0);
}

int
peerid_format(const struct peerid *id, char *out, size_t outsz)
{
	if (id->len == 0 || id->len > PEERID_MAXLEN)
		return -1;
	return base58_encode(id->mh, id->len, out, outsz);
}

int
peerid_equal(const struct peerid *a, const struct peerid *b)
{
	return a->len == b->len && memcmp(a->mh, b->mh, a->len) == 0;
}

/* The key of an identity peer ID holding a canonical Ed25519 PublicKey. */
int
peerid_ed25519_pubkey(const struct peerid *id, uint8_t pub[32])
{
	uint8_t		 pb[ED25519_PUBKEY_PB_LEN];
	const uint8_t	*data;
	size_t		 dlen;
	int		 type;

	if (id->len != 2 + ED25519_PUBKEY_PB_LEN || id->mh[0] != MH_IDENTITY ||
	    id->mh[1] != ED25519_PUBKEY_PB_LEN)
		return -1;
	if (pubkey_pb_decode(id->mh + 2, ED25519_PUBKEY_PB_LEN, &type, &data,
	    &dlen) == -1 || type != PUBKEY_ED25519)
		return -1;
	pb_ed25519_pubkey(data, pb, sizeof(pb));
	if (memcmp(pb, id->mh + 2, sizeof(pb)) != 0)
		return -1;
	memcpy(pub, data, 32);
	return 0;
}
