/*
 * The identify message (/ipfs/id/1.0.0):
 *	publicKey 1, listenAddrs 2 (repeated), protocols 3 (repeated),
 *	observedAddr 4, protocolVersion 5, agentVersion 6,
 *	signedPeerRecord 8.
 * A peer's message is taken for what can be used: entries that are
 * malformed or do not fit are skipped and counted, not fatal.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "identify.h"
#include "multiaddr.h"
#include "pb.h"

#define ID_PUBKEY	1
#define ID_LISTENADDRS	2
#define ID_PROTOCOLS	3
#define ID_OBSERVED	4
#define ID_PROTOVERSION	5
#define ID_AGENTVERSION	6
#define ID_RECORD	8

void
identify_init(struct identify_msg *m)
{
	memset(m, 0, sizeof(*m));
}

int
identify_add_addr(struct identify_msg *m, const struct multiaddr *ma)
{
	if (m->naddrs >= ID_MAXADDRS || ma->len == 0 ||
	    ma->len > ID_ADDRPOOL - m->addrpoollen)
		return -1;
	memcpy(m->addrpool + m->addrpoollen, ma->b, ma->len);
	m->addroff[m->naddrs] = (uint16_t)m->addrpoollen;
	m->addrlen[m->naddrs] = (uint16_t)ma->len;
	m->addrpoollen += ma->len;
	m->naddrs++;
	return 0;
}

static int
proto_add(struct identify_msg *m, const uint8_t *s, size_t len)
{
	if (m->nprotos >= ID_MAXPROTOS || len >= ID_PROTOPOOL - m->protopoollen)
		return -1;
	memcpy(m->protopool + m->protopoollen, s, len);
	m->protopool[m->protopoollen + len] = '\0';
	m->protooff[m->nprotos++] = (uint16_t)m->protopoollen;
	m->protopoollen += len + 1;
	return 0;
}

static int
proto_valid(const uint8_t *s, size_t len)
{
	return len > 0 && len < ID_MAXSTR && pb_utf8_valid(s, len);
}

int
identify_add_proto(struct identify_msg *m, const char *proto)
{
	size_t	 len = strlen(proto);

	if (!proto_valid((const uint8_t *)proto, len))
		return -1;
	return proto_add(m, (const uint8_t *)proto, len);
}

int
identify_addr(const struct identify_msg *m, size_t i, struct multiaddr *ma)
{
	if (i >= m->naddrs || m->addrlen[i] > MADDR_MAXLEN ||
	    m->addroff[i] > ID_ADDRPOOL - m->addrlen[i])
		return -1;
	memcpy(ma->b, m->addrpool + m->addroff[i], m->addrlen[i]);
	ma->len = m->addrlen[i];
	return 0;
}

const char *
identify_proto(const struct identify_msg *m, size_t i)
{
	size_t	 off;

	if (i >= m->nprotos || (off = m->protooff[i]) >= ID_PROTOPOOL ||
	    memchr(m->protopool + off, '\0', ID_PROTOPOOL - off) == NULL)
		return NULL;
	return m->protopool + off;
}

/* Copy a string field, cut to ID_MAXSTR - 1 bytes on a UTF-8 boundary. */
static void
copy_str(struct identify_msg *m, char dst[ID_MAXSTR], const struct pbf *f)
{
	size_t	 n = f->len;

	dst[0] = '\0';
	if (!pb_utf8_valid(f->data, f->len)) {
		m->nbad++;
		return;
	}
	if (n > ID_MAXSTR - 1) {
		n = ID_MAXSTR - 1;
		while (n > 0 && (f->data[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, f->data, n);
	dst[n] = '\0';
}

static void
take_addr(struct identify_msg *m, const struct pbf *f)
{
	struct multiaddr	 ma;

	if (maddr_decode(f->data, f->len, &ma) == -1)
		m->nbad++;
	else if (identify_add_addr(m, &ma) == -1)
		m->ndropped++;
}

static void
take_proto(struct identify_msg *m, const struct pbf *f)
{
	if (!proto_valid(f->data, f->len))
		m->nbad++;
	else if (proto_add(m, f->data, f->len) == -1)
		m->ndropped++;
}

static void
take_bytes(size_t *ndropped, uint8_t *dst, size_t dstsz, size_t *dstlen,
    const struct pbf *f)
{
	*dstlen = 0;
	if (f->len > dstsz) {
		(*ndropped)++;
		return;
	}
	memcpy(dst, f->data, f->len);
	*dstlen = f->len;
}

static void
take_observed(struct identify_msg *m, const struct pbf *f)
{
	m->has_observed = maddr_decode(f->data, f->len, &m->observed) == 0;
	if (!m->has_observed)
		m->nbad++;
}

/* Returns 0, or -1 when the message is not a well-formed protobuf. */
int
identify_decode(const uint8_t *buf, size_t len, struct identify_msg *m)
{
	struct pbr	 r;
	struct pbf	 f;
	int		 rv;

	identify_init(m);
	pbr_init(&r, buf, len);
	while ((rv = pbr_next(&r, &f)) == 1) {
		if (f.field > ID_RECORD || f.field == 7)
			continue;
		if (f.wire != PB_LEN)
			return -1;
		switch (f.field) {
		case ID_PUBKEY:
			take_bytes(&m->ndropped, m->pubkey, sizeof(m->pubkey),
			    &m->pubkeylen, &f);
			break;
		case ID_LISTENADDRS:
			take_addr(m, &f);
			break;
		case ID_PROTOCOLS:
			take_proto(m, &f);
			break;
		case ID_OBSERVED:
			take_observed(m, &f);
			break;
		case ID_PROTOVERSION:
			copy_str(m, m->protocol_version, &f);
			break;
		case ID_AGENTVERSION:
			copy_str(m, m->agent_version, &f);
			break;
		case ID_RECORD:
			take_bytes(&m->ndropped, m->record, sizeof(m->record),
			    &m->recordlen, &f);
			break;
		}
	}
	return rv;
}

int
identify_encode(const struct identify_msg *m, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct pbw		 w;
	struct multiaddr	 ma;
	size_t			 i;

	if (m->pubkeylen > sizeof(m->pubkey) ||
	    m->recordlen > sizeof(m->record) || m->naddrs > ID_MAXADDRS ||
	    m->nprotos > ID_MAXPROTOS || m->observed.len > MADDR_MAXLEN ||
	    strnlen(m->protocol_version, ID_MAXSTR) == ID_MAXSTR ||
	    strnlen(m->agent_version, ID_MAXSTR) == ID_MAXSTR)
		return -1;
	pbw_init(&w, out, outsz);
	if (m->pubkeylen > 0)
		pbw_bytes(&w, ID_PUBKEY, m->pubkey, m->pubkeylen);
	for (i = 0; i < m->naddrs; i++) {
		if (identify_addr(m, i, &ma) == -1)
			return -1;
		pbw_bytes(&w, ID_LISTENADDRS, ma.b, ma.len);
	}
	for (i = 0; i < m->nprotos; i++) {
		if (identify_proto(m, i) == NULL)
			return -1;
		pbw_string(&w, ID_PROTOCOLS, identify_proto(m, i));
	}
	if (m->has_observed)
		pbw_bytes(&w, ID_OBSERVED, m->observed.b, m->observed.len);
	if (m->protocol_version[0] != '\0')
		pbw_string(&w, ID_PROTOVERSION, m->protocol_version);
	if (m->agent_version[0] != '\0')
		pbw_string(&w, ID_AGENTVERSION, m->agent_version);
	if (m->recordlen > 0)
		pbw_bytes(&w, ID_RECORD, m->record, m->recordlen);
	if (w.overflow)
		return -1;
	*outlen = w.len;
	return 0;
}
