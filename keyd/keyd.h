#ifndef PEERD_KEYD_H
#define PEERD_KEYD_H

#include <stdint.h>

#include <sodium.h>

#include "imsg.h"
#include "msg.h"

#define KEYFILE_NAME		"identity.key"
#define KEYFILE_PB_LEN		(4 + crypto_sign_SECRETKEYBYTES)
#define KEYFILE_DATA_OLD	(crypto_sign_SECRETKEYBYTES + 32)
#define KEYFILE_PB_LEN_OLD	(4 + KEYFILE_DATA_OLD)

struct identity {
	uint8_t		 sk[crypto_sign_SECRETKEYBYTES];	/* seed || pk */
	uint8_t		 pk[crypto_sign_PUBLICKEYBYTES];
};

/* keyfile.c */
int	 keyfile_load(const char *, struct identity *, char *, size_t);
int	 keyfile_create(const char *, struct identity *, char *, size_t);
int	 keyfile_decode(const uint8_t *, size_t, struct identity *);
size_t	 keyfile_encode(const struct identity *, uint8_t *, size_t);

/* lockdown.c */
void	 lockdown_wipe(void *, size_t);
int	 lockdown_refuse(enum proc_id, struct imsg *);

/* keyinfo.c */
extern int	 key_encrypted;
void	 keyinfo_show(enum proc_id, uint32_t, const struct key_public *);

#endif /* PEERD_KEYD_H */
