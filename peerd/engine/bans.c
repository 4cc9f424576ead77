/*
 * Bans: peer IDs and networks refused at accept, after the handshake
 * and at dial.  stored keeps them; the engine holds the ones in force.
 * Serves the control requests on bans, answering through control.c; a
 * change the store takes is answered by stored, through the engine.
 * Calls conn.c (to close what a new ban covers), control.c and common/.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "child.h"
#include "engine.h"
#include "log.h"
#include "pb.h"

#define BANS_MAX	16384

struct eban {
	TAILQ_ENTRY(eban)	 entry;
	struct ban		 ban;
};

static TAILQ_HEAD(, eban)	 bans = TAILQ_HEAD_INITIALIZER(bans);
static int			 nbans;
int				 bans_ready;

static int
ban_live(const struct ban *b)
{
	return b->until == 0 || b->until > time(NULL);
}

static struct eban *
bans_find(const struct ban *b)
{
	struct eban	*e;

	TAILQ_FOREACH(e, &bans, entry)
		if (ban_same(&e->ban, b))
			return e;
	return NULL;
}

int
bans_check_ip(const struct sockaddr_storage *ss)
{
	struct eban	*e;
	uint8_t		 ip[16];

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return 0;
	sockaddr_ip16(ss, ip);
	TAILQ_FOREACH(e, &bans, entry)
		if (ban_match_ip(&e->ban, ip) && ban_live(&e->ban))
			return 1;
	return 0;
}

int
bans_check_peer(const struct peerid *id)
{
	struct eban	*e;

	TAILQ_FOREACH(e, &bans, entry)
		if (e->ban.kind == BAN_PEER &&
		    peerid_equal(&e->ban.peer, id) && ban_live(&e->ban))
			return 1;
	return 0;
}

int
bans_count(void)
{
	return nbans;
}

static int
bans_insert(const struct ban *b)
{
	struct eban	*e;

	if ((e = bans_find(b)) != NULL) {
		e->ban = *b;
		return 0;
	}
	if (nbans >= BANS_MAX || (e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->ban = *b;
	TAILQ_INSERT_TAIL(&bans, e, entry);
	nbans++;
	return 0;
}

static void
bans_remove(struct eban *e)
{
	TAILQ_REMOVE(&bans, e, entry);
	free(e);
	nbans--;
}

/* From stored at start. */
void
bans_load(const struct store_ban_op *op)
{
	if (!op->add || bans_insert(&op->ban) == -1)
		log_warnx("bans: more than %d, the rest are not enforced",
		    BANS_MAX);
}

void
bans_loaded(void)
{
	bans_ready = 1;
	log_info("%d bans in force", nbans);
}

static void
bans_enforce_one(struct conn *c, void *arg)
{
	const struct ban	*b = arg;
	uint8_t			 ip[16];

	if (b->kind == BAN_PEER) {
		if (!c->have_peer || !peerid_equal(&c->peer, &b->peer))
			return;
	} else {
		if (c->relayed || c->fd == -1)
			return;
		sockaddr_ip16(&c->ss, ip);
		if (!ban_match_ip(b, ip))
			return;
	}
	conn_close(c, "blocked");
}

/* Live connections the ban covers go at once. */
static void
bans_enforce(const struct ban *b)
{
	conn_walk(bans_enforce_one, (void *)(uintptr_t)b);
}

/* stored answers ctl when the change is written: 0, or -1 and err. */
static int
bans_store(uint32_t ctl, int add, const struct ban *b, char *err,
    size_t errlen)
{
	struct store_ban_op	 op;

	memset(&op, 0, sizeof(op));
	op.add = add;
	op.ban = *b;
	if (control_ask(PROC_STORED, IMSG_STORE_BAN, ctl, -1, &op,
	    sizeof(op)) == -1) {
		strlcpy(err, "stored is not answering: the change holds until "
		    "the suite stops, and is not stored", errlen);
		return -1;
	}
	return 0;
}

/* stored did not answer a block or unblock in time. */
void
bans_late(uint32_t ctl, uint32_t procs)
{
	char	 msg[CTL_MSGLEN];

	snprintf(msg, sizeof(msg), "stored did not answer within %d s: the "
	    "change holds now, and is stored once stored reads it", CTL_WAIT);
	control_result(ctl, 0, msg);
}

/*
 * 0: in force, and stored will answer ctl; -1: err is the answer, and
 * the ban is in force only if it got as far as the store.
 */
static int
bans_block(uint32_t ctl, const struct ctl_block *req, char *err,
    size_t errlen)
{
	struct ban	 b;
	char		 target[BAN_TARGETLEN], until[32], why[BAN_REASONLEN];
	time_t		 t;

	if (ban_parse(req->target, &b, err, errlen) == -1)
		return -1;
	if (b.kind == BAN_PEER && peerid_equal(&b.peer, &ident.peerid)) {
		strlcpy(err, "that is this peer's own ID", errlen);
		return -1;
	}
	b.created = time(NULL);
	b.until = req->duration > 0 ? b.created + req->duration : 0;
	strlcpy(b.reason, req->reason, sizeof(b.reason));
	if (bans_insert(&b) == -1) {
		strlcpy(err, "too many bans: block networks instead of single "
		    "addresses", errlen);
		return -1;
	}
	ban_format(&b, target, sizeof(target));
	if (b.until) {
		t = b.until;
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime(&t));
	} else
		strlcpy(until, "forever", sizeof(until));
	log_info("peer_banned target=%s until=%s reason=\"%s\"", target,
	    until, log_quote(b.reason, why, sizeof(why)));
	bans_enforce(&b);
	return bans_store(ctl, 1, &b, err, errlen);
}

/* As bans_block. */
static int
bans_unblock(uint32_t ctl, const char *target, char *err, size_t errlen)
{
	struct eban	*e;
	struct ban	 b;
	char		 name[BAN_TARGETLEN];

	if (ban_parse(target, &b, err, errlen) == -1)
		return -1;
	if ((e = bans_find(&b)) != NULL) {
		bans_remove(e);
		ban_format(&b, name, sizeof(name));
		log_info("peer_unbanned target=%s", name);
	}
	return bans_store(ctl, 0, &b, err, errlen);
}

/*
 * block and unblock: a refusal is answered here, the rest by stored
 * through the engine; -1 for a request out of bounds.
 */
int
bans_request(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_block	 b;
	struct ctl_target	 t;
	char			 err[CTL_MSGLEN];
	int			 r;

	if (imsg_get_type(imsg) == IMSG_CTL_UNBLOCK) {
		imsg_get_data(imsg, &t, sizeof(t));
		r = bans_unblock(ctl, t.target, err, sizeof(err));
	} else {
		imsg_get_data(imsg, &b, sizeof(b));
		if (b.duration < 0 || b.duration > CTL_MAXBAN ||
		    !pb_utf8_valid((uint8_t *)b.reason, strlen(b.reason)))
			return -1;
		r = bans_block(ctl, &b, err, sizeof(err));
	}
	if (r == -1)
		control_result(ctl, 0, err);
	return 0;
}

/* Every ban in force, as a listing. */
int
bans_show(uint32_t ctl, struct imsg *imsg)
{
	struct eban	*e;
	struct ctl_ban	 row;

	TAILQ_FOREACH(e, &bans, entry) {
		if (!ban_live(&e->ban))
			continue;
		memset(&row, 0, sizeof(row));
		ban_format(&e->ban, row.target, sizeof(row.target));
		row.until = e->ban.until;
		row.created = e->ban.created;
		strlcpy(row.reason, e->ban.reason, sizeof(row.reason));
		control_reply(ctl, IMSG_CTL_BAN, &row, sizeof(row));
	}
	control_end(ctl);
	return 0;
}

void
bans_sweep(void)
{
	struct eban	*e, *t;

	TAILQ_FOREACH_SAFE(e, &bans, entry, t)
		if (!ban_live(&e->ban))
			bans_remove(e);
}
