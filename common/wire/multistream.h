/*
 * multistream-select 1.0 messages: an unsigned varint length, then the
 * message, which ends in '\n'.
 */
#ifndef PEERD_MULTISTREAM_H
#define PEERD_MULTISTREAM_H

#include <stddef.h>
#include <stdint.h>

#define MS_PROTO	"/multistream/1.0.0"
#define MS_NA		"na"
#define MS_LS		"ls"
#define MS_MAXMSG	1024

int	 ms_decode(const uint8_t *, size_t, char *, size_t, size_t *);
size_t	 ms_encode(const char *, uint8_t *, size_t);

#endif /* PEERD_MULTISTREAM_H */
