/*
 * Multiformats unsigned varints: little-endian groups of 7 bits, the
 * high bit of each byte set when another byte follows.
 */
#include <stddef.h>
#include <stdint.h>

#include "varint.h"

/*
 * Encode v; returns the number of bytes written.  Values of 2^63 and
 * more take 10 bytes, as protobuf needs, which uvarint_decode refuses.
 */
size_t
uvarint_encode(uint64_t v, uint8_t out[UVARINT_MAXLEN])
{
	size_t	 n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t
uvarint_len(uint64_t v)
{
	size_t	 n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/*
 * Returns 1 with *v and *used set, 0 when the input ends inside the
 * varint, -1 when it is longer than 9 bytes or not minimally encoded.
 */
int
uvarint_decode(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
	uint64_t	 x = 0;
	size_t		 i;

	for (i = 0; i < len; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (p[i] == 0 && i > 0)
				return -1;
			*v = x;
			*used = i + 1;
			return 1;
		}
		if (i + 1 == UVARINT_MAXDEC)
			return -1;
	}
	return 0;
}
