/*
 * Each process's seccomp filter (common/sandbox.c), call by call: in a
 * forked copy that enters the filter of the role, what the role needs
 * works, what it must not do kills the copy by SIGSYS with a log line
 * naming the call, and a UNIX socket (syslog's reconnect) is refused
 * with EACCES.  A file is opened for writing where one must not be
 * opened at all: a sanitizer build lets every process read its maps.
 * The live processes are sandbox.py's.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "tap.h"

enum want { LIVES, REFUSED, KILLED };

struct sb_case {
	enum proc_id	 role;
	const char	*what;
	enum want	 want;
	const char	*call;		/* the name the log line gives */
	long		 nr;
	long		 a[6];
};

#define AT_CWD		(-100L)
#define RW_ANON		(MAP_PRIVATE | MAP_ANONYMOUS)

static const struct sb_case cases[] = {
	{ PROC_ENGINE, "a TCP socket", LIVES, NULL, SYS_socket,
	    { AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0 } },
	{ PROC_ENGINE, "a TCP socket over IPv6", LIVES, NULL, SYS_socket,
	    { AF_INET6, SOCK_STREAM, IPPROTO_TCP } },
	{ PROC_ENGINE, "a UDP socket", KILLED, "socket", SYS_socket,
	    { AF_INET, SOCK_DGRAM, 0 } },
	{ PROC_ENGINE, "a raw socket", KILLED, "socket", SYS_socket,
	    { AF_INET, SOCK_RAW, 1 } },
	{ PROC_ENGINE, "a UNIX socket", REFUSED, NULL, SYS_socket,
	    { AF_UNIX, SOCK_DGRAM, 0 } },
	{ PROC_ENGINE, "anonymous memory", LIVES, NULL, SYS_mmap,
	    { 0, 4096, PROT_READ | PROT_WRITE, RW_ANON, -1, 0 } },
	{ PROC_ENGINE, "executable memory", KILLED, "mmap", SYS_mmap,
	    { 0, 4096, PROT_READ | PROT_EXEC, RW_ANON, -1, 0 } },
	{ PROC_ENGINE, "opening a file", KILLED, "openat", SYS_openat,
	    { AT_CWD, (long)"/dev/null", O_WRONLY } },
	{ PROC_ENGINE, "fcntl F_SETOWN", KILLED, "fcntl", SYS_fcntl,
	    { 0, F_SETOWN, 0 } },
	{ PROC_ENGINE, "a new SIGSYS handler", KILLED, "rt_sigaction",
	    SYS_rt_sigaction, { SIGSYS, 0, 0, 8 } },
	{ PROC_ENGINE, "execve", KILLED, "execve", SYS_execve,
	    { (long)"/bin/true", 0, 0 } },
	{ PROC_ENGINE, "ioctl FIONREAD", LIVES, NULL, SYS_ioctl,
	    { 0, FIONREAD, 0 } },
	{ PROC_ENGINE, "ioctl TIOCSTI", KILLED, "ioctl", SYS_ioctl,
	    { 0, TIOCSTI, 0 } },
	{ PROC_KEYD, "reading a file", LIVES, NULL, SYS_openat,
	    { AT_CWD, (long)"/dev/null", O_RDONLY | O_CLOEXEC } },
	{ PROC_KEYD, "a new file, exclusively", LIVES, NULL, SYS_openat,
	    { AT_CWD, (long)"/nonexistent/dir/k", O_WRONLY | O_CREAT |
	    O_EXCL, 0600 } },
	{ PROC_KEYD, "a file opened read-write", KILLED, "openat",
	    SYS_openat, { AT_CWD, (long)"/dev/null", O_RDWR } },
	{ PROC_KEYD, "a file truncated", KILLED, "openat", SYS_openat,
	    { AT_CWD, (long)"/dev/null", O_WRONLY | O_TRUNC } },
	{ PROC_KEYD, "a TCP socket", KILLED, "socket", SYS_socket,
	    { AF_INET, SOCK_STREAM, 0 } },
	{ PROC_KEYD, "a UNIX socket", REFUSED, NULL, SYS_socket,
	    { AF_UNIX, SOCK_DGRAM, 0 } },
	{ PROC_KEYD, "locking memory", LIVES, NULL, SYS_munlock,
	    { 0, 0 } },
	{ PROC_KEYD, "connect", KILLED, "connect", SYS_connect, { 0, 0, 0 } },
	{ PROC_STORED, "opening its database", LIVES, NULL, SYS_openat,
	    { AT_CWD, (long)"/dev/null", O_RDWR } },
	{ PROC_STORED, "a TCP socket", KILLED, "socket", SYS_socket,
	    { AF_INET, SOCK_STREAM, 0 } },
	{ PROC_STORED, "LMDB's lock", LIVES, NULL, SYS_fcntl,
	    { 0, F_GETLK, 0 } },
	{ PROC_STORED, "ptrace", KILLED, "ptrace", SYS_ptrace,
	    { PTRACE_TRACEME, 0, 0, 0 } },
	{ PROC_STORED, "accept", KILLED, "accept4", SYS_accept4,
	    { 0, 0, 0, 0 } },
	{ PROC_RELAYD, "opening a file", KILLED, "openat", SYS_openat,
	    { AT_CWD, (long)"/dev/null", O_WRONLY } },
	{ PROC_RELAYD, "a TCP socket", KILLED, "socket", SYS_socket,
	    { AF_INET, SOCK_STREAM, 0 } },
	{ PROC_RELAYD, "its randomness", LIVES, NULL, SYS_getrandom,
	    { 0, 0, 0 } },
	{ PROC_RELAYD, "fork", KILLED, "clone", SYS_clone,
	    { SIGCHLD, 0, 0, 0, 0 } },
	{ PROC_PARENT, "a UDP socket", LIVES, NULL, SYS_socket,
	    { AF_INET, SOCK_DGRAM, 0 } },
	{ PROC_PARENT, "opening a file", LIVES, NULL, SYS_openat,
	    { AT_CWD, (long)"/dev/null", O_RDONLY } },
	{ PROC_PARENT, "ptrace", KILLED, "ptrace", SYS_ptrace,
	    { PTRACE_TRACEME, 0, 0, 0 } },
	{ PROC_PARENT, "loading a module", KILLED, "finit_module",
	    SYS_finit_module, { -1, 0, 0 } },
	{ PROC_PARENT, "execve", KILLED, "execve", SYS_execve,
	    { (long)"/bin/true", 0, 0 } },
	{ PROC_PARENT, "bpf", KILLED, "bpf", SYS_bpf, { 0, 0, 0 } },
	{ PROC_PARENT, "a raw socket", KILLED, "socket", SYS_socket,
	    { AF_INET, SOCK_RAW, 1 } },
	{ PROC_PARENT, "a packet socket", KILLED, "socket", SYS_socket,
	    { AF_PACKET, SOCK_DGRAM, 0 } },
};

/* The case in a forked copy: how it ended, and its stderr in out. */
static int
run_case(const struct sb_case *c, char *out, size_t len)
{
	const long	*a = c->a;
	ssize_t		 n, got = 0;
	pid_t		 pid;
	long		 r;
	int		 p[2], status;

	fflush(stdout);
	if (pipe(p) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		alarm(10);
		sandbox_enter(c->role);
		errno = 0;
		r = syscall(c->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		_exit(r == -1 && errno == EACCES ? 3 : 0);
	}
	close(p[1]);
	while (got < (ssize_t)len - 1 &&
	    (n = read(p[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return status;
}

static void
check_case(const struct sb_case *c)
{
	char	 out[2048], want[128];
	int	 status, pass;

	status = run_case(c, out, sizeof(out));
	snprintf(want, sizeof(want), "sandbox_violation syscall=%s nr=%ld",
	    c->call != NULL ? c->call : "", c->nr);
	switch (c->want) {
	case KILLED:
		pass = status != -1 && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGSYS && strstr(out, want) != NULL;
		break;
	case REFUSED:
		pass = status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 3;
		break;
	default:
		pass = status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) != 3 &&
		    strstr(out, "sandbox_violation") == NULL;
		break;
	}
	ok(pass, "%s: %s %s", proc_name(c->role), c->what,
	    c->want == KILLED ? "kills it by SIGSYS, named in its log" :
	    c->want == REFUSED ? "is refused with EACCES" : "is allowed");
	if (!pass)
		printf("# wait status %#x (%s %d), stderr: %.300s\n", status,
		    WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status), out);
}

int
main(void)
{
	char	 st[32];
	size_t	 i;

	log_init(1, 0);
	log_procinit("test");
	sandbox_prepare();
	ok(strcmp(sandbox_state(st, sizeof(st)), "none") == 0,
	    "before any filter, /proc/self/status says none: %s", st);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	return tap_done();
}
