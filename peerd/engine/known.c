/*
 * What the engine learns about peers goes to stored: connections that
 * came up, dials that failed, what identify said, addresses from the
 * configuration.  Best effort: nothing here waits for an answer.  Of the
 * addresses a peer gives, only those connectionManager.dialPrivateAddresses
 * allows, and at most KNOWN_MAXADDRS, are kept; the operator's are kept
 * as they are.  Calls conn.c (sockaddr_ip16) and common/; reads the
 * counters and the identity of state.c.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <string.h>

#include "addrscope.h"
#include "child.h"
#include "engine.h"
#include "envelope.h"
#include "identify.h"
#include "log.h"
#include "pb.h"

static struct peer_rec	 upd;
static int		 policy = DIALPRIV_AUTO;

void
known_configure(const struct reconf_engine *lim)
{
	policy = lim->dial_private;
}

static void
known_send(const struct peerid *id, int kind)
{
	uint8_t			 buf[sizeof(struct store_peer_upd) +
				    REC_MAXLEN];
	struct store_peer_upd	 hdr;
	size_t			 n;

	if (id->len == 0 || (ident.ready && peerid_equal(id, &ident.peerid)))
		return;
	if (!child_has_room(PROC_STORED)) {
		counters.store_dropped++;
		return;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.peer = *id;
	hdr.kind = kind;
	memcpy(buf, &hdr, sizeof(hdr));
	if (peer_rec_encode(&upd, buf + sizeof(hdr), REC_MAXLEN, &n) == -1)
		return;
	child_compose(PROC_STORED, IMSG_STORE_PEER, 0, -1, buf,
	    sizeof(hdr) + n);
}

static void
known_reset(uint32_t sources)
{
	memset(&upd, 0, sizeof(upd));
	upd.sources = sources;
}

/*
 * Addresses without their /p2p part; relayed ones are not kept.  -1: a
 * new address over KNOWN_MAXADDRS, left out.
 */
static int
known_addr(const struct multiaddr *ma)
{
	struct maddr_comp	 c;
	size_t			 off = 0, end = 0, i;
	int			 r;

	if (maddr_has(ma, MADDR_P2P_CIRCUIT))
		return 0;
	while ((r = maddr_next(ma, &off, &c)) == 1 && c.code != MADDR_P2P)
		end = off;
	if (r == -1 || end == 0 || end > PREC_ADDRMAX)
		return 0;
	for (i = 0; i < upd.naddrs; i++)
		if (upd.addrs[i].len == end &&
		    memcmp(upd.addrs[i].b, ma->b, end) == 0)
			return 0;
	if (upd.naddrs >= KNOWN_MAXADDRS)
		return -1;
	peer_rec_add_addr(&upd, ma->b, end);
	return 0;
}

static void
known_sockaddr(const struct conn *c)
{
	struct multiaddr	 ma;

	if (c->relayed || c->fd == -1 ||
	    maddr_from_sockaddr((const struct sockaddr *)&c->ss, &ma) == -1 ||
	    (c->ws != NULL && maddr_put(&ma, MADDR_WS, NULL, 0) == -1))
		return;
	known_addr(&ma);
}

void
known_conn_up(const struct conn *c, uint32_t sources)
{
	if (!c->have_peer)
		return;
	known_reset(sources | (c->relayed ? SRC_RELAY : c->dir ==
	    CONN_INBOUND ? SRC_INBOUND : SRC_DIALLED));
	if (c->dir == CONN_OUTBOUND)
		known_sockaddr(c);
	known_send(&c->peer, UPD_CONNECTED);
}

void
known_dial_failed(const struct conn *c)
{
	if (c->dir != CONN_OUTBOUND || !c->expect_peer || c->relayed)
		return;
	known_reset(SRC_DIALLED);
	if (c->ss.ss_family == AF_INET || c->ss.ss_family == AF_INET6)
		known_sockaddr(c);
	known_send(&c->peer, UPD_DIAL_FAILED);
}

/* Text cut to fit, on a character boundary. */
static void
utf8_copy(char *dst, const char *src, size_t dstsz)
{
	size_t	 n = strlcpy(dst, src, dstsz);

	if (n >= dstsz)
		n = dstsz - 1;
	while (n > 0 && !pb_utf8_valid((const uint8_t *)dst, n))
		dst[--n] = '\0';
}

/* Where the connection came from: a relayed one, from anywhere. */
static int
known_from(const struct conn *c)
{
	uint8_t	 ip[16];

	if (c->relayed || (c->ss.ss_family != AF_INET &&
	    c->ss.ss_family != AF_INET6))
		return SCOPE_PUBLIC;
	sockaddr_ip16(&c->ss, ip);
	return addr_scope_ip(ip);
}

/* The listen addresses identify gave, those the scope rule allows. */
static void
known_listen_addrs(const struct conn *c, const struct identify_msg *m)
{
	static struct log_limit	 llf = LOG_LIMIT("addresses from peers "
				    "filtered");
	static struct log_limit	 lld = LOG_LIMIT("addresses from peers over "
				    "the cap");
	struct multiaddr	 ma;
	char			 peer[PEERID_STRMAX];
	size_t			 i, filtered = 0, dropped = 0;
	int			 from = known_from(c);

	for (i = 0; i < m->naddrs; i++) {
		if (identify_addr(m, i, &ma) == -1 ||
		    maddr_has(&ma, MADDR_P2P_CIRCUIT))
			continue;
		if (!addr_scope_allowed(policy, addr_scope(&ma), from))
			filtered++;
		else if (known_addr(&ma) == -1)
			dropped++;
	}
	counters.addrs_filtered += filtered;
	counters.addrs_dropped += dropped;
	if (filtered == 0 && dropped == 0)
		return;
	peerid_format(&c->peer, peer, sizeof(peer));
	/* routine on a public node: peers list their LAN addresses */
	if (filtered > 0)
		log_limited(&llf, LOG_DEBUG, "peer_addrs_filtered peer=%s "
		    "count=%zu from=%s", peer, filtered,
		    addr_scope_name(from));
	if (dropped > 0)
		log_limited(&lld, LOG_INFO, "peer_addrs_dropped peer=%s "
		    "count=%zu kept=%d", peer, dropped, KNOWN_MAXADDRS);
}

void
known_identified(const struct conn *c, const struct identify_msg *m)
{
	const char		*p;
	size_t			 i;

	if (!c->have_peer)
		return;
	known_reset(SRC_IDENTIFY);
	utf8_copy(upd.agent, m->agent_version, sizeof(upd.agent));
	for (i = 0; i < m->nprotos && upd.nprotos < PREC_MAXPROTOS; i++) {
		p = identify_proto(m, i);
		if (p[0] != '\0' && strlen(p) < PREC_PROTOLEN)
			strlcpy(upd.protos[upd.nprotos++], p, PREC_PROTOLEN);
	}
	known_listen_addrs(c, m);
	known_send(&c->peer, UPD_IDENTIFIED);
}

/*
 * A peer's signed record that another gave in a gossipsub PRUNE (peer
 * exchange): the addresses the scope rule allows, as the connection c
 * of the giver would have them, as discovered; the connection manager
 * dials them, or not, by its rules.
 */
void
known_px(const struct conn *c, const struct peer_record *rec)
{
	size_t	 i;
	int	 from = known_from(c);

	known_reset(SRC_GOSSIP);
	for (i = 0; i < rec->naddrs; i++) {
		if (maddr_has(&rec->addrs[i], MADDR_P2P_CIRCUIT))
			continue;
		if (!addr_scope_allowed(policy, addr_scope(&rec->addrs[i]),
		    from))
			counters.addrs_filtered++;
		else if (known_addr(&rec->addrs[i]) == -1)
			counters.addrs_dropped++;
	}
	if (upd.naddrs > 0)
		known_send(&rec->id, UPD_DISCOVERED);
}

/* An address from the configuration or an operator. */
void
known_discovered(const struct multiaddr *ma, uint32_t source)
{
	struct peerid	 id;

	if (maddr_get_peerid(ma, &id) == -1)
		return;
	known_reset(source);
	known_addr(ma);
	known_send(&id, UPD_DISCOVERED);
}
