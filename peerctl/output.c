/*
 * Text output of peerctl, for people.
 */
#include <stdio.h>

#include "output.h"

static void
fmt_uptime(int64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh%02lldm", (long long)s / 86400,
		    (long long)(s % 86400) / 3600, (long long)(s % 3600) / 60);
	else
		snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)s / 3600,
		    (long long)(s % 3600) / 60, (long long)s % 60);
}

static void
show_head(void)
{
}

static void
show_status(const struct ctl_status *st)
{
	char	 up[32];

	fmt_uptime(st->uptime, up, sizeof(up));
	printf("peerd %s, %s mode, up %s\n", st->version, st->mode, up);
	printf("peer ID: %s\n", st->peerid[0] ? st->peerid : "(unknown)");
	printf("\n%-8s %8s %-10s %-8s %s\n", "process", "pid", "user",
	    "state", "root / detail");
}

static void
show_proc(const struct ctl_proc *p)
{
	printf("%-8s %8d %-10s %-8s %s\n", p->name, p->pid, p->user,
	    p->state, p->root);
	if (p->detail[0] != '\0')
		printf("%-8s %8s %-10s %-8s %s\n", "", "", "", "", p->detail);
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
	.proc = show_proc,
	.result = show_result,
	.tail = show_tail,
};
