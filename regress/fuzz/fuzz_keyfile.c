/*
 * keyd's files on disk, each input read as all of them: the identity key
 * file (keyfile_decode), the sealed key file (kc_is_sealed, kc_open),
 * what keyd -i and -I import (keyfile_unbase64, then the same two) and
 * the passphrase file (passphrase_read_fd, through a pipe).
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keycrypt.h"
#include "keyd.h"

#define PASS		"fuzz passphrase"	/* the seeds are sealed with it */
#define IMPORT_MAX	4096			/* keycmd.c's KC_FILEMAX */
#define PIPE_MAX	4096			/* within a pipe's buffer */
/* the header's fields, as keycrypt.h lays them out */
#define OFF_OPS		(KC_MAGICLEN + 1)
#define OFF_MEM		(OFF_OPS + 4)
#define OFF_SUM		(KC_PARAMS_END + KC_TAGLEN)

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_plain(const uint8_t *data, size_t size)
{
	struct identity	 id, id2;
	uint8_t		 out[KEYFILE_PB_LEN];

	if (keyfile_decode(data, size, &id) == -1)
		return;
	if (size != KEYFILE_PB_LEN && size != KEYFILE_PB_LEN_OLD)
		abort();
	/* the older form encodes to the newer, its first copy of the key */
	if (keyfile_encode(&id, out, sizeof(out)) != KEYFILE_PB_LEN ||
	    memcmp(out + 4, data + 4, KEYFILE_PB_LEN - 4) != 0 ||
	    keyfile_decode(out, sizeof(out), &id2) == -1 ||
	    memcmp(&id, &id2, sizeof(id)) != 0)
		abort();
}

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

/* What opened seals again with its parameters, and opens the same. */
static void
fuzz_reseal(const uint8_t *pb, const struct kc_params *p)
{
	struct kc_params p2;
	uint8_t		 file[KC_FILELEN], pb2[KC_PLAINLEN];

	if (kc_seal(pb, KC_PLAINLEN, PASS, strlen(PASS), p, file,
	    sizeof(file)) != KC_OK ||
	    kc_open(file, sizeof(file), PASS, strlen(PASS), pb2, sizeof(pb2),
	    &p2) != KC_OK || memcmp(pb, pb2, KC_PLAINLEN) != 0 ||
	    p2.ops != p->ops || p2.mem != p->mem)
		abort();
	fuzz_plain(pb, KC_PLAINLEN);
}

/*
 * argon2id is slow on purpose: only a header with the cheapest
 * parameters kc_params_ok allows is opened with the passphrase.  The
 * input's own header goes through the checks that need none (kc_open
 * with an empty passphrase stops before argon2id); then a copy with the
 * header's sum made right (so mutations past it reach the parameter,
 * passphrase and AEAD checks) and its parameters, if kc_open takes
 * them, lowered to the cheapest before it is opened.
 */
static void
fuzz_sealed(const uint8_t *data, size_t size)
{
	struct kc_params p;
	uint8_t		 file[KC_FILELEN], pb[KC_PLAINLEN];
	int		 r;

	if (kc_is_sealed(data, size) != (size > 0 && memcmp(data, KC_MAGIC,
	    size < KC_MAGICLEN ? size : KC_MAGICLEN) == 0))
		abort();
	r = kc_open(data, size, PASS, 0, pb, sizeof(pb), &p);
	if (r == KC_OK || (r == KC_E_EMPTY && size != KC_FILELEN))
		abort();
	if (size != KC_FILELEN)
		return;
	memcpy(file, data, size);
	crypto_generichash(file + OFF_SUM, KC_TAGLEN, file, OFF_SUM, NULL, 0);
	if (kc_open(file, size, PASS, 0, pb, sizeof(pb), &p) != KC_E_EMPTY)
		return;
	put_be(file + OFF_OPS, crypto_pwhash_OPSLIMIT_MIN, 4);
	put_be(file + OFF_MEM, crypto_pwhash_MEMLIMIT_MIN, 8);
	crypto_generichash(file + OFF_SUM, KC_TAGLEN, file, OFF_SUM, NULL, 0);
	r = kc_open(file, size, PASS, strlen(PASS), pb, sizeof(pb), &p);
	if (r != KC_OK && r != KC_E_PASSPHRASE && r != KC_E_CIPHERTEXT)
		abort();
	if (r != KC_OK)
		return;
	if (p.ops != crypto_pwhash_OPSLIMIT_MIN ||
	    p.mem != crypto_pwhash_MEMLIMIT_MIN)
		abort();
	fuzz_reseal(pb, &p);
}

/* keyd -i and -I: the base64 of a key file is the key file. */
static void
fuzz_import(const uint8_t *data, size_t size)
{
	uint8_t		 buf[IMPORT_MAX], bin[IMPORT_MAX];
	size_t		 len;

	if (size >= sizeof(buf))
		return;
	memcpy(buf, data, size);
	len = keyfile_unbase64(buf, size, bin, sizeof(bin));
	if (len > size || (len != size && (size == 0 || data[0] == 0x08 ||
	    kc_is_sealed(data, size))))
		abort();
	if (len == size && memcmp(buf, data, size) == 0)
		return;
	fuzz_plain(buf, len);
	fuzz_sealed(buf, len);
}

/* All of the file, less one final newline (and a \r before it). */
static void
fuzz_passfile(const uint8_t *data, size_t size)
{
	static struct passphrase *pp;
	char		 err[256];
	size_t		 want = size;
	int		 fd[2], r;

	if (size > PIPE_MAX)
		return;
	if (pp == NULL && (pp = passphrase_new("fuzz")) == NULL)
		abort();
	if (pipe2(fd, O_CLOEXEC) == -1)
		abort();
	if (write(fd[1], data, size) != (ssize_t)size)
		abort();
	close(fd[1]);
	r = passphrase_read_fd(pp, fd[0], err, sizeof(err));
	close(fd[0]);
	if (want > 0 && data[want - 1] == '\n')
		want--;
	if (want > 0 && data[want - 1] == '\r')
		want--;
	if ((r == 0) != (want > 0 && want <= KC_PASSMAX))
		abort();
	if (r == 0 && (pp->len != want || memcmp(pp->buf, data, want) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sodium_init() == -1)
		abort();
	fuzz_plain(data, size);
	fuzz_sealed(data, size);
	fuzz_import(data, size);
	fuzz_passfile(data, size);
	return 0;
}
