/*
 * stored: owns the LMDB environment in the state directory.
 */
#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "log.h"
#include "proc.h"

#define STORE_SCHEMA	1
#define STORE_MAXDBS	8

static MDB_env	*env;
static MDB_dbi	 dbi_meta;

static void
meta_put(MDB_txn *txn, const char *key, const void *data, size_t len)
{
	MDB_val	 k, v;
	int	 r;

	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	v.mv_data = (void *)(uintptr_t)data;
	v.mv_size = len;
	if ((r = mdb_put(txn, dbi_meta, &k, &v, 0)) != 0)
		fatalx("store: put %s: %s", key, mdb_strerror(r));
}

/* A fixed-size meta record: 1 found, 0 absent; a bad size is fatal. */
static int
meta_get(MDB_txn *txn, const char *key, void *data, size_t len)
{
	MDB_val	 k, v;
	int	 r;

	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	if ((r = mdb_get(txn, dbi_meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (r != 0)
		fatalx("store: get %s: %s", key, mdb_strerror(r));
	if (v.mv_size != len)
		fatalx("store: bad %s record; restore from a backup", key);
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
	if (running)
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

static void
store_meta_init(void)
{
	MDB_txn		*txn;
	uint32_t	 schema = STORE_SCHEMA;
	int64_t		 now = time(NULL);
	int		 r;

	if ((r = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		fatalx("store: begin: %s", mdb_strerror(r));
	if ((r = mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi_meta)) != 0)
		fatalx("store: open meta: %s", mdb_strerror(r));
	if (!meta_get(txn, "schema", &schema, sizeof(schema))) {
		meta_put(txn, "schema", &schema, sizeof(schema));
		meta_put(txn, "created", &now, sizeof(now));
		log_info("created a new store, schema %d", STORE_SCHEMA);
	} else if (schema != STORE_SCHEMA)
		fatalx("store: schema %u, this stored knows %d", schema,
		    STORE_SCHEMA);
	store_last_run(txn);
	if ((r = mdb_txn_commit(txn)) != 0)
		fatalx("store: commit: %s", mdb_strerror(r));
}

static void
store_open(int64_t mapsize)
{
	int	 r;

	if ((r = mdb_env_create(&env)) != 0)
		fatalx("store: %s", mdb_strerror(r));
	mdb_env_set_maxdbs(env, STORE_MAXDBS);
	if ((r = mdb_env_set_mapsize(env, (size_t)mapsize)) != 0)
		fatalx("store: map size: %s", mdb_strerror(r));
	if ((r = mdb_env_open(env, ".", MDB_NOTLS, 0600)) != 0)
		fatalx("cannot open the store in %s: %s; if it is damaged, "
		    "restore it from a backup", child->opts.root,
		    mdb_strerror(r));
	store_meta_init();
	log_info("store open in %s", child->opts.root);
}

static void
stored_configure(struct peerd_conf *nconf, struct peerd_conf *oconf)
{
	if (env == NULL)
		store_open(nconf->store_map_size);
}

static void
stored_status(struct ctl_proc *p)
{
	MDB_envinfo	 info;
	MDB_stat	 st;

	if (env == NULL) {
		strlcpy(p->state, "starting", sizeof(p->state));
		return;
	}
	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	snprintf(p->detail, sizeof(p->detail), "lmdb map %zu MiB, %zu pages "
	    "used, schema %d", info.me_mapsize >> 20, info.me_last_pgno + 1,
	    STORE_SCHEMA);
}

static int
stored_dispatch(enum proc_id from, struct imsg *imsg)
{
	return -1;
}

/* A clean shutdown is recorded before the environment closes. */
static void
stored_shutdown(void)
{
	MDB_txn	*txn;
	int64_t	 now = time(NULL), zero = 0;

	if (env == NULL)
		return;
	if (mdb_txn_begin(env, NULL, 0, &txn) == 0) {
		meta_put(txn, "running", &zero, sizeof(zero));
		meta_put(txn, "clean_shutdown", &now, sizeof(now));
		if (mdb_txn_commit(txn) != 0)
			log_warnx("store: cannot record the clean shutdown");
	}
	mdb_env_close(env);
	env = NULL;
}

int
main(int argc, char *argv[])
{
	static struct child c = {
		.id = PROC_STORED,
		.dispatch = stored_dispatch,
		.configure = stored_configure,
		.status = stored_status,
		.shutdown = stored_shutdown,
	};

	if (argc < 1)
		errx(1, "no arguments");
	child_start(&c, argc, argv);
	child_loop();
	return 0;
}
