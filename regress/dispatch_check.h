/*
 * Feeds a process's own receive path (for a child, child_receive: the
 * table's check, the messages every child handles, then the process's
 * dispatcher; for the parent, parent_receive) every message type from
 * every other process, each in a forked copy, and checks that exactly
 * the pairs of the table in msg.h get past the check and that the
 * dispatcher handles every one of them.  Included by one test per
 * process, after that process's source file.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "tap.h"

enum outcome { REFUSED, UNHANDLED, HANDLED };

static const char *outcome_names[] = { "refused", "unhandled", "handled" };

/* One message from one sender, in a forked copy: how it ended. */
typedef void	(*receive_fn)(enum proc_id, struct imsg *);

static enum outcome
dispatch_one(receive_fn receive, uint32_t type, enum proc_id from)
{
	static uint8_t		 zero[IMSG_MAXSIZE];
	const struct msg_row	*m = msg_row(type);
	struct imsg		 imsg;
	char			 out[1024];
	ssize_t			 n, got = 0;
	pid_t			 pid;
	int			 p[2], status;

	/* a copy that ends in exit() must not write our buffers again */
	fflush(stdout);
	if (pipe(p) == -1 || (pid = fork()) == -1)
		return HANDLED;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		alarm(10);
		memset(&imsg, 0, sizeof(imsg));
		imsg.hdr.type = type;
		imsg.hdr.len = IMSG_HEADER_SIZE +
		    (m->size == MSG_VAR ? 8 : m->size);
		imsg.fd = m->flags & MSG_FD ? open("/dev/null", O_RDWR) : -1;
		imsg.data = zero;
		receive(from, &imsg);
		_exit(0);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(out) - 1 &&
	    (n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	if (strstr(out, "is not in the message table") != NULL)
		return REFUSED;
	if (strstr(out, "unhandled message") != NULL)
		return UNHANDLED;
	return HANDLED;
}

/* Every type from every process but this one: as the table says. */
static int
dispatch_check(enum proc_id me, receive_fn receive)
{
	const struct msg_row	*m;
	enum outcome		 got, want;
	uint32_t		 type;
	int			 from, bad = 0, handled = 0;

	log_init(1, 0);
	log_procinit(proc_name(me));
	for (type = 1; type < IMSG_MAX; type++) {
		m = msg_row(type);
		for (from = 0; from < PROC_MAX; from++) {
			if (from == (int)me)
				continue;
			want = (m->from & (1U << from)) &&
			    (m->to & (1U << me)) ? HANDLED : REFUSED;
			got = dispatch_one(receive, type, from);
			handled += got == HANDLED;
			if (got != want && bad++ < 10)
				printf("# %s from %s to %s: %s, the table "
				    "says %s\n", m->name, proc_name(from),
				    proc_name(me), outcome_names[got],
				    outcome_names[want]);
		}
	}
	ok(bad == 0 && handled > 0, "%s: every type from every process "
	    "is handled exactly where the table routes it to %s (%d "
	    "handled, %d wrong)", proc_name(me), proc_name(me),
	    handled, bad);
	return tap_done();
}
