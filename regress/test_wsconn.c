/*
 * The engine's WebSocket layer (peerd/engine/wsconn.c) on byte streams
 * built here by hand: whatever way a stream is cut into reads, the
 * payload that comes out is the same and the answers queued are the
 * same (the 101, pongs, the close); a server says it is open only once
 * the client has spoken; a client checks the 101 against its key.  And
 * wsc_send() on a socketpair, with partial writes: the frames the other
 * end reads carry exactly the data, masked by a client and not by a
 * server.
 */
#include "../peerd/engine/wsconn.c"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "tap.h"

#define BIG	(3 * 1024 * 1024 + 17)

static const char req[] =
    "GET /p2p HTTP/1.1\r\n"
    "Host: 127.0.0.1:4002\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

/* A client frame: masked with a fixed key. */
static size_t
cframe(uint8_t *out, int fin, int op, const char *p, size_t n)
{
	static const uint8_t	 m[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t			 h;

	h = ws_frame_encode(out, fin, op, n, m);
	memcpy(out + h, p, n);
	ws_unmask(out + h, n, m, 0);
	return h + n;
}

/* The stream a client sends: the upgrade, then frames. */
static size_t
client_stream(uint8_t *s)
{
	size_t	 n;

	memcpy(s, req, sizeof(req) - 1);
	n = sizeof(req) - 1;
	n += cframe(s + n, 1, WS_OP_BINARY, "\x13/multistream/1.0.0\n", 20);
	n += cframe(s + n, 0, WS_OP_BINARY, "frag", 4);
	n += cframe(s + n, 1, WS_OP_PING, "hi", 2);
	n += cframe(s + n, 0, WS_OP_CONT, "mented ", 7);
	n += cframe(s + n, 1, WS_OP_CONT, "message", 7);
	n += cframe(s + n, 1, WS_OP_BINARY, "", 0);
	n += cframe(s + n, 1, WS_OP_PONG, "ignored", 7);
	return n;
}

static const char want[] = "\x13/multistream/1.0.0\nfragmented message";

struct outcome {
	uint8_t		 payload[256];
	size_t		 len;
	int		 opened;	/* at which read, or -1 */
	int		 bad;		/* a result other than OK, OPENED */
	uint8_t		 ctl[512];
	size_t		 ctllen;
};

/* Feed s in pieces cut at cuts[]; the payload and what came back. */
static void
feed(int side, const uint8_t *s, size_t n, const size_t *cuts, int ncuts,
    struct outcome *o)
{
	struct wsconn	*w;
	struct bq_acct	 acct = { 0, NULL };
	uint8_t		 buf[4096];
	size_t		 at = 0, end, len;
	uint16_t	 code;
	char		 err[128];
	int		 i, r;

	memset(o, 0, sizeof(*o));
	o->opened = -1;
	w = wsc_new(side, 1 << 20, &acct);
	if (side == WS_CLIENT)
		memcpy(w->key, "the sample nonce", WS_KEYLEN);
	for (i = 0; i <= ncuts && at < n; i++) {
		end = i < ncuts ? cuts[i] : n;
		len = end - at;
		memcpy(buf, s + at, len);
		r = wsc_input(w, buf, &len, &code, err, sizeof(err));
		if (r == WSC_OPENED && o->opened == -1)
			o->opened = i;
		else if (r != WSC_OK)
			o->bad++;
		if (o->len + len <= sizeof(o->payload))
			memcpy(o->payload + o->len, buf, len);
		o->len += len;
		at = end;
	}
	o->ctllen = w->ctl.len < sizeof(o->ctl) ? w->ctl.len : sizeof(o->ctl);
	if (o->ctllen > 0)
		memcpy(o->ctl, bq_ptr(&w->ctl), o->ctllen);
	wsc_free(w);
	if (acct.held != 0)
		o->bad += 100;
}

static int
same(const struct outcome *a, const struct outcome *b)
{
	return a->len == b->len && memcmp(a->payload, b->payload, a->len) ==
	    0 && a->ctllen == b->ctllen && memcmp(a->ctl, b->ctl,
	    a->ctllen) == 0 && a->bad == b->bad;
}

static void
test_server_cuts(void)
{
	uint8_t		 s[1024];
	struct outcome	 whole, o;
	size_t		 n, c[2], i, j, fails = 0, reqlen = sizeof(req) - 1;
	const char	*pong = "\x8a\x02hi";

	n = client_stream(s);
	feed(WS_SERVER, s, n, NULL, 0, &whole);
	ok(whole.len == sizeof(want) - 1 &&
	    memcmp(whole.payload, want, whole.len) == 0 && whole.bad == 0,
	    "server, in one read: the payload of every data frame, in order, "
	    "without the control frames: %zu bytes", whole.len);
	ok(whole.opened == 0, "open as the first read brings payload");
	ok(whole.ctllen > 12 && memcmp(whole.ctl, "HTTP/1.1 101 ", 13) == 0 &&
	    strstr((char *)whole.ctl, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != NULL &&
	    memcmp(whole.ctl + whole.ctllen - 4, pong, 4) == 0,
	    "queued: the 101 with RFC 6455's example Accept, then the pong "
	    "of the ping, unmasked");

	for (i = 1; i < n; i++) {
		c[0] = i;
		feed(WS_SERVER, s, n, c, 1, &o);
		if (!same(&o, &whole) ||
		    o.opened != (i <= reqlen + 6 ? 1 : 0))
			fails++;
	}
	ok(fails == 0, "every cut into two reads gives the same payload and "
	    "answers, and open comes with the first payload: %zu of %zu "
	    "differ", fails, n - 1);
	fails = 0;
	for (i = reqlen; i < n; i += 3)
		for (j = i + 1; j < n; j += 5) {
			c[0] = i;
			c[1] = j;
			feed(WS_SERVER, s, n, c, 2, &o);
			if (!same(&o, &whole))
				fails++;
		}
	ok(fails == 0, "cuts into three reads within the frames: %zu differ",
	    fails);

	feed(WS_SERVER, s, reqlen, NULL, 0, &o);
	ok(o.opened == -1 && o.len == 0 && o.ctllen > 0,
	    "the upgrade alone: answered, but not open until the client "
	    "speaks");
}

static void
test_client(void)
{
	char		 resp[512];
	uint8_t		 s[1024], f[WS_MAXFRAMEHDR];
	struct outcome	 whole, o;
	size_t		 n, h, c[1], i, fails = 0;

	n = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
	memcpy(s, resp, n);
	h = ws_frame_encode(f, 1, WS_OP_BINARY, 5, NULL);
	memcpy(s + n, f, h);
	memcpy(s + n + h, "hello", 5);
	n += h + 5;
	feed(WS_CLIENT, s, n, NULL, 0, &whole);
	ok(whole.opened == 0 && whole.len == 5 &&
	    memcmp(whole.payload, "hello", 5) == 0 && whole.bad == 0,
	    "client: the 101 with the Accept of its key opens at once, and "
	    "the frame after it is payload");
	for (i = 1; i < n; i++) {
		c[0] = i;
		feed(WS_CLIENT, s, n, c, 1, &o);
		if (o.len != 5 || memcmp(o.payload, "hello", 5) != 0 || o.bad)
			fails++;
	}
	ok(fails == 0, "every cut into two reads: %zu of %zu differ", fails,
	    n - 1);

	s[n - 6] |= 0x80;	/* the frame now masked: a server's must not */
	feed(WS_CLIENT, s, n, NULL, 0, &o);
	ok(o.bad == 1 && o.len == 0, "a masked frame from the server is "
	    "refused");
	memcpy(s + strlen("HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
	    "websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "), "t",
	    1);
	feed(WS_CLIENT, s, n, NULL, 0, &o);
	ok(o.bad == 1 && o.opened == -1, "a 101 whose Accept does not match "
	    "the key is refused");
}

/* Errors leave their close frame (or HTTP answer) queued. */
static void
test_errors(void)
{
	struct bq_acct	 acct = { 0, NULL };
	struct wsconn	*w;
	uint8_t		 s[1024];
	size_t		 n, len;
	uint16_t	 code;
	char		 err[128];
	int		 r;

	w = wsc_new(WS_SERVER, 100, &acct);
	n = sizeof(req) - 1;
	memcpy(s, req, n);
	n += cframe(s + n, 1, WS_OP_BINARY, "x", 1);
	len = n;
	wsc_input(w, s, &len, &code, err, sizeof(err));
	bq_consume(&w->ctl, w->ctl.len);
	n = cframe(s, 0, WS_OP_BINARY, "0123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789", 80);
	n += cframe(s + n, 1, WS_OP_CONT, "0123456789012345678901234", 25);
	len = n;
	r = wsc_input(w, s, &len, &code, err, sizeof(err));
	ok(r == WSC_ERROR && code == 1009 && w->ctl.len == 4 &&
	    memcmp(bq_ptr(&w->ctl), "\x88\x02\x03\xf1", 4) == 0,
	    "a message of 105 bytes over a limit of 100: 1009, its close "
	    "frame queued: %s", err);
	len = n;
	wsc_input(w, s, &len, &code, err, sizeof(err));
	ok(w->ctl.len == 4, "after the close nothing more is queued");
	wsc_free(w);

	w = wsc_new(WS_SERVER, 100, &acct);
	memcpy(s, "GET / HTTP/1.1\r\n\r\n", 18);
	len = 18;
	r = wsc_input(w, s, &len, &code, err, sizeof(err));
	ok(r == WSC_ERROR && code == 400 && w->ctl.len > 12 &&
	    memcmp(bq_ptr(&w->ctl), "HTTP/1.1 400 ", 13) == 0,
	    "a request without the upgrade headers: 400 queued: %s", err);
	wsc_free(w);
	ok(acct.held == 0, "the budget is given back: %zu", acct.held);
}

/* What arrives at the other end: frames, unmasked, checked. */
static size_t
drain(int fd, struct bq *in, uint8_t *got, size_t have, int masked,
    int *bad)
{
	struct ws_frame	 f;
	uint8_t		 buf[65536];
	uint16_t	 code;
	char		 err[64];
	ssize_t		 n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		bq_append(in, buf, n, SIZE_MAX);
	while (ws_frame_decode(bq_ptr(in), in->len, masked ? WS_SERVER :
	    WS_CLIENT, UINT64_MAX, &f, &code, err, sizeof(err)) == 1 &&
	    in->len >= f.hdrlen + f.len) {
		if (f.opcode != WS_OP_BINARY || !f.fin || have + f.len > BIG)
			(*bad)++;
		else {
			memcpy(got + have, bq_ptr(in) + f.hdrlen, f.len);
			ws_unmask(got + have, f.len, f.mask, 0);
			have += f.len;
		}
		bq_consume(in, f.hdrlen + f.len);
	}
	return have;
}

static void
test_send(int side)
{
	struct bq_acct	 acct = { 0, NULL };
	struct wsconn	*w;
	struct bq	 in = { 0 };
	uint8_t		*data, *copy, *got;
	size_t		 off = 0, have = 0;
	ssize_t		 n;
	int		 sv[2], bad = 0, rounds = 0, partial = 0, sz = 4096;

	data = malloc(BIG);
	copy = malloc(BIG);
	got = malloc(BIG);
	if (data == NULL || copy == NULL || got == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	randombytes_buf(data, BIG);
	memcpy(copy, data, BIG);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	w = wsc_new(side, 1 << 20, &acct);
	w->phase = WSP_OPEN;
	bq_append(&w->ctl, "\x89\x00", 2, 16);	/* a ping of ours, first */
	while ((off < BIG || have < BIG) && rounds++ < 1000000) {
		if (off < BIG) {
			n = wsc_send(w, sv[0], data + off, BIG - off);
			if (n < 0)
				break;
			if (n > 0 && (size_t)n < BIG - off &&
			    (size_t)n % WS_SEND_MAX != 0)
				partial++;
			off += n;
		}
		if (rounds == 1) {
			uint8_t	 p[2];

			ok(read(sv[1], p, 2) == 2 && p[0] == 0x89,
			    "%s: queued control bytes go before data",
			    side == WS_CLIENT ? "client" : "server");
		}
		have = drain(sv[1], &in, got, have, side == WS_CLIENT, &bad);
	}
	ok(off == BIG && have == BIG && bad == 0 &&
	    memcmp(got, copy, BIG) == 0, "%s: %d bytes sent through a "
	    "socket buffer of 4 KiB arrive whole, in binary frames of at "
	    "most %d (%d partial writes, %d bad frames)",
	    side == WS_CLIENT ? "client, masked" : "server, unmasked", BIG,
	    WS_SEND_MAX, partial, bad);
	wsc_free(w);
	bq_free(&in);
	close(sv[0]);
	close(sv[1]);
	free(data);
	free(copy);
	free(got);
}

/* The Host header of our request, for each kind of address. */
static void
test_host(void)
{
	static const struct {
		const char	*ma, *host;
	} t[] = {
		{ "/ip4/127.0.0.1/tcp/4002/ws", "Host: 127.0.0.1:4002\r\n" },
		{ "/ip6/::1/tcp/4002/ws", "Host: [::1]:4002\r\n" },
		{ "/dns4/localhost/tcp/443/ws", "Host: localhost:443\r\n" },
		{ "/dns/relay.example.com/tcp/80/ws/p2p/12D3KooWD3eckifWpRn9wQp"
		    "MG9R9hX3sD158z7EqHWmweQAJU5SA",
		    "Host: relay.example.com:80\r\n" },
	};
	struct bq_acct	 acct = { 0, NULL };
	struct multiaddr ma;
	struct wsconn	*w;
	char		 err[64], *text;
	size_t		 i, good = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		w = wsc_new(WS_CLIENT, 1 << 20, &acct);
		if (maddr_parse(t[i].ma, &ma, err, sizeof(err)) == 0 &&
		    wsc_client_start(w, &ma) == 0 && (text = strndup(
		    (const char *)bq_ptr(&w->ctl), w->ctl.len)) != NULL) {
			if (strncmp(text, "GET / HTTP/1.1\r\n", 16) == 0 &&
			    strstr(text, t[i].host) != NULL)
				good++;
			else
				printf("# %s: %s\n", t[i].ma, text);
			free(text);
		}
		wsc_free(w);
	}
	ok(good == i, "the request names the host and port of /ip4, /ip6 "
	    "and /dns addresses: %zu of %zu", good, i);
	maddr_parse("/ip4/127.0.0.1/udp/4002", &ma, err, sizeof(err));
	w = wsc_new(WS_CLIENT, 1 << 20, &acct);
	ok(wsc_client_start(w, &ma) == -1 && w->ctl.len == 0,
	    "no request without /tcp");
	wsc_free(w);
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	test_server_cuts();
	test_client();
	test_errors();
	test_host();
	test_send(WS_SERVER);
	test_send(WS_CLIENT);
	return tap_done();
}
