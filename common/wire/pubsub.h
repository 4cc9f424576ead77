#ifndef PEERD_PUBSUB_H
#define PEERD_PUBSUB_H

#include <stddef.h>
#include <stdint.h>

#include "varint.h"

#define PS_FLOODSUB	"/floodsub/1.0.0"
#define PS_MESHSUB10	"/meshsub/1.0.0"
#define PS_MESHSUB11	"/meshsub/1.1.0"
#define PS_MESHSUB12	"/meshsub/1.2.0"

#define PS_SIGN_PREFIX	"libp2p-pubsub:"
#define PS_SEQNO_LEN	8
#define PS_SIG_LEN	64
#define PS_MSGID_MAX	(36 + PS_SEQNO_LEN)	/* what ps_msgid_* write */

/*
 * go-libp2p-pubsub's DefaultMaxMessageSize.  js-libp2p gossipsub sets
 * no maxInboundDataLength by default, so it-length-prefixed's 4 MiB
 * applies there.
 */
#define PS_MAXRPC_DEFAULT	(1024 * 1024)

/* Bytes of the input; p is NULL when the field is absent. */
struct ps_view {
	const uint8_t	*p;
	size_t		 len;
};

/*
 * What a decoder accepts.  The counts are js-libp2p gossipsub's
 * defaultDecodeRpcLimits; a repeated field over its count makes the
 * whole RPC malformed, as it does in js.
 */
struct ps_limits {
	size_t	 maxrpc;	/* bytes of one RPC */
	size_t	 maxsubs;	/* subscriptions */
	size_t	 maxmsgs;	/* publish */
	size_t	 maxctrl;	/* entries of each control kind */
	size_t	 maxihaveids;	/* IDs in one IHAVE */
	size_t	 maxiwantids;	/* IDs in one IWANT */
	size_t	 maxidontwantids; /* IDs in one IDONTWANT */
	size_t	 maxpeers;	/* PeerInfo in one PRUNE */
	size_t	 maxtopic;	/* bytes of a topic */
	size_t	 maxmsgid;	/* bytes of a message ID */
};

/* A decoded RPC: counts, and views to walk with the iterators. */
struct ps_rpc {
	struct ps_view	 rpc;
	struct ps_view	 control;	/* p NULL without control */
	size_t		 nsubs, nmsgs;
	size_t		 nihave, niwant, ngraft, nprune, nidontwant;
	size_t		 nids;		/* message IDs in all of control */
	size_t		 npeers;	/* PeerInfo in all PRUNEs */
};

struct ps_sub {
	int		 subscribe;
	struct ps_view	 topic;
};

/*
 * A message as sent: each field may be absent (js-libp2p reads a
 * missing topic as an empty one; the router drops both).
 */
struct ps_msg {
	struct ps_view	 from, data, seqno, topic, signature, key;
};

/* Message IDs of an IHAVE, IWANT or IDONTWANT, walked with ps_next_id. */
struct ps_ids {
	struct ps_view	 raw;
	uint32_t	 field;
	size_t		 n;
};

struct ps_ihave {
	struct ps_view	 topic;
	struct ps_ids	 ids;
};

struct ps_peerinfo {
	struct ps_view	 peerid, record;	/* record: a signed envelope */
};

struct ps_prune {
	struct ps_view	 topic;
	struct ps_view	 rawpeers;	/* the PRUNE, walked by ps_next_peer */
	size_t		 npeers;
	int		 has_backoff;
	uint64_t	 backoff;	/* seconds */
};

struct ps_iter {
	const uint8_t	*p;
	size_t		 len, off;
	uint32_t	 field;
};

/* To encode: each list given as an array. */
struct ps_idlist {
	const struct ps_view	*ids;
	size_t			 n;
};

struct ps_ihave_out {
	struct ps_view		 topic;
	struct ps_idlist	 ids;
};

struct ps_prune_out {
	struct ps_view			 topic;
	const struct ps_peerinfo	*peers;
	size_t				 npeers;
	int				 has_backoff;
	uint64_t			 backoff;
};

struct ps_out {
	const struct ps_sub		*subs;
	size_t				 nsubs;
	const struct ps_msg		*msgs;
	size_t				 nmsgs;
	const struct ps_ihave_out	*ihave;
	size_t				 nihave;
	const struct ps_idlist		*iwant;
	size_t				 niwant;
	const struct ps_view		*graft;		/* topics */
	size_t				 ngraft;
	const struct ps_prune_out	*prune;
	size_t				 nprune;
	const struct ps_idlist		*idontwant;
	size_t				 nidontwant;
};

void	 ps_limits_default(struct ps_limits *);
int	 ps_rpc_decode(const uint8_t *, size_t, const struct ps_limits *,
	    struct ps_rpc *, char *, size_t);

void	 ps_subs(const struct ps_rpc *, struct ps_iter *);
int	 ps_next_sub(struct ps_iter *, struct ps_sub *);
void	 ps_msgs(const struct ps_rpc *, struct ps_iter *);
int	 ps_next_msg(struct ps_iter *, struct ps_msg *);
int	 ps_msg_decode(const uint8_t *, size_t, const struct ps_limits *,
	    struct ps_msg *);
void	 ps_ihaves(const struct ps_rpc *, struct ps_iter *);
int	 ps_next_ihave(struct ps_iter *, struct ps_ihave *);
void	 ps_iwants(const struct ps_rpc *, struct ps_iter *);
int	 ps_next_iwant(struct ps_iter *, struct ps_ids *);
void	 ps_grafts(const struct ps_rpc *, struct ps_iter *);
int	 ps_next_graft(struct ps_iter *, struct ps_view *);
void	 ps_prunes(const struct ps_rpc *, struct ps_iter *);
int	 ps_next_prune(struct ps_iter *, struct ps_prune *);
void	 ps_idontwants(const struct ps_rpc *, struct ps_iter *);
int	 ps_next_idontwant(struct ps_iter *, struct ps_ids *);
void	 ps_ids_iter(const struct ps_ids *, struct ps_iter *);
int	 ps_next_id(struct ps_iter *, struct ps_view *);
void	 ps_peers_iter(const struct ps_prune *, struct ps_iter *);
int	 ps_next_peer(struct ps_iter *, struct ps_peerinfo *);

int	 ps_rpc_encode(const struct ps_out *, uint8_t *, size_t, size_t *);
int	 ps_msg_encode(const struct ps_msg *, int, uint8_t *, size_t,
	    size_t *);

int	 ps_sign_bytes(const struct ps_msg *, uint8_t *, size_t, size_t *);
int	 ps_msg_verify(const struct ps_msg *, uint8_t *, size_t, char *,
	    size_t);
int	 ps_msg_pubkey(const struct ps_msg *, uint8_t [32]);
int	 ps_msgid_default(const struct ps_msg *, uint8_t *, size_t,
	    size_t *);
void	 ps_msgid_hash(const struct ps_msg *, uint8_t [32]);

/* An RPC on its stream: uvarint_frame_read and _write (varint.h). */

#endif /* PEERD_PUBSUB_H */
