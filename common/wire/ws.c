/*
 * WebSocket opening handshake (RFC 6455 section 4): the HTTP/1.1
 * upgrade request and its 101 answer, on both sides.
 */
#include <sha1.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "ws.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct head_line {
	const char	*name;
	size_t		 namelen;
	const char	*val;
	size_t		 vallen;
};

/* The end of the head (after CRLF CRLF), 0 if not there yet. */
static size_t
head_end(const uint8_t *buf, size_t len)
{
	size_t	 i;

	if (len > WS_MAXREQ)
		len = WS_MAXREQ;
	for (i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' &&
		    buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* The next CRLF-ended line from *p, without its CRLF; -1 if bare CR/LF. */
static int
next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char	*s = *p, *q;

	for (q = s; q + 1 < end && q[0] != '\r'; q++)
		if (q[0] == '\n' || q[0] == '\0')
			return -1;
	if (q + 1 >= end || q[1] != '\n')
		return -1;
	*line = s;
	*len = q - s;
	*p = q + 2;
	return 0;
}

static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* "name: value" with optional whitespace around the value. */
static int
split_header(const char *s, size_t len, struct head_line *h)
{
	size_t	 i;

	for (i = 0; i < len && s[i] != ':'; i++)
		if (!is_tchar((unsigned char)s[i]))
			return -1;
	if (i == 0 || i == len)
		return -1;
	h->name = s;
	h->namelen = i;
	for (i++; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	h->val = s + i;
	h->vallen = len - i;
	for (; i < len; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return -1;
	return 0;
}

static int
name_is(const struct head_line *h, const char *name)
{
	return strlen(name) == h->namelen &&
	    strncasecmp(h->name, name, h->namelen) == 0;
}

static int
val_is(const char *v, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(v, want, len) == 0;
}

/* Whether the comma-separated list holds the token (case-insensitive). */
static int
has_token(const struct head_line *h, const char *tok)
{
	const char	*s = h->val, *end = h->val + h->vallen, *t, *e;

	while (s < end) {
		for (t = s; t < end && *t != ','; t++)
			;
		for (e = t; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (val_is(s, e - s, tok))
			return 1;
		s = t + 1;
	}
	return 0;
}

static int
copy_val(const struct head_line *h, char *dst, size_t dstsz)
{
	if (h->vallen >= dstsz)
		return -1;
	memcpy(dst, h->val, h->vallen);
	dst[h->vallen] = '\0';
	return 0;
}

static void
first_xff(const struct head_line *h, struct ws_request *req)
{
	struct head_line	 a = *h;
	const char		*c;

	if ((c = memchr(a.val, ',', a.vallen)) != NULL)
		a.vallen = c - a.val;
	while (a.vallen > 0 && (a.val[a.vallen - 1] == ' ' ||
	    a.val[a.vallen - 1] == '\t'))
		a.vallen--;
	if (copy_val(&a, req->xff, sizeof(req->xff)) == -1)
		req->xff[0] = '\0';
}

static int
key_ok(const char *key)
{
	uint8_t		 bin[WS_KEYLEN + 2];
	size_t		 binlen;
	const char	*end;

	if (strlen(key) != WS_KEYB64)
		return 0;
	if (sodium_base642bin(bin, sizeof(bin), key, WS_KEYB64, NULL, &binlen,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	return binlen == WS_KEYLEN && end == key + WS_KEYB64;
}

static int
refuse(int *status, int code, char *err, size_t errsz, const char *why)
{
	*status = code;
	return errbuf(err, errsz, "%s", why);
}

/* The request line: GET, an origin-form path, HTTP/1.1. */
static int
request_line(const char *s, size_t len, struct ws_request *req,
    int *status, char *err, size_t errsz)
{
	const char	*sp1, *sp2, *t;

	if ((sp1 = memchr(s, ' ', len)) == NULL)
		return refuse(status, 400, err, errsz, "bad request line");
	if (sp1 - s != 3 || memcmp(s, "GET", 3) != 0)
		return refuse(status, 405, err, errsz, "method is not GET");
	sp1++;
	if ((sp2 = memchr(sp1, ' ', len - (sp1 - s))) == NULL)
		return refuse(status, 400, err, errsz, "bad request line");
	if (sp2 - sp1 > WS_MAXPATH || sp2 == sp1 || *sp1 != '/')
		return refuse(status, 400, err, errsz, "bad request path");
	for (t = sp1; t < sp2; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return refuse(status, 400, err, errsz,
			    "bad request path");
	if ((size_t)(s + len - (sp2 + 1)) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.1", 8) != 0)
		return refuse(status, 400, err, errsz, "not HTTP/1.1");
	memcpy(req->path, sp1, sp2 - sp1);
	req->path[sp2 - sp1] = '\0';
	return 0;
}

/* One header of a request; *seen gathers what the upgrade needs. */
static int
request_header(const struct head_line *h, struct ws_request *req,
    int *seen, int *status, char *err, size_t errsz)
{
	if (name_is(h, "Host")) {
		if ((*seen & 1) || h->vallen == 0 ||
		    copy_val(h, req->host, sizeof(req->host)) == -1)
			return refuse(status, 400, err, errsz, "bad Host");
		*seen |= 1;
	} else if (name_is(h, "Upgrade")) {
		if (has_token(h, "websocket"))
			*seen |= 2;
	} else if (name_is(h, "Connection")) {
		if (has_token(h, "Upgrade"))
			*seen |= 4;
	} else if (name_is(h, "Sec-WebSocket-Version")) {
		if ((*seen & 8) || !val_is(h->val, h->vallen, "13"))
			return refuse(status, 426, err, errsz,
			    "Sec-WebSocket-Version is not 13");
		*seen |= 8;
	} else if (name_is(h, "Sec-WebSocket-Key")) {
		if ((*seen & 16) ||
		    copy_val(h, req->key, sizeof(req->key)) == -1 ||
		    !key_ok(req->key))
			return refuse(status, 400, err, errsz,
			    "bad Sec-WebSocket-Key");
		*seen |= 16;
	} else if (name_is(h, "X-Forwarded-For")) {
		if (req->xff[0] == '\0')
			first_xff(h, req);
	}
	return 0;
}

/* What request_header() saw: all an upgrade needs? */
static int
request_complete(int seen, int *status, char *err, size_t errsz)
{
	if (!(seen & 1))
		return refuse(status, 400, err, errsz, "no Host");
	if (!(seen & 2))
		return refuse(status, 400, err, errsz, "no Upgrade: websocket");
	if (!(seen & 4))
		return refuse(status, 400, err, errsz,
		    "no Connection: Upgrade");
	if (!(seen & 8))
		return refuse(status, 426, err, errsz,
		    "no Sec-WebSocket-Version");
	if (!(seen & 16))
		return refuse(status, 400, err, errsz, "no Sec-WebSocket-Key");
	return 0;
}

int
ws_parse_request(const uint8_t *buf, size_t len, struct ws_request *req,
    size_t *used, int *status, char *err, size_t errsz)
{
	struct head_line	 h;
	const char		*p = (const char *)buf, *end, *line;
	size_t			 n, ll;
	int			 seen = 0, count = 0;

	if ((n = head_end(buf, len)) == 0) {
		if (len >= WS_MAXREQ)
			return refuse(status, 431, err, errsz,
			    "request head too large");
		return 0;
	}
	end = p + n - 2;	/* the last CRLF ends no header */
	memset(req, 0, sizeof(*req));
	if (next_line(&p, end, &line, &ll) == -1)
		return refuse(status, 400, err, errsz, "bad request line");
	if (request_line(line, ll, req, status, err, errsz) == -1)
		return -1;
	while (p < end) {
		if (++count > WS_MAXHEADERS)
			return refuse(status, 431, err, errsz,
			    "too many headers");
		if (next_line(&p, end, &line, &ll) == -1 ||
		    split_header(line, ll, &h) == -1)
			return refuse(status, 400, err, errsz, "bad header");
		if (request_header(&h, req, &seen, status, err, errsz) == -1)
			return -1;
	}
	if (request_complete(seen, status, err, errsz) == -1)
		return -1;
	*used = n;
	return 1;
}

/* base64(SHA-1(key GUID)) */
void
ws_accept(const char *key, char out[WS_ACCEPTB64 + 1])
{
	SHA1_CTX	 ctx;
	uint8_t		 d[SHA1_DIGEST_LENGTH];

	SHA1Init(&ctx);
	SHA1Update(&ctx, (const uint8_t *)key, strlen(key));
	SHA1Update(&ctx, (const uint8_t *)WS_GUID, strlen(WS_GUID));
	SHA1Final(d, &ctx);
	sodium_bin2base64(out, WS_ACCEPTB64 + 1, d, sizeof(d),
	    sodium_base64_VARIANT_ORIGINAL);
}

static size_t
fitted(int n, size_t outsz)
{
	return n < 0 || (size_t)n >= outsz ? 0 : (size_t)n;
}

/* The 101 answer; its length, 0 if it does not fit. */
size_t
ws_response(const struct ws_request *req, char *out, size_t outsz)
{
	char	 acc[WS_ACCEPTB64 + 1];

	ws_accept(req->key, acc);
	return fitted(snprintf(out, outsz,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc), outsz);
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* An error answer that closes the connection; 0 if it does not fit. */
size_t
ws_error_response(int status, char *out, size_t outsz)
{
	const char	*extra = "";

	if (status == 426)
		extra = "Sec-WebSocket-Version: 13\r\n";
	else if (status == 405)
		extra = "Allow: GET\r\n";
	return fitted(snprintf(out, outsz,
	    "HTTP/1.1 %03d %s\r\n%s"
	    "Content-Length: 0\r\n"
	    "Connection: close\r\n\r\n", status, reason_phrase(status), extra),
	    outsz);
}

/* The client's upgrade request; 0 if it does not fit. */
size_t
ws_client_request(const char *path, const char *host,
    const uint8_t key[WS_KEYLEN], char *out, size_t outsz)
{
	char	 k[WS_KEYB64 + 1];

	sodium_bin2base64(k, sizeof(k), key, WS_KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
	return fitted(snprintf(out, outsz,
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", path, host, k), outsz);
}

/* One header of a 101; we asked for no subprotocol nor extension. */
static int
response_header(const struct head_line *h, const char *acc, int *seen,
    char *err, size_t errsz)
{
	if (name_is(h, "Upgrade") && has_token(h, "websocket"))
		*seen |= 1;
	else if (name_is(h, "Connection") && has_token(h, "Upgrade"))
		*seen |= 2;
	else if (name_is(h, "Sec-WebSocket-Accept")) {
		if ((*seen & 4) || h->vallen != WS_ACCEPTB64 ||
		    memcmp(h->val, acc, WS_ACCEPTB64) != 0)
			return errbuf(err, errsz,
			    "Sec-WebSocket-Accept does not match");
		*seen |= 4;
	} else if (name_is(h, "Sec-WebSocket-Protocol") ||
	    name_is(h, "Sec-WebSocket-Extensions"))
		return errbuf(err, errsz, "unasked %.*s", (int)h->namelen,
		    h->name);
	return 0;
}

/* The server's answer: 101 with the Accept our key asks for. */
int
ws_parse_response(const uint8_t *buf, size_t len,
    const uint8_t key[WS_KEYLEN], size_t *used, char *err, size_t errsz)
{
	struct head_line	 h;
	const char		*p = (const char *)buf, *end, *line;
	char			 k[WS_KEYB64 + 1], acc[WS_ACCEPTB64 + 1];
	size_t			 n, ll;
	int			 seen = 0, count = 0;

	if ((n = head_end(buf, len)) == 0)
		return len >= WS_MAXREQ ?
		    errbuf(err, errsz, "response head too large") : 0;
	end = p + n - 2;
	if (next_line(&p, end, &line, &ll) == -1 || ll < 12 ||
	    memcmp(line, "HTTP/1.1 101", 12) != 0 ||
	    (ll > 12 && line[12] != ' '))
		return errbuf(err, errsz, "not a 101 answer");
	sodium_bin2base64(k, sizeof(k), key, WS_KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
	ws_accept(k, acc);
	while (p < end) {
		if (++count > WS_MAXHEADERS)
			return errbuf(err, errsz, "too many headers");
		if (next_line(&p, end, &line, &ll) == -1 ||
		    split_header(line, ll, &h) == -1)
			return errbuf(err, errsz, "bad header");
		if (response_header(&h, acc, &seen, err, errsz) == -1)
			return -1;
	}
	if (seen != 7)
		return errbuf(err, errsz, "no Upgrade, Connection or Accept");
	*used = n;
	return 1;
}
