/*
 * The parent: owns the configuration and the control sockets, starts the
 * children, hands out the channels between them, reloads, and takes the
 * whole suite down when any part of it dies.  Calls common/ only: the
 * engine is a child like the others (peerd -E), reached by messages.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "config.h"
#include "imsgev.h"
#include "log.h"
#include "msg.h"
#include "multiaddr.h"
#include "passfile.h"
#include "peerd.h"
#include "privsep.h"
#include "sandbox.h"

/* A configuration queued at once: its lists may hold 65536 entries each. */
#define RECONF_QUEUE	(32 * 1024 * 1024)
#define LOCKDOWN_WAIT	3	/* seconds a stage of lockdown waits */
#define LOCKDOWN_MAXCTL	8	/* control requests waiting on one */

struct child_proc {
	pid_t		 pid;
	struct imsgev	 iev;
	const char	*user;
	const char	*root;
};

static struct {
	struct peerd_conf	*conf;
	const char		*file;
	int			 file_explicit;
	struct privsep_opts	 opts;
	struct child_proc	 procs[PROC_MAX];
	int			 shutting_down;
	int			 exitcode;
	time_t			 deadline;
	struct event		 ev_reap;
	struct event		 ev_hangup;
} parent;

/*
 * Lockdown, in stages: keyd first (the key is what must stop doing
 * harm), then the engine, stored and relayd; each answers, or is named
 * late after LOCKDOWN_WAIT.  Then the control requests are answered.
 */
enum { LD_NONE, LD_KEYD, LD_OTHERS, LD_DONE };

static struct {
	int			 stage;
	uint32_t		 waiting;	/* P_* that owe an answer */
	uint32_t		 late;		/* P_* that did not answer */
	uint32_t		 ctl[LOCKDOWN_MAXCTL];
	int			 nctl;
	struct event		 ev_wait;
} lock;

static const struct {
	enum proc_id	 a, b;
} channels[] = {
	{ PROC_ENGINE, PROC_KEYD },
	{ PROC_ENGINE, PROC_STORED },
	{ PROC_ENGINE, PROC_RELAYD },
	{ PROC_RELAYD, PROC_KEYD },
	{ PROC_RELAYD, PROC_STORED },
};

static void	 parent_dispatch(int, short, void *);
static void	 parent_shutdown(int);
static void	 send_to(enum proc_id, uint32_t, uint32_t, int, const void *,
		    size_t);

static void
mkdir_parents(const char *path)
{
	char	 buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		fatalx("%s: path too long", path);
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", buf);
		*p = '/';
	}
}

/*
 * Make sure a directory exists with the given owner and no access for
 * others; create it when missing, refuse when it is someone else's.
 */
static void
prepare_dir(const char *what, const char *path, const char *user, mode_t mode,
    int strict)
{
	struct passwd	*pw = NULL;
	struct stat	 sb;
	uid_t		 uid = geteuid();
	gid_t		 gid = getegid();

	if (uid == 0 && user != NULL) {
		if ((pw = getpwnam(user)) == NULL)
			fatalx("user %s does not exist", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	mkdir_parents(path);
	if (mkdir(path, mode) == 0) {
		if (geteuid() == 0 && chown(path, uid, gid) == -1)
			fatal("chown %s", path);
		if (chmod(path, mode) == -1)
			fatal("chmod %s", path);
		log_info("created %s %s", what, path);
	} else if (errno != EEXIST)
		fatal("%s %s", what, path);
	if (lstat(path, &sb) == -1)
		fatal("%s %s", what, path);
	if (!S_ISDIR(sb.st_mode))
		fatalx("%s %s is not a directory", what, path);
	if (geteuid() != 0)
		return;
	if (sb.st_uid != uid)
		fatalx("%s %s is owned by uid %u, not by %s; fix it with "
		    "chown %s %s", what, path, sb.st_uid, user ? user : "root",
		    user ? user : "root", path);
	if (strict && (sb.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("%s %s is writable by group or others; fix it with "
		    "chmod go-w %s", what, path, path);
	if (strict > 1 && (sb.st_mode & (S_IRWXG | S_IRWXO)))
		fatalx("%s %s is open to group or others; fix it with "
		    "chmod 700 %s", what, path, path);
}

static void
check_users(const struct peerd_conf *conf)
{
	const char	*users[] = { conf->user, conf->key_user };
	size_t		 i;

	for (i = 0; i < 2; i++)
		if (getpwnam(users[i]) == NULL)
			fatalx("user %s does not exist; create the users with "
			    "peerd-setup (etc/peerd-setup in the source tree) "
			    "or: useradd -r -d /var/empty -s /usr/sbin/nologin "
			    "%s", users[i], users[i]);
	if (strcmp(conf->user, conf->key_user) == 0)
		fatalx("user and keyUser must differ: keyd alone may read "
		    "the keys");
}

static int
control_listen(const char *path, mode_t mode, int backlog)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("control socket %s: path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		fatalx("control socket %s is in use: is peerd already "
		    "running?", path);
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		fatal("socket");
	if (unlink(path) == -1 && errno != ENOENT)
		fatal("unlink %s", path);
	mkdir_parents(path);
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, mode) == -1)
		fatal("chmod %s", path);
	if (listen(fd, backlog) == -1)
		fatal("listen %s", path);
	return fd;
}

/* A listening TCP socket on ss for what (a configuration key). */
static int
tcp_listen(const char *what, const char *text,
    const struct sockaddr_storage *ss, socklen_t len)
{
	int	 fd, one = 1;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("%s %s: socket", what, text);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) == -1)
		fatal("%s %s: bind", what, text);
	if (listen(fd, LISTEN_BACKLOG) == -1)
		fatal("%s %s: listen", what, text);
	return fd;
}

/*
 * Bind one listen address, which the configuration has checked; the
 * engine gets the socket.
 */
static void
listen_on(const char *text, const struct multiaddr *ma)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	if (maddr_has(ma, MADDR_WSS) || maddr_has(ma, MADDR_TLS)) {
		log_warnx("listen %s skipped: peerd does not speak TLS; "
		    "listen on /ws behind a TLS proxy and announce /wss",
		    text);
		return;
	}
	if (maddr_to_sockaddr(ma, &ss, &len) == -1)
		fatalx("listen %s: not an /ip4 or /ip6 address with /tcp",
		    text);
	send_to(PROC_ENGINE, IMSG_LISTEN, 0, tcp_listen("listen", text, &ss,
	    len), text, strlen(text) + 1);
}

/*
 * Bind admin.listen, which the configuration has checked, for the
 * engine's HTTP server; a remote one only with admin.allowRemote.
 */
static void
admin_on(const char *text)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	if (text[0] == '\0')
		return;
	if (config_hostport(text, &ss, &len) == -1)
		fatalx("admin.listen %s: not IPv4:port or [IPv6]:port", text);
	if (!config_admin_local(text))
		log_warnx("admin.listen %s is not a loopback address: anyone "
		    "who reaches it reads /status, /health and /metrics",
		    text);
	send_to(PROC_ENGINE, IMSG_ADMIN_SOCKET, 0, tcp_listen("admin.listen",
	    text, &ss, len), text, strlen(text) + 1);
}

/*
 * Bind daemonApi.listen, which the configuration has checked: a UNIX
 * socket as the control socket is, or loopback TCP.
 */
static void
dapi_on(const char *text)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd;

	if (text[0] == '\0')
		return;
	if (config_dapi_addr(text, &ss, &len) == -1)
		fatalx("daemonApi.listen %s: not a UNIX socket or loopback TCP",
		    text);
	if (ss.ss_family == AF_UNIX)
		fd = control_listen(((struct sockaddr_un *)&ss)->sun_path,
		    0660, LISTEN_BACKLOG);
	else
		fd = tcp_listen("daemonApi.listen", text, &ss, len);
	send_to(PROC_ENGINE, IMSG_DAPI_SOCKET, 0, fd, text, strlen(text) + 1);
}

static void
start_child(enum proc_id id, const char *path, const char *role,
    const char *user, const char *root)
{
	struct privsep_opts	 o = parent.opts;
	char			*argv[32];
	int			 sp[2];
	pid_t			 pid;

	o.user = user;
	o.root = root;
	privsep_argv(&o, path, role, argv, sizeof(argv) / sizeof(argv[0]));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    sp) == -1)
		fatal("socketpair");
	if ((pid = privsep_exec(path, argv, sp[1])) == -1)
		fatal("fork %s", proc_name(id));
	close(sp[1]);
	parent.procs[id].pid = pid;
	parent.procs[id].user = user;
	parent.procs[id].root = root;
	imsgev_init(&parent.procs[id].iev, sp[0], parent_dispatch,
	    &parent.procs[id]);
	imsgbuf_set_maxqueue(&parent.procs[id].iev.ibuf, RECONF_QUEUE);
	log_debug("started %s, pid %d", proc_name(id), pid);
}

static void
send_to(enum proc_id to, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	if (imsgev_compose(&parent.procs[to].iev, type, id, 0, fd, data,
	    len) == -1)
		fatal("message %s to %s", msg_name(type), proc_name(to));
}

static void
connect_children(void)
{
	size_t		 i;
	uint32_t	 peer;
	int		 sp[2];

	for (i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0, sp) == -1)
			fatal("socketpair");
		peer = channels[i].b;
		send_to(channels[i].a, IMSG_SOCKET_CONN, 0, sp[0], &peer,
		    sizeof(peer));
		peer = channels[i].a;
		send_to(channels[i].b, IMSG_SOCKET_CONN, 0, sp[1], &peer,
		    sizeof(peer));
	}
}

static void
send_maddrs(enum proc_id id, int32_t list, const struct maddrlist *l)
{
	struct reconf_maddr	 m;
	size_t			 i;

	for (i = 0; i < l->text.n; i++) {
		memset(&m, 0, sizeof(m));
		m.list = list;
		m.ma = l->ma[i];
		send_to(id, IMSG_RECONF_MADDR, 0, -1, &m, sizeof(m));
	}
}

static void
send_peerids(enum proc_id id, int32_t list, const struct peeridlist *l)
{
	struct reconf_peerid	 p;
	size_t			 i;

	for (i = 0; i < l->text.n; i++) {
		memset(&p, 0, sizeof(p));
		p.list = list;
		p.id = l->id[i];
		send_to(id, IMSG_RECONF_PEERID, 0, -1, &p, sizeof(p));
	}
}

static void
send_topics(const struct strlist *l)
{
	struct reconf_topic	 t;
	size_t			 i;

	for (i = 0; i < l->n && i < CONF_MAX_TOPICS; i++) {
		memset(&t, 0, sizeof(t));
		strlcpy(t.topic, l->v[i], sizeof(t.topic));
		send_to(PROC_ENGINE, IMSG_RECONF_TOPIC, 0, -1, &t, sizeof(t));
	}
}

/*
 * Each child gets the part of the configuration it uses, typed, and
 * applies it at IMSG_RECONF_DONE; none of them parses the file.
 */
static void
send_config(const struct peerd_conf *conf)
{
	struct reconf_log	 log;
	struct reconf_engine	 e;
	struct reconf_relay	 r;
	struct reconf_store	 st;
	enum proc_id		 id;

	memset(&log, 0, sizeof(log));
	log.format = conf->log_format;
	log.rate_limit = conf->log_rate_limit;
	for (id = PROC_ENGINE; id < PROC_MAX; id++)
		send_to(id, IMSG_RECONF_LOG, 0, -1, &log, sizeof(log));
	config_part_engine(conf, &e);
	send_to(PROC_ENGINE, IMSG_RECONF_ENGINE, 0, -1, &e, sizeof(e));
	send_maddrs(PROC_ENGINE, RECONF_ANNOUNCE, &conf->announce);
	send_maddrs(PROC_ENGINE, RECONF_BOOTSTRAP, &conf->bootstrap_peers);
	send_maddrs(PROC_ENGINE, RECONF_RELAYS, &conf->relays);
	send_peerids(PROC_ENGINE, RECONF_PROTECTED, &conf->protected_peers);
	send_topics(&conf->gossip_topics);
	config_part_relay(conf, &r);
	send_to(PROC_RELAYD, IMSG_RECONF_RELAY, 0, -1, &r, sizeof(r));
	send_peerids(PROC_RELAYD, RECONF_ALLOW, &conf->relay.allowlist);
	send_peerids(PROC_RELAYD, RECONF_BLOCK, &conf->relay.blocklist);
	config_part_store(conf, &st);
	send_to(PROC_STORED, IMSG_RECONF_STORE, 0, -1, &st, sizeof(st));
	for (id = PROC_ENGINE; id < PROC_MAX; id++)
		send_to(id, IMSG_RECONF_DONE, 0, -1, NULL, 0);
}

static void
log_static(const char *key)
{
	log_warnx("reload: %s cannot change while peerd runs; restart it "
	    "to apply the new value", key);
}

static int
parent_reload(char *err, size_t errlen)
{
	struct peerd_conf	*nconf;
	char			 q[PATH_MAX], why[512];

	if ((nconf = config_load(parent.file, parent.file_explicit, err,
	    errlen)) == NULL) {
		log_warnx("reload_failed file=\"%s\" reason=\"%s\"",
		    log_quote(parent.file, q, sizeof(q)),
		    log_quote(err, why, sizeof(why)));
		return -1;
	}
	if (lock.stage != LD_NONE)
		logit(LOG_ALERT, "reload: the suite stays in lockdown; only a "
		    "restart leaves it");
	config_diff_static(parent.conf, nconf, log_static);
	config_keep_static(nconf, parent.conf);
	config_free(parent.conf);
	parent.conf = nconf;
	log_setformat(nconf->log_format);
	log_setlimit(nconf->log_rate_limit);
	send_config(nconf);
	log_info("config_reloaded file=\"%s\"",
	    log_quote(parent.file, q, sizeof(q)));
	snprintf(err, errlen, "configuration reloaded");
	return 0;
}

static void
parent_status(uint32_t ctl)
{
	struct ctl_proc	 p;

	memset(&p, 0, sizeof(p));
	strlcpy(p.name, proc_name(PROC_PARENT), sizeof(p.name));
	p.pid = getpid();
	p.uid = geteuid();
	strlcpy(p.user, geteuid() == 0 ? "root" : "-", sizeof(p.user));
	strlcpy(p.root, "/", sizeof(p.root));
	strlcpy(p.state, parent.shutting_down ? "stopping" :
	    lock.stage != LD_NONE ? "lockdown" : "running", sizeof(p.state));
	sandbox_state(p.sandbox, sizeof(p.sandbox));
	snprintf(p.detail, sizeof(p.detail), "config %s%s", parent.file,
	    parent.file_explicit || access(parent.file, F_OK) == 0 ? "" :
	    " (absent: built-in defaults)");
	send_to(PROC_ENGINE, IMSG_CTL_PROC, ctl, -1, &p, sizeof(p));
}

static void
parent_verbose(int32_t v)
{
	enum proc_id	 id;

	log_setverbose(v);
	for (id = PROC_KEYD; id < PROC_MAX; id++)
		send_to(id, IMSG_LOG_VERBOSE, 0, -1, &v, sizeof(v));
	log_info("log level %s", v ? "verbose" : "brief");
}

/* The processes of procs (P_*), for the log and for peerctl. */
static void
lockdown_names(uint32_t procs, char *buf, size_t len)
{
	enum proc_id	 id;

	buf[0] = '\0';
	for (id = PROC_ENGINE; id < PROC_MAX; id++)
		if (procs & (1U << id)) {
			if (buf[0] != '\0')
				strlcat(buf, ",", len);
			strlcat(buf, proc_name(id), len);
		}
}

/* Every process has answered, or was named late: the requests hear. */
static void
lockdown_done(void)
{
	struct ctl_result	 res;
	char			 late[64];
	int			 i;

	lock.stage = LD_DONE;
	lockdown_names(lock.late, late, sizeof(late));
	logit(LOG_ALERT, "lockdown_complete late=%s", late[0] ? late : "none");
	memset(&res, 0, sizeof(res));
	res.ok = lock.late == 0;
	if (res.ok)
		strlcpy(res.msg, "lockdown: keyd wiped its keys and refuses "
		    "every request; the engine dropped every connection, "
		    "closed its listeners and dials nothing; the suite stays "
		    "up for inspection, and only a restart leaves it",
		    sizeof(res.msg));
	else
		snprintf(res.msg, sizeof(res.msg), "lockdown: %s did not "
		    "answer within %d s; %s; if it stays silent, stop the "
		    "suite (kill %s if need be)", late, LOCKDOWN_WAIT,
		    lock.late & P_KEYD ? "keyd may still hold its keys" :
		    "keyd wiped its keys", late);
	for (i = 0; i < lock.nctl; i++)
		send_to(PROC_ENGINE, IMSG_CTL_RESULT, lock.ctl[i], -1, &res,
		    sizeof(res));
	lock.nctl = 0;
}

/* Tell the processes of procs, and wait for their answers. */
static void
lockdown_tell(uint32_t procs)
{
	struct timeval	 tv = { LOCKDOWN_WAIT, 0 };
	enum proc_id	 id;

	lock.waiting = 0;
	for (id = PROC_ENGINE; id < PROC_MAX; id++) {
		if (!(procs & (1U << id)))
			continue;
		if (parent.procs[id].pid > 0 && parent.procs[id].iev.active) {
			send_to(id, IMSG_LOCKDOWN, 0, -1, NULL, 0);
			lock.waiting |= 1U << id;
		} else
			lock.late |= 1U << id;
	}
	if (lock.waiting != 0)
		evtimer_add(&lock.ev_wait, &tv);
}

/* The next stage, once the one before has answered or is late. */
static void
lockdown_next(void)
{
	evtimer_del(&lock.ev_wait);
	if (lock.stage == LD_KEYD) {
		lock.stage = LD_OTHERS;
		lockdown_tell(P_ENGINE | P_STORED | P_RELAYD);
	}
	if (lock.stage == LD_OTHERS && lock.waiting == 0)
		lockdown_done();
}

static void
lockdown_timeout(int fd, short event, void *arg)
{
	lock.late |= lock.waiting;
	lock.waiting = 0;
	lockdown_next();
}

static void
lockdown_answered(enum proc_id from)
{
	if (!(lock.waiting & (1U << from)))
		return;
	lock.waiting &= ~(1U << from);
	if (lock.waiting == 0)
		lockdown_next();
}

/*
 * peerctl lockdown (ctl, its request) or SIGUSR2 (ctl 0).  Again once
 * done, it goes through every process again, which each answers
 * without doing anything twice.
 */
static void
lockdown_start(uint32_t ctl, const char *by)
{
	static struct log_limit	 ll = LOG_LIMIT("lockdown requests");
	struct ctl_result	 res;

	if (lock.stage == LD_KEYD || lock.stage == LD_OTHERS) {
		if (ctl != 0 && lock.nctl < LOCKDOWN_MAXCTL)
			lock.ctl[lock.nctl++] = ctl;
		else if (ctl != 0) {
			memset(&res, 0, sizeof(res));
			strlcpy(res.msg, "lockdown: already under way",
			    sizeof(res.msg));
			send_to(PROC_ENGINE, IMSG_CTL_RESULT, ctl, -1, &res,
			    sizeof(res));
		}
		return;
	}
	if (lock.stage == LD_DONE)
		log_limited(&ll, LOG_WARNING, "lockdown requested again by "
		    "%s: already in lockdown; every process is told again",
		    by);
	else
		logit(LOG_ALERT, "lockdown_started by=%s", by);
	if (!evtimer_initialized(&lock.ev_wait))
		evtimer_set(&lock.ev_wait, lockdown_timeout, NULL);
	if (ctl != 0)
		lock.ctl[lock.nctl++] = ctl;
	lock.late = 0;
	lock.stage = LD_KEYD;
	lockdown_tell(P_KEYD);
	if (lock.waiting == 0)
		lockdown_next();
}

/* Resident bytes and CPU seconds of a process, from /proc. */
static int
parent_procstat(pid_t pid, double *rss, double *cpu)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 size, pages, utime, stime;
	FILE		*f;
	size_t		 n;
	int		 r;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	r = fscanf(f, "%lu %lu", &size, &pages);
	fclose(f);
	if (r != 2)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the name in parentheses: state is field 3, utime 14 */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1,
	    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime) != 2)
		return -1;
	*rss = (double)pages * sysconf(_SC_PAGESIZE);
	*cpu = (double)(utime + stime) / sysconf(_SC_CLK_TCK);
	return 0;
}

/* The engine polls: the memory and CPU of every process, and our own. */
static void
parent_metrics(void)
{
	static struct metric_set	 set;
	enum proc_id			 id;
	pid_t				 pid;
	double				 rss, cpu;
	size_t				 i;

	set.n = 0;
	metric_add(&set, METRIC_LOG_SUPPRESSED, log_suppressed(), "process",
	    proc_name(PROC_PARENT), NULL, NULL);
	for (id = PROC_PARENT; id < PROC_MAX; id++) {
		pid = id == PROC_PARENT ? getpid() : parent.procs[id].pid;
		if (pid <= 0 || parent_procstat(pid, &rss, &cpu) == -1)
			continue;
		metric_add(&set, METRIC_PROC_RSS, rss, "process",
		    proc_name(id), NULL, NULL);
		metric_add(&set, METRIC_PROC_CPU, cpu, "process",
		    proc_name(id), NULL, NULL);
	}
	for (i = 0; i < set.n; i++)
		send_to(PROC_ENGINE, IMSG_METRIC_ROW, 0, -1, &set.rows[i],
		    sizeof(set.rows[i]));
	send_to(PROC_ENGINE, IMSG_METRICS_END, 0, -1, NULL, 0);
}

/* A name the engine wants to dial; blocking, as dials by name are rare. */
static void
parent_resolve(uint32_t id, struct imsg *imsg)
{
	struct resolve_req	 req;
	struct resolve_res	 res;
	struct addrinfo		 hints, *ai;
	int			 r;

	imsg_get_data(imsg, &req, sizeof(req));
	memset(&res, 0, sizeof(res));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = req.family == AF_INET || req.family == AF_INET6 ?
	    req.family : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(req.name, NULL, &hints, &ai)) != 0)
		strlcpy(res.err, gai_strerror(r), sizeof(res.err));
	else {
		res.ok = 1;
		res.family = ai->ai_family;
		if (ai->ai_family == AF_INET)
			memcpy(res.addr, &((struct sockaddr_in *)
			    ai->ai_addr)->sin_addr, 4);
		else
			memcpy(res.addr, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, 16);
		freeaddrinfo(ai);
	}
	send_to(PROC_ENGINE, IMSG_RESOLVE_RES, id, -1, &res, sizeof(res));
}

/*
 * peerctl key rotate: keyd gets the passphrase source again, opened as
 * at the start, and answers the engine; a source that cannot be opened
 * now ends the request here.
 */
static void
parent_key_rotate(uint32_t id)
{
	struct key_load		 kl;
	struct ctl_result	 res;
	int			 fd;

	memset(&kl, 0, sizeof(kl));
	memset(&res, 0, sizeof(res));
	if (lock.stage != LD_NONE) {
		strlcpy(res.msg, "peerd is in lockdown: keyd holds no key to "
		    "rotate; see SECURITY BREACH in peerd(8)", sizeof(res.msg));
		send_to(PROC_ENGINE, IMSG_CTL_RESULT, id, -1, &res,
		    sizeof(res));
		return;
	}
	fd = passfile_open(parent.conf->key_passfile, kl.source,
	    sizeof(kl.source), res.msg, sizeof(res.msg));
	kl.have_passphrase = fd != PASSFILE_NONE;
	if (fd == PASSFILE_NONE &&
	    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		snprintf(res.msg, sizeof(res.msg), "/dev/null: %s",
		    strerror(errno));
	if (fd == -1) {
		log_warnx("key rotation refused: %s", res.msg);
		send_to(PROC_ENGINE, IMSG_CTL_RESULT, id, -1, &res,
		    sizeof(res));
		return;
	}
	send_to(PROC_KEYD, IMSG_KEY_ROTATE, id, fd, &kl, sizeof(kl));
}

static int
parent_handle(enum proc_id from, struct imsg *imsg)
{
	struct ctl_result	 res;
	int32_t			 v;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SHOW_STATUS:
		parent_status(imsg_get_id(imsg));
		return 0;
	case IMSG_CTL_RELOAD:
		memset(&res, 0, sizeof(res));
		res.ok = parent_reload(res.msg, sizeof(res.msg)) == 0;
		send_to(PROC_ENGINE, IMSG_CTL_RESULT, imsg_get_id(imsg), -1,
		    &res, sizeof(res));
		return 0;
	case IMSG_CTL_KEY_ROTATE:
		parent_key_rotate(imsg_get_id(imsg));
		return 0;
	case IMSG_CTL_LOG_VERBOSE:
		imsg_get_data(imsg, &v, sizeof(v));
		parent_verbose(v);
		return 0;
	case IMSG_RESOLVE:
		parent_resolve(imsg_get_id(imsg), imsg);
		return 0;
	case IMSG_METRICS_POLL:
		parent_metrics();
		return 0;
	case IMSG_CTL_LOCKDOWN:
		lockdown_start(imsg_get_id(imsg), "peerctl");
		return 0;
	case IMSG_LOCKDOWN_DONE:
		lockdown_answered(from);
		return 0;
	default:
		return -1;
	}
}

/*
 * A child closed its channel.  If it died, SIGCHLD has said so by now;
 * if it lives on without its channel, the suite is half-alive: stop it.
 */
static void
hangup_check(int fd, short event, void *arg)
{
	enum proc_id	 id;

	if (parent.shutting_down)
		return;
	for (id = PROC_ENGINE; id < PROC_MAX; id++)
		if (parent.procs[id].pid > 0 && !parent.procs[id].iev.active) {
			log_warnx("%s (pid %d) closed its channel; stopping "
			    "the suite", proc_name(id), parent.procs[id].pid);
			parent_shutdown(1);
			return;
		}
}

/*
 * One message from a child: the table's check, then the parent's
 * handler; -1, said in the log, when the suite must stop.
 */
static int
parent_receive(enum proc_id from, struct imsg *imsg)
{
	char	 why[160];

	if (msg_accept(imsg, from, PROC_PARENT, why, sizeof(why)) == -1) {
		log_warnx("%s, shutting down", why);
		return -1;
	}
	if (parent_handle(from, imsg) == -1) {
		log_warnx("unhandled message %s from %s, shutting down",
		    msg_name(imsg_get_type(imsg)), proc_name(from));
		return -1;
	}
	return 0;
}

static void
parent_dispatch(int fd, short event, void *arg)
{
	struct child_proc	*cp = arg;
	enum proc_id		 from = cp - parent.procs;
	struct timeval		 tv = { 1, 0 };
	struct imsg		 imsg;
	ssize_t			 n;

	if (imsgev_io(&cp->iev, event, proc_name(from)) == -1) {
		imsgev_clear(&cp->iev);
		if (!parent.shutting_down)
			evtimer_add(&parent.ev_hangup, &tv);
		return;
	}
	while ((n = imsg_get(&cp->iev.ibuf, &imsg)) > 0) {
		if (parent_receive(from, &imsg) == -1) {
			imsg_free(&imsg);
			parent_shutdown(1);
			return;
		}
		imsg_free(&imsg);
	}
	if (n == -1) {
		log_warn("message from %s", proc_name(from));
		parent_shutdown(1);
		return;
	}
	imsgev_add(&cp->iev);
}

/* "exit=N" or "signal=N", for the child_exited event. */
static void
describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "signal=%d", WTERMSIG(status));
	else
		snprintf(buf, len, "exit=%d", WEXITSTATUS(status));
}

static int
children_alive(void)
{
	enum proc_id	 id;
	int		 n = 0;

	for (id = PROC_ENGINE; id < PROC_MAX; id++)
		if (parent.procs[id].pid > 0)
			n++;
	return n;
}

static void
reap(void)
{
	enum proc_id	 id;
	char		 how[128];
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (id = PROC_ENGINE; id < PROC_MAX; id++)
			if (parent.procs[id].pid == pid)
				break;
		if (id == PROC_MAX)
			continue;
		parent.procs[id].pid = 0;
		describe_exit(status, how, sizeof(how));
		if (!parent.shutting_down) {
			log_warnx("child_exited child=%s child_pid=%d %s "
			    "during=run", proc_name(id), pid, how);
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
				log_warnx("%s was killed by its sandbox: a "
				    "system call outside its filter (its "
				    "sandbox_violation line names it)",
				    proc_name(id));
			log_warnx("%s is gone, stopping the suite",
			    proc_name(id));
			parent_shutdown(1);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			log_warnx("child_exited child=%s child_pid=%d %s "
			    "during=stop", proc_name(id), pid, how);
		else
			log_debug("child_exited child=%s child_pid=%d %s "
			    "during=stop", proc_name(id), pid, how);
	}
	if (parent.shutting_down && children_alive() == 0)
		event_loopbreak();
}

static void
reap_timer(int fd, short event, void *arg)
{
	struct timeval	 tv = { 0, 100000 };
	enum proc_id	 id;

	reap();
	if (children_alive() == 0)
		return;
	if (time(NULL) >= parent.deadline) {
		for (id = PROC_ENGINE; id < PROC_MAX; id++)
			if (parent.procs[id].pid > 0) {
				log_warnx("%s (pid %d) did not stop, killing it",
				    proc_name(id), parent.procs[id].pid);
				kill(parent.procs[id].pid, SIGKILL);
			}
		parent.deadline = time(NULL) + PEERD_SHUTDOWN_WAIT;
	}
	evtimer_add(&parent.ev_reap, &tv);
}

static void
parent_shutdown(int code)
{
	struct timeval	 tv = { 0, 100000 };
	enum proc_id	 id;

	if (code > parent.exitcode)
		parent.exitcode = code;
	if (parent.shutting_down)
		return;
	parent.shutting_down = 1;
	for (id = PROC_ENGINE; id < PROC_MAX; id++)
		if (parent.procs[id].pid > 0)
			kill(parent.procs[id].pid, SIGTERM);
	parent.deadline = time(NULL) + PEERD_SHUTDOWN_WAIT;
	evtimer_set(&parent.ev_reap, reap_timer, NULL);
	evtimer_add(&parent.ev_reap, &tv);
}

static void
parent_sig(int sig, short event, void *arg)
{
	char	 err[CONF_ERRLEN];

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (!parent.shutting_down)
			log_info("received %s, stopping", strsignal(sig));
		parent_shutdown(0);
		break;
	case SIGHUP:
		if (!parent.shutting_down)
			parent_reload(err, sizeof(err));
		break;
	case SIGUSR2:
		if (!parent.shutting_down)
			lockdown_start(0, "SIGUSR2");
		break;
	case SIGCHLD:
		reap();
		break;
	default:
		break;
	}
}

/*
 * The key's passphrase source, opened as root before any privilege drop
 * (so that only root need read it): keyd gets the descriptor and reads
 * the passphrase into its locked memory; the parent never reads it.
 */
static struct key_load	 keyload;
static int		 keyload_fd = -1;

static void
keyload_open(const struct peerd_conf *conf)
{
	char	 err[PATH_MAX + 128];

	keyload_fd = passfile_open(conf->key_passfile, keyload.source,
	    sizeof(keyload.source), err, sizeof(err));
	if (keyload_fd == -1)
		fatalx("%s", err);
	keyload.have_passphrase = keyload_fd != PASSFILE_NONE;
	if (!keyload.have_passphrase &&
	    (keyload_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("/dev/null");
}

static void
prepare(struct peerd_conf *conf)
{
	keyload_open(conf);
	if (geteuid() == 0) {
		check_users(conf);
		prepare_dir("stateDir", conf->state_dir, conf->user, 0700, 1);
		prepare_dir("keyDir", conf->key_dir, conf->key_user, 0700, 2);
		prepare_dir("emptyDir", conf->empty_dir, NULL, 0755, 1);
	} else {
		log_warnx("running as uid %u, not root: no user switch and "
		    "no chroot (development mode)", geteuid());
		prepare_dir("stateDir", conf->state_dir, NULL, 0700, 0);
		prepare_dir("keyDir", conf->key_dir, NULL, 0700, 0);
	}
}

static void
start_suite(struct peerd_conf *conf)
{
	char		*self, *path;
	size_t		 i;
	int		 fd;
	int32_t		 ro;

	self = privsep_sibling_path("peerd");
	start_child(PROC_ENGINE, self, "-E", conf->user,
	    geteuid() == 0 ? conf->empty_dir : conf->state_dir);
	path = privsep_sibling_path("keyd");
	start_child(PROC_KEYD, path, NULL, conf->key_user, conf->key_dir);
	send_to(PROC_KEYD, IMSG_KEY_LOAD, 0, keyload_fd, &keyload,
	    sizeof(keyload));
	path = privsep_sibling_path("stored");
	start_child(PROC_STORED, path, NULL, conf->user, conf->state_dir);
	path = privsep_sibling_path("relayd");
	start_child(PROC_RELAYD, path, NULL, conf->user,
	    geteuid() == 0 ? conf->empty_dir : conf->state_dir);
	connect_children();

	fd = control_listen(conf->control_socket, 0660, CTL_MAXCONNS);
	ro = 0;
	send_to(PROC_ENGINE, IMSG_CTL_SOCKET, 0, fd, &ro, sizeof(ro));
	if (conf->control_socket_ro[0] != '\0') {
		fd = control_listen(conf->control_socket_ro, 0666,
		    CTL_MAXCONNS);
		ro = 1;
		send_to(PROC_ENGINE, IMSG_CTL_SOCKET, 0, fd, &ro, sizeof(ro));
	}
	send_config(conf);
	for (i = 0; i < conf->listen.text.n; i++)
		listen_on(conf->listen.text.v[i], &conf->listen.ma[i]);
	admin_on(conf->admin_listen);
	dapi_on(conf->dapi_listen);
}

void
parent_main(struct peerd_conf *conf, const char *file, int explicit,
    int debug, int verbose)
{
	struct event	 ev_term, ev_int, ev_hup, ev_chld, ev_usr2;

	parent.conf = conf;
	parent.file = file;
	parent.file_explicit = explicit;
	parent.opts.debug = debug;
	parent.opts.verbose = verbose;
	parent.opts.facility = conf->log_facility;
	parent.opts.logformat = conf->log_format;

	/* errors before detaching go to the terminal as well */
	log_init(1, conf->log_facility);
	log_procinit("parent");
	log_setverbose(verbose);
	log_setformat(conf->log_format);
	log_setlimit(conf->log_rate_limit);

	prepare(conf);
	if (!debug) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, conf->log_facility);
		log_procinit("parent");
	}
	/* after daemon(): its /proc/self is the process that goes on */
	sandbox_prepare();
	log_info("starting peerd %s, %s mode", PEERD_VERSION,
	    config_mode_name(conf->mode));

	event_init();
	signal_set(&ev_term, SIGTERM, parent_sig, NULL);
	signal_set(&ev_int, SIGINT, parent_sig, NULL);
	signal_set(&ev_hup, SIGHUP, parent_sig, NULL);
	signal_set(&ev_chld, SIGCHLD, parent_sig, NULL);
	signal_set(&ev_usr2, SIGUSR2, parent_sig, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_hup, NULL);
	signal_add(&ev_chld, NULL);
	signal_add(&ev_usr2, NULL);
	signal(SIGPIPE, SIG_IGN);

	evtimer_set(&parent.ev_hangup, hangup_check, NULL);
	start_suite(conf);
	sandbox_enter(PROC_PARENT);
	setproctitle("parent");
	event_dispatch();

	unlink(parent.conf->control_socket);
	if (parent.conf->control_socket_ro[0] != '\0')
		unlink(parent.conf->control_socket_ro);
	if (strncmp(parent.conf->dapi_listen, "/unix/", 6) == 0)
		unlink(parent.conf->dapi_listen + 5);
	log_info("stopped%s", parent.exitcode ? " after a failure" : "");
	config_free(parent.conf);
	exit(parent.exitcode);
}
