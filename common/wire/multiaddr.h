#ifndef PEERD_MULTIADDR_H
#define PEERD_MULTIADDR_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "peerid.h"

#define MADDR_MAXLEN	512	/* binary bytes */
/* The longest text form, 256 times /webtransport, with its NUL */
#define MADDR_STRMAX	3330
#define MADDR_NAMEMAX	255	/* dns*, ip6zone values */

/* Protocol codes (multiformats/multiaddr protocols.csv) */
#define MADDR_IP4		4
#define MADDR_TCP		6
#define MADDR_IP6		41
#define MADDR_IP6ZONE		42
#define MADDR_DNS		53
#define MADDR_DNS4		54
#define MADDR_DNS6		55
#define MADDR_DNSADDR		56
#define MADDR_UDP		273
#define MADDR_P2P_CIRCUIT	290
#define MADDR_P2P		421
#define MADDR_TLS		448
#define MADDR_QUIC_V1		461
#define MADDR_WEBTRANSPORT	465
#define MADDR_CERTHASH		466	/* not supported: refused */
#define MADDR_WS		477
#define MADDR_WSS		478

struct multiaddr {
	size_t		 len;
	uint8_t		 b[MADDR_MAXLEN];
};

/* One component; val points into the multiaddr (vlen 0: no value). */
struct maddr_comp {
	uint32_t	 code;
	const uint8_t	*val;
	size_t		 vlen;
};

int	 maddr_parse(const char *, struct multiaddr *, char *, size_t);
int	 maddr_decode(const uint8_t *, size_t, struct multiaddr *);
int	 maddr_format(const struct multiaddr *, char *, size_t);
int	 maddr_next(const struct multiaddr *, size_t *, struct maddr_comp *);
const char *maddr_proto_name(uint32_t);

int	 maddr_to_sockaddr(const struct multiaddr *,
	    struct sockaddr_storage *, socklen_t *);
int	 maddr_from_sockaddr(const struct sockaddr *, struct multiaddr *);
int	 maddr_get_peerid(const struct multiaddr *, struct peerid *);
int	 maddr_append(struct multiaddr *, const struct multiaddr *);
int	 maddr_put(struct multiaddr *, uint32_t, const uint8_t *, size_t);
int	 maddr_append_peerid(struct multiaddr *, const struct peerid *);
int	 maddr_split_circuit(const struct multiaddr *, struct multiaddr *,
	    struct multiaddr *);
int	 maddr_has(const struct multiaddr *, uint32_t);
int	 maddr_equal(const struct multiaddr *, const struct multiaddr *);

#endif /* PEERD_MULTIADDR_H */
