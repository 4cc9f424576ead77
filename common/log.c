/*
 * Logging to syslog, or to stderr in the foreground, with the process
 * name on every line and an optional one-object-per-line JSON format.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

static int	 log_debug_mode;
static int	 log_verbose;
static int	 log_format = LOG_FORMAT_TEXT;
static int	 log_facility = LOG_DAEMON;
static char	 log_name[32] = "peerd";

void
log_init(int debug, int facility)
{
	log_debug_mode = debug;
	log_facility = facility;
	if (!debug)
		openlog(log_name, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *name)
{
	if (name == NULL)
		return;
	strlcpy(log_name, name, sizeof(log_name));
	if (!log_debug_mode) {
		closelog();
		openlog(log_name, LOG_PID | LOG_NDELAY, log_facility);
	}
}

const char *
log_procname(void)
{
	return log_name;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_setformat(int format)
{
	log_format = format;
}

int
log_getformat(void)
{
	return log_format;
}

int
log_getdebug(void)
{
	return log_debug_mode;
}

int
log_getfacility(void)
{
	return log_facility;
}

static const char *
log_levelname(int pri)
{
	switch (pri) {
	case LOG_ALERT:
		return "alert";
	case LOG_CRIT:
		return "crit";
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warn";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/*
 * The JSON form of a line, built in a fixed buffer: a piece that does
 * not fit sets over, and the line is replaced by a short one.
 */
struct jbuf {
	char	*b;
	size_t	 n, sz;
	int	 over;
};

static void
jb_raw(struct jbuf *j, const char *s, size_t len)
{
	if (j->over || len >= j->sz - j->n) {
		j->over = 1;
		return;
	}
	memcpy(j->b + j->n, s, len);
	j->n += len;
	j->b[j->n] = '\0';
}

/* s[0..len) as a JSON string, escaped by json_next(). */
static void
jb_str(struct jbuf *j, const char *s, size_t len)
{
	char	 e[JSON_CHARMAX];
	size_t	 i, k, used;

	jb_raw(j, "\"", 1);
	for (i = 0; i < len; i += used) {
		k = json_next(s + i, len - i, e, &used);
		jb_raw(j, e, k);
	}
	jb_raw(j, "\"", 1);
}

#define LOG_JSON_FIELDS	32
#define LOG_JSON_KEYLEN	32

struct log_field {
	const char	*v;
	size_t		 vl;
	int		 quoted;
	char		 name[LOG_JSON_KEYLEN + 8];
};

/* Field names the guide gives; the rest go from snake_case to camelCase. */
static const struct {
	const char	*ours, *json;
} log_names[] = {
	{ "peer",	"peerId" },
};

static const char *const log_reserved[] = {
	"timestamp", "level", "process", "pid", "event", "message"
};

/* The JSON member name of key k[0..kl) in out; -1 if k is no key. */
static int
log_field_name(const char *k, size_t kl, char *out, size_t outsz)
{
	size_t	 i, n = 0;

	if (kl == 0 || kl > LOG_JSON_KEYLEN || k[0] < 'a' || k[0] > 'z')
		return -1;
	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strlen(log_names[i].ours) == kl &&
		    memcmp(log_names[i].ours, k, kl) == 0)
			return strlcpy(out, log_names[i].json, outsz) < outsz ?
			    0 : -1;
	for (i = 0; i < kl; i++) {
		if (k[i] == '_' && i + 1 < kl && k[i + 1] >= 'a' &&
		    k[i + 1] <= 'z')
			out[n++] = k[++i] - 'a' + 'A';
		else if ((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_')
			out[n++] = k[i];
		else
			return -1;
	}
	out[n] = '\0';
	return 0;
}

/* The name is snake_case: lower-case words joined by '_'. */
static int
log_event_name(const char *s, size_t n)
{
	size_t	 i;
	int	 under = 0;

	if (n == 0 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '_')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			if (s[i - 1] == '_')
				return 0;
			under = 1;
		} else if ((s[i] < 'a' || s[i] > 'z') &&
		    (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	return under;
}

/* A member name already used or reserved. */
static int
log_name_taken(const struct log_field *f, int nf, const char *name)
{
	size_t	 i;
	int	 k;

	for (i = 0; i < sizeof(log_reserved) / sizeof(log_reserved[0]); i++)
		if (strcmp(log_reserved[i], name) == 0)
			return 1;
	for (k = 0; k < nf; k++)
		if (strcmp(f[k].name, name) == 0)
			return 1;
	return 0;
}

/*
 * msg as an event, "name key=value ...", a quoted value ending at a '"'
 * followed by a space or the end; the number of fields, or -1 when msg
 * is prose.
 */
static int
log_event_parse(const char *msg, size_t *namelen, struct log_field *f)
{
	const char	*p, *k, *q;
	int		 nf = 0;

	*namelen = strcspn(msg, " ");
	if (!log_event_name(msg, *namelen))
		return -1;
	for (p = msg + *namelen; *p != '\0'; nf++) {
		if (*p++ != ' ' || nf == LOG_JSON_FIELDS)
			return -1;
		k = p;
		p += strcspn(p, "= ");
		if (*p != '=' || log_field_name(k, p - k, f[nf].name,
		    sizeof(f[nf].name)) == -1 ||
		    log_name_taken(f, nf, f[nf].name))
			return -1;
		if (*++p == '"') {
			for (q = ++p; (q = strchr(q, '"')) != NULL &&
			    q[1] != ' ' && q[1] != '\0'; q++)
				;
			if (q == NULL)
				return -1;
			f[nf].quoted = 1;
		} else {
			q = p + strcspn(p, " ");
			f[nf].quoted = 0;
		}
		f[nf].v = p;
		f[nf].vl = q - p;
		p = q + f[nf].quoted;
	}
	return nf;
}

/* A decimal as JSON writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)? */
static int
log_is_number(const char *s, size_t n)
{
	size_t	 i = 0, d;

	if (n > 0 && s[0] == '-')
		i++;
	for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == d || (s[d] == '0' && i - d > 1) || i - d > 20)
		return 0;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

static void
log_json_fields(struct jbuf *j, const char *msg, size_t namelen,
    const struct log_field *f, int nf)
{
	int	 k;

	jb_raw(j, ",\"event\":", 9);
	jb_str(j, msg, namelen);
	for (k = 0; k < nf; k++) {
		jb_raw(j, ",", 1);
		jb_str(j, f[k].name, strlen(f[k].name));
		jb_raw(j, ":", 1);
		if (!f[k].quoted && log_is_number(f[k].v, f[k].vl))
			jb_raw(j, f[k].v, f[k].vl);
		else
			jb_str(j, f[k].v, f[k].vl);
	}
}

/*
 * One log line as one JSON object: timestamp (RFC 3339, UTC), level,
 * process, then the event and its fields, or the prose as message.
 */
size_t
log_json_line(char *buf, size_t len, int pri, const char *msg, long pid)
{
	struct log_field f[LOG_JSON_FIELDS];
	struct jbuf	 j = { buf, 0, len, 0 };
	struct timespec	 now;
	struct tm	 tm;
	char		 ts[64], num[32];
	size_t		 namelen;
	int		 nf;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ",
	    now.tv_nsec / 1000000);
	jb_raw(&j, "{\"timestamp\":", 13);
	jb_str(&j, ts, strlen(ts));
	jb_raw(&j, ",\"level\":", 9);
	jb_str(&j, log_levelname(pri), strlen(log_levelname(pri)));
	jb_raw(&j, ",\"process\":", 11);
	jb_str(&j, log_name, strlen(log_name));
	if (pid != -1) {
		snprintf(num, sizeof(num), ",\"pid\":%ld", pid);
		jb_raw(&j, num, strlen(num));
	}
	if ((nf = log_event_parse(msg, &namelen, f)) != -1)
		log_json_fields(&j, msg, namelen, f, nf);
	else {
		jb_raw(&j, ",\"message\":", 11);
		jb_str(&j, msg, strlen(msg));
	}
	jb_raw(&j, "}", 1);
	if (j.over)
		snprintf(buf, len, "{\"timestamp\":\"%s\",\"message\":"
		    "\"log line too long\"}", ts);
	return strlen(buf);
}

static void
log_json(int pri, const char *msg)
{
	char	 line[8192];

	log_json_line(line, sizeof(line), pri, msg,
	    log_debug_mode ? (long)getpid() : -1);
	if (log_debug_mode)
		fprintf(stderr, "%s\n", line);
	else
		syslog(pri, "%s", line);
}

/*
 * Free text for a quoted event value: a '"' becomes '\'' and a control
 * byte '?', so that the value ends where its closing quote is.
 */
const char *
log_quote(const char *s, char *buf, size_t len)
{
	size_t	 i;

	if (len == 0)
		return "";
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		if (s[i] == '"')
			buf[i] = '\'';
		else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			buf[i] = '?';
		else
			buf[i] = s[i];
	buf[i] = '\0';
	return buf;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_format == LOG_FORMAT_JSON)
		log_json(pri, msg);
	else if (log_debug_mode)
		fprintf(stderr, "%s[%ld]: %s\n", log_name, (long)getpid(), msg);
	else
		syslog(pri, "%s", msg);
	if (log_debug_mode)
		fflush(stderr);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static __attribute__((__format__ (printf, 3, 0))) void
vlog_errno(int pri, int code, const char *fmt, va_list ap)
{
	char	 msg[1024];

	if (fmt == NULL) {
		logit(pri, "%s", strerror(code));
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	logit(pri, "%s: %s", msg, strerror(code));
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* As OpenBSD's log.c: "fatal in <process>: <why>[: <errno text>]". */
static __attribute__((__noreturn__, __format__ (printf, 2, 0))) void
vfatal(int code, const char *fmt, va_list ap)
{
	char	 msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (code != 0)
		logit(LOG_CRIT, "fatal in %s: %s: %s", log_name, msg,
		    strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s: %s", log_name, msg);
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vfatal(saved_errno, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfatal(0, fmt, ap);
	va_end(ap);
}

static struct log_limit	*log_limits;
static int		 log_limit_burst = LOG_LIMIT_BURST;
static uint64_t		 log_limit_dropped;

/* Lines of one kind shown per window; 0 shows them all. */
void
log_setlimit(int burst)
{
	log_limit_burst = burst;
}

/* Every line suppressed so far, of all kinds. */
uint64_t
log_suppressed(void)
{
	return log_limit_dropped;
}

static time_t
log_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The window of l is over: say what it held back, start a new one. */
static void
log_limit_close(struct log_limit *l, time_t now)
{
	if (l->held > 0)
		logit(LOG_NOTICE, "%llu similar lines suppressed in %lld "
		    "seconds: %s", (unsigned long long)l->held,
		    (long long)(now - l->start), l->kind);
	l->held = 0;
	l->shown = 0;
	l->start = now;
}

void
log_limited(struct log_limit *l, int pri, const char *fmt, ...)
{
	va_list	 ap;
	time_t	 now;

	if (pri == LOG_DEBUG && log_verbose < 1)
		return;
	now = log_now();
	if (!l->linked) {
		l->next = log_limits;
		log_limits = l;
		l->linked = 1;
		l->start = now;
	}
	if (now - l->start >= LOG_LIMIT_WINDOW)
		log_limit_close(l, now);
	l->total++;
	if (log_limit_burst > 0 && l->shown >= (unsigned int)log_limit_burst) {
		l->held++;
		l->suppressed++;
		log_limit_dropped++;
		return;
	}
	l->shown++;
	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

/* From a periodic timer: the summaries of windows that have ended. */
void
log_limit_sweep(void)
{
	struct log_limit	*l;
	time_t			 now = log_now();

	for (l = log_limits; l != NULL; l = l->next)
		if (l->held > 0 && now - l->start >= LOG_LIMIT_WINDOW)
			log_limit_close(l, now);
}
