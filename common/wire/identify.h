#ifndef PEERD_IDENTIFY_H
#define PEERD_IDENTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "multiaddr.h"

#define ID_MAXADDRS	32
#define ID_MAXPROTOS	64
#define ID_MAXSTR	256
#define ID_MAXPUBKEY	128
#define ID_MAXRECORD	4096
#define ID_ADDRPOOL	2048	/* listen addresses, binary */
#define ID_PROTOPOOL	4096	/* protocol IDs, NUL-terminated */

/*
 * An /ipfs/id/1.0.0 message.  Listen addresses and protocol IDs live
 * in pools to keep the struct small; use the accessors below.
 */
struct identify_msg {
	uint8_t		 pubkey[ID_MAXPUBKEY];
	size_t		 pubkeylen;
	size_t		 naddrs;
	uint16_t	 addroff[ID_MAXADDRS];
	uint16_t	 addrlen[ID_MAXADDRS];
	uint8_t		 addrpool[ID_ADDRPOOL];
	size_t		 addrpoollen;
	int		 has_observed;
	struct multiaddr observed;
	size_t		 nprotos;
	uint16_t	 protooff[ID_MAXPROTOS];
	char		 protopool[ID_PROTOPOOL];
	size_t		 protopoollen;
	char		 protocol_version[ID_MAXSTR];
	char		 agent_version[ID_MAXSTR];
	uint8_t		 record[ID_MAXRECORD];
	size_t		 recordlen;
	size_t		 nbad;		/* malformed, skipped */
	size_t		 ndropped;	/* valid entries over a bound */
};

void	 identify_init(struct identify_msg *);
int	 identify_add_addr(struct identify_msg *, const struct multiaddr *);
int	 identify_add_proto(struct identify_msg *, const char *);
int	 identify_addr(const struct identify_msg *, size_t,
	    struct multiaddr *);
const char *identify_proto(const struct identify_msg *, size_t);

int	 identify_decode(const uint8_t *, size_t, struct identify_msg *);
int	 identify_encode(const struct identify_msg *, uint8_t *, size_t,
	    size_t *);

#endif /* PEERD_IDENTIFY_H */
