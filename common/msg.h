/*
 * The one table of messages the processes exchange, with the exact
 * payload size each must have (MSG_VAR: variable, checked by its reader),
 * their payloads, and the bounds that the processes and peerctl share.
 */
#ifndef PEERD_MSG_H
#define PEERD_MSG_H

#include <sys/types.h>

#include <stdint.h>

#include "imsg.h"
#include "metrics.h"
#include "multiaddr.h"
#include "peerid.h"
#include "storerec.h"

#define MSG_VAR		((size_t)-1)

#define CTL_NAMELEN	16
#define CTL_USERLEN	33
#define CTL_DETAILLEN	256
#define CTL_MSGLEN	512
#define CTL_MAXCONNS	32	/* listen backlog of a control socket */
#define CTL_MAXPINGS	1000	/* pings in one ping request */

enum proc_id {
	PROC_PARENT,
	PROC_ENGINE,
	PROC_KEYD,
	PROC_STORED,
	PROC_RELAYD,
	PROC_MAX,
	PROC_CTL = PROC_MAX	/* a control client, in the message table */
};

#define P_PARENT	(1U << PROC_PARENT)
#define P_ENGINE	(1U << PROC_ENGINE)
#define P_KEYD		(1U << PROC_KEYD)
#define P_STORED	(1U << PROC_STORED)
#define P_RELAYD	(1U << PROC_RELAYD)
#define P_CTL		(1U << PROC_CTL)
#define P_CHILDREN	(P_ENGINE | P_KEYD | P_STORED | P_RELAYD)

#define MSG_RO		0x1
#define MSG_FD		0x2

struct ctl_proc {
	char		 name[CTL_NAMELEN];
	int32_t		 pid;
	uint32_t	 uid;
	char		 user[CTL_USERLEN];
	char		 root[256];
	char		 state[32];
	char		 sandbox[24];
	char		 detail[CTL_DETAILLEN];
};

struct ctl_status {
	char		 version[32];
	char		 mode[16];
	int64_t		 uptime;		/* seconds */
	char		 peerid[PEERID_STRMAX];
	int32_t		 connections;
	int32_t		 upgrading;
	char		 network[16];		/* ok, connecting, partitioned */
	int64_t		 network_since;		/* seconds in that state */
	int32_t		 outbound;
	int32_t		 outbound_target;
	int32_t		 min_connections;
	int32_t		 bans;
	int64_t		 addrs_filtered;	/* from peers: by their scope */
	int64_t		 addrs_dropped;		/* from peers: over the cap */
	int64_t		 dials_backed_off;	/* an address dialled lately */
	int64_t		 ctl_refused;		/* control clients refused */
	int64_t		 ctl_idle;		/* read-only ones closed idle */
	int64_t		 ctl_late;		/* requests answered without */
	int64_t		 protocols_unknown;	/* proposed, not served */
	int64_t		 mem_buffered;		/* bytes the engine holds */
	int64_t		 mem_peak;
	int64_t		 mem_budget;		/* connectionManager.maxBuffer */
	int64_t		 mem_streams_reset;	/* data over a budget */
	int64_t		 mem_windows_held;	/* window updates held back */
	int64_t		 mem_reads_paused;	/* peers that did not read */
	int64_t		 mem_stalled;		/* closed: not reading in time */
	int64_t		 mem_reclaimed;		/* closed: the engine's budget */
	int64_t		 mem_alloc_failed;	/* closed: no memory */
	int32_t		 lockdown;		/* peerctl lockdown, SIGUSR2 */
};

#define CTL_TARGETLEN	1024

struct ctl_target {
	char		 target[CTL_TARGETLEN];	/* multiaddr or peer ID */
	int32_t		 count;
};

struct ctl_ping {
	char		 peer[PEERID_STRMAX];
	int32_t		 seq;
	int64_t		 rtt_us;
};

struct ctl_conn {
	uint32_t	 id;
	int32_t		 inbound;
	int64_t		 age;			/* seconds */
	int32_t		 streams;
	char		 peer[PEERID_STRMAX];
	char		 addr[128];
	char		 agent[128];
};

struct ctl_result {
	int32_t		 ok;
	char		 msg[CTL_MSGLEN];
};

struct key_public {
	uint8_t		 pubkey[32];		/* Ed25519 */
	char		 peerid[PEERID_STRMAX];
	uint8_t		 noise_pub[32];		/* X25519 static key */
	uint8_t		 noise_sig[64];		/* identity signature over it */
};

/* peerctl key show: keyd's answer */
struct ctl_key {
	char		 peerid[PEERID_STRMAX];
	char		 type[16];		/* Ed25519 */
	char		 pubkey[64];		/* base64 of the PublicKey pb */
	char		 fingerprint[64];	/* SHA256:base64, as ssh */
	char		 file[256];
	int64_t		 created;		/* the file's mtime, unix s */
	int32_t		 encrypted;		/* at rest */
};

struct key_dh {
	uint8_t		 pub[32];
};

/* keyd: load the key; the descriptor holds the passphrase, if any */
struct key_load {
	int32_t		 have_passphrase;	/* 0: the fd is /dev/null */
	char		 source[256];		/* where it comes from */
};

struct key_dh_result {
	int32_t		 ok;
	uint8_t		 shared[32];
};

/* keyd: a new identity (peerctl key rotate), or why not */
struct key_rotated {
	int32_t		 ok;
	char		 old[PEERID_STRMAX];	/* the peer ID it replaced */
	char		 archive[64];		/* the old key's file */
	char		 msg[CTL_MSGLEN];	/* why not, when !ok */
	struct key_public pub;			/* the new one */
};

/*
 * Pubsub StrictSign: keyd signs a Message the engine publishes, after
 * checking it (keyd.c).  The request is a key_ps_sign followed by the
 * Message without signature and key, at most KEY_PSMSG_MAX bytes: the
 * bound of peerctl publish, data, from, seqno and topic together.
 */
#define KEY_PSMSG_MAX		16000
#define KEY_PSSIG_LEN		64

struct key_ps_sign {
	uint32_t	 req;			/* the engine's request ID */
};

struct key_ps_sig {
	uint32_t	 req;
	int32_t		 ok;			/* 0: refused */
	uint8_t		 sig[KEY_PSSIG_LEN];	/* Ed25519, when ok */
};

_Static_assert(sizeof(struct key_ps_sign) + KEY_PSMSG_MAX <=
    IMSG_MAXSIZE - IMSG_HEADER_SIZE, "a pubsub message to sign fits");

/* Circuit relay v2: the engine asks, relayd decides. */
#define RELAY_VOUCHER_MAX	1024
#define RELAY_REASONLEN		64

struct relay_rsvp_req {
	struct peerid	 peer;
	uint8_t		 ip[16];		/* IPv4 as ::ffff:a.b.c.d */
	uint32_t	 conn;			/* engine's connection */
};

struct relay_rsvp_res {
	int32_t		 status;		/* circuit v2 Status */
	uint32_t	 conn;
	int32_t		 refreshed;		/* replaced a live one */
	uint64_t	 expire;		/* unix seconds */
	uint32_t	 limit_duration;	/* seconds, 0: none */
	uint64_t	 limit_data;		/* bytes, 0: none */
	uint32_t	 voucherlen;
	uint8_t		 voucher[RELAY_VOUCHER_MAX];	/* signed envelope */
};

struct relay_connect_req {
	struct peerid	 src;
	struct peerid	 dst;
	uint8_t		 ip[16];		/* of src */
	uint32_t	 stream;		/* engine's hop stream */
	uint32_t	 conn;
};

struct relay_connect_res {
	int32_t		 status;
	uint32_t	 circuit;		/* relayd's circuit ID */
	uint32_t	 stream;
	uint32_t	 conn;
	uint32_t	 limit_duration;
	uint64_t	 limit_data;
};

struct relay_circuit_end {
	uint32_t	 circuit;
	uint64_t	 bytes_src_dst;
	uint64_t	 bytes_dst_src;
	char		 reason[RELAY_REASONLEN];
};

struct relay_peer_gone {
	struct peerid	 peer;
};

struct ctl_rsvp {
	char		 peer[PEERID_STRMAX];
	char		 addr[64];
	int64_t		 expire;		/* unix seconds */
	int64_t		 created;
};

struct ctl_circuit {
	uint32_t	 id;
	char		 src[PEERID_STRMAX];
	char		 dst[PEERID_STRMAX];
	uint64_t	 bytes_src_dst;
	uint64_t	 bytes_dst_src;
	int64_t		 age;			/* seconds */
	uint32_t	 limit_duration;
	uint64_t	 limit_data;
};

/* The store: updates from the engine and relayd, answers to the engine. */
struct store_peer_upd {
	struct peerid	 peer;
	int32_t		 kind;			/* UPD_* */
	/* followed by a peer record (storerec.h) with what is new */
};

struct store_cand_req {
	uint32_t	 want;
	uint32_t	 backoff_max;		/* seconds, per peer */
};

struct store_cand {
	struct peerid	 peer;
	uint32_t	 naddrs;
	struct {
		uint32_t len;
		uint8_t	 b[PREC_ADDRMAX];
	}		 addrs[PREC_MAXADDRS];	/* best first */
};

struct store_ban_op {
	int32_t		 add;			/* 0: remove */
	struct ban	 ban;
};

struct store_acct {
	struct acct_rec	 acct;			/* day 0: today */
};

#define CTL_MAXBAN	(10LL * 365 * 86400)	/* seconds a ban may last */

struct ctl_block {
	char		 target[BAN_TARGETLEN];
	int64_t		 duration;		/* seconds, 0: forever */
	char		 reason[BAN_REASONLEN];
};

struct ctl_ban {
	char		 target[BAN_TARGETLEN];
	int64_t		 until;			/* unix seconds, 0: forever */
	int64_t		 created;
	char		 reason[BAN_REASONLEN];
};

struct ctl_peer {
	char		 peer[PEERID_STRMAX];
	int32_t		 connected;
	uint32_t	 sources;
	int64_t		 first_seen;		/* unix seconds */
	int64_t		 last_seen;
	int64_t		 last_ok;
	int32_t		 fails;
	int32_t		 naddrs;
	char		 addr[128];		/* best address */
	char		 agent[PREC_AGENTLEN];
};

struct ctl_acct {
	char		 peer[PEERID_STRMAX];
	uint32_t	 day;			/* unix days */
	uint64_t	 rsvps;
	uint64_t	 circuits;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
};

struct ctl_store {
	uint64_t	 mapsize;		/* bytes */
	uint64_t	 used;			/* bytes of pages in use */
	uint32_t	 schema;
	uint64_t	 commits;
	uint64_t	 queued;		/* updates waiting */
	uint64_t	 dropped;		/* best-effort ones given up */
	uint64_t	 peers;
	uint64_t	 bans;
	uint64_t	 acct;
	uint64_t	 acct_size;		/* bytes of its pages */
	uint64_t	 max_peers;		/* the caps, as configured */
	uint64_t	 max_acct;
	uint64_t	 max_acct_size;
	uint64_t	 pruned_peers;		/* since start, by each cap */
	uint64_t	 pruned_acct;
	uint64_t	 pruned_acct_size;
	char		 failure[128];		/* "" while writes work */
};

/* Names are resolved by the parent: the engine's chroot has no resolver. */
#define RESOLVE_NAMELEN		256

struct resolve_req {
	int32_t		 family;		/* AF_INET, AF_INET6, AF_UNSPEC */
	char		 name[RESOLVE_NAMELEN];
};

struct resolve_res {
	int32_t		 ok;
	int32_t		 family;
	uint8_t		 addr[16];
	char		 err[128];
};

/*
 * The configuration, each process its part, typed: the parent sends
 * every child IMSG_RECONF_LOG, the engine IMSG_RECONF_ENGINE and its
 * lists, relayd IMSG_RECONF_RELAY and its access lists, stored
 * IMSG_RECONF_STORE, then each child IMSG_RECONF_DONE, at which it
 * applies all it got at once.  No child parses the configuration file.
 */
#define CONF_MAX_ANNOUNCE	16	/* entries of each list */
#define CONF_MAX_BOOTSTRAP	32
#define CONF_MAX_RELAYS		16
#define CONF_MAX_PROTECTED	256
#define CONF_MAX_PROXIES	16	/* websocket.trustedProxies */
#define CONF_MAX_TOPICS		64	/* gossipSub.topics */
#define CONF_TOPIC_MAX		256	/* bytes of a topic */
#define CONF_LIST_MAX		65536

struct reconf_log {
	int32_t		 format;		/* LOG_FORMAT_* */
	int32_t		 rate_limit;		/* log.rateLimit */
};

struct reconf_engine {
	int32_t		 mode;			/* MODE_* of config.h */
	int32_t		 relay_enabled;		/* relay.enabled */
	int32_t		 hop_enabled;		/* relay.hop.enabled */
	int64_t		 conns_per_minute;	/* 0: no limit */
	int64_t		 max_connections;
	int64_t		 min_connections;
	int64_t		 max_outgoing;
	int64_t		 max_pending;		/* upgrading inbound */
	int64_t		 upgrade_timeout;	/* ms */
	int64_t		 max_per_ip;
	int64_t		 max_streams;		/* per connection */
	int64_t		 dial_backoff_min;	/* ms */
	int64_t		 dial_backoff_max;	/* ms */
	int64_t		 stream_buffer;		/* bytes a stream may queue */
	int64_t		 conn_buffer;		/* bytes a connection holds */
	int64_t		 total_buffer;		/* bytes all of them hold */
	int64_t		 stalled_timeout;	/* ms congested before close */
	int32_t		 dial_private;		/* DIALPRIV_* of addrscope.h */
	int64_t		 max_pending_per_ip;	/* upgrading, one source */
	int64_t		 ipv4_prefix;		/* source grouping, bits */
	int64_t		 ipv6_prefix;
	int32_t		 ctl_max_clients;	/* controlSocketMaxClients */
	int32_t		 ctl_ro_max_clients;	/* ...ReadonlyMaxClients */
	int32_t		 ctl_ro_max_per_uid;	/* ...ReadonlyMaxPerUser */
	int64_t		 ctl_ro_idle;		/* ...ReadonlyIdleTimeout, ms */
	int32_t		 admin_max_clients;	/* admin.maxClients */
	int32_t		 admin_max_request;	/* admin.maxRequestSize, bytes */
	int64_t		 admin_timeout;		/* admin.timeout, ms */
	int32_t		 dapi_max_clients;	/* daemonApi.maxClients */
	int32_t		 dapi_max_streams;	/* daemonApi.maxStreams */
	int64_t		 dapi_rate;		/* daemonApi.rateLimit, /s */
	char		 metrics_ns[METRIC_NSLEN];	/* metrics.namespace */
	int64_t		 ws_max_message;	/* websocket.maxMessageSize */
	int32_t		 ws_nproxies;		/* websocket.trustedProxies */
	int32_t		 ws_proxy_bits[CONF_MAX_PROXIES];
	uint8_t		 ws_proxy_ip[CONF_MAX_PROXIES][16];	/* v4 mapped */
	/* gossipSub.*, js-libp2p's GossipsubOpts names; times in ms */
	int32_t		 gossip_enabled;
	int32_t		 gs_D, gs_Dlo, gs_Dhi, gs_Dlazy, gs_Dout;
	int64_t		 gs_heartbeat, gs_fanout_ttl, gs_seen_ttl;
	int64_t		 gs_prune_backoff;
	int32_t		 gs_mcache_len, gs_mcache_gossip;
	int32_t		 gs_max_topics, gs_max_peer_topics;
	int32_t		 gs_max_seen, gs_max_mcache;
	int32_t		 gs_max_ihave, gs_max_iwant;
	int64_t		 gs_max_queue, gs_idontwant_min, gs_max_rpc;
	int32_t		 gs_hash_ids;
	int32_t		 gs_gossip_thr, gs_publish_thr, gs_graylist_thr;
	int32_t		 gs_coloc_thr;
	int32_t		 gs_max_watchers, gs_max_topic_watchers;
	int32_t		 advertise_enabled;	/* relay.advertise.* */
	int64_t		 advertise_ttl;		/* ms */
	int32_t		 gs_md_weight, gs_md_thr, gs_mf_weight;	/* P3, P3b */
	int32_t		 gs_fd_weight, gs_fd_cap;		/* P2 */
	int64_t		 gs_md_window, gs_md_activation;
};

struct reconf_relay {
	int32_t		 enabled;
	int32_t		 hop_enabled;
	int64_t		 reservations_max;
	int64_t		 reservations_ttl;	/* ms */
	int64_t		 reservations_per_ip;
	int64_t		 limit_duration;	/* ms, 0: none */
	int64_t		 limit_data;		/* bytes, 0: none */
	int64_t		 rsvp_per_hour;		/* 0: no limit */
	int64_t		 max_pending_vouchers;	/* waiting for keyd */
};

struct reconf_store {
	int64_t		 map_size;		/* bytes */
	int64_t		 max_peers;
	int64_t		 max_acct;		/* accounting records */
	int64_t		 max_acct_size;		/* bytes of their pages */
};

/* The lists, an entry a message, in the order of the file. */
#define RECONF_ANNOUNCE		1	/* to the engine */
#define RECONF_BOOTSTRAP	2	/* to the engine */
#define RECONF_RELAYS		3	/* to the engine, each with its ID */
#define RECONF_PROTECTED	4	/* to the engine */
#define RECONF_ALLOW		5	/* to relayd */
#define RECONF_BLOCK		6	/* to relayd */

struct reconf_maddr {
	int32_t			 list;
	struct multiaddr	 ma;
};

struct reconf_peerid {
	int32_t			 list;
	struct peerid		 id;
};

/* gossipSub.topics, one a message, NUL-terminated. */
struct reconf_topic {
	char			 topic[CONF_TOPIC_MAX + 1];
};

/* peerctl show topics: a gossipsub topic, as the router holds it. */
struct ctl_topic {
	char		 topic[CONF_TOPIC_MAX + 1];
	int32_t		 joined;
	int32_t		 peers;			/* subscribed */
	int32_t		 mesh;
	int32_t		 fanout;
	uint64_t	 msgs_in, msgs_out, dups, dropped;
};

/* peerctl publish: the topic, then the data (the engine bounds it). */
struct ctl_publish {
	char		 topic[CONF_TOPIC_MAX + 1];
};

/* peerctl subscribe: the topic; each message on it, then its data. */
struct ctl_subscribe {
	char		 topic[CONF_TOPIC_MAX + 1];
};

#define CTL_GSID_MAX	64
struct ctl_gsmsg {
	char		 from[PEERID_STRMAX];
	uint8_t		 id[CTL_GSID_MAX];
	uint32_t	 idlen;
	uint32_t	 seqnolen;
	uint8_t		 seqno[8];		/* its first bytes */
	uint64_t	 lost;			/* missed: not read in time */
	uint32_t	 datalen;		/* the message's: what follows
						   may be cut at the frame */
};

/*
 * peerctl show gossip peers: a pubsub peer and one of its topics (""
 * when it has none), a row each, the peer's fields repeated; scores
 * and their parts in thousandths, each part as it adds to the score.
 */
#define CTL_GSPEER_TOPICS	8	/* rows of one peer, at most */
struct ctl_gspeer {
	char		 peer[PEERID_STRMAX];
	char		 protocol[24];
	char		 topic[CONF_TOPIC_MAX + 1];
	int32_t		 ntopics;		/* all the peer's */
	int32_t		 graylisted;
	int32_t		 subscribed, mesh, fanout;	/* in topic */
	int64_t		 backoff;		/* ms left in topic, 0: none */
	int64_t		 first;			/* P2's count in topic */
	int64_t		 deliveries;		/* P3's count in topic */
	int64_t		 tp2, tp3, tp3b;	/* P2, P3, P3b in topic */
	int64_t		 score, p2, p3, p3b, p4, p6, p7;
	int64_t		 penalty;		/* behaviour penalty count */
};

/*
 * The protocol between the processes, one message a row: its payload
 * size (exact, or MSG_VAR for one its reader checks), who may send it,
 * who may receive it, and flags.  The receiver checks every message
 * against its row before any dispatcher runs (msg_accept): a process of
 * the suite that sends outside the table is fatal, a control client is
 * dropped.  A row with several senders and receivers is a relay: a
 * control client's request goes to the engine, which asks the process
 * that knows; the answer comes back the same way.  PROC_CTL stands for
 * a control client (peerctl).
 *
 *	MSG_RO	the read-only control socket may ask it
 *	MSG_FD	carries a descriptor, and no other message does
 */
#define MSG_TABLE							\
	/* set-up and configuration, from the parent */			\
	MSG(IMSG_NONE,		0, 0, 0, 0)				\
	MSG(IMSG_SOCKET_CONN,	sizeof(uint32_t),			\
	    P_PARENT, P_CHILDREN, MSG_FD)				\
	MSG(IMSG_CTL_SOCKET,	sizeof(int32_t),			\
	    P_PARENT, P_ENGINE, MSG_FD)					\
	MSG(IMSG_RECONF_LOG,	sizeof(struct reconf_log),		\
	    P_PARENT, P_CHILDREN, 0)					\
	MSG(IMSG_RECONF_ENGINE,	sizeof(struct reconf_engine),		\
	    P_PARENT, P_ENGINE, 0)					\
	MSG(IMSG_RECONF_RELAY,	sizeof(struct reconf_relay),		\
	    P_PARENT, P_RELAYD, 0)					\
	MSG(IMSG_RECONF_STORE,	sizeof(struct reconf_store),		\
	    P_PARENT, P_STORED, 0)					\
	MSG(IMSG_RECONF_MADDR,	sizeof(struct reconf_maddr),		\
	    P_PARENT, P_ENGINE, 0)					\
	MSG(IMSG_RECONF_PEERID,	sizeof(struct reconf_peerid),		\
	    P_PARENT, P_ENGINE | P_RELAYD, 0)				\
	MSG(IMSG_RECONF_TOPIC,	sizeof(struct reconf_topic),		\
	    P_PARENT, P_ENGINE, 0)					\
	MSG(IMSG_RECONF_DONE,	0, P_PARENT, P_CHILDREN, 0)		\
	/* status: each process adds its line */			\
	MSG(IMSG_CTL_SHOW_STATUS, 0, P_CTL | P_ENGINE,			\
	    P_ENGINE | P_PARENT | P_KEYD | P_STORED | P_RELAYD, MSG_RO)	\
	MSG(IMSG_CTL_STATUS,	sizeof(struct ctl_status),		\
	    P_ENGINE, P_CTL, 0)						\
	MSG(IMSG_CTL_PROC,	sizeof(struct ctl_proc),		\
	    P_ENGINE | P_PARENT | P_KEYD | P_STORED | P_RELAYD,		\
	    P_ENGINE | P_CTL, 0)					\
	MSG(IMSG_CTL_RELOAD,	0, P_CTL | P_ENGINE, P_ENGINE | P_PARENT, 0) \
	MSG(IMSG_CTL_LOG_VERBOSE, sizeof(int32_t),			\
	    P_CTL | P_ENGINE, P_ENGINE | P_PARENT, 0)			\
	MSG(IMSG_LOG_VERBOSE,	sizeof(int32_t),			\
	    P_PARENT, P_KEYD | P_STORED | P_RELAYD, 0)			\
	/* the answer that ends a request, or says why it failed */	\
	MSG(IMSG_CTL_RESULT,	sizeof(struct ctl_result),		\
	    P_ENGINE | P_PARENT | P_KEYD | P_STORED | P_RELAYD,		\
	    P_ENGINE | P_CTL, 0)					\
	MSG(IMSG_CTL_END,	0, P_ENGINE | P_KEYD | P_STORED | P_RELAYD, \
	    P_ENGINE | P_CTL, 0)					\
	/* keyd: public keys, the static DH, records it checks */	\
	MSG(IMSG_KEY_GET_PUBLIC, 0, P_ENGINE | P_RELAYD, P_KEYD, 0)	\
	MSG(IMSG_KEY_PUBLIC,	sizeof(struct key_public),		\
	    P_KEYD, P_ENGINE | P_RELAYD, 0)				\
	MSG(IMSG_KEY_DH,	sizeof(struct key_dh), P_ENGINE, P_KEYD, 0) \
	MSG(IMSG_KEY_DH_RESULT,	sizeof(struct key_dh_result),		\
	    P_KEYD, P_ENGINE, 0)					\
	MSG(IMSG_KEY_SIGN_RECORD, MSG_VAR, P_ENGINE, P_KEYD, 0)		\
	MSG(IMSG_KEY_RECORD,	MSG_VAR, P_KEYD, P_ENGINE, 0)		\
	MSG(IMSG_KEY_LOAD,	sizeof(struct key_load),		\
	    P_PARENT, P_KEYD, MSG_FD)					\
	MSG(IMSG_KEY_SIGN_PUBSUB, MSG_VAR, P_ENGINE, P_KEYD, 0)		\
	MSG(IMSG_KEY_PUBSUB_SIG, sizeof(struct key_ps_sig),		\
	    P_KEYD, P_ENGINE, 0)					\
	/* lockdown: the parent tells keyd, then the others; each answers */ \
	MSG(IMSG_CTL_LOCKDOWN,	0, P_CTL | P_ENGINE, P_ENGINE | P_PARENT, 0) \
	MSG(IMSG_LOCKDOWN,	0, P_PARENT, P_CHILDREN, 0)		\
	MSG(IMSG_LOCKDOWN_DONE,	0, P_CHILDREN, P_PARENT, 0)		\
	MSG(IMSG_CTL_SHOW_KEY,	0, P_CTL | P_ENGINE, P_ENGINE | P_KEYD,	\
	    MSG_RO)							\
	MSG(IMSG_CTL_KEY,	sizeof(struct ctl_key), P_KEYD | P_ENGINE, \
	    P_ENGINE | P_CTL, 0)					\
	/* peerctl key rotate: engine, parent (the passphrase), keyd */	\
	MSG(IMSG_CTL_KEY_ROTATE, 0, P_CTL | P_ENGINE, P_ENGINE | P_PARENT, 0) \
	MSG(IMSG_KEY_ROTATE,	sizeof(struct key_load),		\
	    P_PARENT, P_KEYD, MSG_FD)					\
	MSG(IMSG_KEY_ROTATED,	sizeof(struct key_rotated),		\
	    P_KEYD, P_ENGINE, 0)					\
	/* listening sockets, bound by the parent */			\
	MSG(IMSG_LISTEN,	MSG_VAR, P_PARENT, P_ENGINE, MSG_FD)	\
	/* the admin HTTP socket (admin.listen), bound by the parent */	\
	MSG(IMSG_ADMIN_SOCKET,	MSG_VAR, P_PARENT, P_ENGINE, MSG_FD)	\
	/* the daemon API socket (daemonApi.listen), bound by the parent */ \
	MSG(IMSG_DAPI_SOCKET,	MSG_VAR, P_PARENT, P_ENGINE, MSG_FD)	\
	MSG(IMSG_CTL_LISTEN_ADDR, MSG_VAR, P_ENGINE, P_CTL, 0)		\
	/* connections */						\
	MSG(IMSG_CTL_CONNECT,	sizeof(struct ctl_target),		\
	    P_CTL, P_ENGINE, 0)						\
	MSG(IMSG_CTL_PING,	sizeof(struct ctl_target),		\
	    P_CTL, P_ENGINE, 0)						\
	MSG(IMSG_CTL_DISCONNECT, sizeof(struct ctl_target),		\
	    P_CTL, P_ENGINE, 0)						\
	MSG(IMSG_CTL_SHOW_CONNS, 0, P_CTL, P_ENGINE, MSG_RO)		\
	MSG(IMSG_CTL_CONN,	sizeof(struct ctl_conn), P_ENGINE, P_CTL, 0) \
	MSG(IMSG_CTL_PING_REPLY, sizeof(struct ctl_ping),		\
	    P_ENGINE, P_CTL, 0)						\
	/* circuit relay: the engine asks, relayd decides */		\
	MSG(IMSG_RELAY_RESERVE,	sizeof(struct relay_rsvp_req),		\
	    P_ENGINE, P_RELAYD, 0)					\
	MSG(IMSG_RELAY_RESERVE_RES, sizeof(struct relay_rsvp_res),	\
	    P_RELAYD, P_ENGINE, 0)					\
	MSG(IMSG_RELAY_CONNECT,	sizeof(struct relay_connect_req),	\
	    P_ENGINE, P_RELAYD, 0)					\
	MSG(IMSG_RELAY_CONNECT_RES, sizeof(struct relay_connect_res),	\
	    P_RELAYD, P_ENGINE, 0)					\
	MSG(IMSG_RELAY_CIRCUIT_END, sizeof(struct relay_circuit_end),	\
	    P_ENGINE, P_RELAYD, 0)					\
	MSG(IMSG_RELAY_PEER_GONE, sizeof(struct relay_peer_gone),	\
	    P_ENGINE, P_RELAYD, 0)					\
	MSG(IMSG_KEY_SIGN_VOUCHER, MSG_VAR, P_RELAYD, P_KEYD, 0)	\
	MSG(IMSG_KEY_VOUCHER,	MSG_VAR, P_KEYD, P_RELAYD, 0)		\
	MSG(IMSG_CTL_SHOW_RSVPS, 0, P_CTL | P_ENGINE,			\
	    P_ENGINE | P_RELAYD, MSG_RO)				\
	MSG(IMSG_CTL_RSVP,	sizeof(struct ctl_rsvp),		\
	    P_RELAYD | P_ENGINE, P_ENGINE | P_CTL, 0)			\
	MSG(IMSG_CTL_SHOW_CIRCUITS, 0, P_CTL, P_ENGINE, MSG_RO)		\
	MSG(IMSG_CTL_CIRCUIT,	sizeof(struct ctl_circuit),		\
	    P_ENGINE, P_CTL, 0)						\
	MSG(IMSG_CTL_SHOW_TOPICS, 0, P_CTL, P_ENGINE, MSG_RO)		\
	MSG(IMSG_CTL_TOPIC,	sizeof(struct ctl_topic), P_ENGINE, P_CTL, 0) \
	MSG(IMSG_CTL_PUBLISH,	MSG_VAR, P_CTL, P_ENGINE, 0)		\
	MSG(IMSG_CTL_SUBSCRIBE,	sizeof(struct ctl_subscribe),		\
	    P_CTL, P_ENGINE, MSG_RO)					\
	MSG(IMSG_CTL_GSMSG,	MSG_VAR, P_ENGINE, P_CTL, 0)		\
	MSG(IMSG_CTL_SHOW_GSPEERS, 0, P_CTL, P_ENGINE, MSG_RO)		\
	MSG(IMSG_CTL_GSPEER,	sizeof(struct ctl_gspeer), P_ENGINE, P_CTL, 0) \
	/* names: the engine's chroot has no resolver */		\
	MSG(IMSG_RESOLVE,	sizeof(struct resolve_req),		\
	    P_ENGINE, P_PARENT, 0)					\
	MSG(IMSG_RESOLVE_RES,	sizeof(struct resolve_res),		\
	    P_PARENT, P_ENGINE, 0)					\
	/* the store: known peers, bans, accounting */			\
	MSG(IMSG_STORE_PEER,	MSG_VAR, P_ENGINE, P_STORED, 0)		\
	MSG(IMSG_STORE_CANDIDATES, sizeof(struct store_cand_req),	\
	    P_ENGINE, P_STORED, 0)					\
	MSG(IMSG_STORE_CANDIDATE, sizeof(struct store_cand),		\
	    P_STORED, P_ENGINE, 0)					\
	MSG(IMSG_STORE_CANDIDATES_END, 0, P_STORED, P_ENGINE, 0)	\
	MSG(IMSG_STORE_BAN,	sizeof(struct store_ban_op),		\
	    P_ENGINE | P_STORED, P_STORED | P_ENGINE, 0)		\
	MSG(IMSG_STORE_BAN_RES,	sizeof(struct ctl_result),		\
	    P_STORED, P_ENGINE, 0)					\
	MSG(IMSG_STORE_BANS_END, 0, P_STORED, P_ENGINE, 0)		\
	MSG(IMSG_STORE_ACCT,	sizeof(struct store_acct),		\
	    P_RELAYD, P_STORED, 0)					\
	MSG(IMSG_STORE_LOOKUP,	sizeof(struct peerid), P_ENGINE, P_STORED, 0) \
	MSG(IMSG_CTL_BLOCK,	sizeof(struct ctl_block), P_CTL, P_ENGINE, 0) \
	MSG(IMSG_CTL_UNBLOCK,	sizeof(struct ctl_target),		\
	    P_CTL, P_ENGINE, 0)						\
	MSG(IMSG_CTL_SHOW_BANS,	0, P_CTL, P_ENGINE, MSG_RO)		\
	MSG(IMSG_CTL_BAN,	sizeof(struct ctl_ban), P_ENGINE, P_CTL, 0) \
	MSG(IMSG_CTL_SHOW_PEERS, 0, P_CTL | P_ENGINE,			\
	    P_ENGINE | P_STORED, MSG_RO)				\
	MSG(IMSG_CTL_PEER,	sizeof(struct ctl_peer),		\
	    P_STORED | P_ENGINE, P_ENGINE | P_CTL, 0)			\
	MSG(IMSG_CTL_SHOW_ACCT,	0, P_CTL | P_ENGINE,			\
	    P_ENGINE | P_STORED, MSG_RO)				\
	MSG(IMSG_CTL_ACCT,	sizeof(struct ctl_acct),		\
	    P_STORED | P_ENGINE, P_ENGINE | P_CTL, 0)			\
	MSG(IMSG_CTL_BACKUP,	0, P_CTL | P_ENGINE, P_ENGINE | P_STORED, \
	    MSG_FD)							\
	MSG(IMSG_CTL_VERIFY,	0, P_CTL | P_ENGINE, P_ENGINE | P_STORED, 0) \
	MSG(IMSG_CTL_SHOW_STORE, 0, P_CTL | P_ENGINE,			\
	    P_ENGINE | P_STORED, MSG_RO)				\
	MSG(IMSG_CTL_STORE,	sizeof(struct ctl_store),		\
	    P_STORED | P_ENGINE, P_ENGINE | P_CTL, 0)			\
	/* metrics: the engine polls the others, renders all on request */ \
	MSG(IMSG_METRICS_POLL,	0, P_ENGINE,				\
	    P_PARENT | P_KEYD | P_STORED | P_RELAYD, 0)			\
	MSG(IMSG_METRIC_ROW,	sizeof(struct metric_row),		\
	    P_PARENT | P_KEYD | P_STORED | P_RELAYD, P_ENGINE, 0)	\
	MSG(IMSG_METRICS_END,	0, P_PARENT | P_KEYD | P_STORED | P_RELAYD, \
	    P_ENGINE, 0)						\
	MSG(IMSG_CTL_SHOW_METRICS, 0, P_CTL, P_ENGINE, MSG_RO)		\
	MSG(IMSG_CTL_METRICS,	MSG_VAR, P_ENGINE, P_CTL, 0)

/*
 * The string fields of the messages: each must end with a NUL inside its
 * array, or the gate refuses the message; readers need not terminate.
 */
#define MSG_STRINGS							\
	STR(IMSG_CTL_STATUS,	struct ctl_status, version)		\
	STR(IMSG_CTL_STATUS,	struct ctl_status, mode)		\
	STR(IMSG_CTL_STATUS,	struct ctl_status, peerid)		\
	STR(IMSG_CTL_STATUS,	struct ctl_status, network)		\
	STR(IMSG_CTL_PROC,	struct ctl_proc, name)			\
	STR(IMSG_CTL_PROC,	struct ctl_proc, user)			\
	STR(IMSG_CTL_PROC,	struct ctl_proc, root)			\
	STR(IMSG_CTL_PROC,	struct ctl_proc, state)			\
	STR(IMSG_CTL_PROC,	struct ctl_proc, sandbox)		\
	STR(IMSG_CTL_PROC,	struct ctl_proc, detail)		\
	STR(IMSG_CTL_RESULT,	struct ctl_result, msg)			\
	STR(IMSG_KEY_PUBLIC,	struct key_public, peerid)		\
	STR(IMSG_KEY_LOAD,	struct key_load, source)		\
	STR(IMSG_CTL_KEY,	struct ctl_key, peerid)			\
	STR(IMSG_CTL_KEY,	struct ctl_key, type)			\
	STR(IMSG_CTL_KEY,	struct ctl_key, pubkey)			\
	STR(IMSG_CTL_KEY,	struct ctl_key, fingerprint)		\
	STR(IMSG_CTL_KEY,	struct ctl_key, file)			\
	STR(IMSG_KEY_ROTATE,	struct key_load, source)		\
	STR(IMSG_KEY_ROTATED,	struct key_rotated, old)		\
	STR(IMSG_KEY_ROTATED,	struct key_rotated, archive)		\
	STR(IMSG_KEY_ROTATED,	struct key_rotated, msg)		\
	STR(IMSG_KEY_ROTATED,	struct key_rotated, pub.peerid)		\
	STR(IMSG_CTL_CONNECT,	struct ctl_target, target)		\
	STR(IMSG_CTL_PING,	struct ctl_target, target)		\
	STR(IMSG_CTL_DISCONNECT,	struct ctl_target, target)	\
	STR(IMSG_CTL_CONN,	struct ctl_conn, peer)			\
	STR(IMSG_CTL_CONN,	struct ctl_conn, addr)			\
	STR(IMSG_CTL_CONN,	struct ctl_conn, agent)			\
	STR(IMSG_CTL_PING_REPLY,	struct ctl_ping, peer)		\
	STR(IMSG_RELAY_CIRCUIT_END,	struct relay_circuit_end, reason) \
	STR(IMSG_CTL_RSVP,	struct ctl_rsvp, peer)			\
	STR(IMSG_CTL_RSVP,	struct ctl_rsvp, addr)			\
	STR(IMSG_CTL_CIRCUIT,	struct ctl_circuit, src)		\
	STR(IMSG_CTL_CIRCUIT,	struct ctl_circuit, dst)		\
	STR(IMSG_CTL_TOPIC,	struct ctl_topic, topic)		\
	STR(IMSG_CTL_SUBSCRIBE,	struct ctl_subscribe, topic)		\
	STR(IMSG_CTL_GSPEER,	struct ctl_gspeer, peer)		\
	STR(IMSG_CTL_GSPEER,	struct ctl_gspeer, protocol)		\
	STR(IMSG_CTL_GSPEER,	struct ctl_gspeer, topic)		\
	STR(IMSG_RESOLVE,	struct resolve_req, name)		\
	STR(IMSG_RESOLVE_RES,	struct resolve_res, err)		\
	STR(IMSG_STORE_BAN,	struct store_ban_op, ban.reason)	\
	STR(IMSG_STORE_BAN_RES,	struct ctl_result, msg)			\
	STR(IMSG_CTL_BLOCK,	struct ctl_block, target)		\
	STR(IMSG_CTL_BLOCK,	struct ctl_block, reason)		\
	STR(IMSG_CTL_UNBLOCK,	struct ctl_target, target)		\
	STR(IMSG_CTL_BAN,	struct ctl_ban, target)			\
	STR(IMSG_CTL_BAN,	struct ctl_ban, reason)			\
	STR(IMSG_CTL_PEER,	struct ctl_peer, peer)			\
	STR(IMSG_CTL_PEER,	struct ctl_peer, addr)			\
	STR(IMSG_CTL_PEER,	struct ctl_peer, agent)			\
	STR(IMSG_CTL_ACCT,	struct ctl_acct, peer)			\
	STR(IMSG_CTL_STORE,	struct ctl_store, failure)		\
	STR(IMSG_RECONF_ENGINE,	struct reconf_engine, metrics_ns)

enum imsg_type {
#define MSG(t, s, from, to, flags)	t,
	MSG_TABLE
#undef MSG
	IMSG_MAX
};

struct msg_row {
	const char	*name;
	size_t		 size;			/* MSG_VAR: variable */
	uint32_t	 from;			/* P_* of the senders */
	uint32_t	 to;			/* P_* of the receivers */
	int		 flags;			/* MSG_RO, MSG_FD */
};

const char	*msg_name(uint32_t);
const struct msg_row *msg_row(uint32_t);
int		 msg_accept(const struct imsg *, enum proc_id, enum proc_id,
		    char *, size_t);
void		 msg_check(const struct imsg *, enum proc_id, enum proc_id);
int		 msg_readonly(uint32_t);
const char	*proc_name(enum proc_id);
int		 msg_list_more(struct ctl_result *, size_t, size_t,
		    const char *);

#endif /* PEERD_MSG_H */
