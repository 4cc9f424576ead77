/*
 * Multiformats unsigned varints: little-endian groups of 7 bits, the
 * high bit of each byte set when another byte follows.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/*
 * A message after its uvarint length: 1 with msg, its length and the
 * bytes used; 0 when more bytes are needed; -1 when the length is not a
 * minimal uvarint or is over max, known as soon as the length is.
 */
int
uvarint_frame_read(const uint8_t *buf, size_t len, size_t max,
    const uint8_t **msg, size_t *msglen, size_t *used)
{
	uint64_t	 n;
	size_t		 hl;
	int		 rv;

	if ((rv = uvarint_decode(buf, len, &n, &hl)) == 0)
		return len < uvarint_len(max) ? 0 : -1;
	if (rv == -1 || n > max)
		return -1;
	if (n > len - hl)
		return 0;
	*msg = buf + hl;
	*msglen = (size_t)n;
	*used = hl + (size_t)n;
	return 1;
}

/*
 * Write msg after its uvarint length; returns the bytes written, 0 if
 * it is over max or does not fit.  msg may overlap out.
 */
size_t
uvarint_frame_write(const uint8_t *msg, size_t len, size_t max,
    uint8_t *out, size_t outsz)
{
	uint8_t	 h[UVARINT_MAXLEN];
	size_t	 hl;

	if (len > max)
		return 0;
	hl = uvarint_encode(len, h);
	if (hl > outsz || len > outsz - hl)
		return 0;
	if (len > 0)
		memmove(out + hl, msg, len);
	memcpy(out, h, hl);
	return hl + len;
}
