/*
 * fork + exec of the children with their channel to the parent on fd 3,
 * and the privilege drop every child makes before it reads a message.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

pid_t
privsep_exec(const char *path, char *const argv[], int fd)
{
	pid_t	 pid;

	switch (pid = fork()) {
	case -1:
		return -1;
	case 0:
		break;
	default:
		return pid;
	}
	if (fd == PROC_PARENT_FD) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(fd, PROC_PARENT_FD) == -1)
		_exit(127);
	execv(path, argv);
	fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/*
 * Command line of a child:
 * [role] -F facility -L format [-d] [-v...] -u user -r root
 */
void
privsep_argv(const struct privsep_opts *o, const char *path, const char *role,
    char *argv[], size_t max)
{
	static char	 fac[16];
	size_t		 n = 0;
	int		 i;

	snprintf(fac, sizeof(fac), "%d", o->facility);
	argv[n++] = (char *)(uintptr_t)path;
	if (role != NULL)
		argv[n++] = (char *)(uintptr_t)role;
	argv[n++] = "-F";
	argv[n++] = fac;
	argv[n++] = o->logformat ? "-Ljson" : "-Ltext";
	if (o->debug)
		argv[n++] = "-d";
	for (i = 0; i < o->verbose && n + 6 < max; i++)
		argv[n++] = "-v";
	argv[n++] = "-u";
	argv[n++] = (char *)(uintptr_t)o->user;
	argv[n++] = "-r";
	argv[n++] = (char *)(uintptr_t)o->root;
	argv[n] = NULL;
}

static void
privsep_usage(const char *name)
{
	fprintf(stderr, "%s is started by peerd(8) and takes no options of "
	    "its own\n", name);
	exit(1);
}

/* Parse the child's command line, check its channel, start logging. */
void
privsep_child_init(int argc, char *argv[], const char *name,
    struct privsep_opts *o)
{
	struct stat	 sb;
	const char	*errstr;
	int		 ch;

	memset(o, 0, sizeof(*o));
	o->facility = LOG_DAEMON;
	optind = 1;
	while ((ch = getopt(argc, argv, "dF:L:r:u:v")) != -1) {
		switch (ch) {
		case 'd':
			o->debug = 1;
			break;
		case 'F':
			o->facility = strtonum(optarg, 0, INT_MAX, &errstr);
			if (errstr != NULL)
				privsep_usage(name);
			break;
		case 'L':
			o->logformat = strcmp(optarg, "json") == 0;
			break;
		case 'r':
			o->root = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			privsep_usage(name);
		}
	}
	if (optind != argc || o->root == NULL || o->user == NULL)
		privsep_usage(name);
	if (fstat(PROC_PARENT_FD, &sb) == -1 || !S_ISSOCK(sb.st_mode))
		privsep_usage(name);
	if (fcntl(PROC_PARENT_FD, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fcntl");
	log_init(o->debug, o->facility);
	log_procinit(name);
	log_setverbose(o->verbose);
	log_setformat(o->logformat);
	if (strcmp(getprogname(), name) != 0)
		setproctitle("%s", name);
}

/*
 * chroot, chdir, setgroups, setresgid, setresuid, no_new_privs, in this
 * order; any failure is fatal.  Without root: chdir only, and a warning
 * from the parent says so.
 */
void
privsep_drop(const char *user, const char *root)
{
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid;

	if (geteuid() != 0) {
		if (chdir(root) == -1)
			fatal("chdir %s", root);
	} else {
		if ((pw = getpwnam(user)) == NULL)
			fatalx("unknown user %s", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (chroot(root) == -1)
			fatal("chroot %s", root);
		if (chdir("/") == -1)
			fatal("chdir /");
		if (setgroups(1, &gid) == -1)
			fatal("setgroups");
		if (setresgid(gid, gid, gid) == -1)
			fatal("setresgid");
		if (setresuid(uid, uid, uid) == -1)
			fatal("setresuid");
		if (setuid(0) != -1 || geteuid() != uid)
			fatalx("could not drop privileges to %s", user);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl no_new_privs");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		fatal("prctl pdeathsig");
}

/* Path of a program installed beside the running one. */
char *
privsep_sibling_path(const char *name)
{
	char	 self[PATH_MAX], *slash, *path;
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (asprintf(&path, "%s/%s", self, name) == -1)
		fatal("asprintf");
	return path;
}
