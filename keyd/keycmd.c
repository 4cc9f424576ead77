/*
 * keyd's offline commands (keyd(8)), run by root with the suite stopped:
 * generate, import, export, change the passphrase, print a peer ID.
 * keyd links no configuration parser: it asks peerd -K for keyDir,
 * keyUser and keys.passphraseFile.  Every file is written to a
 * temporary file and renamed (keyfile_write).  Calls keystore.c,
 * keyfile.c, keycrypt.c.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keycrypt.h"
#include "keyd.h"
#include "passfile.h"
#include "peerid.h"
#include "privsep.h"

#define KC_FILEMAX	4096	/* the largest key file we read: base64 */

struct keycmd {
	const char	*conf;			/* -f */
	char		 keyfile[PATH_MAX];	/* -k, or keyDir/identity.key */
	char		 keydir[PATH_MAX];
	char		 keyuser[64];
	char		 passfile[PATH_MAX];
	uid_t		 uid;			/* of the key user */
	gid_t		 gid;
	int		 plain;			/* -P */
	int		 base64;		/* -b */
};

__attribute__((__noreturn__))
static void
keycmd_usage(void)
{
	fprintf(stderr,
	    "usage: keyd -g [-f config] [-k keyfile]\n"
	    "       keyd -i file [-f config] [-k keyfile]\n"
	    "       keyd -e file [-bP] [-f config] [-k keyfile]\n"
	    "       keyd -p [-f config] [-k keyfile]\n"
	    "       keyd -I file [-f config]\n"
	    "keyd is otherwise started by peerd(8)\n");
	exit(1);
}

/* keyDir, keyUser and keys.passphraseFile, as peerd -K reads them. */
static void
keycmd_config(struct keycmd *kc)
{
	char	 out[3 * PATH_MAX], *line[3], *p, *peerd;
	size_t	 got = 0, i;
	ssize_t	 n;
	pid_t	 pid;
	int	 fd[2], status;

	peerd = privsep_sibling_path("peerd");
	if (pipe(fd) == -1 || (pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(fd[0]);
		if (dup2(fd[1], STDOUT_FILENO) == -1)
			_exit(127);
		if (kc->conf != NULL)
			execl(peerd, "peerd", "-f", kc->conf, "-K", (char *)NULL);
		else
			execl(peerd, "peerd", "-K", (char *)NULL);
		fprintf(stderr, "keyd: %s: %s\n", peerd, strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	while (got < sizeof(out) - 1 && (n = read(fd[0], out + got,
	    sizeof(out) - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(fd[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "cannot read the configuration (%s -K)", peerd);
	free(peerd);
	for (p = out, i = 0; i < 3; i++) {
		line[i] = p;
		if ((p = strchr(p, '\n')) == NULL)
			errx(1, "peerd -K: unexpected output");
		*p++ = '\0';
	}
	if (strlcpy(kc->keydir, line[0], sizeof(kc->keydir)) >=
	    sizeof(kc->keydir) || strlcpy(kc->keyuser, line[1],
	    sizeof(kc->keyuser)) >= sizeof(kc->keyuser))
		errx(1, "peerd -K: too long");
	strlcpy(kc->passfile, line[2], sizeof(kc->passfile));
}

/* The key user owns what is written; without root, whoever runs this. */
static void
keycmd_owner(struct keycmd *kc)
{
	struct passwd	*pw;

	if (geteuid() != 0) {
		kc->uid = geteuid();
		kc->gid = getegid();
		warnx("not root: files are yours and keyUser is ignored");
		return;
	}
	if ((pw = getpwnam(kc->keyuser)) == NULL)
		errx(1, "keyUser %s does not exist", kc->keyuser);
	kc->uid = pw->pw_uid;
	kc->gid = pw->pw_gid;
}

/* The configured source, or NULL when there is none. */
static struct passphrase *
keycmd_pass_conf(struct keycmd *kc)
{
	struct passphrase	*pp;
	char			 src[PATH_MAX], e[PATH_MAX + 256];
	int			 fd;

	if ((fd = passfile_open(kc->passfile, src, sizeof(src), e,
	    sizeof(e))) == -1)
		errx(1, "%s", e);
	if (fd == PASSFILE_NONE)
		return NULL;
	if ((pp = passphrase_new(src)) == NULL)
		err(1, "sodium_malloc");
	if (passphrase_read_fd(pp, fd, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	close(fd);
	return pp;
}

/* One line of stdin, byte by byte: nothing of the next is consumed. */
static void
keycmd_pass_line(struct passphrase *pp)
{
	char	 c;
	int	 toolong = 0;

	pp->len = 0;
	while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
		if (pp->len < KC_PASSMAX)
			pp->buf[pp->len++] = c;
		else
			toolong = 1;
	}
	c = 0;
	if (toolong)
		errx(1, "passphrase from standard input: longer than %d bytes",
		    KC_PASSMAX);
	if (pp->len > 0 && pp->buf[pp->len - 1] == '\r')
		pp->len--;
	if (pp->len == 0)
		errx(1, "passphrase from standard input: empty");
}

/* From the terminal (twice when it is a new one), or a line of stdin. */
static struct passphrase *
keycmd_pass_ask(const char *prompt, int twice)
{
	struct passphrase	*pp, *again;

	if ((pp = passphrase_new(isatty(STDIN_FILENO) ? "the terminal" :
	    "standard input")) == NULL)
		err(1, "sodium_malloc");
	if (!isatty(STDIN_FILENO)) {
		keycmd_pass_line(pp);
		return pp;
	}
	if (readpassphrase(prompt, pp->buf, KC_PASSMAX + 1,
	    RPP_REQUIRE_TTY) == NULL)
		errx(1, "cannot read the passphrase");
	if ((pp->len = strlen(pp->buf)) == 0)
		errx(1, "empty passphrase");
	if (!twice)
		return pp;
	if ((again = passphrase_new("the terminal")) == NULL)
		err(1, "sodium_malloc");
	if (readpassphrase("Again: ", again->buf, KC_PASSMAX + 1,
	    RPP_REQUIRE_TTY) == NULL)
		errx(1, "cannot read the passphrase");
	if (strlen(again->buf) != pp->len ||
	    sodium_memcmp(again->buf, pp->buf, pp->len) != 0)
		errx(1, "the passphrases differ");
	passphrase_free(again);
	return pp;
}

/* The configured source, else ask. */
static struct passphrase *
keycmd_pass(struct keycmd *kc, const char *prompt, int twice)
{
	struct passphrase	*pp;

	if ((pp = keycmd_pass_conf(kc)) != NULL)
		return pp;
	return keycmd_pass_ask(prompt, twice);
}

static void
keycmd_print_id(const struct identity *id)
{
	char	 pid[PEERID_STRMAX];

	if (peerid_from_ed25519(id->pk, pid, sizeof(pid)) == -1)
		errx(1, "peer ID does not fit");
	printf("%s\n", pid);
}

/*
 * A key from a file: libp2p's protobuf PrivateKey, its base64 (as js and
 * go configurations carry it), or a file keyd encrypted.
 */
static void
keycmd_read_any(struct keycmd *kc, const char *path, struct identity *id)
{
	struct passphrase	*pp;
	struct kc_params	 p;
	uint8_t			*buf, *bin;
	size_t			 len;
	FILE			*f;
	int			 e;

	if ((buf = sodium_malloc(KC_FILEMAX)) == NULL ||
	    (bin = sodium_malloc(KC_FILEMAX)) == NULL)
		err(1, "sodium_malloc");
	if ((f = fopen(path, "re")) == NULL)
		err(1, "%s", path);
	setvbuf(f, NULL, _IONBF, 0);
	len = fread(buf, 1, KC_FILEMAX, f);
	if (ferror(f))
		err(1, "%s", path);
	fclose(f);
	if (len == KC_FILEMAX)
		errx(1, "%s: too large for a key file", path);
	len = keyfile_unbase64(buf, len, bin, KC_FILEMAX);
	if (kc_is_sealed(buf, len)) {
		/* an export of another peer may have its own passphrase */
		e = KC_E_PASSPHRASE;
		if ((pp = keycmd_pass_conf(kc)) != NULL)
			e = kc_open(buf, len, pp->buf, pp->len, bin,
			    KC_PLAINLEN, &p);
		if (e == KC_E_PASSPHRASE) {
			passphrase_free(pp);
			pp = keycmd_pass_ask("Passphrase of the key file: ", 0);
			e = kc_open(buf, len, pp->buf, pp->len, bin,
			    KC_PLAINLEN, &p);
		}
		if (e != KC_OK)
			errx(1, "%s: %s", path, kc_strerror(e));
		passphrase_free(pp);
		memcpy(buf, bin, KC_PLAINLEN);
		len = KC_PLAINLEN;
	}
	if (keyfile_decode(buf, len, id) == -1)
		errx(1, "%s: not an Ed25519 private key in libp2p's protobuf "
		    "encoding, its base64, or a key file of keyd", path);
	sodium_free(buf);
	sodium_free(bin);
}

/* The key directory: made if missing, else the key user's and closed. */
static void
keycmd_keydir(struct keycmd *kc)
{
	char	 e[PATH_MAX + 128];

	if (mkdir(kc->keydir, 0700) == 0) {
		if (chown(kc->keydir, kc->uid, kc->gid) == -1)
			err(1, "chown %s", kc->keydir);
	} else if (errno != EEXIST)
		err(1, "mkdir %s", kc->keydir);
	if (keystore_dircheck(kc->keydir, kc->keydir, kc->uid, e,
	    sizeof(e)) == -1)
		errx(1, "%s", e);
}

/* Save as the key file, sealed if a passphrase source is configured. */
static void
keycmd_save(struct keycmd *kc, const struct identity *id)
{
	struct passphrase	*pp;
	char			 e[PATH_MAX + 256];

	if (access(kc->keyfile, F_OK) == 0)
		errx(1, "%s exists: move it away first (it is the identity "
		    "of this peer)", kc->keyfile);
	pp = keycmd_pass_conf(kc);
	if (keystore_save(kc->keyfile, kc->uid, kc->gid, pp, id, e,
	    sizeof(e)) == -1)
		errx(1, "%s", e);
	if (pp == NULL)
		warnx("%s is not encrypted at rest: no passphrase source is "
		    "configured", kc->keyfile);
	passphrase_free(pp);
}

/* The configured key file, opened with the configured source or asked. */
static void
keycmd_load(struct keycmd *kc, struct identity *id, struct passphrase **ppp)
{
	struct passphrase	*pp = NULL;
	uint8_t			*buf;
	size_t			 len;
	char			 e[PATH_MAX + 256];
	enum keystore_state	 st;
	int			 r;

	if ((buf = sodium_malloc(KC_FILELEN + 1)) == NULL)
		err(1, "sodium_malloc");
	if ((r = keyfile_read(kc->keyfile, kc->uid, buf, KC_FILELEN + 1,
	    &len, e, sizeof(e))) == 1)
		errx(1, "%s: no such key file", kc->keyfile);
	if (r == -1)
		errx(1, "%s", e);
	if (kc_is_sealed(buf, len))
		pp = keycmd_pass(kc, "Passphrase: ", 0);
	sodium_free(buf);
	/* plain and no source: loaded as it is; keystore_load writes not */
	if (keystore_load(kc->keyfile, kc->uid, kc->gid, pp, id, &st, e,
	    sizeof(e)) == -1)
		errx(1, "%s", e);
	if (ppp != NULL)
		*ppp = pp;
	else
		passphrase_free(pp);
}

static int
keycmd_export(struct keycmd *kc, const char *out)
{
	struct identity		*id;
	struct passphrase	*pp = NULL;
	struct kc_params	 p = { KC_OPS_DEFAULT, KC_MEM_DEFAULT };
	uint8_t			*pb, *sealed;
	char			*b64, e[PATH_MAX + 256];
	const uint8_t		*data;
	size_t			 len, b64len;
	int			 r;

	if ((id = sodium_malloc(sizeof(*id))) == NULL ||
	    (pb = sodium_malloc(KC_PLAINLEN)) == NULL ||
	    (sealed = sodium_malloc(KC_FILELEN)) == NULL)
		err(1, "sodium_malloc");
	if (access(out, F_OK) == 0)
		errx(1, "%s exists: nothing written", out);
	keycmd_load(kc, id, &pp);
	keyfile_encode(id, pb, KC_PLAINLEN);
	data = pb;
	len = KC_PLAINLEN;
	if (kc->plain)
		warnx("warning: %s holds the private key unencrypted", out);
	else {
		if (pp == NULL)
			pp = keycmd_pass(kc, "Passphrase for the exported key: ",
			    1);
		if ((r = kc_seal(pb, KC_PLAINLEN, pp->buf, pp->len, &p, sealed,
		    KC_FILELEN)) != KC_OK)
			errx(1, "cannot encrypt: %s", kc_strerror(r));
		data = sealed;
		len = KC_FILELEN;
	}
	if (kc->base64) {
		b64len = sodium_base64_ENCODED_LEN(len,
		    sodium_base64_VARIANT_ORIGINAL);
		if ((b64 = sodium_malloc(b64len + 1)) == NULL)
			err(1, "sodium_malloc");
		sodium_bin2base64(b64, b64len, data, len,
		    sodium_base64_VARIANT_ORIGINAL);
		b64[b64len - 1] = '\n';
		data = (uint8_t *)b64;
		len = b64len;
	}
	if (keyfile_write(out, data, len, (uid_t)-1, (gid_t)-1, NULL, NULL,
	    e, sizeof(e)) == -1)
		errx(1, "%s", e);
	keycmd_print_id(id);
	passphrase_free(pp);
	sodium_free(id);
	sodium_free(pb);
	sodium_free(sealed);
	return 0;
}

/* A new passphrase: read from the terminal or stdin, never the file. */
static int
keycmd_passwd(struct keycmd *kc)
{
	struct identity		*id;
	struct passphrase	*old = NULL, *pp;
	char			 e[PATH_MAX + 256];

	if ((id = sodium_malloc(sizeof(*id))) == NULL)
		err(1, "sodium_malloc");
	keycmd_load(kc, id, &old);
	pp = keycmd_pass_ask("New passphrase: ", 1);
	/* renamed over the key file: there is always one or the other */
	if (keystore_save(kc->keyfile, kc->uid, kc->gid, pp, id, e,
	    sizeof(e)) == -1)
		errx(1, "%s", e);
	fprintf(stderr, "keyd: %s is encrypted with the new passphrase; put "
	    "it in keys.passphraseFile or the credential %s before the next "
	    "start\n", kc->keyfile, PASSFILE_CREDENTIAL);
	keycmd_print_id(id);
	passphrase_free(old);
	passphrase_free(pp);
	sodium_free(id);
	return 0;
}

int
keycmd_main(int argc, char *argv[])
{
	struct keycmd	 kc;
	struct identity	*id;
	const char	*file = NULL, *keyfile = NULL;
	int		 ch, cmd = 0;

	memset(&kc, 0, sizeof(kc));
	while ((ch = getopt(argc, argv, "be:f:gI:i:k:Pp")) != -1) {
		switch (ch) {
		case 'b':
			kc.base64 = 1;
			break;
		case 'e':
		case 'I':
		case 'i':
		case 'g':
		case 'p':
			if (cmd != 0)
				keycmd_usage();
			cmd = ch;
			if (ch != 'g' && ch != 'p')
				file = optarg;
			break;
		case 'f':
			kc.conf = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'P':
			kc.plain = 1;
			break;
		default:
			keycmd_usage();
		}
	}
	if (optind != argc || cmd == 0 || ((kc.plain || kc.base64) &&
	    cmd != 'e') || (keyfile != NULL && cmd == 'I'))
		keycmd_usage();
	umask(077);
	keycmd_config(&kc);
	keycmd_owner(&kc);
	if (keyfile != NULL)
		strlcpy(kc.keyfile, keyfile, sizeof(kc.keyfile));
	else if ((size_t)snprintf(kc.keyfile, sizeof(kc.keyfile), "%s/%s",
	    kc.keydir, KEYFILE_NAME) >= sizeof(kc.keyfile))
		errx(1, "%s: path too long", kc.keydir);
	if ((id = sodium_malloc(sizeof(*id))) == NULL)
		err(1, "sodium_malloc");
	switch (cmd) {
	case 'I':
		keycmd_read_any(&kc, file, id);
		break;
	case 'g':
	case 'i':
		if (keyfile == NULL)
			keycmd_keydir(&kc);
		if (cmd == 'g')
			crypto_sign_keypair(id->pk, id->sk);
		else
			keycmd_read_any(&kc, file, id);
		keycmd_save(&kc, id);
		break;
	case 'e':
		return keycmd_export(&kc, file);
	case 'p':
		return keycmd_passwd(&kc);
	}
	keycmd_print_id(id);
	sodium_free(id);
	return 0;
}
