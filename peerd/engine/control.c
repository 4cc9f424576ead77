/*
 * The control sockets, served by the engine: requests from peerctl, one
 * at a time per client, each served as the request table the engine
 * sets says: by a module of the engine, or passed on from here to the
 * process that knows.  A client that sends anything malformed is
 * disconnected; it cannot hurt the suite.  Each socket has its own pool
 * of clients, so the world-writable read-only socket can never take the
 * slots of root's; there a user has at most a few clients, and one idle
 * between requests is closed (the sizes are the configuration's).  A
 * request that waits on another process waits at most as long as its
 * row of the table says: then the row's late hook, or an error naming
 * the process, answers it.  Each request has an ID of its own, so that
 * an answer that comes after that reaches nobody.  The modules answer
 * through control_reply, control_result and control_end; control.c
 * calls no other file of the engine, only common/.
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

struct ctl_listener;

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct ctl_listener	*listener;
	uint32_t		 id;		/* of the request in hand */
	uid_t			 uid;
	int			 restricted;
	int			 closing;
	int			 busy;		/* a request is being answered */
	const struct ctl_request *req;		/* its row of the table */
	void			(*gone)(uint32_t);	/* a stream's end */
	uint32_t		 waiting;	/* P_* that owe it an answer */
	struct event		 ev_next;	/* the next request, later */
	struct event		 ev_idle;	/* read-only: closed when idle */
	struct event		 ev_late;	/* the waiting is over */
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

/* The configuration's sizes; until it comes, its defaults. */
static struct {
	int	 max_clients;		/* controlSocketMaxClients */
	int	 ro_max_clients;	/* controlSocketReadonlyMaxClients */
	int	 ro_max_per_uid;	/* controlSocketReadonlyMaxPerUser */
	int64_t	 ro_idle;		/* controlSocketReadonlyIdleTimeout, ms */
} lim = { 32, 32, 4, 10000 };

static TAILQ_HEAD(, ctl_client) clients = TAILQ_HEAD_INITIALIZER(clients);
static struct ctl_listener	 listeners[2];
static int			 nlisteners;
static uint32_t			 next_id = 1;
static struct ctl_client		*dispatching;
static const struct ctl_request	*requests;	/* the engine's table */
static struct log_limit		 ll_slow = LOG_LIMIT("control clients "
				    "not reading");
static struct log_limit		 ll_bad = LOG_LIMIT("bad control requests");
static struct log_limit		 ll_idle = LOG_LIMIT("idle control clients "
				    "closed");
static struct log_limit		 ll_late = LOG_LIMIT("control requests not "
				    "answered in time");

static void	 control_accept(int, short, void *);
static void	 control_dispatch(int, short, void *);
static void	 control_process(struct ctl_client *);
static void	 control_next(int, short, void *);
static void	 control_idle(int, short, void *);
static void	 control_late(int, short, void *);

/* Who serves which request: the engine's table, ended by a NULL serve. */
void
control_set_requests(const struct ctl_request *table)
{
	requests = table;
}

/* The sizes of the pools and the idle time, from the configuration. */
void
control_configure(const struct reconf_engine *e)
{
	if (e->ctl_max_clients < 1 || e->ctl_ro_max_clients < 1 ||
	    e->ctl_ro_max_per_uid < 1 || e->ctl_ro_idle < 1000)
		fatalx("configuration from parent: control socket sizes");
	lim.max_clients = e->ctl_max_clients;
	lim.ro_max_clients = e->ctl_ro_max_clients;
	lim.ro_max_per_uid = e->ctl_ro_max_per_uid;
	lim.ro_idle = e->ctl_ro_idle;
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

/* The client answering request id: none once it is answered. */
static struct ctl_client *
control_find(uint32_t id)
{
	struct ctl_client	*c;

	TAILQ_FOREACH(c, &clients, entry)
		if (c->busy && c->id == id)
			return c;
	return NULL;
}

static void
control_close(struct ctl_client *c)
{
	if (c->busy && c->gone != NULL)
		c->gone(c->id);
	TAILQ_REMOVE(&clients, c, entry);
	evtimer_del(&c->ev_next);
	evtimer_del(&c->ev_idle);
	evtimer_del(&c->ev_late);
	imsgev_clear(&c->iev);
	c->listener->nclients--;
	free(c);
}

/* A read-only client may wait this long between its requests. */
static void
control_idle_arm(struct ctl_client *c)
{
	struct timeval	 tv;

	tv.tv_sec = lim.ro_idle / 1000;
	tv.tv_usec = lim.ro_idle % 1000 * 1000;
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
	counters.ctl_idle++;
	log_limited(&ll_idle, LOG_DEBUG, "control: a read-only client of uid "
	    "%u was idle for %lld ms, closed", (unsigned)c->uid,
	    (long long)lim.ro_idle);
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
	if (l->nclients >= (l->restricted ? lim.ro_max_clients :
	    lim.max_clients))
		return "its socket is full";
	if (l->restricted && uid != 0 &&
	    control_uid_count(l, uid) >= lim.ro_max_per_uid)
		return "its user has the most it may";
	return NULL;
}

static void
control_refused(struct ctl_listener *l, uid_t uid, const char *why)
{
	l->refused++;
	counters.ctl_refused++;
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
			log_limited(&ll_bad, LOG_WARNING, "control accept: %s",
			    strerror(errno));
		return;
	}
	uid = control_peer_uid(s);
	if ((why = control_full(l, uid)) != NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		control_refused(l, uid, why ? why : "out of memory");
		close(s);
		return;
	}
	c->listener = l;
	c->uid = uid;
	c->restricted = l->restricted;
	imsgev_init(&c->iev, s, control_dispatch, c);
	evtimer_set(&c->ev_next, control_next, c);
	evtimer_set(&c->ev_idle, control_idle, c);
	evtimer_set(&c->ev_late, control_late, c);
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
	if ((c = control_find(id)) == NULL)
		return;
	evtimer_del(&c->ev_late);
	c->waiting = 0;
	c->req = NULL;
	c->gone = NULL;
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

/*
 * Ask proc for request id, which then owes it an answer within the time
 * its row of the table gives.  -1 when proc is gone, or has not read
 * what it was sent (it is not asked beyond its best-effort room).
 */
int
control_ask(enum proc_id proc, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	struct ctl_client	*c;
	struct timeval		 tv = { 0, 0 };

	if ((c = control_find(id)) == NULL || c->req == NULL ||
	    !child_has_room(proc) ||
	    child_compose(proc, type, id, fd, data, len) == -1)
		return -1;
	c->waiting |= 1U << proc;
	if (!evtimer_pending(&c->ev_late, NULL)) {
		tv.tv_sec = c->req->wait;
		evtimer_add(&c->ev_late, &tv);
	}
	return 0;
}

/*
 * proc has answered its part of request id: 1 when no process owes it
 * anything more, 0 when some still do or the request is over.
 */
int
control_answered(uint32_t id, enum proc_id proc)
{
	struct ctl_client	*c;

	if ((c = control_find(id)) == NULL || !(c->waiting & (1U << proc)))
		return 0;
	c->waiting &= ~(1U << proc);
	if (c->waiting != 0)
		return 0;
	evtimer_del(&c->ev_late);
	return 1;
}

/*
 * Request id answers until the client goes (peerctl subscribe): its
 * socket is read meanwhile, so that its close is seen and gone(id)
 * called; a client that sends anything then is dropped.
 */
void
control_stream(uint32_t id, void (*gone)(uint32_t))
{
	struct ctl_client	*c;

	if ((c = control_find(id)) == NULL)
		return;
	c->gone = gone;
	c->iev.paused = 0;
	imsgev_add(&c->iev);
}

/* Bytes queued to the client of request id; -1 once it is gone. */
int64_t
control_queued(uint32_t id)
{
	struct ctl_client	*c;

	if ((c = control_find(id)) == NULL || c->closing)
		return -1;
	return c->iev.ibuf.queued;
}

/* The names of the processes of procs, for people. */
static void
control_procs(uint32_t procs, char *buf, size_t len)
{
	int	 i;

	buf[0] = '\0';
	for (i = 0; i < PROC_MAX; i++)
		if (procs & (1U << i)) {
			if (buf[0] != '\0')
				strlcat(buf, ", ", len);
			strlcat(buf, proc_name(i), len);
		}
}

/* The wait is over: the row's late hook answers, or an error. */
static void
control_late(int fd, short event, void *arg)
{
	struct ctl_client	*c = arg;
	const struct ctl_request *r = c->req;
	uint32_t		 id = c->id, procs = c->waiting;
	char			 who[64], msg[CTL_MSGLEN];

	c->waiting = 0;
	counters.ctl_late++;
	control_procs(procs, who, sizeof(who));
	log_limited(&ll_late, LOG_WARNING, "control: %s did not answer %s "
	    "within %d s", who, r != NULL ? msg_name(r->type) : "a request",
	    r != NULL ? r->wait : 0);
	if (r != NULL && r->late != NULL)
		r->late(id, procs);
	else {
		snprintf(msg, sizeof(msg), "%s did not answer within %d s",
		    who, r != NULL ? r->wait : 0);
		control_result(id, 0, msg);
	}
	control_end(id);
}

/* Passed on to proc, which answers and ends. */
static int
control_to(enum proc_id proc, uint32_t id, struct imsg *imsg)
{
	char	 msg[CTL_MSGLEN];
	int	 fd = imsg_get_fd(imsg);

	if (control_ask(proc, imsg_get_type(imsg), id, fd, NULL, 0) == -1) {
		if (fd != -1)
			close(fd);
		snprintf(msg, sizeof(msg), "%s is %s", proc_name(proc),
		    child_connected(proc) ? "not answering" : "gone");
		control_result(id, 0, msg);
	}
	return 0;
}

/* Asked of stored, which answers and ends. */
int
control_to_stored(uint32_t id, struct imsg *imsg)
{
	return control_to(PROC_STORED, id, imsg);
}

/* Asked of relayd, which answers and ends. */
int
control_to_relayd(uint32_t id, struct imsg *imsg)
{
	return control_to(PROC_RELAYD, id, imsg);
}

/* Asked of the parent, which answers and ends. */
int
control_to_parent(uint32_t id, struct imsg *imsg)
{
	return control_to(PROC_PARENT, id, imsg);
}

/* Asked of keyd, which answers and ends. */
int
control_to_keyd(uint32_t id, struct imsg *imsg)
{
	return control_to(PROC_KEYD, id, imsg);
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
		if (r->type == imsg_get_type(imsg)) {
			c->req = r;
			return r->serve(c->id, imsg);
		}
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

	if (c->busy && c->gone != NULL && c->iev.ibuf.rlen > 0) {
		log_limited(&ll_bad, LOG_WARNING, "control: a client sent "
		    "a request while it streams, dropping it");
		control_close(c);
		return;
	}
	while (!c->busy && c->iev.ibuf.queued < CTL_RESUME &&
	    (n = imsg_get(&c->iev.ibuf, &imsg)) > 0) {
		dispatching = c;
		c->busy = 1;
		c->id = next_id++;
		if (next_id == 0)
			next_id = 1;
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
	c->iev.paused = (c->busy && c->gone == NULL) ||
	    c->iev.ibuf.queued >= CTL_RESUME;
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
