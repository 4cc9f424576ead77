/*
 * Where an address leads, for the decision whether to dial an address a
 * peer gave (connectionManager.dialPrivateAddresses).  Pure functions of
 * the bytes, in the manner of go-multiaddr's IsPublicAddr and
 * go-libp2p's identify filter.
 */
#ifndef PEERD_ADDRSCOPE_H
#define PEERD_ADDRSCOPE_H

#include <stdint.h>

#include "multiaddr.h"

enum addr_scope {
	SCOPE_PUBLIC,
	SCOPE_PRIVATE,		/* RFC 1918, 100.64/10, fc00::/7, fec0::/10 */
	SCOPE_LOOPBACK,		/* 127/8, ::1, localhost and *.localhost */
	SCOPE_LINKLOCAL,	/* 169.254/16, fe80::/10, any /ip6zone */
	SCOPE_NAME,		/* DNS: what it resolves to decides */
	SCOPE_NEVER		/* unspecified, multicast, reserved, not IP */
};

/* connectionManager.dialPrivateAddresses */
#define DIALPRIV_AUTO	0
#define DIALPRIV_TRUE	1
#define DIALPRIV_FALSE	2

int		 addr_scope_ip(const uint8_t [16]);	/* v4: ::ffff:a.b.c.d */
int		 addr_scope(const struct multiaddr *);
const char	*addr_scope_name(int);
int		 addr_scope_allowed(int, int, int);

/* An address or a prefix, "192.0.2.1", "10.0.0.0/8", "2001:db8::/32". */
struct ip_prefix {
	uint8_t		 ip[16];		/* v4: ::ffff:a.b.c.d */
	int		 bits;			/* of ip, v4 counted as v6 */
};

int		 ip_prefix_parse(const char *, struct ip_prefix *);
int		 ip_prefix_match(const struct ip_prefix *, const uint8_t [16]);

#endif /* PEERD_ADDRSCOPE_H */
