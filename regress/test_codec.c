/*
 * base58btc, peer IDs and the identity key file, against published
 * vectors: the base58 draft (draft-msporny-base58), the libp2p peer-ids
 * spec's Ed25519 key, and a key/peer ID triple made by js-libp2p.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "base58.h"
#include "keyd.h"
#include "peerid.h"
#include "tap.h"

static size_t
unhex(const char *h, uint8_t *out, size_t max)
{
	size_t	 n = 0;
	unsigned int b;

	while (h[0] && h[1] && n < max && sscanf(h, "%2x", &b) == 1) {
		out[n++] = b;
		h += 2;
	}
	return n;
}

static void
test_base58(void)
{
	static const struct {
		const char	*hex, *b58;
	} v[] = {
		{ "48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U" },
		{ "54686520717569636b2062726f776e20666f78206a756d7073206f766572"
		  "20746865206c617a7920646f672e",
		  "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z" },
		{ "0000287fb4cd", "11233QC4" },
	};
	uint8_t	 in[128], out[128];
	char	 s[256];
	size_t	 i, n, m;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = unhex(v[i].hex, in, sizeof(in));
		ok(base58_encode(in, n, s, sizeof(s)) == 0 &&
		    strcmp(s, v[i].b58) == 0, "base58 encode %s", v[i].b58);
		ok(base58_decode(v[i].b58, out, sizeof(out), &m) == 0 &&
		    m == n && memcmp(in, out, n) == 0, "base58 decode %s",
		    v[i].b58);
	}
	ok(base58_decode("2NEpo7TZRRrLZSi0U", out, sizeof(out), &m) == -1,
	    "base58 rejects 0");
	ok(base58_decode("", out, sizeof(out), &m) == -1, "base58 rejects empty");
	ok(base58_encode(in, 12, s, 5) == -1, "base58 output too small");
}

static void
test_spec_key(void)
{
	static const char priv[] = "080112407e0830617c4a7de83925dfb2694556b1"
	    "2936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3"
	    "b34b871c3cacf6010f0e42d474fce27e";
	static const char pub[] = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b3"
	    "4b871c3cacf6010f0e42d474fce27e";
	struct identity	 id;
	uint8_t		 buf[128], pb[64], enc[128], old[160];
	size_t		 n, m;

	n = unhex(priv, buf, sizeof(buf));
	ok(keyfile_decode(buf, n, &id) == 0, "spec Ed25519 private key decodes");
	m = unhex(pub, pb, sizeof(pb));
	ok(pb_ed25519_pubkey(id.pk, enc, sizeof(enc)) == m &&
	    memcmp(enc, pb, m) == 0, "spec public key protobuf matches");
	ok(keyfile_encode(&id, enc, sizeof(enc)) == n &&
	    memcmp(enc, buf, n) == 0, "private key re-encodes to the spec bytes");
	/* the older form: the public key twice (peer-ids spec) */
	memcpy(old, buf, n);
	memcpy(old + n, buf + n - 32, 32);
	old[3] = 96;
	ok(keyfile_decode(old, n + 32, &id) == 0 &&
	    keyfile_encode(&id, enc, sizeof(enc)) == n &&
	    memcmp(enc, buf, n) == 0, "96-byte legacy key decodes");
	old[n + 31] ^= 1;
	ok(keyfile_decode(old, n + 32, &id) == -1,
	    "96-byte key with two different public halves refused");
	buf[n - 1] ^= 1;
	ok(keyfile_decode(buf, n, &id) == -1, "mismatched public half refused");
	ok(keyfile_decode(buf, n - 1, &id) == -1, "short key refused");
	buf[1] = 2;
	ok(keyfile_decode(buf, n, &id) == -1, "secp256k1 type refused");
}

static void
test_js_peerid(void)
{
	/* @libp2p/peer-id-factory output (base64 decoded to hex). */
	static const char priv[] = "08011240e7febbcaab4578f42a70dccfe0a30af7"
	    "97877c452ac8f7f01f8b26ea1666aab9c68cbe0621eef469263ebaf606fa38b3"
	    "0e993174b84e73af83454fdc3162f77b";
	struct identity	 id;
	uint8_t		 buf[128];
	char		 s[64];
	size_t		 n;

	n = unhex(priv, buf, sizeof(buf));
	ok(keyfile_decode(buf, n, &id) == 0, "js-libp2p private key decodes");
	ok(peerid_from_ed25519(id.pk, s, sizeof(s)) == 0 && strcmp(s,
	    "12D3KooWPBRNBzgceXh7Z27wGoyYYz9ggwaYg2dWiwXXe8ieyFCN") == 0,
	    "peer ID matches js-libp2p's");
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	test_base58();
	test_spec_key();
	test_js_peerid();
	return tap_done();
}
