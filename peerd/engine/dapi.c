/*
 * The libp2p daemon API's requests (go-libp2p-daemon's control
 * protocol), each as dapiclient.c hands it up: a STREAM_OPEN turns the
 * client's connection into the stream (dapistream.c), a PUBSUB SUBSCRIBE
 * into a feed of PSMessages; a CONNECT, PUBLISH or PEERSTORE lookup
 * waits for the dial, keyd or stored.  Calls conn.c, dial.c, gossip.c,
 * gspub.c, connmgr.c, listen.c, relay_client.c, dapistream.c and
 * dapiclient.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "child.h"
#include "dapi.h"
#include "engine.h"
#include "log.h"
#include "p2pd.h"
#include "pubsub.h"

#define DAPI_CONNECT_TIMEOUT	60	/* a CONNECT without its own */
#define DAPI_SUB_MAXQUEUE	(256 * 1024)	/* queued to a subscriber */

static int
view_peer(const struct p2pd_view *v, struct peerid *id)
{
	return v->p == NULL ? -1 : peerid_from_mh(v->p, v->len, id);
}

static int
view_str(const struct p2pd_view *v, char *buf, size_t size)
{
	if (v->p == NULL || v->len >= size || memchr(v->p, '\0', v->len))
		return -1;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	return 0;
}

/* Our addresses: those announced, else where we listen; and circuits. */
static size_t
our_addrs(struct multiaddr *ma, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < ident.nannounce && n < max; i++)
		ma[n++] = ident.announce[i];
	if (n == 0)
		n = listen_addrs(ma, max, NULL);
	return n + rclient_addrs(ma + n, max - n);
}

static void
req_identify(struct dapi_client *dc)
{
	struct multiaddr	 ma[PREC_MAXADDRS];
	struct p2pd_view	 v[PREC_MAXADDRS];
	struct p2pd_peerinfo	 pi;
	struct p2pd_resp	 r;
	size_t			 i, n;

	if (!ident.ready) {
		dc_fail(dc, "peerd has no identity from keyd yet");
		return;
	}
	n = our_addrs(ma, PREC_MAXADDRS);
	for (i = 0; i < n; i++) {
		v[i].p = ma[i].b;
		v[i].len = ma[i].len;
	}
	pi.id.p = ident.peerid.mh;
	pi.id.len = ident.peerid.len;
	pi.addrs = v;
	pi.naddrs = n;
	memset(&r, 0, sizeof(r));
	r.identify = &pi;
	dc_ok(dc, &r);
}

/* A connection to the peer that is up and heard from, or NULL. */
static struct conn *
peer_conn(const struct peerid *id)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry)
		if (c->have_peer && c->state == CS_OPEN && c->heard &&
		    peerid_equal(&c->peer, id))
			return c;
	return NULL;
}

/* The next address of a CONNECT dialled; 0, or -1 when none is left. */
static int
connect_next(struct dapi_client *dc, char *why, size_t len)
{
	struct multiaddr	*ma;
	struct peerid		 id;
	struct conn		*c;

	while (dc->next < dc->naddrs) {
		ma = &dc->addrs[dc->next++];
		if (maddr_get_peerid(ma, &id) == 0) {
			if (!peerid_equal(&id, &dc->peer)) {
				strlcpy(why, "connect: the address names another "
				    "peer", len);
				continue;
			}
		} else if (maddr_append_peerid(ma, &dc->peer) == -1)
			continue;
		if ((c = dial_maddr(ma, why, len)) == NULL)
			continue;
		dc->conn = c->id;
		conn_flush(c);
		return 0;
	}
	return -1;
}

static void
req_connect(struct dapi_client *dc, const struct p2pd_connect *r)
{
	struct p2pd_iter	 it;
	struct p2pd_view	 v;
	char			 why[256];

	if (view_peer(&r->peer, &dc->peer) == -1) {
		dc_fail(dc, "connect: not a peer ID");
		return;
	}
	if (peer_conn(&dc->peer) != NULL) {
		dc_okay(dc);
		return;
	}
	if (r->addrs.n == 0) {
		dc_fail(dc, "connect: no address given");
		return;
	}
	if ((dc->addrs = calloc(r->addrs.n, sizeof(*dc->addrs))) == NULL) {
		dc_fail(dc, "out of memory");
		return;
	}
	p2pd_iter(&r->addrs, &it);
	while (p2pd_next(&it, &v) == 1)
		if (maddr_decode(v.p, v.len, &dc->addrs[dc->naddrs]) == 0)
			dc->naddrs++;
	strlcpy(why, "connect: no address given parses", sizeof(why));
	if (connect_next(dc, why, sizeof(why)) == -1) {
		dc_fail(dc, why);
		return;
	}
	dc->deadline = mono_now() + (r->has_timeout && r->timeout > 0 &&
	    r->timeout < 3600 ? r->timeout : DAPI_CONNECT_TIMEOUT);
}

static void
req_disconnect(struct dapi_client *dc, const struct p2pd_view *peer)
{
	struct peerid	 id;
	struct conn	*c;

	if (view_peer(peer, &id) == -1) {
		dc_fail(dc, "disconnect: not a peer ID");
		return;
	}
	while ((c = conn_find_peer(&id)) != NULL)
		conn_close(c, "the daemon API asked");
	dc_okay(dc);
}

/* One PeerInfo a connected peer (its first connection's address). */
static void
req_list_peers(struct dapi_client *dc)
{
	struct p2pd_peerinfo	*pi;
	struct p2pd_view	*v;
	struct multiaddr	*ma;
	const struct peerid	**ids;
	struct p2pd_resp	 r;
	struct conn		*c;
	size_t			 i, n = 0, max = conn_count() + 1;

	pi = calloc(max, sizeof(*pi));
	v = calloc(max, sizeof(*v));
	ma = calloc(max, sizeof(*ma));
	ids = calloc(max, sizeof(*ids));
	if (pi == NULL || v == NULL || ma == NULL || ids == NULL) {
		dc_fail(dc, "out of memory");
		goto done;
	}
	TAILQ_FOREACH(c, &conns, entry) {
		if (!c->have_peer || c->state != CS_OPEN || n == max)
			continue;
		for (i = 0; i < n && !peerid_equal(&c->peer, ids[i]); i++)
			;
		if (i < n)
			continue;
		ids[n] = &c->peer;
		dapi_conn_addr(c, &ma[n]);
		v[n].p = ma[n].b;
		v[n].len = ma[n].len;
		pi[n].id.p = c->peer.mh;
		pi[n].id.len = c->peer.len;
		pi[n].addrs = &v[n];
		pi[n].naddrs = ma[n].len > 0;
		n++;
	}
	memset(&r, 0, sizeof(r));
	r.peers = pi;
	r.npeers = n;
	dc_ok(dc, &r);
 done:
	free(pi);
	free(v);
	free(ma);
	free(ids);
}

static void
req_stream_open(struct dapi_client *dc, const struct p2pd_open *r)
{
	struct p2pd_iter	 it;
	struct p2pd_view	 v;
	struct peerid		 id;
	struct conn		*c;
	const char		*why;
	char			 proto[P2PD_MAXPROTO + 1];

	if (view_peer(&r->peer, &id) == -1) {
		dc_fail(dc, "stream open: not a peer ID");
		return;
	}
	p2pd_iter(&r->protos, &it);
	if (p2pd_next(&it, &v) != 1 || view_str(&v, proto,
	    sizeof(proto)) == -1 || proto[0] == '\0') {
		dc_fail(dc, "stream open: no protocol");
		return;
	}
	if ((c = peer_conn(&id)) == NULL) {
		dc_fail(dc, "stream open: not connected to that peer "
		    "(CONNECT first)");
		return;
	}
	if ((why = dapi_stream_open(dc->bev, c, proto)) != NULL) {
		dc_fail(dc, why);
		return;
	}
	/* the bufferevent is the stream's now */
	dc->bev = NULL;
	dc_free(dc);
}

static void
req_stream_handler(struct dapi_client *dc, const struct p2pd_handler *r)
{
	const char		*names[P2PD_MAXPROTOS];
	char			 buf[P2PD_MAXPROTOS][P2PD_MAXPROTO + 1];
	struct p2pd_iter	 it;
	struct p2pd_view	 v;
	struct multiaddr	 ma;
	const char		*why;
	size_t			 n = 0;

	if (r->addr.p == NULL || maddr_decode(r->addr.p, r->addr.len,
	    &ma) == -1) {
		dc_fail(dc, "stream handler: not a multiaddr");
		return;
	}
	p2pd_iter(&r->protos, &it);
	while (n < P2PD_MAXPROTOS && p2pd_next(&it, &v) == 1) {
		if (view_str(&v, buf[n], sizeof(buf[n])) == -1 ||
		    buf[n][0] == '\0') {
			dc_fail(dc, "stream handler: a protocol name is empty "
			    "or holds a NUL");
			return;
		}
		names[n] = buf[n];
		n++;
	}
	if (n == 0) {
		dc_fail(dc, "stream handler: no protocol");
		return;
	}
	if ((why = dapi_handler_add(&ma, names, n)) != NULL)
		dc_fail(dc, why);
	else
		dc_okay(dc);
}

static void
req_connmanager(struct dapi_client *dc, const struct p2pd_cmreq *r)
{
	struct peerid	 id;
	char		 tag[P2PD_MAXTAG + 1];

	if (r->type == P2PD_CM_TRIM) {
		connmgr_trim();
		dc_okay(dc);
		return;
	}
	if (view_peer(&r->peer, &id) == -1 || view_str(&r->tag, tag,
	    sizeof(tag)) == -1) {
		dc_fail(dc, "connmanager: a peer ID and a tag are needed");
		return;
	}
	if (r->type == P2PD_CM_UNTAG_PEER)
		connmgr_untag(&id, tag);
	else if (connmgr_tag(&id, tag, r->has_weight ? r->weight : 0) == -1) {
		dapi_refused("tags");
		dc_fail(dc, "connmanager: too many tags (1024)");
		return;
	}
	dc_okay(dc);
}

struct ps_list {
	struct p2pd_view	*v;
	size_t			 n, max;
};

static void
ps_add_topic(const char *name, size_t len, void *arg)
{
	struct ps_list	*l = arg;

	if (l->n < l->max) {
		l->v[l->n].p = (const uint8_t *)name;
		l->v[l->n++].len = len;
	}
}

static void
ps_add_peer(const struct peerid *id, void *arg)
{
	struct ps_list	*l = arg;

	if (l->n < l->max) {
		l->v[l->n].p = id->mh;
		l->v[l->n++].len = id->len;
	}
}

static void
dapi_published(uint32_t id, int ok, const char *msg)
{
	struct dapi_client	*dc;

	if ((dc = dc_find(id)) == NULL || dc->state != DC_WAITING)
		return;
	if (ok)
		dc_okay(dc);
	else
		dc_fail(dc, msg);
}

static void
ps_subscribe(struct dapi_client *dc, const char *topic)
{
	if (ident.lockdown || !gossip_on()) {
		dc_fail(dc, "pubsub: gossipSub is not enabled");
		return;
	}
	if (gossip_watch(topic) == -1) {
		dc_fail(dc, "pubsub: the router cannot join that topic "
		    "(gossipSub.maxTopics)");
		return;
	}
	dc_feed(dc, topic);
}

static void
req_pubsub(struct dapi_client *dc, const struct p2pd_psreq *r)
{
	struct p2pd_view	 v[1024];
	struct ps_list		 l = { v, 0, 1024 };
	struct p2pd_psresp	 ps;
	struct p2pd_resp	 resp;
	char			 topic[P2PD_MAXTOPIC + 1];
	const char		*why;

	if (r->type != P2PD_PS_GET_TOPICS && (view_str(&r->topic, topic,
	    sizeof(topic)) == -1 || topic[0] == '\0')) {
		dc_fail(dc, "pubsub: no topic");
		return;
	}
	memset(&ps, 0, sizeof(ps));
	memset(&resp, 0, sizeof(resp));
	resp.ps = &ps;
	switch (r->type) {
	case P2PD_PS_GET_TOPICS:
		gossip_topics(ps_add_topic, &l);
		ps.topics = v;
		ps.ntopics = l.n;
		dc_ok(dc, &resp);
		return;
	case P2PD_PS_LIST_PEERS:
		gossip_topic_peers(topic, ps_add_peer, &l);
		ps.peers = v;
		ps.npeers = l.n;
		dc_ok(dc, &resp);
		return;
	case P2PD_PS_PUBLISH:
		/* answered once keyd has signed and it is sent */
		if ((why = gspub_send(topic, r->data.p, r->data.len,
		    dapi_published, dc->id)) != NULL)
			dc_fail(dc, why);
		return;
	default:
		ps_subscribe(dc, topic);
		return;
	}
}

/* A message on a topic a subscriber follows: one PSMessage each. */
static void
dapi_deliver(const struct gossip_delivery *d)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API subscriber losses");
	struct dapi_client	*dc;
	struct ps_msg		 m;
	uint8_t			*buf;
	size_t			 cap, len, n = 0;

	memset(&m, 0, sizeof(m));
	m.from.p = d->from->mh;
	m.from.len = d->from->len;
	m.data.p = d->data;
	m.data.len = d->len;
	m.seqno.p = d->seqno;
	m.seqno.len = d->seqnolen;
	m.topic.p = (const uint8_t *)d->topic;
	m.topic.len = strlen(d->topic);
	m.signature = d->msg->signature;
	m.key = d->msg->key;
	cap = P2PD_HDR + P2PD_SLACK + 64 + m.from.len + m.data.len +
	    m.seqno.len + m.topic.len + (m.signature.p != NULL ?
	    m.signature.len : 0) + (m.key.p != NULL ? m.key.len : 0);
	buf = NULL;
	LIST_FOREACH(dc, &dapi_clients, entry) {
		if (dc->state != DC_SUBSCRIBED ||
		    strcmp(dc->topic, d->topic) != 0)
			continue;
		if (evbuffer_get_length(bufferevent_get_output(dc->bev)) >
		    DAPI_SUB_MAXQUEUE) {
			dc->lost++;
			counters.gossip.watch_lost++;
			log_limited(&ll, LOG_INFO, "dapi_subscriber_lost "
			    "client=%u lost=%llu", dc->id,
			    (unsigned long long)dc->lost);
			continue;
		}
		if (buf == NULL && ((buf = malloc(cap)) == NULL ||
		    p2pd_psmsg_encode(&m, buf + P2PD_HDR, cap - P2PD_HDR,
		    &len) == -1 || (n = p2pd_frame(buf, len, cap)) == 0))
			break;
		bufferevent_write(dc->bev, buf, n);
	}
	free(buf);
}

static void
pstore_answer(struct dapi_client *dc, const struct peerid *id,
    const struct multiaddr *ma, size_t nma, const struct conn *c)
{
	struct p2pd_view	 v[PREC_MAXADDRS], pv[256];
	struct p2pd_peerinfo	 pi;
	struct p2pd_pstoreresp	 ps;
	struct p2pd_resp	 r;
	const char		*p;
	size_t			 i, n = 0;

	memset(&ps, 0, sizeof(ps));
	memset(&r, 0, sizeof(r));
	r.pstore = &ps;
	if (dc->pstore == P2PD_PSTORE_GET_PROTOCOLS) {
		if (c != NULL && c->info != NULL)
			for (p = c->info->protocols; p != NULL && *p != '\0' &&
			    n < 256; p += strlen(p) + 1) {
				pv[n].p = (const uint8_t *)p;
				pv[n++].len = strlen(p);
			}
		ps.protos = pv;
		ps.nprotos = n;
		dc_ok(dc, &r);
		return;
	}
	for (i = 0; i < nma; i++) {
		v[i].p = ma[i].b;
		v[i].len = ma[i].len;
	}
	pi.id.p = id->mh;
	pi.id.len = id->len;
	pi.addrs = v;
	pi.naddrs = nma;
	ps.peer = &pi;
	dc_ok(dc, &r);
}

/* The addresses identify gave, else the connection's own. */
static size_t
conn_peer_addrs(const struct conn *c, struct multiaddr *ma, size_t max)
{
	const uint8_t	*p;
	size_t		 off = 0, l, n = 0;

	if (c->info != NULL)
		for (p = c->info->addrs; off + 2 <= c->info->addrs_len &&
		    n < max; off += 2 + l) {
			l = (size_t)p[off] << 8 | p[off + 1];
			if (off + 2 + l > c->info->addrs_len)
				break;
			if (maddr_decode(p + off + 2, l, &ma[n]) == 0)
				n++;
		}
	if (n == 0) {
		dapi_conn_addr(c, &ma[0]);
		n = ma[0].len > 0;
	}
	return n;
}

static void
req_peerstore(struct dapi_client *dc, const struct p2pd_pstorereq *r)
{
	struct multiaddr	 ma[PREC_MAXADDRS];
	struct conn		*c;
	uint32_t		 id = dc->id | DAPI_ID_BIT;

	if (r->type != P2PD_PSTORE_GET_PROTOCOLS &&
	    r->type != P2PD_PSTORE_GET_PEER_INFO) {
		dc_fail(dc, "peerstore: unknown request type");
		return;
	}
	if (view_peer(&r->id, &dc->peer) == -1) {
		dc_fail(dc, "peerstore: not a peer ID");
		return;
	}
	dc->pstore = r->type;
	if ((c = peer_conn(&dc->peer)) != NULL) {
		pstore_answer(dc, &dc->peer, ma, conn_peer_addrs(c, ma,
		    PREC_MAXADDRS), c);
		return;
	}
	if (r->type == P2PD_PSTORE_GET_PROTOCOLS) {
		pstore_answer(dc, &dc->peer, NULL, 0, NULL);
		return;
	}
	if (child_compose(PROC_STORED, IMSG_STORE_LOOKUP, id, -1, &dc->peer,
	    sizeof(dc->peer)) == -1) {
		dc_fail(dc, "peerstore: stored is not answering");
		return;
	}
	dc->deadline = mono_now() + CTL_WAIT;
}

/* stored's answer to a PEERSTORE lookup: its addresses, or none. */
void
dapi_lookup_result(uint32_t id, const struct store_cand *sc)
{
	struct multiaddr	 ma[PREC_MAXADDRS];
	struct dapi_client	*dc;
	size_t			 i, n = 0;

	if ((dc = dc_find(id & ~DAPI_ID_BIT)) == NULL ||
	    dc->state != DC_WAITING || dc->pstore == 0)
		return;
	for (i = 0; sc != NULL && i < sc->naddrs && i < PREC_MAXADDRS; i++)
		if (sc->addrs[i].len <= PREC_ADDRMAX &&
		    maddr_decode(sc->addrs[i].b, sc->addrs[i].len,
		    &ma[n]) == 0)
			n++;
	dc->pstore = 0;
	pstore_answer(dc, &dc->peer, ma, n, NULL);
}

int
dapi_is_lookup(uint32_t id)
{
	return (id & DAPI_ID_BIT) != 0;
}

/* One request, read whole and within the rate. */
static void
dc_request(struct dapi_client *dc, const uint8_t *msg, size_t len)
{
	struct p2pd_req		 r;
	char			 err[128];

	if (p2pd_req_decode(msg, len, &r, err, sizeof(err)) == -1) {
		dc_fail(dc, err);
		return;
	}
	switch (r.type) {
	case P2PD_IDENTIFY:
		req_identify(dc);
		break;
	case P2PD_CONNECT:
		req_connect(dc, &r.connect);
		break;
	case P2PD_STREAM_OPEN:
		req_stream_open(dc, &r.open);
		break;
	case P2PD_STREAM_HANDLER:
		req_stream_handler(dc, &r.handler);
		break;
	case P2PD_DHT:
		dc_fail(dc, "DHT not supported");
		break;
	case P2PD_LIST_PEERS:
		req_list_peers(dc);
		break;
	case P2PD_CONNMANAGER:
		req_connmanager(dc, &r.cm);
		break;
	case P2PD_DISCONNECT:
		req_disconnect(dc, &r.disconnect);
		break;
	case P2PD_PUBSUB:
		req_pubsub(dc, &r.ps);
		break;
	case P2PD_PEERSTORE:
		req_peerstore(dc, &r.pstore);
		break;
	default:
		dc_fail(dc, "unknown request type");
		break;
	}
}

/* A CONNECT's dial came up, or went: the next address, or the end. */
void
dapi_conn_heard(struct conn *c)
{
	struct dapi_client	*dc, *next;

	LIST_FOREACH_SAFE(dc, &dapi_clients, entry, next) {
		if (dc->state != DC_WAITING || dc->naddrs == 0 ||
		    dc->conn != c->id)
			continue;
		if (c->have_peer && peerid_equal(&c->peer, &dc->peer))
			dc_okay(dc);
		else
			dc_fail(dc, "connect: the address reached another peer");
	}
}

void
dapi_conn_failed(struct conn *c, const char *reason)
{
	struct dapi_client	*dc, *next;
	char			 why[256];

	LIST_FOREACH_SAFE(dc, &dapi_clients, entry, next) {
		if (dc->state != DC_WAITING || dc->naddrs == 0 ||
		    dc->conn != c->id)
			continue;
		dc->conn = 0;
		strlcpy(why, reason, sizeof(why));
		if (connect_next(dc, why, sizeof(why)) == -1)
			dc_fail(dc, why);
	}
}

/* The socket the parent bound for daemonApi.listen. */
void
dapi_init(int fd, const char *text)
{
	dapiclient_init(fd, text, dc_request);
	gspub_set_tap(dapi_deliver);
}
