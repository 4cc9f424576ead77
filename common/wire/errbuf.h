/*
 * The error a parser leaves in its caller's buffer: the codecs report
 * through it and never log.
 */
#ifndef PEERD_ERRBUF_H
#define PEERD_ERRBUF_H

#include <stddef.h>

int	 errbuf(char *, size_t, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4)));

#endif /* PEERD_ERRBUF_H */
