/*
 * Minimal TAP producer for the unit tests: one "ok N - name" line per
 * check, a plan at the end, exit status 1 if any check failed.
 */
#ifndef PEERD_TAP_H
#define PEERD_TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

__attribute__((__format__ (printf, 4, 5)))
static inline int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* PEERD_TAP_H */
