/*
 * Noise_XX_25519_ChaChaPoly_SHA256 (Noise rev 34) for the libp2p noise
 * handshake.  The engine never holds the static private key: the caller
 * supplies DH(s, re) before writing the message that needs it (message 2
 * as responder, message 3 as initiator).  Nothing here allocates.
 */
#ifndef PEERD_NOISE_H
#define PEERD_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_KEYLEN		32
#define NOISE_HASHLEN		32
#define NOISE_TAGLEN		16
#define NOISE_MAXMSG		65535

/* Handshake message sizes around a payload of n bytes. */
#define NOISE_MSG1_LEN(n)	(NOISE_KEYLEN + (n))
#define NOISE_MSG2_LEN(n)	(2 * NOISE_KEYLEN + 2 * NOISE_TAGLEN + (n))
#define NOISE_MSG3_LEN(n)	(NOISE_KEYLEN + 2 * NOISE_TAGLEN + (n))

struct noise_cs {
	uint8_t		 k[NOISE_KEYLEN];
	uint64_t	 n;
	int		 has_key;
};

struct noise_hs {
	uint8_t		 ck[NOISE_HASHLEN];
	uint8_t		 h[NOISE_HASHLEN];
	struct noise_cs	 cs;
	uint8_t		 e_priv[NOISE_KEYLEN];
	uint8_t		 e_pub[NOISE_KEYLEN];
	uint8_t		 re[NOISE_KEYLEN];
	uint8_t		 rs[NOISE_KEYLEN];
	uint8_t		 s_pub[NOISE_KEYLEN];
	uint8_t		 static_dh[NOISE_KEYLEN];
	int		 initiator;
	int		 msg;		/* handshake messages done, 0 to 3 */
	int		 have_e;
	int		 have_re;
	int		 have_rs;
	int		 have_static_dh;
	int		 failed;
};

/*
 * noise_hs_write and noise_hs_read return 0 or -1.  A refusal found
 * before any state changes (wrong turn, missing static DH, sizes) leaves
 * the handshake usable; a failed DH or MAC poisons it for good.  The
 * payload must not overlap the message.
 */
void		 noise_hs_init(struct noise_hs *, int, const uint8_t [32],
		    const uint8_t *, size_t);
void		 noise_hs_set_ephemeral(struct noise_hs *, const uint8_t [32]);
const uint8_t	*noise_hs_remote_ephemeral(const struct noise_hs *);
const uint8_t	*noise_hs_remote_static(const struct noise_hs *);
void		 noise_hs_set_static_dh(struct noise_hs *, const uint8_t [32]);
int		 noise_hs_write(struct noise_hs *, const uint8_t *, size_t,
		    uint8_t *, size_t, size_t *);
int		 noise_hs_read(struct noise_hs *, const uint8_t *, size_t,
		    uint8_t *, size_t, size_t *);
int		 noise_hs_done(const struct noise_hs *);
void		 noise_hs_split(struct noise_hs *, struct noise_cs *,
		    struct noise_cs *);
void		 noise_hs_hash(const struct noise_hs *, uint8_t [32]);
void		 noise_hs_clear(struct noise_hs *);

int		 noise_encrypt(struct noise_cs *, const uint8_t *, size_t,
		    uint8_t *);
int		 noise_decrypt(struct noise_cs *, const uint8_t *, size_t,
		    uint8_t *);
void		 noise_cs_clear(struct noise_cs *);

#ifdef NOISE_COUNT_X25519
extern unsigned long	 noise_x25519_calls;
#endif

#endif /* PEERD_NOISE_H */
