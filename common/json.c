/*
 * JSON strings, one escaper for the JSON log lines and for peerctl -j:
 * '"' and '\' are escaped, control characters written as \u00XX, a
 * byte that is not valid UTF-8 (peers choose some of the text) as
 * U+FFFD, the rest as is.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

/* The length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t
json_utf8(const unsigned char *s, size_t n)
{
	uint32_t	 cp;
	size_t		 len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * The escaped form of the character at s[0..n) in out; its length, and
 * in *used how many bytes of s it took (at least 1).
 */
size_t
json_next(const char *s, size_t n, char out[JSON_CHARMAX], size_t *used)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 k;

	if ((k = json_utf8(u, n)) == 0) {
		*used = 1;
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	*used = k;
	if (u[0] == '"' || u[0] == '\\') {
		out[0] = '\\';
		out[1] = u[0];
		return 2;
	}
	if (u[0] < 0x20)
		return snprintf(out, JSON_CHARMAX, "\\u%04x", u[0]);
	memcpy(out, s, k);
	return k;
}

/*
 * src escaped into dst, NUL-terminated, cut before a character that does
 * not fit whole; the length written.
 */
size_t
json_escape(char *dst, size_t dsz, const char *src)
{
	char	 e[JSON_CHARMAX];
	size_t	 n = 0, k, used, left = strlen(src);

	if (dsz == 0)
		return 0;
	for (; left > 0; src += used, left -= used) {
		k = json_next(src, left, e, &used);
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
	char	 e[JSON_CHARMAX];
	size_t	 k, used, left = strlen(s);

	putc('"', f);
	for (; left > 0; s += used, left -= used) {
		k = json_next(s, left, e, &used);
		fwrite(e, 1, k, f);
	}
	putc('"', f);
}
