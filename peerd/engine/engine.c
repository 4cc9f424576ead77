/*
 * The engine: every socket to the outside world.  It holds no private
 * key: keyd answers for the static DH of each handshake and signs the
 * peer record.  The top of the engine: it dispatches what the other
 * processes send, gathers its part of each configuration as the parent
 * sends it and puts it into conn_limits and ident, runs the sweep, and
 * at start wires the files below it together: the hooks through which
 * they tell of a connection up or closing (which fan out from here, in
 * order), the protocol table and the table of who serves each control
 * request.  Calls every other file of the engine.
 */
#include <sys/types.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>
#include <sodium.h>

#include "child.h"
#include "config.h"
#include "engine.h"
#include "envelope.h"
#include "log.h"
#include "noisepb.h"

#define ENGINE_TRIM_AFTER	(4 * 1024 * 1024)	/* bytes buffered */
#define ENGINE_MMAP_THRESHOLD	(512 * 1024)

static struct {
	struct timespec		 started;
	struct event		 ev_sweep;
} engine;

static struct engine_conf	 econf;		/* in force */
static struct engine_conf	 pending;	/* being received */
static int			 have_lim;	/* pending has its limits */
static int			 signing;	/* records keyd owes us */
static int			 push_wanted;	/* peers hear of the next */

/* What each process last said of itself, for when it does not answer. */
static struct {
	struct ctl_proc	 p;
	time_t		 when;		/* monotonic seconds; 0: never */
} heard[PROC_MAX];

static void	 engine_rotated(struct imsg *);

static const char *
engine_peerid(void)
{
	return ident.ready ? ident.peerid_str : "";
}

static int64_t
engine_uptime(void)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - engine.started.tv_sec;
}

static size_t
engine_announce(struct multiaddr *out, size_t max)
{
	size_t	 i;

	for (i = 0; i < ident.nannounce && i < max; i++)
		out[i] = ident.announce[i];
	return i;
}

/* The rows of processes that did not answer: what the engine knows. */
static void
engine_status_missing(uint32_t ctl, uint32_t procs, const char *why)
{
	struct ctl_proc	 p;
	int		 id;

	for (id = 0; id < PROC_MAX; id++) {
		if (!(procs & (1U << id)))
			continue;
		memset(&p, 0, sizeof(p));
		if (heard[id].when != 0)
			p = heard[id].p;
		else
			strlcpy(p.name, proc_name(id), sizeof(p.name));
		strlcpy(p.state, "not answering", sizeof(p.state));
		if (heard[id].when != 0)
			snprintf(p.detail, sizeof(p.detail), "%s; it last "
			    "answered %lld s ago", why, (long long)(mono_now() -
			    heard[id].when));
		else
			strlcpy(p.detail, why, sizeof(p.detail));
		control_reply(ctl, IMSG_CTL_PROC, &p, sizeof(p));
	}
}

/* The wait for status is over: the late ones are named, not waited for. */
static void
engine_status_late(uint32_t ctl, uint32_t procs)
{
	char	 why[64];

	snprintf(why, sizeof(why), "no answer within %d s", CTL_WAIT_STATUS);
	engine_status_missing(ctl, procs, why);
}

/* A process's own row of status: kept, and passed on. */
static void
engine_status_row(enum proc_id from, struct imsg *imsg)
{
	uint32_t	 ctl = imsg_get_id(imsg);

	imsg_get_data(imsg, &heard[from].p, sizeof(heard[from].p));
	heard[from].when = mono_now();
	control_reply(ctl, IMSG_CTL_PROC, &heard[from].p,
	    sizeof(heard[from].p));
	if (control_answered(ctl, from))
		control_end(ctl);
}

/*
 * Answer what the engine knows and ask every other process for its part;
 * one that does not answer within CTL_WAIT_STATUS is named as such.
 */
int
engine_show_status(uint32_t ctl, struct imsg *imsg)
{
	static const enum proc_id others[] = {
		PROC_PARENT, PROC_KEYD, PROC_STORED, PROC_RELAYD
	};
	struct multiaddr	 ma[ID_MAXADDRS];
	struct ctl_status	 st;
	struct ctl_proc		 p;
	char			 addr[MADDR_STRMAX];
	size_t			 i, n;
	uint32_t		 asked = 0, stuck = 0;

	memset(&st, 0, sizeof(st));
	strlcpy(st.version, PEERD_VERSION, sizeof(st.version));
	strlcpy(st.mode, child->configured ? config_mode_name(econf.lim.mode) :
	    "", sizeof(st.mode));
	st.uptime = engine_uptime();
	strlcpy(st.peerid, engine_peerid(), sizeof(st.peerid));
	st.connections = conn_count() - conn_pending();
	st.upgrading = conn_pending();
	connmgr_status(&st);
	st.ctl_refused = counters.ctl_refused;
	st.ctl_idle = counters.ctl_idle;
	st.ctl_late = counters.ctl_late;
	st.protocols_unknown = counters.protocols_unknown;
	st.mem_buffered = mem_total.held;
	st.mem_peak = counters.mem_peak;
	st.mem_budget = conn_limits.total_buffer;
	st.mem_streams_reset = counters.mem_streams_reset;
	st.mem_windows_held = counters.mem_windows_held;
	st.mem_reads_paused = counters.mem_reads_paused;
	st.mem_stalled = counters.mem_stalled;
	st.mem_reclaimed = counters.mem_reclaimed;
	st.mem_alloc_failed = counters.mem_alloc_failed;
	st.lockdown = ident.lockdown;
	control_reply(ctl, IMSG_CTL_STATUS, &st, sizeof(st));
	n = engine_announce(ma, ID_MAXADDRS);
	n += listen_addrs(ma + n, ID_MAXADDRS - n, NULL);
	n += rclient_addrs(ma + n, ID_MAXADDRS - n);
	for (i = 0; i < n; i++)
		if (maddr_format(&ma[i], addr, sizeof(addr)) == 0 &&
		    strlen(addr) < IMSG_MAXSIZE - IMSG_HEADER_SIZE)
			control_reply(ctl, IMSG_CTL_LISTEN_ADDR, addr,
			    strlen(addr) + 1);
	child_fill_proc(&p);
	control_reply(ctl, IMSG_CTL_PROC, &p, sizeof(p));
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (control_ask(others[i], IMSG_CTL_SHOW_STATUS, ctl, -1,
		    NULL, 0) == 0)
			asked |= 1U << others[i];
		else if (child_connected(others[i]))
			stuck |= 1U << others[i];
	}
	engine_status_missing(ctl, stuck, "has not read what it was sent");
	if (asked == 0)
		control_end(ctl);
	return 0;
}

/* Ask keyd to sign our peer record: announce and listen addresses. */
static void
engine_sign_record(void)
{
	static struct peer_record	 rec;
	static uint8_t			 buf[ID_MAXRECORD];
	struct sockaddr_storage		 ss;
	socklen_t			 sslen;
	struct timespec			 now;
	size_t				 len, i, j;

	if (ident.lockdown)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.id = ident.peerid;
	clock_gettime(CLOCK_REALTIME, &now);
	rec.seq = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	rec.naddrs = engine_announce(rec.addrs, ID_MAXADDRS);
	rec.naddrs += listen_addrs(rec.addrs + rec.naddrs,
	    ID_MAXADDRS - rec.naddrs, NULL);
	rec.naddrs += rclient_addrs(rec.addrs + rec.naddrs,
	    ID_MAXADDRS - rec.naddrs);
	for (i = j = 0; i < rec.naddrs; i++)
		if (maddr_to_sockaddr(&rec.addrs[i], &ss, &sslen) == -1 ||
		    !sockaddr_unspecified(&ss))
			rec.addrs[j++] = rec.addrs[i];
	rec.naddrs = j;
	if (peer_record_encode(&rec, buf, sizeof(buf), &len) == -1 ||
	    len > IMSG_MAXSIZE - IMSG_HEADER_SIZE) {
		log_warnx("peer record does not fit");
		return;
	}
	if (child_compose(PROC_KEYD, IMSG_KEY_SIGN_RECORD, 0, -1, buf,
	    len) == 0)
		signing++;
}

/*
 * Our addresses changed: a new peer record, and the peers are told once
 * keyd has signed it (js-libp2p takes the addresses of the newest record
 * it has, not those listed beside it).
 */
void
engine_addrs_changed(void)
{
	if (!ident.ready)
		return;
	push_wanted = 1;
	engine_sign_record();
	if (signing == 0) {
		push_wanted = 0;
		identify_push_all();
	}
}

/* Our keys as keyd says them, and the Noise payload that carries them. */
static void
engine_ident_set(const struct key_public *kp)
{
	struct noise_payload	 p;

	memcpy(ident.pubkey, kp->pubkey, sizeof(ident.pubkey));
	memcpy(ident.noise_pub, kp->noise_pub, sizeof(ident.noise_pub));
	memcpy(ident.noise_sig, kp->noise_sig, sizeof(ident.noise_sig));
	if (peerid_parse(kp->peerid, &ident.peerid) == -1)
		fatalx("keyd sent a bad peer ID");
	strlcpy(ident.peerid_str, kp->peerid, sizeof(ident.peerid_str));
	memset(&p, 0, sizeof(p));
	p.keylen = pb_ed25519_pubkey(ident.pubkey, p.key, sizeof(p.key));
	memcpy(p.sig, ident.noise_sig, sizeof(ident.noise_sig));
	p.siglen = sizeof(ident.noise_sig);
	strlcpy(p.muxers[0], "/yamux/1.0.0", sizeof(p.muxers[0]));
	p.nmuxers = 1;
	p.has_ext = 1;
	if (noise_payload_encode(&p, ident.payload, sizeof(ident.payload),
	    &ident.payloadlen) == -1)
		fatalx("noise payload does not encode");
}

static void
engine_identity(struct imsg *imsg)
{
	struct key_public	 kp;

	imsg_get_data(imsg, &kp, sizeof(kp));
	engine_ident_set(&kp);
	ident.ready = 1;
	engine_sign_record();
	listen_resume();
	connmgr_start();
}

static void
engine_record(struct imsg *imsg)
{
	size_t	 len = imsg_get_len(imsg);
	uint8_t	*p;

	if (signing > 0)
		signing--;
	if (len == 0)
		log_warnx("keyd refused to sign our peer record");
	else if ((p = malloc(len)) != NULL) {
		memcpy(p, imsg->data, len);
		free(ident.record);
		ident.record = p;
		ident.recordlen = len;
	}
	/* the last one asked for: the newest addresses */
	if (signing == 0 && push_wanted) {
		push_wanted = 0;
		identify_push_all();
	}
}

static int
engine_listen(struct imsg *imsg)
{
	char	 text[MADDR_STRMAX];
	int	 fd;

	if (imsg_get_string(imsg, text, sizeof(text)) == -1 ||
	    (fd = imsg_get_fd(imsg)) == -1 || listen_add(fd, text) == -1)
		return -1;
	log_info("listening on %s", text);
	/* keyd may have signed our record before this listener came */
	if (ident.ready)
		engine_addrs_changed();
	return 0;
}

static int
engine_dapi(struct imsg *imsg)
{
	char	 text[PATH_MAX + 8];
	int	 fd;

	if (imsg_get_string(imsg, text, sizeof(text)) == -1 ||
	    (fd = imsg_get_fd(imsg)) == -1)
		return -1;
	dapi_init(fd, text);
	return 0;
}

static int
engine_admin(struct imsg *imsg)
{
	char	 text[64];
	int	 fd;

	if (imsg_get_string(imsg, text, sizeof(text)) == -1 ||
	    (fd = imsg_get_fd(imsg)) == -1)
		return -1;
	http_init(fd, text);
	return 0;
}

static void
engine_count_reserved(struct conn *c, void *arg)
{
	if (!c->relayed && c->have_peer && c->reserved > time(NULL))
		(*(int *)arg)++;
}

/*
 * What /status and /health tell: the figures of show status, without
 * asking the other processes (a child whose socket is not read, or that
 * is gone, counts as not answering).
 */
static void
engine_http_figures(struct http_figures *f)
{
	static const enum proc_id others[] = {
		PROC_PARENT, PROC_KEYD, PROC_STORED, PROC_RELAYD
	};
	size_t	 i;

	strlcpy(f->st.version, PEERD_VERSION, sizeof(f->st.version));
	strlcpy(f->st.mode, child->configured ?
	    config_mode_name(econf.lim.mode) : "", sizeof(f->st.mode));
	f->st.uptime = engine_uptime();
	strlcpy(f->st.peerid, engine_peerid(), sizeof(f->st.peerid));
	f->st.connections = conn_count() - conn_pending();
	f->st.upgrading = conn_pending();
	connmgr_status(&f->st);
	conn_walk(engine_count_reserved, &f->reservations);
	f->circuits = relay_circuit_count();
	f->nlisten = listen_addrs(f->listen, PREC_MAXADDRS, NULL);
	f->nannounce = engine_announce(f->announce, ENGINE_MAXANNOUNCE);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (!child_connected(others[i]) || !child_has_room(others[i]))
			f->procs_silent++;
	f->store_dropped = counters.store_dropped;
	f->max_connections = conn_limits.max_connections;
	f->relays_configured = econf.nrelays;
	f->relays_reserved = rclient_reserved();
	f->has_bootstrap = econf.nbootstrap > 0 || econf.nrelays > 0;
	f->lockdown = ident.lockdown;
}

/* A listing row from stored, marked when the peer is connected. */
static void
engine_peer_row(struct imsg *imsg)
{
	struct ctl_peer	 p;
	struct peerid	 id;

	imsg_get_data(imsg, &p, sizeof(p));
	p.connected = peerid_parse(p.peer, &id) == 0 &&
	    conn_find_peer(&id) != NULL;
	control_reply(imsg_get_id(imsg), IMSG_CTL_PEER, &p, sizeof(p));
}

/* A candidate's peer ID and addresses within their arrays. */
static int
engine_cand_valid(const struct store_cand *sc)
{
	size_t	 i;

	if (sc->peer.len == 0 || sc->peer.len > PEERID_MAXLEN ||
	    sc->naddrs > PREC_MAXADDRS)
		return 0;
	for (i = 0; i < sc->naddrs; i++)
		if (sc->addrs[i].len > PREC_ADDRMAX)
			return 0;
	return 1;
}

static int
engine_from_stored(struct imsg *imsg)
{
	struct store_ban_op	 op;
	struct store_cand	 sc;
	struct ctl_result	 res;
	uint8_t			 key[BAN_KEYMAX];
	size_t			 klen;

	switch (imsg_get_type(imsg)) {
	case IMSG_STORE_BAN:
		imsg_get_data(imsg, &op, sizeof(op));
		if (!op.add || ban_key_encode(&op.ban, key, &klen) == -1)
			return -1;
		bans_load(&op);
		return 0;
	case IMSG_STORE_BANS_END:
		bans_loaded();
		listen_resume();
		connmgr_start();
		return 0;
	case IMSG_STORE_BAN_RES:
		/* the answer to a block or unblock */
		imsg_get_data(imsg, &res, sizeof(res));
		control_result(imsg_get_id(imsg), res.ok, res.msg);
		return 0;
	case IMSG_STORE_CANDIDATE:
		imsg_get_data(imsg, &sc, sizeof(sc));
		if (!engine_cand_valid(&sc))
			return -1;
		/* an answer to a lookup carries the control client */
		if (dapi_is_lookup(imsg_get_id(imsg)))
			dapi_lookup_result(imsg_get_id(imsg), &sc);
		else if (imsg_get_id(imsg) != 0)
			ops_lookup_result(imsg_get_id(imsg), &sc);
		else
			connmgr_candidate(&sc);
		return 0;
	case IMSG_STORE_CANDIDATES_END:
		if (dapi_is_lookup(imsg_get_id(imsg)))
			dapi_lookup_result(imsg_get_id(imsg), NULL);
		else if (imsg_get_id(imsg) != 0)
			ops_lookup_result(imsg_get_id(imsg), NULL);
		else
			connmgr_candidates_end();
		return 0;
	case IMSG_CTL_PEER:
		engine_peer_row(imsg);
		return 0;
	case IMSG_CTL_ACCT:
	case IMSG_CTL_STORE:
		control_reply(imsg_get_id(imsg), imsg_get_type(imsg),
		    imsg->data, imsg_get_len(imsg));
		return 0;
	default:
		return 1;
	}
}

static int
engine_dispatch(enum proc_id from, struct imsg *imsg)
{
	struct key_dh_result	 dh;
	struct key_ps_sig	 ps;
	struct resolve_res	 rr;
	struct ctl_result	 res;
	int32_t			 ro;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SOCKET:
		fd = imsg_get_fd(imsg);
		imsg_get_data(imsg, &ro, sizeof(ro));
		control_init(fd, ro);
		return 0;
	case IMSG_LISTEN:
		return engine_listen(imsg);
	case IMSG_ADMIN_SOCKET:
		return engine_admin(imsg);
	case IMSG_DAPI_SOCKET:
		return engine_dapi(imsg);
	case IMSG_KEY_PUBLIC:
		engine_identity(imsg);
		return 0;
	case IMSG_KEY_DH_RESULT:
		imsg_get_data(imsg, &dh, sizeof(dh));
		upgrade_static_dh(imsg_get_id(imsg), dh.ok ? dh.shared :
		    NULL);
		sodium_memzero(&dh, sizeof(dh));
		return 0;
	case IMSG_KEY_RECORD:
		engine_record(imsg);
		return 0;
	case IMSG_KEY_PUBSUB_SIG:
		imsg_get_data(imsg, &ps, sizeof(ps));
		pssign_result(&ps);
		return 0;
	case IMSG_KEY_ROTATED:
		engine_rotated(imsg);
		return 0;
	case IMSG_CTL_PROC:
		engine_status_row(from, imsg);
		return 0;
	case IMSG_RESOLVE_RES:
		imsg_get_data(imsg, &rr, sizeof(rr));
		dial_resolved(imsg_get_id(imsg), &rr);
		return 0;
	case IMSG_RELAY_RESERVE_RES:
		return relay_reserve_result(imsg);
	case IMSG_RELAY_CONNECT_RES:
		relay_connect_result(imsg);
		return 0;
	case IMSG_CTL_RSVP:
	case IMSG_CTL_KEY:
		control_reply(imsg_get_id(imsg), imsg_get_type(imsg),
		    imsg->data, imsg_get_len(imsg));
		return 0;
	case IMSG_CTL_END:
		control_end(imsg_get_id(imsg));
		return 0;
	case IMSG_METRIC_ROW:
		return metrics_row(from, imsg);
	case IMSG_METRICS_END:
		metrics_end(from);
		return 0;
	case IMSG_CTL_RESULT:
		imsg_get_data(imsg, &res, sizeof(res));
		control_reply(imsg_get_id(imsg), IMSG_CTL_RESULT, &res,
		    sizeof(res));
		/* a child's note ends nothing: its IMSG_CTL_END follows */
		if (from == PROC_PARENT)
			control_end(imsg_get_id(imsg));
		return 0;
	default:
		/* the rest come from stored: the table says so */
		return engine_from_stored(imsg);
	}
}

static void
engine_peer_up(enum proc_id id)
{
	if (id == PROC_KEYD)
		child_compose(PROC_KEYD, IMSG_KEY_GET_PUBLIC, 0, -1, NULL, 0);
}

static void
engine_limits(const struct reconf_engine *lim)
{
	struct ip_prefix	*p;
	int			 i;

	conn_limits.max_connections = lim->max_connections;
	conn_limits.max_pending = lim->max_pending;
	conn_limits.max_streams = lim->max_streams;
	conn_limits.upgrade_timeout = lim->upgrade_timeout / 1000;
	conn_limits.max_per_ip = lim->max_per_ip;
	conn_limits.conns_per_minute = lim->conns_per_minute;
	conn_limits.relay_hop = lim->relay_enabled && lim->hop_enabled;
	conn_limits.stream_buffer = lim->stream_buffer;
	conn_limits.conn_buffer = lim->conn_buffer;
	conn_limits.total_buffer = lim->total_buffer;
	conn_limits.stalled_timeout = lim->stalled_timeout / 1000;
	conn_limits.max_pending_per_ip = lim->max_pending_per_ip;
	if (conn_limits.ipv4_prefix != lim->ipv4_prefix ||
	    conn_limits.ipv6_prefix != lim->ipv6_prefix) {
		conn_limits.ipv4_prefix = lim->ipv4_prefix;
		conn_limits.ipv6_prefix = lim->ipv6_prefix;
		conn_regroup();
	}
	conn_limits.ws_max_message = lim->ws_max_message;
	conn_limits.ws_nproxies = 0;
	for (i = 0; i < lim->ws_nproxies && i < CONF_MAX_PROXIES; i++) {
		p = &conn_limits.ws_proxies[conn_limits.ws_nproxies++];
		memcpy(p->ip, lim->ws_proxy_ip[i], sizeof(p->ip));
		p->bits = lim->ws_proxy_bits[i];
	}
}

/* An entry of a list: into the array of the pending configuration. */
static int
engine_reconf_maddr(struct imsg *imsg)
{
	struct reconf_maddr	 m;
	struct peerid		 id;
	struct multiaddr	*v;
	size_t			*n, max;

	if (child_reconf_maddr(imsg, &m) == -1)
		return -1;
	switch (m.list) {
	case RECONF_ANNOUNCE:
		v = pending.announce;
		n = &pending.nannounce;
		max = CONF_MAX_ANNOUNCE;
		break;
	case RECONF_BOOTSTRAP:
		v = pending.bootstrap;
		n = &pending.nbootstrap;
		max = CONF_MAX_BOOTSTRAP;
		break;
	case RECONF_RELAYS:
		if (maddr_get_peerid(&m.ma, &id) == -1)
			fatalx("configuration from parent: a relay without "
			    "its peer ID");
		v = pending.relays;
		n = &pending.nrelays;
		max = CONF_MAX_RELAYS;
		break;
	default:
		fatalx("configuration from parent: multiaddr list %d",
		    (int)m.list);
	}
	if (*n >= max)
		fatalx("configuration from parent: list %d too long",
		    (int)m.list);
	v[(*n)++] = m.ma;
	return 0;
}

static int
engine_reconf_peerid(struct imsg *imsg)
{
	struct reconf_peerid	 p;

	if (child_reconf_peerid(imsg, &p) == -1 || p.list != RECONF_PROTECTED)
		return -1;
	if (pending.nprotected >= CONF_MAX_PROTECTED)
		fatalx("configuration from parent: too many protected peers");
	pending.protected[pending.nprotected++] = p.id;
	return 0;
}

static int
engine_reconf_topic(struct imsg *imsg)
{
	struct reconf_topic	 t;

	imsg_get_data(imsg, &t, sizeof(t));
	if (memchr(t.topic, '\0', sizeof(t.topic)) == NULL || t.topic[0] ==
	    '\0')
		return -1;
	if (pending.ntopics >= CONF_MAX_TOPICS)
		fatalx("configuration from parent: too many topics");
	strlcpy(pending.topics[pending.ntopics++], t.topic,
	    sizeof(pending.topics[0]));
	return 0;
}

/* The parts of a configuration, until IMSG_RECONF_DONE. */
static int
engine_reconf(struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_RECONF_ENGINE:
		imsg_get_data(imsg, &pending.lim, sizeof(pending.lim));
		have_lim = 1;
		return 0;
	case IMSG_RECONF_MADDR:
		return engine_reconf_maddr(imsg);
	case IMSG_RECONF_PEERID:
		return engine_reconf_peerid(imsg);
	case IMSG_RECONF_TOPIC:
		return engine_reconf_topic(imsg);
	default:
		return 1;
	}
}

/*
 * IMSG_RECONF_DONE: what came applies at once, the bounds and our
 * addresses into conn_limits and ident, the rest to the relay client
 * and the manager.
 */
static void
engine_configure(void)
{
	size_t	 i;
	int	 moved;

	if (!have_lim)
		fatalx("configuration from parent without the engine's part");
	econf = pending;
	memset(&pending, 0, sizeof(pending));
	have_lim = 0;
	engine_limits(&econf.lim);
	control_configure(&econf.lim);
	http_configure(&econf.lim);
	dapi_configure(&econf.lim);
	metrics_configure(econf.lim.metrics_ns);
	moved = econf.nannounce != ident.nannounce;
	for (i = 0; !moved && i < ident.nannounce; i++)
		moved = econf.announce[i].len != ident.announce[i].len ||
		    memcmp(econf.announce[i].b, ident.announce[i].b,
		    ident.announce[i].len) != 0;
	ident.nannounce = 0;
	for (i = 0; i < econf.nannounce && i < ENGINE_MAXANNOUNCE; i++)
		ident.announce[ident.nannounce++] = econf.announce[i];
	if (child->configured && moved)
		engine_addrs_changed();
	else if (child->configured && ident.ready)
		engine_sign_record();
	rclient_configure(&econf);
	gossip_configure(&econf);
	gspub_configure(&econf);
	connmgr_configure(&econf);
	listen_resume();
}

/* A connection is up: those who wait for it hear, in this order. */
static void
engine_conn_up(struct conn *c)
{
	counters.upgraded++;
	if (c->dir == CONN_OUTBOUND)
		counters.dials_ok++;
	identify_start(c);
	ops_conn_ready(c);
	if (c->heard)
		dapi_conn_heard(c);
	rclient_conn_ready(c);
	connmgr_conn_up(c);
}

/*
 * A connection goes: those who hold it let go, in this order; its
 * streams last, and then what identify said.
 */
static void
engine_conn_closing(struct conn *c, const char *reason)
{
	if (c->dir == CONN_OUTBOUND && c->in_upgrade)
		counters.dials_failed++;
	if (c->in_upgrade)
		ops_conn_failed(c, reason);
	else
		ops_conn_closed(c);
	dapi_conn_failed(c, reason);
	relay_conn_closed(c);
	rclient_conn_closed(c);
	gossip_conn_closed(c);
	connmgr_conn_closed(c);
	yamux_free(c);
	rclient_carrier_release(c);
	peer_info_free(c->info);
	c->info = NULL;
}

static void
engine_keepalive(struct conn *c, void *arg)
{
	if (c->state == CS_OPEN)
		yamux_keepalive(c, *(time_t *)arg);
}

static void
engine_goaway(struct conn *c)
{
	if (c->state == CS_OPEN)
		yamux_goaway(c, 0);
}

static void
engine_flush(struct conn *c, void *arg)
{
	if (c->state == CS_OPEN)
		yamux_regrant(c);
	if (c->framing || c->out.len > 0)
		conn_flush(c);
}

/*
 * After a peak of buffered data has gone, the heap is handed back to
 * the system: freed buffers would otherwise stay in the process.
 */
static void
engine_trim(void)
{
	static size_t	 high;

	if (mem_total.held > high)
		high = mem_total.held;
	if (high >= ENGINE_TRIM_AFTER && mem_total.held < high / 8) {
		malloc_trim(0);
		high = mem_total.held;
	}
}

static void
engine_sweep(int fd, short event, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	time_t		 now = mono_now();

	conn_sweep(now);
	conn_walk(engine_keepalive, &now);
	bans_sweep();
	connmgr_sweep();
	relay_sweep(now);
	rclient_sweep(now);
	pssign_sweep(now);
	gspub_sweep(now);
	dapi_sweep(now);
	conn_walk(engine_flush, NULL);
	engine_trim();
	metrics_poll();
	evtimer_add(&engine.ev_sweep, &tv);
}

static void
engine_status(struct ctl_proc *p)
{
	snprintf(p->detail, sizeof(p->detail), "%d connections, %d "
	    "upgrading; %llu accepted, %llu dialled, %llu handshake "
	    "failures, %llu timeouts, %llu refused", conn_count() -
	    conn_pending(), conn_pending(),
	    (unsigned long long)counters.accepted,
	    (unsigned long long)counters.dialed,
	    (unsigned long long)counters.handshake_failures,
	    (unsigned long long)counters.handshake_timeouts,
	    (unsigned long long)(counters.refused_pending +
	    counters.refused_per_ip + counters.refused_rate +
	    counters.refused_banned + counters.refused_limit +
	    counters.refused_pending_ip));
	if (counters.pending_dropped > 0)
		snprintf(p->detail + strlen(p->detail), sizeof(p->detail) -
		    strlen(p->detail), "; %llu handshakes dropped",
		    (unsigned long long)counters.pending_dropped);
	if (counters.store_dropped > 0)
		snprintf(p->detail + strlen(p->detail), sizeof(p->detail) -
		    strlen(p->detail), "; %llu store updates dropped",
		    (unsigned long long)counters.store_dropped);
	snprintf(p->detail + strlen(p->detail), sizeof(p->detail) -
	    strlen(p->detail), "; %zu KiB buffered", mem_total.held >> 10);
	if (!ident.ready && !ident.lockdown)
		strlcpy(p->state, "starting", sizeof(p->state));
}

/* peerctl key rotate: the parent has the passphrase source, keyd the key. */
static int
engine_key_rotate(uint32_t id, struct imsg *imsg)
{
	if (ident.lockdown) {
		control_result(id, 0, "peerd is in lockdown: keyd holds no key "
		    "to rotate; see SECURITY BREACH in peerd(8)");
		return 0;
	}
	return control_to_parent(id, imsg);
}

/*
 * keyd made a new identity (peerctl key rotate): the consequences, in
 * the order of keyd(8), each logged.  Done whether or not the client
 * that asked still waits.
 */
static void
engine_rotated(struct imsg *imsg)
{
	static struct log_limit	 ll = LOG_LIMIT("key rotation");
	struct key_rotated	 kr;
	struct conn		*c;
	char			 msg[CTL_MSGLEN];
	int			 n = 0, r;

	imsg_get_data(imsg, &kr, sizeof(kr));
	if (!kr.ok || ident.lockdown) {
		control_result(imsg_get_id(imsg), 0, kr.ok ? "rotated, but "
		    "peerd went into lockdown meanwhile: it serves nothing" :
		    kr.msg);
		return;
	}
	engine_ident_set(&kr.pub);
	/* the old ID's record is given to no one while keyd signs anew */
	free(ident.record);
	ident.record = NULL;
	ident.recordlen = 0;
	log_limited(&ll, LOG_NOTICE, "key rotation 1/4: new handshakes use "
	    "the identity %s, not %s", ident.peerid_str, kr.old);
	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		engine_goaway(c);
		conn_abort(c, "identity key rotated");
		n++;
	}
	log_limited(&ll, LOG_NOTICE, "key rotation 2/4: %d connections "
	    "closed with a GoAway", n);
	r = rclient_renew();
	log_limited(&ll, LOG_NOTICE, "key rotation 3/4: reserving again, "
	    "under the new peer ID, on the %d relays of the configuration", r);
	engine_addrs_changed();
	log_limited(&ll, LOG_NOTICE, "key rotation 4/4: the signed peer "
	    "record re-issued");
	snprintf(msg, sizeof(msg), "old peer ID %s\nnew peer ID %s\n"
	    "old key kept as %s in the key directory", kr.old,
	    ident.peerid_str, kr.archive);
	control_result(imsg_get_id(imsg), 1, msg);
}

static void
engine_shutdown(void)
{
	evtimer_del(&engine.ev_sweep);
	connmgr_stop();
	conn_close_all(engine_goaway);
	listen_close_all();
	http_shutdown();
	dapi_shutdown();
	control_shutdown();
	free(ident.record);
	ident.record = NULL;
}

/*
 * Lockdown: every connection dropped at once, without a GoAway or a
 * flush, the listeners closed, and no dial from here on (dial.c,
 * listen.c, connmgr.c and relay_client.c read ident.lockdown); the
 * control sockets and the admin server stay, for the operator.
 */
static const char *
engine_lockdown(void)
{
	static char	 did[128];
	struct conn	*c;
	int		 n = 0;

	ident.lockdown = 1;
	gspub_lockdown();
	dapi_unsubscribe_all();
	connmgr_stop();
	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		conn_close(c, "lockdown");
		n++;
	}
	listen_close_all();
	snprintf(did, sizeof(did), "%d connections dropped, listeners "
	    "closed, dialling stopped", n);
	return did;
}

/* What engine_main wires together: the frame, the hooks, the tables. */
static struct child engine_child = {
	.id = PROC_ENGINE,
	.dispatch = engine_dispatch,
	.peer_up = engine_peer_up,
	.reconf = engine_reconf,
	.configure = engine_configure,
	.status = engine_status,
	.shutdown = engine_shutdown,
	.lockdown_hook = engine_lockdown,
};

static const struct conn_hooks conn_hooks = {
	.start = upgrade_start,
	.input = upgrade_input,
	.drained = yamux_send_pending,
	.closing = engine_conn_closing,
	.freed = listen_resume,
	.push = rclient_carrier_push,
	.ws_open = listen_ws_open,
};

/* The protocols, in the order ls lists them. */
static const struct proto *const protocols[] = {
	&proto_identify, &proto_identify_push, &proto_ping,
	&proto_hop, &proto_stop, &proto_meshsub12, &proto_meshsub11,
	&proto_meshsub10, &proto_floodsub, NULL
};

/*
 * Every control request, with the file that serves it, what answers for
 * a process that does not answer its part in time (NULL: an error naming
 * it), and that time.
 */
static const struct ctl_request requests[] = {
	{ IMSG_CTL_SHOW_STATUS,	engine_show_status, engine_status_late,
	    CTL_WAIT_STATUS },
	{ IMSG_CTL_SHOW_CONNS,	ops_show_connections, NULL, 0 },
	{ IMSG_CTL_SHOW_CIRCUITS, relay_show_circuits, NULL, 0 },
	{ IMSG_CTL_SHOW_TOPICS,	gossip_show_topics, NULL, 0 },
	{ IMSG_CTL_PUBLISH,	gspub_publish, NULL, 0 },
	{ IMSG_CTL_SUBSCRIBE,	gspub_subscribe, NULL, 0 },
	{ IMSG_CTL_SHOW_GSPEERS, gossip_show_peers, NULL, 0 },
	{ IMSG_CTL_SHOW_RSVPS,	control_to_relayd, NULL, CTL_WAIT },
	{ IMSG_CTL_SHOW_BANS,	bans_show, NULL, 0 },
	{ IMSG_CTL_SHOW_PEERS,	control_to_stored, NULL, CTL_WAIT },
	{ IMSG_CTL_SHOW_ACCT,	control_to_stored, NULL, CTL_WAIT },
	{ IMSG_CTL_SHOW_STORE,	control_to_stored, NULL, CTL_WAIT },
	{ IMSG_CTL_VERIFY,	control_to_stored, NULL, CTL_WAIT_PASS },
	{ IMSG_CTL_BACKUP,	control_to_stored, NULL, CTL_WAIT_PASS },
	{ IMSG_CTL_BLOCK,	bans_request, bans_late, CTL_WAIT },
	{ IMSG_CTL_UNBLOCK,	bans_request, bans_late, CTL_WAIT },
	{ IMSG_CTL_CONNECT,	ops_request, NULL, CTL_WAIT },
	{ IMSG_CTL_PING,	ops_request, NULL, CTL_WAIT },
	{ IMSG_CTL_DISCONNECT,	ops_request, NULL, 0 },
	{ IMSG_CTL_RELOAD,	control_to_parent, NULL, CTL_WAIT },
	{ IMSG_CTL_KEY_ROTATE,	engine_key_rotate, NULL, CTL_WAIT },
	{ IMSG_CTL_LOG_VERBOSE,	control_log_verbose, NULL, 0 },
	{ IMSG_CTL_SHOW_METRICS, metrics_show, NULL, 0 },
	{ IMSG_CTL_LOCKDOWN,	control_to_parent, NULL, CTL_WAIT },
	{ IMSG_CTL_SHOW_KEY,	control_to_keyd, NULL, CTL_WAIT },
	{ 0,			NULL, NULL, 0 }
};

static void
engine_conn_heard(struct conn *c)
{
	ops_conn_heard(c);
	dapi_conn_heard(c);
}

static const struct upgrade_hooks upgrade_hooks = {
	.up = engine_conn_up,
	.heard = engine_conn_heard,
};

static const struct dial_hooks dial_hooks = {
	.relayed = rclient_dial,
};

static const struct rclient_hooks rclient_hooks = {
	.addrs_changed = engine_addrs_changed,
};

static const struct identify_hooks identify_hooks = {
	.identified = gossip_conn_identified,
};

static const struct http_hooks http_hooks = {
	.figures = engine_http_figures,
};

/* The protocols, and the hooks through which lower files call up. */
static void
engine_wire(void)
{
	stream_init(protocols);
	conn_set_hooks(&conn_hooks);
	upgrade_set_hooks(&upgrade_hooks);
	control_set_requests(requests);
	dial_set_hooks(&dial_hooks);
	rclient_set_hooks(&rclient_hooks);
	http_set_hooks(&http_hooks);
	identify_set_hooks(&identify_hooks);
}

void
engine_main(int argc, char *argv[])
{
	struct timeval	 tv = { 1, 0 };

	clock_gettime(CLOCK_MONOTONIC, &engine.started);
	if (sodium_init() == -1)
		fatalx("sodium_init");
	engine_wire();
	/* big output queues in their own mappings, returned when freed */
	mallopt(M_MMAP_THRESHOLD, ENGINE_MMAP_THRESHOLD);
	child_start(&engine_child, argc, argv);
	evtimer_set(&engine.ev_sweep, engine_sweep, NULL);
	evtimer_add(&engine.ev_sweep, &tv);
	child_loop();
	exit(0);
}
