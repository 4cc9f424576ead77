/*
 * /ipfs/id/1.0.0 and /ipfs/id/push/1.0.0: tell peers who we are and where
 * we listen, and keep what they tell us about themselves.  Calls conn.c,
 * yamux.c, stream.c (the protocols we speak), known.c, listen.c and
 * relay_client.c (the addresses we listen on and have on relays); reads
 * the identity of state.c.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "identify.h"
#include "log.h"
#include "varint.h"

#define ID_MAXMSG	(64 * 1024)

static struct identify_msg	 idmsg;		/* one at a time */
static uint8_t			 idbuf[ID_MAXMSG + UVARINT_MAXLEN];
static struct identify_hooks	 hooks;

void
identify_set_hooks(const struct identify_hooks *h)
{
	hooks = *h;
}

/* Our listen addresses for this connection: announce first. */
static void
add_addrs(struct identify_msg *m, const struct conn *c)
{
	struct multiaddr	 ma[ID_MAXADDRS];
	size_t			 i, n;

	for (i = 0; i < ident.nannounce; i++)
		identify_add_addr(m, &ident.announce[i]);
	n = listen_addrs(ma, ID_MAXADDRS, &c->lss);
	for (i = 0; i < n; i++)
		identify_add_addr(m, &ma[i]);
	n = rclient_addrs(ma, ID_MAXADDRS);
	for (i = 0; i < n; i++)
		identify_add_addr(m, &ma[i]);
}

static void
identify_send(struct stream *s)
{
	const char	*names[ID_MAXPROTOS];
	struct conn	*c = s->conn;
	size_t		 i, n, vl;

	identify_init(&idmsg);
	idmsg.pubkeylen = pb_ed25519_pubkey(ident.pubkey, idmsg.pubkey,
	    sizeof(idmsg.pubkey));
	add_addrs(&idmsg, c);
	if (maddr_from_sockaddr((const struct sockaddr *)&c->ss,
	    &idmsg.observed) == 0 && (c->ws == NULL ||
	    maddr_put(&idmsg.observed, MADDR_WS, NULL, 0) == 0))
		idmsg.has_observed = 1;
	n = proto_names(names, ID_MAXPROTOS);
	for (i = 0; i < n; i++)
		identify_add_proto(&idmsg, names[i]);
	strlcpy(idmsg.protocol_version, ENGINE_PROTOVER,
	    sizeof(idmsg.protocol_version));
	strlcpy(idmsg.agent_version, ENGINE_AGENT,
	    sizeof(idmsg.agent_version));
	/* a record of no address would only erase what the peer knows */
	if (ident.record != NULL && idmsg.naddrs > 0 &&
	    ident.recordlen <= sizeof(idmsg.record)) {
		memcpy(idmsg.record, ident.record, ident.recordlen);
		idmsg.recordlen = ident.recordlen;
	}
	if (identify_encode(&idmsg, idbuf + UVARINT_MAXLEN, ID_MAXMSG,
	    &n) == -1) {
		log_warnx("identify: our message does not encode");
		stream_reset(s);
		return;
	}
	vl = uvarint_len(n);
	uvarint_encode(n, idbuf + UVARINT_MAXLEN - vl);
	stream_write(s, idbuf + UVARINT_MAXLEN - vl, vl + n);
	stream_close(s);
}

/*
 * Keep what identify said, compactly: this lives as long as the conn.
 * Of the listen addresses, the first KNOWN_MAXADDRS.
 */
static void
info_store(struct conn *c, const struct identify_msg *m)
{
	struct peer_info	*pi;
	struct multiaddr	 ma;
	size_t			 i, len = 0, off = 0;

	if ((pi = calloc(1, sizeof(*pi))) == NULL)
		return;
	pi->agent = strdup(m->agent_version);
	pi->protocol_version = strdup(m->protocol_version);
	for (i = 0; i < m->nprotos; i++)
		len += strlen(identify_proto(m, i)) + 1;
	if ((pi->protocols = malloc(len + 1)) != NULL) {
		for (i = 0; i < m->nprotos; i++) {
			strlcpy(pi->protocols + off, identify_proto(m, i),
			    len + 1 - off);
			off += strlen(identify_proto(m, i)) + 1;
		}
		pi->protocols[off] = '\0';
		pi->protocols_len = off;
	}
	for (i = 0, len = 0; i < m->naddrs && i < KNOWN_MAXADDRS; i++)
		if (identify_addr(m, i, &ma) == 0)
			len += 2 + ma.len;
	if (len > 0 && (pi->addrs = malloc(len)) != NULL) {
		for (i = 0, off = 0; i < m->naddrs && i < KNOWN_MAXADDRS; i++) {
			if (identify_addr(m, i, &ma) == -1)
				continue;
			pi->addrs[off] = ma.len >> 8;
			pi->addrs[off + 1] = ma.len & 0xff;
			memcpy(pi->addrs + off + 2, ma.b, ma.len);
			off += 2 + ma.len;
		}
		pi->addrs_len = off;
	}
	if (m->has_observed && (pi->observed = malloc(m->observed.len)) !=
	    NULL) {
		memcpy(pi->observed, m->observed.b, m->observed.len);
		pi->observed_len = m->observed.len;
	}
	peer_info_free(c->info);
	c->info = pi;
}

/* A whole length-prefixed identify message in s->in, if it is there. */
static void
identify_read(struct stream *s)
{
	static struct log_limit	 ll = LOG_LIMIT("malformed identify messages");
	uint64_t	 n;
	size_t		 vl;
	int		 r;

	if ((r = uvarint_decode(bq_ptr(&s->in), s->in.len, &n, &vl)) == 0)
		return;
	if (r == -1 || n > ID_MAXMSG) {
		log_debug("connection %u: identify message too large",
		    s->conn->id);
		stream_reset(s);
		return;
	}
	if (s->in.len - vl < n)
		return;
	if (identify_decode(bq_ptr(&s->in) + vl, n, &idmsg) == -1) {
		log_limited(&ll, LOG_INFO,
		    "connection %u: malformed identify message",
		    s->conn->id);
		stream_reset(s);
		return;
	}
	info_store(s->conn, &idmsg);
	known_identified(s->conn, &idmsg);
	if (hooks.identified != NULL)
		hooks.identified(s->conn);
	stream_consume(s, vl + n);
	stream_close(s);
}

/* The side that answers has nothing to read: whatever comes is dropped. */
static void
identify_input(struct stream *s)
{
	if (s->flags & ST_OUTBOUND)
		identify_read(s);
	else
		stream_consume(s, s->in.len);
}

static void
identify_open(struct stream *s)
{
	if (!(s->flags & ST_OUTBOUND))
		identify_send(s);
}

static void
identify_closed(struct stream *s)
{
	stream_close(s);
}

static void
push_input(struct stream *s)
{
	if (!(s->flags & ST_OUTBOUND))
		identify_read(s);
}

static void
push_open(struct stream *s)
{
	if (s->flags & ST_OUTBOUND)
		identify_send(s);
}

/* Our addresses changed: tell every connected peer. */
void
identify_push_all(void)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry) {
		if (c->state != CS_OPEN)
			continue;
		if (yamux_open(c, proto_identify_push.name) != NULL)
			conn_flush(c);
	}
}

/* Ask the remote who it is, once the connection is up. */
void
identify_start(struct conn *c)
{
	if (yamux_open(c, proto_identify.name) == NULL)
		log_debug("connection %u: cannot open identify", c->id);
}

void
peer_info_free(struct peer_info *pi)
{
	if (pi == NULL)
		return;
	free(pi->agent);
	free(pi->protocol_version);
	free(pi->protocols);
	free(pi->addrs);
	free(pi->observed);
	free(pi);
}

const struct proto proto_identify = {
	.name = "/ipfs/id/1.0.0",
	.open = identify_open,
	.input = identify_input,
	.closed = identify_closed,
};

const struct proto proto_identify_push = {
	.name = "/ipfs/id/push/1.0.0",
	.open = push_open,
	.input = push_input,
	.closed = identify_closed,
};
