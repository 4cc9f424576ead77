/*
 * The temporary directory peerd runs in, as regress/suite.py lays one
 * out: peerd.conf, and the directories peerd makes with their owners
 * and modes (stateDir, keyDir, emptyDir) and its control socket.  The
 * users are peerd's defaults, which etc/peerd-setup creates.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pdwrap.h"

#define CONF_USER	"_peerd"
#define CONF_KEYUSER	"_peerkey"

/* As root peerd needs its users; without root it runs as the caller. */
int
conf_users(char *err, size_t len)
{
	if (geteuid() != 0)
		return 0;
	if (getpwnam(CONF_USER) == NULL || getpwnam(CONF_KEYUSER) == NULL) {
		snprintf(err, len, "the users %s and %s must exist: create "
		    "them with peerd-setup", CONF_USER, CONF_KEYUSER);
		return -1;
	}
	return 0;
}

/* A YAML double-quoted string. */
static int
put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (iscntrl((unsigned char)*s))
			return -1;
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
	return 0;
}

static int
put_key(FILE *f, const char *indent, const char *key, const char *dir,
    const char *s)
{
	char	 path[PATH_MAX];

	if (dir != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, s) >=
		    sizeof(path))
			return -1;
		s = path;
	}
	fprintf(f, "%s%s: ", indent, key);
	if (put_str(f, s) == -1)
		return -1;
	fputc('\n', f);
	return 0;
}

static int
put_list(FILE *f, const char *key, const char *const *v, size_t n)
{
	size_t	 i;

	fprintf(f, "%s: [", key);
	for (i = 0; i < n; i++) {
		fputs(i > 0 ? ", " : "", f);
		if (put_str(f, v[i]) == -1)
			return -1;
	}
	fputs("]\n", f);
	return 0;
}

static int
put_conf(FILE *f, const struct wrapconf *wc)
{
	const char	*d = wc->dir;

	fprintf(f, "# written by %s from p2pd's flags; see peerd-p2pd(8)\n"
	    "mode: peer\n", WRAP_NAME);
	if (put_list(f, "listen", wc->listen, wc->nlisten) == -1 ||
	    put_list(f, "announce", wc->announce, wc->nannounce) == -1 ||
	    put_key(f, "", "stateDir", d, "state") == -1 ||
	    put_key(f, "", "keyDir", d, "keys") == -1 ||
	    put_key(f, "", "emptyDir", d, "empty") == -1 ||
	    put_key(f, "", "controlSocket", d, "ctl.sock") == -1)
		return -1;
	fprintf(f, "admin:\n  listen: \"\"\n");
	fprintf(f, "relay:\n  hop:\n    enabled: %s\n",
	    wc->hop ? "true" : "false");
	fprintf(f, "gossipSub:\n  enabled: %s\n",
	    wc->gossip ? "true" : "false");
	if (wc->heartbeat > 0)
		fprintf(f, "  heartbeatInterval: %lld\n", wc->heartbeat);
	if (wc->maxconns > 0)
		fprintf(f, "connectionManager:\n  maxConnections: %lld\n"
		    "  minConnections: %lld\n", wc->maxconns,
		    wc->maxconns < 10 ? wc->maxconns : 10);
	fprintf(f, "daemonApi:\n");
	return put_key(f, "  ", "listen", NULL, wc->api);
}

/* The directory, the configuration, the key; -1 with the reason said. */
int
conf_write(struct wrapconf *wc)
{
	const char	*tmp = getenv("TMPDIR");
	char		 path[PATH_MAX];
	FILE		*f;
	int		 fd, r;

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(wc->dir, sizeof(wc->dir), "%s/%s.XXXXXX", tmp,
	    WRAP_NAME) >= sizeof(wc->dir) || mkdtemp(wc->dir) == NULL) {
		fprintf(stderr, "%s: mkdtemp in %s: %s\n", WRAP_NAME, tmp,
		    strerror(errno));
		wc->dir[0] = '\0';
		return -1;
	}
	/* peerd's users go through it to their own directories */
	if (chmod(wc->dir, 0755) == -1)
		goto fail;
	if ((size_t)snprintf(path, sizeof(path), "%s/peerd.conf", wc->dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	r = put_conf(f, wc);
	if (fclose(f) == EOF)
		goto fail;
	if (r == -1) {
		fprintf(stderr, "%s: a path or address does not fit in a "
		    "configuration\n", WRAP_NAME);
		return -1;
	}
	if (wc->idfile != NULL && ((size_t)snprintf(path, sizeof(path),
	    "%s/keys", wc->dir) >= sizeof(path) ||
	    key_install(wc, path, CONF_KEYUSER) == -1))
		return -1;
	return 0;
 fail:
	fprintf(stderr, "%s: %s: %s\n", WRAP_NAME, wc->dir, strerror(errno));
	return -1;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) == -1)
		fprintf(stderr, "%s: remove %s: %s\n", WRAP_NAME, path,
		    strerror(errno));
	return 0;
}

/* The directory and all in it, and the daemon API socket if left. */
void
conf_remove(const struct wrapconf *wc)
{
	struct stat	 sb;

	if (wc->dir[0] != '\0')
		nftw(wc->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (wc->sock[0] != '\0' && lstat(wc->sock, &sb) == 0 &&
	    S_ISSOCK(sb.st_mode))
		unlink(wc->sock);
}
