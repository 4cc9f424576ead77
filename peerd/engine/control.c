/*
 * The control sockets, served by the engine: requests from peerctl, one
 * at a time per client, each served as the request table the engine
 * sets says: by a module of the engine, or passed on from here to the
 * process that knows.  A client that sends anything malformed is
 * disconnected; it cannot hurt the suite.  Each socket has its own pool
 * of clients, so the world-writable read-only socket can never take the
 * slots of root's; there a user has at most a few clients, and one idle
 * between requests is closed.  The modules answer through
 * control_reply, control_result and control_end; control.c calls no
 * other file of the engine, only common/.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>

#include "imsgev.h"
#include "log.h"
#include "child.h"
#include "engine.h"

#define CTL_MAXQUEUE	(2 * 1024 * 1024)
#define CTL_RESUME	(CTL_MAXQUEUE / 8)	/* read on below this */
#define CTL_MAXPERUID	4	/* read-only clients of one user */
#define CTL_IDLE	10	/* seconds a read-only client may wait idle */

struct ctl_listener;

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct ctl_listener	*listener;
	uint32_t		 id;
	uid_t			 uid;
	int			 restricted;
	int			 pending;
	int			 closing;
	int			 busy;		/* a request is being answered */
	struct event		 ev_next;	/* the next request, later */
	struct event		 ev_idle;	/* read-only: closed when idle */
	struct imsgev		 iev;
};

/* Each socket has its own pool of clients: root's is never taken. */
struct ctl_listener {
	struct event	 ev;
	int		 fd;
	int		 restricted;
	int		 nclients;
	uint64_t	 refused;
	struct log_limit ll;		/* of its "refusing" lines */
};

static TAILQ_HEAD(, ctl_client) clients = TAILQ_HEAD_INITIALIZER(clients);
static struct ctl_listener	 listeners[2];
static int			 nlisteners;
static uint32_t			 next_id = 1;
static struct ctl_client		*dispatching;
static const struct ctl_request	*requests;	/* the engine's table */
static struct log_limit		 ll_slow = LOG_LIMIT("control clients "
				    "not reading");
static struct log_limit		 ll_bad = LOG_LIMIT("bad control requests");

static void	 control_accept(int, short, void *);
static void	 control_dispatch(int, short, void *);
static void	 control_process(struct ctl_client *);
static void	 control_next(int, short, void *);
static void	 control_idle(int, short, void *);

/* Who serves which request: the engine's table, ended by a NULL serve. */
void
control_set_requests(const struct ctl_request *table)
{
	requests = table;
}

void
control_init(int fd, int restricted)
{
	struct ctl_listener	*l;

	if (nlisteners == 2)
		fatalx("too many control sockets");
	l = &listeners[nlisteners++];
	l->fd = fd;
	l->restricted = restricted;
	l->ll.kind = restricted ? "refusals on the read-only control socket" :
	    "refusals on the control socket";
	event_set(&l->ev, fd, EV_READ | EV_PERSIST, control_accept, l);
	event_add(&l->ev, NULL);
}

static struct ctl_client *
control_find(uint32_t id)
{
	struct ctl_client	*c;

	TAILQ_FOREACH(c, &clients, entry)
		if (c->id == id)
			return c;
	return NULL;
}

static void
control_close(struct ctl_client *c)
{
	TAILQ_REMOVE(&clients, c, entry);
	evtimer_del(&c->ev_next);
	evtimer_del(&c->ev_idle);
	imsgev_clear(&c->iev);
	c->listener->nclients--;
	free(c);
}

/* A read-only client may wait this long between its requests. */
static void
control_idle_arm(struct ctl_client *c)
{
	struct timeval	 tv = { CTL_IDLE, 0 };

	if (c->restricted)
		evtimer_add(&c->ev_idle, &tv);
}

static void
control_idle(int fd, short event, void *arg)
{
	struct ctl_client	*c = arg;

	if (c->busy) {
		control_idle_arm(c);
		return;
	}
	log_debug("control: read-only client %u idle for %d s, closed",
	    c->id, CTL_IDLE);
	control_close(c);
}

/* Clients of one user on the read-only socket. */
static int
control_uid_count(const struct ctl_listener *l, uid_t uid)
{
	struct ctl_client	*c;
	int			 n = 0;

	TAILQ_FOREACH(c, &clients, entry)
		n += c->listener == l && c->uid == uid;
	return n;
}

/* Why a new client of l with uid cannot have a slot, or NULL. */
static const char *
control_full(const struct ctl_listener *l, uid_t uid)
{
	if (l->nclients >= CTL_MAXCONNS)
		return "its socket is full";
	if (l->restricted && uid != 0 &&
	    control_uid_count(l, uid) >= CTL_MAXPERUID)
		return "its user has the most it may";
	return NULL;
}

static void
control_refused(struct ctl_listener *l, uid_t uid, const char *why)
{
	l->refused++;
	log_limited(&l->ll, LOG_WARNING, "control: refusing a client of uid "
	    "%u on the %s socket: %s (%llu refused in all)", (unsigned)uid,
	    l->restricted ? "read-only" : "control", why,
	    (unsigned long long)l->refused);
}

static uid_t
control_peer_uid(int s)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return (uid_t)-1;
	return cred.uid;
}

static void
control_accept(int fd, short event, void *arg)
{
	struct ctl_listener	*l = arg;
	struct ctl_client	*c;
	const char		*why;
	uid_t			 uid;
	int			 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	uid = control_peer_uid(s);
	if ((why = control_full(l, uid)) != NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		control_refused(l, uid, why ? why : "out of memory");
		close(s);
		return;
	}
	c->id = next_id++;
	if (next_id == 0)
		next_id = 1;
	c->listener = l;
	c->uid = uid;
	c->restricted = l->restricted;
	imsgev_init(&c->iev, s, control_dispatch, c);
	evtimer_set(&c->ev_next, control_next, c);
	evtimer_set(&c->ev_idle, control_idle, c);
	imsgbuf_set_maxqueue(&c->iev.ibuf, CTL_MAXQUEUE);
	TAILQ_INSERT_TAIL(&clients, c, entry);
	l->nclients++;
	control_idle_arm(c);
}

void
control_reply(uint32_t id, uint32_t type, const void *data, size_t len)
{
	struct ctl_client	*c;

	if ((c = control_find(id)) == NULL || c->closing)
		return;
	if (imsgev_compose(&c->iev, type, 0, 0, -1, data, len) == -1) {
		log_limited(&ll_slow, LOG_WARNING,
		    "control: client %u is not reading, dropping it", id);
		if (c == dispatching)
			c->closing = 1;
		else
			control_close(c);
	}
}

/* The answer is complete: the client may send its next request. */
void
control_end(uint32_t id)
{
	struct timeval		 tv = { 0, 0 };
	struct ctl_client	*c;

	control_reply(id, IMSG_CTL_END, NULL, 0);
	if ((c = control_find(id)) == NULL || !c->busy)
		return;
	c->busy = 0;
	c->iev.paused = 0;
	imsgev_add(&c->iev);
	control_idle_arm(c);
	/* not from here: the caller may be in the middle of a close */
	if (c != dispatching)
		evtimer_add(&c->ev_next, &tv);
}

static void
control_next(int fd, short event, void *arg)
{
	control_process(arg);
}

void
control_result(uint32_t id, int ok, const char *msg)
{
	struct ctl_result	 res;

	memset(&res, 0, sizeof(res));
	res.ok = ok;
	strlcpy(res.msg, msg, sizeof(res.msg));
	control_reply(id, IMSG_CTL_RESULT, &res, sizeof(res));
	control_end(id);
}

void
control_set_pending(uint32_t id, int n)
{
	struct ctl_client	*c;

	if ((c = control_find(id)) == NULL)
		return;
	c->pending = n;
	if (n == 0)
		control_end(id);
}

void
control_pending_done(uint32_t id)
{
	struct ctl_client	*c;

	if ((c = control_find(id)) == NULL || c->pending == 0)
		return;
	if (--c->pending == 0)
		control_end(id);
}

/* Asked of stored, which answers and ends. */
int
control_to_stored(uint32_t id, struct imsg *imsg)
{
	int	 fd = imsg_get_fd(imsg);

	if (child_compose(PROC_STORED, imsg_get_type(imsg), id, fd, NULL,
	    0) == -1) {
		if (fd != -1)
			close(fd);
		control_result(id, 0, "stored is gone");
	}
	return 0;
}

/* Asked of relayd, which answers and ends. */
int
control_to_relayd(uint32_t id, struct imsg *imsg)
{
	if (child_compose(PROC_RELAYD, imsg_get_type(imsg), id, -1, NULL,
	    0) == -1)
		control_result(id, 0, "relayd is gone");
	return 0;
}

/* Asked of the parent, which answers and ends. */
int
control_to_parent(uint32_t id, struct imsg *imsg)
{
	if (child_compose(PROC_PARENT, imsg_get_type(imsg), id, -1, NULL,
	    0) == -1)
		control_result(id, 0, "parent is gone");
	return 0;
}

/* Here, and in the parent, which passes it on to the other children. */
int
control_log_verbose(uint32_t id, struct imsg *imsg)
{
	int32_t	 v;

	imsg_get_data(imsg, &v, sizeof(v));
	if (v < 0 || v > 3)
		return -1;
	log_setverbose(v);
	child_compose(PROC_PARENT, IMSG_CTL_LOG_VERBOSE, 0, -1, &v, sizeof(v));
	control_result(id, 1, v ? "logging verbose" : "logging brief");
	return 0;
}

static int
control_request(struct ctl_client *c, struct imsg *imsg)
{
	const struct ctl_request	*r;

	for (r = requests; r != NULL && r->serve != NULL; r++)
		if (r->type == imsg_get_type(imsg))
			return r->serve(c->id, imsg);
	return -1;
}

/*
 * A request as the message table allows it from a control client: 0 when
 * it was served or refused with an answer, -1 to drop the client.
 */
static int
control_admit(struct ctl_client *c, struct imsg *imsg)
{
	char	 why[160];

	if (msg_accept(imsg, PROC_CTL, PROC_ENGINE, why, sizeof(why)) == -1) {
		log_limited(&ll_bad, LOG_WARNING,
		    "control: %s, dropping the client", why);
		return -1;
	}
	if (c->restricted && !msg_readonly(imsg_get_type(imsg))) {
		control_result(c->id, 0, "not permitted on the read-only socket");
		return 0;
	}
	if (control_request(c, imsg) == -1) {
		log_limited(&ll_bad, LOG_WARNING,
		    "control: bad %s request, dropping the client",
		    msg_name(imsg_get_type(imsg)));
		return -1;
	}
	return 0;
}

/* Requests already read, one at a time: the next waits for the answer. */
static void
control_process(struct ctl_client *c)
{
	struct imsg	 imsg;
	ssize_t		 n = 0;
	int		 r;

	while (!c->busy && c->iev.ibuf.queued < CTL_RESUME &&
	    (n = imsg_get(&c->iev.ibuf, &imsg)) > 0) {
		dispatching = c;
		c->busy = 1;
		r = control_admit(c, &imsg);
		dispatching = NULL;
		imsg_free(&imsg);
		if (c->closing) {
			control_close(c);
			return;
		}
		if (r) {
			control_close(c);
			return;
		}
	}
	if (!c->busy && c->iev.ibuf.queued < CTL_RESUME && n == -1) {
		log_limited(&ll_bad, LOG_WARNING,
		    "control: malformed frame, dropping the client");
		control_close(c);
		return;
	}
	/* a client that does not read its answers gets no new ones */
	c->iev.paused = c->busy || c->iev.ibuf.queued >= CTL_RESUME;
	imsgev_add(&c->iev);
}

static void
control_dispatch(int fd, short event, void *arg)
{
	struct ctl_client	*c = arg;

	if (imsgev_io(&c->iev, event, "control client") == -1) {
		control_close(c);
		return;
	}
	control_process(c);
}

void
control_shutdown(void)
{
	struct ctl_client	*c;
	int		 i;

	while ((c = TAILQ_FIRST(&clients)) != NULL)
		control_close(c);
	for (i = 0; i < nlisteners; i++) {
		event_del(&listeners[i].ev);
		close(listeners[i].fd);
	}
	nlisteners = 0;
}
