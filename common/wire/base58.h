#ifndef PEERD_BASE58_H
#define PEERD_BASE58_H

#include <stddef.h>
#include <stdint.h>

int	 base58_encode(const uint8_t *, size_t, char *, size_t);
int	 base58_decode(const char *, uint8_t *, size_t, size_t *);

#endif /* PEERD_BASE58_H */
