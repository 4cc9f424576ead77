/*
 * Text output of peerctl, for people.
 */
#include <stdio.h>
#include <time.h>

#include "output.h"

static int	 nconns, nprocs, nrows;

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
	nconns = nprocs = nrows = 0;
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
		printf("\n%-8s %8s %-10s %-8s %s\n", "process", "pid", "user",
		    "state", "root / detail");
	printf("%-8s %8d %-10s %-8s %s\n", p->name, p->pid, p->user,
	    p->state, p->root);
	if (p->detail[0] != '\0')
		printf("%-8s %8s %-10s %-8s %s\n", "", "", "", "", p->detail);
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
show_result(const struct ctl_result *r)
{
	if (r->ok)
		printf("%s\n", r->msg);
	else
		fprintf(stderr, "peerctl: %s\n", r->msg);
}

static void
show_tail(void)
{
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
	.result = show_result,
	.tail = show_tail,
};
