/*
 * stored: owns the LMDB environment in the state directory.
 */
#include <sys/types.h>

#include <err.h>
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
store_meta_init(void)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	uint32_t	 schema = STORE_SCHEMA;
	int64_t		 now = time(NULL);
	int		 r;

	if ((r = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		fatalx("store: begin: %s", mdb_strerror(r));
	if ((r = mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi_meta)) != 0)
		fatalx("store: open meta: %s", mdb_strerror(r));
	k.mv_data = "schema";
	k.mv_size = strlen("schema");
	if ((r = mdb_get(txn, dbi_meta, &k, &v)) == MDB_NOTFOUND) {
		v.mv_data = &schema;
		v.mv_size = sizeof(schema);
		if ((r = mdb_put(txn, dbi_meta, &k, &v, 0)) != 0)
			fatalx("store: put: %s", mdb_strerror(r));
		k.mv_data = "created";
		k.mv_size = strlen("created");
		v.mv_data = &now;
		v.mv_size = sizeof(now);
		if ((r = mdb_put(txn, dbi_meta, &k, &v, 0)) != 0)
			fatalx("store: put: %s", mdb_strerror(r));
		log_info("created a new store, schema %d", STORE_SCHEMA);
	} else if (r != 0)
		fatalx("store: get: %s", mdb_strerror(r));
	else if (v.mv_size != sizeof(schema))
		fatalx("store: bad schema record; restore from a backup");
	else {
		memcpy(&schema, v.mv_data, sizeof(schema));
		if (schema != STORE_SCHEMA)
			fatalx("store: schema %u, this stored knows %d",
			    schema, STORE_SCHEMA);
	}
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

static void
stored_shutdown(void)
{
	if (env != NULL)
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
