/*
 * seccomp filters (libseccomp).  A child, once started and configured to
 * run, may make only the system calls its role needs; the parent, once
 * the suite is up, anything but the calls that would reach into another
 * process or the kernel.  A call outside the filter traps: the process
 * names it in its log and dies by SIGSYS, which the parent reports.
 * Trapping rather than killing outright is what lets the log name the
 * call; the call itself never runs either way.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#ifdef PEERD_SANDBOX
#include <seccomp.h>
#endif

#include "log.h"
#include "sandbox.h"

static int	 status_fd = -1;

/* What /proc/self/status says of this process's seccomp mode. */
const char *
sandbox_state(char *buf, size_t len)
{
	char	 st[4096], *p;
	ssize_t	 n;

	strlcpy(buf, "unknown", len);
	if (status_fd == -1 ||
	    (n = pread(status_fd, st, sizeof(st) - 1, 0)) <= 0)
		return buf;
	st[n] = '\0';
	if ((p = strstr(st, "\nSeccomp:")) == NULL)
		return buf;
	p += strlen("\nSeccomp:");
	p += strspn(p, " \t");
	switch (*p) {
	case '0':
		strlcpy(buf, "none", len);
		break;
	case '1':
		strlcpy(buf, "seccomp strict", len);
		break;
	case '2':
		strlcpy(buf, "seccomp filter", len);
		break;
	}
	return buf;
}

#ifndef PEERD_SANDBOX

void
sandbox_prepare(void)
{
	if (status_fd == -1)
		status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
}

void
sandbox_enter(enum proc_id id)
{
	log_debug("built without a sandbox (-Dsandbox=false)");
}

#else

#define SB_NSYS		512		/* beyond the highest x86-64 number */
#define SB_SYS_SECCOMP	1		/* si_code of a seccomp trap */

static const char	*sysnames[SB_NSYS];
static pid_t		 sb_pid;

/*
 * Opened and resolved before the chroot: the status file sandbox_state
 * reads, and the names of the system calls for the trap's log line.
 */
void
sandbox_prepare(void)
{
	int	 nr;

	if (status_fd == -1)
		status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	for (nr = 0; nr < SB_NSYS; nr++)
		if (sysnames[nr] == NULL)
			sysnames[nr] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);
}

/*
 * The call runs in our own code, at a system call the filter refused:
 * the locks logit takes are not held there, as the calls that take them
 * are allowed.  The handler was reset on entry, so the signal kills.
 */
static void
sandbox_trap(int sig, siginfo_t *si, void *ctx)
{
	int	 nr = si->si_syscall;

	if (si->si_code == SB_SYS_SECCOMP)
		logit(LOG_CRIT, "sandbox_violation syscall=%s nr=%d",
		    nr >= 0 && nr < SB_NSYS && sysnames[nr] != NULL ?
		    sysnames[nr] : "unknown", nr);
	kill(sb_pid, SIGSYS);
}

static void
sb_rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int n,
    const struct scmp_arg_cmp *cmp)
{
	int	 rc;

	if ((rc = seccomp_rule_add_array(ctx, action, nr, n, cmp)) < 0)
		fatalx("seccomp rule for %s: %s", sysnames[nr] != NULL ?
		    sysnames[nr] : "?", strerror(-rc));
}

static void
sb_allow(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sb_rule(ctx, SCMP_ACT_ALLOW, nrs[i], 0, NULL);
}

/* An argument's comparison, every field set (libseccomp's leave one out). */
#define SB_CMP(n, op, a, b)	((struct scmp_arg_cmp){ (n), (op), (a), (b) })
#define SB_EQ(n, v)		SB_CMP(n, SCMP_CMP_EQ, v, 0)
#define SB_NE(n, v)		SB_CMP(n, SCMP_CMP_NE, v, 0)
#define SB_MASKED(n, m, v)	SB_CMP(n, SCMP_CMP_MASKED_EQ, m, v)
#define SB_ALLOW(ctx, set)	sb_allow(ctx, set, sizeof(set) / sizeof(set[0]))
#define SB_ARG(ctx, nr, ...)	do {					\
	const struct scmp_arg_cmp c_[] = { __VA_ARGS__ };		\
	sb_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(nr),			\
	    sizeof(c_) / sizeof(c_[0]), c_);				\
} while (0)

/* Every child: its channels, its loop, memory, time, randomness, exit. */
static const int sb_base[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(getrandom),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
	SCMP_SYS(pread64), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(sysinfo),		/* qsort(3) sizes its buffer by it */
};

/* keyd: its key files, in its chroot, and the key's locked pages. */
static const int sb_keyd[] = {
	SCMP_SYS(fsync), SCMP_SYS(fchmod), SCMP_SYS(rename),
	SCMP_SYS(link), SCMP_SYS(unlink), SCMP_SYS(mlock), SCMP_SYS(munlock),
};

/* stored: LMDB's files and their mappings, backups, in its chroot. */
static const int sb_stored[] = {
	SCMP_SYS(openat), SCMP_SYS(pwrite64), SCMP_SYS(fsync),
	SCMP_SYS(fdatasync), SCMP_SYS(msync), SCMP_SYS(ftruncate),
	SCMP_SYS(statfs), SCMP_SYS(fstatfs), SCMP_SYS(uname),
	SCMP_SYS(fchmod), SCMP_SYS(rename), SCMP_SYS(unlink), SCMP_SYS(flock),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
};

/* The engine: the sockets it accepts, dials and reads. */
static const int sb_engine[] = {
	SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(connect),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(shutdown),
};

#ifdef PEERD_SANITIZER
/* What ASan and UBSan call at run time and to write a report. */
static const int sb_sanitizer[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield), SCMP_SYS(prctl),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(prlimit64),
	SCMP_SYS(getrlimit), SCMP_SYS(mincore), SCMP_SYS(pipe2),
	SCMP_SYS(uname), SCMP_SYS(sched_getaffinity),
};

/* Its report reads /proc/self/maps; abort_on_error raises SIGABRT. */
static void
sb_sanitizer_args(scmp_filter_ctx ctx)
{
	SB_ALLOW(ctx, sb_sanitizer);
	SB_ARG(ctx, openat, SB_MASKED(2, O_ACCMODE, O_RDONLY));
	SB_ARG(ctx, tgkill, SB_EQ(2, SIGABRT));
}
#endif

/* The parent after start: no reaching into another process or the kernel. */
static const int sb_parent_deny[] = {
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev), SCMP_SYS(init_module),
	SCMP_SYS(finit_module), SCMP_SYS(delete_module),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(bpf),
	SCMP_SYS(perf_event_open), SCMP_SYS(mount), SCMP_SYS(umount2),
	SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(swapon),
	SCMP_SYS(swapoff), SCMP_SYS(reboot), SCMP_SYS(setns),
	SCMP_SYS(unshare), SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at), SCMP_SYS(keyctl), SCMP_SYS(add_key),
	SCMP_SYS(request_key), SCMP_SYS(userfaultfd), SCMP_SYS(iopl),
	SCMP_SYS(ioperm), SCMP_SYS(acct), SCMP_SYS(settimeofday),
	SCMP_SYS(clock_settime), SCMP_SYS(clock_adjtime), SCMP_SYS(adjtimex),
	SCMP_SYS(quotactl), SCMP_SYS(syslog), SCMP_SYS(vhangup),
	SCMP_SYS(uselib), SCMP_SYS(kcmp), SCMP_SYS(execve),
	SCMP_SYS(execveat), SCMP_SYS(fanotify_init), SCMP_SYS(lookup_dcookie),
	SCMP_SYS(personality), SCMP_SYS(io_uring_setup),
};

/* Memory never executable; signals other than SIGSYS; our own SIGSYS. */
static void
sb_child_args(scmp_filter_ctx ctx)
{
	SB_ARG(ctx, mmap, SB_MASKED(2, PROT_EXEC, 0));
	SB_ARG(ctx, mprotect, SB_MASKED(2, PROT_EXEC, 0));
	SB_ARG(ctx, rt_sigaction, SB_NE(0, SIGSYS));
	SB_ARG(ctx, kill, SB_EQ(0, (scmp_datum_t)sb_pid),
	    SB_EQ(1, SIGSYS));
	SB_ARG(ctx, fcntl, SB_EQ(1, F_GETFL));
	SB_ARG(ctx, fcntl, SB_EQ(1, F_SETFL));
	SB_ARG(ctx, fcntl, SB_EQ(1, F_GETFD));
	SB_ARG(ctx, fcntl, SB_EQ(1, F_SETFD));
	/* syslog(3) reconnects after a syslogd restart: refused, not fatal */
	sb_rule(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
	    &SB_EQ(0, AF_UNIX));
}

/* Key files: read, or created new (O_EXCL) and renamed into place. */
static void
sb_keyd_args(scmp_filter_ctx ctx)
{
	SB_ARG(ctx, openat, SB_MASKED(2, O_ACCMODE, O_RDONLY));
	SB_ARG(ctx, openat, SB_MASKED(2, O_ACCMODE | O_CREAT | O_EXCL,
	    O_WRONLY | O_CREAT | O_EXCL));
}

/*
 * LMDB's locks on its lock file, and the thread of its compacting copy
 * (a backup): clone only with CLONE_THREAD, never a new process; clone3,
 * whose flags a filter cannot see, fails so that glibc falls back to
 * clone.
 */
static void
sb_stored_args(scmp_filter_ctx ctx)
{
	SB_ARG(ctx, fcntl, SB_EQ(1, F_SETLK));
	SB_ARG(ctx, fcntl, SB_EQ(1, F_SETLKW));
	SB_ARG(ctx, fcntl, SB_EQ(1, F_GETLK));
	SB_ARG(ctx, clone, SB_MASKED(0, CLONE_THREAD, CLONE_THREAD));
	sb_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
}

/* TCP over IPv4 and IPv6, nothing else; libevent's FIONREAD. */
static void
sb_engine_args(scmp_filter_ctx ctx)
{
	static const int	 af[] = { AF_INET, AF_INET6 };
	static const int	 proto[] = { 0, IPPROTO_TCP };
	size_t			 i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			SB_ARG(ctx, socket, SB_EQ(0, af[i]),
			    SB_MASKED(1, 0xf, SOCK_STREAM),
			    SB_EQ(2, proto[j]));
	SB_ARG(ctx, ioctl, SB_EQ(1, FIONREAD));
}

/* No packet capture or raw sockets for root, which the parent still is. */
static void
sb_parent_args(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp	 packet = SB_EQ(0, AF_PACKET);
	const struct scmp_arg_cmp	 raw = SB_MASKED(1, 0xf, SOCK_RAW);

	sb_rule(ctx, SCMP_ACT_TRAP, SCMP_SYS(socket), 1, &packet);
	sb_rule(ctx, SCMP_ACT_TRAP, SCMP_SYS(socket), 1, &raw);
}

static void
sb_trap_handler(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_trap;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("sigaction SIGSYS");
}

static void
sb_child_rules(scmp_filter_ctx ctx, enum proc_id id)
{
	SB_ALLOW(ctx, sb_base);
	sb_child_args(ctx);
	switch (id) {
	case PROC_ENGINE:
		SB_ALLOW(ctx, sb_engine);
		sb_engine_args(ctx);
		break;
	case PROC_KEYD:
		SB_ALLOW(ctx, sb_keyd);
		sb_keyd_args(ctx);
		break;
	case PROC_STORED:
		SB_ALLOW(ctx, sb_stored);
		sb_stored_args(ctx);
		break;
	default:
		break;
	}
#ifdef PEERD_SANITIZER
	sb_sanitizer_args(ctx);
#endif
}

/*
 * The filter of a process, loaded after sandbox_prepare; from here on it
 * cannot be lifted.
 */
void
sandbox_enter(enum proc_id id)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc;

	sb_pid = getpid();
	if (id == PROC_PARENT) {
		if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
			fatalx("seccomp_init");
		for (i = 0; i < sizeof(sb_parent_deny) /
		    sizeof(sb_parent_deny[0]); i++)
			sb_rule(ctx, SCMP_ACT_TRAP, sb_parent_deny[i], 0, NULL);
		sb_parent_args(ctx);
	} else {
		if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
			fatalx("seccomp_init");
		sb_child_rules(ctx, id);
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0)
		fatalx("seccomp bad arch action: %s", strerror(-rc));
	sb_trap_handler();
	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	log_debug("sandbox: seccomp filter loaded");
}

#endif /* PEERD_SANDBOX */
