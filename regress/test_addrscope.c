/*
 * The scope of an address (common/wire/addrscope.c): each range of the
 * IANA special-purpose registries at its first and last address and
 * just outside them, IPv4 and IPv6 and the IPv6 forms that carry an IPv4
 * address; DNS names; and the rule of dialPrivateAddresses for each
 * scope, setting and where the peer that gave the address came from.
 * The addresses are only classified: nothing is sent anywhere.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "addrscope.h"
#include "multiaddr.h"
#include "tap.h"

#define PUB	SCOPE_PUBLIC
#define PRIV	SCOPE_PRIVATE
#define LOOP	SCOPE_LOOPBACK
#define LINK	SCOPE_LINKLOCAL
#define NAME	SCOPE_NAME
#define NEVER	SCOPE_NEVER

static const struct {
	const char	*ip;
	int		 scope;
} ips[] = {
	/* 0.0.0.0/8 */
	{ "0.0.0.0", NEVER }, { "0.255.255.255", NEVER },
	{ "1.0.0.0", PUB },
	/* 10.0.0.0/8 */
	{ "9.255.255.255", PUB }, { "10.0.0.0", PRIV },
	{ "10.255.255.255", PRIV }, { "11.0.0.0", PUB },
	/* 100.64.0.0/10 */
	{ "100.63.255.255", PUB }, { "100.64.0.0", PRIV },
	{ "100.127.255.255", PRIV }, { "100.128.0.0", PUB },
	/* 127.0.0.0/8 */
	{ "126.255.255.255", PUB }, { "127.0.0.0", LOOP },
	{ "127.0.0.1", LOOP }, { "127.255.255.255", LOOP },
	{ "128.0.0.0", PUB },
	/* 169.254.0.0/16 */
	{ "169.253.255.255", PUB }, { "169.254.0.0", LINK },
	{ "169.254.255.255", LINK }, { "169.255.0.0", PUB },
	/* 172.16.0.0/12 */
	{ "172.15.255.255", PUB }, { "172.16.0.0", PRIV },
	{ "172.31.255.255", PRIV }, { "172.32.0.0", PUB },
	/* 192.0.0.0/24, 192.0.2.0/24, 192.88.99.0/24 */
	{ "191.255.255.255", PUB }, { "192.0.0.0", NEVER },
	{ "192.0.0.255", NEVER }, { "192.0.1.0", PUB },
	{ "192.0.2.0", NEVER }, { "192.0.2.255", NEVER },
	{ "192.0.3.0", PUB }, { "192.88.98.255", PUB },
	{ "192.88.99.0", NEVER }, { "192.88.99.255", NEVER },
	{ "192.88.100.0", PUB },
	/* 192.168.0.0/16 */
	{ "192.167.255.255", PUB }, { "192.168.0.0", PRIV },
	{ "192.168.255.255", PRIV }, { "192.169.0.0", PUB },
	/* 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24 */
	{ "198.17.255.255", PUB }, { "198.18.0.0", NEVER },
	{ "198.19.255.255", NEVER }, { "198.20.0.0", PUB },
	{ "198.51.99.255", PUB }, { "198.51.100.0", NEVER },
	{ "198.51.100.255", NEVER }, { "198.51.101.0", PUB },
	{ "203.0.112.255", PUB }, { "203.0.113.0", NEVER },
	{ "203.0.113.255", NEVER }, { "203.0.114.0", PUB },
	/* 224.0.0.0/4, 240.0.0.0/4 */
	{ "223.255.255.255", PUB }, { "224.0.0.0", NEVER },
	{ "239.255.255.255", NEVER }, { "240.0.0.0", NEVER },
	{ "255.255.255.254", NEVER }, { "255.255.255.255", NEVER },

	/* ::, ::1, the rest of ::/8 */
	{ "::", NEVER }, { "::1", LOOP }, { "::2", NEVER },
	{ "::127.0.0.1", NEVER },
	/* IPv4-mapped, NAT64, 6to4: the IPv4 address decides */
	{ "::ffff:127.0.0.1", LOOP }, { "::ffff:10.1.2.3", PRIV },
	{ "::ffff:169.254.1.1", LINK }, { "::ffff:0.0.0.0", NEVER },
	{ "::ffff:224.0.0.1", NEVER }, { "::ffff:1.2.3.4", PUB },
	{ "::fffe:127.0.0.1", NEVER },
	{ "64:ff9b::127.0.0.1", LOOP }, { "64:ff9b::192.168.1.1", PRIV },
	{ "64:ff9b::1.2.3.4", PUB }, { "64:ff9b:1::1", PRIV },
	{ "2002:7f00:1::", LOOP }, { "2002:a00:1::1", PRIV },
	{ "2002:a9fe:101::", LINK }, { "2002:102:304::1", PUB },
	{ "2002::", NEVER },
	/* 2000::/3 global unicast, less 2001:db8::/32 */
	{ "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NEVER },
	{ "2000::", PUB }, { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PUB },
	{ "2001:db8::", NEVER },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", NEVER },
	{ "2001:db9::", PUB },
	{ "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUB },
	{ "4000::", NEVER },
	/* fc00::/7, fe80::/10, fec0::/10, ff00::/8 */
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NEVER },
	{ "fc00::", PRIV }, { "fd12:3456::1", PRIV },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PRIV },
	{ "fe00::", NEVER },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NEVER },
	{ "fe80::", LINK }, { "fe80::1", LINK },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", LINK },
	{ "fec0::", PRIV },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PRIV },
	{ "ff00::", NEVER }, { "ff02::1", NEVER },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NEVER },
};

static const struct {
	const char	*ma;
	int		 scope;
} maddrs[] = {
	{ "/ip4/127.0.0.1/tcp/4001", LOOP },
	{ "/ip4/10.0.0.1/tcp/4001/p2p/"
	    "12D3KooWPBRNBzgceXh7Z27wGoyYYz9ggwaYg2dWiwXXe8ieyFCN", PRIV },
	{ "/ip4/1.2.3.4/udp/4001/quic-v1", PUB },
	{ "/ip4/224.0.0.251/udp/5353", NEVER },
	{ "/ip4/0.0.0.0/tcp/4001", NEVER },
	{ "/ip6/::/tcp/4001", NEVER },
	{ "/ip6/::1/tcp/4001/ws", LOOP },
	{ "/ip6/fe80::1/tcp/4001", LINK },
	{ "/ip6zone/eth0/ip6/fe80::1/tcp/4001", LINK },
	{ "/ip6/fd00::1/tcp/4001", PRIV },
	{ "/ip6/ff02::1/tcp/4001", NEVER },
	{ "/ip6/2600::1/tcp/4001", PUB },
	{ "/dns4/localhost/tcp/4001", LOOP },
	{ "/dns4/LocalHost./tcp/4001", LOOP },
	{ "/dns6/a.b.localhost/tcp/4001", LOOP },
	{ "/dns/notlocalhost/tcp/4001", NAME },
	{ "/dns/localhost.example/tcp/4001", NAME },
	{ "/dns4/node.example.org/tcp/4001", NAME },
	{ "/dnsaddr/bootstrap.libp2p.io", NAME },
	{ "/p2p/12D3KooWPBRNBzgceXh7Z27wGoyYYz9ggwaYg2dWiwXXe8ieyFCN/"
	    "p2p-circuit", NEVER },
};

static int
ip16(const char *s, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, s, ip + 12) == 1) {
		ip[10] = ip[11] = 0xff;
		return 0;
	}
	return inet_pton(AF_INET6, s, ip) == 1 ? 0 : -1;
}

static void
test_ips(void)
{
	uint8_t	 ip[16];
	size_t	 i;
	int	 got;

	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		if (!ok(ip16(ips[i].ip, ip) == 0, "%s parses", ips[i].ip))
			continue;
		got = addr_scope_ip(ip);
		ok(got == ips[i].scope, "%s is %s: %s", ips[i].ip,
		    addr_scope_name(ips[i].scope), addr_scope_name(got));
	}
}

static void
test_maddrs(void)
{
	struct multiaddr	 ma;
	char			 err[128];
	size_t			 i;
	int			 got;

	for (i = 0; i < sizeof(maddrs) / sizeof(maddrs[0]); i++) {
		if (!ok(maddr_parse(maddrs[i].ma, &ma, err, sizeof(err)) == 0,
		    "%s parses", maddrs[i].ma))
			continue;
		got = addr_scope(&ma);
		ok(got == maddrs[i].scope, "%s is %s: %s", maddrs[i].ma,
		    addr_scope_name(maddrs[i].scope), addr_scope_name(got));
	}
	ma.len = 0;
	ok(addr_scope(&ma) == NEVER, "an empty multiaddr is unusable");
	ma.len = 2;
	ma.b[0] = 0x04;		/* /ip4 with two bytes of its four */
	ma.b[1] = 0x7f;
	ok(addr_scope(&ma) == NEVER, "a truncated multiaddr is unusable");
}

/* dialPrivateAddresses: want[policy][from][scope] */
static void
test_allowed(void)
{
	static const char *const pnames[] = { "auto", "true", "false" };
	static const int scopes[] = { PUB, PRIV, LOOP, LINK, NAME, NEVER };
	static const int want[3][6][6] = {
		[DIALPRIV_AUTO] = {
			/* scope:  pub priv loop link name never */
			[PUB] =   { 1, 0, 0, 0, 1, 0 },
			[PRIV] =  { 1, 1, 0, 1, 1, 0 },
			[LOOP] =  { 1, 1, 1, 1, 1, 0 },
			[LINK] =  { 1, 1, 0, 1, 1, 0 },
			[NAME] =  { 1, 0, 0, 0, 1, 0 },
			[NEVER] = { 1, 0, 0, 0, 1, 0 },
		},
		[DIALPRIV_TRUE] = {
			[PUB] =   { 1, 1, 1, 1, 1, 0 },
			[PRIV] =  { 1, 1, 1, 1, 1, 0 },
			[LOOP] =  { 1, 1, 1, 1, 1, 0 },
			[LINK] =  { 1, 1, 1, 1, 1, 0 },
			[NAME] =  { 1, 1, 1, 1, 1, 0 },
			[NEVER] = { 1, 1, 1, 1, 1, 0 },
		},
		[DIALPRIV_FALSE] = {
			[PUB] =   { 1, 0, 0, 0, 1, 0 },
			[PRIV] =  { 1, 0, 0, 0, 1, 0 },
			[LOOP] =  { 1, 0, 0, 0, 1, 0 },
			[LINK] =  { 1, 0, 0, 0, 1, 0 },
			[NAME] =  { 1, 0, 0, 0, 1, 0 },
			[NEVER] = { 1, 0, 0, 0, 1, 0 },
		},
	};
	int	 p, f, s, got;

	for (p = 0; p < 3; p++)
		for (f = 0; f < 6; f++)
			for (s = 0; s < 6; s++) {
				got = addr_scope_allowed(p, scopes[s],
				    scopes[f]);
				ok(got == want[p][scopes[f]][scopes[s]],
				    "%s: a %s address from a peer on %s: %s",
				    pnames[p], addr_scope_name(scopes[s]),
				    addr_scope_name(scopes[f]),
				    got ? "kept" : "dropped");
			}
	ok(!addr_scope_allowed(42, PRIV, LOOP) &&
	    addr_scope_allowed(42, PUB, PUB),
	    "an unknown setting keeps only public addresses");
	ok(strcmp(addr_scope_name(-1), "unknown") == 0 &&
	    strcmp(addr_scope_name(NEVER + 1), "unknown") == 0,
	    "scope names out of range");
}

int
main(void)
{
	test_ips();
	test_maddrs();
	test_allowed();
	return tap_done();
}
