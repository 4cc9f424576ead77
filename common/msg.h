/*
 * The one table of messages the processes exchange, with the exact
 * payload size each must have (MSG_VAR: variable, checked by its reader).
 */
#ifndef PEERD_MSG_H
#define PEERD_MSG_H

#include <sys/types.h>

#include <stdint.h>

#include "imsg.h"
#include "peerid.h"
#include "storerec.h"

#define MSG_VAR		((size_t)-1)

#define PEERID_STRLEN	96	/* base58btc peer ID + NUL (PEERID_STRMAX) */
#define CTL_NAMELEN	16
#define CTL_USERLEN	33
#define CTL_DETAILLEN	256
#define CTL_MSGLEN	512

enum proc_id {
	PROC_PARENT,
	PROC_ENGINE,
	PROC_KEYD,
	PROC_STORED,
	PROC_RELAYD,
	PROC_MAX
};

struct ctl_proc {
	char		 name[CTL_NAMELEN];
	int32_t		 pid;
	uint32_t	 uid;
	char		 user[CTL_USERLEN];
	char		 root[256];
	char		 state[32];
	char		 detail[CTL_DETAILLEN];
};

struct ctl_status {
	char		 version[32];
	char		 mode[16];
	int64_t		 uptime;		/* seconds */
	char		 peerid[PEERID_STRLEN];
	int32_t		 connections;
	int32_t		 upgrading;
	char		 network[16];		/* ok, connecting, partitioned */
	int64_t		 network_since;		/* seconds in that state */
	int32_t		 outbound;
	int32_t		 outbound_target;
	int32_t		 min_connections;
	int32_t		 bans;
};

#define CTL_TARGETLEN	1024

struct ctl_target {
	char		 target[CTL_TARGETLEN];	/* multiaddr or peer ID */
	int32_t		 count;
};

struct ctl_ping {
	char		 peer[PEERID_STRLEN];
	int32_t		 seq;
	int64_t		 rtt_us;
};

struct ctl_conn {
	uint32_t	 id;
	int32_t		 inbound;
	int64_t		 age;			/* seconds */
	int32_t		 streams;
	char		 peer[PEERID_STRLEN];
	char		 addr[128];
	char		 agent[128];
};

struct ctl_result {
	int32_t		 ok;
	char		 msg[CTL_MSGLEN];
};

struct key_public {
	uint8_t		 pubkey[32];		/* Ed25519 */
	char		 peerid[PEERID_STRLEN];
	uint8_t		 noise_pub[32];		/* X25519 static key */
	uint8_t		 noise_sig[64];		/* identity signature over it */
};

struct key_dh {
	uint8_t		 pub[32];
};

struct key_dh_result {
	int32_t		 ok;
	uint8_t		 shared[32];
};

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
	char		 peer[PEERID_STRLEN];
	char		 addr[64];
	int64_t		 expire;		/* unix seconds */
	int64_t		 created;
};

struct ctl_circuit {
	uint32_t	 id;
	char		 src[PEERID_STRLEN];
	char		 dst[PEERID_STRLEN];
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
	char		 peer[PEERID_STRLEN];
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
	char		 peer[PEERID_STRLEN];
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

#define MSG_TABLE							\
	MSG(IMSG_NONE,			0)				\
	MSG(IMSG_SOCKET_CONN,		sizeof(uint32_t))		\
	MSG(IMSG_CTL_SOCKET,		sizeof(int32_t))		\
	MSG(IMSG_RECONF_CHUNK,		MSG_VAR)			\
	MSG(IMSG_RECONF_DONE,		0)				\
	MSG(IMSG_CTL_SHOW_STATUS,	0)				\
	MSG(IMSG_CTL_STATUS,		sizeof(struct ctl_status))	\
	MSG(IMSG_CTL_PROC,		sizeof(struct ctl_proc))	\
	MSG(IMSG_CTL_RELOAD,		0)				\
	MSG(IMSG_CTL_LOG_VERBOSE,	sizeof(int32_t))		\
	MSG(IMSG_CTL_RESULT,		sizeof(struct ctl_result))	\
	MSG(IMSG_CTL_END,		0)				\
	MSG(IMSG_KEY_GET_PUBLIC,	0)				\
	MSG(IMSG_KEY_PUBLIC,		sizeof(struct key_public))	\
	MSG(IMSG_KEY_DH,		sizeof(struct key_dh))		\
	MSG(IMSG_KEY_DH_RESULT,		sizeof(struct key_dh_result))	\
	MSG(IMSG_KEY_SIGN_RECORD,	MSG_VAR)			\
	MSG(IMSG_KEY_RECORD,		MSG_VAR)			\
	MSG(IMSG_LISTEN,		MSG_VAR)			\
	MSG(IMSG_CTL_LISTEN_ADDR,	MSG_VAR)			\
	MSG(IMSG_CTL_CONNECT,		sizeof(struct ctl_target))	\
	MSG(IMSG_CTL_PING,		sizeof(struct ctl_target))	\
	MSG(IMSG_CTL_DISCONNECT,	sizeof(struct ctl_target))	\
	MSG(IMSG_CTL_SHOW_CONNS,	0)				\
	MSG(IMSG_CTL_CONN,		sizeof(struct ctl_conn))	\
	MSG(IMSG_CTL_PING_REPLY,	sizeof(struct ctl_ping))	\
	MSG(IMSG_RELAY_RESERVE,		sizeof(struct relay_rsvp_req))	\
	MSG(IMSG_RELAY_RESERVE_RES,	sizeof(struct relay_rsvp_res))	\
	MSG(IMSG_RELAY_CONNECT,		sizeof(struct relay_connect_req)) \
	MSG(IMSG_RELAY_CONNECT_RES,	sizeof(struct relay_connect_res)) \
	MSG(IMSG_RELAY_CIRCUIT_END,	sizeof(struct relay_circuit_end)) \
	MSG(IMSG_RELAY_PEER_GONE,	sizeof(struct relay_peer_gone))	\
	MSG(IMSG_KEY_SIGN_VOUCHER,	MSG_VAR)			\
	MSG(IMSG_KEY_VOUCHER,		MSG_VAR)			\
	MSG(IMSG_CTL_SHOW_RSVPS,	0)				\
	MSG(IMSG_CTL_RSVP,		sizeof(struct ctl_rsvp))	\
	MSG(IMSG_CTL_SHOW_CIRCUITS,	0)				\
	MSG(IMSG_CTL_CIRCUIT,		sizeof(struct ctl_circuit))	\
	MSG(IMSG_RESOLVE,		sizeof(struct resolve_req))	\
	MSG(IMSG_RESOLVE_RES,		sizeof(struct resolve_res))	\
	MSG(IMSG_STORE_PEER,		MSG_VAR)			\
	MSG(IMSG_STORE_CANDIDATES,	sizeof(struct store_cand_req))	\
	MSG(IMSG_STORE_CANDIDATE,	sizeof(struct store_cand))	\
	MSG(IMSG_STORE_CANDIDATES_END,	0)				\
	MSG(IMSG_STORE_BAN,		sizeof(struct store_ban_op))	\
	MSG(IMSG_STORE_BAN_RES,		sizeof(struct ctl_result))	\
	MSG(IMSG_STORE_BANS_END,	0)				\
	MSG(IMSG_STORE_ACCT,		sizeof(struct store_acct))	\
	MSG(IMSG_STORE_LOOKUP,		sizeof(struct peerid))		\
	MSG(IMSG_CTL_BLOCK,		sizeof(struct ctl_block))	\
	MSG(IMSG_CTL_UNBLOCK,		sizeof(struct ctl_target))	\
	MSG(IMSG_CTL_SHOW_BANS,		0)				\
	MSG(IMSG_CTL_BAN,		sizeof(struct ctl_ban))		\
	MSG(IMSG_CTL_SHOW_PEERS,	0)				\
	MSG(IMSG_CTL_PEER,		sizeof(struct ctl_peer))	\
	MSG(IMSG_CTL_SHOW_ACCT,		0)				\
	MSG(IMSG_CTL_ACCT,		sizeof(struct ctl_acct))	\
	MSG(IMSG_CTL_BACKUP,		0)				\
	MSG(IMSG_CTL_VERIFY,		0)				\
	MSG(IMSG_CTL_SHOW_STORE,	0)				\
	MSG(IMSG_CTL_STORE,		sizeof(struct ctl_store))

enum imsg_type {
#define MSG(t, s)	t,
	MSG_TABLE
#undef MSG
	IMSG_MAX
};

const char	*msg_name(uint32_t);
int		 msg_valid(const struct imsg *);
void		 msg_check(const struct imsg *, const char *);
const char	*proc_name(enum proc_id);
int		 msg_list_more(struct ctl_result *, size_t, size_t,
		    const char *);

#endif /* PEERD_MSG_H */
