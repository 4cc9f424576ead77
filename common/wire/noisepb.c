/*
 * The Noise handshake payload (libp2p noise spec):
 *	NoiseHandshakePayload { identity_key 1; identity_sig 2;
 *	    NoiseExtensions extensions 4; }
 *	NoiseExtensions { repeated bytes webtransport_certhashes 1;
 *	    repeated string stream_muxers 2; }
 * Unknown fields are skipped; a field larger than its slot is an error.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "noisepb.h"
#include "pb.h"

#define NP_KEY		1
#define NP_SIG		2
#define NP_EXT		4
#define NX_CERTHASHES	1
#define NX_MUXERS	2

#define NX_MAXLEN	(NOISE_MAXMUXERS * (NOISE_MUXERLEN + 2))

static int
ext_decode(const uint8_t *buf, size_t len, struct noise_payload *np)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	np->has_ext = 1;
	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field != NX_MUXERS)
			continue;
		if (f.wire != PB_LEN || f.len == 0 ||
		    f.len >= NOISE_MUXERLEN || np->nmuxers == NOISE_MAXMUXERS ||
		    !pb_utf8_valid(f.data, f.len))
			return -1;
		memcpy(np->muxers[np->nmuxers], f.data, f.len);
		np->muxers[np->nmuxers++][f.len] = '\0';
	}
	return rv;
}

static int
bytes_field(const struct pbf *f, uint8_t *dst, size_t dstsz, size_t *dstlen)
{
	if (f->wire != PB_LEN || f->len > dstsz)
		return -1;
	memcpy(dst, f->data, f->len);
	*dstlen = f->len;
	return 0;
}

int
noise_payload_decode(const uint8_t *buf, size_t len, struct noise_payload *np)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	memset(np, 0, sizeof(*np));
	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		switch (f.field) {
		case NP_KEY:
			rv = bytes_field(&f, np->key, sizeof(np->key),
			    &np->keylen);
			break;
		case NP_SIG:
			rv = bytes_field(&f, np->sig, sizeof(np->sig),
			    &np->siglen);
			break;
		case NP_EXT:
			rv = f.wire == PB_LEN ?
			    ext_decode(f.data, f.len, np) : -1;
			break;
		default:
			rv = 0;
			break;
		}
		if (rv == -1)
			return -1;
	}
	return rv;
}

static int
ext_encode(const struct noise_payload *np, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct pbw	 w;
	size_t		 i;

	if (np->nmuxers > NOISE_MAXMUXERS)
		return -1;
	pbw_init(&w, out, outsz);
	for (i = 0; i < np->nmuxers; i++) {
		if (strnlen(np->muxers[i], NOISE_MUXERLEN) == NOISE_MUXERLEN)
			return -1;
		pbw_string(&w, NX_MUXERS, np->muxers[i]);
	}
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}

int
noise_payload_encode(const struct noise_payload *np, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	struct pbw	 w;
	uint8_t		 ext[NX_MAXLEN];
	size_t		 extlen;

	if (np->keylen > sizeof(np->key) || np->siglen > sizeof(np->sig))
		return -1;
	pbw_init(&w, out, outsz);
	if (np->keylen > 0)
		pbw_bytes(&w, NP_KEY, np->key, np->keylen);
	if (np->siglen > 0)
		pbw_bytes(&w, NP_SIG, np->sig, np->siglen);
	if (np->has_ext) {
		if (ext_encode(np, ext, sizeof(ext), &extlen) == -1)
			return -1;
		pbw_bytes(&w, NP_EXT, ext, extlen);
	}
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}
