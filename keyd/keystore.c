/*
 * The identity key on disk as keyd and its offline commands see it:
 * plain or encrypted (keycrypt.c), the passphrase that opens it, the
 * checks on the key directory, and keyd's memory kept out of core files.
 * Every buffer that holds key bytes or the passphrase is sodium_malloc'd
 * and freed (so wiped) before return.  Calls keyfile.c and keycrypt.c.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keycrypt.h"
#include "keyd.h"
#include "log.h"

#define KS_BUFSZ	512	/* more than any key file we read */

/* Not dumpable, no core file: a crash must not write the key out. */
void
keystore_harden(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl dumpable");
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit core");
}

/* The key directory: the key user's, closed to group and others. */
int
keystore_dircheck(const char *name, const char *path, uid_t owner, char *err,
    size_t errlen)
{
	struct stat	 sb;

	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "key directory %s: %s", name,
		    strerror(errno));
		return -1;
	}
	if (sb.st_uid != owner) {
		snprintf(err, errlen, "key directory %s: owned by uid %u, not "
		    "by the key user (uid %u)", name, sb.st_uid, owner);
		return -1;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "key directory %s: mode %04o: group and "
		    "others must have no access (chmod 700)", name,
		    sb.st_mode & 07777);
		return -1;
	}
	return 0;
}

/* One line at every start: how the key is kept on disk. */
void
keystore_say(const char *root, enum keystore_state st,
    const struct passphrase *pp)
{
	if (st == KS_CREATED)
		log_info("created a new identity key in %s/%s%s", root,
		    KEYFILE_NAME, pp != NULL ? ", encrypted" : "");
	if (st == KS_SEALED_NOW)
		log_info("encrypted the identity key %s/%s in place with the "
		    "passphrase from %s", root, KEYFILE_NAME, pp->source);
	if (st == KS_SEALED)
		log_info("identity key %s/%s decrypted with the passphrase "
		    "from %s", root, KEYFILE_NAME, pp->source);
	if (pp == NULL)
		log_warnx("identity key %s/%s is not encrypted at rest: set "
		    "keys.passphraseFile, or the systemd credential "
		    "peerd-key-passphrase, and keyd encrypts it at the next "
		    "start (keyd(8))", root, KEYFILE_NAME);
}

/* the longest passphrase and its line end, \r\n, as a file holds them */
#define PASS_READMAX	(KC_PASSMAX + 2)

struct passphrase *
passphrase_new(const char *source)
{
	struct passphrase	*pp;

	if ((pp = sodium_malloc(sizeof(*pp))) == NULL)
		return NULL;
	memset(pp, 0, sizeof(*pp));
	if ((pp->buf = sodium_malloc(PASS_READMAX + 1)) == NULL) {
		sodium_free(pp);
		return NULL;
	}
	strlcpy(pp->source, source, sizeof(pp->source));
	return pp;
}

void
passphrase_free(struct passphrase *pp)
{
	if (pp == NULL)
		return;
	sodium_free(pp->buf);
	sodium_free(pp);
}

/* The whole of fd, less one final newline, is the passphrase. */
int
passphrase_read_fd(struct passphrase *pp, int fd, char *err, size_t errlen)
{
	ssize_t	 n;

	pp->len = 0;
	while (pp->len <= PASS_READMAX && (n = read(fd, pp->buf + pp->len,
	    PASS_READMAX + 1 - pp->len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "passphrase from %s: %s",
			    pp->source, strerror(errno));
			return -1;
		}
		pp->len += n;
	}
	if (pp->len > 0 && pp->buf[pp->len - 1] == '\n')
		pp->len--;
	if (pp->len > 0 && pp->buf[pp->len - 1] == '\r')
		pp->len--;
	if (pp->len > KC_PASSMAX) {
		snprintf(err, errlen, "passphrase from %s: longer than %d "
		    "bytes", pp->source, KC_PASSMAX);
		return -1;
	}
	if (pp->len == 0) {
		snprintf(err, errlen, "passphrase from %s: empty", pp->source);
		return -1;
	}
	return 0;
}

struct verify_arg {
	const struct passphrase	*pp;
	const uint8_t		*want;		/* the protobuf key */
	uid_t			 owner;
};

/* What was written reads back, and opens to the key it should hold. */
static int
keystore_verify(const char *tmp, void *arg)
{
	struct verify_arg	*va = arg;
	struct kc_params	 p;
	uint8_t			*buf, *pb;
	char			 err[256];
	size_t			 len;
	int			 r = -1;

	buf = sodium_malloc(KS_BUFSZ);
	pb = sodium_malloc(KC_PLAINLEN);
	if (buf == NULL || pb == NULL)
		goto done;
	if (keyfile_read(tmp, va->owner, buf, KS_BUFSZ, &len, err,
	    sizeof(err)) != 0)
		goto done;
	if (va->pp == NULL)
		r = len == KC_PLAINLEN && sodium_memcmp(buf, va->want,
		    KC_PLAINLEN) == 0 ? 0 : -1;
	else if (kc_open(buf, len, va->pp->buf, va->pp->len, pb, KC_PLAINLEN,
	    &p) == KC_OK && sodium_memcmp(pb, va->want, KC_PLAINLEN) == 0)
		r = 0;
 done:
	sodium_free(buf);
	sodium_free(pb);
	return r;
}

/*
 * Write the key to path, sealed with pp or plain without one, owned by
 * owner (or whoever writes when owner is -1).
 */
int
keystore_save(const char *path, uid_t owner, gid_t group,
    const struct passphrase *pp, const struct identity *id, char *err,
    size_t errlen)
{
	struct kc_params	 p = { KC_OPS_DEFAULT, KC_MEM_DEFAULT };
	struct verify_arg	 va;
	uint8_t			*pb, *out = NULL;
	int			 r = -1, e;

	if ((pb = sodium_malloc(KC_PLAINLEN)) == NULL ||
	    (pp != NULL && (out = sodium_malloc(KC_FILELEN)) == NULL)) {
		snprintf(err, errlen, "sodium_malloc: %s", strerror(errno));
		goto done;
	}
	keyfile_encode(id, pb, KC_PLAINLEN);
	va.pp = pp;
	va.want = pb;
	va.owner = owner == (uid_t)-1 ? geteuid() : owner;
	if (pp == NULL)
		r = keyfile_write(path, pb, KC_PLAINLEN, owner, group,
		    keystore_verify, &va, err, errlen);
	else if ((e = kc_seal(pb, KC_PLAINLEN, pp->buf, pp->len, &p, out,
	    KC_FILELEN)) != KC_OK)
		snprintf(err, errlen, "%s: cannot encrypt: %s", path,
		    kc_strerror(e));
	else
		r = keyfile_write(path, out, KC_FILELEN, owner, group,
		    keystore_verify, &va, err, errlen);
 done:
	sodium_free(pb);
	sodium_free(out);
	return r;
}

static int
keystore_open(const char *path, const uint8_t *buf, size_t len,
    const struct passphrase *pp, struct identity *id, char *err,
    size_t errlen)
{
	struct kc_params	 p;
	uint8_t			*pb;
	int			 e, r = -1;

	if ((pb = sodium_malloc(KC_PLAINLEN)) == NULL) {
		snprintf(err, errlen, "sodium_malloc: %s", strerror(errno));
		return -1;
	}
	/* without a passphrase, a damaged file is still said to be one */
	e = kc_open(buf, len, pp != NULL ? pp->buf : "", pp != NULL ?
	    pp->len : 0, pb, KC_PLAINLEN, &p);
	if (e == KC_E_EMPTY && pp == NULL)
		snprintf(err, errlen, "%s is encrypted, but no passphrase "
		    "source is configured (keys.passphraseFile, or the "
		    "systemd credential peerd-key-passphrase)", path);
	else if (e == KC_E_PASSPHRASE || e == KC_E_EMPTY)
		snprintf(err, errlen, "%s: %s (from %s)", path, kc_strerror(e),
		    pp->source);
	else if (e != KC_OK)
		snprintf(err, errlen, "%s: %s; the file was left as it is",
		    path, kc_strerror(e));
	else if (keyfile_decode(pb, KC_PLAINLEN, id) == -1)
		snprintf(err, errlen, "%s: decrypted, but not an Ed25519 "
		    "private key in libp2p's protobuf encoding", path);
	else
		r = 0;
	sodium_free(pb);
	return r;
}

/*
 * Load the key at path: open it with pp if it is encrypted; encrypt a
 * plain one in place when pp is given; make a new one if there is none.
 */
int
keystore_load(const char *path, uid_t owner, gid_t group,
    const struct passphrase *pp, struct identity *id,
    enum keystore_state *state, char *err, size_t errlen)
{
	uint8_t	*buf;
	size_t	 len;
	int	 r;

	if ((buf = sodium_malloc(KS_BUFSZ)) == NULL) {
		snprintf(err, errlen, "sodium_malloc: %s", strerror(errno));
		return -1;
	}
	r = keyfile_read(path, owner == (uid_t)-1 ? geteuid() : owner, buf,
	    KS_BUFSZ, &len, err, errlen);
	if (r == 1) {
		crypto_sign_keypair(id->pk, id->sk);
		*state = KS_CREATED;
		r = keystore_save(path, owner, group, pp, id, err, errlen);
	} else if (r == 0 && kc_is_sealed(buf, len)) {
		*state = KS_SEALED;
		r = keystore_open(path, buf, len, pp, id, err, errlen);
	} else if (r == 0 && keyfile_decode(buf, len, id) == -1) {
		snprintf(err, errlen, "%s: not an Ed25519 private key in "
		    "libp2p's protobuf encoding, nor an encrypted key file "
		    "(%zu bytes); the file was left as it is", path, len);
		r = -1;
	} else if (r == 0 && pp != NULL) {
		*state = KS_SEALED_NOW;
		r = keystore_save(path, owner, group, pp, id, err, errlen);
	} else if (r == 0)
		*state = KS_PLAIN;
	sodium_free(buf);
	return r;
}
