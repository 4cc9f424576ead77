/*
 * The offline restore, stored -R (run by peerd -r): the backup is
 * checked record by record before it replaces the store; the old store
 * is kept beside it.  It runs as root, before any privilege drop: it
 * installs the new store owned by the store's user.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"

static void
restore_problem(void *arg, const char *what)
{
	fprintf(stderr, "backup: %s\n", what);
}

static void
restore_check(const char *file, struct verify_report *rep)
{
	MDB_env	*e;
	char	 err[256];
	int	 r;

	if ((r = mdb_env_create(&e)) != 0)
		errx(1, "lmdb: %s", mdb_strerror(r));
	mdb_env_set_maxdbs(e, STORE_MAXDBS);
	if ((r = mdb_env_open(e, file, MDB_NOSUBDIR | MDB_RDONLY |
	    MDB_NOLOCK, 0)) != 0)
		errx(1, "%s is not a store backup: %s", file, mdb_strerror(r));
	if (!store_size_ok(e, err, sizeof(err)))
		errx(1, "%s is damaged: %s; nothing was restored", file, err);
	memset(rep, 0, sizeof(*rep));
	rep->problem = restore_problem;
	if (verify_env(e, rep, err, sizeof(err)) == -1)
		errx(1, "%s is damaged: %s; nothing was restored", file, err);
	mdb_env_close(e);
	if (rep->problems > 0)
		errx(1, "%s has %llu bad records; nothing was restored", file,
		    (unsigned long long)rep->problems);
}

/* stored holds a shared lock on the first byte of lock.mdb. */
static void
restore_not_running(const char *dir)
{
	struct flock	 fl;
	char		 path[PATH_MAX];
	int		 fd;

	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return;
		err(1, "%s", path);
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_len = 1;
	if (fcntl(fd, F_GETLK, &fl) == -1)
		err(1, "%s", path);
	close(fd);
	if (fl.l_type != F_UNLCK)
		errx(1, "the store in %s is in use (pid %d): stop peerd "
		    "first", dir, (int)fl.l_pid);
}

static void
restore_copy(const char *file, int to, const char *tmp)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 from;

	if ((from = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", file);
	while ((n = read(from, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			unlink(tmp);
			err(1, "%s", file);
		}
		if (write(to, buf, n) != n) {
			unlink(tmp);
			err(1, "%s", tmp);
		}
	}
	close(from);
	if (fsync(to) == -1) {
		unlink(tmp);
		err(1, "%s", tmp);
	}
}

/* The copy was taken from a running store: it now starts as restored. */
static void
restore_mark(const char *tmp)
{
	struct store_dbs	 d;
	MDB_env			*e;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int64_t			 now = time(NULL);
	int			 r;

	if ((r = mdb_env_create(&e)) != 0)
		errx(1, "lmdb: %s", mdb_strerror(r));
	mdb_env_set_maxdbs(e, STORE_MAXDBS);
	if ((r = mdb_env_open(e, tmp, MDB_NOSUBDIR | MDB_NOLOCK, 0600)) != 0 ||
	    (r = mdb_txn_begin(e, NULL, 0, &txn)) != 0) {
		unlink(tmp);
		errx(1, "%s: %s", tmp, mdb_strerror(r));
	}
	if ((r = mdb_dbi_open(txn, "meta", 0, &d.meta)) == 0) {
		k.mv_data = "running";
		k.mv_size = strlen("running");
		mdb_del(txn, d.meta, &k, NULL);
		k.mv_data = "restored";
		k.mv_size = strlen("restored");
		v.mv_data = &now;
		v.mv_size = sizeof(now);
		r = mdb_put(txn, d.meta, &k, &v, 0);
	}
	if (r != 0 || (r = mdb_txn_commit(txn)) != 0) {
		unlink(tmp);
		errx(1, "%s: %s", tmp, mdb_strerror(r));
	}
	mdb_env_close(e);
}

/* data.mdb.old.<time>, or .<time>.<n> when that is taken already. */
static void
restore_old_name(const char *dir, char *old, size_t len)
{
	struct stat	 sb;
	long long	 now = time(NULL);
	int		 n;

	snprintf(old, len, "%s/data.mdb.old.%lld", dir, now);
	for (n = 1; lstat(old, &sb) == 0; n++)
		snprintf(old, len, "%s/data.mdb.old.%lld.%d", dir, now, n);
}

int
restore_main(const char *file, const char *state_dir, const char *user)
{
	struct verify_report	 rep;
	struct stat		 sb;
	struct passwd		*pw;
	char			 data[PATH_MAX], tmp[PATH_MAX];
	char			 old[PATH_MAX], lock[PATH_MAX], sum[256];
	int			 fd, dfd, had_old;

	restore_check(file, &rep);
	if (stat(state_dir, &sb) == -1 || !S_ISDIR(sb.st_mode))
		errx(1, "stateDir %s is not a directory: create it (peerd-setup "
		    "does) or give the configuration file with -f",
		    state_dir);
	restore_not_running(state_dir);
	snprintf(data, sizeof(data), "%s/data.mdb", state_dir);
	snprintf(tmp, sizeof(tmp), "%s/data.mdb.restore", state_dir);
	restore_old_name(state_dir, old, sizeof(old));
	snprintf(lock, sizeof(lock), "%s/lock.mdb", state_dir);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		err(1, "%s", tmp);
	restore_copy(file, fd, tmp);
	restore_mark(tmp);
	if (geteuid() == 0 && (pw = getpwnam(user)) != NULL &&
	    fchown(fd, pw->pw_uid, pw->pw_gid) == -1) {
		unlink(tmp);
		err(1, "chown %s", tmp);
	}
	close(fd);
	had_old = rename(data, old) == 0;
	if (!had_old && errno != ENOENT) {
		unlink(tmp);
		err(1, "cannot move %s aside", data);
	}
	if (rename(tmp, data) == -1)
		err(1, "cannot install %s", data);
	/* the reader table of the old store means nothing now */
	unlink(lock);
	if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	verify_summary(&rep, sum, sizeof(sum));
	printf("restored %s into %s (%s)\n", file, data, sum);
	if (had_old)
		printf("the previous store is kept as %s\n", old);
	return 0;
}
