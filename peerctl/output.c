/*
 * Text output of peerctl, for people.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#define LIBBSD_OPENBSD_VIS	/* strvisx's one signature, no warning */
#include <vis.h>

#include "output.h"
#include "table.h"

static int	 nconns, nprocs, nrows, nresults;
static const char *list;

static void
fmt_age(int64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh%02lldm", (long long)s / 86400,
		    (long long)(s % 86400) / 3600, (long long)(s % 3600) / 60);
	else
		snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)s / 3600,
		    (long long)(s % 3600) / 60, (long long)s % 60);
}

static void
show_head(const char *array)
{
	nconns = nprocs = nrows = nresults = 0;
	list = array;
}

static void
show_status(const struct ctl_status *st)
{
	char	 up[32];

	fmt_age(st->uptime, up, sizeof(up));
	printf("peerd %s, %s mode, up %s\n", st->version, st->mode, up);
	printf("peer ID: %s\n", st->peerid[0] ? st->peerid : "(unknown)");
	if (st->lockdown)
		printf("LOCKDOWN: keys wiped, no connections, no listeners, "
		    "no dials; only a restart leaves it\n");
	printf("connections: %d open, %d upgrading\n", st->connections,
	    st->upgrading);
	fmt_age(st->network_since, up, sizeof(up));
	printf("network: %s for %s; %d outbound of %d wanted, minimum %d "
	    "connections\n", st->network, up, st->outbound,
	    st->outbound_target, st->min_connections);
	printf("bans: %d\n", st->bans);
	printf("addresses from peers: %lld filtered, %lld over the cap; "
	    "%lld dials in backoff\n", (long long)st->addrs_filtered,
	    (long long)st->addrs_dropped, (long long)st->dials_backed_off);
	printf("control: %lld clients refused, %lld closed idle; %lld "
	    "requests another process did not answer in time\n",
	    (long long)st->ctl_refused, (long long)st->ctl_idle,
	    (long long)st->ctl_late);
	printf("unknown protocols proposed by peers: %lld\n",
	    (long long)st->protocols_unknown);
	printf("memory: %lld KiB buffered, peak %lld KiB, budget %lld KiB; "
	    "%lld streams reset, %lld window updates held, %lld peers not "
	    "reading; closed: %lld stalled, %lld over the budget, %lld out "
	    "of memory\n", (long long)st->mem_buffered >> 10,
	    (long long)st->mem_peak >> 10, (long long)st->mem_budget >> 10,
	    (long long)st->mem_streams_reset,
	    (long long)st->mem_windows_held, (long long)st->mem_reads_paused,
	    (long long)st->mem_stalled, (long long)st->mem_reclaimed,
	    (long long)st->mem_alloc_failed);
}

static void
show_listen_addr(const char *addr)
{
	printf("address: %s\n", addr);
}

static void
show_proc(const struct ctl_proc *p)
{
	char	 pid[16];

	if (nprocs++ == 0) {
		printf("\n");
		table_add(6, "process", "pid", "user", "state", "sandbox",
		    "root / detail");
	}
	snprintf(pid, sizeof(pid), "%d", p->pid);
	table_add(6, p->name, pid, p->user, p->state, p->sandbox, p->root);
	if (p->detail[0] != '\0')
		table_add(6, "", "", "", "", "", p->detail);
}

static void
show_conn(const struct ctl_conn *c)
{
	char	 age[32], streams[16];

	if (nconns++ == 0)
		table_add(6, "peer", "dir", "address", "age", "streams",
		    "agent");
	fmt_age(c->age, age, sizeof(age));
	snprintf(streams, sizeof(streams), "%d", c->streams);
	table_add(6, c->peer, c->inbound ? "in" : "out", c->addr, age,
	    streams, c->agent[0] ? c->agent : "-");
}

static void
show_ping(const struct ctl_ping *p)
{
	nrows++;
	printf("pong from %s: seq=%d time=%.3f ms\n", p->peer, p->seq,
	    p->rtt_us / 1000.0);
}

static void
show_rsvp(const struct ctl_rsvp *r)
{
	char		 exp[32];
	time_t		 t = r->expire;
	struct tm	 tm;

	if (nrows++ == 0)
		table_add(3, "peer", "address", "expires");
	gmtime_r(&t, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	table_add(3, r->peer, r->addr, exp);
}

static void
fmt_limit(uint32_t duration, uint64_t data, char *buf, size_t len)
{
	if (duration == 0 && data == 0)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%us %lluB", duration,
		    (unsigned long long)data);
}

static void
show_circuit(const struct ctl_circuit *c)
{
	char	 age[32], lim[64], out[24], back[24];

	if (nrows++ == 0)
		table_add(6, "source", "target", "bytes out", "bytes back",
		    "age", "limits");
	fmt_age(c->age, age, sizeof(age));
	fmt_limit(c->limit_duration, c->limit_data, lim, sizeof(lim));
	snprintf(out, sizeof(out), "%llu",
	    (unsigned long long)c->bytes_src_dst);
	snprintf(back, sizeof(back), "%llu",
	    (unsigned long long)c->bytes_dst_src);
	table_add(6, c->src, c->dst, out, back, age, lim);
}

/* A topic as a peer named it: escaped, and cut at 64 bytes. */
static void
show_topic(const struct ctl_topic *t)
{
	char	 name[4 * 64 + 4], n[6][48];
	size_t	 len = strlen(t->topic);

	if (nrows++ == 0)
		table_add(8, "topic", "joined", "peers", "mesh", "fanout", "in",
		    "out", "dups/dropped");
	strvisx(name, t->topic, len < 64 ? len : 64,
	    VIS_OCTAL | VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_WHITE);
	if (len > 64)
		strlcat(name, "...", sizeof(name));
	snprintf(n[0], sizeof(n[0]), "%d", t->peers);
	snprintf(n[1], sizeof(n[1]), "%d", t->mesh);
	snprintf(n[2], sizeof(n[2]), "%d", t->fanout);
	snprintf(n[3], sizeof(n[3]), "%llu", (unsigned long long)t->msgs_in);
	snprintf(n[4], sizeof(n[4]), "%llu", (unsigned long long)t->msgs_out);
	snprintf(n[5], sizeof(n[5]), "%llu/%llu",
	    (unsigned long long)t->dups, (unsigned long long)t->dropped);
	table_add(8, name, t->joined ? "yes" : "no", n[0], n[1], n[2], n[3],
	    n[4], n[5]);
}

static void
fmt_milli(int64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s%lld.%02lld", v < 0 ? "-" : "",
	    (long long)(v < 0 ? -v : v) / 1000,
	    (long long)((v < 0 ? -v : v) % 1000) / 10);
}

/*
 * A pubsub peer, a row for each of its topics: its own columns on the
 * first only; P2 to P7 as they add to its score.
 */
static void
show_gspeer(const struct ctl_gspeer *g)
{
	static char	 last[PEERID_STRMAX];
	char		 name[4 * 64 + 24], sc[32], p[6][24], all[160];
	char		 bo[32], more[24];
	const char	*in;
	size_t		 len = strlen(g->topic);
	int		 first;

	if (nrows++ == 0) {
		table_add(8, "peer", "protocol", "score", "P2/P3/P3b/P4/P6/P7",
		    "graylisted", "topic", "in", "backoff");
		last[0] = '\0';
	}
	first = strcmp(last, g->peer) != 0;
	strlcpy(last, g->peer, sizeof(last));
	fmt_milli(g->score, sc, sizeof(sc));
	fmt_milli(g->p2, p[0], sizeof(p[0]));
	fmt_milli(g->p3, p[1], sizeof(p[1]));
	fmt_milli(g->p3b, p[2], sizeof(p[2]));
	fmt_milli(g->p4, p[3], sizeof(p[3]));
	fmt_milli(g->p6, p[4], sizeof(p[4]));
	fmt_milli(g->p7, p[5], sizeof(p[5]));
	snprintf(all, sizeof(all), "%s/%s/%s/%s/%s/%s", p[0], p[1], p[2],
	    p[3], p[4], p[5]);
	strvisx(name, g->topic, len < 64 ? len : 64,
	    VIS_OCTAL | VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_WHITE);
	if (len > 64)
		strlcat(name, "...", sizeof(name));
	if (len == 0)
		strlcpy(name, "-", sizeof(name));
	else if (first && g->ntopics > CTL_GSPEER_TOPICS) {
		snprintf(more, sizeof(more), " (%d of %d)", CTL_GSPEER_TOPICS,
		    g->ntopics);
		strlcat(name, more, sizeof(name));
	}
	in = g->mesh ? "mesh" : g->fanout ? "fanout" :
	    g->subscribed ? "subscribed" : "-";
	if (g->backoff > 0)
		snprintf(bo, sizeof(bo), "%llds",
		    (long long)(g->backoff + 999) / 1000);
	else
		strlcpy(bo, "-", sizeof(bo));
	if (first)
		table_add(8, g->peer, g->protocol, sc, all,
		    g->graylisted ? "yes" : "no", name, in, bo);
	else
		table_add(8, "", "", "", "", "", name, in, bo);
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = t;

	if (t == 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The bits of a peer's sources (common/wire/storerec.h), lowest first. */
const char *const peer_sources[PEER_NSOURCES] = { "bootstrap", "identify",
    "relay", "gossip", "manual", "inbound", "dialled" };

static void
fmt_sources(uint32_t s, char *buf, size_t len)
{
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < PEER_NSOURCES; i++)
		if (s & (1U << i)) {
			if (buf[0] != '\0')
				strlcat(buf, ",", len);
			strlcat(buf, peer_sources[i], len);
		}
	if (buf[0] == '\0')
		strlcpy(buf, "-", len);
}

static void
show_peer(const struct ctl_peer *p)
{
	char	 seen[32], ok[32], src[96], fails[16];

	if (nrows++ == 0)
		table_add(8, "peer", "conn", "last seen", "last success",
		    "fails", "sources", "address", "agent");
	fmt_time(p->last_seen, seen, sizeof(seen));
	fmt_time(p->last_ok, ok, sizeof(ok));
	fmt_sources(p->sources, src, sizeof(src));
	snprintf(fails, sizeof(fails), "%d", p->fails);
	table_add(8, p->peer, p->connected ? "yes" : "no", seen, ok, fails,
	    src, p->addr[0] ? p->addr : "-", p->agent[0] ? p->agent : "-");
}

static void
show_ban(const struct ctl_ban *b)
{
	char	 until[32];

	if (nrows++ == 0)
		table_add(3, "target", "until", "reason");
	if (b->until == 0)
		strlcpy(until, "forever", sizeof(until));
	else
		fmt_time(b->until, until, sizeof(until));
	table_add(3, b->target, until, b->reason[0] ? b->reason : "-");
}

static void
show_acct(const struct ctl_acct *a)
{
	char	 day[32], n[4][24];

	if (nrows++ == 0)
		table_add(6, "day", "peer", "rsvps", "circuits", "bytes in",
		    "bytes out");
	fmt_time((int64_t)a->day * 86400, day, sizeof(day));
	day[10] = '\0';
	snprintf(n[0], sizeof(n[0]), "%llu", (unsigned long long)a->rsvps);
	snprintf(n[1], sizeof(n[1]), "%llu",
	    (unsigned long long)a->circuits);
	snprintf(n[2], sizeof(n[2]), "%llu",
	    (unsigned long long)a->bytes_in);
	snprintf(n[3], sizeof(n[3]), "%llu",
	    (unsigned long long)a->bytes_out);
	table_add(6, day, a->peer, n[0], n[1], n[2], n[3]);
}

static void
show_store(const struct ctl_store *s)
{
	printf("map: %llu KiB, %llu KiB used (%llu%%), schema %u\n",
	    (unsigned long long)s->mapsize >> 10,
	    (unsigned long long)s->used >> 10, s->mapsize ?
	    (unsigned long long)(s->used * 100 / s->mapsize) : 0ULL,
	    s->schema);
	printf("records: %llu peers, %llu bans, %llu accounting\n",
	    (unsigned long long)s->peers, (unsigned long long)s->bans,
	    (unsigned long long)s->acct);
	printf("caps: %llu peers, %llu accounting, %llu KiB of accounting "
	    "(%llu KiB used)\n", (unsigned long long)s->max_peers,
	    (unsigned long long)s->max_acct,
	    (unsigned long long)s->max_acct_size >> 10,
	    (unsigned long long)s->acct_size >> 10);
	printf("pruned: %llu peers, %llu accounting by count, %llu by size\n",
	    (unsigned long long)s->pruned_peers,
	    (unsigned long long)s->pruned_acct,
	    (unsigned long long)s->pruned_acct_size);
	printf("writes: %llu commits, %llu queued, %llu dropped\n",
	    (unsigned long long)s->commits, (unsigned long long)s->queued,
	    (unsigned long long)s->dropped);
	printf("state: %s\n", s->failure[0] ? s->failure : "writing");
}

static void
show_key(const struct ctl_key *k)
{
	char	 created[32];

	fmt_time(k->created, created, sizeof(created));
	table_add(2, "peer ID:", k->peerid);
	table_add(2, "public key:", k->pubkey);
	table_add(2, "type:", k->type);
	table_add(2, "fingerprint:", k->fingerprint);
	table_add(2, "file:", k->file);
	table_add(2, "created:", created);
	table_add(2, "encrypted:", k->encrypted ? "yes" : "no");
	table_print();
}

static void
show_result(const struct ctl_result *r)
{
	nresults++;
	table_print();
	if (r->ok)
		printf("%s\n", r->msg);
	else
		fprintf(stderr, "peerctl: %s\n", r->msg);
}

static void
show_tail(void)
{
	table_print();
	/* an empty listing says so; a failed one has said why */
	if (list != NULL && nconns + nrows + nresults == 0)
		printf("no %s\n", list);
}

static void
show_abort(const char *why)
{
	table_print();
}

const struct output show_output = {
	.head = show_head,
	.status = show_status,
	.listen_addr = show_listen_addr,
	.proc = show_proc,
	.conn = show_conn,
	.ping = show_ping,
	.rsvp = show_rsvp,
	.circuit = show_circuit,
	.peer = show_peer,
	.ban = show_ban,
	.acct = show_acct,
	.store = show_store,
	.key = show_key,
	.topic = show_topic,
	.gspeer = show_gspeer,
	.result = show_result,
	.tail = show_tail,
	.abort = show_abort,
};
