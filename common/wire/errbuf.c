/*
 * The error a parser leaves in its caller's buffer.
 */
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

/* fmt into err (which may be NULL); returns -1, the parser's failure. */
int
errbuf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
