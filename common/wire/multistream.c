/*
 * multistream-select 1.0 message framing.
 */
#include <string.h>

#include "multistream.h"
#include "varint.h"

/*
 * Decode one message into line (without its '\n', NUL-terminated).
 * Returns 1 with *used set, 0 when more bytes are needed, -1 when the
 * message is malformed or longer than MS_MAXMSG.
 */
int
ms_decode(const uint8_t *buf, size_t len, char *line, size_t linesz,
    size_t *used)
{
	uint64_t	 n;
	size_t		 vl;
	int		 r;

	if ((r = uvarint_decode(buf, len, &n, &vl)) != 1)
		return r;
	if (n < 1 || n > MS_MAXMSG || n > linesz)
		return -1;
	if (len - vl < n)
		return 0;
	if (buf[vl + n - 1] != '\n' || memchr(buf + vl, '\0', n) != NULL)
		return -1;
	memcpy(line, buf + vl, n - 1);
	line[n - 1] = '\0';
	*used = vl + n;
	return 1;
}

/* Encode a message; returns its length, 0 if it does not fit. */
size_t
ms_encode(const char *msg, uint8_t *out, size_t outsz)
{
	size_t	 n = strlen(msg) + 1, vl;
	uint8_t	 v[10];

	if (n > MS_MAXMSG)
		return 0;
	vl = uvarint_encode(n, v);
	if (vl + n > outsz)
		return 0;
	memcpy(out, v, vl);
	memcpy(out + vl, msg, n - 1);
	out[vl + n - 1] = '\n';
	return vl + n;
}
