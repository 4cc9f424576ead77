#ifndef PEERD_CIRCUIT_H
#define PEERD_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "multiaddr.h"
#include "peerid.h"

#define CIRCUIT_HOP	"/libp2p/circuit/relay/0.2.0/hop"
#define CIRCUIT_STOP	"/libp2p/circuit/relay/0.2.0/stop"

/*
 * Largest message in a frame: go-libp2p's relay and client read with
 * this limit (4096 itself passes).  js-libp2p sets none; its stream
 * buffer stops at 4 MiB.
 */
#define CIRCUIT_MAXMSG		4096

#define CIRCUIT_MAXADDRS	16	/* addresses kept per list */
#define CIRCUIT_ADDRPOOL	2048	/* their binary bytes */
#define CIRCUIT_MAXVOUCHER	2048	/* an envelope, RSA-4096 fits */

/* Status */
#define CIRCUIT_OK			100
#define CIRCUIT_RESERVATION_REFUSED	200
#define CIRCUIT_RESOURCE_LIMIT_EXCEEDED	201
#define CIRCUIT_PERMISSION_DENIED	202
#define CIRCUIT_CONNECTION_FAILED	203
#define CIRCUIT_NO_RESERVATION		204
#define CIRCUIT_MALFORMED_MESSAGE	400
#define CIRCUIT_UNEXPECTED_MESSAGE	401

/* HopMessage.Type */
#define HOP_RESERVE	0
#define HOP_CONNECT	1
#define HOP_STATUS	2

/* StopMessage.Type */
#define STOP_CONNECT	0
#define STOP_STATUS	1

/*
 * A list of addresses, kept as their binary form in a pool.  Read one
 * with circuit_addr() or the accessors below.  Addresses that do not
 * decode are skipped and counted in nbad, valid ones that do not fit
 * in ndropped.
 */
struct circuit_addrs {
	size_t		 naddrs;
	size_t		 nbad;
	size_t		 ndropped;
	size_t		 poollen;
	uint16_t	 off[CIRCUIT_MAXADDRS];
	uint16_t	 len[CIRCUIT_MAXADDRS];
	uint8_t		 pool[CIRCUIT_ADDRPOOL];
};

struct circuit_peer {
	int			 present;
	struct peerid		 id;
	struct circuit_addrs	 addrs;
};

struct circuit_reservation {
	int			 present;
	uint64_t		 expire;	/* UNIX time, seconds */
	struct circuit_addrs	 addrs;
	const uint8_t		*voucher;	/* into the input */
	size_t			 voucherlen;
};

/*
 * duration is seconds in the spec and in go-libp2p.  js-libp2p's relay
 * writes milliseconds (120000 by default, where go writes 120) and its
 * client reads seconds.  The number is returned as it was sent.  Zero
 * in either field means no limit.
 */
struct circuit_limit {
	int		 present;
	uint32_t	 duration;
	uint64_t	 data;		/* bytes each way */
};

struct hop_msg {
	int				 type;
	int				 has_type;
	struct circuit_peer		 peer;
	struct circuit_reservation	 rsvp;
	struct circuit_limit		 limit;
	int				 status;
	int				 has_status;
};

struct stop_msg {
	int			 type;
	int			 has_type;
	struct circuit_peer	 peer;
	struct circuit_limit	 limit;
	int			 status;
	int			 has_status;
};

/* The payload of the voucher envelope (type 0x0302). */
struct rsvp_voucher {
	struct peerid	 relay;
	struct peerid	 peer;
	uint64_t	 expiration;	/* UNIX time, seconds */
};

const char *circuit_status_name(int);

int	 circuit_addr_add(struct circuit_addrs *, const struct multiaddr *);
int	 circuit_addr(const struct circuit_addrs *, size_t,
	    struct multiaddr *);
int	 circuit_peer_addr(const struct circuit_peer *, size_t,
	    struct multiaddr *);
int	 circuit_rsvp_addr(const struct circuit_reservation *, size_t,
	    struct multiaddr *);

int	 hop_decode(const uint8_t *, size_t, struct hop_msg *);
int	 hop_encode(const struct hop_msg *, uint8_t *, size_t, size_t *);
int	 stop_decode(const uint8_t *, size_t, struct stop_msg *);
int	 stop_encode(const struct stop_msg *, uint8_t *, size_t, size_t *);

int	 voucher_encode(const struct rsvp_voucher *, uint8_t *, size_t,
	    size_t *);
int	 voucher_decode(const uint8_t *, size_t, struct rsvp_voucher *);
int	 voucher_open(const uint8_t *, size_t, struct rsvp_voucher *,
	    struct peerid *);

int	 circuit_frame_read(const uint8_t *, size_t, const uint8_t **,
	    size_t *, size_t *);
size_t	 circuit_frame_write(const uint8_t *, size_t, uint8_t *, size_t);

#endif /* PEERD_CIRCUIT_H */
