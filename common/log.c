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

static void
log_json(int pri, const char *msg)
{
	char		 emsg[2048], ts[32];
	struct timespec	 now;
	struct tm	 tm;

	json_escape(emsg, sizeof(emsg), msg);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_debug_mode)
		fprintf(stderr, "{\"timestamp\":\"%s.%03ldZ\",\"level\":\"%s\","
		    "\"process\":\"%s\",\"pid\":%ld,\"message\":\"%s\"}\n",
		    ts, now.tv_nsec / 1000000, log_levelname(pri), log_name,
		    (long)getpid(), emsg);
	else
		syslog(pri, "{\"timestamp\":\"%s.%03ldZ\",\"level\":\"%s\","
		    "\"process\":\"%s\",\"message\":\"%s\"}",
		    ts, now.tv_nsec / 1000000, log_levelname(pri), log_name,
		    emsg);
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
