/*
 * WebSocket codec: the examples of RFC 6455 (sections 1.3 and 5.7),
 * every refusal with its HTTP status or close code, cut input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "ws.h"

#define RFC_REQ \
	"GET /chat HTTP/1.1\r\n" \
	"Host: server.example.com\r\n" \
	"Upgrade: websocket\r\n" \
	"Connection: Upgrade\r\n" \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
	"Origin: http://example.com\r\n" \
	"Sec-WebSocket-Protocol: chat, superchat\r\n" \
	"Sec-WebSocket-Version: 13\r\n\r\n"
/* TAP diagnostics */
#define diag(...)	(printf("# "), printf(__VA_ARGS__), printf("\n"))
/* as printed in RFC 6455 section 1.3 (and by Python's hashlib) */
#define RFC_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define GOOD_KEY	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

static int
parse(const char *s, struct ws_request *req, int *status)
{
	char	 err[128];
	size_t	 used = 0;
	int	 r;

	*status = 0;
	r = ws_parse_request((const uint8_t *)s, strlen(s), req, &used,
	    status, err, sizeof(err));
	if (r == 1 && used != strlen(s))
		return -2;
	return r;
}

static void
refused(const char *s, int want, const char *what)
{
	struct ws_request	 req;
	int			 status, r;

	r = parse(s, &req, &status);
	ok(r == -1 && status == want, "%s: refused with %d (got %d, %d)",
	    what, want, r, status);
}

static void
test_rfc_handshake(void)
{
	struct ws_request	 req;
	char			 acc[WS_ACCEPTB64 + 1], out[512];
	size_t			 n, i, used;
	int			 status, r, cuts = 1;

	ws_accept("dGhlIHNhbXBsZSBub25jZQ==", acc);
	ok(strcmp(acc, RFC_ACCEPT) == 0, "section 1.3 accept: %s", acc);
	ok(parse(RFC_REQ, &req, &status) == 1, "section 1.2 request parsed");
	ok(strcmp(req.path, "/chat") == 0, "path %s", req.path);
	ok(strcmp(req.host, "server.example.com") == 0, "host %s", req.host);
	ok(req.xff[0] == '\0', "no X-Forwarded-For");
	n = ws_response(&req, out, sizeof(out));
	ok(n == strlen(out) && strncmp(out,
	    "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0, "101 line");
	ok(strstr(out, "\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n") != NULL,
	    "101 carries the accept");
	ok(strstr(out, "\r\nUpgrade: websocket\r\n") != NULL &&
	    strstr(out, "\r\nConnection: Upgrade\r\n") != NULL,
	    "101 has Upgrade and Connection");
	ok(strstr(out, "Sec-WebSocket-Protocol") == NULL, "no subprotocol echoed");
	ok(n >= 4 && strcmp(out + n - 4, "\r\n\r\n") == 0, "101 ends its head");
	ok(ws_response(&req, out, n) == 0, "a short buffer is refused");

	for (i = 0; i < strlen(RFC_REQ); i++) {
		r = ws_parse_request((const uint8_t *)RFC_REQ, i, &req, &used,
		    &status, NULL, 0);
		if (r != 0) {
			cuts = 0;
			diag("cut at %zu: %d", i, r);
		}
	}
	ok(cuts, "a request cut at every byte asks for more");
	/* the head ends where CRLF CRLF does, what follows is frames */
	snprintf(out, sizeof(out), "%s\x82\x80", RFC_REQ);
	r = ws_parse_request((const uint8_t *)out, strlen(out), &req, &used,
	    &status, NULL, 0);
	ok(r == 1 && used == strlen(RFC_REQ), "used stops at the head's end");
}

static void
test_odd_requests(void)
{
	struct ws_request	 req;
	int			 status;

	ok(parse("GET /p2p?x=1 HTTP/1.1\r\n"
	    "hOsT:127.0.0.1:4001\r\n"
	    "UPGRADE: WebSocket\r\n"
	    "connection: keep-alive,  upgrade \r\n"
	    "sec-websocket-key:   AAAAAAAAAAAAAAAAAAAAAA==\t\r\n"
	    "SEC-WEBSOCKET-VERSION: 13\r\n"
	    "x-forwarded-for: 127.0.0.9, 127.0.0.10\r\n"
	    "X-Forwarded-For: 127.0.0.11\r\n\r\n", &req, &status) == 1,
	    "header names in odd case, token lists");
	ok(strcmp(req.host, "127.0.0.1:4001") == 0, "host %s", req.host);
	ok(strcmp(req.key, "AAAAAAAAAAAAAAAAAAAAAA==") == 0, "key trimmed");
	ok(strcmp(req.xff, "127.0.0.9") == 0, "first forwarded: %s", req.xff);
	ok(strcmp(req.path, "/p2p?x=1") == 0, "path %s", req.path);
}

#define TAIL	"Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"

static void
test_refusals(void)
{
	struct ws_request	 req;
	int			 status;
	char			*big;
	size_t			 i, n;

	refused("POST /chat HTTP/1.1\r\n" TAIL GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 405, "POST");
	refused("get /chat HTTP/1.1\r\n" TAIL GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 405, "lower-case get");
	refused("GET /chat HTTP/1.0\r\n" TAIL GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "HTTP/1.0");
	refused("GET chat HTTP/1.1\r\n" TAIL GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "path without /");
	refused("GET /chat\r\n" TAIL GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "no version");
	refused("GET /chat HTTP/1.1\r\n" TAIL GOOD_KEY
	    "Sec-WebSocket-Version: 8\r\n\r\n", 426, "version 8");
	refused("GET /chat HTTP/1.1\r\n" TAIL GOOD_KEY "\r\n", 426,
	    "no Sec-WebSocket-Version");
	refused("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\n" GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "no Host");
	refused("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n"
	    "Connection: Upgrade\r\n" GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "Upgrade: h2c");
	refused("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	    "Connection: keep-alive\r\n" GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "no Connection: Upgrade");
	refused("GET /chat HTTP/1.1\r\n" TAIL
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "no key");
	refused("GET /chat HTTP/1.1\r\n" TAIL
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "key without padding");
	refused("GET /chat HTTP/1.1\r\n" TAIL
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "key of 18 bytes");
	refused("GET /chat HTTP/1.1\r\n" TAIL
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAA!==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "key not base64");
	refused("GET /chat HTTP/1.1\r\n" TAIL GOOD_KEY GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "two keys");
	refused("GET /chat HTTP/1.1\r\n" TAIL " folded\r\n" GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "folded header");
	refused("GET /chat HTTP/1.1\r\n" TAIL "No colon\r\n" GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "header without colon");
	refused("GET /chat HTTP/1.1\r\n" TAIL "X: a\rb\r\n" GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n\r\n", 400, "bare CR in a header");

	n = WS_MAXHEADERS + 20;
	big = malloc(n * 8 + 256);
	strcpy(big, "GET / HTTP/1.1\r\n" TAIL GOOD_KEY
	    "Sec-WebSocket-Version: 13\r\n");
	for (i = 0; i < WS_MAXHEADERS; i++)
		strcat(big, "X: y\r\n");
	strcat(big, "\r\n");
	refused(big, 431, "too many headers");
	free(big);

	/* 64 KiB request line: no end of head within WS_MAXREQ */
	n = 65536;
	big = malloc(n + 64);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', n);
	strcpy(big + 5 + n, " HTTP/1.1\r\n" "Host: h\r\n\r\n");
	refused(big, 431, "64 KiB request line");
	big[WS_MAXREQ - 1] = '\0';
	ok(parse(big, &req, &status) == 0,
	    "a head one byte short of the limit asks for more");
	free(big);
}

static void
test_error_responses(void)
{
	char	 out[256];
	size_t	 n;

	n = ws_error_response(426, out, sizeof(out));
	ok(n > 0 && strncmp(out, "HTTP/1.1 426 ", 13) == 0 &&
	    strstr(out, "\r\nSec-WebSocket-Version: 13\r\n") != NULL,
	    "426 names version 13");
	n = ws_error_response(431, out, sizeof(out));
	ok(n > 0 && strncmp(out, "HTTP/1.1 431 ", 13) == 0 &&
	    strstr(out, "\r\nContent-Length: 0\r\n") != NULL &&
	    strstr(out, "\r\nConnection: close\r\n") != NULL &&
	    strcmp(out + n - 4, "\r\n\r\n") == 0, "431 closes, no body");
	n = ws_error_response(405, out, sizeof(out));
	ok(n > 0 && strncmp(out, "HTTP/1.1 405 ", 13) == 0, "405");
	ok(ws_error_response(400, out, 10) == 0, "short buffer refused");
}

static void
test_client(void)
{
	const uint8_t		 key[WS_KEYLEN] = "the sample nonce";
	struct ws_request	 req;
	char			 out[512], resp[512], bad[512], *p;
	size_t			 n, used, i;
	int			 status, r, cuts = 1;

	n = ws_client_request("/", "127.0.0.1:4001", key, out, sizeof(out));
	ok(n > 0 && parse(out, &req, &status) == 1,
	    "our request parses on the server side");
	ok(strcmp(req.key, "dGhlIHNhbXBsZSBub25jZQ==") == 0,
	    "key in base64: %s", req.key);
	n = ws_response(&req, resp, sizeof(resp));
	r = ws_parse_response((const uint8_t *)resp, n, key, &used, NULL, 0);
	ok(r == 1 && used == n, "the 101 is accepted");
	for (i = 0; i < n; i++)
		if (ws_parse_response((const uint8_t *)resp, i, key, &used,
		    NULL, 0) != 0)
			cuts = 0;
	ok(cuts, "a 101 cut at every byte asks for more");

	strlcpy(bad, "HTTP/1.1 101 Switching Protocols\r\n"
	    "upgrade: WebSocket\r\nconnection: upgrade\r\n"
	    "sec-websocket-accept: " RFC_ACCEPT "\r\n\r\n", sizeof(bad));
	ok(ws_parse_response((const uint8_t *)bad, strlen(bad), key, &used,
	    NULL, 0) == 1, "odd case 101 accepted");
	strlcpy(bad, resp, sizeof(bad));
	if ((p = strstr(bad, RFC_ACCEPT)) != NULL)
		p[0] = 'S';
	ok(ws_parse_response((const uint8_t *)bad, n, key, &used, NULL, 0) ==
	    -1, "a wrong accept is refused");
	strlcpy(bad, resp, sizeof(bad));
	memcpy(bad + 9, "200", 3);
	ok(ws_parse_response((const uint8_t *)bad, n, key, &used, NULL, 0) ==
	    -1, "a 200 is refused");
	snprintf(bad, sizeof(bad), "%.*sSec-WebSocket-Protocol: chat\r\n\r\n",
	    (int)n - 2, resp);
	ok(ws_parse_response((const uint8_t *)bad, strlen(bad), key, &used,
	    NULL, 0) == -1, "an unasked subprotocol is refused");
}

static int
frame(const uint8_t *b, size_t len, int side, struct ws_frame *f,
    uint16_t *code)
{
	*code = 0;
	return ws_frame_decode(b, len, side, 1 << 20, f, code, NULL, 0);
}

static void
test_rfc_frames(void)
{
	const uint8_t	 text[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
	const uint8_t	 masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
	    0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	const uint8_t	 hel[] = { 0x01, 0x03, 'H', 'e', 'l' };
	const uint8_t	 lo[] = { 0x80, 0x02, 'l', 'o' };
	const uint8_t	 ping[] = { 0x89, 0x05, 'H', 'e', 'l', 'l', 'o' };
	const uint8_t	 pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
	    0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	const uint8_t	 b256[] = { 0x82, 0x7e, 0x01, 0x00 };
	const uint8_t	 b64k[] = { 0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0 };
	const uint8_t	 key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	struct ws_frame	 f;
	struct ws_frag	 fs = { 0 };
	uint8_t		 buf[32], hdr[WS_MAXFRAMEHDR];
	uint16_t	 code;
	size_t		 i;
	int		 cuts = 1;

	ok(frame(text, sizeof(text), WS_CLIENT, &f, &code) == 1 && f.fin &&
	    f.opcode == WS_OP_TEXT && !f.masked && f.len == 5 &&
	    f.hdrlen == 2, "5.7 unmasked Hello");
	ok(frame(masked, sizeof(masked), WS_SERVER, &f, &code) == 1 &&
	    f.masked && f.len == 5 && f.hdrlen == 6 &&
	    memcmp(f.mask, key, 4) == 0, "5.7 masked Hello");
	memcpy(buf, masked + 6, 5);
	ws_unmask(buf, 2, f.mask, 0);
	ws_unmask(buf + 2, 3, f.mask, 2);
	ok(memcmp(buf, "Hello", 5) == 0, "unmasked in two pieces");
	ok(ws_frame_encode(hdr, 1, WS_OP_TEXT, 5, key) == 6 &&
	    memcmp(hdr, masked, 6) == 0, "masked header encodes");
	for (i = 0; i < sizeof(masked); i++)
		if (frame(masked, i < 6 ? i : 0, WS_SERVER, &f, &code) != 0)
			cuts = 0;
	ok(cuts, "a cut header asks for more");

	ok(frame(hel, sizeof(hel), WS_CLIENT, &f, &code) == 1 && !f.fin &&
	    f.opcode == WS_OP_TEXT && f.len == 3 &&
	    ws_frag_check(&fs, &f, 100, &code, NULL, 0) == 0 && fs.inmsg,
	    "5.7 first fragment");
	ok(frame(ping, sizeof(ping), WS_CLIENT, &f, &code) == 1 && f.fin &&
	    f.opcode == WS_OP_PING && f.len == 5 &&
	    ws_frag_check(&fs, &f, 100, &code, NULL, 0) == 0,
	    "5.7 ping between fragments");
	ok(frame(lo, sizeof(lo), WS_CLIENT, &f, &code) == 1 && f.fin &&
	    f.opcode == WS_OP_CONT && f.len == 2 &&
	    ws_frag_check(&fs, &f, 100, &code, NULL, 0) == 0 && !fs.inmsg &&
	    fs.msglen == 5, "5.7 last fragment: 5 bytes");
	ok(frame(pong, sizeof(pong), WS_SERVER, &f, &code) == 1 &&
	    f.opcode == WS_OP_PONG && f.masked && f.len == 5,
	    "5.7 masked pong");
	ok(ws_frame_encode(hdr, 1, WS_OP_PING, 5, NULL) == 2 &&
	    memcmp(hdr, ping, 2) == 0, "ping header encodes");
	ok(ws_frame_encode(hdr, 1, WS_OP_PONG, 5, key) == 6 &&
	    memcmp(hdr, pong, 6) == 0, "pong header encodes");
	ok(frame(b256, sizeof(b256), WS_CLIENT, &f, &code) == 1 &&
	    f.len == 256 && f.hdrlen == 4 && f.opcode == WS_OP_BINARY,
	    "5.7 256-byte binary");
	ok(ws_frame_encode(hdr, 1, WS_OP_BINARY, 256, NULL) == 4 &&
	    memcmp(hdr, b256, 4) == 0, "256-byte header encodes");
	ok(frame(b64k, sizeof(b64k), WS_CLIENT, &f, &code) == 1 &&
	    f.len == 65536 && f.hdrlen == 10, "5.7 64 KiB binary");
	ok(ws_frame_encode(hdr, 1, WS_OP_BINARY, 65536, NULL) == 10 &&
	    memcmp(hdr, b64k, 10) == 0, "64 KiB header encodes");
	ok(frame(b64k, 9, WS_CLIENT, &f, &code) == 0, "64-bit length cut");
	ok(ws_frame_encode(hdr, 0, WS_OP_BINARY, 65535, NULL) == 4 &&
	    hdr[0] == 0x02 && hdr[1] == 126 && hdr[2] == 0xff &&
	    hdr[3] == 0xff, "65535 in 16 bits, not FIN");
	ok(ws_frame_encode(hdr, 1, WS_OP_BINARY, 125, NULL) == 2 &&
	    hdr[1] == 125, "125 in 7 bits");
}

static void
frame_refused(const uint8_t *b, size_t len, int side, uint16_t want,
    const char *what)
{
	struct ws_frame	 f;
	uint16_t	 code = 0;
	char		 err[64] = "";
	int		 r;

	r = ws_frame_decode(b, len, side, 1000, &f, &code, err, sizeof(err));
	ok(r == -1 && code == want && err[0] != '\0',
	    "%s: %u (got %d, %u: %s)", what, want, r, code, err);
}

static void
test_frame_refusals(void)
{
	const uint8_t	 rsv1[] = { 0xc2, 0x80, 1, 2, 3, 4 };
	const uint8_t	 rsv3[] = { 0x92, 0x80, 1, 2, 3, 4 };
	const uint8_t	 op3[] = { 0x83, 0x80, 1, 2, 3, 4 };
	const uint8_t	 opb[] = { 0x8b, 0x80, 1, 2, 3, 4 };
	const uint8_t	 bigping[] = { 0x89, 0xfe, 0, 126, 1, 2, 3, 4 };
	const uint8_t	 fragping[] = { 0x09, 0x80, 1, 2, 3, 4 };
	const uint8_t	 toolong[] = { 0x82, 0xfe, 0x03, 0xe9, 1, 2, 3, 4 };
	const uint8_t	 topbit[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t	 nonmin16[] = { 0x82, 0xfe, 0, 125, 1, 2, 3, 4 };
	const uint8_t	 nonmin64[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff };
	const uint8_t	 unmasked[] = { 0x82, 0x00 };
	const uint8_t	 maskedc[] = { 0x82, 0x80, 1, 2, 3, 4 };
	const uint8_t	 ok1000[] = { 0x82, 0xfe, 0x03, 0xe8, 1, 2, 3, 4 };
	struct ws_frame	 f;
	uint16_t	 code;

	frame_refused(rsv1, sizeof(rsv1), WS_SERVER, 1002, "RSV1");
	frame_refused(rsv3, sizeof(rsv3), WS_SERVER, 1002, "RSV3");
	frame_refused(op3, sizeof(op3), WS_SERVER, 1002, "opcode 3");
	frame_refused(opb, sizeof(opb), WS_SERVER, 1002, "opcode 0xb");
	frame_refused(bigping, sizeof(bigping), WS_SERVER, 1002,
	    "126-byte ping");
	frame_refused(fragping, sizeof(fragping), WS_SERVER, 1002,
	    "fragmented ping");
	frame_refused(toolong, sizeof(toolong), WS_SERVER, 1009,
	    "1001 bytes over a limit of 1000");
	ok(ws_frame_decode(ok1000, sizeof(ok1000), WS_SERVER, 1000, &f,
	    &code, NULL, 0) == 1 && f.len == 1000, "1000 bytes at the limit");
	frame_refused(topbit, sizeof(topbit), WS_CLIENT, 1002,
	    "64-bit length with the top bit");
	frame_refused(nonmin16, sizeof(nonmin16), WS_SERVER, 1002,
	    "125 in 16 bits");
	frame_refused(nonmin64, sizeof(nonmin64), WS_CLIENT, 1002,
	    "65535 in 64 bits");
	frame_refused(unmasked, sizeof(unmasked), WS_SERVER, 1002,
	    "server gets an unmasked frame");
	frame_refused(maskedc, sizeof(maskedc), WS_CLIENT, 1002,
	    "client gets a masked frame");
}

static void
test_close(void)
{
	const uint8_t	 key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	const uint8_t	 c1000[] = { 0x88, 0x02, 0x03, 0xe8 };
	const uint8_t	 c1002m[] = { 0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d,
	    0x03 ^ 0x37, 0xea ^ 0xfa };
	const uint8_t	 one[] = { 0x03 };
	uint8_t		 out[WS_MAXFRAMEHDR + 2], p[2];
	unsigned int	 c, valid[] = { 1000, 1001, 1002, 1003, 1007, 1011,
	    3000, 4999 }, invalid[] = { 0, 999, 1004, 1005, 1006, 1012, 1015,
	    2999, 5000, 65535 };
	uint16_t	 code;
	size_t		 i;
	int		 all;

	ok(ws_close_encode(out, 1000, NULL) == 4 &&
	    memcmp(out, c1000, 4) == 0, "close 1000");
	ok(ws_close_encode(out, 1002, key) == 8 &&
	    memcmp(out, c1002m, 8) == 0, "masked close 1002");
	ok(ws_close_decode(c1000 + 2, 2, &code) == 1 && code == 1000,
	    "close payload 1000");
	ok(ws_close_decode(NULL, 0, &code) == 0 && code == 1005,
	    "empty close: 1005");
	ok(ws_close_decode(one, 1, &code) == -1, "1-byte close refused");
	for (all = 1, i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		c = valid[i];
		p[0] = c >> 8;
		p[1] = c & 0xff;
		if (ws_close_decode(p, 2, &code) != 1 || code != c) {
			all = 0;
			diag("%u refused", c);
		}
	}
	ok(all, "valid close codes pass");
	for (all = 1, i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		c = invalid[i];
		p[0] = c >> 8;
		p[1] = c & 0xff;
		if (ws_close_decode(p, 2, &code) != -1) {
			all = 0;
			diag("%u accepted", c);
		}
	}
	ok(all, "invalid close codes refused");
}

static void
test_fragments(void)
{
	struct ws_frag	 fs = { 0 };
	struct ws_frame	 f = { 0 };
	uint16_t	 code = 0;

	f.opcode = WS_OP_CONT;
	f.fin = 1;
	ok(ws_frag_check(&fs, &f, 100, &code, NULL, 0) == -1 && code == 1002,
	    "continuation outside a message: 1002");
	f.opcode = WS_OP_BINARY;
	f.fin = 0;
	f.len = 60;
	ok(ws_frag_check(&fs, &f, 100, &code, NULL, 0) == 0, "first piece");
	code = 0;
	ok(ws_frag_check(&fs, &f, 100, &code, NULL, 0) == -1 && code == 1002,
	    "binary frame inside a message: 1002");
	fs.inmsg = 1;
	fs.msglen = 60;
	f.opcode = WS_OP_CONT;
	f.fin = 1;
	ok(ws_frag_check(&fs, &f, 100, &code, NULL, 0) == -1 && code == 1009,
	    "message over its limit: 1009");
	f.len = 40;
	ok(ws_frag_check(&fs, &f, 100, &code, NULL, 0) == 0 && !fs.inmsg,
	    "message at its limit ends");
	f.opcode = WS_OP_BINARY;
	ok(ws_frag_check(&fs, &f, 100, &code, NULL, 0) == 0 && fs.msglen == 40,
	    "next message counts anew");
}

int
main(void)
{
	test_rfc_handshake();
	test_odd_requests();
	test_refusals();
	test_error_responses();
	test_client();
	test_rfc_frames();
	test_frame_refusals();
	test_close();
	test_fragments();
	return tap_done();
}
