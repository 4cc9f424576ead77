/*
 * WebSocket frames as a peer sends them: headers are taken off one by
 * one and fed to the fragmentation rules, payloads unmasked in two
 * pieces must match one pass, and every header must encode back to the
 * bytes it came from.  The first byte picks the side and the limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_wsframe: %s\n", what);
		abort();
	}
}

static void
payload(const uint8_t *p, size_t n, const struct ws_frame *f)
{
	uint8_t	*a, *b;
	size_t	 half = n / 3;
	uint16_t code;

	if ((a = malloc(n + 1)) == NULL || (b = malloc(n + 1)) == NULL)
		abort();
	memcpy(a, p, n);
	memcpy(b, p, n);
	ws_unmask(a, n, f->mask, 0);
	ws_unmask(b, half, f->mask, 0);
	ws_unmask(b + half, n - half, f->mask, half);
	check(memcmp(a, b, n) == 0, "unmasking in pieces differs");
	ws_unmask(b, n, f->mask, 0);
	check(memcmp(b, p, n) == 0, "unmasking twice is not the identity");
	if (f->opcode == WS_OP_CLOSE) {
		code = 0;
		switch (ws_close_decode(a, n, &code)) {
		case 1:
			check(n >= 2 && ws_close_code_valid(code), "close");
			break;
		case 0:
			check(n == 0 && code == WS_CLOSE_NOSTATUS, "empty");
			break;
		default:
			break;
		}
	}
	free(a);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_frame	 f, cut;
	struct ws_frag	 fs = { 0, 0 };
	uint8_t		 hdr[WS_MAXFRAMEHDR];
	uint64_t	 maxlen, maxmsg;
	uint16_t	 code;
	char		 err[64];
	size_t		 i, n;
	int		 side, r;

	if (size < 1)
		return 0;
	side = data[0] & 1 ? WS_CLIENT : WS_SERVER;
	maxlen = data[0] & 2 ? 1 << 16 : 300;
	maxmsg = data[0] & 4 ? 1 << 20 : 1000;
	data++;
	size--;
	while (size > 0) {
		code = 0;
		r = ws_frame_decode(data, size, side, maxlen, &f, &code, err,
		    sizeof(err));
		check(r >= -1 && r <= 1, "return value");
		if (r == -1)
			check(code == WS_CLOSE_PROTOCOL ||
			    code == WS_CLOSE_TOOBIG, "close code");
		if (r != 1)
			break;
		check(f.hdrlen >= 2 && f.hdrlen <= WS_MAXFRAMEHDR &&
		    f.hdrlen <= size, "header length");
		check(f.len <= maxlen, "over the limit");
		check(f.masked == (side == WS_SERVER), "masking rule");
		check(!WS_ISCONTROL(f.opcode) ||
		    (f.fin && f.len <= WS_MAXCONTROL), "control frame");
		n = ws_frame_encode(hdr, f.fin, f.opcode, f.len,
		    f.masked ? f.mask : NULL);
		check(n == f.hdrlen && memcmp(hdr, data, n) == 0,
		    "does not encode back");
		for (i = 0; i < f.hdrlen; i++)
			check(ws_frame_decode(data, i, side, maxlen, &cut, &code,
			    NULL, 0) != 1, "a cut header decoded");
		code = 0;
		if (ws_frag_check(&fs, &f, maxmsg, &code, NULL, 0) == -1) {
			check(code == WS_CLOSE_PROTOCOL ||
			    code == WS_CLOSE_TOOBIG, "fragment code");
			break;
		}
		check(fs.msglen <= maxmsg, "message over its limit");
		if (f.len > size - f.hdrlen)
			break;
		payload(data + f.hdrlen, f.len, &f);
		data += f.hdrlen + f.len;
		size -= f.hdrlen + f.len;
	}
	return 0;
}
