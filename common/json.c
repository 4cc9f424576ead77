/*
 * JSON strings, one escaper for the JSON log lines and for peerctl -j:
 * '"' and '\' are escaped, control characters written as \u00XX, the
 * rest as is (the text is UTF-8 already).
 */
#include <stdio.h>
#include <string.h>

#include "json.h"

/* The escaped form of c in out (at most 7 bytes); its length. */
static size_t
json_char(unsigned char c, char out[8])
{
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = c;
		return 2;
	}
	if (c < 0x20)
		return snprintf(out, 8, "\\u%04x", c);
	out[0] = c;
	return 1;
}

/*
 * src escaped into dst, NUL-terminated, cut before a character that does
 * not fit whole; the length written.
 */
size_t
json_escape(char *dst, size_t dsz, const char *src)
{
	char	 e[8];
	size_t	 n = 0, k;

	if (dsz == 0)
		return 0;
	for (; *src != '\0'; src++) {
		k = json_char((unsigned char)*src, e);
		if (n + k >= dsz)
			break;
		memcpy(dst + n, e, k);
		n += k;
	}
	dst[n] = '\0';
	return n;
}

/* s as a quoted JSON string on f. */
void
json_fputs(const char *s, FILE *f)
{
	char	 e[8];
	size_t	 k;

	putc('"', f);
	for (; *s != '\0'; s++) {
		k = json_char((unsigned char)*s, e);
		fwrite(e, 1, k, f);
	}
	putc('"', f);
}
