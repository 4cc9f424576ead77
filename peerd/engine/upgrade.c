/*
 * Upgrading a TCP connection: multistream-select for /noise in clear,
 * the Noise XX handshake with keyd doing our static DH, then yamux,
 * chosen inside the handshake when both sides offer it (the stream-muxer
 * extension) or by multistream-select over the encrypted channel.
 * conn.c's input hook: calls conn.c and yamux.c below it, stream.c (a
 * proposal it refuses is counted as an unknown protocol) and bans.c,
 * asks keyd for our static DH, reads our payload from state.c; tells the
 * layers above it that a connection is up, or heard from, only through
 * the hooks the engine sets.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "child.h"
#include "engine.h"
#include "log.h"
#include "multistream.h"
#include "noisepb.h"

#define PROTO_NOISE	"/noise"
#define PROTO_YAMUX	"/yamux/1.0.0"
#define NOISE_SIG_PREFIX "noise-libp2p-static-key:"
#define HS_MAXMSG	1024		/* our handshake messages */
#define MS_MAXTRIES	8		/* proposals we answer with na */

static void	 conn_heard(struct conn *);

static struct upgrade_hooks	 hooks;

void
upgrade_set_hooks(const struct upgrade_hooks *h)
{
	hooks = *h;
}

static int
ms_send(struct conn *c, const char *msg, int encrypted)
{
	uint8_t	 buf[MS_MAXMSG + 10];
	size_t	 n;

	if ((n = ms_encode(msg, buf, sizeof(buf))) == 0)
		return -1;
	return encrypted ? conn_write(c, buf, n) : conn_write_raw(c, buf, n);
}

void
upgrade_start(struct conn *c)
{
	ms_send(c, MS_PROTO, 0);
	if (c->dir == CONN_OUTBOUND)
		ms_send(c, PROTO_NOISE, 0);
	conn_update_events(c);
}

static int
hs_send(struct conn *c, const uint8_t *payload, size_t plen)
{
	uint8_t	 msg[2 + HS_MAXMSG];
	size_t	 n;

	if (noise_hs_write(c->hs, payload, plen, msg + 2, sizeof(msg) - 2,
	    &n) == -1)
		return -1;
	msg[0] = n >> 8;
	msg[1] = n & 0xff;
	return conn_write_raw(c, msg, n + 2);
}

static void
noise_begin(struct conn *c)
{
	if ((c->hs = calloc(1, sizeof(*c->hs))) == NULL) {
		conn_fail(c, "out of memory");
		return;
	}
	noise_hs_init(c->hs, c->dir == CONN_OUTBOUND, ident.noise_pub, NULL,
	    0);
	c->state = CS_NOISE;
	if (c->dir == CONN_OUTBOUND && hs_send(c, NULL, 0) == -1)
		conn_fail(c, "noise: cannot write message 1");
}

/* multistream-select for the security protocol, in clear. */
static void
security_input(struct conn *c, const uint8_t *buf, size_t len,
    size_t *used)
{
	char	 line[MS_MAXMSG + 1];
	int	 r;

	*used = 0;
	if ((r = ms_decode(buf, len, line, sizeof(line), used)) == 0)
		return;
	if (r == -1) {
		conn_fail(c, "malformed multistream message");
		return;
	}
	if (!c->ms_header) {
		if (strcmp(line, MS_PROTO) != 0) {
			conn_fail(c, "not multistream-select 1.0");
			return;
		}
		c->ms_header = 1;
		return;
	}
	if (c->dir == CONN_OUTBOUND) {
		if (strcmp(line, PROTO_NOISE) == 0)
			noise_begin(c);
		else
			conn_fail(c, "peer refused %s", PROTO_NOISE);
		return;
	}
	if (strcmp(line, PROTO_NOISE) == 0) {
		ms_send(c, PROTO_NOISE, 0);
		noise_begin(c);
		return;
	}
	proto_unknown(c, 0, line);
	if (++c->ms_tries > MS_MAXTRIES)
		conn_fail(c, "too many security proposals");
	else
		ms_send(c, MS_NA, 0);
}

static int
has_yamux(const struct noise_payload *p)
{
	size_t	 i;

	for (i = 0; i < p->nmuxers; i++)
		if (strcmp(p->muxers[i], PROTO_YAMUX) == 0)
			return 1;
	return 0;
}

/* Check the remote's identity key and its signature over the static key. */
static int
verify_payload(struct conn *c, const uint8_t *pl, size_t len)
{
	struct noise_payload	 p;
	struct peerid		 id;
	uint8_t			 msg[sizeof(NOISE_SIG_PREFIX) - 1 + 32];
	const uint8_t		*key, *rs = noise_hs_remote_static(c->hs);
	size_t			 keylen;
	char			 a[64], b[64];
	int			 type;

	if (noise_payload_decode(pl, len, &p) == -1) {
		conn_fail(c, "noise: malformed handshake payload");
		return -1;
	}
	if (pubkey_pb_decode(p.key, p.keylen, &type, &key, &keylen) == -1 ||
	    type != 1 || keylen != 32) {
		conn_fail(c, "noise: identity key is not Ed25519");
		return -1;
	}
	memcpy(msg, NOISE_SIG_PREFIX, sizeof(NOISE_SIG_PREFIX) - 1);
	memcpy(msg + sizeof(NOISE_SIG_PREFIX) - 1, rs, 32);
	if (p.siglen != 64 || crypto_sign_verify_detached(p.sig, msg,
	    sizeof(msg), key) != 0) {
		conn_fail(c, "noise: bad signature over the static key");
		return -1;
	}
	if (peerid_from_pubkey_pb(p.key, p.keylen, &id) == -1) {
		conn_fail(c, "noise: bad identity key");
		return -1;
	}
	if (c->expect_peer && !peerid_equal(&id, &c->peer)) {
		peerid_format(&c->peer, a, sizeof(a));
		peerid_format(&id, b, sizeof(b));
		conn_fail(c, "noise: dialled %s but reached %s", a, b);
		return -1;
	}
	/* both sides list muxers and none is common: the spec fails it */
	if (p.nmuxers > 0 && !has_yamux(&p)) {
		conn_fail(c, "noise: no stream muxer in common");
		return -1;
	}
	if (bans_check_peer(&id)) {
		counters.refused_banned++;
		conn_fail(c, "blocked peer");
		return -1;
	}
	c->peer = id;
	c->have_peer = 1;
	c->early_muxer = p.nmuxers > 0;
	return 0;
}

/* Secured and multiplexed: the connection is up. */
static void
upgrade_open(struct conn *c)
{
	static struct log_limit	 ll = LOG_LIMIT("connection_opened");
	char			 what[256];

	c->state = CS_OPEN;
	conn_upgraded(c);
	yamux_init(c);
	conn_event_fmt(c, what, sizeof(what));
	log_limited(&ll, LOG_INFO, "connection_opened %s", what);
	hooks.up(c);
	conn_flush(c);
}

static void
secured(struct conn *c)
{
	noise_hs_split(c->hs, &c->tx, &c->rx);
	free(c->hs);
	c->hs = NULL;
	c->ms_header = 0;
	if (c->early_muxer) {
		upgrade_open(c);
		return;
	}
	c->state = CS_MS_MUXER;
	ms_send(c, MS_PROTO, 1);
	if (c->dir == CONN_OUTBOUND)
		ms_send(c, PROTO_YAMUX, 1);
	conn_flush(c);
}

/* Ask keyd for DH(s, re); it answers through upgrade_static_dh(). */
static void
key_dh(uint32_t id, const uint8_t *re)
{
	struct key_dh	 req;

	memcpy(req.pub, re, sizeof(req.pub));
	if (child_compose(PROC_KEYD, IMSG_KEY_DH, id, -1, &req,
	    sizeof(req)) == -1)
		upgrade_static_dh(id, NULL);
}

/* A handshake message has come in. */
static void
hs_message(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t	 pl[NOISE_MAXMSG];
	size_t	 plen;

	if (noise_hs_read(c->hs, msg, len, pl, sizeof(pl), &plen) == -1) {
		conn_fail(c, "noise: handshake message refused");
		return;
	}
	if (c->dir == CONN_INBOUND && noise_hs_done(c->hs)) {
		if (verify_payload(c, pl, plen) == 0)
			secured(c);
		return;
	}
	if (c->dir == CONN_OUTBOUND && verify_payload(c, pl, plen) == -1)
		return;
	/* our next message needs DH(s, re): keyd has s */
	key_dh(c->id, noise_hs_remote_ephemeral(c->hs));
}

/* keyd's answer: write the message that needed it. */
void
upgrade_static_dh(uint32_t id, const uint8_t *dh)
{
	struct conn	*c;

	if ((c = conn_find(id)) == NULL || c->state != CS_NOISE ||
	    c->hs == NULL)
		return;
	if (dh == NULL) {
		conn_fail(c, "noise: static DH refused");
		return;
	}
	noise_hs_set_static_dh(c->hs, dh);
	if (hs_send(c, ident.payload, ident.payloadlen) == -1) {
		conn_fail(c, "noise: cannot write handshake message");
		return;
	}
	if (noise_hs_done(c->hs))
		secured(c);
	else
		conn_update_events(c);
}

/* multistream-select for the muxer, inside the encrypted channel. */
static void
muxer_input(struct conn *c, const uint8_t *pt, size_t len)
{
	char		 line[MS_MAXMSG + 1];
	struct bq	 rest;
	uint32_t	 id = c->id;
	size_t		 used;
	int		 r;

	if (bq_append(&c->mspt, pt, len, 4 * MS_MAXMSG) == -1) {
		conn_fail(c, "muxer negotiation too long");
		return;
	}
	while (c->state == CS_MS_MUXER) {
		r = ms_decode(bq_ptr(&c->mspt), c->mspt.len, line,
		    sizeof(line), &used);
		if (r == 0)
			return;
		if (r == -1) {
			conn_fail(c, "malformed multistream message");
			return;
		}
		bq_consume(&c->mspt, used);
		if (!c->ms_header) {
			if (strcmp(line, MS_PROTO) != 0) {
				conn_fail(c, "not multistream-select 1.0");
				return;
			}
			c->ms_header = 1;
		} else if (strcmp(line, PROTO_YAMUX) == 0) {
			if (c->dir == CONN_INBOUND)
				ms_send(c, PROTO_YAMUX, 1);
			break;
		} else if (c->dir == CONN_OUTBOUND) {
			conn_fail(c, "peer refused %s", PROTO_YAMUX);
			return;
		} else {
			proto_unknown(c, 0, line);
			if (++c->ms_tries > MS_MAXTRIES) {
				conn_fail(c, "too many muxer proposals");
				return;
			}
			ms_send(c, MS_NA, 1);
		}
	}
	upgrade_open(c);
	if (c->mspt.len > 0 && conn_find(id) == c) {
		rest = c->mspt;
		memset(&c->mspt, 0, sizeof(c->mspt));
		conn_heard(c);
		yamux_input(c, rest.data + rest.off, rest.len);
		bq_free(&rest);
	}
}

/*
 * The first frame after the upgrade: the peer accepted the handshake.
 * The muxer is agreed inside Noise, so the dialler's side is open
 * before the other side has checked it (a ban, a bad signature).
 */
static void
conn_heard(struct conn *c)
{
	if (c->heard)
		return;
	c->heard = 1;
	hooks.heard(c);
}

/*
 * Noise frames: a 2-byte big-endian length, then the message.  Decrypts
 * in place.  Returns -1 when the connection is gone.
 */
static int
noise_frames(struct conn *c, uint8_t *buf, size_t len, size_t *used)
{
	size_t	 n;

	*used = 0;
	if (len < 2)
		return 0;
	n = (size_t)buf[0] << 8 | buf[1];
	if (len - 2 < n)
		return 0;
	*used = 2 + n;
	if (c->state == CS_NOISE) {
		hs_message(c, buf + 2, n);
		return 0;
	}
	if (n < NOISE_TAGLEN || noise_decrypt(&c->rx, buf + 2, n,
	    buf + 2) == -1) {
		conn_fail(c, "noise: decryption failed");
		return -1;
	}
	if (c->state == CS_MS_MUXER)
		muxer_input(c, buf + 2, n - NOISE_TAGLEN);
	else if (c->state == CS_OPEN) {
		conn_heard(c);
		return yamux_input(c, buf + 2, n - NOISE_TAGLEN);
	}
	return 0;
}

/* A connection's input, for conn.c: see its input hook. */
void
upgrade_input(struct conn *c, uint8_t *buf, size_t len, size_t *used)
{
	if (c->state == CS_MS_SECURITY)
		security_input(c, buf, len, used);
	else if (noise_frames(c, buf, len, used) == -1)
		*used = 0;
}
