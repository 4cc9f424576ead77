/*
 * The message table (common/msg.h) and its gate, msg_accept(): every
 * message type from every sender to every receiver passes exactly when
 * its row lists the pair, with its size and its descriptor; each row
 * travels over channels that exist; only "show" requests are open to
 * the read-only socket; a process of the suite that sends outside the
 * table dies naming the message and both processes.  With -t it prints
 * the table, for the daemon test's requests on the control sockets.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "tap.h"

#define NPROC	(PROC_CTL + 1)

/*
 * The channels of DESIGN: the parent with each child, the engine with
 * keyd, stored and relayd, relayd with keyd and stored, and control
 * clients with the engine.
 */
static int
channel(int a, int b)
{
	static const int pairs[][2] = {
		{ PROC_PARENT, PROC_ENGINE }, { PROC_PARENT, PROC_KEYD },
		{ PROC_PARENT, PROC_STORED }, { PROC_PARENT, PROC_RELAYD },
		{ PROC_ENGINE, PROC_KEYD }, { PROC_ENGINE, PROC_STORED },
		{ PROC_ENGINE, PROC_RELAYD }, { PROC_RELAYD, PROC_KEYD },
		{ PROC_RELAYD, PROC_STORED }, { PROC_CTL, PROC_ENGINE },
	};
	size_t	 i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if ((pairs[i][0] == a && pairs[i][1] == b) ||
		    (pairs[i][0] == b && pairs[i][1] == a))
			return 1;
	return 0;
}

static struct imsg
message(uint32_t type, size_t len, int fd)
{
	static uint8_t	 buf[IMSG_MAXSIZE];
	struct imsg	 m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = IMSG_HEADER_SIZE + len;
	m.fd = fd;
	m.data = len ? buf : NULL;
	return m;
}

static size_t
good_len(uint32_t t)
{
	return msg_row(t)->size == MSG_VAR ? 8 : msg_row(t)->size;
}

static int
good_fd(uint32_t t)
{
	return msg_row(t)->flags & MSG_FD ? 0 : -1;
}

/* Exactly the pairs of its row pass, for each message. */
static void
test_pairs(void)
{
	struct imsg	 m;
	char		 why[160];
	uint32_t	 t;
	int		 f, r, bad = 0, pass = 0, want, got;

	for (t = 1; t < IMSG_MAX; t++)
		for (f = 0; f < NPROC; f++)
			for (r = 0; r < NPROC; r++) {
				m = message(t, good_len(t), good_fd(t));
				want = (msg_row(t)->from & (1U << f)) &&
				    (msg_row(t)->to & (1U << r));
				got = msg_accept(&m, f, r, why,
				    sizeof(why)) == 0;
				pass += got;
				if (got != want && bad++ < 5)
					printf("# %s from %s to %s: %s\n",
					    msg_row(t)->name, proc_name(f),
					    proc_name(r), got ? "passed" : why);
			}
	ok(bad == 0, "every type from every sender to every receiver: "
	    "exactly the pairs of its row pass (%d wrong, %d passed)", bad,
	    pass);
}

/* A sender of a row reaches one of its receivers, and the other way. */
static void
test_channels(void)
{
	const struct msg_row	*m;
	uint32_t		 t;
	int			 f, r, reached, bad = 0;

	for (t = 1; t < IMSG_MAX; t++) {
		m = msg_row(t);
		for (f = 0; f < NPROC; f++) {
			if (!(m->from & (1U << f)))
				continue;
			for (reached = 0, r = 0; r < NPROC; r++)
				reached |= (m->to & (1U << r)) && channel(f, r);
			if (!reached && bad++ < 5)
				printf("# %s: %s reaches none of its "
				    "receivers\n", m->name, proc_name(f));
		}
		for (r = 0; r < NPROC; r++) {
			if (!(m->to & (1U << r)))
				continue;
			for (reached = 0, f = 0; f < NPROC; f++)
				reached |= (m->from & (1U << f)) &&
				    channel(f, r);
			if (!reached && bad++ < 5)
				printf("# %s: no sender reaches %s\n", m->name,
				    proc_name(r));
		}
	}
	ok(bad == 0, "every route of the table is over a channel that "
	    "exists (%d not)", bad);
	ok(msg_row(IMSG_NONE)->from == 0 && msg_row(IMSG_NONE)->to == 0,
	    "IMSG_NONE is sent by no one");
}

/*
 * The read-only socket may ask every show request and subscribe (which
 * only watches), and nothing else.
 */
static void
test_readonly(void)
{
	uint32_t	 t;
	int		 show, bad = 0, n = 0;

	for (t = 0; t < IMSG_MAX; t++) {
		show = strncmp(msg_row(t)->name, "IMSG_CTL_SHOW_", 14) == 0 ||
		    t == IMSG_CTL_SUBSCRIBE;
		n += show;
		if (show != msg_readonly(t) && bad++ < 5)
			printf("# %s: read-only %d\n", msg_row(t)->name,
			    msg_readonly(t));
		if (show && !(msg_row(t)->from & P_CTL) && bad++ < 5)
			printf("# %s: a control client cannot send it\n",
			    msg_row(t)->name);
	}
	ok(bad == 0 && n >= 8, "read-only exactly for the %d show requests "
	    "and subscribe, each one a control client may send (%d wrong)", n, bad);
	ok(!msg_readonly(IMSG_MAX) && !msg_readonly(9999),
	    "no type beyond the table is read-only");
}

/* A string field that fills its array without a NUL is refused. */
static void
test_strings(void)
{
	struct ctl_block	 b;
	struct store_ban_op	 op;
	struct imsg		 m;
	char			 why[160];

	memset(&b, 0, sizeof(b));
	memset(b.reason, 'a', sizeof(b.reason));
	m = message(IMSG_CTL_BLOCK, 0, -1);
	m.hdr.len = IMSG_HEADER_SIZE + sizeof(b);
	m.data = &b;
	ok(msg_accept(&m, PROC_CTL, PROC_ENGINE, why, sizeof(why)) == -1 &&
	    strstr(why, "IMSG_CTL_BLOCK from control client: reason is not "
	    "terminated"), "a block request whose reason fills its array: %s",
	    why);
	b.reason[sizeof(b.reason) - 1] = '\0';
	ok(msg_accept(&m, PROC_CTL, PROC_ENGINE, why, sizeof(why)) == 0,
	    "the same with a NUL in its last byte passes");
	memset(&op, 0, sizeof(op));
	memset(op.ban.reason, 'x', sizeof(op.ban.reason));
	m.hdr.type = IMSG_STORE_BAN;
	m.hdr.len = IMSG_HEADER_SIZE + sizeof(op);
	m.data = &op;
	ok(msg_accept(&m, PROC_STORED, PROC_ENGINE, why, sizeof(why)) == -1 &&
	    strstr(why, "ban.reason is not terminated"),
	    "a nested string field is checked too: %s", why);
}

static void
test_refusals(void)
{
	struct imsg	 m;
	char		 why[160];

	m = message(IMSG_KEY_DH, sizeof(struct key_dh) - 1, -1);
	ok(msg_accept(&m, PROC_ENGINE, PROC_KEYD, why, sizeof(why)) == -1 &&
	    strstr(why, "IMSG_KEY_DH") && strstr(why, "31 bytes, not 32"),
	    "a short IMSG_KEY_DH is refused with both sizes: %s", why);
	m = message(IMSG_CTL_BACKUP, 0, -1);
	ok(msg_accept(&m, PROC_CTL, PROC_ENGINE, why, sizeof(why)) == -1 &&
	    strstr(why, "without a descriptor"),
	    "a backup request without its descriptor: %s", why);
	m = message(IMSG_CTL_SHOW_STATUS, 0, 0);
	ok(msg_accept(&m, PROC_CTL, PROC_ENGINE, why, sizeof(why)) == -1 &&
	    strstr(why, "with a descriptor"),
	    "a status request with a descriptor: %s", why);
	m = message(IMSG_MAX, 0, -1);
	ok(msg_accept(&m, PROC_ENGINE, PROC_KEYD, why, sizeof(why)) == -1 &&
	    strstr(why, "unknown message type"), "type IMSG_MAX: %s", why);
	m = message(IMSG_NONE, 0, -1);
	ok(msg_accept(&m, PROC_PARENT, PROC_ENGINE, why, sizeof(why)) == -1,
	    "IMSG_NONE is refused: %s", why);
	m = message(IMSG_KEY_DH, sizeof(struct key_dh), -1);
	ok(msg_accept(&m, PROC_CTL + 1, PROC_KEYD, why, sizeof(why)) == -1 &&
	    msg_accept(&m, PROC_ENGINE, PROC_CTL + 1, why, sizeof(why)) == -1,
	    "a process beyond the table sends and receives nothing");
	m = message(IMSG_KEY_PUBSUB_SIG, sizeof(struct key_ps_sig) - 1, -1);
	ok(msg_accept(&m, PROC_KEYD, PROC_ENGINE, why, sizeof(why)) == -1 &&
	    strstr(why, "IMSG_KEY_PUBSUB_SIG"),
	    "a short pubsub signature is refused: %s", why);
	m = message(IMSG_KEY_SIGN_PUBSUB, sizeof(struct key_ps_sign) +
	    KEY_PSMSG_MAX, -1);
	ok(msg_accept(&m, PROC_ENGINE, PROC_KEYD, why, sizeof(why)) == 0 &&
	    m.hdr.len <= IMSG_MAXSIZE &&
	    msg_accept(&m, PROC_RELAYD, PROC_KEYD, why, sizeof(why)) == -1,
	    "a pubsub message of KEY_PSMSG_MAX bytes fits a sign request, "
	    "which only the engine sends: %s", why);
	test_strings();
	m = message(IMSG_KEY_SIGN_RECORD, 0, -1);
	ok(msg_accept(&m, PROC_ENGINE, PROC_KEYD, why, sizeof(why)) == 0,
	    "a variable-length message may be empty at the gate: its "
	    "reader checks it");
}

/*
 * Every fixed-size type one byte longer or shorter than its row, or
 * empty, is refused naming it, its sender and both sizes; a variable
 * one passes empty and at the largest; unknown types are refused.
 */
static void
test_sizes(void)
{
	static const uint32_t	 unknown[] = { IMSG_NONE, IMSG_MAX, 9999,
				    UINT32_MAX };
	const struct msg_row	*r;
	struct imsg		 m;
	char			 why[160], want[160];
	size_t			 lens[3], i, n;
	uint32_t		 t;
	int			 f, to, bad = 0, tried = 0;

	for (t = 1; t < IMSG_MAX; t++) {
		r = msg_row(t);
		for (f = 0; f < PROC_CTL && !(r->from & (1U << f)); f++)
			;
		for (to = 0; to < PROC_CTL && !(r->to & (1U << to)); to++)
			;
		n = 0;
		if (r->size == MSG_VAR) {
			lens[n++] = 0;
			lens[n++] = IMSG_MAXSIZE - IMSG_HEADER_SIZE;
		} else {
			lens[n++] = r->size + 1;
			if (r->size > 0)
				lens[n++] = r->size - 1;
			if (r->size > 1)
				lens[n++] = 0;
		}
		for (i = 0; i < n; i++, tried++) {
			m = message(t, lens[i], good_fd(t));
			snprintf(want, sizeof(want), "%s from %s: %zu bytes, "
			    "not %zu", r->name, proc_name(f), lens[i], r->size);
			if (r->size == MSG_VAR ?
			    msg_accept(&m, f, to, why, sizeof(why)) == 0 :
			    msg_accept(&m, f, to, why, sizeof(why)) == -1 &&
			    strcmp(why, want) == 0)
				continue;
			if (bad++ < 5)
				printf("# %s, %zu bytes: %s\n", r->name,
				    lens[i], r->size == MSG_VAR ? why : want);
		}
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++, tried++) {
		m = message(unknown[i], 0, -1);
		snprintf(want, sizeof(want), "unknown message type %u from "
		    "stored", unknown[i]);
		if ((msg_accept(&m, PROC_STORED, PROC_ENGINE, why,
		    sizeof(why)) == -1 && strcmp(why, want) == 0) ||
		    bad++ >= 5)
			continue;
		printf("# type %u: %s\n", unknown[i], why);
	}
	ok(bad == 0, "%d messages of a wrong size or an unknown type are "
	    "refused naming the message, its sender and the sizes, and "
	    "variable ones pass empty and at the largest (%d wrong)", tried,
	    bad);
}

/*
 * The configuration travels typed, from the parent alone; keyd gets the
 * log format and the end of a configuration, nothing else of it.
 */
static void
test_reconf(void)
{
	const struct msg_row	*m;
	uint32_t		 t;
	int			 n = 0, bad = 0;

	for (t = 0; t < IMSG_MAX; t++) {
		m = msg_row(t);
		if (strncmp(m->name, "IMSG_RECONF_", 12) != 0)
			continue;
		n++;
		if (m->from != P_PARENT || m->size == MSG_VAR ||
		    (m->to & ~P_CHILDREN) != 0 || m->flags != 0)
			bad++;
		if ((m->to & P_KEYD) != 0 && t != IMSG_RECONF_LOG &&
		    t != IMSG_RECONF_DONE)
			bad++;
	}
	ok(n == 8 && bad == 0, "%d configuration messages, each of a fixed "
	    "size from the parent to children; keyd gets only the log format "
	    "and the end (%d wrong)", n, bad);
	ok((msg_row(IMSG_RECONF_LOG)->to & P_CHILDREN) == P_CHILDREN &&
	    (msg_row(IMSG_RECONF_DONE)->to & P_CHILDREN) == P_CHILDREN,
	    "every child gets the log format and the end of a configuration");
	ok(msg_row(IMSG_RECONF_ENGINE)->to == P_ENGINE &&
	    msg_row(IMSG_RECONF_MADDR)->to == P_ENGINE &&
	    msg_row(IMSG_RECONF_RELAY)->to == P_RELAYD &&
	    msg_row(IMSG_RECONF_STORE)->to == P_STORED &&
	    msg_row(IMSG_RECONF_PEERID)->to == (P_ENGINE | P_RELAYD) &&
	    msg_row(IMSG_RECONF_TOPIC)->to == P_ENGINE,
	    "each part goes to the process that uses it");
	ok(msg_row(IMSG_RECONF_MADDR)->size == sizeof(struct reconf_maddr) &&
	    msg_row(IMSG_RECONF_PEERID)->size == sizeof(struct reconf_peerid) &&
	    sizeof(struct reconf_maddr) + IMSG_HEADER_SIZE <= IMSG_MAXSIZE &&
	    sizeof(struct reconf_peerid) + IMSG_HEADER_SIZE <= IMSG_MAXSIZE &&
	    sizeof(struct reconf_topic) + IMSG_HEADER_SIZE <= IMSG_MAXSIZE,
	    "a list entry fits a message");
}

/* msg_check in a process of the suite: fatal, naming all three. */
static void
test_fatal(void)
{
	struct imsg	 m;
	char		 out[512];
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], status = 0;

	if (pipe(p) == -1 || (pid = fork()) == -1) {
		ok(0, "pipe and fork");
		return;
	}
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		log_init(1, 0);
		log_procinit("keyd");
		m = message(IMSG_KEY_DH, sizeof(struct key_dh), -1);
		msg_check(&m, PROC_RELAYD, PROC_KEYD);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	    strstr(out, "fatal in keyd: IMSG_KEY_DH from relayd to keyd is not "
	    "in the message table") != NULL,
	    "keyd given IMSG_KEY_DH by relayd exits 1 naming the message and "
	    "both processes: status %d, %s", status, out);
}

/* The table for the daemon test: name, size (-1: variable), masks, flags. */
static void
print_table(void)
{
	const struct msg_row	*m;
	uint32_t		 t;

	for (t = 0; t < IMSG_MAX; t++) {
		m = msg_row(t);
		printf("%u %s %lld %u %u %d\n", t, m->name,
		    m->size == MSG_VAR ? -1LL : (long long)m->size, m->from,
		    m->to, m->flags);
	}
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "-t") == 0) {
		print_table();
		return 0;
	}
	test_pairs();
	test_channels();
	test_readonly();
	test_refusals();
	test_sizes();
	test_reconf();
	test_fatal();
	return tap_done();
}
