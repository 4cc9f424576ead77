/*
 * The one JSON escaper (common/json.c), as RFC 8259 section 7 asks:
 * quote and backslash escaped, control characters as \u00XX, a byte
 * that is not valid UTF-8 as U+FFFD, the rest as is; a cut never splits
 * an escape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

static void
test_escape(void)
{
	char	 out[64];
	size_t	 n;

	n = json_escape(out, sizeof(out), "a\"b\\c\n\x01\x7f\xc3\xa9");
	ok(n == strlen(out) && strcmp(out,
	    "a\\\"b\\\\c\\u000a\\u0001\x7f\xc3\xa9") == 0,
	    "quote, backslash, newline, 0x01 escaped; DEL and UTF-8 kept: %s",
	    out);
	n = json_escape(out, 6, "abcd\n");
	ok(n == 4 && strcmp(out, "abcd") == 0,
	    "a \\u000a that does not fit whole is left out: %s", out);
	n = json_escape(out, 4, "a\"bc");
	ok(n == 3 && strcmp(out, "a\\\"") == 0, "cut after a whole escape: %s",
	    out);
	ok(json_escape(out, 0, "x") == 0, "no room: nothing written");
	n = json_escape(out, sizeof(out), "a\xff\xc3(\xe2\x82\xac"
	    "\xed\xa0\x80\xc0\xaf\xf0\x9f\x98\x80z");
	ok(strcmp(out, "a\\ufffd\\ufffd(\xe2\x82\xac\\ufffd\\ufffd"
	    "\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80z") == 0,
	    "invalid UTF-8 (a stray byte, a cut sequence, a surrogate, an "
	    "overlong form) as U+FFFD, one a byte; valid sequences kept: %s",
	    out);
	n = json_escape(out, 8, "ab\xe2\x82\xac\xe2\x82\xac");
	ok(n == 5 && strcmp(out, "ab\xe2\x82\xac") == 0,
	    "a cut never splits a UTF-8 sequence (%zu)", n);
}

static void
test_fputs(void)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		ok(0, "open_memstream");
		return;
	}
	json_fputs("tab\there \"q\" \\", f);
	fclose(f);
	ok(buf != NULL && strcmp(buf, "\"tab\\u0009here \\\"q\\\" \\\\\"") ==
	    0, "json_fputs quotes and escapes the same way: %s", buf);
	free(buf);
}

int
main(void)
{
	test_escape();
	test_fputs();
	return tap_done();
}
