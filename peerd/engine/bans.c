/*
 * Bans: peer IDs and networks refused at accept, after the handshake
 * and at dial.  stored keeps them; the engine holds the ones in force.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "log.h"
#include "peerd.h"
#include "proc.h"

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
	listen_resume();
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

static void
bans_store(uint32_t ctl, int add, const struct ban *b)
{
	struct store_ban_op	 op;

	memset(&op, 0, sizeof(op));
	op.add = add;
	op.ban = *b;
	if (child_compose(PROC_STORED, IMSG_STORE_BAN, ctl, -1, &op,
	    sizeof(op)) == -1)
		control_result(ctl, 0, "stored is gone: the ban holds until "
		    "the suite stops");
}

void
bans_block(uint32_t ctl, const struct ctl_block *req)
{
	struct ban	 b;
	char		 err[CTL_MSGLEN], target[BAN_TARGETLEN], until[32];
	time_t		 t;

	if (ban_parse(req->target, &b, err, sizeof(err)) == -1) {
		control_result(ctl, 0, err);
		return;
	}
	if (b.kind == BAN_PEER && peerid_equal(&b.peer, &ident.peerid)) {
		control_result(ctl, 0, "that is this peer's own ID");
		return;
	}
	b.created = time(NULL);
	b.until = req->duration > 0 ? b.created + req->duration : 0;
	strlcpy(b.reason, req->reason, sizeof(b.reason));
	if (bans_insert(&b) == -1) {
		control_result(ctl, 0, "too many bans: block networks "
		    "instead of single addresses");
		return;
	}
	ban_format(&b, target, sizeof(target));
	if (b.until) {
		t = b.until;
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime(&t));
	} else
		strlcpy(until, "forever", sizeof(until));
	log_info("peer_banned target=%s until=%s reason=\"%s\"", target,
	    until, b.reason);
	bans_enforce(&b);
	bans_store(ctl, 1, &b);
}

void
bans_unblock(uint32_t ctl, const char *target)
{
	struct eban	*e;
	struct ban	 b;
	char		 err[CTL_MSGLEN], name[BAN_TARGETLEN];

	if (ban_parse(target, &b, err, sizeof(err)) == -1) {
		control_result(ctl, 0, err);
		return;
	}
	if ((e = bans_find(&b)) != NULL) {
		bans_remove(e);
		ban_format(&b, name, sizeof(name));
		log_info("peer_unbanned target=%s", name);
	}
	bans_store(ctl, 0, &b);
}

/* stored's answer to a block or unblock. */
void
bans_stored(uint32_t ctl, const struct ctl_result *res)
{
	control_result(ctl, res->ok, res->msg);
}

void
bans_show(uint32_t ctl)
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
}

void
bans_sweep(void)
{
	struct eban	*e, *t;

	TAILQ_FOREACH_SAFE(e, &bans, entry, t)
		if (!ban_live(&e->ban))
			bans_remove(e);
}
