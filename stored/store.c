/*
 * The LMDB environment and its write batches.  Updates queue up and are
 * applied in one transaction at most STORE_BATCH_MS after the first, or
 * at STORE_BATCH_OPS; a write that is answered has been committed.  A
 * full map is grown and the batch retried; a failing disk aborts the
 * batch, which leaves the store as it was.  What an update does to the
 * records, and what a sweep removes, is records.c's, reached through the
 * hooks given at open; this file calls verify.c and common/ only.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event.h>

#include "child.h"
#include "log.h"
#include "store.h"

#define STORE_MAPMAX	(1ULL << 40)
#define STORE_LOWSPACE	(1024 * 1024)	/* free bytes that count as full */

struct op {
	TAILQ_ENTRY(op)		 entry;
	enum store_op_type	 type;
	uint32_t		 ctl;		/* answered after commit */
	size_t			 len;
	uint8_t			 data[];
};

MDB_env			*env;
struct store_dbs	 dbs;

static void	 store_failed(int);
static void	 store_grow_early(void);

static TAILQ_HEAD(, op)	 ops = TAILQ_HEAD_INITIALIZER(ops);
static size_t		 nops;
static struct event	 ev_commit, ev_sweep;
static int		 failing;
static char		 failure[128];
static uint64_t		 commits, dropped;
static uint64_t		 write_failures;	/* commits that failed */
static struct store_hooks hooks;

int64_t
store_now(void)
{
	return time(NULL);
}

static void
meta_put(MDB_txn *txn, const char *key, const void *data, size_t len)
{
	MDB_val	 k, v;
	int	 r;

	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	v.mv_data = (void *)(uintptr_t)data;
	v.mv_size = len;
	if ((r = mdb_put(txn, dbs.meta, &k, &v, 0)) != 0)
		fatalx("store: put %s: %s", key, mdb_strerror(r));
}

static void
meta_del(MDB_txn *txn, const char *key)
{
	MDB_val	 k;
	int	 r;

	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	if ((r = mdb_del(txn, dbs.meta, &k, NULL)) != 0 && r != MDB_NOTFOUND)
		fatalx("store: delete %s: %s", key, mdb_strerror(r));
}

/* A fixed-size meta record: 1 found, 0 absent; a bad size is fatal. */
static int
meta_get(MDB_txn *txn, const char *key, void *data, size_t len)
{
	MDB_val	 k, v;
	int	 r;

	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	if ((r = mdb_get(txn, dbs.meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (r != 0)
		fatalx("store: get %s: %s", key, mdb_strerror(r));
	if (v.mv_size != len)
		fatalx("store: bad %s record; restore a backup with "
		    "peerd -r FILE", key);
	memcpy(data, v.mv_data, len);
	return 1;
}

/* Say how the last run ended, and mark this one as running. */
static void
store_last_run(MDB_txn *txn)
{
	int64_t		 clean, running = 0, one = 1;
	char		 when[32];
	struct tm	 tm;
	time_t		 t;

	meta_get(txn, "running", &running, sizeof(running));
	if (meta_get(txn, "restored", &clean, sizeof(clean))) {
		t = clean;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		log_info("the store was restored from a backup at %s", when);
		meta_del(txn, "restored");
	} else if (running)
		log_warnx("the store was not closed cleanly last time: a "
		    "process of the suite was killed or the machine stopped");
	else if (meta_get(txn, "clean_shutdown", &clean, sizeof(clean))) {
		t = clean;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		log_info("last clean shutdown at %s", when);
	}
	meta_put(txn, "running", &one, sizeof(one));
}

/* New stores get the current schema; older ones are brought up to it. */
static void
store_schema(MDB_txn *txn)
{
	uint32_t	 schema = STORE_SCHEMA, old;
	int64_t		 now = store_now();

	if (!meta_get(txn, "schema", &old, sizeof(old))) {
		meta_put(txn, "schema", &schema, sizeof(schema));
		meta_put(txn, "created", &now, sizeof(now));
		log_info("created a new store, schema %d", STORE_SCHEMA);
		return;
	}
	if (old > STORE_SCHEMA)
		fatalx("the store has schema %u, written by a newer stored "
		    "(this one knows %d): run the newer version or restore "
		    "a backup with peerd -r FILE", old, STORE_SCHEMA);
	if (old < 1)
		fatalx("the store has schema %u: restore a backup with "
		    "peerd -r FILE", old);
	/* schema 1 had only meta: the new databases were just created */
	if (old < STORE_SCHEMA) {
		meta_put(txn, "schema", &schema, sizeof(schema));
		log_info("store migrated from schema %u to %d", old,
		    STORE_SCHEMA);
	}
}

static void
store_verify_problem(void *arg, const char *what)
{
	log_warnx("store: %s", what);
}

/* A walk at start: a damaged structure stops here, with advice. */
static void
store_check(const char *root)
{
	struct verify_report	 rep;
	char			 err[256];

	memset(&rep, 0, sizeof(rep));
	rep.problem = store_verify_problem;
	if (verify_env(env, &rep, err, sizeof(err)) == -1)
		fatalx("the store in %s is damaged: %s; restore a backup "
		    "with peerd -r FILE (see stored(8))", root, err);
	if (rep.problems > 0)
		log_warnx("store: %llu records do not decode and will be "
		    "replaced or dropped; peerctl verify lists them",
		    (unsigned long long)rep.problems);
	log_info("store holds %llu peers, %llu bans, %llu accounting "
	    "records", (unsigned long long)rep.peers,
	    (unsigned long long)rep.bans, (unsigned long long)rep.acct);
}

static void
store_commit_cb(int fd, short event, void *arg)
{
	store_flush();
}

static void
store_sweep_cb(int fd, short event, void *arg)
{
	struct timeval	 tv = { 60, 0 };

	store_sweep();
	evtimer_add(&ev_sweep, &tv);
}

void
store_open(int64_t mapsize, const char *root, const struct store_hooks *h)
{
	MDB_txn	*txn;
	char	 err[256];
	int	 r;

	hooks = *h;
	if ((r = mdb_env_create(&env)) != 0)
		fatalx("store: %s", mdb_strerror(r));
	mdb_env_set_maxdbs(env, STORE_MAXDBS);
	if ((r = mdb_env_set_mapsize(env, (size_t)mapsize)) != 0)
		fatalx("store: map size: %s", mdb_strerror(r));
	if ((r = mdb_env_open(env, ".", MDB_NOTLS, 0600)) != 0)
		fatalx("cannot open the store in %s: %s; if it is damaged, "
		    "restore a backup with peerd -r FILE (see stored(8))",
		    root, mdb_strerror(r));
	if (!store_size_ok(env, err, sizeof(err)))
		fatalx("the store in %s is damaged: %s; restore a backup with "
		    "peerd -r FILE (see stored(8))", root, err);
	/* a store filled under a larger map, or nearly full: room first */
	store_grow_early();
	if ((r = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		fatalx("store: begin: %s", mdb_strerror(r));
	if ((r = store_open_dbs(txn, &dbs, MDB_CREATE)) != 0)
		fatalx("cannot open the store in %s: %s; restore a backup "
		    "with peerd -r FILE (see stored(8))", root,
		    mdb_strerror(r));
	store_schema(txn);
	store_last_run(txn);
	if ((r = mdb_txn_commit(txn)) != 0)
		fatalx("store: cannot write to %s: %s", root, mdb_strerror(r));
	store_check(root);
	evtimer_set(&ev_commit, store_commit_cb, NULL);
	evtimer_set(&ev_sweep, store_sweep_cb, NULL);
	store_sweep_cb(-1, 0, NULL);
	log_info("store open in %s", root);
}

/* An answer for the engine to pass on to a control client. */
void
store_reply(uint32_t type, uint32_t ctl, int ok, const char *msg)
{
	struct ctl_result	 res;

	memset(&res, 0, sizeof(res));
	res.ok = ok;
	strlcpy(res.msg, msg, sizeof(res.msg));
	child_compose(PROC_ENGINE, type, ctl, -1, &res, sizeof(res));
}

static void
store_answer(uint32_t ctl, int ok, const char *msg)
{
	store_reply(IMSG_STORE_BAN_RES, ctl, ok, msg);
}

void
store_queue(enum store_op_type type, const void *data, size_t len,
    uint32_t ctl)
{
	struct timeval	 tv = { 0, STORE_BATCH_MS * 1000 };
	struct op	*op;

	if (ctl == 0 && failing && nops >= STORE_MAXQUEUE) {
		dropped++;
		return;
	}
	if ((op = malloc(sizeof(*op) + len)) == NULL) {
		if (ctl != 0)
			store_answer(ctl, 0, "stored: out of memory");
		dropped++;
		return;
	}
	op->type = type;
	op->ctl = ctl;
	op->len = len;
	memcpy(op->data, data, len);
	TAILQ_INSERT_TAIL(&ops, op, entry);
	nops++;
	/* while failing, an operator's write is tried at once */
	if (failing && ctl == 0) {
		if (!evtimer_pending(&ev_commit, NULL))
			store_failed(0);
		return;
	}
	if (nops >= STORE_BATCH_OPS || failing)
		store_flush();
	else if (!evtimer_pending(&ev_commit, NULL))
		evtimer_add(&ev_commit, &tv);
}

/* Double the map; 0 if it could not grow. */
static int
store_grow(void)
{
	MDB_envinfo	 info;
	size_t		 size;
	int		 r;

	mdb_env_info(env, &info);
	if (info.me_mapsize >= STORE_MAPMAX)
		return 0;
	size = info.me_mapsize * 2;
	if ((r = mdb_env_set_mapsize(env, size)) != 0) {
		log_warnx("store: cannot grow the map: %s", mdb_strerror(r));
		return 0;
	}
	log_info("store: map grown to %zu MiB", size >> 20);
	return 1;
}

/* Grow before the map is full: at three quarters. */
static void
store_grow_early(void)
{
	MDB_envinfo	 info;
	MDB_stat	 st;

	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	if ((info.me_last_pgno + 1) * (uint64_t)st.ms_psize >
	    info.me_mapsize / 4 * 3)
		store_grow();
}

/* One transaction for the whole batch: 0, or an LMDB or errno code. */
static int
store_apply(char msgs[][CTL_MSGLEN], int *refused)
{
	MDB_txn		*txn;
	struct op	*op;
	size_t		 i = 0;
	int		 r;

	if ((r = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return r;
	TAILQ_FOREACH(op, &ops, entry) {
		r = hooks.apply(txn, op->type, op->data, op->len,
		    op->ctl && i < STORE_BATCH_OPS ? msgs[i] : NULL,
		    CTL_MSGLEN);
		if (op->ctl && i < STORE_BATCH_OPS)
			refused[i] = r == -1;
		if (r > 0 || r < -1) {
			mdb_txn_abort(txn);
			hooks.done(0);
			return r;
		}
		if (op->ctl)
			i++;
	}
	r = mdb_txn_commit(txn);
	hooks.done(r == 0);
	return r;
}

static void
store_answer_all(int ok, char msgs[][CTL_MSGLEN], const int *refused,
    const char *why)
{
	struct op	*op, *t;
	size_t		 i = 0;
	char		 msg[CTL_MSGLEN];

	TAILQ_FOREACH_SAFE(op, &ops, entry, t) {
		if (ok || op->ctl) {
			if (op->ctl && ok && i < STORE_BATCH_OPS)
				store_answer(op->ctl, !refused[i], msgs[i]);
			else if (op->ctl) {
				snprintf(msg, sizeof(msg), "not stored: %s%s",
				    why, op->type != OP_BAN ? "" :
				    ((struct store_ban_op *)op->data)->add ?
				    "; the ban holds only until peerd stops" :
				    "; the ban is lifted only until peerd "
				    "restarts");
				store_answer(op->ctl, 0, msg);
			}
			if (op->ctl)
				i++;
			TAILQ_REMOVE(&ops, op, entry);
			nops--;
			free(op);
		}
	}
}

/*
 * LMDB reports a short write as EIO: the file system of the store (the
 * chroot, so ".") says whether it is full.
 */
static const char *
store_why(int r)
{
	static char	 buf[128];
	struct statvfs	 vfs;

	if ((r == EIO || r == ENOSPC || r == EDQUOT) &&
	    statvfs(".", &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize <
	    STORE_LOWSPACE) {
		snprintf(buf, sizeof(buf), "No space left on device (%llu "
		    "KiB free)", (unsigned long long)vfs.f_bavail *
		    vfs.f_frsize >> 10);
		return buf;
	}
	return mdb_strerror(r);
}

/* r 0: only (re)arm the retry of what waits. */
static void
store_failed(int r)
{
	struct timeval	 tv = { STORE_RETRY, 0 };
	const char	*why;

	if (r != 0) {
		write_failures++;
		why = store_why(r);
		if (!failing || strcmp(failure, why) != 0)
			log_warnx("store: cannot write: %s; the store is "
			    "unchanged, %zu updates wait and are retried "
			    "every %d s", why, nops, STORE_RETRY);
		strlcpy(failure, why, sizeof(failure));
		failing = 1;
	}
	evtimer_add(&ev_commit, &tv);
}

/* Commit what is queued: 0 when all of it is stored. */
int
store_flush(void)
{
	static char	 msgs[STORE_BATCH_OPS][CTL_MSGLEN];
	static int	 refused[STORE_BATCH_OPS];
	int		 r;

	if (env == NULL)
		return -1;
	evtimer_del(&ev_commit);
	if (nops == 0)
		return 0;
	while ((r = store_apply(msgs, refused)) == MDB_MAP_FULL)
		if (!store_grow())
			break;
	if (r != 0) {
		store_answer_all(0, msgs, refused, store_why(r));
		store_failed(r);
		return -1;
	}
	store_answer_all(1, msgs, refused, NULL);
	commits++;
	if (failing) {
		log_info("store: writing again%s", dropped ? "; some "
		    "best-effort updates were dropped meanwhile" : "");
		failing = 0;
	}
	store_grow_early();
	return 0;
}

/* Reads see every write queued before them. */
int
store_read_begin(MDB_txn **txn)
{
	int	 r;

	store_flush();
	if ((r = mdb_txn_begin(env, NULL, MDB_RDONLY, txn)) != 0)
		log_warnx("store: read: %s", mdb_strerror(r));
	return r;
}

/* Expired bans, old accounting, peers beyond the maximum. */
void
store_sweep(void)
{
	MDB_txn	*txn;
	int	 r;

	if (store_flush() == -1)
		return;
	if ((r = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		log_warnx("store: sweep: %s", mdb_strerror(r));
		return;
	}
	if ((r = hooks.prune(txn, store_now())) != 0)
		mdb_txn_abort(txn);
	else
		r = mdb_txn_commit(txn);
	if (r != 0)
		log_warnx("store: sweep: %s", mdb_strerror(r));
	hooks.done(r == 0);
}

/* peerctl show store: the environment, and the records' part. */
void
store_show(uint32_t ctl)
{
	struct ctl_store	 cs;
	MDB_envinfo		 info;
	MDB_stat		 st;
	MDB_txn			*txn;

	memset(&cs, 0, sizeof(cs));
	if (store_read_begin(&txn) == 0) {
		hooks.show(txn, &cs);
		mdb_txn_abort(txn);
	}
	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	cs.mapsize = info.me_mapsize;
	cs.used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	cs.schema = STORE_SCHEMA;
	cs.commits = commits;
	cs.queued = nops;
	cs.dropped = dropped;
	if (failing)
		strlcpy(cs.failure, failure, sizeof(cs.failure));
	child_compose(PROC_ENGINE, IMSG_CTL_STORE, ctl, -1, &cs, sizeof(cs));
	child_compose(PROC_ENGINE, IMSG_CTL_END, ctl, -1, NULL, 0);
}

/* The metrics: read as they stand, without committing what waits. */
void
store_metrics(struct metric_set *set)
{
	struct ctl_store	 cs;
	MDB_envinfo		 info;
	MDB_stat		 st;
	MDB_txn			*txn;

	if (env == NULL)
		return;
	memset(&cs, 0, sizeof(cs));
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		hooks.show(txn, &cs);
		mdb_txn_abort(txn);
	}
	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	metric_add(set, METRIC_STORE_USED, ((uint64_t)info.me_last_pgno + 1) *
	    st.ms_psize, NULL, NULL, NULL, NULL);
	metric_add(set, METRIC_STORE_MAP, info.me_mapsize, NULL, NULL, NULL,
	    NULL);
	metric_add(set, METRIC_STORE_RECORDS, cs.peers, "database", "peers",
	    NULL, NULL);
	metric_add(set, METRIC_STORE_RECORDS, cs.bans, "database", "bans",
	    NULL, NULL);
	metric_add(set, METRIC_STORE_RECORDS, cs.acct, "database",
	    "accounting", NULL, NULL);
	metric_add(set, METRIC_STORE_COMMITS, commits, NULL, NULL, NULL,
	    NULL);
	metric_add(set, METRIC_STORE_WRITE_FAILURES, write_failures, NULL,
	    NULL, NULL, NULL);
	metric_add(set, METRIC_STORE_PRUNED, cs.pruned_peers, "cap",
	    "maxPeers", NULL, NULL);
	metric_add(set, METRIC_STORE_PRUNED, cs.pruned_acct, "cap",
	    "maxAccounting", NULL, NULL);
	metric_add(set, METRIC_STORE_PRUNED, cs.pruned_acct_size, "cap",
	    "maxAccountingSize", NULL, NULL);
	metric_add(set, METRIC_ERRORS, dropped, "kind", "store_gave_up",
	    NULL, NULL);
}

void
store_status(char *buf, size_t len)
{
	MDB_envinfo	 info;
	MDB_stat	 st;

	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	snprintf(buf, len, "lmdb map %zu MiB, %zu KiB used, schema %d, "
	    "%llu commits, %zu queued%s%s", info.me_mapsize >> 20,
	    (info.me_last_pgno + 1) * st.ms_psize >> 10, STORE_SCHEMA,
	    (unsigned long long)commits, nops, failing ? "; failing: " : "",
	    failing ? failure : "");
}

/* A clean shutdown is recorded before the environment closes. */
void
store_close(void)
{
	MDB_txn	*txn;
	int64_t	 now = store_now(), zero = 0;

	if (env == NULL)
		return;
	store_flush();
	if (mdb_txn_begin(env, NULL, 0, &txn) == 0) {
		meta_put(txn, "running", &zero, sizeof(zero));
		meta_put(txn, "clean_shutdown", &now, sizeof(now));
		if (mdb_txn_commit(txn) != 0)
			log_warnx("store: cannot record the clean shutdown");
	}
	mdb_env_close(env);
	env = NULL;
}
