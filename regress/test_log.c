/*
 * The log rate limiter: the burst of a kind is shown, the rest counted,
 * and one summary line says how many were held back when the window
 * ends.  Lines go to stderr (foreground mode), captured in a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

static FILE	*cap;
static char	 got[65536];	/* the lines of the last take() */

/* The lines written since the last take. */
static void
take(void)
{
	size_t	 n;

	fflush(stderr);
	n = fread(got, 1, sizeof(got) - 1, cap);
	got[n] = '\0';
	clearerr(cap);
}

/* Lines of the last take that contain needle; the last one in last. */
static int
count(const char *needle, char *last, size_t lastlen)
{
	const char	*p = got, *nl;
	int		 n = 0;

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (memmem(p, nl - p, needle, strlen(needle)) == NULL)
			continue;
		n++;
		if (last != NULL)
			snprintf(last, lastlen, "%.*s", (int)(nl - p), p);
	}
	return n;
}

static int
lines_with(const char *needle, char *last, size_t lastlen)
{
	take();
	return count(needle, last, lastlen);
}

int
main(void)
{
	static struct log_limit	 a = LOG_LIMIT("kind a"), b = LOG_LIMIT("kind b");
	static struct log_limit	 d = LOG_LIMIT("kind d");
	char			 path[] = "/tmp/test_log.XXXXXX", last[2048];
	int			 fd, i, n;

	if ((fd = mkstemp(path)) == -1 || dup2(fd, STDERR_FILENO) == -1 ||
	    (cap = fopen(path, "r")) == NULL)
		return 1;
	unlink(path);
	log_init(1, LOG_DAEMON);
	log_procinit("test");

	for (i = 0; i < 20; i++)
		log_limited(&a, LOG_INFO, "event a number %d", i);
	n = lines_with("event a number", last, sizeof(last));
	ok(n == LOG_LIMIT_BURST, "20 lines of one kind: %d shown (burst %d)",
	    n, LOG_LIMIT_BURST);
	ok(strstr(last, "number 4") != NULL, "the first ones are shown: %s",
	    last);
	ok(a.total == 20 && a.suppressed == 15,
	    "the counts stay whole: total %llu suppressed %llu",
	    (unsigned long long)a.total, (unsigned long long)a.suppressed);

	for (i = 0; i < 3; i++)
		log_limited(&b, LOG_WARNING, "event b number %d", i);
	ok(lines_with("event b number", NULL, 0) == 3,
	    "another kind has a burst of its own");

	log_limit_sweep();
	ok(lines_with("suppressed", NULL, 0) == 0,
	    "no summary before the window ends");
	a.start -= LOG_LIMIT_WINDOW;
	b.start -= LOG_LIMIT_WINDOW;
	log_limit_sweep();
	n = lines_with("similar lines suppressed", last, sizeof(last));
	ok(n == 1 && strstr(last, "15 similar lines suppressed") != NULL &&
	    strstr(last, "kind a") != NULL,
	    "one summary when the window ends, with the count and kind: %s",
	    n ? last : "(none)");
	log_limited(&a, LOG_INFO, "event a again");
	ok(lines_with("event a again", NULL, 0) == 1,
	    "a new window shows lines again");
	ok(log_suppressed() == 15, "log_suppressed counts every kind: %llu",
	    (unsigned long long)log_suppressed());

	a.start -= LOG_LIMIT_WINDOW;
	for (i = 0; i < 7; i++)
		log_limited(&a, LOG_INFO, "event a late %d", i);
	n = lines_with("similar lines suppressed", NULL, 0);
	ok(n == 0, "a window with nothing held back has no summary (%d)", n);
	ok(count("event a late", NULL, 0) == LOG_LIMIT_BURST,
	    "the burst again in the new window");
	a.start -= LOG_LIMIT_WINDOW;
	log_limited(&a, LOG_INFO, "event a next");
	n = lines_with("2 similar lines suppressed", NULL, 0);
	ok(n == 1, "the next line of the kind says what was held back (%d)",
	    n);

	log_setlimit(0);
	for (i = 0; i < 50; i++)
		log_limited(&b, LOG_INFO, "event b unlimited %d", i);
	ok(lines_with("event b unlimited", NULL, 0) == 50,
	    "log.rateLimit 0 shows every line");
	log_setlimit(LOG_LIMIT_BURST);

	for (i = 0; i < 10; i++)
		log_limited(&d, LOG_DEBUG, "event d %d", i);
	ok(lines_with("event d", NULL, 0) == 0 && d.total == 0,
	    "debug lines are neither shown nor counted when not verbose");
	log_setverbose(1);
	for (i = 0; i < 10; i++)
		log_limited(&d, LOG_DEBUG, "event d %d", i);
	ok(lines_with("event d", NULL, 0) == LOG_LIMIT_BURST,
	    "and limited when verbose");
	return tap_done();
}
