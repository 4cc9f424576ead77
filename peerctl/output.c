/*
 * Text output of peerctl, for people.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output.h"

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
	if (nprocs++ == 0)
		printf("\n%-8s %8s %-10s %-13s %s\n", "process", "pid", "user",
		    "state", "root / detail");
	printf("%-8s %8d %-10s %-13s %s\n", p->name, p->pid, p->user,
	    p->state, p->root);
	if (p->detail[0] != '\0')
		printf("%-8s %8s %-10s %-13s %s\n", "", "", "", "", p->detail);
}

static void
show_conn(const struct ctl_conn *c)
{
	char	 age[32];

	if (nconns++ == 0)
		printf("%-52s %-3s %-22s %9s %7s %s\n", "peer", "dir",
		    "address", "age", "streams", "agent");
	fmt_age(c->age, age, sizeof(age));
	printf("%-52s %-3s %-22s %9s %7d %s\n", c->peer,
	    c->inbound ? "in" : "out", c->addr, age, c->streams,
	    c->agent[0] ? c->agent : "-");
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
		printf("%-52s %-20s %s\n", "peer", "address", "expires");
	gmtime_r(&t, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%-52s %-20s %s\n", r->peer, r->addr, exp);
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
	char	 age[32], lim[64];

	if (nrows++ == 0)
		printf("%-52s %-52s %12s %12s %9s %s\n", "source", "target",
		    "bytes out", "bytes back", "age", "limits");
	fmt_age(c->age, age, sizeof(age));
	fmt_limit(c->limit_duration, c->limit_data, lim, sizeof(lim));
	printf("%-52s %-52s %12llu %12llu %9s %s\n", c->src, c->dst,
	    (unsigned long long)c->bytes_src_dst,
	    (unsigned long long)c->bytes_dst_src, age, lim);
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

static void
fmt_sources(uint32_t s, char *buf, size_t len)
{
	static const char *const names[] = { "bootstrap", "identify",
	    "relay", "gossip", "manual", "inbound", "dialled" };
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (s & (1U << i)) {
			if (buf[0] != '\0')
				strlcat(buf, ",", len);
			strlcat(buf, names[i], len);
		}
	if (buf[0] == '\0')
		strlcpy(buf, "-", len);
}

static void
show_peer(const struct ctl_peer *p)
{
	char	 seen[32], ok[32], src[96];

	if (nrows++ == 0)
		printf("%-52s %-4s %-20s %-20s %5s %-24s %-28s %s\n", "peer",
		    "conn", "last seen", "last success", "fails", "sources",
		    "address", "agent");
	fmt_time(p->last_seen, seen, sizeof(seen));
	fmt_time(p->last_ok, ok, sizeof(ok));
	fmt_sources(p->sources, src, sizeof(src));
	printf("%-52s %-4s %-20s %-20s %5d %-24s %-28s %s\n", p->peer,
	    p->connected ? "yes" : "no", seen, ok, p->fails, src,
	    p->addr[0] ? p->addr : "-", p->agent[0] ? p->agent : "-");
}

static void
show_ban(const struct ctl_ban *b)
{
	char	 until[32];

	if (nrows++ == 0)
		printf("%-52s %-20s %s\n", "target", "until", "reason");
	if (b->until == 0)
		strlcpy(until, "forever", sizeof(until));
	else
		fmt_time(b->until, until, sizeof(until));
	printf("%-52s %-20s %s\n", b->target, until,
	    b->reason[0] ? b->reason : "-");
}

static void
show_acct(const struct ctl_acct *a)
{
	char	 day[32];

	if (nrows++ == 0)
		printf("%-10s %-52s %8s %8s %14s %14s\n", "day", "peer",
		    "rsvps", "circuits", "bytes in", "bytes out");
	fmt_time((int64_t)a->day * 86400, day, sizeof(day));
	day[10] = '\0';
	printf("%-10s %-52s %8llu %8llu %14llu %14llu\n", day, a->peer,
	    (unsigned long long)a->rsvps, (unsigned long long)a->circuits,
	    (unsigned long long)a->bytes_in,
	    (unsigned long long)a->bytes_out);
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
show_result(const struct ctl_result *r)
{
	nresults++;
	if (r->ok)
		printf("%s\n", r->msg);
	else
		fprintf(stderr, "peerctl: %s\n", r->msg);
}

static void
show_tail(void)
{
	/* an empty listing says so; a failed one has said why */
	if (list != NULL && nconns + nrows + nresults == 0)
		printf("no %s\n", list);
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
	.result = show_result,
	.tail = show_tail,
};
