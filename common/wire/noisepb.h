#ifndef PEERD_NOISEPB_H
#define PEERD_NOISEPB_H

#include <stddef.h>
#include <stdint.h>

#include "identify.h"

#define NOISE_MAXSIG		128
#define NOISE_MAXMUXERS		8
#define NOISE_MUXERLEN		64

/* NoiseHandshakePayload, with the stream muxers of its NoiseExtensions. */
struct noise_payload {
	uint8_t		 key[ID_MAXPUBKEY];	/* PublicKey pb */
	size_t		 keylen;
	uint8_t		 sig[NOISE_MAXSIG];
	size_t		 siglen;
	char		 muxers[NOISE_MAXMUXERS][NOISE_MUXERLEN];
	size_t		 nmuxers;
	int		 has_ext;
};

int	 noise_payload_encode(const struct noise_payload *, uint8_t *,
	    size_t, size_t *);
int	 noise_payload_decode(const uint8_t *, size_t,
	    struct noise_payload *);

#endif /* PEERD_NOISEPB_H */
