/*
 * The metrics of every process, for /metrics and `peerctl show metrics`.
 * The engine polls the other processes each second (metrics_poll, from
 * the sweep) and keeps the last full set of rows each sent, so that
 * rendering reads only memory and never waits on another process; its
 * own rows it takes from its counters at each rendering.  Calls the
 * files above it in engine.h, and common/metrics.c.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "child.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"

static const enum proc_id polled[] = {
	PROC_PARENT, PROC_KEYD, PROC_STORED, PROC_RELAYD
};

static struct {
	struct metric_set	 have[PROC_MAX];	/* last complete */
	struct metric_set	 next[PROC_MAX];	/* being received */
	int			 asked[PROC_MAX];	/* a poll is open */
	char			 ns[METRIC_NSLEN];
	struct metric_set	 own;
	time_t			 started;		/* first poll */
} mx = { .ns = "peerd" };

void
metrics_configure(const char *ns)
{
	if (metric_name_valid(ns))
		strlcpy(mx.ns, ns, sizeof(mx.ns));
}

/* Ask each process that has answered its last poll for its rows. */
void
metrics_poll(void)
{
	size_t	 i;

	if (mx.started == 0)
		mx.started = mono_now();
	for (i = 0; i < sizeof(polled) / sizeof(polled[0]); i++) {
		if (mx.asked[polled[i]] || !child_has_room(polled[i]))
			continue;
		if (child_compose(polled[i], IMSG_METRICS_POLL, 0, -1, NULL,
		    0) == 0) {
			mx.asked[polled[i]] = 1;
			mx.next[polled[i]].n = 0;
		}
	}
}

/* A row of a process: kept until its end; one the table refuses, -1. */
int
metrics_row(enum proc_id from, struct imsg *imsg)
{
	struct metric_set	*set = &mx.next[from];
	struct metric_row	 r;

	if (imsg_get_data(imsg, &r, sizeof(r)) == -1 ||
	    !metric_row_valid(&r, 1U << from))
		return -1;
	if (set->n < METRIC_PROC_ROWS)
		set->rows[set->n++] = r;
	return 0;
}

void
metrics_end(enum proc_id from)
{
	mx.have[from] = mx.next[from];
	mx.next[from].n = 0;
	mx.asked[from] = 0;
}

struct conn_tally {
	int	 open[2][3];		/* [direction][tcp, relay, ws] */
	int	 streams;
};

static void
metrics_conn(struct conn *c, void *arg)
{
	struct conn_tally	*t = arg;

	if (c->state != CS_OPEN)
		return;
	t->open[c->dir == CONN_OUTBOUND][c->ws != NULL ? 2 :
	    c->relayed != 0]++;
	t->streams += c->mux.nstreams;
}

static void
metrics_conns(struct metric_set *s)
{
	static const char	*dirs[] = { "inbound", "outbound" };
	static const char	*tps[] = { "tcp", "relay", "ws" };
	struct conn_tally	 t;
	int			 d, r;

	memset(&t, 0, sizeof(t));
	conn_walk(metrics_conn, &t);
	for (d = 0; d < 2; d++)
		for (r = 0; r < 3; r++)
			metric_add(s, METRIC_CONNECTIONS, t.open[d][r],
			    "direction", dirs[d], "transport", tps[r]);
	metric_add(s, METRIC_CONNECTIONS_UPGRADING, conn_pending(), NULL,
	    NULL, NULL, NULL);
	metric_add(s, METRIC_STREAMS, t.streams, NULL, NULL, NULL, NULL);
}

/* The answers of the admin HTTP server that it gave at least once. */
static void
metrics_http(struct metric_set *s)
{
	static const char	*paths[HTTP_PATHS] = {
		"/status", "/health", "/metrics", "other"
	};
	static const char	*codes[HTTP_CODES] = {
		"200", "404", "405", "500", "503"
	};
	int			 p, c;

	for (p = 0; p < HTTP_PATHS; p++)
		for (c = 0; c < HTTP_CODES; c++)
			if (counters.http_requests[p][c] > 0)
				metric_add(s, METRIC_HTTP_REQUESTS,
				    counters.http_requests[p][c], "path",
				    paths[p], "code", codes[c]);
	metric_add(s, METRIC_HTTP_FULL, counters.http_full, NULL, NULL, NULL,
	    NULL);
}

#define ROW(id, v, k, lv)	metric_add(s, METRIC_##id, (double)(v), \
				    k, lv, NULL, NULL)

static void
metrics_gossip(struct metric_set *s)
{
	const struct gs_counters	*c = &counters.gossip;
	struct gossip_tally		 t;

	gossip_tally(&t);
	ROW(GOSSIP_MESSAGES, c->msgs_in, "direction", "in");
	ROW(GOSSIP_MESSAGES, c->msgs_out, "direction", "out");
	ROW(GOSSIP_DUPLICATES, c->dups, NULL, NULL);
	ROW(GOSSIP_DROPPED, c->drop_invalid, "reason", "invalid");
	ROW(GOSSIP_DROPPED, c->drop_unsigned, "reason", "unsigned");
	ROW(GOSSIP_DROPPED, c->drop_topic, "reason", "topic");
	ROW(GOSSIP_DROPPED, c->drop_queue, "reason", "queue");
	ROW(GOSSIP_DROPPED, c->drop_malformed, "reason", "malformed");
	ROW(GOSSIP_DROPPED, c->drop_limits, "reason", "limits");
	ROW(GOSSIP_DROPPED, c->drop_graylist, "reason", "graylisted");
	ROW(GOSSIP_IDONTWANT, c->idontwant_sent, "kind", "sent");
	ROW(GOSSIP_IDONTWANT, c->idontwant_saved, "kind", "saved");
	ROW(GOSSIP_IDONTWANT, c->idontwant_recv, "kind", "received");
	ROW(GOSSIP_CONTROL, c->grafts, "kind", "graft");
	ROW(GOSSIP_CONTROL, c->prunes, "kind", "prune");
	ROW(GOSSIP_CONTROL, c->backoff_penalties, "kind", "graft_in_backoff");
	ROW(GOSSIP_CONTROL, c->broken_promises, "kind", "broken_promise");
	ROW(GOSSIP_CONTROL, c->ihave_sent, "kind", "ihave_sent");
	ROW(GOSSIP_CONTROL, c->iwant_served, "kind", "iwant_served");
	ROW(GOSSIP_CONTROL, c->px_ignored, "kind", "px_ignored");
	ROW(GOSSIP_CONTROL, c->px_accepted, "kind", "px_accepted");
	ROW(GOSSIP_DROPPED, c->watch_lost, "reason", "subscriber_lost");
	ROW(GOSSIP_CONTROL, c->watch_refused, "kind", "subscribe_refused");
	ROW(GOSSIP_CONTROL, c->deficit_prunes, "kind", "deficit_prune");
	ROW(GOSSIP_CONTROL, c->iwant_deduped, "kind", "iwant_deduped");
	ROW(GOSSIP_CONTROL, c->iwant_fallback, "kind", "iwant_fallback");
	ROW(GOSSIP_PEERS, t.peers, NULL, NULL);
	ROW(GOSSIP_TOPICS, t.joined, "kind", "joined");
	ROW(GOSSIP_TOPICS, t.topics, "kind", "known");
	ROW(GOSSIP_CACHED, t.seen, "cache", "seen");
	ROW(GOSSIP_CACHED, t.cached, "cache", "messages");
}

static void
metrics_engine(struct metric_set *s)
{
	const struct engine_counters	*c = &counters;

	s->n = 0;
	metrics_conns(s);
	ROW(CONNECTIONS_OPENED, c->accepted, "direction", "inbound");
	ROW(CONNECTIONS_OPENED, c->dialed, "direction", "outbound");
	ROW(CONNECTIONS_REFUSED, c->refused_pending, "reason", "pending");
	ROW(CONNECTIONS_REFUSED, c->refused_per_ip, "reason", "per_ip");
	ROW(CONNECTIONS_REFUSED, c->refused_rate, "reason", "rate");
	ROW(CONNECTIONS_REFUSED, c->refused_pending_ip, "reason",
	    "pending_per_ip");
	ROW(CONNECTIONS_REFUSED, c->pending_dropped, "reason",
	    "pending_dropped");
	ROW(CONNECTIONS_REFUSED, c->refused_banned, "reason", "banned");
	ROW(CONNECTIONS_REFUSED, c->refused_limit, "reason", "limit");
	ROW(HANDSHAKES, c->upgraded, "result", "ok");
	ROW(HANDSHAKES, c->handshake_failures, "result", "failed");
	ROW(HANDSHAKES, c->handshake_timeouts, "result", "timeout");
	ROW(DIALS, c->dials_ok, "result", "ok");
	ROW(DIALS, c->dials_failed, "result", "failed");
	ROW(DIALS, c->dials_backed_off, "result", "backed_off");
	ROW(RATE_LIMITED, c->refused_rate, "kind", "connections");
	ROW(BANS, bans_count(), NULL, NULL);
	ROW(BAN_REFUSALS, c->refused_banned, NULL, NULL);
	ROW(ERRORS, c->handshake_failures, "kind", "handshake");
	ROW(ERRORS, c->handshake_timeouts, "kind", "handshake_timeout");
	ROW(ERRORS, c->protocol_errors, "kind", "protocol");
	ROW(ERRORS, c->ws_refused, "kind", "websocket_upgrade");
	ROW(ERRORS, c->ws_frame_errors, "kind", "websocket_frame");
	ROW(ERRORS, c->pssign_busy, "kind", "pubsub_sign_busy");
	ROW(ERRORS, c->pssign_refused, "kind", "pubsub_sign_refused");
	ROW(ERRORS, c->pssign_timeouts, "kind", "pubsub_sign_timeout");
	ROW(ERRORS, c->streams_refused, "kind", "stream_refused");
	ROW(ERRORS, c->store_dropped, "kind", "store_update_dropped");
	ROW(ERRORS, c->mem_alloc_failed, "kind", "alloc_failed");
	ROW(PROTOCOLS_UNKNOWN, c->protocols_unknown, NULL, NULL);
	ROW(PEER_ADDRS, c->addrs_filtered, "why", "filtered");
	ROW(PEER_ADDRS, c->addrs_dropped, "why", "dropped");
	ROW(MEM_BUFFERED, mem_total.held, NULL, NULL);
	ROW(MEM_PEAK, c->mem_peak, NULL, NULL);
	ROW(MEM_BUDGET, conn_limits.total_buffer, NULL, NULL);
	ROW(MEM_EVENTS, c->mem_streams_reset, "kind", "streams_reset");
	ROW(MEM_EVENTS, c->mem_windows_held, "kind", "windows_held");
	ROW(MEM_EVENTS, c->mem_reads_paused, "kind", "reads_paused");
	ROW(MEM_EVENTS, c->mem_stalled, "kind", "stalled");
	ROW(MEM_EVENTS, c->mem_reclaimed, "kind", "reclaimed");
	ROW(MEM_EVENTS, c->mem_alloc_failed, "kind", "alloc_failed");
	ROW(CONTROL, c->ctl_refused, "kind", "refused");
	ROW(CONTROL, c->ctl_idle, "kind", "idle");
	ROW(CONTROL, c->ctl_late, "kind", "late");
	ROW(LOG_SUPPRESSED, log_suppressed(), "process",
	    proc_name(PROC_ENGINE));
	ROW(UPTIME, mono_now() - mx.started, NULL, NULL);
	ROW(LOCKDOWN, ident.lockdown, NULL, NULL);
	ROW(DAPI_REQUESTS, c->dapi_requests, "result", "all");
	ROW(DAPI_REQUESTS, c->dapi_errors, "result", "error");
	ROW(DAPI_EVENTS, c->dapi_streams, "kind", "stream");
	ROW(DAPI_EVENTS, c->dapi_refused, "kind", "refused");
	ROW(DAPI_EVENTS, c->dapi_stalled, "kind", "stalled");
	ROW(DAPI_EVENTS, c->dapi_idle, "kind", "idle");
	ROW(DAPI_OPEN, dapi_client_count(), "kind", "clients");
	ROW(DAPI_OPEN, dapi_stream_count(), "kind", "streams");
	metrics_http(s);
	metrics_gossip(s);
}

/*
 * The Prometheus text exposition (0.0.4) of every process's metrics,
 * from the engine's counters and the children's last rows, appended
 * to out; 0, or -1 when out cannot take it.
 */
int
metrics_render(struct bq *out)
{
	const struct metric_set	*sets[PROC_MAX];
	size_t			 i, n = 0;

	metrics_engine(&mx.own);
	sets[n++] = &mx.own;
	for (i = 0; i < sizeof(polled) / sizeof(polled[0]); i++)
		sets[n++] = &mx.have[polled[i]];
	return metrics_format(out, mx.ns, sets, n);
}

/* The same text to a control client, in messages that fit. */
int
metrics_show(uint32_t ctl, struct imsg *imsg)
{
	struct bq	 out;
	size_t		 chunk = IMSG_MAXSIZE - IMSG_HEADER_SIZE, n;

	memset(&out, 0, sizeof(out));
	if (metrics_render(&out) == -1) {
		bq_free(&out);
		control_result(ctl, 0, "no memory for the metrics");
		return 0;
	}
	while (out.len > 0) {
		n = out.len < chunk ? out.len : chunk;
		control_reply(ctl, IMSG_CTL_METRICS, bq_ptr(&out), n);
		bq_consume(&out, n);
	}
	bq_free(&out);
	control_end(ctl);
	return 0;
}
