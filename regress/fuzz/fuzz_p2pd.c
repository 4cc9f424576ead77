/*
 * Daemon control requests as a local client sends them: what decodes
 * has every list walked (each gives the count the decoder gave, no
 * empty item), and is encoded again where the protocol has the same
 * shape the other way: a ConnectRequest's peer and addresses as an
 * IdentifyResponse, read back as a ConnectRequest; a publish as the
 * PSMessage a subscriber gets, read back as a pubsub Message.  Every
 * IdentifyResponse is refused by a buffer one byte short.  The input is also
 * read as a run of frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2pd.h"
#include "pb.h"
#include "pubsub.h"

#define MAXV		64
#define ENC_MAX		8192

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t		 enc[ENC_MAX], req2[ENC_MAX + 64];
static uint8_t		 psbuf[P2PD_MAXDATA + 4096];

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* Take the items of l into v; their count must be l's. */
static size_t
walk(const struct p2pd_list *l, struct p2pd_view *v, size_t max)
{
	struct p2pd_iter	 it;
	struct p2pd_view	 x;
	size_t			 n = 0;

	p2pd_iter(l, &it);
	while (p2pd_next(&it, &x)) {
		check(x.p != NULL && x.len > 0);
		if (n < max)
			v[n] = x;
		n++;
	}
	check(n == l->n);
	return n;
}

static int
same(const struct p2pd_view *a, const struct p2pd_view *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->p, b->p, a->len) == 0);
}

/* An IdentifyResponse has the fields of a ConnectRequest. */
static void
connect_again(const struct p2pd_connect *c)
{
	struct p2pd_view	 addrs[MAXV], again[MAXV];
	struct p2pd_peerinfo	 pi;
	struct p2pd_resp	 o;
	struct p2pd_req		 r;
	struct pbr		 rd;
	struct pbf		 f;
	struct pbw		 w;
	size_t			 n, len, i;

	n = walk(&c->addrs, addrs, MAXV);
	check(n <= P2PD_MAXADDRS);
	pi.id = c->peer;
	pi.addrs = addrs;
	pi.naddrs = n;
	memset(&o, 0, sizeof(o));
	o.identify = &pi;
	if (p2pd_resp_encode(&o, enc, sizeof(enc), &len) == -1)
		return;
	check(p2pd_resp_encode(&o, enc, len - 1, &n) == -1 &&
	    p2pd_resp_encode(&o, enc, len / 2, &n) == -1);
	check(p2pd_resp_encode(&o, enc, len + P2PD_SLACK, &n) == 0 &&
	    n == len);
	pbr_init(&rd, enc, len);
	check(pbr_next(&rd, &f) == 1 && f.field == 1 && f.v == P2PD_OK);
	check(pbr_next(&rd, &f) == 1 && f.field == 4 && f.wire == PB_LEN);
	pbw_init(&w, req2, sizeof(req2));
	pbw_varint(&w, 1, P2PD_CONNECT);
	pbw_bytes(&w, 2, f.data, f.len);
	check(!w.overflow && p2pd_req_decode(req2, w.len, &r, NULL, 0) == 0);
	check(same(&r.connect.peer, &c->peer) &&
	    r.connect.addrs.n == c->addrs.n);
	walk(&r.connect.addrs, again, MAXV);
	for (i = 0; i < c->addrs.n && i < MAXV; i++)
		check(same(&addrs[i], &again[i]));
}

static void
publish_again(const struct p2pd_psreq *ps)
{
	struct ps_limits	 l;
	struct ps_msg		 m, m2;
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.topic.p = ps->topic.p;
	m.topic.len = ps->topic.len;
	m.data.p = ps->data.p;
	m.data.len = ps->data.len;
	check(p2pd_psmsg_encode(&m, psbuf, sizeof(psbuf), &len) == 0);
	ps_limits_default(&l);
	l.maxtopic = P2PD_MAXTOPIC;
	check(ps_msg_decode(psbuf, len, &l, &m2) == 0);
	check(m2.data.len == m.data.len && (m.data.len == 0 ||
	    memcmp(m2.data.p, m.data.p, m.data.len) == 0));
	check(m.topic.len == 0 || (m2.topic.len == m.topic.len &&
	    memcmp(m2.topic.p, m.topic.p, m.topic.len) == 0));
}

static void
other_answers(const struct p2pd_req *r)
{
	struct p2pd_view	 protos[MAXV];
	struct p2pd_streaminfo	 si;
	struct p2pd_pstoreresp	 pst;
	struct p2pd_resp	 o;
	size_t			 len, n;

	memset(&o, 0, sizeof(o));
	memset(&si, 0, sizeof(si));
	if (r->open.peer.p != NULL && r->handler.addr.p != NULL) {
		walk(&r->open.protos, protos, MAXV);
		si.peer = r->open.peer;
		si.addr = r->handler.addr;
		si.proto = protos[0];
		o.stream = &si;
	}
	n = walk(&r->pstore.protos, protos, MAXV);
	check(n <= P2PD_MAXPROTOS);
	memset(&pst, 0, sizeof(pst));
	pst.protos = protos;
	pst.nprotos = n;
	o.pstore = &pst;
	o.type = P2PD_ERROR;
	o.error = "fuzz";
	if (p2pd_resp_encode(&o, enc + P2PD_HDR, sizeof(enc) - P2PD_HDR,
	    &len) == 0)
		check(p2pd_frame(enc, len, sizeof(enc)) > len);
	if (p2pd_streaminfo_encode(&si, enc, sizeof(enc), &len) == 0)
		check(len >= si.peer.len + si.addr.len + si.proto.len);
}

static void
fuzz_req(const uint8_t *data, size_t size)
{
	struct p2pd_view	 v[MAXV];
	struct p2pd_req		 r;
	char			 err[128];

	err[0] = '\0';
	if (p2pd_req_decode(data, size, &r, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		return;
	}
	check(r.type >= P2PD_IDENTIFY && r.type <= P2PD_PEERSTORE);
	check(walk(&r.open.protos, v, MAXV) <= P2PD_MAXPROTOS);
	check(walk(&r.handler.protos, v, MAXV) <= P2PD_MAXPROTOS);
	if (r.connect.peer.p != NULL)
		connect_again(&r.connect);
	if (r.ps.type == P2PD_PS_PUBLISH && r.ps.data.p != NULL)
		publish_again(&r.ps);
	other_answers(&r);
}

static void
fuzz_frames(const uint8_t *data, size_t size)
{
	const uint8_t	*msg;
	size_t		 len, used, off = 0;

	while (uvarint_frame_read(data + off, size - off, P2PD_MAXREQ, &msg,
	    &len, &used) == 1) {
		check(used <= size - off && len < used);
		fuzz_req(msg, len);
		off += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_req(data, size);
	fuzz_frames(data, size);
	return 0;
}
