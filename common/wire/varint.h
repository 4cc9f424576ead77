#ifndef PEERD_VARINT_H
#define PEERD_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define UVARINT_MAXLEN	10	/* bytes uvarint_encode may write */
#define UVARINT_MAXDEC	9	/* bytes uvarint_decode accepts */

size_t	 uvarint_encode(uint64_t, uint8_t [UVARINT_MAXLEN]);
size_t	 uvarint_len(uint64_t);
int	 uvarint_decode(const uint8_t *, size_t, uint64_t *, size_t *);
int	 uvarint_frame_read(const uint8_t *, size_t, size_t, const uint8_t **,
	    size_t *, size_t *);
size_t	 uvarint_frame_write(const uint8_t *, size_t, size_t, uint8_t *,
	    size_t);

#endif /* PEERD_VARINT_H */
