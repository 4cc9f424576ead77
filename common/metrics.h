/*
 * The one table of metrics, as msg.h is of messages: each with its name
 * (without the namespace, metrics.namespace, which goes in front), its
 * type, who reports it and its help text, so that each is defined once.
 * Each process sends the engine its rows (IMSG_METRIC_ROW, then
 * IMSG_METRICS_END) when the engine polls it; the engine renders them
 * with its own in the Prometheus text exposition format, version 0.0.4.
 * Counters end in _total.  peerd(8) lists them, with their labels.
 */
#ifndef PEERD_METRICS_H
#define PEERD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MT_COUNTER	0
#define MT_GAUGE	1

#define P_EVERY		(P_PARENT | P_CHILDREN)

#define METRIC_TABLE							\
	/* connections, streams: the engine */				\
	M(CONNECTIONS,		"connections", MT_GAUGE, P_ENGINE,	\
	    "Open connections, by direction and transport.")		\
	M(CONNECTIONS_UPGRADING, "connections_upgrading", MT_GAUGE,	\
	    P_ENGINE, "Inbound connections still in their handshake.")	\
	M(CONNECTIONS_OPENED,	"connections_opened_total", MT_COUNTER,	\
	    P_ENGINE, "Connections accepted or dialled, by direction.")	\
	M(CONNECTIONS_REFUSED,	"connections_refused_total", MT_COUNTER, \
	    P_ENGINE, "Inbound connections refused or dropped, by reason.") \
	M(HANDSHAKES,		"handshakes_total", MT_COUNTER, P_ENGINE, \
	    "Security and muxer handshakes, by result.")		\
	M(STREAMS,		"streams", MT_GAUGE, P_ENGINE,		\
	    "Open streams over all connections.")			\
	M(DIALS,		"dials_total", MT_COUNTER, P_ENGINE,	\
	    "Outbound dials, by result.")				\
	M(RATE_LIMITED,		"rate_limited_total", MT_COUNTER,	\
	    P_ENGINE | P_RELAYD, "Requests refused by a rate limit, by kind.") \
	M(BANS,			"bans", MT_GAUGE, P_ENGINE,		\
	    "Bans in force.")						\
	M(BAN_REFUSALS,		"ban_refusals_total", MT_COUNTER, P_ENGINE, \
	    "Connections refused because their peer or address is banned.") \
	M(ERRORS,		"errors_total", MT_COUNTER, P_EVERY,	\
	    "Errors, by kind.")						\
	M(PROTOCOLS_UNKNOWN,	"protocols_unknown_total", MT_COUNTER,	\
	    P_ENGINE, "Protocols peers proposed that are not served.")	\
	M(PEER_ADDRS,		"peer_addrs_total", MT_COUNTER, P_ENGINE, \
	    "Addresses from peers not kept, by why (filtered, dropped).") \
	/* the engine's memory budget: show status's memory.* */	\
	M(MEM_BUFFERED,		"memory_buffered_bytes", MT_GAUGE, P_ENGINE, \
	    "Bytes the engine's connections and streams hold.")	\
	M(MEM_PEAK,		"memory_buffered_peak_bytes", MT_GAUGE,	\
	    P_ENGINE, "Most bytes ever held by the connections.")	\
	M(MEM_BUDGET,		"memory_budget_bytes", MT_GAUGE, P_ENGINE, \
	    "The configured budget: connectionManager.maxBuffer.")	\
	M(MEM_EVENTS,		"memory_events_total", MT_COUNTER, P_ENGINE, \
	    "Actions of the memory budget, by kind.")			\
	/* control sockets */						\
	M(CONTROL,		"control_total", MT_COUNTER, P_ENGINE,	\
	    "Control clients refused or closed, and requests answered late.") \
	/* the relay: relayd */						\
	M(RESERVATIONS,		"reservations", MT_GAUGE, P_RELAYD,	\
	    "Active relay reservations.")				\
	M(RESERVATIONS_CREATED,	"reservations_created_total", MT_COUNTER, \
	    P_RELAYD, "Reservations granted, new or refreshed.")	\
	M(RESERVATIONS_REFUSED,	"reservations_refused_total", MT_COUNTER, \
	    P_RELAYD, "Reservations refused, by reason.")		\
	M(CIRCUITS,		"circuits", MT_GAUGE, P_RELAYD,		\
	    "Active relayed circuits.")					\
	M(CIRCUITS_OPENED,	"circuits_opened_total", MT_COUNTER,	\
	    P_RELAYD, "Circuits opened.")				\
	M(CIRCUITS_REFUSED,	"circuits_refused_total", MT_COUNTER,	\
	    P_RELAYD, "Circuits refused, by reason.")			\
	M(CIRCUITS_CLOSED,	"circuits_closed_total", MT_COUNTER,	\
	    P_RELAYD, "Circuits closed, by reason.")			\
	M(RELAYED_BYTES,	"relayed_bytes_total", MT_COUNTER, P_RELAYD, \
	    "Bytes relayed over closed circuits, by direction.")	\
	/* the store: stored */						\
	M(STORE_USED,		"store_used_bytes", MT_GAUGE, P_STORED,	\
	    "Bytes of the store's pages in use.")			\
	M(STORE_MAP,		"store_map_bytes", MT_GAUGE, P_STORED,	\
	    "The store's map size.")					\
	M(STORE_RECORDS,	"store_records", MT_GAUGE, P_STORED,	\
	    "Records, by database.")					\
	M(STORE_COMMITS,	"store_commits_total", MT_COUNTER, P_STORED, \
	    "Transactions committed.")					\
	M(STORE_WRITE_FAILURES,	"store_write_failures_total", MT_COUNTER, \
	    P_STORED, "Writes the store refused or could not commit.")	\
	M(STORE_PRUNED,		"store_pruned_total", MT_COUNTER, P_STORED, \
	    "Records pruned, by the cap that bit.")			\
	/* keyd */							\
	M(KEYD_OPERATIONS,	"keyd_operations_total", MT_COUNTER, P_KEYD, \
	    "Operations keyd performed, by kind.")			\
	/* every process: the parent reads /proc for each */		\
	M(PROC_RSS,		"process_resident_memory_bytes", MT_GAUGE, \
	    P_PARENT, "Resident memory, by process.")			\
	M(PROC_CPU,		"process_cpu_seconds_total", MT_COUNTER,	\
	    P_PARENT, "User and system CPU time, by process.")		\
	M(LOG_SUPPRESSED,	"log_suppressed_total", MT_COUNTER, P_EVERY, \
	    "Log lines the rate limiter did not show, by process.")	\
	M(UPTIME,		"uptime_seconds", MT_GAUGE, P_ENGINE,	\
	    "Seconds since the engine started.")			\
	M(LOCKDOWN,		"lockdown", MT_GAUGE, P_ENGINE,		\
	    "1 in lockdown (peerctl lockdown, SIGUSR2), else 0.")	\
	M(HTTP_REQUESTS,	"http_requests_total", MT_COUNTER, P_ENGINE, \
	    "Admin HTTP requests answered, by path and status code.")	\
	M(HTTP_FULL,		"http_full_total", MT_COUNTER, P_ENGINE,	\
	    "Times the admin HTTP connections were at admin.maxClients.") \
	M(DAPI_REQUESTS,	"daemon_api_requests_total", MT_COUNTER,	\
	    P_ENGINE, "Daemon API requests read, and those refused.")	\
	M(DAPI_EVENTS,		"daemon_api_events_total", MT_COUNTER,	\
	    P_ENGINE, "Daemon API streams spliced, bounds met, stalls.") \
	M(DAPI_OPEN,		"daemon_api_open", MT_GAUGE, P_ENGINE,	\
	    "Daemon API clients and streams open.")			\
	M(GOSSIP_MESSAGES,	"gossip_messages_total", MT_COUNTER,	\
	    P_ENGINE, "Gossipsub messages: new valid ones in, frames out.") \
	M(GOSSIP_DUPLICATES,	"gossip_duplicates_total", MT_COUNTER,	\
	    P_ENGINE, "Gossipsub messages received again.")		\
	M(GOSSIP_DROPPED,	"gossip_dropped_total", MT_COUNTER,	\
	    P_ENGINE, "Gossipsub messages or RPCs dropped, by reason.")	\
	M(GOSSIP_IDONTWANT,	"gossip_idontwant_total", MT_COUNTER,	\
	    P_ENGINE, "IDONTWANT sent, and sends it saved.")		\
	M(GOSSIP_CONTROL,	"gossip_control_total", MT_COUNTER,	\
	    P_ENGINE, "Gossipsub control messages and events, by kind.") \
	M(GOSSIP_PEERS,		"gossip_peers", MT_GAUGE, P_ENGINE,	\
	    "Peers speaking a pubsub protocol with us.")		\
	M(GOSSIP_TOPICS,	"gossip_topics", MT_GAUGE, P_ENGINE,	\
	    "Topics joined, and known.")				\
	M(GOSSIP_CACHED,	"gossip_cached", MT_GAUGE, P_ENGINE,	\
	    "Entries of the seen cache and of the message cache.")

enum metric_id {
#define M(id, name, type, from, help)	METRIC_##id,
	METRIC_TABLE
#undef M
	METRIC_MAX
};

struct metric_def {
	const char	*name;
	int		 type;		/* MT_* */
	uint32_t	 from;		/* P_* of who reports it */
	const char	*help;
};

#define METRIC_LABELS		2	/* label pairs of a row */
#define METRIC_LNAMELEN		16
#define METRIC_LVALUELEN	64
#define METRIC_NSLEN		64	/* metrics.namespace */
#define METRIC_PROC_ROWS	128	/* rows a process may report */

/* One sample; unused label pairs have an empty name. */
struct metric_row {
	uint32_t	 id;		/* METRIC_* */
	char		 lname[METRIC_LABELS][METRIC_LNAMELEN];
	char		 lvalue[METRIC_LABELS][METRIC_LVALUELEN];
	double		 value;
};

/* The rows of one process. */
struct metric_set {
	struct metric_row	 rows[METRIC_PROC_ROWS];
	size_t			 n;
};

const struct metric_def *metric_def(uint32_t);
int	 metric_name_valid(const char *);
void	 metric_row_set(struct metric_row *, uint32_t, double,
	    const char *, const char *, const char *, const char *);
void	 metric_add(struct metric_set *, uint32_t, double,
	    const char *, const char *, const char *, const char *);
int	 metric_row_valid(const struct metric_row *, uint32_t);
int	 metrics_format(struct bq *, const char *,
	    const struct metric_set *const *, size_t);

#endif /* PEERD_METRICS_H */
