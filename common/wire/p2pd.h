#ifndef PEERD_P2PD_H
#define PEERD_P2PD_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"
#include "varint.h"

/* Request.Type */
#define P2PD_IDENTIFY		0
#define P2PD_CONNECT		1
#define P2PD_STREAM_OPEN	2
#define P2PD_STREAM_HANDLER	3
#define P2PD_DHT		4
#define P2PD_LIST_PEERS		5
#define P2PD_CONNMANAGER	6
#define P2PD_DISCONNECT		7
#define P2PD_PUBSUB		8
#define P2PD_PEERSTORE		9	/* js only */

/* Response.Type */
#define P2PD_OK			0
#define P2PD_ERROR		1

/* PSRequest.Type */
#define P2PD_PS_GET_TOPICS	0
#define P2PD_PS_LIST_PEERS	1
#define P2PD_PS_PUBLISH		2
#define P2PD_PS_SUBSCRIBE	3

/* ConnManagerRequest.Type */
#define P2PD_CM_TAG_PEER	0
#define P2PD_CM_UNTAG_PEER	1
#define P2PD_CM_TRIM		2

/* PeerstoreRequest.Type (js only) */
#define P2PD_PSTORE_UNSPECIFIED	0
#define P2PD_PSTORE_GET_PROTOCOLS 1
#define P2PD_PSTORE_GET_PEER_INFO 2

/* DHTRequest.Type: FIND_PEER 0 to PROVIDE 8; we answer none of them. */
#define P2PD_DHT_MAXTYPE	8

/*
 * Bounds of a request.  A publish carries up to go-libp2p-pubsub's
 * 1 MiB message; the js client sends one protocol per open or handler
 * and the addresses of one peer; topics as pubsub.c takes them.
 */
#define P2PD_MAXDATA		(1024 * 1024)
#define P2PD_MAXREQ		(P2PD_MAXDATA + 4096)	/* one frame */
#define P2PD_MAXADDRS		32
#define P2PD_MAXADDR		512	/* MADDR_MAXLEN */
#define P2PD_MAXPROTOS		16
#define P2PD_MAXPROTO		256	/* bytes of a protocol name */
#define P2PD_MAXPEERID		64	/* PEERID_MAXLEN */
#define P2PD_MAXTOPIC		1024
#define P2PD_MAXTAG		256

/* Bytes of the input; p is NULL when the field is absent. */
struct p2pd_view {
	const uint8_t	*p;
	size_t		 len;
};

/* A repeated field, checked, walked with p2pd_next. */
struct p2pd_list {
	struct p2pd_view	 raw;	/* the submessage holding it */
	uint32_t		 field;
	size_t			 n;
};

struct p2pd_iter {
	const uint8_t	*p;
	size_t		 len, off;
	uint32_t	 field;
};

struct p2pd_connect {
	struct p2pd_view	 peer;
	struct p2pd_list	 addrs;
	int			 has_timeout;
	int64_t			 timeout;	/* seconds */
};

struct p2pd_open {
	struct p2pd_view	 peer;
	struct p2pd_list	 protos;
	int			 has_timeout;
	int64_t			 timeout;
};

struct p2pd_handler {
	struct p2pd_view	 addr;	/* a multiaddr (go's older path) */
	struct p2pd_list	 protos;
};

struct p2pd_psreq {
	int			 type;
	struct p2pd_view	 topic, data;
};

struct p2pd_cmreq {
	int			 type;
	struct p2pd_view	 peer, tag;
	int			 has_weight;
	int64_t			 weight;
};

struct p2pd_pstorereq {
	int			 type;
	struct p2pd_view	 id;
	struct p2pd_list	 protos;
};

/* The sub-request of the type is present; others given are checked. */
struct p2pd_req {
	int			 type;
	struct p2pd_connect	 connect;
	struct p2pd_open	 open;
	struct p2pd_handler	 handler;
	struct p2pd_view	 disconnect;	/* its peer */
	struct p2pd_psreq	 ps;
	struct p2pd_cmreq	 cm;
	struct p2pd_pstorereq	 pstore;
	int			 dhttype;
};

/* To encode: lists given as arrays. */
struct p2pd_peerinfo {
	struct p2pd_view	 id;
	const struct p2pd_view	*addrs;
	size_t			 naddrs;
};

struct p2pd_streaminfo {
	struct p2pd_view	 peer, addr, proto;
};

struct p2pd_psresp {
	const struct p2pd_view	*topics;
	size_t			 ntopics;
	const struct p2pd_view	*peers;
	size_t			 npeers;
};

struct p2pd_pstoreresp {
	const struct p2pd_peerinfo *peer;	/* NULL: absent */
	const struct p2pd_view	*protos;
	size_t			 nprotos;
};

/*
 * Each pointer NULL when absent; peers written when npeers > 0.  js's
 * client wants identify and ps present even when their lists are
 * empty: they are written whenever given.
 */
struct p2pd_resp {
	int				 type;
	const char			*error;
	const struct p2pd_streaminfo	*stream;
	const struct p2pd_peerinfo	*identify;
	const struct p2pd_peerinfo	*peers;
	size_t				 npeers;
	const struct p2pd_psresp	*ps;
	const struct p2pd_pstoreresp	*pstore;
};

/* A pubsub message to a subscriber: from, data, seqno, topic, sig, key. */
struct ps_msg;

int	 p2pd_req_decode(const uint8_t *, size_t, struct p2pd_req *, char *,
	    size_t);
void	 p2pd_iter(const struct p2pd_list *, struct p2pd_iter *);
int	 p2pd_next(struct p2pd_iter *, struct p2pd_view *);

int	 p2pd_resp_encode(const struct p2pd_resp *, uint8_t *, size_t,
	    size_t *);
int	 p2pd_streaminfo_encode(const struct p2pd_streaminfo *, uint8_t *,
	    size_t, size_t *);
int	 p2pd_psmsg_encode(const struct ps_msg *, uint8_t *, size_t,
	    size_t *);
size_t	 p2pd_frame(uint8_t *, size_t, size_t);

/*
 * On the socket: a request read with uvarint_frame_read and
 * P2PD_MAXREQ; a message encoded at buf + P2PD_HDR framed in place at
 * buf by p2pd_frame.
 */
#define P2PD_HDR	UVARINT_MAXLEN

/*
 * Room the encoders need beyond what they write: a submessage is
 * written after room for its tag and length, two levels deep at most.
 */
#define P2PD_SLACK	(2 * PBW_NEST_HDR)

#endif /* PEERD_P2PD_H */
