/*
 * JSON strings, one escaper for the JSON log lines and for peerctl -j.
 */
#ifndef PEERD_JSON_H
#define PEERD_JSON_H

#include <stddef.h>
#include <stdio.h>

#define JSON_CHARMAX	8	/* the longest escaped character, and room */

size_t	 json_next(const char *, size_t, char [JSON_CHARMAX], size_t *);
size_t	 json_escape(char *, size_t, const char *);
void	 json_fputs(const char *, FILE *);

#endif /* PEERD_JSON_H */
