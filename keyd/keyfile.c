/*
 * The identity key file: libp2p's protobuf PrivateKey encoding
 * (Type = Ed25519, Data = 32-byte seed followed by the public key),
 * plain or sealed by keycrypt.c, mode 0600, owned by the key user,
 * replaced only by rename.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keycrypt.h"
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
	if (len < 4 || buf[0] != 0x08 || buf[1] != 1 || buf[2] != 0x12)
		return -1;
	if (len == KEYFILE_PB_LEN_OLD && buf[3] == KEYFILE_DATA_OLD &&
	    sodium_memcmp(buf + 4 + crypto_sign_SEEDBYTES, buf + 4 +
	    crypto_sign_SECRETKEYBYTES, crypto_sign_PUBLICKEYBYTES) != 0)
		return -1;
	if (!(len == KEYFILE_PB_LEN && buf[3] == crypto_sign_SECRETKEYBYTES) &&
	    !(len == KEYFILE_PB_LEN_OLD && buf[3] == KEYFILE_DATA_OLD))
		return -1;
	/* straight into id, the caller's guarded memory: no copy elsewhere */
	if (crypto_sign_seed_keypair(id->pk, id->sk, buf + 4) == 0 &&
	    sodium_memcmp(id->pk, buf + 4 + crypto_sign_SEEDBYTES,
	    sizeof(id->pk)) == 0)
		return 0;
	sodium_memzero(id, sizeof(*id));
	return -1;
}

/*
 * A key file to import may be the base64 of one (as js and go
 * configurations carry it): decoded in place, with bin as scratch, when
 * it starts as neither the protobuf nor a sealed file.  The new length.
 */
size_t
keyfile_unbase64(uint8_t *buf, size_t len, uint8_t *bin, size_t binsz)
{
	size_t	 binlen;

	if (len > 0 && buf[0] != 0x08 && !kc_is_sealed(buf, len) &&
	    sodium_base642bin(bin, binsz, (char *)buf, len, " \t\r\n",
	    &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
		memcpy(buf, bin, binlen);
		return binlen;
	}
	return len;
}

/*
 * Read a whole key file, refused if it is not a regular file, not owned
 * by owner or open to group or others.  Returns 0, -1 with err set, or
 * 1 when the file does not exist.
 */
int
keyfile_read(const char *path, uid_t owner, uint8_t *buf, size_t bufsz,
    size_t *len, char *err, size_t errlen)
{
	struct stat	 sb;
	ssize_t		 n;
	int		 fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		/* someone else's file the key user cannot open: say whose */
		if (errno == EACCES && lstat(path, &sb) == 0 &&
		    sb.st_uid != owner)
			snprintf(err, errlen, "%s: owned by uid %u (mode %04o), "
			    "not by the key user (uid %u)", path, sb.st_uid,
			    sb.st_mode & 07777, owner);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (sb.st_uid != owner)
		snprintf(err, errlen, "%s: owned by uid %u (mode %04o), not "
		    "by the key user (uid %u)", path, sb.st_uid,
		    sb.st_mode & 07777, owner);
	else if (sb.st_mode & (S_IRWXG | S_IRWXO))
		snprintf(err, errlen, "%s: mode %04o: group and others must "
		    "have no access (chmod 600)", path, sb.st_mode & 07777);
	else if ((n = read(fd, buf, bufsz)) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if ((size_t)n == bufsz)
		snprintf(err, errlen, "%s: too large for a key file", path);
	else {
		*len = n;
		r = 0;
	}
	close(fd);
	return r;
}

/* The directory of path, for its fsync. */
static void
keyfile_syncdir(const char *path)
{
	char		 dir[PATH_MAX], *slash;
	int		 fd;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return;
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
}

/*
 * Write path.new (mode 0600, given to owner:group unless owner is -1),
 * fsync it, let verify read it back, then rename it over path: path is
 * either what it was or all of buf, never half-written.
 */
int
keyfile_write(const char *path, const uint8_t *buf, size_t len, uid_t owner,
    gid_t group, int (*verify)(const char *, void *), void *arg, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX];
	int	 fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, buf, len) != (ssize_t)len || fchmod(fd, 0600) == -1 ||
	    (owner != (uid_t)-1 && fchown(fd, owner, group) == -1) ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (verify != NULL && verify(tmp, arg) == -1) {
		snprintf(err, errlen, "%s: what was written does not read "
		    "back; %s was left as it is", tmp, path);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	keyfile_syncdir(path);
	return 0;
}
