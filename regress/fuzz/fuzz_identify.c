/*
 * Identify messages: what decodes must encode, and encoding what that
 * decodes to again must give the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identify.h"

#define ENC_MAX		16384

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct identify_msg	 m, m2;
	static uint8_t			 enc[ENC_MAX], enc2[ENC_MAX];
	struct multiaddr		 ma;
	size_t				 len, len2, i;

	if (identify_decode(data, size, &m) == -1)
		return 0;
	for (i = 0; i < m.naddrs; i++)
		if (identify_addr(&m, i, &ma) == -1)
			abort();
	for (i = 0; i < m.nprotos; i++)
		if (identify_proto(&m, i) == NULL)
			abort();
	if (identify_encode(&m, enc, sizeof(enc), &len) == -1 ||
	    identify_decode(enc, len, &m2) == -1 || m2.nbad != 0 ||
	    m2.ndropped != 0 ||
	    identify_encode(&m2, enc2, sizeof(enc2), &len2) == -1 ||
	    len != len2 || memcmp(enc, enc2, len) != 0)
		abort();
	return 0;
}
