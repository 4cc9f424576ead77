/*
 * Pubsub RPCs as a peer sends them: what decodes is walked with every
 * iterator (each gives the count the decoder gave), its messages are
 * checked for a signature and an ID, and it is encoded again from its
 * views: that decodes to the same counts and encodes to the same bytes.
 * Tight limits take no more than the defaults.  The input is also
 * read as a run of frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pubsub.h"

#define MAXV		2048	/* views of each kind kept for encoding */
#define ENC_MAX		65536

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct coll {
	struct ps_sub		 subs[MAXV];
	struct ps_msg		 msgs[MAXV];
	struct ps_view		 ids[MAXV];
	struct ps_ihave_out	 ihave[MAXV];
	struct ps_idlist	 iwant[MAXV], idontwant[MAXV];
	struct ps_view		 graft[MAXV];
	struct ps_peerinfo	 peers[MAXV];
	struct ps_prune_out	 prune[MAXV];
	size_t			 nids, npeers;
	int			 full;
	struct ps_out		 o;
};

static struct coll	 c;
static uint8_t		 scratch[ENC_MAX + 64];

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* Take the IDs of one list into c.ids. */
static void
take_ids(const struct ps_ids *ids, struct ps_idlist *l)
{
	struct ps_iter	 it;
	struct ps_view	 v;
	size_t		 n = 0;

	l->ids = c.ids + c.nids;
	ps_ids_iter(ids, &it);
	while (ps_next_id(&it, &v)) {
		check(v.len > 0);
		if (c.nids < MAXV)
			c.ids[c.nids++] = v;
		else
			c.full = 1;
		n++;
	}
	check(n == ids->n);
	l->n = c.full ? 0 : n;
}

static void
take_prune(const struct ps_prune *pr, struct ps_prune_out *po)
{
	struct ps_iter		 it;
	struct ps_peerinfo	 pi;
	size_t			 n = 0;

	po->topic = pr->topic;
	po->has_backoff = pr->has_backoff;
	po->backoff = pr->backoff;
	po->peers = c.peers + c.npeers;
	ps_peers_iter(pr, &it);
	while (ps_next_peer(&it, &pi)) {
		if (c.npeers < MAXV)
			c.peers[c.npeers++] = pi;
		else
			c.full = 1;
		n++;
	}
	check(n == pr->npeers);
	po->npeers = n;
}

static void
take_msg(const struct ps_msg *m)
{
	uint8_t	 id[PS_MSGID_MAX], h[32];
	size_t	 n;

	if (ps_msg_verify(m, scratch, sizeof(scratch), NULL, 0) == 0)
		check(m->seqno.len == PS_SEQNO_LEN &&
		    ps_msgid_default(m, id, sizeof(id), &n) == 0 &&
		    n == PS_MSGID_MAX);
	ps_msgid_default(m, id, sizeof(id), &n);
	ps_msgid_hash(m, h);
	if (ps_sign_bytes(m, scratch, sizeof(scratch), &n) == 0)
		check(n >= sizeof(PS_SIGN_PREFIX) - 1);
}

/* Walk everything; the counts must be the decoder's. */
static void
walk(const struct ps_rpc *rpc)
{
	struct ps_iter	 it;
	struct ps_ihave	 h;
	struct ps_ids	 ids;
	struct ps_prune	 pr;
	struct ps_view	 t;
	struct ps_out	*o = &c.o;

	memset(o, 0, sizeof(*o));
	c.nids = c.npeers = 0;
	c.full = rpc->nsubs > MAXV || rpc->nmsgs > MAXV ||
	    rpc->nihave > MAXV || rpc->niwant > MAXV || rpc->ngraft > MAXV ||
	    rpc->nprune > MAXV || rpc->nidontwant > MAXV;
	o->subs = c.subs;
	o->msgs = c.msgs;
	o->ihave = c.ihave;
	o->iwant = c.iwant;
	o->graft = c.graft;
	o->prune = c.prune;
	o->idontwant = c.idontwant;
	for (ps_subs(rpc, &it); o->nsubs < MAXV &&
	    ps_next_sub(&it, &c.subs[o->nsubs]); o->nsubs++)
		;
	for (ps_msgs(rpc, &it); o->nmsgs < MAXV &&
	    ps_next_msg(&it, &c.msgs[o->nmsgs]); o->nmsgs++)
		take_msg(&c.msgs[o->nmsgs]);
	for (ps_ihaves(rpc, &it); o->nihave < MAXV && ps_next_ihave(&it, &h);
	    o->nihave++) {
		c.ihave[o->nihave].topic = h.topic;
		take_ids(&h.ids, &c.ihave[o->nihave].ids);
	}
	for (ps_iwants(rpc, &it); o->niwant < MAXV && ps_next_iwant(&it, &ids);
	    o->niwant++)
		take_ids(&ids, &c.iwant[o->niwant]);
	for (ps_grafts(rpc, &it); o->ngraft < MAXV && ps_next_graft(&it, &t);
	    o->ngraft++)
		c.graft[o->ngraft] = t;
	for (ps_prunes(rpc, &it); o->nprune < MAXV && ps_next_prune(&it, &pr);
	    o->nprune++)
		take_prune(&pr, &c.prune[o->nprune]);
	for (ps_idontwants(rpc, &it); o->nidontwant < MAXV &&
	    ps_next_idontwant(&it, &ids); o->nidontwant++)
		take_ids(&ids, &c.idontwant[o->nidontwant]);
	if (c.full)
		return;
	check(o->nsubs == rpc->nsubs && o->nmsgs == rpc->nmsgs &&
	    o->nihave == rpc->nihave && o->niwant == rpc->niwant &&
	    o->ngraft == rpc->ngraft && o->nprune == rpc->nprune &&
	    o->nidontwant == rpc->nidontwant && c.nids == rpc->nids &&
	    c.npeers == rpc->npeers);
}

static int
same_counts(const struct ps_rpc *a, const struct ps_rpc *b)
{
	return a->nsubs == b->nsubs && a->nmsgs == b->nmsgs &&
	    a->nihave == b->nihave && a->niwant == b->niwant &&
	    a->ngraft == b->ngraft && a->nprune == b->nprune &&
	    a->nidontwant == b->nidontwant && a->nids == b->nids &&
	    a->npeers == b->npeers;
}

static void
fuzz_rpc(const uint8_t *data, size_t size)
{
	static uint8_t		 enc[ENC_MAX], enc2[ENC_MAX];
	struct ps_limits	 l, tight;
	struct ps_rpc		 rpc, rpc2;
	size_t			 len, len2;

	ps_limits_default(&l);
	l.maxrpc = ENC_MAX / 2;
	tight = l;
	tight.maxsubs = tight.maxmsgs = tight.maxctrl = 3;
	tight.maxihaveids = tight.maxiwantids = tight.maxidontwantids = 2;
	tight.maxpeers = 1;
	tight.maxtopic = tight.maxmsgid = 8;
	if (ps_rpc_decode(data, size, &l, &rpc, NULL, 0) == -1) {
		check(ps_rpc_decode(data, size, &tight, &rpc2, NULL, 0) == -1);
		return;
	}
	walk(&rpc);
	if (c.full)
		return;
	/* views into data: encoding them again reads nothing else */
	if (ps_rpc_encode(&c.o, enc, sizeof(enc), &len) == -1)
		return;
	check(ps_rpc_decode(enc, len, &l, &rpc2, NULL, 0) == 0 &&
	    same_counts(&rpc, &rpc2));
	walk(&rpc2);
	check(!c.full && ps_rpc_encode(&c.o, enc2, sizeof(enc2), &len2) == 0 &&
	    len == len2 && memcmp(enc, enc2, len) == 0);
}

static void
fuzz_frames(const uint8_t *data, size_t size)
{
	static uint8_t	 out[ENC_MAX];
	const uint8_t	*msg;
	size_t		 len, used, off = 0;

	while (uvarint_frame_read(data + off, size - off, 4096, &msg, &len,
	    &used) == 1) {
		check(used <= size - off && len <= 4096 && len < used &&
		    uvarint_frame_write(msg, len, 4096, out, sizeof(out)) == used &&
		    memcmp(out, data + off, used) == 0);
		fuzz_rpc(msg, len);
		off += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_rpc(data, size);
	fuzz_frames(data, size);
	return 0;
}
