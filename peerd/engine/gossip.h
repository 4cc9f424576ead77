/*
 * The gossipsub router's own tables, shared by its files, lowest first:
 *
 *	gscache.c	 the seen cache and the message cache: data only
 *	gstopic.c	 topics, pubsub peers, their subscriptions, and the
 *			 output to a peer within its budget
 *	gsmesh.c	 mesh, fanout, the heartbeat, GRAFT, PRUNE, IHAVE,
 *			 IWANT and IDONTWANT
 *	gsshow.c	 the peers and their scores, for peerctl
 *	gossip.c	 the protocols: streams, the RPC in, validation,
 *			 forwarding, publishing, the configuration
 *
 * Each calls only the files above it (and the engine's files below
 * gossip in engine.h).
 */
#ifndef PEERD_GOSSIP_H
#define PEERD_GOSSIP_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stdint.h>

#include "peerid.h"
#include "pubsub.h"

#define GS_IDMAX	64	/* bytes of a message ID we keep */
#define GS_TOPICMAX	256	/* bytes of a topic */
#define GS_DONTWANT	256	/* IDONTWANT hashes kept per peer */
#define GS_PROMISES	8	/* IWANTs of ours a peer must answer */
#define GS_PROMISE_MS	3000	/* in this time (js's iwantFollowupMs) */

/* One message a peer's IHAVE promised and we asked for with IWANT. */
struct gs_promise {
	uint64_t	 hash;		/* gs_idhash of its ID */
	int64_t		 until;		/* ms; 0: none */
};

/* The router's part of struct reconf_engine, ready to use. */
struct gs_conf {
	int		 enabled;
	int		 D, Dlo, Dhi, Dlazy, Dout;
	int64_t		 heartbeat;		/* ms */
	int64_t		 fanout_ttl;		/* ms */
	int64_t		 seen_ttl;		/* ms */
	int64_t		 prune_backoff;		/* ms */
	int		 mcache_len, mcache_gossip;	/* heartbeats */
	int		 max_topics;		/* all we know */
	int		 max_peer_topics;	/* one peer's subscriptions */
	int		 max_seen;		/* seen cache entries */
	int		 max_mcache;		/* message cache entries */
	int		 max_ihave;		/* IHAVE IDs a peer a beat */
	int		 max_iwant;		/* answered per peer per beat */
	int64_t		 max_queue;		/* bytes queued to one peer */
	int64_t		 idontwant_min;		/* data bytes: send IDONTWANT */
	int64_t		 max_rpc;		/* bytes of one RPC */
	int		 hash_ids;		/* ID: the content's hash */
	int		 gossip_thr;		/* score thresholds, <= 0 */
	int		 publish_thr;
	int		 graylist_thr;
	int		 coloc_thr;		/* peers on one IP */
	int		 md_weight;		/* P3, <= 0; 0: off */
	int		 md_thr;		/* deliveries a mesh peer owes */
	int64_t		 md_window;		/* ms: a late copy counts */
	int64_t		 md_activation;		/* ms in the mesh before */
	int		 mf_weight;		/* P3b, <= 0 */
	int		 fd_weight;		/* P2, >= 0; 0: off */
	int		 fd_cap;		/* P2's count, at most */
};

enum gs_kind { GS_FLOOD, GS_MESH10, GS_MESH11, GS_MESH12 };

struct gs_topic;
struct gs_peer;

/* A message in the cache: one RPC frame, written as is to every peer. */
struct gs_msg {
	LIST_ENTRY(gs_msg)	 bucket;
	TAILQ_ENTRY(gs_msg)	 window;
	int			 win;		/* index of its window */
	uint32_t		 credited;	/* conn of the last late copy */
	struct gs_topic		*topic;
	uint64_t		 hash;
	int64_t			 first;		/* ms: first seen */
	uint8_t			 id[GS_IDMAX];
	size_t			 idlen;
	uint8_t			*frame;
	size_t			 framelen;
};

/* What one peer has with one topic: subscribed, mesh, fanout, backoff. */
struct gs_sub {
	LIST_ENTRY(gs_sub)	 pentry;
	LIST_ENTRY(gs_sub)	 tentry;
	struct gs_peer		*peer;
	struct gs_topic		*topic;
	int			 subscribed;
	int			 mesh;
	int			 fanout;
	float			 deliveries;	/* P3's count, decaying */
	float			 failure;	/* P3b, decaying */
	float			 first;		/* P2's count, decaying */
	int64_t			 backoff;	/* ms: no GRAFT until */
	int64_t			 grafted;	/* ms: in the mesh since */
};

struct gs_topic {
	RB_ENTRY(gs_topic)	 entry;
	char			*name;
	size_t			 len;
	int			 joined;
	int			 configured;	/* in gossipSub.topics */
	int			 watchers;	/* peerctl subscribe clients */
	int			 refs;		/* messages in the cache */
	LIST_HEAD(, gs_sub)	 subs;
	int			 nsubs;		/* subscribed peers */
	int			 nmesh;
	int			 nfanout;
	int64_t			 fanout_last;	/* ms: last publish, 0: none */
	uint64_t		 msgs_in, msgs_out, dups, dropped;
};

struct gs_peer {
	TAILQ_ENTRY(gs_peer)	 entry;
	uint32_t		 conn;
	struct peerid		 id;
	enum gs_kind		 kind;
	int			 outbound;	/* its connection is ours */
	uint32_t		 out_stream;	/* 0: none */
	int			 out_ready;	/* negotiated */
	uint32_t		 in_stream;
	LIST_HEAD(, gs_sub)	 subs;
	int			 nsubs;
	int			 ihave_ids;	/* this heartbeat */
	int			 iwant_sent;	/* this heartbeat */
	int			 px_taken;	/* this heartbeat */
	double			 penalty;	/* behaviour, decaying */
	double			 invalid;	/* invalid messages, decaying */
	int			 coloc;		/* peers on its IP, over */
	double			 score;		/* gpeer_rescore */
	uint8_t			 ip[16];	/* 0: not known (relayed) */
	uint64_t		*dontwant;	/* GS_DONTWANT, or NULL */
	int			 ndontwant;
	int			 dirty;		/* its connection to flush */
	struct bq		 big;		/* an RPC over half a window */
	struct gs_promise	*promises;	/* GS_PROMISES, or NULL */
};

TAILQ_HEAD(gs_peers, gs_peer);
RB_HEAD(gs_topics, gs_topic);
int		 gs_topic_cmp(struct gs_topic *, struct gs_topic *);
RB_PROTOTYPE(gs_topics, gs_topic, entry, gs_topic_cmp)

extern struct gs_conf		 gs_conf;
extern struct gs_peers		 gs_peers;
extern struct gs_topics		 gs_topics;

/* gscache.c */
int64_t		 gs_now(void);
void		 seen_init(void);
int		 seen_has(const uint8_t *, size_t);
int		 seen_has_hash(uint64_t);
void		 seen_add(const uint8_t *, size_t);
void		 seen_expire(int64_t);
size_t		 seen_count(void);
uint64_t	 gs_idhash(const uint8_t *, size_t);
struct gs_msg	*mcache_put(struct gs_topic *, const uint8_t *, size_t,
		    const uint8_t *, size_t);
struct gs_msg	*mcache_get(const uint8_t *, size_t);
void		 mcache_shift(void);
size_t		 mcache_gossip(const struct gs_topic *,
		    const struct gs_msg **, size_t);
size_t		 mcache_count(void);
void		 mcache_clear(void);

/* gstopic.c */
struct gs_topic	*topic_find(const uint8_t *, size_t);
struct gs_topic	*topic_get(const uint8_t *, size_t);
void		 topic_release(struct gs_topic *);
struct gs_sub	*sub_find(struct gs_peer *, struct gs_topic *);
struct gs_sub	*sub_get(struct gs_peer *, struct gs_topic *);
void		 sub_release(struct gs_sub *);
void		 sub_apply(struct gs_peer *, const struct ps_sub *);
void		 sub_set_mesh(struct gs_sub *, int);
void		 sub_set_fanout(struct gs_sub *, int);
struct gs_peer	*gpeer_find(const struct peerid *);
struct gs_peer	*gpeer_new(uint32_t, const struct peerid *, enum gs_kind,
		    int);
void		 gpeer_free(struct gs_peer *);
int		 gpeer_send(struct gs_peer *, const uint8_t *, size_t);
int		 gpeer_send_rpc(struct gs_peer *, const struct ps_out *);
void		 gpeer_dirty(struct gs_peer *);
void		 gs_flush(uint32_t);
int		 gpeer_dontwant(const struct gs_peer *, uint64_t);
void		 gpeer_add_dontwant(struct gs_peer *, uint64_t);
int		 gs_kind_mesh(enum gs_kind);
double		 sub_deficit(const struct gs_sub *, int64_t);
void		 gpeer_rescore(struct gs_peer *);
void		 gpeer_penalize(struct gs_peer *, int);

/* gsmesh.c */
void		 mesh_control(struct gs_peer *, const struct ps_rpc *);
void		 mesh_heartbeat(void);
void		 mesh_join(struct gs_topic *);
void		 mesh_leave(struct gs_topic *);
void		 mesh_fanout(struct gs_topic *);
void		 mesh_delivered(struct gs_peer *, struct gs_topic *,
		    struct gs_msg *, int);
void		 mesh_idontwant(struct gs_topic *, const struct gs_peer *,
		    const struct gs_msg *);

#endif /* PEERD_GOSSIP_H */
