/*
 * Multiaddrs: a sequence of (protocol code, value) components, held in
 * their binary form and converted to and from "/ip4/1.2.3.4/tcp/80".
 * Only the protocols peerd speaks are known; anything else is refused.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "multiaddr.h"
#include "pb.h"
#include "peerid.h"
#include "varint.h"

enum vkind {
	V_NONE,
	V_IP4,
	V_IP6,
	V_PORT,
	V_NAME,
	V_PEERID
};

static const struct mproto {
	uint32_t	 code;
	const char	*name;
	enum vkind	 kind;
} protos[] = {
	{ MADDR_IP4,		"ip4",		V_IP4 },
	{ MADDR_TCP,		"tcp",		V_PORT },
	{ MADDR_IP6,		"ip6",		V_IP6 },
	{ MADDR_IP6ZONE,	"ip6zone",	V_NAME },
	{ MADDR_DNS,		"dns",		V_NAME },
	{ MADDR_DNS4,		"dns4",		V_NAME },
	{ MADDR_DNS6,		"dns6",		V_NAME },
	{ MADDR_DNSADDR,	"dnsaddr",	V_NAME },
	{ MADDR_UDP,		"udp",		V_PORT },
	{ MADDR_P2P_CIRCUIT,	"p2p-circuit",	V_NONE },
	{ MADDR_P2P,		"p2p",		V_PEERID },
	{ MADDR_TLS,		"tls",		V_NONE },
	{ MADDR_QUIC_V1,	"quic-v1",	V_NONE },
	{ MADDR_WEBTRANSPORT,	"webtransport",	V_NONE },
	{ MADDR_WS,		"ws",		V_NONE },
	{ MADDR_WSS,		"wss",		V_NONE },
};

#define NPROTOS		(sizeof(protos) / sizeof(protos[0]))
#define VALSTR_MAX	256	/* longest text value + NUL */
#define ERRVAL_MAX	64	/* value bytes quoted in an error */

static const struct mproto *
proto_bycode(uint64_t code)
{
	size_t	 i;

	for (i = 0; i < NPROTOS; i++)
		if (protos[i].code == code)
			return &protos[i];
	return NULL;
}

static const struct mproto *
proto_byname(const char *name, size_t len)
{
	size_t	 i;

	if (len == 4 && memcmp(name, "ipfs", 4) == 0)
		return proto_bycode(MADDR_P2P);
	for (i = 0; i < NPROTOS; i++)
		if (strlen(protos[i].name) == len &&
		    memcmp(protos[i].name, name, len) == 0)
			return &protos[i];
	return NULL;
}

const char *
maddr_proto_name(uint32_t code)
{
	const struct mproto	*p;

	return (p = proto_bycode(code)) == NULL ? NULL : p->name;
}

static size_t
fixed_size(enum vkind kind)
{
	switch (kind) {
	case V_IP4:
		return 4;
	case V_IP6:
		return 16;
	case V_PORT:
		return 2;
	default:
		return 0;
	}
}

/* Names (dns*, ip6zone): UTF-8 text without '/' or control characters. */
static int
name_valid(const uint8_t *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > MADDR_NAMEMAX || !pb_utf8_valid(s, len))
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
value_valid(enum vkind kind, const uint8_t *val, size_t vlen)
{
	struct peerid	 id;

	if (kind == V_NAME)
		return name_valid(val, vlen);
	if (kind == V_PEERID)
		return peerid_from_mh(val, vlen, &id) == 0;
	return vlen == fixed_size(kind);
}

/* Read and check the component at off; *next is the offset after it. */
static int
comp_read(const uint8_t *b, size_t len, size_t off, struct maddr_comp *c,
    size_t *next)
{
	const struct mproto	*p;
	uint64_t		 code, vlen;
	size_t			 n;

	if (off >= len || uvarint_decode(b + off, len - off, &code, &n) != 1 ||
	    (p = proto_bycode(code)) == NULL)
		return -1;
	off += n;
	if (p->kind == V_NAME || p->kind == V_PEERID) {
		if (uvarint_decode(b + off, len - off, &vlen, &n) != 1)
			return -1;
		off += n;
	} else
		vlen = fixed_size(p->kind);
	if (vlen > len - off || !value_valid(p->kind, b + off, (size_t)vlen))
		return -1;
	c->code = p->code;
	c->val = b + off;
	c->vlen = (size_t)vlen;
	*next = off + (size_t)vlen;
	return 0;
}

/* Returns 1 with the component at *off, 0 at the end, -1 if malformed. */
int
maddr_next(const struct multiaddr *ma, size_t *off, struct maddr_comp *c)
{
	size_t	 next;

	if (*off == ma->len)
		return 0;
	if (ma->len > MADDR_MAXLEN ||
	    comp_read(ma->b, ma->len, *off, c, &next) == -1)
		return -1;
	*off = next;
	return 1;
}

int
maddr_decode(const uint8_t *b, size_t len, struct multiaddr *ma)
{
	struct maddr_comp	 c;
	size_t			 off = 0;

	if (len == 0 || len > MADDR_MAXLEN)
		return -1;
	while (off < len)
		if (comp_read(b, len, off, &c, &off) == -1)
			return -1;
	memcpy(ma->b, b, len);
	ma->len = len;
	return 0;
}

/* One component at the end of ma. */
int
maddr_put(struct multiaddr *ma, uint32_t code, const uint8_t *val,
    size_t vlen)
{
	const struct mproto	*p;
	uint8_t			 c[UVARINT_MAXLEN], l[UVARINT_MAXLEN];
	size_t			 cl, ll = 0;

	if ((p = proto_bycode(code)) == NULL)
		return -1;
	cl = uvarint_encode(p->code, c);
	if (p->kind == V_NAME || p->kind == V_PEERID)
		ll = uvarint_encode(vlen, l);
	if (vlen > MADDR_MAXLEN || cl + ll + vlen > MADDR_MAXLEN - ma->len)
		return -1;
	memcpy(ma->b + ma->len, c, cl);
	memcpy(ma->b + ma->len + cl, l, ll);
	if (vlen > 0)
		memcpy(ma->b + ma->len + cl + ll, val, vlen);
	ma->len += cl + ll + vlen;
	return 0;
}

static int
parse_port(const char *s, uint8_t out[2], const char **why)
{
	const char	*errstr;
	long long	 n;

	if (s[strspn(s, "0123456789")] != '\0') {
		*why = "invalid port";
		return -1;
	}
	n = strtonum(s, 0, 65535, &errstr);
	if (errstr != NULL) {
		*why = "port out of range";
		return -1;
	}
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	return 0;
}

/* Text value to binary; *why names the problem when it fails. */
static int
parse_value(const struct mproto *p, const char *s, uint8_t *out,
    size_t *outlen, const char **why)
{
	struct peerid	 id;

	*outlen = fixed_size(p->kind);
	switch (p->kind) {
	case V_IP4:
		*why = "invalid IPv4 address";
		return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
	case V_IP6:
		*why = "invalid IPv6 address";
		return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
	case V_PORT:
		return parse_port(s, out, why);
	case V_NAME:
		*why = "invalid name";
		*outlen = strlen(s);
		if (!name_valid((const uint8_t *)s, *outlen))
			return -1;
		memcpy(out, s, *outlen);
		return 0;
	case V_PEERID:
		*why = "invalid peer ID";
		if (peerid_parse(s, &id) == -1)
			return -1;
		memcpy(out, id.mh, id.len);
		*outlen = id.len;
		return 0;
	default:
		*why = "unexpected value";
		return -1;
	}
}

/*
 * Parse one component at *sp (just past its '/'), append it to ma and
 * leave *sp at the '/' or NUL that follows.
 */
static int
parse_comp(const char **sp, struct multiaddr *ma, char *err, size_t errlen)
{
	const struct mproto	*p;
	const char		*s = *sp, *why;
	char			 vstr[VALSTR_MAX];
	uint8_t			 val[VALSTR_MAX];
	size_t			 nlen, vlen = 0;

	if ((nlen = strcspn(s, "/")) == 0)
		return errbuf(err, errlen, s[0] == '\0' ? "trailing slash" :
		    "empty protocol name");
	if ((p = proto_byname(s, nlen)) == NULL)
		return errbuf(err, errlen, "unknown protocol \"%.*s\"",
		    (int)(nlen < ERRVAL_MAX ? nlen : ERRVAL_MAX), s);
	s += nlen;
	if (p->kind != V_NONE) {
		if (s[0] == '\0' || s[1] == '/' || s[1] == '\0')
			return errbuf(err, errlen, "missing value for %s",
			    p->name);
		nlen = strcspn(++s, "/");
		if (nlen >= sizeof(vstr))
			return errbuf(err, errlen, "/%s/%.*s...: value too long",
			    p->name, ERRVAL_MAX, s);
		memcpy(vstr, s, nlen);
		vstr[nlen] = '\0';
		s += nlen;
		if (parse_value(p, vstr, val, &vlen, &why) == -1)
			return errbuf(err, errlen, "/%s/%.*s: %s", p->name,
			    ERRVAL_MAX, vstr, why);
	}
	if (maddr_put(ma, p->code, val, vlen) == -1)
		return errbuf(err, errlen, "multiaddr too long");
	*sp = s;
	return 0;
}

int
maddr_parse(const char *text, struct multiaddr *ma, char *err, size_t errlen)
{
	const char	*s = text;

	ma->len = 0;
	if (s == NULL || s[0] == '\0' || strcmp(s, "/") == 0)
		return errbuf(err, errlen, "empty multiaddr");
	if (s[0] != '/')
		return errbuf(err, errlen, "multiaddr must start with '/'");
	while (*s != '\0') {
		s++;
		if (parse_comp(&s, ma, err, errlen) == -1) {
			ma->len = 0;
			return -1;
		}
	}
	return 0;
}

static int
put_str(char *buf, size_t sz, size_t *off, const char *s, size_t len)
{
	if (len >= sz - *off)
		return -1;
	memcpy(buf + *off, s, len);
	*off += len;
	buf[*off] = '\0';
	return 0;
}

static int
format_value(const struct mproto *p, const struct maddr_comp *c, char *out,
    size_t outsz)
{
	struct peerid	 id;

	switch (p->kind) {
	case V_IP4:
		return inet_ntop(AF_INET, c->val, out, outsz) ? 0 : -1;
	case V_IP6:
		return inet_ntop(AF_INET6, c->val, out, outsz) ? 0 : -1;
	case V_PORT:
		snprintf(out, outsz, "%u", (unsigned int)c->val[0] << 8 |
		    c->val[1]);
		return 0;
	case V_NAME:
		if (c->vlen >= outsz)
			return -1;
		memcpy(out, c->val, c->vlen);
		out[c->vlen] = '\0';
		return 0;
	case V_PEERID:
		if (peerid_from_mh(c->val, c->vlen, &id) == -1)
			return -1;
		return peerid_format(&id, out, outsz);
	default:
		out[0] = '\0';
		return 0;
	}
}

/* Returns 0, or -1 when the address is malformed or buf too small. */
int
maddr_format(const struct multiaddr *ma, char *buf, size_t sz)
{
	const struct mproto	*p;
	struct maddr_comp	 c;
	char			 v[VALSTR_MAX];
	size_t			 off = 0, pos = 0;
	int			 r;

	if (sz == 0)
		return -1;
	buf[0] = '\0';
	if (ma->len == 0)
		return put_str(buf, sz, &pos, "/", 1);
	while ((r = maddr_next(ma, &off, &c)) == 1) {
		p = proto_bycode(c.code);
		if (put_str(buf, sz, &pos, "/", 1) == -1 ||
		    put_str(buf, sz, &pos, p->name, strlen(p->name)) == -1)
			return -1;
		if (p->kind == V_NONE)
			continue;
		if (format_value(p, &c, v, sizeof(v)) == -1 ||
		    put_str(buf, sz, &pos, "/", 1) == -1 ||
		    put_str(buf, sz, &pos, v, strlen(v)) == -1)
			return -1;
	}
	return r;
}

/* A leading /ip4 or /ip6 followed by /tcp, as a socket address. */
int
maddr_to_sockaddr(const struct multiaddr *ma, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct maddr_comp	 ip, port;
	size_t			 off = 0;

	if (maddr_next(ma, &off, &ip) != 1 ||
	    maddr_next(ma, &off, &port) != 1 || port.code != MADDR_TCP)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (ip.code == MADDR_IP4) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip.val, 4);
		memcpy(&sin->sin_port, port.val, 2);
		*sslen = sizeof(*sin);
	} else if (ip.code == MADDR_IP6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip.val, 16);
		memcpy(&sin6->sin6_port, port.val, 2);
		*sslen = sizeof(*sin6);
	} else
		return -1;
	return 0;
}

/* /ip4 or /ip6 plus /tcp; IPv4-mapped IPv6 addresses become /ip4. */
int
maddr_from_sockaddr(const struct sockaddr *sa, struct multiaddr *ma)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*a6;

	ma->len = 0;
	sin = (const struct sockaddr_in *)sa;
	sin6 = (const struct sockaddr_in6 *)sa;
	if (sa->sa_family == AF_INET) {
		maddr_put(ma, MADDR_IP4, (const uint8_t *)&sin->sin_addr, 4);
		maddr_put(ma, MADDR_TCP, (const uint8_t *)&sin->sin_port, 2);
	} else if (sa->sa_family == AF_INET6) {
		a6 = (const uint8_t *)&sin6->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			maddr_put(ma, MADDR_IP4, a6 + 12, 4);
		else
			maddr_put(ma, MADDR_IP6, a6, 16);
		maddr_put(ma, MADDR_TCP, (const uint8_t *)&sin6->sin6_port, 2);
	} else
		return -1;
	return 0;
}

/* The peer ID of the last /p2p component. */
int
maddr_get_peerid(const struct multiaddr *ma, struct peerid *id)
{
	struct maddr_comp	 c;
	size_t			 off = 0;
	int			 r, found = 0;

	while ((r = maddr_next(ma, &off, &c)) == 1)
		if (c.code == MADDR_P2P)
			found = peerid_from_mh(c.val, c.vlen, id) == 0;
	return r == 0 && found ? 0 : -1;
}

int
maddr_append(struct multiaddr *ma, const struct multiaddr *tail)
{
	if (ma->len > MADDR_MAXLEN || tail->len > MADDR_MAXLEN - ma->len)
		return -1;
	memmove(ma->b + ma->len, tail->b, tail->len);
	ma->len += tail->len;
	return 0;
}

int
maddr_append_peerid(struct multiaddr *ma, const struct peerid *id)
{
	struct peerid	 chk;

	if (peerid_from_mh(id->mh, id->len, &chk) == -1 ||
	    ma->len > MADDR_MAXLEN)
		return -1;
	return maddr_put(ma, MADDR_P2P, id->mh, id->len);
}

/*
 * Split at the first /p2p-circuit: relay gets what precedes it, dest
 * what follows (either may be empty).
 */
int
maddr_split_circuit(const struct multiaddr *ma, struct multiaddr *relay,
    struct multiaddr *dest)
{
	struct multiaddr	 in = *ma;
	struct maddr_comp	 c;
	size_t			 off = 0, start = 0;
	int			 r;

	while ((r = maddr_next(&in, &off, &c)) == 1) {
		if (c.code == MADDR_P2P_CIRCUIT)
			break;
		start = off;
	}
	if (r != 1)
		return -1;
	relay->len = start;
	memcpy(relay->b, in.b, start);
	dest->len = in.len - off;
	memcpy(dest->b, in.b + off, dest->len);
	return 0;
}

int
maddr_has(const struct multiaddr *ma, uint32_t code)
{
	struct maddr_comp	 c;
	size_t			 off = 0;

	while (maddr_next(ma, &off, &c) == 1)
		if (c.code == code)
			return 1;
	return 0;
}

int
maddr_equal(const struct multiaddr *a, const struct multiaddr *b)
{
	return a->len == b->len && a->len <= MADDR_MAXLEN &&
	    memcmp(a->b, b->b, a->len) == 0;
}
