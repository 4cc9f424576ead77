/*
 * Circuit relay v2, the client side: reservations on the relays of the
 * configuration (kept fresh, taken again after a reconnect), relayed
 * connections accepted through STOP CONNECT, and /p2p-circuit dials.
 * A relayed connection runs multistream, Noise and yamux over a stream
 * of the connection to the relay: its carrier, onto which its sealed
 * output is pushed here (conn.c asks through the engine's push hook).
 * Calls conn.c, yamux.c, upgrade.c and dial.c; tells the engine that
 * our circuit addresses changed through the hook it sets.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "child.h"
#include "circuit.h"
#include "engine.h"
#include "log.h"

#define RELAY_ADDRS		4	/* circuit addresses kept per relay */
#define BACKOFF_MIN		1
#define BACKOFF_MAX		300

enum slot_state {
	SLOT_IDLE,
	SLOT_DIALING,
	SLOT_RESERVING,
	SLOT_RESERVED
};

struct slot {
	struct multiaddr	 ma;
	struct peerid		 id;
	enum slot_state		 state;
	uint32_t		 conn;
	time_t			 next;		/* retry or refresh, monotonic */
	time_t			 expire;	/* monotonic */
	int			 backoff;
	size_t			 naddrs;
	struct multiaddr	 addrs[RELAY_ADDRS];
};

enum ckind {
	CK_RESERVE,		/* our hop RESERVE */
	CK_CONNECT,		/* our hop CONNECT, for a relayed dial */
	CK_STOP,		/* a relay's STOP CONNECT to us */
	CK_CARRIER		/* carries a relayed connection */
};

struct cstream {
	enum ckind	 kind;
	int		 slot;
	uint32_t	 gen;		/* of the slot */
	uint32_t	 rconn;		/* the relayed connection */
};

static struct rclient_hooks hooks;
static struct slot	 slots[CONF_MAX_RELAYS];
static size_t		 nslots;
static int		 configured;
static uint32_t		 generation;	/* of the relay list */

/* A relayed dial waits for its relay connection. */
struct pending_dial {
	uint32_t	 relay_conn;
	uint32_t	 rconn;
	struct peerid	 dst;
};
#define MAX_DIALS	64
static struct pending_dial dials[MAX_DIALS];

/*
 * Relays a daemon API client reserved on itself, through a hop stream
 * it opened: their STOP is taken too.  The oldest is forgotten first.
 */
#define API_RELAYS	16
static struct peerid	 api_relays[API_RELAYS];
static size_t		 napi_relays, api_next;

void
rclient_set_hooks(const struct rclient_hooks *h)
{
	hooks = *h;
}

int
rclient_enabled(void)
{
	return nslots > 0 || napi_relays > 0;
}

void
rclient_api_relay(const struct peerid *id)
{
	size_t	 i;

	for (i = 0; i < napi_relays; i++)
		if (peerid_equal(&api_relays[i], id))
			return;
	api_relays[api_next] = *id;
	api_next = (api_next + 1) % API_RELAYS;
	if (napi_relays < API_RELAYS)
		napi_relays++;
}

/* STOP CONNECT is taken from the relays we reserved on, and no one else. */
static int
is_our_relay(const struct conn *c)
{
	size_t	 i;

	for (i = 0; i < nslots; i++)
		if (c->have_peer && peerid_equal(&slots[i].id, &c->peer))
			return 1;
	for (i = 0; i < napi_relays; i++)
		if (c->have_peer && peerid_equal(&api_relays[i], &c->peer))
			return 1;
	return 0;
}

static struct cstream *
cstream_new(struct stream *s, enum ckind kind)
{
	struct cstream	*cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->kind = kind;
	cs->slot = -1;
	s->ctx = cs;
	return cs;
}

static void
slot_retry(struct slot *sl, const char *why)
{
	char	 addr[MADDR_STRMAX];

	maddr_format(&sl->ma, addr, sizeof(addr));
	if (sl->naddrs > 0)
		hooks.addrs_changed();
	if (sl->state == SLOT_RESERVED)
		log_info("reservation on %s lost: %s", addr, why);
	else
		log_info("reservation on %s failed: %s; retry in %d s", addr,
		    why, sl->backoff);
	sl->state = SLOT_IDLE;
	sl->naddrs = 0;
	sl->next = mono_now() + sl->backoff +
	    (time_t)randombytes_uniform(sl->backoff / 2 + 1);
	sl->backoff = sl->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    sl->backoff * 2;
}

static void
slot_reserve(int i, struct conn *c)
{
	static struct hop_msg	 m;
	uint8_t			 buf[64];
	struct stream		*s;
	struct cstream		*cs;
	size_t			 len;

	if ((s = yamux_open(c, CIRCUIT_HOP)) == NULL ||
	    (cs = cstream_new(s, CK_RESERVE)) == NULL) {
		if (s != NULL)
			stream_reset(s);
		slot_retry(&slots[i], "cannot open a stream");
		return;
	}
	cs->slot = i;
	cs->gen = generation;
	memset(&m, 0, sizeof(m));
	m.type = HOP_RESERVE;
	m.has_type = 1;
	if (hop_encode(&m, buf, sizeof(buf), &len) == 0)
		stream_write_msg(s, buf, len);
	slots[i].state = SLOT_RESERVING;
	slots[i].conn = c->id;
	conn_flush(c);
}

static void
slot_dial(int i)
{
	struct slot	*sl = &slots[i];
	struct conn	*c;
	char		 err[256];

	if ((c = dial_maddr(&sl->ma, err, sizeof(err))) == NULL) {
		slot_retry(sl, err);
		return;
	}
	sl->conn = c->id;
	if (c->state == CS_OPEN)
		slot_reserve(i, c);
	else
		sl->state = SLOT_DIALING;
}

/* The relay's answer to our RESERVE. */
static void
reserve_answer(struct stream *s, struct cstream *cs, const struct hop_msg *m)
{
	struct slot		*sl = &slots[cs->slot];
	struct rsvp_voucher	 v;
	struct peerid		 signer;
	struct multiaddr	 ma, circ, old[RELAY_ADDRS];
	uint64_t		 now = time(NULL), ttl;
	size_t			 oldn;
	size_t			 i;
	char			 addr[MADDR_STRMAX];

	if (m->type != HOP_STATUS || !m->has_status) {
		slot_retry(sl, "malformed answer");
		return;
	}
	if (m->status != CIRCUIT_OK) {
		slot_retry(sl, circuit_status_name(m->status));
		return;
	}
	if (!m->rsvp.present || m->rsvp.expire <= now) {
		slot_retry(sl, "no valid reservation in the answer");
		return;
	}
	if (voucher_open(m->rsvp.voucher, m->rsvp.voucherlen, &v,
	    &signer) == -1 || !peerid_equal(&v.peer, &ident.peerid) ||
	    !peerid_equal(&v.relay, &s->conn->peer)) {
		slot_retry(sl, "the reservation voucher does not check out");
		return;
	}
	ttl = m->rsvp.expire - now;
	oldn = sl->naddrs;
	memcpy(old, sl->addrs, sizeof(old));
	sl->state = SLOT_RESERVED;
	sl->backoff = BACKOFF_MIN;
	sl->expire = mono_now() + ttl;
	sl->next = mono_now() + (ttl * 3 / 4 > 1 ? ttl * 3 / 4 : 1);
	sl->naddrs = 0;
	if (maddr_parse("/p2p-circuit", &circ, addr, sizeof(addr)) == -1)
		fatalx("/p2p-circuit does not parse");
	for (i = 0; i < m->rsvp.addrs.naddrs && sl->naddrs < RELAY_ADDRS;
	    i++) {
		if (circuit_rsvp_addr(&m->rsvp, i, &ma) == -1)
			continue;
		if (!maddr_has(&ma, MADDR_P2P) &&
		    maddr_append_peerid(&ma, &s->conn->peer) == -1)
			continue;
		if (maddr_append(&ma, &circ) == 0)
			sl->addrs[sl->naddrs++] = ma;
	}
	maddr_format(&sl->ma, addr, sizeof(addr));
	log_info("reservation on %s for %llu s, %zu circuit addresses", addr,
	    (unsigned long long)ttl, sl->naddrs);
	for (i = 0; oldn == sl->naddrs && i < oldn; i++)
		if (!maddr_equal(&old[i], &sl->addrs[i]))
			break;
	if (oldn != sl->naddrs || i < oldn)
		hooks.addrs_changed();
}

/* The relay stream is up: the upgrade runs over it. */
static void
carrier_attach(struct conn *c, struct stream *s)
{
	c->carrier_conn = s->conn->id;
	c->carrier_stream = s->id;
	c->via = s->conn->peer;
	c->state = CS_MS_SECURITY;
	upgrade_start(c);
}

static struct stream *
carrier(const struct conn *c)
{
	struct conn	*cc;

	if (c->carrier_stream == 0 || (cc = conn_find(c->carrier_conn)) ==
	    NULL)
		return NULL;
	return stream_lookup(cc, c->carrier_stream);
}

/* Hand sealed output to the relay stream, as far as it takes it. */
void
rclient_carrier_push(struct conn *c)
{
	struct stream	*s;
	size_t		 n;
	int		 was = conn_congested(c);

	if ((s = carrier(c)) == NULL || c->framing)
		return;
	while (c->out.len > 0 && stream_writable(s)) {
		n = c->out.len < NOISE_MAXMSG ? c->out.len : NOISE_MAXMSG;
		if (stream_write(s, bq_ptr(&c->out), n) == -1)
			break;
		bq_consume(&c->out, n);
	}
	conn_flush(s->conn);
	if (was && !conn_congested(c) && c->state == CS_OPEN)
		yamux_send_pending(c);
}

/* The relayed connection goes: so does its stream, with a reset. */
void
rclient_carrier_release(struct conn *c)
{
	struct stream	*s;

	if (c->relayed && (s = carrier(c)) != NULL) {
		c->carrier_stream = 0;
		s->ctx = NULL;
		stream_reset(s);
	}
}

/* The relay's answer to our CONNECT: the stream now carries the conn. */
static void
connect_answer(struct stream *s, struct cstream *cs, const struct hop_msg *m)
{
	struct conn	*rc = conn_find(cs->rconn);

	if (rc == NULL) {
		stream_reset(s);
		return;
	}
	if (m->type != HOP_STATUS || m->status != CIRCUIT_OK) {
		s->ctx = NULL;
		free(cs);
		stream_reset(s);
		conn_close(rc, m->has_status ? circuit_status_name(m->status) :
		    "relay refused");
		return;
	}
	cs->kind = CK_CARRIER;
	carrier_attach(rc, s);
}

static void
hop_answer(struct stream *s, struct cstream *cs)
{
	static struct hop_msg	 m;
	const uint8_t		*msg;
	size_t			 len, used;
	int			 r;

	if ((r = circuit_frame_read(bq_ptr(&s->in), s->in.len, &msg, &len,
	    &used)) == 0)
		return;
	if (r == -1 || hop_decode(msg, len, &m) == -1) {
		memset(&m, 0, sizeof(m));
		m.type = -1;
	}
	if (cs->kind == CK_RESERVE) {
		if (cs->gen == generation)
			reserve_answer(s, cs, &m);
		stream_consume(s, r == 1 ? used : s->in.len);
		stream_close(s);
		return;
	}
	stream_consume(s, r == 1 ? used : s->in.len);
	connect_answer(s, cs, &m);
}

/* A relay asks us to take a relayed connection. */
static void
stop_request(struct stream *s, struct cstream *cs)
{
	static struct stop_msg	 m;
	uint8_t			 buf[64];
	const uint8_t		*msg;
	struct conn		*rc;
	size_t			 len, used;
	int			 r, status = CIRCUIT_OK;

	if ((r = circuit_frame_read(bq_ptr(&s->in), s->in.len, &msg, &len,
	    &used)) == 0)
		return;
	if (r == -1 || stop_decode(msg, len, &m) == -1 ||
	    m.type != STOP_CONNECT || !m.peer.present)
		status = CIRCUIT_MALFORMED_MESSAGE;
	else if (s->conn->relayed || !is_our_relay(s->conn))
		status = CIRCUIT_PERMISSION_DENIED;
	stream_consume(s, r == 1 ? used : s->in.len);
	if (status == CIRCUIT_OK && (rc = conn_new_relayed(CONN_INBOUND)) ==
	    NULL)
		status = CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	memset(&m, 0, sizeof(m));
	m.type = STOP_STATUS;
	m.has_type = 1;
	m.status = status;
	m.has_status = 1;
	if (stop_encode(&m, buf, sizeof(buf), &len) == 0)
		stream_write_msg(s, buf, len);
	if (status != CIRCUIT_OK) {
		stream_close(s);
		return;
	}
	cs->kind = CK_CARRIER;
	cs->rconn = rc->id;
	carrier_attach(rc, s);
}

/* Bytes of a relayed connection, or a protocol message. */
void
rclient_input(struct stream *s)
{
	struct cstream	*cs = s->ctx;
	struct conn	*rc;
	size_t		 used;
	uint32_t	 sid = s->id, rid;
	struct conn	*sc = s->conn;

	if (cs == NULL && !(s->flags & ST_OUTBOUND)) {
		if ((cs = cstream_new(s, CK_STOP)) == NULL) {
			stream_reset(s);
			return;
		}
	}
	if (cs == NULL)
		return;
	switch (cs->kind) {
	case CK_RESERVE:
	case CK_CONNECT:
		hop_answer(s, cs);
		break;
	case CK_STOP:
		stop_request(s, cs);
		break;
	case CK_CARRIER:
		break;
	}
	if ((s = stream_lookup(sc, sid)) == NULL || (cs = s->ctx) == NULL ||
	    cs->kind != CK_CARRIER || s->in.len == 0 ||
	    (rc = conn_find(cs->rconn)) == NULL)
		return;
	rid = rc->id;
	used = conn_feed(rc, s->in.data + s->in.off, s->in.len);
	if ((s = stream_lookup(sc, sid)) != NULL)
		stream_consume(s, used);
	if ((rc = conn_find(rid)) != NULL)
		conn_flush(rc);
}

void
rclient_writable(struct stream *s)
{
	struct cstream	*cs = s->ctx;
	struct conn	*rc;

	if (cs != NULL && cs->kind == CK_CARRIER &&
	    (rc = conn_find(cs->rconn)) != NULL)
		rclient_carrier_push(rc);
}

void
rclient_closed(struct stream *s)
{
	struct cstream	*cs = s->ctx;
	struct conn	*rc;

	if (cs != NULL && cs->kind == CK_CARRIER &&
	    (rc = conn_find(cs->rconn)) != NULL) {
		conn_close(rc, "relay stream closed");
		return;
	}
	stream_close(s);
}

void
rclient_free(struct stream *s)
{
	struct cstream	*cs = s->ctx;
	struct conn	*rc;

	if (cs == NULL)
		return;
	s->ctx = NULL;
	if (cs->kind == CK_RESERVE && cs->slot >= 0 &&
	    cs->gen == generation && slots[cs->slot].state == SLOT_RESERVING)
		slot_retry(&slots[cs->slot], "stream closed");
	if ((cs->kind == CK_CARRIER || cs->kind == CK_CONNECT) &&
	    (rc = conn_find(cs->rconn)) != NULL &&
	    rc->carrier_stream == s->id) {
		rc->carrier_stream = 0;
		conn_close(rc, "relay stream closed");
	} else if (cs->kind == CK_CONNECT &&
	    (rc = conn_find(cs->rconn)) != NULL)
		conn_close(rc, "relay stream closed");
	free(cs);
}

/* Open the hop CONNECT of a relayed dial on the relay connection. */
static void
dial_hop(struct conn *relay, struct pending_dial *d)
{
	static struct hop_msg	 m;
	uint8_t			 buf[256];
	struct stream		*s;
	struct cstream		*cs;
	struct conn		*rc = conn_find(d->rconn);
	size_t			 len;

	d->rconn = 0;
	if (rc == NULL)
		return;
	if ((s = yamux_open(relay, CIRCUIT_HOP)) == NULL ||
	    (cs = cstream_new(s, CK_CONNECT)) == NULL) {
		if (s != NULL)
			stream_reset(s);
		conn_close(rc, "cannot open a stream to the relay");
		return;
	}
	cs->rconn = rc->id;
	memset(&m, 0, sizeof(m));
	m.type = HOP_CONNECT;
	m.has_type = 1;
	m.peer.present = 1;
	m.peer.id = rc->peer;
	if (hop_encode(&m, buf, sizeof(buf), &len) == -1 ||
	    stream_write_msg(s, buf, len) == -1) {
		stream_reset(s);
		return;
	}
	conn_flush(relay);
}

/* Dial /relay.../p2p/<relay>/p2p-circuit/p2p/<target>. */
struct conn *
rclient_dial(const struct multiaddr *ma, char *err, size_t errlen)
{
	struct multiaddr	 relay, dest;
	struct peerid		 dst;
	struct conn		*r, *rc;
	size_t			 i;

	if (maddr_split_circuit(ma, &relay, &dest) == -1 ||
	    maddr_get_peerid(&dest, &dst) == -1) {
		strlcpy(err, "a relayed address needs /p2p-circuit/p2p/<peer>",
		    errlen);
		return NULL;
	}
	if (maddr_has(&relay, MADDR_P2P_CIRCUIT)) {
		strlcpy(err, "relays over relays are not allowed", errlen);
		return NULL;
	}
	if ((rc = conn_find_peer(&dst)) != NULL)
		return rc;
	for (i = 0; i < MAX_DIALS && dials[i].rconn != 0; i++)
		;
	if (i == MAX_DIALS) {
		strlcpy(err, "too many relayed dials at once", errlen);
		return NULL;
	}
	if ((r = dial_maddr(&relay, err, errlen)) == NULL)
		return NULL;
	if ((rc = conn_new_relayed(CONN_OUTBOUND)) == NULL) {
		strlcpy(err, "out of memory", errlen);
		return NULL;
	}
	rc->peer = dst;
	rc->expect_peer = 1;
	dials[i].relay_conn = r->id;
	dials[i].rconn = rc->id;
	dials[i].dst = dst;
	if (r->state == CS_OPEN)
		dial_hop(r, &dials[i]);
	return rc;
}

/* A connection came up: a relay to reserve on, or to dial through. */
void
rclient_conn_ready(struct conn *c)
{
	size_t	 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].conn == c->id && slots[i].state == SLOT_DIALING)
			slot_reserve(i, c);
	for (i = 0; i < MAX_DIALS; i++)
		if (dials[i].rconn != 0 && dials[i].relay_conn == c->id)
			dial_hop(c, &dials[i]);
}

void
rclient_conn_closed(struct conn *c)
{
	struct conn	*rc;
	size_t		 i;

	for (i = 0; i < nslots; i++)
		if (slots[i].conn == c->id && slots[i].state != SLOT_IDLE) {
			slots[i].conn = 0;
			slot_retry(&slots[i], "connection closed");
		}
	for (i = 0; i < MAX_DIALS; i++) {
		if (dials[i].rconn == 0 || dials[i].relay_conn != c->id)
			continue;
		rc = conn_find(dials[i].rconn);
		dials[i].rconn = 0;
		if (rc != NULL)
			conn_close(rc, "relay connection failed");
	}
}

static int
same_relays(const struct engine_conf *ec)
{
	size_t	 i;

	if (!configured || ec->nrelays != nslots)
		return 0;
	for (i = 0; i < nslots; i++)
		if (!maddr_equal(&ec->relays[i], &slots[i].ma))
			return 0;
	return 1;
}

/*
 * Take the relays of the configuration, at most CONF_MAX_RELAYS, each
 * with its peer ID (the engine checked it as it came); unchanged, they
 * keep running.
 */
void
rclient_configure(const struct engine_conf *ec)
{
	size_t	 i;

	if (same_relays(ec))
		return;
	configured = 1;
	generation++;
	nslots = 0;
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < ec->nrelays && i < CONF_MAX_RELAYS; i++) {
		slots[nslots].ma = ec->relays[i];
		if (maddr_get_peerid(&ec->relays[i], &slots[nslots].id) == -1)
			fatalx("a relay without its peer ID");
		slots[nslots].backoff = BACKOFF_MIN;
		nslots++;
	}
	hooks.addrs_changed();
}

/* Once a second: dial, retry and refresh. */
void
rclient_sweep(time_t now)
{
	struct conn	*c;
	size_t		 i;

	if (!ident.ready || ident.lockdown)
		return;
	for (i = 0; i < nslots; i++) {
		if (now < slots[i].next)
			continue;
		if (slots[i].state == SLOT_IDLE)
			slot_dial(i);
		else if (slots[i].state == SLOT_RESERVED) {
			if ((c = conn_find(slots[i].conn)) != NULL &&
			    c->state == CS_OPEN)
				slot_reserve(i, c);
			else
				slot_retry(&slots[i], "connection gone");
		}
	}
}

/*
 * Our identity changed and every connection is gone: reserve again on
 * every relay now, not after the backoff the closes set.
 */
int
rclient_renew(void)
{
	size_t	 i;

	for (i = 0; i < nslots; i++) {
		slots[i].backoff = BACKOFF_MIN;
		slots[i].next = 0;
		if (slots[i].state == SLOT_IDLE)
			slot_dial(i);
	}
	return nslots;
}

size_t
rclient_addrs(struct multiaddr *out, size_t max)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < nslots; i++)
		for (j = 0; j < slots[i].naddrs && n < max; j++)
			out[n++] = slots[i].addrs[j];
	return n;
}

/* The relays of the configuration we hold a reservation on. */
int
rclient_reserved(void)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < nslots; i++)
		if (slots[i].state == SLOT_RESERVED)
			n++;
	return n;
}

int
rclient_is_relay(const struct conn *c)
{
	return is_our_relay(c);
}
