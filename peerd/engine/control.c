/*
 * The control sockets, served by the engine: requests from peerctl,
 * answered here or passed on to the process that knows.  A client that
 * sends anything malformed is disconnected; it cannot hurt the suite.
 * Calls the modules that serve requests (bans.c, ops.c, relay.c,
 * engine.c), which answer through control_reply and control_end, except
 * bans.c, which returns its answer here.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "imsgev.h"
#include "log.h"
#include "pb.h"
#include "peerd.h"
#include "proc.h"
#include "engine.h"

#define CTL_MAXQUEUE	(2 * 1024 * 1024)
#define CTL_RESUME	(CTL_MAXQUEUE / 8)	/* read on below this */

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	uint32_t		 id;
	int			 restricted;
	int			 pending;
	int			 closing;
	int			 busy;		/* a request is being answered */
	struct event		 ev_next;	/* the next request, later */
	struct imsgev		 iev;
};

struct ctl_listener {
	struct event	 ev;
	int		 fd;
	int		 restricted;
};

static TAILQ_HEAD(, ctl_client) clients = TAILQ_HEAD_INITIALIZER(clients);
static struct ctl_listener	 listeners[2];
static int			 nlisteners, nclients;
static uint32_t			 next_id = 1;
static struct ctl_client		*dispatching;

static void	 control_accept(int, short, void *);
static void	 control_dispatch(int, short, void *);
static void	 control_process(struct ctl_client *);
static void	 control_next(int, short, void *);

void
control_init(int fd, int restricted)
{
	struct ctl_listener	*l;

	if (nlisteners == 2)
		fatalx("too many control sockets");
	l = &listeners[nlisteners++];
	l->fd = fd;
	l->restricted = restricted;
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
	imsgev_clear(&c->iev);
	free(c);
	nclients--;
}

static void
control_accept(int fd, short event, void *arg)
{
	struct ctl_listener	*l = arg;
	struct ctl_client		*c;
	int			 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	if (nclients >= CTL_MAXCONNS || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("control: too many clients, refusing one");
		close(s);
		return;
	}
	c->id = next_id++;
	if (next_id == 0)
		next_id = 1;
	c->restricted = l->restricted;
	imsgev_init(&c->iev, s, control_dispatch, c);
	evtimer_set(&c->ev_next, control_next, c);
	imsgbuf_set_maxqueue(&c->iev.ibuf, CTL_MAXQUEUE);
	TAILQ_INSERT_TAIL(&clients, c, entry);
	nclients++;
}

void
control_reply(uint32_t id, uint32_t type, const void *data, size_t len)
{
	struct ctl_client	*c;

	if ((c = control_find(id)) == NULL || c->closing)
		return;
	if (imsgev_compose(&c->iev, type, 0, 0, -1, data, len) == -1) {
		log_warnx("control: client %u is not reading, dropping it", id);
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

static int
control_target(struct ctl_client *c, struct imsg *imsg)
{
	struct ctl_target	 t;

	imsg_get_data(imsg, &t, sizeof(t));
	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_CONNECT:
		ops_connect(c->id, t.target);
		break;
	case IMSG_CTL_PING:
		if (t.count < 1 || t.count > CTL_MAXPINGS)
			return -1;
		ops_ping(c->id, t.target, t.count);
		break;
	default:
		ops_disconnect(c->id, t.target);
		break;
	}
	return 0;
}

/* Asked of stored, which answers and ends. */
static void
control_to_stored(struct ctl_client *c, uint32_t type, int fd)
{
	if (child_compose(PROC_STORED, type, c->id, fd, NULL, 0) == -1) {
		if (fd != -1)
			close(fd);
		control_result(c->id, 0, "stored is gone");
	}
}

/* A refusal is answered here; stored answers the rest, via the engine. */
static int
control_block(struct ctl_client *c, struct imsg *imsg)
{
	struct ctl_block	 b;
	struct ctl_target	 t;
	char			 err[CTL_MSGLEN];
	int			 r;

	if (imsg_get_type(imsg) == IMSG_CTL_UNBLOCK) {
		imsg_get_data(imsg, &t, sizeof(t));
		r = bans_unblock(c->id, t.target, err, sizeof(err));
	} else {
		imsg_get_data(imsg, &b, sizeof(b));
		if (b.duration < 0 || b.duration > CTL_MAXBAN ||
		    !pb_utf8_valid((uint8_t *)b.reason, strlen(b.reason)))
			return -1;
		r = bans_block(c->id, &b, err, sizeof(err));
	}
	if (r == -1)
		control_result(c->id, 0, err);
	return 0;
}

static void
control_ban_row(const struct ctl_ban *row, void *arg)
{
	control_reply(*(uint32_t *)arg, IMSG_CTL_BAN, row, sizeof(*row));
}

static int
control_request(struct ctl_client *c, struct imsg *imsg)
{
	int32_t	 v;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SHOW_STATUS:
		engine_show_status(c->id);
		return 0;
	case IMSG_CTL_SHOW_CONNS:
		ops_show_connections(c->id);
		return 0;
	case IMSG_CTL_SHOW_CIRCUITS:
		relay_show_circuits(c->id);
		return 0;
	case IMSG_CTL_SHOW_RSVPS:
		if (child_compose(PROC_RELAYD, IMSG_CTL_SHOW_RSVPS, c->id, -1,
		    NULL, 0) == -1)
			control_result(c->id, 0, "relayd is gone");
		return 0;
	case IMSG_CTL_SHOW_BANS:
		bans_walk(control_ban_row, &c->id);
		control_end(c->id);
		return 0;
	case IMSG_CTL_SHOW_PEERS:
	case IMSG_CTL_SHOW_ACCT:
	case IMSG_CTL_SHOW_STORE:
		control_to_stored(c, imsg_get_type(imsg), -1);
		return 0;
	case IMSG_CTL_VERIFY:
	case IMSG_CTL_BACKUP:
		control_to_stored(c, imsg_get_type(imsg), imsg_get_fd(imsg));
		return 0;
	case IMSG_CTL_BLOCK:
	case IMSG_CTL_UNBLOCK:
		return control_block(c, imsg);
	case IMSG_CTL_CONNECT:
	case IMSG_CTL_PING:
	case IMSG_CTL_DISCONNECT:
		return control_target(c, imsg);
	case IMSG_CTL_RELOAD:
		if (child_compose(PROC_PARENT, IMSG_CTL_RELOAD, c->id, -1,
		    NULL, 0) == -1)
			control_result(c->id, 0, "parent is gone");
		return 0;
	case IMSG_CTL_LOG_VERBOSE:
		imsg_get_data(imsg, &v, sizeof(v));
		if (v < 0 || v > 3)
			return -1;
		log_setverbose(v);
		child_compose(PROC_PARENT, IMSG_CTL_LOG_VERBOSE, 0, -1, &v,
		    sizeof(v));
		control_result(c->id, 1, v ? "logging verbose" :
		    "logging brief");
		return 0;
	default:
		return -1;
	}
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
		log_warnx("control: %s, dropping the client", why);
		return -1;
	}
	if (c->restricted && !msg_readonly(imsg_get_type(imsg))) {
		control_result(c->id, 0, "not permitted on the read-only socket");
		return 0;
	}
	if (control_request(c, imsg) == -1) {
		log_warnx("control: bad %s request, dropping the client",
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
		log_warnx("control: malformed frame, dropping the client");
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
