/*
 * -id FILE: a libp2p protobuf PrivateKey, as p2pd reads it.  Checked
 * before anything starts (peerd's identity is Ed25519 only: the other
 * types are "unsupported"), then written as keyd's key file
 * (keyd/keyfile.c): KEYFILE_NAME in keyDir, mode 0600, the key user's.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd.h"
#include "pb.h"
#include "p2pdwrap.h"

#define KEY_FILEMAX	16384	/* an RSA 8192 key is about 4.8 kB */

_Static_assert(WRAP_KEYLEN == KEYFILE_PB_LEN, "the key file's length");

static const char *keytypes[] = { "RSA", "Ed25519", "Secp256k1", "ECDSA" };

__attribute__((__noreturn__))
static void
key_fail(const char *path, const char *why, uint8_t *buf)
{
	explicit_bzero(buf, KEY_FILEMAX);
	fprintf(stderr, "%s: -id %s: %s\n", WRAP_NAME, path, why);
	exit(1);
}

/* Data of an Ed25519 PrivateKey: seed, public key (and again, older). */
static int
key_ed25519(const uint8_t *d, size_t len, uint8_t *out)
{
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
	int		 ok;

	if (len != crypto_sign_SECRETKEYBYTES &&
	    len != crypto_sign_SECRETKEYBYTES + crypto_sign_PUBLICKEYBYTES)
		return -1;
	if (len > crypto_sign_SECRETKEYBYTES && sodium_memcmp(d +
	    crypto_sign_SEEDBYTES, d + crypto_sign_SECRETKEYBYTES,
	    sizeof(pk)) != 0)
		return -1;
	crypto_sign_seed_keypair(pk, sk, d);
	ok = sodium_memcmp(pk, d + crypto_sign_SEEDBYTES, sizeof(pk)) == 0;
	out[0] = 0x08;		/* field 1, varint: KeyType */
	out[1] = 1;		/* Ed25519 */
	out[2] = 0x12;		/* field 2, bytes: Data */
	out[3] = crypto_sign_SECRETKEYBYTES;
	memcpy(out + 4, sk, sizeof(sk));
	sodium_memzero(sk, sizeof(sk));
	return ok ? 0 : -1;
}

void
key_read(struct wrapconf *wc)
{
	uint8_t		 buf[KEY_FILEMAX];
	struct pbr	 r;
	struct pbf	 f;
	const uint8_t	*data = NULL;
	size_t		 len = 0, dlen = 0;
	ssize_t		 n;
	int		 fd, type = -1, e;

	if ((fd = open(wc->idfile, O_RDONLY | O_CLOEXEC)) == -1)
		key_fail(wc->idfile, strerror(errno), buf);
	while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0 &&
	    (len += n) < sizeof(buf))
		;
	e = errno;
	close(fd);
	if (n == -1)
		key_fail(wc->idfile, strerror(e), buf);
	if (len == sizeof(buf))
		key_fail(wc->idfile, "too large for a private key", buf);
	pbr_init(&r, buf, len);
	while ((e = pbr_next(&r, &f)) == 1) {
		if (f.field == 1 && f.wire == PB_VARINT && f.v <= INT32_MAX)
			type = f.v;
		else if (f.field == 2 && f.wire == PB_LEN) {
			data = f.data;
			dlen = f.len;
		} else
			e = -1;
		if (e == -1)
			break;
	}
	if (e == -1 || type == -1 || data == NULL)
		key_fail(wc->idfile, "not a libp2p private key (protobuf "
		    "PrivateKey{Type, Data})", buf);
	if (type > 3)
		key_fail(wc->idfile, "unknown key type", buf);
	if (type != 1) {
		explicit_bzero(buf, sizeof(buf));
		fprintf(stderr, "%s: unsupported key type %s in -id %s: "
		    "peerd's identity is an Ed25519 key\n", WRAP_NAME,
		    keytypes[type], wc->idfile);
		exit(1);
	}
	if (key_ed25519(data, dlen, wc->key) == -1)
		key_fail(wc->idfile, "not a valid Ed25519 private key (64 "
		    "bytes: seed and the public key that goes with it)", buf);
	explicit_bzero(buf, sizeof(buf));
}

/* keyDir made, the key user's, and the key written in it. */
int
key_install(const struct wrapconf *wc, const char *dir, const char *user)
{
	struct passwd	*pw;
	char		 path[PATH_MAX];
	uid_t		 uid = (uid_t)-1;
	gid_t		 gid = (gid_t)-1;
	int		 fd;

	if (geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL) {
			fprintf(stderr, "%s: user %s does not exist\n",
			    WRAP_NAME, user);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    KEYFILE_NAME) >= sizeof(path))
		return -1;
	if (mkdir(dir, 0700) == -1 || chown(dir, uid, gid) == -1) {
		fprintf(stderr, "%s: %s: %s\n", WRAP_NAME, dir,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || fchown(fd, uid, gid) == -1 ||
	    write(fd, wc->key, sizeof(wc->key)) != sizeof(wc->key) ||
	    fsync(fd) == -1) {
		fprintf(stderr, "%s: %s: %s\n", WRAP_NAME, path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return close(fd);
}
