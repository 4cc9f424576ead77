/*
 * multistream-select framing: messages are taken off the input one by
 * one as stream.c and upgrade.c take them; each must encode back to the
 * bytes it came from, and every cut of it must ask for more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multistream.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_multistream: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 line[MS_MAXMSG + 1], cut[MS_MAXMSG + 1];
	uint8_t	 enc[MS_MAXMSG + 10];
	size_t	 used, len, cutused, i;
	int	 r;

	while (size > 0) {
		used = (size_t)-1;
		r = ms_decode(data, size, line, sizeof(line), &used);
		check(r >= -1 && r <= 1, "return value");
		if (r != 1) {
			check(used == (size_t)-1, "used set without a message");
			break;
		}
		check(used >= 2 && used <= size, "used out of bounds");
		len = strlen(line);
		check(len < MS_MAXMSG, "line too long");
		check(data[used - 1] == '\n', "message without newline");
		/* no NUL inside: the whole message is the string */
		check(used - len - 1 >= 1 && used - len - 1 <= 2,
		    "NUL inside the message");
		check(memcmp(data + used - len - 1, line, len) == 0,
		    "line differs from the message");
		check(ms_encode(line, enc, sizeof(enc)) == used &&
		    memcmp(enc, data, used) == 0, "does not encode back");
		/* no room for the encoding: refused, not cut */
		check(ms_encode(line, enc, used - 1) == 0, "encoded cut");
		/* a short line buffer refuses it */
		check(ms_decode(data, used, cut, len, &cutused) == -1,
		    "decoded into a short buffer");
		for (i = 0; i < used; i += 1 + i / 4)
			check(ms_decode(data, i, cut, sizeof(cut),
			    &cutused) == 0, "a cut message is not incomplete");
		data += used;
		size -= used;
	}
	return 0;
}
