/*
 * Feeds a process's own receive path (for a child, child_receive: the
 * table's check, the messages every child handles, then the process's
 * dispatcher; for the parent, parent_receive) every message type from
 * every other process, each in a forked copy, and checks that exactly
 * the pairs of the table in msg.h get past the check and that the
 * dispatcher handles every one of them.  Then every malformed form of
 * each message the process accepts: a wrong size, an unknown type, a
 * variable part shorter or longer than its bounds or inconsistent with
 * its head, a length or count field past its array, a descriptor where
 * none belongs or none where one does.  Each must stop the copy with
 * an exit status other than 0 (not a signal) and a line naming the
 * message and its sender, as fatalx does; for the parent, one that says
 * it is shutting down.  The data
 * of each message is a buffer of its exact length, so that a read past
 * it shows under ASan.  Included by one test per process, after that
 * process's source file.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "tap.h"

#define VAR_ANY		((size_t)-1)
#define VAR_LARGEST	(IMSG_MAXSIZE - IMSG_HEADER_SIZE)

/*
 * A variable-length type a process accepts: the length its handler
 * needs at least (its fixed head), the most it takes, and, when it
 * takes an empty one or one of any length, why.
 */
struct var_type {
	uint32_t	 type;
	size_t		 min;
	size_t		 max;		/* VAR_ANY: to the largest message */
	const char	*why;		/* when min is 0 or max VAR_ANY */
};

/*
 * One message of a variable type, or of a fixed type with a length or
 * count field, and whether it must be fatal.
 */
struct var_form {
	uint32_t	 type;
	const char	*what;
	const void	*data;
	size_t		 len;
	int		 fatal;
};

enum outcome { REFUSED, UNHANDLED, HANDLED };

static const char *outcome_names[] = { "refused", "unhandled", "handled" };

typedef void	(*receive_fn)(enum proc_id, struct imsg *);

/* How a forked copy ended: its wait status and what it wrote. */
struct copy_end {
	int	 status;
	char	 out[2048];
};

/* The tally of one malformed form over a process's messages. */
struct form_tally {
	const char	*form;
	int		 tried;
	int		 bad;
};

/*
 * One message from one sender, in a forked copy: its type, len bytes
 * of data (zeros when data is NULL), a descriptor or none.
 */
static void
dispatch_run(receive_fn receive, uint32_t type, enum proc_id from,
    const void *data, size_t len, int withfd, struct copy_end *e)
{
	struct imsg	 imsg;
	ssize_t		 n, got = 0;
	pid_t		 pid;
	int		 p[2];

	e->status = -1;
	e->out[0] = '\0';
	/* a copy that ends in exit() must not write our buffers again */
	fflush(stdout);
	if (pipe(p) == -1 || (pid = fork()) == -1)
		return;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		alarm(10);
		memset(&imsg, 0, sizeof(imsg));
		imsg.hdr.type = type;
		imsg.hdr.len = IMSG_HEADER_SIZE + len;
		imsg.fd = withfd ? open("/dev/null", O_RDWR) : -1;
		/* as imsg_get: a buffer of its length, none when empty */
		if (len > 0) {
			if ((imsg.data = calloc(1, len)) == NULL)
				_exit(3);
			if (data != NULL)
				memcpy(imsg.data, data, len);
		}
		receive(from, &imsg);
		_exit(0);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(e->out) - 1 &&
	    (n = read(p[0], e->out + got, sizeof(e->out) - 1 - got)) > 0)
		got += n;
	e->out[got] = '\0';
	close(p[0]);
	waitpid(pid, &e->status, 0);
}

static enum outcome
dispatch_one(receive_fn receive, uint32_t type, enum proc_id from)
{
	const struct msg_row	*m = msg_row(type);
	struct copy_end		 e;

	dispatch_run(receive, type, from, NULL,
	    m->size == MSG_VAR ? 8 : m->size, m->flags & MSG_FD, &e);
	if (strstr(e.out, "is not in the message table") != NULL)
		return REFUSED;
	if (strstr(e.out, "unhandled message") != NULL)
		return UNHANDLED;
	return HANDLED;
}

/* Every type from every process but this one: as the table says. */
static void
dispatch_routes(enum proc_id me, receive_fn receive)
{
	const struct msg_row	*m;
	enum outcome		 got, want;
	uint32_t		 type;
	int			 from, bad = 0, handled = 0;

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
}

/* The first line of what a copy wrote, for a diagnostic. */
static const char *
first_line(const struct copy_end *e, char *buf, size_t len)
{
	strlcpy(buf, e->out, len);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void	 tally_fail(struct form_tally *, const struct copy_end *,
		    const char *, ...) __attribute__((__format__(printf, 3, 4)));

static void
tally_fail(struct form_tally *t, const struct copy_end *e, const char *fmt,
    ...)
{
	va_list	 ap;
	char	 line[160];

	if (t->bad++ >= 3)
		return;
	printf("# %s: ", t->form);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (e == NULL)
		printf("\n");
	else if (WIFSIGNALED(e->status))
		printf(": signal %d: %s\n", WTERMSIG(e->status),
		    first_line(e, line, sizeof(line)));
	else
		printf(": exit %d: %s\n", WIFEXITED(e->status) ?
		    WEXITSTATUS(e->status) : -1,
		    first_line(e, line, sizeof(line)));
}

/*
 * The copy stopped as a daemon of the suite does on a bad message:
 * exit status not 0 (not a signal) and a line with want ("NAME from
 * SENDER"); the parent says it is shutting down.
 */
static int
stopped(const struct copy_end *e, const char *want, enum proc_id me)
{
	return WIFEXITED(e->status) && WEXITSTATUS(e->status) != 0 &&
	    strstr(e->out, want) != NULL &&
	    (me != PROC_PARENT || strstr(e->out, "shutting down") != NULL);
}

/* One malformed message: it must stop the copy, naming it and from. */
static void
must_stop(struct form_tally *t, enum proc_id me, receive_fn receive,
    uint32_t type, enum proc_id from, const void *data, size_t len,
    int withfd, const char *what)
{
	struct copy_end	 e;
	char		 want[128];

	if (type < IMSG_MAX && type != IMSG_NONE)
		snprintf(want, sizeof(want), "%s from %s", msg_name(type),
		    proc_name(from));
	else
		snprintf(want, sizeof(want), "unknown message type %u from "
		    "%s", type, proc_name(from));
	t->tried++;
	dispatch_run(receive, type, from, data, len, withfd, &e);
	if (!stopped(&e, want, me))
		tally_fail(t, &e, "%s, %s, %zu bytes%s: not stopped naming "
		    "\"%s\"", msg_name(type), what != NULL ? what : "zeros",
		    len, withfd ? " with a descriptor" : "", want);
}

/* One odd but well-formed message: the copy handles it and goes on. */
static void
must_handle(struct form_tally *t, receive_fn receive, uint32_t type,
    enum proc_id from, const void *data, size_t len, int withfd,
    const char *what)
{
	struct copy_end	 e;

	t->tried++;
	dispatch_run(receive, type, from, data, len, withfd, &e);
	if (!WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0)
		tally_fail(t, &e, "%s from %s, %s, %zu bytes: not handled",
		    msg_name(type), proc_name(from), what != NULL ? what :
		    "zeros", len);
}

static int
accepts(enum proc_id me, const struct msg_row *m, int from)
{
	return from != (int)me && from < PROC_MAX &&
	    (m->from & (1U << from)) && (m->to & (1U << me));
}

static void
tally_ok(enum proc_id me, const struct form_tally *t, const char *what)
{
	ok(t->bad == 0 && t->tried > 0, "%s: %s: %d messages, each %s (%d "
	    "not)", proc_name(me), t->form, t->tried, what, t->bad);
}

/* Fixed-size types: one byte more, one less, none; 1 for a size 0. */
static void
bad_sizes(enum proc_id me, receive_fn receive)
{
	struct form_tally	 t = { "wrong size", 0, 0 };
	const struct msg_row	*m;
	uint32_t		 type;
	int			 from, fd;

	for (type = 1; type < IMSG_MAX; type++) {
		m = msg_row(type);
		fd = (m->flags & MSG_FD) != 0;
		if (m->size == MSG_VAR)
			continue;
		for (from = 0; from < PROC_MAX; from++) {
			if (!accepts(me, m, from))
				continue;
			must_stop(&t, me, receive, type, from, NULL,
			    m->size + 1, fd, NULL);
			if (m->size == 0)
				continue;
			must_stop(&t, me, receive, type, from, NULL,
			    m->size - 1, fd, NULL);
			if (m->size > 1)
				must_stop(&t, me, receive, type, from, NULL,
				    0, fd, NULL);
		}
	}
	tally_ok(me, &t, "fatal naming it and its sender");
}

/* Types 0, IMSG_MAX and a large one, from each other process. */
static void
bad_types(enum proc_id me, receive_fn receive)
{
	struct form_tally	 t = { "unknown type", 0, 0 };
	static const uint32_t	 types[] = { IMSG_NONE, IMSG_MAX,
				    0x7ffffff0 };
	size_t			 i;
	int			 from;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		for (from = 0; from < PROC_MAX; from++)
			if (from != (int)me) {
				must_stop(&t, me, receive, types[i], from,
				    NULL, 0, 0, NULL);
				must_stop(&t, me, receive, types[i], from,
				    NULL, 8, 0, NULL);
			}
	tally_ok(me, &t, "fatal naming the type and its sender");
}

static const struct var_type *
var_find(const struct var_type *vt, uint32_t type)
{
	for (; vt->type != 0; vt++)
		if (vt->type == type)
			return vt;
	return NULL;
}

/* The length a variable type may have at the gate, for other checks. */
static size_t
var_good_len(const struct var_type *vt, uint32_t type)
{
	const struct var_type	*v = var_find(vt, type);

	return v != NULL && v->min > 0 ? v->min : 8;
}

/*
 * Variable types: shorter than their head or longer than their most,
 * fatal; empty or the largest, when the type takes that, handled; then
 * the process's own forms (a head that claims more than follows).
 */
static void
bad_vars(enum proc_id me, receive_fn receive, const struct var_type *vt,
    const struct var_form *vf)
{
	struct form_tally	 t = { "variable part", 0, 0 };
	struct form_tally	 h = { "variable part, well formed", 0, 0 };
	const struct msg_row	*m;
	const struct var_type	*v;
	const struct var_form	*f;
	uint32_t		 type;
	size_t			 len;
	int			 from, fd;

	for (type = 1; type < IMSG_MAX; type++) {
		m = msg_row(type);
		fd = (m->flags & MSG_FD) != 0;
		if (m->size != MSG_VAR)
			continue;
		for (from = 0; from < PROC_MAX; from++) {
			if (!accepts(me, m, from))
				continue;
			if ((v = var_find(vt, type)) == NULL) {
				t.tried++;
				tally_fail(&t, NULL, "%s: the test gives no "
				    "bounds", m->name);
				continue;
			}
			if ((v->min == 0 || v->max == VAR_ANY) &&
			    v->why == NULL) {
				t.tried++;
				tally_fail(&t, NULL, "%s: any length, the test "
				    "says not why", m->name);
			}
			for (len = 0; len < v->min; len++)
				must_stop(&t, me, receive, type, from, NULL,
				    len, fd, NULL);
			if (v->max != VAR_ANY) {
				must_stop(&t, me, receive, type, from, NULL,
				    v->max + 1, fd, NULL);
				must_stop(&t, me, receive, type, from, NULL,
				    VAR_LARGEST, fd, NULL);
			} else
				must_handle(&h, receive, type, from, NULL,
				    VAR_LARGEST, fd, NULL);
			if (v->min == 0)
				must_handle(&h, receive, type, from, NULL, 0,
				    fd, NULL);
			for (f = vf; f->type != 0; f++) {
				if (f->type != type)
					continue;
				if (f->fatal)
					must_stop(&t, me, receive, type, from,
					    f->data, f->len, fd, f->what);
				else
					must_handle(&h, receive, type, from,
					    f->data, f->len, fd, f->what);
			}
		}
	}
	if (t.tried == 0 && vt->type == 0) {
		printf("# %s: takes no variable-length message\n",
		    proc_name(me));
		return;
	}
	tally_ok(me, &t, "fatal naming it and its sender");
	if (h.tried > 0)
		tally_ok(me, &h, "handled without a crash");
}

/*
 * What every child handles alike (child.c): a channel to a process that
 * is not a sibling, a log format or rate limit out of range.
 */
static void
bad_common(enum proc_id me, receive_fn receive)
{
	struct form_tally	 t = { "channel and log format", 0, 0 };
	const uint32_t		 peers[] = { PROC_PARENT, me, PROC_MAX,
				    UINT32_MAX };
	struct reconf_log	 l[3];
	size_t			 i;

	if (me == PROC_PARENT)
		return;
	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		must_stop(&t, me, receive, IMSG_SOCKET_CONN, PROC_PARENT,
		    &peers[i], sizeof(peers[i]), 1, "not a sibling");
	memset(l, 0, sizeof(l));
	l[0].format = LOG_FORMAT_JSON + 1;
	l[1].format = -1;
	l[2].rate_limit = -1;
	for (i = 0; i < 3; i++)
		must_stop(&t, me, receive, IMSG_RECONF_LOG, PROC_PARENT,
		    &l[i], sizeof(l[i]), 0, "out of range");
	tally_ok(me, &t, "fatal naming it and its sender");
}

/*
 * Fixed-size types whose length or count field must stay within its
 * array: the process's own forms, each of the type's size.
 */
static void
bad_fields(enum proc_id me, receive_fn receive, const struct var_form *vf)
{
	struct form_tally	 t = { "length field", 0, 0 };
	struct form_tally	 h = { "length field, within bounds", 0, 0 };
	const struct msg_row	*m;
	const struct var_form	*f;
	int			 from, fd;

	for (f = vf; f->type != 0; f++) {
		m = msg_row(f->type);
		fd = (m->flags & MSG_FD) != 0;
		if (m->size == MSG_VAR)
			continue;
		if (f->len != m->size) {
			t.tried++;
			tally_fail(&t, NULL, "%s, %s: %zu bytes, not %zu",
			    m->name, f->what, f->len, m->size);
			continue;
		}
		for (from = 0; from < PROC_MAX; from++) {
			if (!accepts(me, m, from))
				continue;
			if (f->fatal)
				must_stop(&t, me, receive, f->type, from,
				    f->data, f->len, fd, f->what);
			else
				must_handle(&h, receive, f->type, from,
				    f->data, f->len, fd, f->what);
		}
	}
	if (t.tried == 0) {
		printf("# %s: no length field to check\n", proc_name(me));
		return;
	}
	tally_ok(me, &t, "fatal naming it and its sender");
	if (h.tried > 0)
		tally_ok(me, &h, "handled without a crash");
}

/* A descriptor with a type that carries none, none with one that does. */
static void
bad_fds(enum proc_id me, receive_fn receive, const struct var_type *vt)
{
	struct form_tally	 t = { "descriptor", 0, 0 };
	const struct msg_row	*m;
	uint32_t		 type;
	size_t			 len;
	int			 from;

	for (type = 1; type < IMSG_MAX; type++) {
		m = msg_row(type);
		len = m->size == MSG_VAR ? var_good_len(vt, type) : m->size;
		for (from = 0; from < PROC_MAX; from++)
			if (accepts(me, m, from))
				must_stop(&t, me, receive, type, from, NULL,
				    len, !(m->flags & MSG_FD), NULL);
	}
	tally_ok(me, &t, "fatal naming it and its sender");
}

/*
 * The routes of the table, then every malformed form of each message
 * the process accepts; vt holds the bounds of its variable types and vf
 * its own forms of them and of fixed types with a length or count
 * field, each list ended by a type 0.
 */
static int
dispatch_check(enum proc_id me, receive_fn receive, const struct var_type *vt,
    const struct var_form *vf)
{
	log_init(1, 0);
	log_procinit(proc_name(me));
	dispatch_routes(me, receive);
	bad_sizes(me, receive);
	bad_types(me, receive);
	bad_vars(me, receive, vt, vf);
	bad_fields(me, receive, vf);
	bad_common(me, receive);
	bad_fds(me, receive, vt);
	return tap_done();
}
