/*
 * Peer IDs as text, public key protobufs and the varints under both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peerid.h"
#include "varint.h"

#define TEXT_MAX	512

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_text(const uint8_t *data, size_t size)
{
	struct peerid	 id, id2;
	uint8_t		 pub[32];
	char		 text[TEXT_MAX], out[PEERID_STRMAX];

	if (size >= sizeof(text))
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (peerid_parse(text, &id) == -1)
		return;
	if (peerid_format(&id, out, sizeof(out)) == -1 ||
	    peerid_parse(out, &id2) == -1 || !peerid_equal(&id, &id2))
		abort();
	peerid_ed25519_pubkey(&id, pub);
}

static void
fuzz_key(const uint8_t *data, size_t size)
{
	struct peerid	 id, id2;
	const uint8_t	*key;
	uint8_t		 pub[32];
	size_t		 keylen;
	int		 type;

	if (pubkey_pb_decode(data, size, &type, &key, &keylen) == -1)
		return;
	if (key < data || keylen > size || key + keylen > data + size)
		abort();
	if (peerid_from_pubkey_pb(data, size, &id) == -1 ||
	    peerid_from_mh(id.mh, id.len, &id2) == -1)
		abort();
	if (peerid_ed25519_pubkey(&id, pub) == 0 &&
	    (type != PUBKEY_ED25519 || memcmp(pub, key, 32) != 0))
		abort();
}

static void
fuzz_varint(const uint8_t *data, size_t size)
{
	uint8_t		 enc[UVARINT_MAXLEN];
	uint64_t	 v;
	size_t		 used;

	if (uvarint_decode(data, size, &v, &used) != 1)
		return;
	if (used > UVARINT_MAXDEC || uvarint_encode(v, enc) != used ||
	    uvarint_len(v) != used || memcmp(enc, data, used) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_text(data, size);
	fuzz_key(data, size);
	fuzz_varint(data, size);
	return 0;
}
