/*
 * Control requests that need the network: connect, ping, disconnect and
 * the connection list, served from the engine's request table.  A
 * request waits for its connection to come up (the engine tells of it);
 * if the control client has gone by then, the answer is dropped.  Calls
 * conn.c, control.c, yamux.c, known.c, dial.c and proto_ping.c.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "msg.h"

enum op_kind {
	OP_CONNECT,
	OP_PING
};

struct op {
	TAILQ_ENTRY(op)	 entry;
	enum op_kind	 kind;
	uint32_t	 ctl;
	uint32_t	 conn;		/* 0: the store is asked first */
	int		 count;
};

/* At most this many in one listing: it must fit the client's queue. */
#define CONN_LIST_MAX	4000

static TAILQ_HEAD(, op)	 ops = TAILQ_HEAD_INITIALIZER(ops);

static void
op_run(enum op_kind kind, uint32_t ctl, struct conn *c, int count)
{
	char	 peer[PEERID_STRMAX], msg[CTL_MSGLEN];

	if (kind == OP_PING) {
		ping_start(c, ctl, count);
		return;
	}
	peerid_format(&c->peer, peer, sizeof(peer));
	snprintf(msg, sizeof(msg), "connected to %s", peer);
	control_result(ctl, 1, msg);
}

static struct op *
op_new(enum op_kind kind, uint32_t ctl, uint32_t conn, int count)
{
	struct op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL) {
		control_result(ctl, 0, "out of memory");
		return NULL;
	}
	op->kind = kind;
	op->ctl = ctl;
	op->conn = conn;
	op->count = count;
	TAILQ_INSERT_TAIL(&ops, op, entry);
	return op;
}

/*
 * A peer ID that is not connected: the store may know where it is, if
 * stored answers in time (the request table's wait).
 */
static void
op_lookup(enum op_kind kind, uint32_t ctl, const struct peerid *id,
    int count)
{
	struct op	*op;

	if ((op = op_new(kind, ctl, 0, count)) == NULL)
		return;
	if (control_ask(PROC_STORED, IMSG_STORE_LOOKUP, ctl, -1, id,
	    sizeof(*id)) == -1) {
		TAILQ_REMOVE(&ops, op, entry);
		free(op);
		control_result(ctl, 0, "not connected to that peer, and "
		    "stored is not answering: give a multiaddr");
	}
}

/* stored's answer: the known addresses of the peer, best first. */
void
ops_lookup_result(uint32_t ctl, const struct store_cand *sc)
{
	struct multiaddr	 ma;
	struct op		*op;
	struct conn		*c = NULL;
	char			 why[256];
	size_t			 i;

	TAILQ_FOREACH(op, &ops, entry)
		if (op->ctl == ctl && op->conn == 0)
			break;
	if (op == NULL)
		return;
	/* the request is over: stored answered too late */
	if (!control_answered(ctl, PROC_STORED)) {
		TAILQ_REMOVE(&ops, op, entry);
		free(op);
		return;
	}
	for (i = 0; sc != NULL && c == NULL && i < sc->naddrs &&
	    i < PREC_MAXADDRS; i++)
		if (sc->addrs[i].len <= PREC_ADDRMAX &&
		    maddr_decode(sc->addrs[i].b, sc->addrs[i].len, &ma) == 0 &&
		    maddr_append_peerid(&ma, &sc->peer) == 0)
			c = dial_maddr(&ma, why, sizeof(why));
	TAILQ_REMOVE(&ops, op, entry);
	if (c == NULL) {
		control_result(ctl, 0, sc == NULL ? "not connected to that "
		    "peer, and the store knows no address for it: give a "
		    "multiaddr" : "none of the known addresses of that peer "
		    "could be dialled");
		free(op);
		return;
	}
	if (c->state == CS_OPEN && c->heard) {
		op_run(op->kind, ctl, c, op->count);
		free(op);
		return;
	}
	op->conn = c->id;
	TAILQ_INSERT_TAIL(&ops, op, entry);
	conn_flush(c);
}

/* A multiaddr is dialled (or its live connection reused); a peer ID
 * is looked up in the store when it is not connected. */
static void
op_start(enum op_kind kind, uint32_t ctl, const char *target, int count)
{
	struct multiaddr	 ma;
	struct peerid		 id;
	struct conn		*c;
	char			 err[CTL_MSGLEN], why[256];

	if (target[0] == '/') {
		if (maddr_parse(target, &ma, why, sizeof(why)) == -1) {
			snprintf(err, sizeof(err), "%s", why);
			control_result(ctl, 0, err);
			return;
		}
		if ((c = dial_maddr(&ma, why, sizeof(why))) == NULL) {
			snprintf(err, sizeof(err), "%s: %s", target, why);
			control_result(ctl, 0, err);
			return;
		}
		if (kind == OP_CONNECT)
			known_discovered(&ma, SRC_MANUAL);
	} else if (peerid_parse(target, &id) == -1) {
		control_result(ctl, 0, "not a multiaddr or peer ID");
		return;
	} else if ((c = conn_find_peer(&id)) == NULL) {
		op_lookup(kind, ctl, &id, count);
		return;
	}
	if (c->state == CS_OPEN && c->heard) {
		op_run(kind, ctl, c, count);
		return;
	}
	if (op_new(kind, ctl, c->id, count) != NULL)
		conn_flush(c);
}

/* Requests wait until the peer has been heard from after the upgrade. */
void
ops_conn_ready(struct conn *c)
{
	if (c->heard)
		ops_conn_heard(c);
}

void
ops_conn_heard(struct conn *c)
{
	struct op	*op, *t;

	TAILQ_FOREACH_SAFE(op, &ops, entry, t) {
		if (op->conn != c->id)
			continue;
		TAILQ_REMOVE(&ops, op, entry);
		op_run(op->kind, op->ctl, c, op->count);
		free(op);
	}
}

void
ops_conn_failed(struct conn *c, const char *reason)
{
	struct op	*op, *t;
	char		 msg[CTL_MSGLEN];

	TAILQ_FOREACH_SAFE(op, &ops, entry, t) {
		if (op->conn != c->id)
			continue;
		TAILQ_REMOVE(&ops, op, entry);
		snprintf(msg, sizeof(msg), "connection failed: %s", reason);
		control_result(op->ctl, 0, msg);
		free(op);
	}
}

void
ops_conn_closed(struct conn *c)
{
	ops_conn_failed(c, "closed");
}

struct disconnect {
	struct peerid	 id;
	int		 n;
};

static void
disconnect_one(struct conn *c, void *arg)
{
	struct disconnect	*d = arg;

	if (!c->have_peer || !peerid_equal(&c->peer, &d->id))
		return;
	if (c->state == CS_OPEN)
		yamux_goaway(c, 0);
	conn_abort(c, "disconnected by the operator");
	d->n++;
}

static void
ops_disconnect(uint32_t ctl, const char *target)
{
	struct disconnect	 d;
	/* the whole target: control_result cuts the answer to fit */
	char			 msg[CTL_TARGETLEN + 64];
	int			 n;

	memset(&d, 0, sizeof(d));
	if (peerid_parse(target, &d.id) == -1) {
		control_result(ctl, 0, "not a peer ID");
		return;
	}
	conn_walk(disconnect_one, &d);
	if ((n = d.n) == 0) {
		snprintf(msg, sizeof(msg), "not connected to %s", target);
		control_result(ctl, 0, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "disconnected %s (%d connection%s)",
	    target, n, n == 1 ? "" : "s");
	control_result(ctl, 1, msg);
}

/* connect, ping and disconnect: -1 for a request out of bounds */
int
ops_request(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_target	 t;

	imsg_get_data(imsg, &t, sizeof(t));
	if (ident.lockdown && imsg_get_type(imsg) != IMSG_CTL_DISCONNECT) {
		control_result(ctl, 0, "peerd is in lockdown: no connection "
		    "until it is restarted");
		return 0;
	}
	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_CONNECT:
		op_start(OP_CONNECT, ctl, t.target, 0);
		break;
	case IMSG_CTL_PING:
		if (t.count < 1 || t.count > CTL_MAXPINGS)
			return -1;
		op_start(OP_PING, ctl, t.target, t.count);
		break;
	default:
		ops_disconnect(ctl, t.target);
		break;
	}
	return 0;
}

int
ops_show_connections(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_conn	 cc;
	struct conn	*c;
	struct ctl_result res;
	time_t		 now = mono_now();
	size_t		 n = 0;

	TAILQ_FOREACH(c, &conns, entry) {
		if (c->state != CS_OPEN || n++ >= CONN_LIST_MAX)
			continue;
		memset(&cc, 0, sizeof(cc));
		cc.id = c->id;
		cc.inbound = c->dir == CONN_INBOUND;
		cc.age = now - c->started;
		cc.streams = c->mux.nstreams;
		peerid_format(&c->peer, cc.peer, sizeof(cc.peer));
		if (c->relayed) {
			strlcpy(cc.addr, "relayed via ", sizeof(cc.addr));
			peerid_format(&c->via, cc.addr + strlen(cc.addr),
			    sizeof(cc.addr) - strlen(cc.addr));
		} else
			sockaddr_fmt(&c->ss, cc.addr, sizeof(cc.addr));
		if (c->ws != NULL)
			strlcat(cc.addr, "/ws", sizeof(cc.addr));
		if (c->info != NULL && c->info->agent != NULL)
			strlcpy(cc.agent, c->info->agent, sizeof(cc.agent));
		control_reply(ctl, IMSG_CTL_CONN, &cc, sizeof(cc));
	}
	if (msg_list_more(&res, n, CONN_LIST_MAX, "connections"))
		control_reply(ctl, IMSG_CTL_RESULT, &res, sizeof(res));
	control_end(ctl);
	return 0;
}
