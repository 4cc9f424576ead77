/*
 * peerd-p2pd: started as go-libp2p-daemon's p2pd is, it runs peerd with
 * an equivalent configuration in a temporary directory, prints p2pd's
 * ready lines once the daemon API answers, and on SIGTERM, SIGINT or
 * SIGHUP stops peerd and removes what it made.  Everything is checked
 * before anything starts.  Our stdout carries only p2pd's lines; peerd
 * writes to our stderr.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "privsep.h"
#include "p2pdwrap.h"

#define READY_TIMEOUT	20	/* s for the daemon API to answer */
#define STOP_TIMEOUT	10	/* s after SIGTERM before SIGKILL */

static struct wrapconf	 wc;
static sigset_t		 sigs;

__attribute__((__noreturn__))
static void
leave(int status)
{
	conf_remove(&wc);
	reaper_done();
	exit(status);
}

/* A socket someone answers on is another daemon's: never ours to take. */
static void
check_free(void)
{
	struct sockaddr_un	 sun;
	int			 fd, r;

	if (wc.sock[0] == '\0')
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, wc.sock, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0) {
		fprintf(stderr, "%s: -listen %s is in use: is a daemon "
		    "already running there?\n", WRAP_NAME, wc.api);
		exit(1);
	}
}

static pid_t
start_peerd(void)
{
	char	*peerd, conf[PATH_MAX];
	pid_t	 pid;

	peerd = privsep_sibling_path("peerd");
	if ((size_t)snprintf(conf, sizeof(conf), "%s/peerd.conf", wc.dir) >=
	    sizeof(conf) || (pid = fork()) == -1) {
		fprintf(stderr, "%s: fork: %s\n", WRAP_NAME, strerror(errno));
		leave(1);
	}
	if (pid == 0) {
		/* a group of its own: a terminal's ^C is ours to pass on */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		if (dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			_exit(127);
		execl(peerd, "peerd", "-d", "-f", conf, (char *)NULL);
		fprintf(stderr, "%s: %s: %s\n", WRAP_NAME, peerd,
		    strerror(errno));
		_exit(127);
	}
	free(peerd);
	/* peerd's group: the child's own, set on both sides of the fork */
	setpgid(pid, pid);
	reaper_start(&wc, pid);
	return pid;
}

/* Our exit status for peerd's: never 0, it was not asked to stop. */
static int
exit_status(int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* SIGTERM, then SIGKILL to its group after STOP_TIMEOUT; reaped. */
static void
stop_peerd(pid_t pid)
{
	struct timespec	 ts = { 0, 100000000 };
	int		 i, status;

	kill(pid, SIGTERM);
	for (i = 0; i < STOP_TIMEOUT * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		sigtimedwait(&sigs, NULL, &ts);
	}
	fprintf(stderr, "%s: peerd did not stop within %d s: killed\n",
	    WRAP_NAME, STOP_TIMEOUT);
	killpg(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* A signal to stop on, or peerd's end, within the time given. */
static void
wait_events(pid_t pid, const struct timespec *ts)
{
	int	 sig, status;

	sig = ts != NULL ? sigtimedwait(&sigs, NULL, ts) :
	    sigwaitinfo(&sigs, NULL);
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
		stop_peerd(pid);
		leave(0);
	}
	if (waitpid(pid, &status, WNOHANG) == pid) {
		fprintf(stderr, "%s: peerd exited (%s %d)\n", WRAP_NAME,
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		leave(exit_status(status));
	}
}

static void
run(void)
{
	struct timespec	 tick = { 0, 100000000 }, now, end;
	struct ready	 rd;
	pid_t		 pid;

	pid = start_peerd();
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += READY_TIMEOUT;
	for (;;) {
		wait_events(pid, &tick);
		if (ready_probe(&wc, &rd))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec)) {
			fprintf(stderr, "%s: the daemon API at %s did not "
			    "answer IDENTIFY within %d s\n", WRAP_NAME,
			    wc.api, READY_TIMEOUT);
			stop_peerd(pid);
			leave(1);
		}
	}
	ready_print(&wc, &rd);
	ready_free(&rd);
	for (;;)
		wait_events(pid, NULL);
}

int
main(int argc, char *argv[])
{
	char	 err[256];

	log_init(1, LOG_DAEMON);
	if (sodium_init() == -1) {
		fprintf(stderr, "%s: sodium_init failed\n", WRAP_NAME);
		return 1;
	}
	flags_parse(argc, argv);
	options_map(&wc);
	if (wc.idfile != NULL)
		key_read(&wc);
	if (conf_users(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", WRAP_NAME, err);
		return 1;
	}
	check_free();
	/* a reader gone is no reason to leave peerd and the directory */
	signal(SIGPIPE, SIG_IGN);
	/* from here every way out goes through leave() */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (conf_write(&wc) == -1) {
		explicit_bzero(wc.key, sizeof(wc.key));
		leave(1);
	}
	explicit_bzero(wc.key, sizeof(wc.key));
	run();
	return 0;
}
