/*
 * A harness may kill the wrapper with SIGKILL, which it cannot catch:
 * @libp2p/interop waits 5 s after SIGTERM, and a sanitizer build of
 * peerd takes longer to stop.  peerd gets SIGTERM when the wrapper dies
 * (its parent-death signal), and this process of its own, in a session
 * of its own, then waits for peerd's process group to end and removes
 * the directory.  The wrapper's normal ways out tell it to do nothing.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "p2pdwrap.h"

#define REAPER_WAIT	10	/* s for peerd to stop before SIGKILL */

static int	 reaper_fd = -1;
static pid_t	 reaper_pid = -1;

/* Until peerd's process group is gone, or SIGKILL after REAPER_WAIT. */
static void
reaper_wait(pid_t pgid)
{
	struct timespec	 ts = { 0, 100000000 };
	int		 i;

	for (i = 0; i < REAPER_WAIT * 10; i++) {
		if (killpg(pgid, 0) == -1 && errno == ESRCH)
			return;
		nanosleep(&ts, NULL);
	}
	killpg(pgid, SIGKILL);
	nanosleep(&ts, NULL);
}

__attribute__((__noreturn__))
static void
reaper_run(const struct wrapconf *wc, pid_t pgid, int fd)
{
	char	 c;
	ssize_t	 n;
	int	 null;

	setsid();
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* the harness's pipes are not held open by us */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);	/* the wrapper cleaned up itself */
	reaper_wait(pgid);
	conf_remove(wc);
	_exit(0);
}

/* The reaper for peerd's group pgid; reaper_done() before every exit. */
void
reaper_start(const struct wrapconf *wc, pid_t pgid)
{
	sigset_t	 none;
	int		 fd[2];

	if (pipe2(fd, O_CLOEXEC) == -1)
		return;
	switch ((reaper_pid = fork())) {
	case -1:
		close(fd[0]);
		close(fd[1]);
		return;
	case 0:
		close(fd[1]);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		reaper_run(wc, pgid, fd[0]);
	}
	close(fd[0]);
	reaper_fd = fd[1];
}

void
reaper_done(void)
{
	if (reaper_fd == -1)
		return;
	/* if it cannot be told, it finds peerd gone and the directory too */
	if (write(reaper_fd, "", 1) != 1)
		close(reaper_fd);
	/* reaped here: an orphan's end waits for init, which may not reap */
	waitpid(reaper_pid, NULL, 0);
}
