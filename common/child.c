/*
 * The frame of every child process (child.h): its start, its event loop,
 * its channels to the parent and its siblings, and the messages every
 * child handles alike: channels, configuration, verbosity, status.  Of
 * the configuration it takes the log format and the end, and checks the
 * list entries for the child; the child takes its own part.  Calls
 * privsep.c, imsg.c and imsgev.c, msg.c, log.c, and wire/ to check
 * those entries.
 */
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "child.h"
#include "log.h"
#include "multiaddr.h"
#include "peerid.h"
#include "sandbox.h"

struct child		*child;

static struct event	 ev_sigterm, ev_sigint, ev_sighup, ev_logsweep;
static char		 child_user[CTL_USERLEN];

static void	 child_dispatch(int, short, void *);

static void
child_sig(int sig, short event, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		event_loopbreak();
		break;
	default:
		break;
	}
}

/* The summaries of suppressed log lines, once their window is over. */
static void
child_logsweep(int fd, short event, void *arg)
{
	struct timeval	 tv = { 1, 0 };

	log_limit_sweep();
	evtimer_add(&ev_logsweep, &tv);
}

static void
child_channel(enum proc_id id, int fd)
{
	struct imsgev	*iev = &child->iev[id];

	if (iev->active)
		fatalx("second channel to %s", proc_name(id));
	imsgev_init(iev, fd, child_dispatch, &child->iev[id]);
}

void
child_start(struct child *c, int argc, char *argv[])
{
	struct passwd	*pw;

	child = c;
	privsep_child_init(argc, argv, proc_name(c->id), &c->opts);
	/* who we run as, named now: no passwd file in the chroot */
	strlcpy(child_user, c->opts.user, sizeof(child_user));
	if (geteuid() != 0 && (pw = getpwuid(geteuid())) != NULL)
		strlcpy(child_user, pw->pw_name, sizeof(child_user));
	sandbox_prepare();
	privsep_drop(c->opts.user, c->opts.root);
	event_init();
	signal_set(&ev_sigterm, SIGTERM, child_sig, NULL);
	signal_set(&ev_sigint, SIGINT, child_sig, NULL);
	signal_set(&ev_sighup, SIGHUP, child_sig, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sigint, NULL);
	signal_add(&ev_sighup, NULL);
	signal(SIGPIPE, SIG_IGN);
	evtimer_set(&ev_logsweep, child_logsweep, NULL);
	child_logsweep(-1, 0, NULL);
	child_channel(PROC_PARENT, PROC_PARENT_FD);
}

void
child_loop(void)
{
	sandbox_enter(child->id);
	event_dispatch();
	if (child->shutdown != NULL)
		child->shutdown();
	log_debug("exiting");
	exit(0);
}

int
child_connected(enum proc_id id)
{
	return child->iev[id].active;
}

/* Room for best-effort messages: they give way before the queue fills. */
int
child_has_room(enum proc_id id)
{
	return child->iev[id].active &&
	    child->iev[id].ibuf.queued < child->iev[id].ibuf.maxqueue / 2;
}

/* Queue a message; a full queue to another process of the suite is fatal. */
int
child_compose(enum proc_id to, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	if (!child->iev[to].active)
		return -1;
	if (imsgev_compose(&child->iev[to], type, id, 0, fd, data,
	    len) == -1)
		fatal("message %s to %s", msg_name(type), proc_name(to));
	return 0;
}

void
child_fill_proc(struct ctl_proc *p)
{
	memset(p, 0, sizeof(*p));
	strlcpy(p->name, proc_name(child->id), sizeof(p->name));
	p->pid = getpid();
	p->uid = geteuid();
	strlcpy(p->user, child_user, sizeof(p->user));
	strlcpy(p->root, child->opts.root, sizeof(p->root));
	sandbox_state(p->sandbox, sizeof(p->sandbox));
	strlcpy(p->state, child->lockdown ? "lockdown" : "running",
	    sizeof(p->state));
	if (child->status != NULL)
		child->status(p);
}

/* The rows every process has, then its own. */
void
child_metrics(struct metric_set *set)
{
	set->n = 0;
	metric_add(set, METRIC_LOG_SUPPRESSED, log_suppressed(), "process",
	    proc_name(child->id), NULL, NULL);
	if (child->metrics != NULL)
		child->metrics(set);
}

static void
child_metrics_send(enum proc_id to)
{
	static struct metric_set	 set;
	size_t				 i;

	child_metrics(&set);
	for (i = 0; i < set.n; i++)
		child_compose(to, IMSG_METRIC_ROW, 0, -1, &set.rows[i],
		    sizeof(set.rows[i]));
	child_compose(to, IMSG_METRICS_END, 0, -1, NULL, 0);
}

/* A list entry of the configuration: a multiaddr that decodes. */
int
child_reconf_maddr(struct imsg *imsg, struct reconf_maddr *m)
{
	struct multiaddr	 chk;

	if (imsg_get_data(imsg, m, sizeof(*m)) == -1 ||
	    m->ma.len > MADDR_MAXLEN ||
	    maddr_decode(m->ma.b, m->ma.len, &chk) == -1)
		return -1;
	return 0;
}

/* A list entry of the configuration: a peer ID that reads as one. */
int
child_reconf_peerid(struct imsg *imsg, struct reconf_peerid *p)
{
	struct peerid	 chk;

	if (imsg_get_data(imsg, p, sizeof(*p)) == -1 ||
	    p->id.len > PEERID_MAXLEN ||
	    peerid_from_mh(p->id.mh, p->id.len, &chk) == -1)
		return -1;
	return 0;
}

/*
 * The parent says lockdown (peerctl lockdown, SIGUSR2): the child does
 * its part once, says so at the highest level, and answers each time.
 */
static void
child_lockdown(void)
{
	char		 q[256];
	const char	*did = "nothing here depends on the key";

	if (!child->lockdown) {
		child->lockdown = 1;
		if (child->lockdown_hook != NULL)
			did = child->lockdown_hook();
		logit(LOG_ALERT, "lockdown_entered action=\"%s\"",
		    log_quote(did, q, sizeof(q)));
	}
	child_compose(PROC_PARENT, IMSG_LOCKDOWN_DONE, 0, -1, NULL, 0);
}

static int
child_reconf_log(struct imsg *imsg)
{
	struct reconf_log	 l;

	imsg_get_data(imsg, &l, sizeof(l));
	if ((l.format != LOG_FORMAT_TEXT && l.format != LOG_FORMAT_JSON) ||
	    l.rate_limit < 0)
		return -1;
	child->logformat = l.format;
	child->lograte = l.rate_limit;
	child->have_log = 1;
	return 0;
}

/* What came since the last IMSG_RECONF_DONE applies, all at once. */
static void
child_reconf_done(void)
{
	if (!child->have_log)
		fatalx("configuration from parent without its log format");
	child->have_log = 0;
	log_setformat(child->logformat);
	log_setlimit(child->lograte);
	if (child->configure != NULL)
		child->configure();
	child->configured = 1;
	log_debug("configuration applied");
}

static int
child_common(enum proc_id from, struct imsg *imsg)
{
	struct ctl_proc	 p;
	uint32_t	 peer;
	int32_t		 v;
	int		 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_SOCKET_CONN:
		if (imsg_get_data(imsg, &peer, sizeof(peer)) == -1 ||
		    peer == PROC_PARENT || peer >= PROC_MAX ||
		    peer == child->id || (fd = imsg_get_fd(imsg)) == -1)
			return -1;
		child_channel(peer, fd);
		if (child->peer_up != NULL)
			child->peer_up(peer);
		return 0;
	case IMSG_RECONF_LOG:
		return child_reconf_log(imsg);
	case IMSG_RECONF_ENGINE:
	case IMSG_RECONF_RELAY:
	case IMSG_RECONF_STORE:
	case IMSG_RECONF_MADDR:
	case IMSG_RECONF_PEERID:
	case IMSG_RECONF_TOPIC:
		return child->reconf != NULL ? child->reconf(imsg) : 1;
	case IMSG_RECONF_DONE:
		child_reconf_done();
		return 0;
	case IMSG_LOCKDOWN:
		child_lockdown();
		return 0;
	case IMSG_LOG_VERBOSE:
		imsg_get_data(imsg, &v, sizeof(v));
		log_setverbose(v);
		return 0;
	case IMSG_METRICS_POLL:
		child_metrics_send(from);
		return 0;
	case IMSG_CTL_SHOW_STATUS:
		child_fill_proc(&p);
		child_compose(from, IMSG_CTL_PROC, imsg_get_id(imsg), -1,
		    &p, sizeof(p));
		return 0;
	default:
		return 1;
	}
}

/*
 * One message from another process: the table's check, then what every
 * child handles alike, then the child's own dispatcher, which returns 1
 * for a type it does not handle and -1 for one whose content it refuses.
 */
void
child_receive(enum proc_id from, struct imsg *imsg)
{
	int	 r;

	msg_check(imsg, from, child->id);
	if ((r = child_common(from, imsg)) == 1)
		r = child->dispatch != NULL ? child->dispatch(from, imsg) : -1;
	if (r == 1)
		fatalx("unhandled message %s from %s",
		    msg_name(imsg_get_type(imsg)), proc_name(from));
	if (r == -1)
		fatalx("bad message %s from %s",
		    msg_name(imsg_get_type(imsg)), proc_name(from));
}

static void
child_dispatch(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	enum proc_id	 from = iev - child->iev;
	struct imsg	 imsg;
	ssize_t		 n;

	if (imsgev_io(iev, event, proc_name(from)) == -1) {
		if (from == PROC_PARENT) {
			log_debug("parent is gone");
			event_loopbreak();
		}
		imsgev_clear(iev);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("message from %s", proc_name(from));
		if (n == 0)
			break;
		child_receive(from, &imsg);
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}
