/*
 * WebSocket upgrade request: whatever a client sends is parsed within
 * its bounds; a parsed request's strings fit, its 101 builds, and every
 * cut of it asks for more; a refusal names an HTTP status we answer.
 * The first byte picks the server or the client side.
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
		fprintf(stderr, "fuzz_wsupgrade: %s\n", what);
		abort();
	}
}

static void
server(const uint8_t *data, size_t size)
{
	struct ws_request	 req, cut;
	char			 err[128], out[512];
	size_t			 used = 0, cutused, i;
	int			 status = 0, cs, r;

	r = ws_parse_request(data, size, &req, &used, &status, err,
	    sizeof(err));
	check(r >= -1 && r <= 1, "return value");
	if (r == 0)
		check(size < WS_MAXREQ, "more asked past the limit");
	if (r == -1) {
		check(status == 400 || status == 405 || status == 426 ||
		    status == 431, "unknown status");
		check(ws_error_response(status, out, sizeof(out)) > 0,
		    "no error answer");
		return;
	}
	if (r != 1)
		return;
	check(used >= 4 && used <= size && used <= WS_MAXREQ, "used");
	check(memcmp(data + used - 4, "\r\n\r\n", 4) == 0, "head end");
	check(req.path[0] == '/' && strlen(req.path) <= WS_MAXPATH, "path");
	check(strlen(req.key) == WS_KEYB64, "key");
	check(req.host[0] != '\0', "host");
	check(strlen(req.xff) < WS_MAXXFF, "xff");
	check(ws_response(&req, out, sizeof(out)) > 0, "no 101");
	for (i = 0; i < used; i += 1 + i / 8) {
		cs = 0;
		check(ws_parse_request(data, i, &cut, &cutused, &cs, NULL,
		    0) == 0, "a cut request is not incomplete");
	}
}

static void
client(const uint8_t *data, size_t size)
{
	const uint8_t	 key[WS_KEYLEN] = "the sample nonce";
	size_t		 used = 0;
	int		 r;

	r = ws_parse_response(data, size, key, &used, NULL, 0);
	check(r >= -1 && r <= 1, "response return value");
	if (r == 1)
		check(used >= 4 && used <= size && memcmp(data + used - 4,
		    "\r\n\r\n", 4) == 0, "response used");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		client(data + 1, size - 1);
	else
		server(data + 1, size - 1);
	return 0;
}
