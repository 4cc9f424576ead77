/*
 * keyd: the only process that ever holds private key bytes.  It answers
 * narrow questions about the key and never signs what it cannot check.
 * Calls keyfile.c and common/.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "child.h"
#include "circuit.h"
#include "envelope.h"
#include "keyd.h"
#include "log.h"
#include "peerid.h"
#include "pubsub.h"

#define NOISE_SIG_PREFIX	"noise-libp2p-static-key:"
#define VOUCHER_MAXTTL		(7 * 24 * 3600)	/* seconds */

struct keys {
	struct identity	 id;
	uint8_t		 noise_sk[crypto_scalarmult_SCALARBYTES];
};

static struct keys	*keys;
static struct key_public pub;
static struct peerid	 self;
static uint64_t		 ndh, nsigned, nrefused;
static uint64_t		 nvouchers, npublic;	/* of the metrics */
static uint64_t		 npubsub, npsrefused;

/* The static key of the Noise handshakes, made anew at each start. */
static void
keyd_noise_key(void)
{
	uint8_t	 msg[sizeof(NOISE_SIG_PREFIX) - 1 + 32];

	randombytes_buf(keys->noise_sk, sizeof(keys->noise_sk));
	if (crypto_scalarmult_base(pub.noise_pub, keys->noise_sk) != 0)
		fatalx("noise static key");
	memcpy(msg, NOISE_SIG_PREFIX, sizeof(NOISE_SIG_PREFIX) - 1);
	memcpy(msg + sizeof(NOISE_SIG_PREFIX) - 1, pub.noise_pub, 32);
	crypto_sign_detached(pub.noise_sig, NULL, msg, sizeof(msg),
	    keys->id.sk);
}

/* What the others are told of keys, and a new Noise key; then locked. */
static void
keyd_public(void)
{
	uint8_t	 pb[ED25519_PUBKEY_PB_LEN];

	memcpy(pub.pubkey, keys->id.pk, sizeof(pub.pubkey));
	if (peerid_from_ed25519(pub.pubkey, pub.peerid, sizeof(pub.peerid)) ==
	    -1)
		fatalx("peer id does not fit");
	pb_ed25519_pubkey(pub.pubkey, pb, sizeof(pb));
	if (peerid_from_pubkey_pb(pb, sizeof(pb), &self) == -1)
		fatalx("peer id");
	keyd_noise_key();
	sodium_mprotect_noaccess(keys);
}

/*
 * The parent's go: the descriptor holds the passphrase (or is /dev/null);
 * keyd reads it into locked memory, loads the key, and wipes it.
 */
static void
keyd_load(struct imsg *imsg)
{
	struct key_load		 kl;
	struct passphrase	*pp = NULL;
	enum keystore_state	 st;
	char			 err[512];
	int			 fd;

	imsg_get_data(imsg, &kl, sizeof(kl));
	fd = imsg_get_fd(imsg);
	if (keys != NULL || child->opts.root == NULL)
		fatalx("a key load outside keyd's start");
	if (kl.have_passphrase) {
		if ((pp = passphrase_new(kl.source)) == NULL)
			fatal("sodium_malloc");
		if (passphrase_read_fd(pp, fd, err, sizeof(err)) == -1)
			fatalx("%s", err);
	}
	close(fd);
	if (keystore_dircheck(child->opts.root, ".", geteuid(), err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if ((keys = sodium_malloc(sizeof(*keys))) == NULL)
		fatal("sodium_malloc");
	if (keystore_load(KEYFILE_NAME, (uid_t)-1, (gid_t)-1, pp, &keys->id,
	    &st, err, sizeof(err)) == -1)
		fatalx("identity key in %s: %s", child->opts.root, err);
	keystore_say(child->opts.root, st, pp);
	key_encrypted = pp != NULL;
	passphrase_free(pp);
	keyd_public();
	log_info("identity %s", pub.peerid);
}

/*
 * peerctl key rotate, through the parent, which sends the passphrase
 * source as at the start: a new identity on disk (rotate.c), then in
 * memory, the old one wiped; relayd and the engine are told.
 */
static void
keyd_rotate(struct imsg *imsg)
{
	struct key_load		 kl;
	struct key_rotated	 kr;
	struct passphrase	*pp = NULL;
	struct keys		*nk = NULL;
	static struct log_limit	 ll = LOG_LIMIT("key rotation");
	int			 fd;

	imsg_get_data(imsg, &kl, sizeof(kl));
	fd = imsg_get_fd(imsg);
	memset(&kr, 0, sizeof(kr));
	strlcpy(kr.old, pub.peerid, sizeof(kr.old));
	if (keys == NULL)
		strlcpy(kr.msg, "no key loaded", sizeof(kr.msg));
	else if (kl.have_passphrase && (pp = passphrase_new(kl.source)) ==
	    NULL)
		snprintf(kr.msg, sizeof(kr.msg), "sodium_malloc failed");
	else if (pp != NULL && passphrase_read_fd(pp, fd, kr.msg,
	    sizeof(kr.msg)) == -1)
		;
	else if ((nk = sodium_malloc(sizeof(*nk))) == NULL)
		snprintf(kr.msg, sizeof(kr.msg), "sodium_malloc failed");
	else if (rotate_files(pp, &nk->id, kr.archive, sizeof(kr.archive),
	    kr.msg, sizeof(kr.msg)) == 0)
		kr.ok = 1;
	if (fd != -1)
		close(fd);
	if (kr.ok)
		key_encrypted = pp != NULL;
	passphrase_free(pp);
	if (!kr.ok) {
		sodium_free(nk);
		log_limited(&ll, LOG_WARNING, "key rotation failed: %s",
		    kr.msg);
		child_compose(PROC_ENGINE, IMSG_KEY_ROTATED, imsg_get_id(imsg),
		    -1, &kr, sizeof(kr));
		return;
	}
	sodium_free(keys);
	keys = nk;
	keyd_public();
	kr.pub = pub;
	log_limited(&ll, LOG_NOTICE, "identity rotated from %s to %s; the "
	    "old key is kept as %s/%s", kr.old, pub.peerid, child->opts.root,
	    kr.archive);
	child_compose(PROC_RELAYD, IMSG_KEY_PUBLIC, 0, -1, &pub, sizeof(pub));
	child_compose(PROC_ENGINE, IMSG_KEY_ROTATED, imsg_get_id(imsg), -1,
	    &kr, sizeof(kr));
}

static void
keyd_dh(enum proc_id from, struct imsg *imsg)
{
	static struct log_limit	 ll = LOG_LIMIT("low-order DH point");
	struct key_dh		 req;
	struct key_dh_result	 res;

	imsg_get_data(imsg, &req, sizeof(req));
	memset(&res, 0, sizeof(res));
	sodium_mprotect_readonly(keys);
	res.ok = crypto_scalarmult(res.shared, keys->noise_sk, req.pub) == 0;
	sodium_mprotect_noaccess(keys);
	if (!res.ok) {
		memset(res.shared, 0, sizeof(res.shared));
		log_limited(&ll, LOG_INFO,
		    "refused a DH with a low-order point");
	}
	ndh++;
	child_compose(from, IMSG_KEY_DH_RESULT, imsg_get_id(imsg), -1,
	    &res, sizeof(res));
	sodium_memzero(&res, sizeof(res));
}

/* Sign payload as an envelope of the given domain and payload type. */
static int
keyd_envelope(const char *domain, const uint8_t *ptype,
    const uint8_t *payload, size_t len, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	static uint8_t	 sbuf[ENVELOPE_MAXSIGNED];
	struct envelope	 env;
	uint8_t		 pb[ED25519_PUBKEY_PB_LEN];
	uint8_t		 sig[ENVELOPE_SIGLEN];
	size_t		 n;

	if (envelope_signing_buf(domain, ptype, ENVELOPE_PTYPE_LEN, payload,
	    len, sbuf, sizeof(sbuf), &n) == -1)
		return -1;
	sodium_mprotect_readonly(keys);
	crypto_sign_detached(sig, NULL, sbuf, n, keys->id.sk);
	sodium_mprotect_noaccess(keys);
	memset(&env, 0, sizeof(env));
	env.pubkeylen = pb_ed25519_pubkey(pub.pubkey, pb, sizeof(pb));
	env.pubkey = pb;
	env.ptype = ptype;
	env.ptypelen = ENVELOPE_PTYPE_LEN;
	env.payload = payload;
	env.payloadlen = len;
	env.sig = sig;
	env.siglen = sizeof(sig);
	return envelope_encode(&env, out, outsz, outlen);
}

/*
 * Sign a peer record, after checking that it is one, that it names this
 * peer, and that every address in it is a valid multiaddr.
 */
static void
keyd_sign_record(enum proc_id from, struct imsg *imsg)
{
	static struct peer_record	 rec;
	static uint8_t			 out[IMSG_MAXSIZE];
	size_t				 n, len = imsg_get_len(imsg);

	if (peer_record_decode(imsg->data, len, &rec) == -1 ||
	    rec.nbad != 0 || !peerid_equal(&rec.id, &self) ||
	    keyd_envelope(ENVELOPE_DOMAIN_PEER_RECORD,
	    ENVELOPE_PTYPE_PEER_RECORD, imsg->data, len, out,
	    IMSG_MAXSIZE - IMSG_HEADER_SIZE, &n) == -1) {
		nrefused++;
		log_warnx("refused to sign a peer record from %s",
		    proc_name(from));
		child_compose(from, IMSG_KEY_RECORD, 0, -1, NULL, 0);
		return;
	}
	nsigned++;
	child_compose(from, IMSG_KEY_RECORD, 0, -1, out, n);
}

/*
 * Sign a reservation voucher for relayd: it must name this relay as the
 * relay, a valid peer, and expire within a week.  What is signed is
 * keyd's own encoding of what it checked, not the bytes it was given.
 */
static void
keyd_sign_voucher(enum proc_id from, struct imsg *imsg)
{
	uint8_t			 out[RELAY_VOUCHER_MAX];
	struct rsvp_voucher	 v;
	uint8_t			 payload[256];
	size_t			 plen, n;
	uint64_t		 now = (uint64_t)time(NULL);

	if (voucher_decode(imsg->data, imsg_get_len(imsg), &v) == -1 ||
	    !peerid_equal(&v.relay, &self) || v.expiration < now ||
	    v.expiration > now + VOUCHER_MAXTTL ||
	    voucher_encode(&v, payload, sizeof(payload), &plen) == -1 ||
	    keyd_envelope(ENVELOPE_DOMAIN_RELAY_RSVP,
	    ENVELOPE_PTYPE_RELAY_RSVP, payload, plen, out, sizeof(out),
	    &n) == -1) {
		nrefused++;
		log_warnx("refused to sign a reservation voucher from %s",
		    proc_name(from));
		child_compose(from, IMSG_KEY_VOUCHER, imsg_get_id(imsg), -1,
		    NULL, 0);
		return;
	}
	nsigned++;
	nvouchers++;
	child_compose(from, IMSG_KEY_VOUCHER, imsg_get_id(imsg), -1,
	    out, n);
}

/*
 * Sign a pubsub message the engine publishes, once pscheck.c has found
 * it to be ours and well formed.  The answer carries the engine's
 * request ID and the signature, or none.
 */
static int
keyd_sign_pubsub(enum proc_id from, struct imsg *imsg)
{
	static struct log_limit	 ll = LOG_LIMIT("pubsub signature refused");
	static uint8_t		 sbuf[sizeof(PS_SIGN_PREFIX) + KEY_PSMSG_MAX];
	struct key_ps_sign	 req;
	struct key_ps_sig	 res;
	const char		*why;
	size_t			 n, len = imsg_get_len(imsg);

	if (len < sizeof(req))
		return -1;
	memcpy(&req, imsg->data, sizeof(req));
	memset(&res, 0, sizeof(res));
	res.req = req.req;
	if (keys == NULL)
		why = "no key loaded";
	else
		why = pscheck((const uint8_t *)imsg->data + sizeof(req),
		    len - sizeof(req), &self, sbuf, sizeof(sbuf), &n);
	if (why != NULL) {
		nrefused++;
		npsrefused++;
		log_limited(&ll, LOG_WARNING, "refused to sign a pubsub "
		    "message from %s: %s", proc_name(from), why);
	} else {
		sodium_mprotect_readonly(keys);
		crypto_sign_detached(res.sig, NULL, sbuf, n, keys->id.sk);
		sodium_mprotect_noaccess(keys);
		res.ok = 1;
		nsigned++;
		npubsub++;
	}
	child_compose(from, IMSG_KEY_PUBSUB_SIG, 0, -1, &res, sizeof(res));
	return 0;
}

static int
keyd_dispatch(enum proc_id from, struct imsg *imsg)
{
	if (child->lockdown)
		return lockdown_refuse(from, imsg);
	switch (imsg_get_type(imsg)) {
	case IMSG_KEY_DH:
		keyd_dh(from, imsg);
		return 0;
	case IMSG_KEY_SIGN_RECORD:
		keyd_sign_record(from, imsg);
		return 0;
	case IMSG_KEY_SIGN_VOUCHER:
		keyd_sign_voucher(from, imsg);
		return 0;
	case IMSG_KEY_SIGN_PUBSUB:
		return keyd_sign_pubsub(from, imsg);
	case IMSG_KEY_LOAD:
		keyd_load(imsg);
		return 0;
	case IMSG_KEY_ROTATE:
		keyd_rotate(imsg);
		return 0;
	case IMSG_KEY_GET_PUBLIC:
		npublic++;
		child_compose(from, IMSG_KEY_PUBLIC, imsg_get_id(imsg), -1,
		    &pub, sizeof(pub));
		return 0;
	case IMSG_CTL_SHOW_KEY:
		keyinfo_show(from, imsg_get_id(imsg), &pub);
		return 0;
	default:
		return 1;
	}
}

static void
keyd_status(struct ctl_proc *p)
{
	snprintf(p->detail, sizeof(p->detail), "identity %s (Ed25519); "
	    "%llu DH, %llu signed, %llu refused", pub.peerid,
	    (unsigned long long)ndh, (unsigned long long)nsigned,
	    (unsigned long long)nrefused);
}

static void
keyd_metrics(struct metric_set *set)
{
	metric_add(set, METRIC_KEYD_OPERATIONS, ndh, "kind", "dh", NULL,
	    NULL);
	metric_add(set, METRIC_KEYD_OPERATIONS, nsigned - nvouchers - npubsub,
	    "kind", "sign_record", NULL, NULL);
	metric_add(set, METRIC_KEYD_OPERATIONS, npubsub, "kind",
	    "sign_pubsub", NULL, NULL);
	metric_add(set, METRIC_KEYD_OPERATIONS, npsrefused, "kind",
	    "refused_pubsub", NULL, NULL);
	metric_add(set, METRIC_KEYD_OPERATIONS, nvouchers, "kind",
	    "sign_voucher", NULL, NULL);
	metric_add(set, METRIC_KEYD_OPERATIONS, npublic, "kind", "public",
	    NULL, NULL);
	metric_add(set, METRIC_KEYD_OPERATIONS, nrefused, "kind", "refused",
	    NULL, NULL);
}

static void
keyd_shutdown(void)
{
	sodium_free(keys);
	keys = NULL;
}

/* Lockdown: every key zeroed and unmapped; lockdown.c refuses the rest. */
static const char *
keyd_lockdown(void)
{
	lockdown_wipe(keys, sizeof(*keys));
	keys = NULL;
	return "every key wiped from memory; every request refused until "
	    "a restart";
}

static struct child keyd_child = {
	.id = PROC_KEYD,
	.dispatch = keyd_dispatch,
	.status = keyd_status,
	.shutdown = keyd_shutdown,
	.metrics = keyd_metrics,
	.lockdown_hook = keyd_lockdown,
};

int
main(int argc, char *argv[])
{
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	/* peerd starts keyd with -F first (privsep_argv); else a command */
	if (argc < 2 || strcmp(argv[1], "-F") != 0)
		return keycmd_main(argc, argv);
	child_start(&keyd_child, argc, argv);
	keystore_harden();
	child_loop();
	return 0;
}
