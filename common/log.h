/*
 * Logging to syslog, or to stderr with -d, as text or JSON lines.
 *
 * A line is one of two kinds.  An event, which an operator counts,
 * graphs or alerts on, is "name key=value ...": the name in snake_case
 * (reservation_created, circuit_closed, peer_banned,
 * partition_detected), each value one word (a snake_case word, a
 * number, an address, a peer ID) or, for free text, a double-quoted
 * string (reason="..."), so that the line splits on spaces.  Every
 * other line is prose: a short sentence of what happened and why, with
 * no key=value in it.  With log.format json an event becomes
 * {"event": name, key: value, ...} (peer as peerId, other keys in
 * camelCase, numbers as numbers), prose {"message": text}; peerd(8),
 * LOG EVENTS, lists the events.  Free text a peer may choose goes
 * through log_quote() before it is quoted.
 */
#ifndef PEERD_LOG_H
#define PEERD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>
#include <time.h>

#define LOG_FORMAT_TEXT	0
#define LOG_FORMAT_JSON	1

#define LOG_LIMIT_WINDOW	10	/* seconds */
#define LOG_LIMIT_BURST		5	/* lines of a kind per window */

/*
 * A line that a peer or a local user can cause at will goes through the
 * limiter of its kind, one static struct per call site: at most the
 * burst in each window, and when the window ends one line saying how
 * many similar lines were suppressed.  The counts stay whole.
 */
struct log_limit {
	const char		*kind;		/* what the lines say */
	time_t			 start;		/* of the window, monotonic */
	unsigned int		 shown;
	uint64_t		 held;		/* suppressed in this window */
	uint64_t		 total;		/* lines asked for, ever */
	uint64_t		 suppressed;	/* of those, not shown */
	struct log_limit	*next;		/* the limiters used so far */
	int			 linked;
};

#define LOG_LIMIT(kind)	{ (kind), 0, 0, 0, 0, 0, NULL, 0 }

void	 log_init(int, int);
void	 log_procinit(const char *);
const char *log_procname(void);
void	 log_setverbose(int);
int	 log_getverbose(void);
void	 log_setformat(int);
int	 log_getformat(void);
int	 log_getdebug(void);
int	 log_getfacility(void);
void	 logit(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	 vlog(int, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));
void	 log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	 log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	 log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	 log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
size_t	 log_json_line(char *, size_t, int, const char *, long);
const char *log_quote(const char *, char *, size_t);
void	 log_limited(struct log_limit *, int, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4)));
void	 log_limit_sweep(void);
void	 log_setlimit(int);
uint64_t log_suppressed(void);
void	 fatal(const char *, ...)
	    __attribute__((__noreturn__, __format__ (printf, 1, 2)));
void	 fatalx(const char *, ...)
	    __attribute__((__noreturn__, __format__ (printf, 1, 2)));


#endif /* PEERD_LOG_H */
