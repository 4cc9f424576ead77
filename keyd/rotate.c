/*
 * The files of a rotation (peerctl key rotate): the key file in use is
 * kept as identity.key.old-<unix time> (a hard link, so the same file:
 * same mode, owner and encryption), then a new key is written over
 * identity.key the way keystore.c writes every key.  Either both are
 * done or neither: nothing is ever deleted.  Calls keystore.c.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd.h"

#define ROTATE_TRIES	100	/* archives of the same second */

/* A name for the key in use that no file has yet, and the link to it. */
static int
rotate_archive(char *archive, size_t len, char *err, size_t errlen)
{
	long long	 now = (long long)time(NULL);
	int		 i;

	for (i = 0; i < ROTATE_TRIES; i++) {
		if (i == 0)
			snprintf(archive, len, "%s.old-%lld", KEYFILE_NAME,
			    now);
		else
			snprintf(archive, len, "%s.old-%lld.%d", KEYFILE_NAME,
			    now, i);
		if (link(KEYFILE_NAME, archive) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	snprintf(err, errlen, "cannot keep %s as %s: %s", KEYFILE_NAME,
	    archive, strerror(errno));
	return -1;
}

/*
 * Make a new identity in id (the caller's guarded memory), archive the
 * key file in use and write the new one, sealed with pp when given.
 */
int
rotate_files(const struct passphrase *pp, struct identity *id,
    char *archive, size_t len, char *err, size_t errlen)
{
	struct stat	 sb;

	if (lstat(KEYFILE_NAME, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", KEYFILE_NAME, strerror(errno));
		return -1;
	}
	crypto_sign_keypair(id->pk, id->sk);
	if (rotate_archive(archive, len, err, errlen) == -1)
		return -1;
	if (keystore_save(KEYFILE_NAME, (uid_t)-1, (gid_t)-1, pp, id, err,
	    errlen) == -1) {
		/* identity.key is still the old key: the link goes */
		unlink(archive);
		return -1;
	}
	return 0;
}
