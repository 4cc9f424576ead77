/*
 * What keyd checks of a pubsub Message before it signs it (StrictSign,
 * libp2p specs pubsub/README.md): exactly one Message, in the encoding
 * keyd itself would write, from this peer, with an 8-byte seqno, one
 * non-empty topic, and neither signature nor key.  Calls common/ only.
 */
#include <sys/types.h>

#include <string.h>

#include "keyd.h"
#include "pubsub.h"

#define PREFIXLEN	(sizeof(PS_SIGN_PREFIX) - 1)

/*
 * NULL when msg may be signed, with the bytes to sign in sbuf; else
 * why not.
 */
const char *
pscheck(const uint8_t *msg, size_t len, const struct peerid *self,
    uint8_t *sbuf, size_t sbufsz, size_t *slen)
{
	struct ps_limits	 l;
	struct ps_msg		 m;
	struct peerid		 from;

	if (len == 0 || len > KEY_PSMSG_MAX)
		return "size out of bounds";
	ps_limits_default(&l);
	if (ps_msg_decode(msg, len, &l, &m) == -1)
		return "not one pubsub Message";
	if (m.signature.p != NULL || m.key.p != NULL)
		return "a signature or key is given";
	if (m.from.p == NULL || self->len == 0 ||
	    peerid_from_mh(m.from.p, m.from.len, &from) == -1 ||
	    !peerid_equal(&from, self))
		return "from is not this peer";
	if (m.seqno.p == NULL || m.seqno.len != PS_SEQNO_LEN)
		return "no 8-byte seqno";
	if (m.topic.p == NULL || m.topic.len == 0)
		return "no topic";
	/* what is signed is keyd's encoding: it must be what was sent */
	if (ps_sign_bytes(&m, sbuf, sbufsz, slen) == -1 ||
	    *slen != PREFIXLEN + len ||
	    memcmp(sbuf + PREFIXLEN, msg, len) != 0)
		return "not in canonical encoding";
	return NULL;
}
