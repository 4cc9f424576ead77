/*
 * Noise handshake payloads: decode, encode, decode again, compare.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noisepb.h"

#define ENC_MAX		2048

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct noise_payload	 np, np2;
	uint8_t			 enc[ENC_MAX], enc2[ENC_MAX];
	size_t			 len, len2;

	if (noise_payload_decode(data, size, &np) == -1)
		return 0;
	if (noise_payload_encode(&np, enc, sizeof(enc), &len) == -1 ||
	    noise_payload_decode(enc, len, &np2) == -1 ||
	    np2.keylen != np.keylen || np2.siglen != np.siglen ||
	    np2.nmuxers != np.nmuxers || np2.has_ext != np.has_ext ||
	    noise_payload_encode(&np2, enc2, sizeof(enc2), &len2) == -1 ||
	    len != len2 || memcmp(enc, enc2, len) != 0)
		abort();
	return 0;
}
