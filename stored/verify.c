/*
 * A walk over every record of a store: each must decode and keep its
 * invariants.  Used by stored (at start and for peerctl verify) and by
 * the offline restore, on the backup it is about to install.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

#define NMETA	5

static const struct {
	const char	*name;
	size_t		 size;
} meta_keys[NMETA] = {
	{ "schema",		sizeof(uint32_t) },
	{ "created",		sizeof(int64_t) },
	{ "running",		sizeof(int64_t) },
	{ "clean_shutdown",	sizeof(int64_t) },
	{ "restored",		sizeof(int64_t) },
};

int
store_open_dbs(MDB_txn *txn, struct store_dbs *d, unsigned int flags)
{
	int	 r;

	if ((r = mdb_dbi_open(txn, "meta", flags, &d->meta)) != 0 ||
	    (r = mdb_dbi_open(txn, "peers", flags, &d->peers)) != 0 ||
	    (r = mdb_dbi_open(txn, "bans", flags, &d->bans)) != 0 ||
	    (r = mdb_dbi_open(txn, "acct", flags, &d->acct)) != 0)
		return r;
	return 0;
}

/*
 * A data file cut short: LMDB would fault on the first page past its
 * end (SIGBUS), so the size is checked before anything is read.
 */
int
store_size_ok(MDB_env *e, char *err, size_t errlen)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	struct stat	 sb;
	uint64_t	 need;
	int		 fd;

	if (mdb_env_get_fd(e, &fd) != 0 || fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "cannot see the size of the data file");
		return 0;
	}
	mdb_env_info(e, &info);
	mdb_env_stat(e, &st);
	need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)sb.st_size >= need)
		return 1;
	snprintf(err, errlen, "the data file has %lld bytes but its pages "
	    "need %llu: it was cut short", (long long)sb.st_size,
	    (unsigned long long)need);
	return 0;
}

static void
problem(struct verify_report *rep, const char *db, const char *what,
    const char *why)
{
	char	 buf[512];

	rep->problems++;
	if (rep->problem == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s: %s: %s", db, what, why);
	rep->problem(rep->arg, buf);
}

static void
key_hex(const MDB_val *k, char *out, size_t outsz)
{
	const uint8_t	*p = k->mv_data;
	size_t		 i;

	out[0] = '\0';
	for (i = 0; i < k->mv_size && 2 * i + 3 < outsz; i++)
		snprintf(out + 2 * i, outsz - 2 * i, "%02x", p[i]);
}

static void
check_meta(const MDB_val *k, const MDB_val *v, struct verify_report *rep)
{
	char	 name[64];
	size_t	 i;

	rep->meta++;
	for (i = 0; i < NMETA; i++)
		if (k->mv_size == strlen(meta_keys[i].name) &&
		    memcmp(k->mv_data, meta_keys[i].name, k->mv_size) == 0)
			break;
	if (i == NMETA) {
		key_hex(k, name, sizeof(name));
		problem(rep, "meta", name, "unknown key");
		return;
	}
	if (v->mv_size != meta_keys[i].size)
		problem(rep, "meta", meta_keys[i].name, "wrong size");
	else if (i == 0)
		memcpy(&rep->schema, v->mv_data, sizeof(rep->schema));
}

static void
check_peer(const MDB_val *k, const MDB_val *v, struct verify_report *rep)
{
	static struct peer_rec	 pr;
	struct peerid		 id;
	char			 name[PEERID_STRMAX], err[128];

	rep->peers++;
	if (peer_key_check(k->mv_data, k->mv_size, &id) == -1) {
		key_hex(k, name, sizeof(name));
		problem(rep, "peers", name, "key is not a peer ID");
		return;
	}
	peerid_format(&id, name, sizeof(name));
	if (peer_rec_decode(v->mv_data, v->mv_size, &pr, err,
	    sizeof(err)) == -1)
		problem(rep, "peers", name, err);
}

static void
check_ban(const MDB_val *k, const MDB_val *v, struct verify_report *rep)
{
	struct ban	 b;
	char		 name[BAN_TARGETLEN], err[128];

	rep->bans++;
	if (ban_key_decode(k->mv_data, k->mv_size, &b) == -1) {
		key_hex(k, name, sizeof(name));
		problem(rep, "bans", name, "key is not a peer ID or network");
		return;
	}
	ban_format(&b, name, sizeof(name));
	if (ban_val_decode(v->mv_data, v->mv_size, &b, err,
	    sizeof(err)) == -1)
		problem(rep, "bans", name, err);
	else if (b.created == 0)
		problem(rep, "bans", name, "no creation time");
	else if (b.until != 0 && b.until < b.created)
		problem(rep, "bans", name, "ends before it began");
}

static void
check_acct(const MDB_val *k, const MDB_val *v, struct verify_report *rep)
{
	struct acct_rec	 a;
	char		 name[PEERID_STRMAX + 16], peer[PEERID_STRMAX];
	char		 err[128];

	rep->acct++;
	if (acct_key_decode(k->mv_data, k->mv_size, &a) == -1) {
		key_hex(k, name, sizeof(name));
		problem(rep, "acct", name, "key is not a day and a peer ID");
		return;
	}
	peerid_format(&a.peer, peer, sizeof(peer));
	snprintf(name, sizeof(name), "%s day %u", peer, a.day);
	if (acct_val_decode(v->mv_data, v->mv_size, &a, err,
	    sizeof(err)) == -1)
		problem(rep, "acct", name, err);
}

static int
walk(MDB_txn *txn, MDB_dbi dbi, const char *db, struct verify_report *rep,
    void (*check)(const MDB_val *, const MDB_val *, struct verify_report *),
    char *err, size_t errlen)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 r;

	if ((r = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		snprintf(err, errlen, "%s: %s", db, mdb_strerror(r));
		return -1;
	}
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		check(&k, &v, rep);
	mdb_cursor_close(cur);
	if (r != MDB_NOTFOUND) {
		snprintf(err, errlen, "%s: %s", db, mdb_strerror(r));
		return -1;
	}
	return 0;
}

/* -1 when the store cannot be read at all (err says why). */
int
verify_env(MDB_env *e, struct verify_report *rep, char *err, size_t errlen)
{
	struct store_dbs	 d;
	MDB_txn			*txn;
	int			 r, rv = -1;

	if ((r = mdb_txn_begin(e, NULL, MDB_RDONLY, &txn)) != 0) {
		snprintf(err, errlen, "%s", mdb_strerror(r));
		return -1;
	}
	if ((r = mdb_dbi_open(txn, "meta", 0, &d.meta)) != 0) {
		snprintf(err, errlen, "no meta database: %s",
		    mdb_strerror(r));
		goto done;
	}
	if (walk(txn, d.meta, "meta", rep, check_meta, err, errlen) == -1)
		goto done;
	if (rep->schema == 0) {
		snprintf(err, errlen, "no schema version");
		goto done;
	}
	if (rep->schema > STORE_SCHEMA) {
		snprintf(err, errlen, "schema %u is newer than this version "
		    "knows (%d)", rep->schema, STORE_SCHEMA);
		goto done;
	}
	/* schema 1 had only meta */
	if (rep->schema >= 2) {
		if ((r = store_open_dbs(txn, &d, 0)) != 0) {
			snprintf(err, errlen, "a database is missing: %s",
			    mdb_strerror(r));
			goto done;
		}
		if (walk(txn, d.peers, "peers", rep, check_peer, err,
		    errlen) == -1 || walk(txn, d.bans, "bans", rep, check_ban,
		    err, errlen) == -1 || walk(txn, d.acct, "acct", rep,
		    check_acct, err, errlen) == -1)
			goto done;
	}
	rv = 0;
 done:
	mdb_txn_abort(txn);
	return rv;
}

void
verify_summary(const struct verify_report *rep, char *buf, size_t len)
{
	snprintf(buf, len, "schema %u; %llu peers, %llu bans, %llu "
	    "accounting records, %llu meta records; %llu problems",
	    rep->schema, (unsigned long long)rep->peers,
	    (unsigned long long)rep->bans, (unsigned long long)rep->acct,
	    (unsigned long long)rep->meta, (unsigned long long)rep->problems);
}
