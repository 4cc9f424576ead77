/*
 * Where an address leads: public, a private network, this host, the
 * link, a DNS name, or nowhere a dial should go.  The ranges are those
 * of the IANA special-purpose registries (RFC 6890 and its updates).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrscope.h"

static const struct {
	uint32_t	 net;
	int		 bits;
	int		 scope;
} ranges4[] = {
	{ 0x00000000, 8,  SCOPE_NEVER },	/* this network, 0.0.0.0 */
	{ 0x0a000000, 8,  SCOPE_PRIVATE },	/* RFC 1918 */
	{ 0x64400000, 10, SCOPE_PRIVATE },	/* shared, CGNAT: RFC 6598 */
	{ 0x7f000000, 8,  SCOPE_LOOPBACK },
	{ 0xa9fe0000, 16, SCOPE_LINKLOCAL },
	{ 0xac100000, 12, SCOPE_PRIVATE },	/* RFC 1918 */
	{ 0xc0000000, 24, SCOPE_NEVER },	/* IETF protocol assignments */
	{ 0xc0000200, 24, SCOPE_NEVER },	/* documentation */
	{ 0xc0586300, 24, SCOPE_NEVER },	/* 6to4 relay anycast */
	{ 0xc0a80000, 16, SCOPE_PRIVATE },	/* RFC 1918 */
	{ 0xc6120000, 15, SCOPE_NEVER },	/* benchmarking */
	{ 0xc6336400, 24, SCOPE_NEVER },	/* documentation */
	{ 0xcb007100, 24, SCOPE_NEVER },	/* documentation */
	{ 0xe0000000, 4,  SCOPE_NEVER },	/* multicast */
	{ 0xf0000000, 4,  SCOPE_NEVER },	/* reserved, broadcast */
};

static const char *const names[] = {
	"public", "private", "loopback", "link-local", "name", "unusable"
};

static int
scope4(const uint8_t *b)
{
	uint32_t	 a;
	size_t		 i;

	a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	for (i = 0; i < sizeof(ranges4) / sizeof(ranges4[0]); i++)
		if ((a >> (32 - ranges4[i].bits)) ==
		    (ranges4[i].net >> (32 - ranges4[i].bits)))
			return ranges4[i].scope;
	return SCOPE_PUBLIC;
}

static int
zero(const uint8_t *b, size_t n)
{
	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

/* Forms that carry an IPv4 address are judged by it. */
static int
scope6(const uint8_t *ip)
{
	static const uint8_t	 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t	 nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t	 nat64local[6] = { 0x00, 0x64, 0xff, 0x9b,
				    0x00, 0x01 };
	static const uint8_t	 doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	if (memcmp(ip, mapped, 12) == 0 || memcmp(ip, nat64, 12) == 0)
		return scope4(ip + 12);
	if (ip[0] == 0x20 && ip[1] == 0x02)		/* 6to4 */
		return scope4(ip + 2);
	if (zero(ip, 15) && ip[15] == 1)
		return SCOPE_LOOPBACK;
	if ((ip[0] & 0xfe) == 0xfc)			/* unique local */
		return SCOPE_PRIVATE;
	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
		return SCOPE_LINKLOCAL;
	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0xc0)	/* site-local */
		return SCOPE_PRIVATE;
	if (memcmp(ip, nat64local, sizeof(nat64local)) == 0)
		return SCOPE_PRIVATE;
	if (memcmp(ip, doc, sizeof(doc)) == 0)
		return SCOPE_NEVER;
	/* global unicast; the rest (::, multicast) is not for a dial */
	return (ip[0] & 0xe0) == 0x20 ? SCOPE_PUBLIC : SCOPE_NEVER;
}

int
addr_scope_ip(const uint8_t ip[16])
{
	return scope6(ip);
}

/* RFC 6761: localhost and its subdomains are this host. */
static int
localhost(const uint8_t *name, size_t len)
{
	static const char	 lh[] = "localhost";
	size_t			 n = sizeof(lh) - 1;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len < n || strncasecmp((const char *)name + len - n, lh, n) != 0)
		return 0;
	return len == n || name[len - n - 1] == '.';
}

/* By the first component: where the address leads. */
int
addr_scope(const struct multiaddr *ma)
{
	struct maddr_comp	 c;
	size_t			 off = 0;

	if (maddr_next(ma, &off, &c) != 1)
		return SCOPE_NEVER;
	switch (c.code) {
	case MADDR_IP4:
		return c.vlen == 4 ? scope4(c.val) : SCOPE_NEVER;
	case MADDR_IP6:
		return c.vlen == 16 ? scope6(c.val) : SCOPE_NEVER;
	case MADDR_IP6ZONE:
		return SCOPE_LINKLOCAL;
	case MADDR_DNS:
	case MADDR_DNS4:
	case MADDR_DNS6:
	case MADDR_DNSADDR:
		return localhost(c.val, c.vlen) ? SCOPE_LOOPBACK : SCOPE_NAME;
	default:
		return SCOPE_NEVER;
	}
}

const char *
addr_scope_name(int scope)
{
	if (scope < 0 || scope >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[scope];
}

/*
 * May an address of this scope, learned from a peer whose connection
 * came from an address of scope from, be dialled under the policy?
 * auto is go-libp2p's identify rule: a peer on loopback may name any
 * non-public address, one on a private network or the link any but
 * loopback, any other peer none.
 */
int
addr_scope_allowed(int policy, int scope, int from)
{
	switch (scope) {
	case SCOPE_PUBLIC:
	case SCOPE_NAME:
		return 1;
	case SCOPE_PRIVATE:
	case SCOPE_LOOPBACK:
	case SCOPE_LINKLOCAL:
		break;
	default:
		return 0;
	}
	if (policy == DIALPRIV_TRUE)
		return 1;
	if (policy != DIALPRIV_AUTO)
		return 0;
	if (from == SCOPE_LOOPBACK)
		return 1;
	if (from == SCOPE_PRIVATE || from == SCOPE_LINKLOCAL)
		return scope != SCOPE_LOOPBACK;
	return 0;
}

/*
 * An IPv4 or IPv6 address with an optional /bits; the host bits must be
 * zero.  0 on success, -1 for anything else.
 */
int
ip_prefix_parse(const char *s, struct ip_prefix *p)
{
	char		 addr[INET6_ADDRSTRLEN];
	const char	*slash, *errstr;
	size_t		 n;
	int		 v4, max, i;

	memset(p, 0, sizeof(*p));
	n = (slash = strchr(s, '/')) != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if ((v4 = inet_pton(AF_INET, addr, p->ip + 12)) == 1) {
		p->ip[10] = p->ip[11] = 0xff;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, p->ip) == 1)
		max = 128;
	else
		return -1;
	p->bits = max;
	if (slash != NULL) {
		p->bits = strtonum(slash + 1, 0, max, &errstr);
		if (errstr != NULL || slash[1] == '\0')
			return -1;
	}
	if (v4 == 1)
		p->bits += 96;
	for (i = p->bits; i < 128; i++)
		if (p->ip[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

int
ip_prefix_match(const struct ip_prefix *p, const uint8_t ip[16])
{
	int	 full = p->bits / 8, rest = p->bits % 8;

	if (memcmp(p->ip, ip, full) != 0)
		return 0;
	return rest == 0 ||
	    ((p->ip[full] ^ ip[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}
