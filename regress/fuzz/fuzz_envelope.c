/*
 * Signed envelopes and the peer records in them: decode, verify (which
 * should fail but must not crash), re-encode and compare.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

#define ENC_MAX		32768

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_record(const uint8_t *data, size_t size)
{
	static struct peer_record	 rec, rec2;
	static uint8_t			 enc[ENC_MAX], enc2[ENC_MAX];
	size_t				 len, len2;

	if (peer_record_decode(data, size, &rec) == -1)
		return;
	if (peer_record_encode(&rec, enc, sizeof(enc), &len) == -1 ||
	    peer_record_decode(enc, len, &rec2) == -1 || rec2.nbad != 0 ||
	    rec2.naddrs != rec.naddrs || rec2.seq != rec.seq ||
	    !peerid_equal(&rec.id, &rec2.id) ||
	    peer_record_encode(&rec2, enc2, sizeof(enc2), &len2) == -1 ||
	    len != len2 || memcmp(enc, enc2, len) != 0)
		abort();
}

static void
fuzz_envelope(const uint8_t *data, size_t size)
{
	static uint8_t	 enc[ENC_MAX];
	struct envelope	 env, env2;
	size_t		 len;

	if (envelope_decode(data, size, &env) == -1)
		return;
	envelope_verify(&env, ENVELOPE_DOMAIN_PEER_RECORD);
	if (envelope_encode(&env, enc, sizeof(enc), &len) == 0 &&
	    (envelope_decode(enc, len, &env2) == -1 ||
	    env2.pubkeylen != env.pubkeylen || env2.siglen != env.siglen ||
	    env2.payloadlen != env.payloadlen ||
	    memcmp(env2.sig, env.sig, env.siglen) != 0))
		abort();
	fuzz_record(env.payload, env.payloadlen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct peer_record	 rec;

	fuzz_envelope(data, size);
	fuzz_record(data, size);
	peer_record_open(data, size, &rec);
	return 0;
}
