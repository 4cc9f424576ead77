/*
 * Reservation vouchers: opening a signed one (which should fail but
 * must not crash) and the bare payload, which must encode, decode
 * again to the same voucher and encode again to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "envelope.h"

#define ENC_MAX		512

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_payload(const uint8_t *data, size_t size)
{
	static uint8_t		 enc[ENC_MAX], enc2[ENC_MAX];
	struct rsvp_voucher	 v, v2;
	size_t			 len, len2;

	if (voucher_decode(data, size, &v) == -1)
		return;
	if (voucher_encode(&v, enc, sizeof(enc), &len) == -1 ||
	    voucher_decode(enc, len, &v2) == -1 ||
	    !peerid_equal(&v.relay, &v2.relay) ||
	    !peerid_equal(&v.peer, &v2.peer) ||
	    v.expiration != v2.expiration ||
	    voucher_encode(&v2, enc2, sizeof(enc2), &len2) == -1 ||
	    len != len2 || memcmp(enc, enc2, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rsvp_voucher	 v;
	struct peerid		 signer;
	struct envelope		 env;

	if (voucher_open(data, size, &v, &signer) == 0 &&
	    !peerid_equal(&signer, &v.relay))
		abort();
	fuzz_payload(data, size);
	if (envelope_decode(data, size, &env) == 0)
		fuzz_payload(env.payload, env.payloadlen);
	return 0;
}
