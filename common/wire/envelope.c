/*
 * Signed envelopes (libp2p RFC 0002) and the peer records they carry
 * (RFC 0003):
 *	Envelope { public_key 1; payload_type 2; payload 3; signature 5; }
 *	PeerRecord { peer_id 1; uint64 seq 2;
 *	    repeated AddressInfo { multiaddr 1; } addresses 3; }
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "envelope.h"
#include "multiaddr.h"
#include "pb.h"
#include "peerid.h"
#include "varint.h"

#define ENV_PUBKEY	1
#define ENV_PTYPE	2
#define ENV_PAYLOAD	3
#define ENV_SIG		5

#define PR_PEERID	1
#define PR_SEQ		2
#define PR_ADDRS	3
#define AI_MULTIADDR	1

static int
put_lv(uint8_t *out, size_t outsz, size_t *off, const uint8_t *data,
    size_t len)
{
	uint8_t	 v[UVARINT_MAXLEN];
	size_t	 vl;

	vl = uvarint_encode(len, v);
	if (len > outsz || vl + len > outsz - *off)
		return -1;
	memcpy(out + *off, v, vl);
	if (len > 0)
		memcpy(out + *off + vl, data, len);
	*off += vl + len;
	return 0;
}

/* The bytes signed: each of domain, type and payload, length-prefixed. */
int
envelope_signing_buf(const char *domain, const uint8_t *ptype, size_t ptlen,
    const uint8_t *payload, size_t plen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	size_t	 off = 0;

	if (put_lv(out, outsz, &off, (const uint8_t *)domain,
	    strlen(domain)) == -1 ||
	    put_lv(out, outsz, &off, ptype, ptlen) == -1 ||
	    put_lv(out, outsz, &off, payload, plen) == -1)
		return -1;
	*outlen = off;
	return 0;
}

int
envelope_encode(const struct envelope *env, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct pbw	 w;

	if (env->pubkeylen == 0 || env->siglen == 0)
		return -1;
	pbw_init(&w, out, outsz);
	pbw_bytes(&w, ENV_PUBKEY, env->pubkey, env->pubkeylen);
	if (env->ptypelen > 0)
		pbw_bytes(&w, ENV_PTYPE, env->ptype, env->ptypelen);
	if (env->payloadlen > 0)
		pbw_bytes(&w, ENV_PAYLOAD, env->payload, env->payloadlen);
	pbw_bytes(&w, ENV_SIG, env->sig, env->siglen);
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}

static int
env_field(const struct pbf *f, const uint8_t **data, size_t *len)
{
	if (f->wire != PB_LEN || *data != NULL)
		return -1;
	*data = f->data;
	*len = f->len;
	return 0;
}

/* Each known field at most once; the key and signature are required. */
int
envelope_decode(const uint8_t *buf, size_t len, struct envelope *env)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	memset(env, 0, sizeof(*env));
	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field == ENV_PUBKEY)
			rv = env_field(&f, &env->pubkey, &env->pubkeylen);
		else if (f.field == ENV_PTYPE)
			rv = env_field(&f, &env->ptype, &env->ptypelen);
		else if (f.field == ENV_PAYLOAD)
			rv = env_field(&f, &env->payload, &env->payloadlen);
		else if (f.field == ENV_SIG)
			rv = env_field(&f, &env->sig, &env->siglen);
		else
			rv = 0;
		if (rv == -1)
			return -1;
	}
	if (rv == -1 || env->pubkeylen == 0 || env->siglen == 0)
		return -1;
	return 0;
}

/* Returns 0 when an Ed25519 signature verifies under domain. */
int
envelope_verify(const struct envelope *env, const char *domain)
{
	uint8_t		 buf[ENVELOPE_MAXSIGNED];
	const uint8_t	*key;
	size_t		 keylen, len;
	int		 type;

	if (pubkey_pb_decode(env->pubkey, env->pubkeylen, &type, &key,
	    &keylen) == -1 || type != PUBKEY_ED25519 ||
	    env->siglen != ENVELOPE_SIGLEN)
		return -1;
	if (envelope_signing_buf(domain, env->ptype, env->ptypelen,
	    env->payload, env->payloadlen, buf, sizeof(buf), &len) == -1)
		return -1;
	if (crypto_sign_verify_detached(env->sig, buf, len, key) != 0)
		return -1;
	return 0;
}

int
peer_record_encode(const struct peer_record *rec, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct pbw	 w, ai;
	uint8_t		 aibuf[MADDR_MAXLEN + 8];
	size_t		 i;

	if (rec->id.len == 0 || rec->id.len > PEERID_MAXLEN ||
	    rec->naddrs > ID_MAXADDRS)
		return -1;
	pbw_init(&w, out, outsz);
	pbw_bytes(&w, PR_PEERID, rec->id.mh, rec->id.len);
	if (rec->seq != 0)
		pbw_varint(&w, PR_SEQ, rec->seq);
	for (i = 0; i < rec->naddrs; i++) {
		if (rec->addrs[i].len > MADDR_MAXLEN)
			return -1;
		pbw_init(&ai, aibuf, sizeof(aibuf));
		pbw_bytes(&ai, AI_MULTIADDR, rec->addrs[i].b,
		    rec->addrs[i].len);
		pbw_bytes(&w, PR_ADDRS, aibuf, ai.len);
	}
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}

/* One AddressInfo; a bad or surplus address is skipped and counted. */
static int
take_addr(struct peer_record *rec, const uint8_t *buf, size_t len)
{
	struct pbr	 r;
	struct pbf	 f;
	const uint8_t	*ma = NULL;
	size_t		 malen = 0;
	int		 rv;

	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field != AI_MULTIADDR)
			continue;
		if (f.wire != PB_LEN)
			return -1;
		ma = f.data;
		malen = f.len;
	}
	if (rv == -1)
		return -1;
	if (ma == NULL || rec->naddrs == ID_MAXADDRS ||
	    maddr_decode(ma, malen, &rec->addrs[rec->naddrs]) == -1)
		rec->nbad++;
	else
		rec->naddrs++;
	return 0;
}

static int
record_field(struct peer_record *rec, const struct pbf *f, int *haveid)
{
	switch (f->field) {
	case PR_PEERID:
		if (f->wire != PB_LEN || *haveid)
			return -1;
		*haveid = 1;
		return peerid_from_mh(f->data, f->len, &rec->id);
	case PR_SEQ:
		if (f->wire != PB_VARINT)
			return -1;
		rec->seq = f->v;
		return 0;
	case PR_ADDRS:
		if (f->wire != PB_LEN)
			return -1;
		return take_addr(rec, f->data, f->len);
	default:
		return 0;
	}
}

int
peer_record_decode(const uint8_t *buf, size_t len, struct peer_record *rec)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv, haveid = 0;

	memset(rec, 0, sizeof(*rec));
	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1)
		if (record_field(rec, &f, &haveid) == -1)
			return -1;
	if (rv == -1 || !haveid)
		return -1;
	return 0;
}

/*
 * A signed peer record as identify carries it: verified under its
 * domain, of the peer record type, and naming the peer that signed it.
 */
int
peer_record_open(const uint8_t *buf, size_t len, struct peer_record *rec)
{
	struct envelope	 env;
	struct peerid	 signer;

	if (envelope_decode(buf, len, &env) == -1 ||
	    env.ptypelen != ENVELOPE_PTYPE_LEN ||
	    memcmp(env.ptype, ENVELOPE_PTYPE_PEER_RECORD,
	    ENVELOPE_PTYPE_LEN) != 0 ||
	    envelope_verify(&env, ENVELOPE_DOMAIN_PEER_RECORD) == -1 ||
	    peer_record_decode(env.payload, env.payloadlen, rec) == -1 ||
	    peerid_from_pubkey_pb(env.pubkey, env.pubkeylen, &signer) == -1 ||
	    !peerid_equal(&signer, &rec->id))
		return -1;
	return 0;
}
