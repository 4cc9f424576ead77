/*
 * The identity key file: libp2p's protobuf PrivateKey encoding
 * (Type = Ed25519, Data = 32-byte seed followed by the public key),
 * mode 0600, owned by the key user, replaced only by rename.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd.h"

size_t
keyfile_encode(const struct identity *id, uint8_t *out, size_t outsz)
{
	if (outsz < KEYFILE_PB_LEN)
		return 0;
	out[0] = 0x08;		/* field 1, varint: KeyType */
	out[1] = 1;		/* Ed25519 */
	out[2] = 0x12;		/* field 2, bytes: Data */
	out[3] = crypto_sign_SECRETKEYBYTES;
	memcpy(out + 4, id->sk, crypto_sign_SECRETKEYBYTES);
	return KEYFILE_PB_LEN;
}

/*
 * Strict: the encoding above with a public half that matches the seed;
 * or the older 96-byte form (seed, public key, public key again) that
 * the peer-ids spec asks implementations to read, when both copies agree.
 */
int
keyfile_decode(const uint8_t *buf, size_t len, struct identity *id)
{
	uint8_t	 seedsk[crypto_sign_SECRETKEYBYTES];
	uint8_t	 pk[crypto_sign_PUBLICKEYBYTES];
	int	 r = -1;

	if (len < 4 || buf[0] != 0x08 || buf[1] != 1 || buf[2] != 0x12)
		return -1;
	if (len == KEYFILE_PB_LEN_OLD && buf[3] == KEYFILE_DATA_OLD &&
	    sodium_memcmp(buf + 4 + crypto_sign_SEEDBYTES, buf + 4 +
	    crypto_sign_SECRETKEYBYTES, crypto_sign_PUBLICKEYBYTES) != 0)
		return -1;
	if (!(len == KEYFILE_PB_LEN && buf[3] == crypto_sign_SECRETKEYBYTES) &&
	    !(len == KEYFILE_PB_LEN_OLD && buf[3] == KEYFILE_DATA_OLD))
		return -1;
	if (crypto_sign_seed_keypair(pk, seedsk, buf + 4) == 0 &&
	    sodium_memcmp(pk, buf + 4 + crypto_sign_SEEDBYTES, sizeof(pk)) ==
	    0) {
		memcpy(id->sk, seedsk, sizeof(id->sk));
		memcpy(id->pk, pk, sizeof(id->pk));
		r = 0;
	}
	sodium_memzero(seedsk, sizeof(seedsk));
	return r;
}

/* Returns 0, -1 with err set, or 1 when the file does not exist. */
int
keyfile_load(const char *path, struct identity *id, char *err, size_t errlen)
{
	uint8_t		 buf[KEYFILE_PB_LEN_OLD + 1];
	struct stat	 sb;
	ssize_t		 n;
	int		 fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (sb.st_uid != geteuid())
		snprintf(err, errlen, "%s: owned by uid %u, not by the key "
		    "user (uid %u)", path, sb.st_uid, geteuid());
	else if (sb.st_mode & (S_IRWXG | S_IRWXO))
		snprintf(err, errlen, "%s: mode %04o: group and others must "
		    "have no access (chmod 600)", path, sb.st_mode & 07777);
	else if ((n = read(fd, buf, sizeof(buf))) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (keyfile_decode(buf, n, id) == -1)
		snprintf(err, errlen, "%s: not an Ed25519 private key in "
		    "libp2p's protobuf encoding (%zd bytes); the file was left "
		    "as it is", path, n);
	else
		r = 0;
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}

int
keyfile_create(const char *path, struct identity *id, char *err,
    size_t errlen)
{
	uint8_t	 buf[KEYFILE_PB_LEN];
	char	 tmp[64];
	int	 fd, r = -1;

	crypto_sign_keypair(id->pk, id->sk);
	keyfile_encode(id, buf, sizeof(buf));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto done;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		goto done;
	}
	if ((fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	r = 0;
 done:
	sodium_memzero(buf, sizeof(buf));
	return r;
}
