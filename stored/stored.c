/*
 * stored: owns the LMDB environment in the state directory.  Dispatches
 * to store.c (the environment and its batches) and records.c (what is
 * in it), and joins the two: store.c reaches records.c only through the
 * hooks given here.  Calls store.c, records.c, verify.c, restore.c and
 * common/.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "store.h"

static int			 bans_sent;
static struct reconf_store	 sconf;		/* being received */
static int			 have_sconf;
static const struct store_hooks rec_hooks = {
	.apply = rec_apply,
	.prune = rec_prune,
	.done = rec_done,
	.show = rec_show_store,
};

static void
stored_engine_ready(void)
{
	if (env == NULL || !child_connected(PROC_ENGINE) || bans_sent)
		return;
	bans_sent = 1;
	rec_send_bans();
}

static int
stored_reconf(struct imsg *imsg)
{
	if (imsg_get_type(imsg) != IMSG_RECONF_STORE)
		return 1;
	imsg_get_data(imsg, &sconf, sizeof(sconf));
	have_sconf = 1;
	return 0;
}

/*
 * IMSG_RECONF_DONE: the map size counts at the first only; caps lowered
 * by a reload hold at once.
 */
static void
stored_configure(void)
{
	struct rec_limits	 lim;

	if (!have_sconf)
		fatalx("configuration from parent without stored's part");
	have_sconf = 0;
	lim.max_peers = (uint64_t)sconf.max_peers;
	lim.max_acct = (uint64_t)sconf.max_acct;
	lim.max_acct_size = (uint64_t)sconf.max_acct_size;
	rec_set_limits(&lim);
	if (env == NULL) {
		store_open(sconf.map_size, child->opts.root, &rec_hooks);
		stored_engine_ready();
	} else
		store_sweep();
}

static void
stored_peer_up(enum proc_id id)
{
	/* listings and the bans at start are larger than the default */
	imsgbuf_set_maxqueue(&child->iev[id].ibuf, 16 * 1024 * 1024);
	if (id == PROC_ENGINE)
		stored_engine_ready();
}

static void
stored_status(struct ctl_proc *p)
{
	if (env == NULL) {
		strlcpy(p->state, "starting", sizeof(p->state));
		return;
	}
	store_status(p->detail, sizeof(p->detail));
}

static int
stored_peer(struct imsg *imsg)
{
	static struct peer_rec	 upd;
	struct store_peer_upd	 hdr;
	size_t			 len = imsg_get_len(imsg);

	if (len < sizeof(hdr) || len > sizeof(hdr) + REC_MAXLEN)
		return -1;
	memcpy(&hdr, imsg->data, sizeof(hdr));
	if (hdr.peer.len == 0 || hdr.peer.len > PEERID_MAXLEN ||
	    hdr.kind < UPD_CONNECTED || hdr.kind > UPD_DISCOVERED ||
	    peer_rec_decode((uint8_t *)imsg->data + sizeof(hdr),
	    len - sizeof(hdr), &upd, NULL, 0) == -1)
		return -1;
	store_queue(OP_PEER, imsg->data, len, 0);
	return 0;
}

static int
stored_ban(struct imsg *imsg)
{
	struct store_ban_op	 op;
	uint8_t			 key[BAN_KEYMAX];
	size_t			 klen;

	imsg_get_data(imsg, &op, sizeof(op));
	if (ban_key_encode(&op.ban, key, &klen) == -1 || imsg_get_id(
	    imsg) == 0)
		return -1;
	store_queue(OP_BAN, &op, sizeof(op), imsg_get_id(imsg));
	return 0;
}

static int
stored_acct(struct imsg *imsg)
{
	struct store_acct	 a;

	imsg_get_data(imsg, &a, sizeof(a));
	if (a.acct.peer.len == 0 || a.acct.peer.len > PEERID_MAXLEN)
		return -1;
	store_queue(OP_ACCT, &a, sizeof(a), 0);
	return 0;
}

static void
verify_problem(void *arg, const char *what)
{
	uint32_t	*ctl = arg;

	if (ctl[1]++ < 100)
		store_reply(IMSG_CTL_RESULT, ctl[0], 0, what);
}

static void
stored_result(uint32_t ctl, int ok, const char *msg)
{
	store_reply(IMSG_CTL_RESULT, ctl, ok, msg);
	child_compose(PROC_ENGINE, IMSG_CTL_END, ctl, -1, NULL, 0);
}

static void
stored_verify(uint32_t ctl)
{
	struct verify_report	 rep;
	uint32_t		 arg[2] = { ctl, 0 };
	char			 err[256], msg[CTL_MSGLEN];

	memset(&rep, 0, sizeof(rep));
	rep.problem = verify_problem;
	rep.arg = arg;
	store_flush();
	if (verify_env(env, &rep, err, sizeof(err)) == -1) {
		snprintf(msg, sizeof(msg), "the store is damaged: %s", err);
		stored_result(ctl, 0, msg);
		return;
	}
	verify_summary(&rep, msg, sizeof(msg));
	if (arg[1] > 100)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
		    " (the first 100 shown)");
	stored_result(ctl, rep.problems == 0, msg);
}

/* A compact copy in one read transaction, to the descriptor peerctl
 * opened. */
static void
stored_backup(uint32_t ctl, int fd)
{
	struct stat	 st;
	char		 msg[CTL_MSGLEN];
	int		 r, ok = 0;

	store_flush();
	if ((r = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT)) != 0)
		snprintf(msg, sizeof(msg), "backup failed: %s",
		    mdb_strerror(r));
	else if (fsync(fd) == -1 || fstat(fd, &st) == -1)
		snprintf(msg, sizeof(msg), "backup failed: %s",
		    strerror(errno));
	else {
		snprintf(msg, sizeof(msg), "backup written: %lld bytes",
		    (long long)st.st_size);
		ok = 1;
	}
	close(fd);
	if (ok)
		log_info("%s", msg);
	else
		log_warnx("%s", msg);
	stored_result(ctl, ok, msg);
}

static int
stored_dispatch(enum proc_id from, struct imsg *imsg)
{
	struct store_cand_req	 req;
	struct peerid		 peer;
	uint32_t		 ctl = imsg_get_id(imsg);
	int			 fd;

	if (env == NULL)
		fatalx("%s before the store is open",
		    msg_name(imsg_get_type(imsg)));
	switch (imsg_get_type(imsg)) {
	case IMSG_STORE_PEER:
		return stored_peer(imsg);
	case IMSG_STORE_BAN:
		return stored_ban(imsg);
	case IMSG_STORE_ACCT:
		return stored_acct(imsg);
	case IMSG_STORE_CANDIDATES:
		imsg_get_data(imsg, &req, sizeof(req));
		rec_candidates(ctl, &req);
		return 0;
	case IMSG_STORE_LOOKUP:
		if (ctl == 0)
			return -1;
		imsg_get_data(imsg, &peer, sizeof(peer));
		if (peer.len == 0 || peer.len > PEERID_MAXLEN)
			return -1;
		rec_lookup(ctl, &peer);
		return 0;
	case IMSG_CTL_SHOW_PEERS:
		rec_show_peers(ctl);
		return 0;
	case IMSG_CTL_SHOW_ACCT:
		rec_show_acct(ctl);
		return 0;
	case IMSG_CTL_VERIFY:
		stored_verify(ctl);
		return 0;
	case IMSG_CTL_SHOW_STORE:
		store_show(ctl);
		return 0;
	case IMSG_CTL_BACKUP:
		fd = imsg_get_fd(imsg);
		stored_backup(ctl, fd);
		return 0;
	default:
		return 1;
	}
}

static struct child stored_child = {
	.id = PROC_STORED,
	.dispatch = stored_dispatch,
	.reconf = stored_reconf,
	.configure = stored_configure,
	.status = stored_status,
	.peer_up = stored_peer_up,
	.shutdown = store_close,
	.metrics = store_metrics,
};

int
main(int argc, char *argv[])
{
	if (argc < 1)
		errx(1, "no arguments");
	/* stored -R backup stateDir user: the offline restore of peerd -r */
	if (argc == 5 && strcmp(argv[1], "-R") == 0)
		return restore_main(argv[2], argv[3], argv[4]);
	child_start(&stored_child, argc, argv);
	child_loop();
	return 0;
}
