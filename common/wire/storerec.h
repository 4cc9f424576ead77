/*
 * The records of the store: known peers, bans and relay accounting.
 * Each value starts with a version byte, then protobuf fields; keys are
 * binary.  The same code encodes, decodes and checks them in stored, in
 * the offline restore and in the engine's updates.
 */
#ifndef PEERD_STOREREC_H
#define PEERD_STOREREC_H

#include <stddef.h>
#include <stdint.h>

#include "peerid.h"

#define REC_VERSION		1
#define REC_MAXLEN		8192

#define PREC_MAXADDRS		8
#define PREC_ADDRMAX		128
#define PREC_MAXPROTOS		32
#define PREC_PROTOLEN		128
#define PREC_AGENTLEN		128
#define PREC_MAXFAILS		1000

#define SRC_BOOTSTRAP		0x01
#define SRC_IDENTIFY		0x02
#define SRC_RELAY		0x04
#define SRC_GOSSIP		0x08
#define SRC_MANUAL		0x10
#define SRC_INBOUND		0x20
#define SRC_DIALLED		0x40
#define SRC_ALL			0x7f

struct prec_addr {
	uint8_t		 b[PREC_ADDRMAX];
	size_t		 len;
	int64_t		 last_ok;
	int64_t		 last_fail;
};

struct peer_rec {
	uint32_t	 sources;
	char		 agent[PREC_AGENTLEN];
	char		 protos[PREC_MAXPROTOS][PREC_PROTOLEN];
	size_t		 nprotos;
	struct prec_addr addrs[PREC_MAXADDRS];
	size_t		 naddrs;
	int64_t		 first_seen;
	int64_t		 last_seen;
	int64_t		 last_ok;
	int64_t		 last_fail;
	uint32_t	 fails;		/* dials failed since the last success */
};

/* What an update from the engine says happened. */
#define UPD_CONNECTED		1	/* a connection came up */
#define UPD_IDENTIFIED		2	/* agent, protocols, listen addrs */
#define UPD_DIAL_FAILED		3
#define UPD_DISCOVERED		4	/* an address from config or a user */

#define BAN_PEER		1
#define BAN_NET			2
#define BAN_REASONLEN		128
#define BAN_KEYMAX		(1 + PEERID_MAXLEN)
#define BAN_TARGETLEN		128

struct ban {
	int32_t		 kind;
	struct peerid	 peer;
	uint8_t		 ip[16];	/* IPv4 as ::ffff:a.b.c.d */
	int32_t		 prefix;	/* of the 128 bits */
	int64_t		 until;		/* unix seconds, 0: forever */
	int64_t		 created;
	char		 reason[BAN_REASONLEN];
};

#define ACCT_KEYMAX		(4 + PEERID_MAXLEN)
#define ACCT_KEEP_DAYS		90

struct acct_rec {
	uint32_t	 day;		/* unix days */
	struct peerid	 peer;
	uint64_t	 rsvps;
	uint64_t	 circuits;
	uint64_t	 bytes_in;	/* from the peer */
	uint64_t	 bytes_out;	/* to the peer */
};

int	 peer_rec_encode(const struct peer_rec *, uint8_t *, size_t, size_t *);
int	 peer_rec_decode(const uint8_t *, size_t, struct peer_rec *, char *,
	    size_t);
void	 peer_rec_merge(struct peer_rec *, const struct peer_rec *, int,
	    int64_t);
int	 peer_rec_add_addr(struct peer_rec *, const uint8_t *, size_t);
int	 peer_rec_age(const uint8_t *, size_t, int64_t *);
int	 peer_key_check(const uint8_t *, size_t, struct peerid *);

int	 ban_key_encode(const struct ban *, uint8_t *, size_t *);
int	 ban_key_decode(const uint8_t *, size_t, struct ban *);
int	 ban_val_encode(const struct ban *, uint8_t *, size_t, size_t *);
int	 ban_val_decode(const uint8_t *, size_t, struct ban *, char *, size_t);
int	 ban_parse(const char *, struct ban *, char *, size_t);
void	 ban_format(const struct ban *, char *, size_t);
int	 ban_same(const struct ban *, const struct ban *);
int	 ban_match_ip(const struct ban *, const uint8_t [16]);

int	 acct_key_encode(uint32_t, const struct peerid *, uint8_t *, size_t *);
int	 acct_key_decode(const uint8_t *, size_t, struct acct_rec *);
int	 acct_val_encode(const struct acct_rec *, uint8_t *, size_t, size_t *);
int	 acct_val_decode(const uint8_t *, size_t, struct acct_rec *, char *,
	    size_t);

#endif /* PEERD_STOREREC_H */
