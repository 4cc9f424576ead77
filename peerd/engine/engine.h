/*
 * The network engine: connections, the security and muxer upgrade,
 * yamux sessions, streams, the protocols and the modules that use them,
 * and the control sockets.  Its files, lowest first; each calls only the
 * files above it in this list (and common/):
 *
 *	state.c		 the counters, the bounds, our identity: data only
 *	sketch.c	 counts per key over a sliding minute, in fixed memory
 *	wsconn.c	 WebSocket under a connection: the upgrade, frames
 *	conn.c		 connections: sockets, framing, output queues
 *	pssign.c	 keyd's signatures of the pubsub messages we publish
 *	control.c	 the control sockets, the answers to their clients
 *	yamux.c		 yamux sessions
 *	stream.c	 multistream-select on streams, the protocol table
 *	bans.c		 bans, and the control requests on them
 *	known.c		 what the store learns about peers, and which of
 *			 the addresses peers give it keeps
 *	upgrade.c	 multistream, Noise and the muxer on a connection
 *	listen.c	 listening sockets and the accept bounds
 *	dial.c		 TCP and DNS dials; the scope and the backoff of
 *			 addresses peers gave
 *	proto_ping.c	 ping
 *	relay_client.c	 reservations on relays, relayed connections
 *	proto_identify.c identify and identify-push
 *	relay.c		 the relay service, and both sides of hop and stop
 *	ops.c		 control requests that need the network
 *	gscache.c	 gossipsub: the seen cache, the message cache
 *	gstopic.c	 gossipsub: topics, peers, the output to a peer
 *	gsmesh.c	 gossipsub: mesh, fanout, heartbeat, gossip
 *	gsshow.c	 gossipsub: peerctl show gossip peers
 *	gossip.c	 gossipsub: the protocols, forwarding, publish
 *	gspub.c		 peerctl publish and subscribe, relay.advertise
 *	connmgr.c	 the connection manager
 *	dapistream.c	 the daemon API: streams opened and handled
 *	dapiclient.c	 the daemon API: its socket, clients, bounds
 *	dapi.c		 the daemon API: its requests
 *	metrics.c	 the metrics of every process, polled and rendered
 *	http.c		 the admin HTTP server: /status, /health, /metrics
 *	engine.c	 the top: dispatch, configuration, the sweep
 *
 * A lower file tells a higher one only through what engine.c sets at
 * start: the hooks (struct conn_hooks, upgrade_hooks, stream_upcalls,
 * dial_hooks, rclient_hooks, http_hooks, identify_hooks), the protocol table stream.c
 * is given and the request table control.c is given; and gossip.c's
 * delivery to the watchers, which gspub.c sets (gossip_set_deliver),
 * and the end of a streamed answer, which it gives control_stream.  The values of
 * the configuration come down in conn_limits and ident, which the
 * engine fills, and in the engine's part of it (struct engine_conf),
 * which it hands the relay client and the connection manager.
 */
#ifndef PEERD_ENGINE_H
#define PEERD_ENGINE_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/socket.h>

#include <stdint.h>
#include <time.h>

#include <event.h>

#include "addrscope.h"
#include "buf.h"
#include "imsg.h"
#include "msg.h"
#include "multiaddr.h"
#include "noise.h"
#include "peerid.h"
#include "yamuxhdr.h"

#define ENGINE_AGENT		"peerd/" PEERD_VERSION
#define ENGINE_PROTOVER		"ipfs/0.1.0"
#define ENGINE_MAXANNOUNCE	16		/* announce addresses used */
#define KNOWN_MAXADDRS		PREC_MAXADDRS	/* kept from a peer's identify */
#define DIAL_BACKOFF_SLOTS	1024		/* addresses in dial backoff */

#define CONN_MAX_OUT		(4 * 1024 * 1024)  /* queued ciphertext */
#define CONN_MAX_RAW		(2 + NOISE_MAXMSG)   /* one Noise frame */
#define NOISE_MAXPT		(NOISE_MAXMSG - NOISE_TAGLEN)

#define YAMUX_WINDOW		(256 * 1024)
#define YAMUX_KEEPALIVE		30		/* seconds idle */

#define STREAM_MS_TIMEOUT	10		/* seconds to agree */

#define PSSIGN_MAX		64	/* pubsub signatures asked of keyd */
#define PSSIGN_WAIT		5	/* seconds keyd has to answer */

#define SKETCH_ROWS		4
#define SKETCH_BITS		14
#define SKETCH_WIDTH		(1 << SKETCH_BITS)	/* counters a row */
#define PENDING_SRC_MAX		1024	/* maxPendingPerIP at most */
/*
 * Seconds a control request waits on another process before the engine
 * answers without it: status, which each answers from memory; the rest,
 * a read or a commit of the store, relayd's list, a reload; a whole pass
 * over the store (backup, verify).  Each below peerctl's own patience
 * (30 s, and 600 s for backup and verify), so that the engine's answer
 * comes first.
 */
#define CTL_WAIT_STATUS		2
#define CTL_WAIT		10
#define CTL_WAIT_PASS		540


enum conn_dir {
	CONN_INBOUND,
	CONN_OUTBOUND
};

enum conn_state {
	CS_CONNECTING,		/* outbound TCP connect in progress */
	CS_MS_SECURITY,		/* multistream for /noise, in clear */
	CS_NOISE,		/* Noise XX */
	CS_MS_MUXER,		/* multistream for /yamux/1.0.0, encrypted */
	CS_OPEN,		/* yamux */
	CS_CLOSING		/* flushing, then gone */
};

struct conn;
struct stream;
struct srcgroup;
struct ipcount;
struct wsconn;

/* What wsc_input() found besides payload. */
#define WSC_OK		0
#define WSC_OPENED	1	/* the upgrade is done */
#define WSC_CLOSE	2	/* the peer closed */
#define WSC_ERROR	3	/* refused: an HTTP status or a close code */

/* One entry of the protocol table. */
struct proto {
	const char	*name;
	int		(*enabled)(void);
	void		(*open)(struct stream *);
	void		(*input)(struct stream *);
	void		(*writable)(struct stream *);
	void		(*closed)(struct stream *);
	void		(*free)(struct stream *);
	/* takes bytes straight from the frame; must not free anything */
	size_t		(*direct)(struct stream *, const uint8_t *, size_t);
};

#define ST_LOCAL_FIN	0x01
#define ST_REMOTE_FIN	0x02
#define ST_RESET	0x04
#define ST_ACKED	0x08
#define ST_OUTBOUND	0x10
#define ST_NEGOTIATED	0x20
#define ST_MS_HEADER	0x40	/* remote multistream header seen */
#define ST_FIN_SENT	0x80

struct stream {
	TAILQ_ENTRY(stream)	 entry;
	struct conn		*conn;
	uint32_t		 id;
	int			 flags;
	uint32_t		 send_window;
	uint32_t		 recv_window;
	uint32_t		 unacked;	/* consumed, not yet granted */
	struct bq		 in;
	struct bq		 out;
	const struct proto	*proto;
	const char		*want;		/* outbound: proposed protocol */
	int			 tries;
	time_t			 opened;
	void			*ctx;
};

/*
 * What yamux.c hands up to the stream layer: stream.c registers it with
 * stream_init(), so that yamux.c calls nothing above it by name.
 */
struct stream_upcalls {
	void	(*opened)(struct stream *);	/* ours or the remote's */
	void	(*input)(struct stream *);	/* s->in has more */
	void	(*remote_closed)(struct stream *);
	void	(*writable)(struct stream *);	/* room again */
	void	(*freed)(struct stream *);	/* about to be freed */
};

struct yamux {
	TAILQ_HEAD(, stream)	 streams;
	uint32_t		 next_id;
	uint32_t		 nstreams;
	uint8_t			 hdr[YAMUX_HDRLEN];
	size_t			 hdrlen;
	struct stream		*body_stream;
	uint32_t		 body_left;
	int			 body_type;
	int			 goaway;
	int			 held;		/* window updates held back */
	uint32_t		 ping_out;
	struct timespec		 ping_sent;
};

/* What identify told us about the remote; kept per connection. */
struct peer_info {
	char			*agent;
	char			*protocol_version;
	char			*protocols;	/* NUL-separated, ends in "" */
	size_t			 protocols_len;
	uint8_t			*addrs;		/* 2-byte length, binary */
	size_t			 addrs_len;
	uint8_t			*observed;	/* binary multiaddr */
	size_t			 observed_len;
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 hs_entry;	/* while upgrading */
	uint32_t		 id;
	int			 fd;
	enum conn_dir		 dir;
	enum conn_state		 state;
	int			 in_upgrade;
	struct event		 ev;
	short			 events;
	struct sockaddr_storage	 ss;		/* remote */
	struct sockaddr_storage	 lss;		/* local */
	struct peerid		 peer;
	int			 have_peer;
	int			 expect_peer;	/* outbound to a known ID */
	time_t			 started;	/* monotonic seconds */
	time_t			 last_io;
	struct bq		 raw;		/* partial input frame */
	struct bq		 out;		/* ciphertext to send */
	size_t			 frame;		/* open frame at out + frame */
	int			 framing;	/* a frame is open */
	struct bq		 mspt;		/* plaintext of CS_MS_MUXER */
	struct noise_hs		*hs;
	struct noise_cs		 tx;
	struct noise_cs		 rx;
	int			 early_muxer;
	int			 ms_header;	/* upgrade: remote header seen */
	int			 ms_tries;	/* upgrade: proposals refused */
	struct yamux		 mux;
	struct peer_info	*info;
	int			 relayed;	/* carried by a relay stream */
	int64_t			 reserved;	/* reservation until, unix s */
	uint32_t		 carrier_conn;
	uint32_t		 carrier_stream;
	struct peerid		 via;		/* relayed: the relay */
	uint16_t		 port;		/* while a name resolves */
	uint32_t		 walk;		/* conn_walk that saw it */
	int			 heard;		/* a frame came after the upgrade */
	struct bq_acct		 mem;		/* its queues and its streams' */
	time_t			 stalled;	/* congested since, or 0 */
	int			 learned;	/* dialled at an address a peer gave */
	struct srcgroup		*src;		/* inbound, while upgrading */
	TAILQ_ENTRY(conn)	 src_entry;
	struct wsconn		*ws;		/* over WebSocket, or NULL */
	RB_ENTRY(conn)		 id_entry;	/* conn_find */
	struct ipcount		*ipc;		/* counted to its source */
};

TAILQ_HEAD(connlist, conn);

/*
 * What conn.c asks of the layers above it, set by the engine at start:
 * conn.c calls no other file of the engine by name.
 */
struct conn_hooks {
	void	(*start)(struct conn *);	/* connected: upgrade it */
	/* input, *used set to what was taken; may close the connection */
	void	(*input)(struct conn *, uint8_t *, size_t, size_t *);
	void	(*drained)(struct conn *);	/* open, and room again */
	void	(*push)(struct conn *);		/* output of a relayed one */
	/* going: in_upgrade says whether it ever came up */
	void	(*closing)(struct conn *, const char *);
	void	(*freed)(void);			/* its slot is free */
	/* an inbound WebSocket upgraded: admit it by what a trusted proxy
	 * forwarded, then start it (or close it) */
	void	(*ws_open)(struct conn *);
};

/*
 * What upgrade.c tells the layers above it, set by the engine at start:
 * upgrade.c calls no file above it by name.
 */
struct upgrade_hooks {
	void	(*up)(struct conn *);		/* secured and multiplexed */
	void	(*heard)(struct conn *);	/* its first frame after that */
};

/*
 * What dial.c and relay_client.c ask of the layers above them, set by
 * the engine at start, as for conn.c and upgrade.c.
 */
struct dial_hooks {
	/* a /p2p-circuit address: the relay client dials it */
	struct conn	*(*relayed)(const struct multiaddr *, char *, size_t);
};

struct rclient_hooks {
	void	(*addrs_changed)(void);		/* our circuit addresses */
};

/* One row of the request table the engine gives control.c. */
struct ctl_request {
	uint32_t	 type;
	/* for the request of that id: 0 once served, -1 to drop the client */
	int		(*serve)(uint32_t, struct imsg *);
	/* the processes (P_*) that did not answer in time; NULL: an error */
	void		(*late)(uint32_t, uint32_t);
	int		 wait;			/* seconds: CTL_WAIT* */
};

/*
 * The bounds and switches of the configuration: the engine sets them at
 * each load.
 */
struct conn_limits {
	int		 max_connections;
	int		 max_pending;		/* upgrading */
	int		 max_streams;		/* per connection */
	time_t		 upgrade_timeout;	/* seconds */
	int		 max_per_ip;		/* accepted from one address */
	int64_t		 conns_per_minute;	/* per source; 0: no limit */
	int		 relay_hop;		/* relay.enabled, hop.enabled */
	size_t		 stream_buffer;		/* output a stream may queue */
	size_t		 conn_buffer;		/* all a connection holds */
	size_t		 total_buffer;		/* all connections together */
	time_t		 stalled_timeout;	/* seconds congested */
	int		 max_pending_per_ip;	/* upgrading from one source */
	int		 ipv4_prefix;		/* a source: bits of IPv4 */
	int		 ipv6_prefix;		/* and of IPv6 */
	uint64_t	 ws_max_message;	/* a WebSocket frame, message */
	struct ip_prefix ws_proxies[CONF_MAX_PROXIES];	/* trusted */
	int		 ws_nproxies;
};

/* A count-min sketch over a sliding window (sketch.c): 512 KiB. */
struct sketch {
	uint8_t		 key[16];		/* SipHash, random */
	int64_t		 window;		/* ms */
	int64_t		 start;			/* of the current, ms */
	int		 cur;			/* cell[cur] is current */
	int		 ready;
	uint32_t	 cell[2][SKETCH_ROWS][SKETCH_WIDTH];
};

/*
 * The engine's part of the configuration, as the parent sends it
 * (msg.h): engine.c gathers it, fills conn_limits and ident from it and
 * hands it to the relay client and the connection manager, which read
 * it until the next.
 */
struct engine_conf {
	struct reconf_engine	 lim;
	struct multiaddr	 announce[CONF_MAX_ANNOUNCE];
	size_t			 nannounce;
	struct multiaddr	 bootstrap[CONF_MAX_BOOTSTRAP];
	size_t			 nbootstrap;
	struct multiaddr	 relays[CONF_MAX_RELAYS];	/* with an ID */
	size_t			 nrelays;
	struct peerid		 protected[CONF_MAX_PROTECTED];
	size_t			 nprotected;
	char			 topics[CONF_MAX_TOPICS][CONF_TOPIC_MAX + 1];
	size_t			 ntopics;	/* gossipSub.topics */
};

/* The admin HTTP requests counted, by path and by answer (http.c). */
enum http_path { HP_STATUS, HP_HEALTH, HP_METRICS, HP_OTHER, HTTP_PATHS };
#define HTTP_CODES	5	/* 200, 404, 405, 500, 503 */

/* The router's counters, for the metrics and peerctl. */
struct gs_counters {
	uint64_t	 msgs_in;	/* new, valid */
	uint64_t	 msgs_out;	/* frames written to peers */
	uint64_t	 dups;
	uint64_t	 drop_invalid;	/* bad signature, from, key */
	uint64_t	 drop_unsigned;
	uint64_t	 drop_topic;	/* not joined, or no topic */
	uint64_t	 drop_queue;	/* a peer's output over budget */
	uint64_t	 drop_malformed;	/* whole RPCs */
	uint64_t	 drop_limits;	/* tables full */
	uint64_t	 drop_graylist;	/* RPCs of graylisted peers */
	uint64_t	 idontwant_saved;
	uint64_t	 idontwant_sent;
	uint64_t	 idontwant_recv;	/* IDs received */
	uint64_t	 grafts, prunes;	/* received */
	uint64_t	 backoff_penalties;
	uint64_t	 broken_promises;	/* IWANTs not answered */
	uint64_t	 iwant_served;
	uint64_t	 ihave_sent;
	uint64_t	 px_ignored;	/* peers offered in PRUNE, not taken */
	uint64_t	 px_accepted;	/* their signed records taken */
	uint64_t	 watch_refused;	/* peerctl subscribe over a bound */
	uint64_t	 watch_lost;	/* messages a watcher did not read */
	uint64_t	 deficit_prunes;	/* mesh peers pruned owing P3 */
	uint64_t	 iwant_deduped;	/* IDs announced again, not asked */
	uint64_t	 iwant_fallback;	/* asked again, of another */
};


struct engine_counters {
	uint64_t	 accepted;
	uint64_t	 dialed;
	uint64_t	 refused_pending;
	uint64_t	 refused_per_ip;
	uint64_t	 refused_rate;
	uint64_t	 refused_pending_ip;	/* maxPendingPerIP */
	uint64_t	 pending_dropped;	/* early drop for a newcomer */
	uint64_t	 handshake_timeouts;
	uint64_t	 handshake_failures;
	uint64_t	 protocol_errors;
	uint64_t	 streams_refused;
	uint64_t	 refused_banned;
	uint64_t	 refused_limit;
	uint64_t	 store_dropped;	/* updates the store had no room for */
	uint64_t	 mem_streams_reset;	/* data over a budget */
	uint64_t	 mem_windows_held;	/* window updates held back */
	uint64_t	 mem_reads_paused;	/* peers not reading our output */
	uint64_t	 mem_stalled;		/* closed: not reading in time */
	uint64_t	 mem_reclaimed;		/* closed: the engine's budget */
	uint64_t	 mem_alloc_failed;	/* closed: no memory */
	size_t		 mem_peak;		/* most ever buffered */
	uint64_t	 addrs_filtered;	/* from peers: dialPrivateAddresses */
	uint64_t	 addrs_dropped;		/* from peers: over KNOWN_MAXADDRS */
	uint64_t	 dials_backed_off;	/* address dialled too recently */
	uint64_t	 protocols_unknown;	/* proposed, not served */
	uint64_t	 ctl_refused;	/* control clients over a pool or cap */
	uint64_t	 ctl_idle;	/* read-only clients closed idle */
	uint64_t	 ctl_late;	/* requests a process did not answer */
	uint64_t	 http_requests[HTTP_PATHS][HTTP_CODES];
	uint64_t	 http_full;	/* admin connections at the cap */
	uint64_t	 upgraded;	/* handshakes done (metrics) */
	uint64_t	 dials_ok;	/* outbound ones that came up */
	uint64_t	 dials_failed;	/* outbound ones closed before that */
	uint64_t	 ws_refused;	/* WebSocket upgrades refused */
	uint64_t	 ws_frame_errors;	/* closed: a bad frame */
	uint64_t	 pssign_busy;	/* pubsub signatures: table full */
	uint64_t	 pssign_refused;	/* refused by keyd */
	uint64_t	 pssign_timeouts;	/* keyd late */
	uint64_t	 dapi_requests;	/* daemon API requests read */
	uint64_t	 dapi_errors;	/* answered with an error */
	uint64_t	 dapi_refused;	/* clients, requests, streams over a bound */
	uint64_t	 dapi_stalled;	/* closed: not reading in time */
	uint64_t	 dapi_idle;	/* closed: no whole request in time */
	uint64_t	 dapi_streams;	/* streams spliced */
	struct gs_counters gossip;
};

/*
 * Who we are, as keyd told it (ready once it has), and where we say we
 * are, from the configuration: the engine fills it, the layers read it.
 */
struct engine_identity {
	int		 ready;
	uint8_t		 pubkey[32];
	struct peerid	 peerid;
	char		 peerid_str[64];
	uint8_t		 noise_pub[32];
	uint8_t		 noise_sig[64];
	uint8_t		 payload[256];		/* Noise handshake payload */
	size_t		 payloadlen;
	uint8_t		*record;		/* signed peer record */
	size_t		 recordlen;
	struct multiaddr announce[ENGINE_MAXANNOUNCE];
	size_t		 nannounce;
	int		 lockdown;	/* keyd's keys wiped: no network */
};

extern struct connlist		 conns;
extern struct bq_acct		 mem_total;	/* every connection's */
extern struct conn_limits	 conn_limits;
extern struct engine_counters	 counters;
extern struct engine_identity	 ident;

/* sketch.c */
void		 sketch_init(struct sketch *, int64_t, int64_t);
uint64_t	 sketch_estimate(struct sketch *, const void *, size_t,
		    int64_t);
int		 sketch_add(struct sketch *, const void *, size_t, uint32_t,
		    uint64_t, int64_t);

/* wsconn.c */
struct wsconn	*wsc_new(int, uint64_t, struct bq_acct *);
void		 wsc_free(struct wsconn *);
int		 wsc_upgraded(const struct wsconn *);
const char	*wsc_forwarded(const struct wsconn *);
int		 wsc_pending(const struct wsconn *);
int		 wsc_client_start(struct wsconn *, const struct multiaddr *);
int		 wsc_input(struct wsconn *, uint8_t *, size_t *, uint16_t *,
		    char *, size_t);
ssize_t		 wsc_send(struct wsconn *, int, uint8_t *, size_t);
void		 wsc_bye(struct wsconn *, int, uint16_t);

/* conn.c */
void		 conn_set_hooks(const struct conn_hooks *);
struct conn	*conn_new(int, enum conn_dir, const struct sockaddr *,
		    socklen_t);
void		 conn_close(struct conn *, const char *);
void		 conn_fail(struct conn *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 conn_abort(struct conn *, const char *);
struct conn	*conn_find(uint32_t);
struct conn	*conn_find_peer(const struct peerid *);
int		 conn_write_raw(struct conn *, const void *, size_t);
int		 conn_write(struct conn *, const void *, size_t);
void		 conn_flush(struct conn *);
int		 conn_congested(const struct conn *);
int		 conn_over_budget(const struct conn *, size_t);
void		 conn_reclaim(void);
void		 conn_update_events(struct conn *);
void		 conn_sweep(time_t);
int		 conn_count(void);
int		 conn_count_ip(const struct sockaddr_storage *);
int		 conn_pending(void);
int		 conn_pending_src(const struct sockaddr_storage *);
struct conn	*conn_pending_victim(int);
time_t		 mono_now(void);
int64_t		 mono_ms(void);
void		 conn_close_all(void (*)(struct conn *));
void		 conn_walk(void (*)(struct conn *, void *), void *);
void		 conn_upgraded(struct conn *);
struct conn	*conn_new_relayed(enum conn_dir);
struct conn	*conn_new_pending(enum conn_dir);
void		 conn_set_socket(struct conn *, int,
		    const struct sockaddr_storage *, socklen_t);
void		 conn_set_remote(struct conn *,
		    const struct sockaddr_storage *);
void		 conn_regroup(void);
size_t		 conn_feed(struct conn *, uint8_t *, size_t);
struct conn	*conn_find_peer_other(const struct peerid *,
		    const struct conn *);
void		 sockaddr_fmt(const struct sockaddr_storage *, char *, size_t);
void		 conn_event_fmt(const struct conn *, char *, size_t);
void		 sockaddr_ip16(const struct sockaddr_storage *, uint8_t [16]);
void		 sockaddr_group(const struct sockaddr_storage *, uint8_t [16]);

/* pssign.c */
typedef void	(*pssign_done_fn)(void *, const uint8_t *);
int		 pssign_request(const uint8_t *, size_t, pssign_done_fn,
		    void *);
void		 pssign_result(const struct key_ps_sig *);
void		 pssign_cancel(void *);
void		 pssign_sweep(time_t);
int		 pssign_pending(void);

/* upgrade.c */
void		 upgrade_set_hooks(const struct upgrade_hooks *);
void		 upgrade_start(struct conn *);
void		 upgrade_input(struct conn *, uint8_t *, size_t, size_t *);
void		 upgrade_static_dh(uint32_t, const uint8_t *);

/* yamux.c */
void		 yamux_set_upcalls(const struct stream_upcalls *);
void		 yamux_init(struct conn *);
int		 yamux_input(struct conn *, const uint8_t *, size_t);
struct stream	*yamux_open(struct conn *, const char *);
struct stream	*stream_lookup(struct conn *, uint32_t);
int		 stream_write(struct stream *, const void *, size_t);
int		 stream_write_msg(struct stream *, const uint8_t *, size_t);
void		 stream_consume(struct stream *, size_t);
void		 stream_close(struct stream *);
void		 stream_reset(struct stream *);
int		 stream_writable(const struct stream *);
void		 yamux_goaway(struct conn *, uint32_t);
void		 yamux_free(struct conn *);
void		 yamux_keepalive(struct conn *, time_t);
void		 yamux_send_pending(struct conn *);
void		 yamux_regrant(struct conn *);

/* stream.c */
const struct proto *proto_find(const char *);
const struct proto *proto_lookup(const char *);
void		 stream_init(const struct proto *const *);
size_t		 proto_names(const char **, size_t);
void		 proto_unknown(const struct conn *, uint32_t, const char *);
typedef const struct proto *(*stream_dynamic_fn)(struct stream *,
		    const char *);
void		 stream_set_dynamic(stream_dynamic_fn);
struct stream	*stream_open_as(struct conn *, const char *,
		    const struct proto *, void *);

/* proto_identify.c, proto_ping.c, relay.c */
extern const struct proto	 proto_identify, proto_identify_push,
				 proto_ping, proto_hop, proto_stop;
void		 identify_start(struct conn *);
void		 identify_push_all(void);
void		 peer_info_free(struct peer_info *);
void		 ping_start(struct conn *, uint32_t, int);

/* What identify tells the layers above it, set by the engine at start. */
struct identify_hooks {
	void	(*identified)(struct conn *);	/* c->info is new */
};
void		 identify_set_hooks(const struct identify_hooks *);

/* listen.c */
int		 listen_add(int, const char *);
void		 listen_ws_open(struct conn *);
void		 listen_resume(void);
void		 listen_pause(void);
size_t		 listen_addrs(struct multiaddr *, size_t,
		    const struct sockaddr_storage *);
void		 listen_close_all(void);
int		 sockaddr_unspecified(const struct sockaddr_storage *);

/* control.c: the control sockets, and the answers to their clients */
void		 control_set_requests(const struct ctl_request *);
void		 control_configure(const struct reconf_engine *);
void		 control_init(int, int);
void		 control_reply(uint32_t, uint32_t, const void *, size_t);
void		 control_end(uint32_t);
void		 control_result(uint32_t, int, const char *);
int		 control_ask(enum proc_id, uint32_t, uint32_t, int,
		    const void *, size_t);
int		 control_answered(uint32_t, enum proc_id);
void		 control_stream(uint32_t, void (*)(uint32_t));
int64_t		 control_queued(uint32_t);
void		 control_shutdown(void);
int		 control_to_stored(uint32_t, struct imsg *);
int		 control_to_relayd(uint32_t, struct imsg *);
int		 control_to_parent(uint32_t, struct imsg *);
int		 control_to_keyd(uint32_t, struct imsg *);
int		 control_log_verbose(uint32_t, struct imsg *);

/* relay.c: the relay service */
int		 relay_reserve_result(struct imsg *);
void		 relay_connect_result(struct imsg *);
void		 relay_conn_closed(struct conn *);
void		 relay_sweep(time_t);
int		 relay_show_circuits(uint32_t, struct imsg *);
int		 relay_conn_busy(const struct conn *);
int		 relay_circuit_count(void);

/* relay_client.c: reservations on relays, relayed connections */
void		 rclient_set_hooks(const struct rclient_hooks *);
int		 rclient_enabled(void);
void		 rclient_api_relay(const struct peerid *);
void		 rclient_input(struct stream *);
void		 rclient_writable(struct stream *);
void		 rclient_closed(struct stream *);
void		 rclient_free(struct stream *);
void		 rclient_configure(const struct engine_conf *);
void		 rclient_sweep(time_t);
void		 rclient_conn_ready(struct conn *);
void		 rclient_conn_closed(struct conn *);
size_t		 rclient_addrs(struct multiaddr *, size_t);
int		 rclient_is_relay(const struct conn *);
int		 rclient_reserved(void);
int		 rclient_renew(void);
struct conn	*rclient_dial(const struct multiaddr *, char *, size_t);
void		 rclient_carrier_push(struct conn *);
void		 rclient_carrier_release(struct conn *);

/* dial.c */
void		 dial_set_hooks(const struct dial_hooks *);
struct conn	*dial_maddr(const struct multiaddr *, char *, size_t);
struct conn	*dial_learned(const struct multiaddr *, char *, size_t);
void		 dial_resolved(uint32_t, const struct resolve_res *);
void		 dial_configure(const struct reconf_engine *);
void		 dial_succeeded(const struct conn *);

/* ops.c: control requests that need the network */
int		 ops_request(uint32_t, struct imsg *);
int		 ops_show_connections(uint32_t, struct imsg *);
void		 ops_conn_ready(struct conn *);
void		 ops_conn_heard(struct conn *);
void		 ops_conn_failed(struct conn *, const char *);
void		 ops_conn_closed(struct conn *);
void		 ops_lookup_result(uint32_t, const struct store_cand *);

/* bans.c */
extern int	 bans_ready;
int		 bans_check_ip(const struct sockaddr_storage *);
int		 bans_check_peer(const struct peerid *);
int		 bans_count(void);
void		 bans_load(const struct store_ban_op *);
void		 bans_loaded(void);
int		 bans_request(uint32_t, struct imsg *);
void		 bans_late(uint32_t, uint32_t);
int		 bans_show(uint32_t, struct imsg *);
void		 bans_sweep(void);

/* known.c: what the store learns */
struct identify_msg;
void		 known_conn_up(const struct conn *, uint32_t);
void		 known_dial_failed(const struct conn *);
void		 known_identified(const struct conn *,
		    const struct identify_msg *);
void		 known_discovered(const struct multiaddr *, uint32_t);
struct peer_record;
void		 known_px(const struct conn *, const struct peer_record *);
void		 known_configure(const struct reconf_engine *);

/* gossip.c: the gossipsub router (gossip.h: gscache.c ... gossip.c) */
extern const struct proto	 proto_meshsub12, proto_meshsub11,
				 proto_meshsub10, proto_floodsub;
void		 gossip_configure(const struct engine_conf *);
void		 gossip_conn_identified(struct conn *);
void		 gossip_conn_closed(struct conn *);
int		 gossip_unsigned(const char *, const uint8_t *, size_t,
		    uint8_t *, size_t, size_t *);
/* A message published here: its ID and the peers it was written to. */
struct gossip_sent {
	uint8_t		 id[64];
	size_t		 idlen;
	int		 peers;
};
int		 gossip_publish(const uint8_t *, size_t, const uint8_t *,
		    struct gossip_sent *, char *, size_t);
/* A message from a peer on a topic a peerctl subscribe client watches. */
struct gossip_delivery {
	const char	*topic;
	const struct peerid *from;
	const uint8_t	*id, *seqno, *data;
	size_t		 idlen, seqnolen, len;
	const struct ps_msg *msg;	/* as it came: signature, key */
};
typedef void	(*gossip_deliver_fn)(const struct gossip_delivery *);
void		 gossip_set_deliver(gossip_deliver_fn);
int		 gossip_on(void);
int		 gossip_watch(const char *);
void		 gossip_unwatch(const char *);
int		 gossip_mesh_size(const char *);
void		 gossip_topics(void (*)(const char *, size_t, void *), void *);
void		 gossip_topic_peers(const char *,
		    void (*)(const struct peerid *, void *), void *);

/* gspub.c */
typedef void	(*gspub_done_fn)(uint32_t, int, const char *);
const char	*gspub_send(const char *, const uint8_t *, size_t,
		    gspub_done_fn, uint32_t);
void		 gspub_set_tap(gossip_deliver_fn);
int		 gspub_publish(uint32_t, struct imsg *);
int		 gspub_subscribe(uint32_t, struct imsg *);
void		 gspub_sweep(time_t);
void		 gspub_configure(const struct engine_conf *);
void		 gspub_lockdown(void);
struct gossip_tally {
	int		 peers, joined, topics;
	size_t		 seen, cached;
};
void		 gossip_tally(struct gossip_tally *);
int		 gossip_show_topics(uint32_t, struct imsg *);
/* gsshow.c */
int		 gossip_show_peers(uint32_t, struct imsg *);

/* connmgr.c */
void		 connmgr_candidate(const struct store_cand *);
void		 connmgr_candidates_end(void);
void		 connmgr_conn_up(struct conn *);
void		 connmgr_conn_closed(struct conn *);
void		 connmgr_start(void);
void		 connmgr_configure(const struct engine_conf *);
void		 connmgr_stop(void);
void		 connmgr_sweep(void);
void		 connmgr_status(struct ctl_status *);
int		 connmgr_tag(const struct peerid *, const char *, int64_t);
void		 connmgr_untag(const struct peerid *, const char *);
void		 connmgr_trim(void);

/* dapistream.c */
struct bufferevent;
struct p2pd_resp;
void		 dapi_conn_addr(const struct conn *, struct multiaddr *);
int		 dapi_respond(struct bufferevent *, const struct p2pd_resp *);
int		 dapi_error(struct bufferevent *, const char *);
const char	*dapi_stream_open(struct bufferevent *, struct conn *,
		    const char *);
const char	*dapi_handler_add(const struct multiaddr *,
		    const char *const *, size_t);
int		 dapi_stream_count(void);
void		 dapi_refused(const char *);
void		 dapistream_sweep(time_t);
void		 dapistream_configure(const struct reconf_engine *);
void		 dapistream_init(struct event_base *);
void		 dapistream_shutdown(void);

/* dapiclient.c */
void		 dapi_configure(const struct reconf_engine *);
void		 dapi_sweep(time_t);
void		 dapi_unsubscribe_all(void);
int		 dapi_client_count(void);
void		 dapi_shutdown(void);

/* dapi.c */
void		 dapi_init(int, const char *);
void		 dapi_conn_heard(struct conn *);
void		 dapi_conn_failed(struct conn *, const char *);
void		 dapi_lookup_result(uint32_t, const struct store_cand *);
int		 dapi_is_lookup(uint32_t);

/* metrics.c */
void		 metrics_configure(const char *);
void		 metrics_poll(void);
int		 metrics_row(enum proc_id, struct imsg *);
void		 metrics_end(enum proc_id);
/*
 * The Prometheus text exposition (0.0.4) of every process's metrics,
 * from the engine's counters and the children's last rows, appended
 * to out; 0, or -1 when out cannot take it.
 */
int		 metrics_render(struct bq *);
int		 metrics_show(uint32_t, struct imsg *);

/* http.c: what the engine tells for /status and /health */
struct http_figures {
	struct ctl_status	 st;
	int			 reservations;	/* the relay holds, connected */
	int			 circuits;
	struct multiaddr	 listen[PREC_MAXADDRS];
	size_t			 nlisten;
	struct multiaddr	 announce[ENGINE_MAXANNOUNCE];
	size_t			 nannounce;
	int			 procs_silent;	/* children not answering */
	uint64_t		 store_dropped;
	int			 max_connections;
	int			 relays_configured;
	int			 relays_reserved;
	int			 has_bootstrap;
	int			 lockdown;
};

struct http_hooks {
	void	(*figures)(struct http_figures *);
};

void		 http_set_hooks(const struct http_hooks *);
void		 http_init(int, const char *);
void		 http_configure(const struct reconf_engine *);
void		 http_shutdown(void);

/* engine.c */
__attribute__((__noreturn__))
void		 engine_main(int, char *[]);
int		 engine_show_status(uint32_t, struct imsg *);
void		 engine_addrs_changed(void);

#endif /* PEERD_ENGINE_H */
