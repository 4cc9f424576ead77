/*
 * JSON output of peerctl (-j): one object per command.
 */
#include <stdio.h>

#include "output.h"

static int	 nprocs, in_status;

static void
json_string(const char *key, const char *s)
{
	const unsigned char *p;

	printf("\"%s\":\"", key);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
json_head(void)
{
	nprocs = 0;
	in_status = 0;
	putchar('{');
}

static void
json_status(const struct ctl_status *st)
{
	in_status = 1;
	json_string("version", st->version);
	putchar(',');
	json_string("mode", st->mode);
	printf(",\"uptime\":%lld,", (long long)st->uptime);
	json_string("peerId", st->peerid);
	printf(",\"processes\":[");
}

static void
json_proc(const struct ctl_proc *p)
{
	printf("%s{", nprocs++ ? "," : "");
	json_string("name", p->name);
	printf(",\"pid\":%d,\"uid\":%u,", p->pid, p->uid);
	json_string("user", p->user);
	putchar(',');
	json_string("root", p->root);
	putchar(',');
	json_string("state", p->state);
	putchar(',');
	json_string("detail", p->detail);
	putchar('}');
}

static void
json_result(const struct ctl_result *r)
{
	printf("\"ok\":%s,", r->ok ? "true" : "false");
	json_string("message", r->msg);
}

static void
json_tail(void)
{
	if (in_status)
		putchar(']');
	printf("}\n");
}

const struct output json_output = {
	.head = json_head,
	.status = json_status,
	.proc = json_proc,
	.result = json_result,
	.tail = json_tail,
};
