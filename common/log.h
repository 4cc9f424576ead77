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
 * no key=value in it.
 */
#ifndef PEERD_LOG_H
#define PEERD_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_FORMAT_TEXT	0
#define LOG_FORMAT_JSON	1

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
void	 fatal(const char *, ...)
	    __attribute__((__noreturn__, __format__ (printf, 1, 2)));
void	 fatalx(const char *, ...)
	    __attribute__((__noreturn__, __format__ (printf, 1, 2)));


#endif /* PEERD_LOG_H */
