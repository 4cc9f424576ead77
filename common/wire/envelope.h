#ifndef PEERD_ENVELOPE_H
#define PEERD_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "identify.h"
#include "multiaddr.h"
#include "peerid.h"

#define ENVELOPE_DOMAIN_PEER_RECORD	"libp2p-peer-record"
#define ENVELOPE_DOMAIN_RELAY_RSVP	"libp2p-relay-rsvp"

/* Payload types: the multicodec as uvarint bytes. */
#define ENVELOPE_PTYPE_LEN		2
#define ENVELOPE_PTYPE_PEER_RECORD	((const uint8_t *)"\x03\x01")
#define ENVELOPE_PTYPE_RELAY_RSVP	((const uint8_t *)"\x03\x02")

#define ENVELOPE_MAXSIGNED	(ID_MAXRECORD + 256)	/* to verify */
#define ENVELOPE_SIGLEN		64			/* Ed25519 */

/* A decoded envelope points into the buffer it was decoded from. */
struct envelope {
	const uint8_t	*pubkey;	/* PublicKey protobuf */
	const uint8_t	*ptype;
	const uint8_t	*payload;
	const uint8_t	*sig;
	size_t		 pubkeylen;
	size_t		 ptypelen;
	size_t		 payloadlen;
	size_t		 siglen;
};

struct peer_record {
	struct peerid	 id;
	uint64_t	 seq;
	struct multiaddr addrs[ID_MAXADDRS];
	size_t		 naddrs;
	size_t		 nbad;		/* addresses skipped */
};

int	 envelope_signing_buf(const char *, const uint8_t *, size_t,
	    const uint8_t *, size_t, uint8_t *, size_t, size_t *);
int	 envelope_encode(const struct envelope *, uint8_t *, size_t,
	    size_t *);
int	 envelope_decode(const uint8_t *, size_t, struct envelope *);
int	 envelope_verify(const struct envelope *, const char *);

int	 peer_record_encode(const struct peer_record *, uint8_t *, size_t,
	    size_t *);
int	 peer_record_decode(const uint8_t *, size_t, struct peer_record *);
int	 peer_record_open(const uint8_t *, size_t, struct peer_record *);

#endif /* PEERD_ENVELOPE_H */
