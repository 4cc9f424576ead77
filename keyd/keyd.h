#ifndef PEERD_KEYD_H
#define PEERD_KEYD_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include <sodium.h>

#include "imsg.h"
#include "msg.h"
#include "peerid.h"

#define KEYFILE_NAME		"identity.key"
#define KEYFILE_PB_LEN		(4 + crypto_sign_SECRETKEYBYTES)
#define KEYFILE_DATA_OLD	(crypto_sign_SECRETKEYBYTES + 32)
#define KEYFILE_PB_LEN_OLD	(4 + KEYFILE_DATA_OLD)

struct identity {
	uint8_t		 sk[crypto_sign_SECRETKEYBYTES];	/* seed || pk */
	uint8_t		 pk[crypto_sign_PUBLICKEYBYTES];
};

/* A passphrase, in sodium_malloc'd memory; where it came from. */
struct passphrase {
	char		*buf;
	size_t		 len;
	char		 source[PATH_MAX];
};

enum keystore_state {
	KS_PLAIN,		/* a plain key: no passphrase source */
	KS_SEALED,		/* an encrypted key */
	KS_SEALED_NOW,		/* a plain key, encrypted in place */
	KS_CREATED		/* a new key */
};

/* keyfile.c */
int	 keyfile_read(const char *, uid_t, uint8_t *, size_t, size_t *,
	    char *, size_t);
int	 keyfile_write(const char *, const uint8_t *, size_t, uid_t, gid_t,
	    int (*)(const char *, void *), void *, char *, size_t);
int	 keyfile_decode(const uint8_t *, size_t, struct identity *);
size_t	 keyfile_encode(const struct identity *, uint8_t *, size_t);
size_t	 keyfile_unbase64(uint8_t *, size_t, uint8_t *, size_t);

/* keycmd.c */
int	 keycmd_main(int, char *[]);

/* rotate.c */
int	 rotate_files(const struct passphrase *, struct identity *, char *,
	    size_t, char *, size_t);

/* keystore.c */
void	 keystore_harden(void);
int	 keystore_dircheck(const char *, const char *, uid_t, char *, size_t);
struct passphrase *passphrase_new(const char *);
int	 passphrase_read_fd(struct passphrase *, int, char *, size_t);
void	 passphrase_free(struct passphrase *);
int	 keystore_load(const char *, uid_t, gid_t, const struct passphrase *,
	    struct identity *, enum keystore_state *, char *, size_t);
void	 keystore_say(const char *, enum keystore_state,
	    const struct passphrase *);
int	 keystore_save(const char *, uid_t, gid_t, const struct passphrase *,
	    const struct identity *, char *, size_t);

/* lockdown.c */
void	 lockdown_wipe(void *, size_t);
int	 lockdown_refuse(enum proc_id, struct imsg *);

/* pscheck.c */
const char *pscheck(const uint8_t *, size_t, const struct peerid *,
	    uint8_t *, size_t, size_t *);

/* keyinfo.c */
extern int	 key_encrypted;
void	 keyinfo_show(enum proc_id, uint32_t, const struct key_public *);

#endif /* PEERD_KEYD_H */
