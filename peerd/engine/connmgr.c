/*
 * The connection manager: dial bootstrap and known peers toward the
 * outgoing target, with a jittered exponential backoff between rounds;
 * notice a partition (open connections below the minimum after having
 * reached it) and its end; trim above the maximum, sparing the
 * connections that matter.  The bootstrap peers are dialled as given;
 * the addresses of known peers, which peers gave, through dial.c's
 * filter and backoff.  Calls conn.c, yamux.c, bans.c, known.c, dial.c,
 * relay_client.c and relay.c (what a trim must spare); reads the
 * engine's part of the configuration that the engine hands it (and
 * hands it on to known.c and dial.c), and the bounds and the identity
 * of state.c.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "child.h"
#include "engine.h"
#include "log.h"

#define CM_MAX_DIALS		16	/* dials of the manager in flight */
#define CM_WANT_MAX		16	/* candidates asked for at once */
#define CM_CHECK_GAP		50	/* ms between two looks at least */
#define CM_MAX_TAGS		1024	/* the daemon API's tags, at most */

/* A tag the daemon API set on a peer: a positive weight protects it. */
struct cm_tag {
	struct peerid	 peer;
	char		*name;
	int64_t		 weight;
};

enum net_state {
	NET_CONNECTING,		/* the minimum was never reached */
	NET_OK,
	NET_PARTITIONED
};

static const char *const net_names[] = { "connecting", "ok", "partitioned" };

struct boot {
	struct multiaddr	 ma;
	struct peerid		 id;
	int			 have_id;	/* given, or learned */
	uint32_t		 conn;		/* the last dial, without ID */
};

static struct {
	const struct engine_conf *conf;		/* the engine's, until the next */
	enum net_state		 state;
	time_t			 since;		/* monotonic */
	struct boot		 boot[CONF_MAX_BOOTSTRAP];
	size_t			 nboot;
	uint32_t		 dials[CM_MAX_DIALS];
	size_t			 ndials;
	int			 asking;
	int			 booted;
	int			 stopping;
	int64_t			 backoff;	/* ms until the next round */
	struct event		 ev_round;
	struct event		 ev_check;
	int64_t			 last_check;	/* mono_ms() */
	struct cm_tag		*tags;
	size_t			 ntags, tagroom;
} cm;

static int
cm_ready(void)
{
	return ident.ready && bans_ready && cm.conf != NULL && !cm.stopping &&
	    !ident.lockdown;
}

static int
cm_open(void)
{
	return conn_count() - conn_pending();
}

static int
cm_outbound(void)
{
	struct conn	*c;
	int		 n = 0;

	TAILQ_FOREACH(c, &conns, entry)
		if (c->dir == CONN_OUTBOUND && !c->relayed &&
		    c->state != CS_CLOSING)
			n++;
	return n;
}

static int
cm_need(void)
{
	const struct reconf_engine	*lim = &cm.conf->lim;

	if (conn_count() >= conn_limits.max_connections)
		return 0;
	/* cut off: the bootstrap peers are dialled whatever the targets */
	return cm_outbound() < lim->max_outgoing ||
	    cm_open() < lim->min_connections ||
	    (cm.nboot > 0 && cm_open() == 0);
}

static void
cm_schedule(void)
{
	struct timeval	 tv;
	int64_t		 ms;

	if (!cm_ready() || evtimer_pending(&cm.ev_round, NULL))
		return;
	/* between half and all of the current backoff */
	ms = cm.backoff / 2 + randombytes_uniform(cm.backoff / 2 + 1);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&cm.ev_round, &tv);
}

static int
cm_dialling(const struct peerid *id)
{
	struct conn	*c;
	size_t		 i;

	for (i = 0; i < cm.ndials; i++)
		if ((c = conn_find(cm.dials[i])) != NULL && c->expect_peer &&
		    peerid_equal(&c->peer, id))
			return 1;
	return 0;
}

static void
cm_forget_dial(uint32_t id)
{
	size_t	 i;

	for (i = 0; i < cm.ndials; i++)
		if (cm.dials[i] == id) {
			cm.dials[i] = cm.dials[--cm.ndials];
			return;
		}
}

/*
 * *err set: the address cannot be dialled; NULL alone: no need.  learned:
 * a peer gave it.
 */
static struct conn *
cm_dial(const struct multiaddr *ma, const struct peerid *id, int learned,
    int *err)
{
	static struct log_limit	 ll = LOG_LIMIT("dials that cannot start");
	struct conn		*c;
	char			 why[256], text[MADDR_STRMAX];

	*err = 0;
	if (cm.ndials >= CM_MAX_DIALS || (id != NULL &&
	    (conn_find_peer(id) != NULL || cm_dialling(id) ||
	    bans_check_peer(id) || peerid_equal(id, &ident.peerid))))
		return NULL;
	if ((c = learned ? dial_learned(ma, why, sizeof(why)) :
	    dial_maddr(ma, why, sizeof(why))) == NULL) {
		if (maddr_format(ma, text, sizeof(text)) == 0)
			log_limited(&ll, LOG_DEBUG, "connmgr: cannot dial "
			    "%s: %s", text, why);
		*err = 1;
		return NULL;
	}
	if (c->state != CS_OPEN)
		cm.dials[cm.ndials++] = c->id;
	return c;
}

/* A bootstrap peer given without its ID is dialled again only when
 * the last connection to it is gone; its ID is learned once up. */
static void
cm_dial_bootstrap(void)
{
	struct boot	*b;
	struct conn	*c;
	size_t		 i;
	int		 err;

	for (i = 0; i < cm.nboot; i++) {
		b = &cm.boot[i];
		if (!b->have_id && b->conn != 0 && conn_find(b->conn) != NULL)
			continue;
		c = cm_dial(&b->ma, b->have_id ? &b->id : NULL, 0, &err);
		if (c != NULL && !b->have_id)
			b->conn = c->id;
	}
	cm.booted = 1;
}

static void
cm_learn_bootstrap(const struct conn *c)
{
	size_t	 i;

	for (i = 0; i < cm.nboot; i++)
		if (!cm.boot[i].have_id && cm.boot[i].conn == c->id &&
		    c->have_peer) {
			cm.boot[i].id = c->peer;
			cm.boot[i].have_id = 1;
		}
}

static void
cm_round(int fd, short event, void *arg)
{
	const struct reconf_engine	*lim;
	struct store_cand_req		 req;
	int				 open, want;

	if (!cm_ready())
		return;
	lim = &cm.conf->lim;
	open = cm_open();
	if (cm.nboot > 0 && (!cm.booted || open == 0 ||
	    open < lim->min_connections))
		cm_dial_bootstrap();
	want = (int)lim->max_outgoing - cm_outbound();
	if (want > CM_WANT_MAX)
		want = CM_WANT_MAX;
	if (want > 0 && !cm.asking) {
		memset(&req, 0, sizeof(req));
		req.want = want;
		req.backoff_max = lim->dial_backoff_max / 1000;
		if (child_compose(PROC_STORED, IMSG_STORE_CANDIDATES, 0, -1,
		    &req, sizeof(req)) == 0)
			cm.asking = 1;
	}
	if (cm_need()) {
		cm_schedule();
		cm.backoff *= 2;
		if (cm.backoff > lim->dial_backoff_max)
			cm.backoff = lim->dial_backoff_max;
	}
}

/* One known peer from stored: its best dialable address is tried. */
void
connmgr_candidate(const struct store_cand *sc)
{
	struct multiaddr	 ma;
	size_t			 i;
	int			 err;

	if (!cm_ready() || sc->peer.len == 0 || sc->peer.len > PEERID_MAXLEN)
		return;
	for (i = 0; i < sc->naddrs && i < PREC_MAXADDRS; i++) {
		if (sc->addrs[i].len > PREC_ADDRMAX ||
		    maddr_decode(sc->addrs[i].b, sc->addrs[i].len, &ma) == -1 ||
		    maddr_append_peerid(&ma, &sc->peer) == -1)
			continue;
		cm_dial(&ma, &sc->peer, 1, &err);
		if (!err)
			return;
	}
}

void
connmgr_candidates_end(void)
{
	cm.asking = 0;
}

static int
cm_protected(const struct conn *c)
{
	size_t	 i;

	/* a reservation protects until it expires (relayd's TTL) */
	if (c->reserved > time(NULL) || relay_conn_busy(c) ||
	    rclient_is_relay(c))
		return 1;
	if (!c->have_peer)
		return 0;
	for (i = 0; i < cm.nboot; i++)
		if (cm.boot[i].have_id && peerid_equal(&cm.boot[i].id,
		    &c->peer))
			return 1;
	for (i = 0; i < cm.conf->nprotected; i++)
		if (peerid_equal(&cm.conf->protected[i], &c->peer))
			return 1;
	for (i = 0; i < cm.ntags; i++)
		if (cm.tags[i].weight > 0 &&
		    peerid_equal(&cm.tags[i].peer, &c->peer))
			return 1;
	return 0;
}

/* Inbound first, then the fewest streams, then the longest idle. */
static int
trim_cmp(const void *a, const void *b)
{
	const struct conn	*x = *(struct conn *const *)a;
	const struct conn	*y = *(struct conn *const *)b;

	if (x->dir != y->dir)
		return x->dir == CONN_INBOUND ? -1 : 1;
	if (x->mux.nstreams != y->mux.nstreams)
		return x->mux.nstreams < y->mux.nstreams ? -1 : 1;
	return x->last_io < y->last_io ? -1 : x->last_io > y->last_io;
}

/* Close the unprotected connections, fewest first, down to target. */
static void
cm_trim(int target, const char *why)
{
	static struct log_limit	 ll = LOG_LIMIT("connection_trimmed");
	struct conn		**v, *c;
	uint32_t		*ids;
	char			 peer[PEERID_STRMAX];
	int			 n = 0, i, excess = cm_open() - target;

	v = calloc(conn_count(), sizeof(*v));
	ids = calloc(conn_count(), sizeof(*ids));
	if (v == NULL || ids == NULL)
		goto done;
	TAILQ_FOREACH(c, &conns, entry)
		if (c->state == CS_OPEN && n < conn_count() &&
		    !cm_protected(c))
			v[n++] = c;
	qsort(v, n, sizeof(*v), trim_cmp);
	for (i = 0; i < n; i++)
		ids[i] = v[i]->id;
	/* by ID: a close may take others with it */
	for (i = 0; i < n && excess > 0; i++) {
		if ((c = conn_find(ids[i])) == NULL)
			continue;
		peerid_format(&c->peer, peer, sizeof(peer));
		log_limited(&ll, LOG_INFO, "connection_trimmed peer=%s "
		    "conn=%u", peer, c->id);
		yamux_goaway(c, 0);
		conn_abort(c, why);
		excess = cm_open() - target;
	}
 done:
	free(v);
	free(ids);
}

static void
cm_partition(int open, int min)
{
	time_t	 now = mono_now();

	if (cm.state != NET_PARTITIONED && open >= min) {
		if (cm.state != NET_OK)
			cm.since = now;
		cm.state = NET_OK;
	} else if (cm.state == NET_OK && open < min) {
		cm.state = NET_PARTITIONED;
		cm.since = now;
		log_warnx("partition_detected connections=%d min=%d", open,
		    min);
	} else if (cm.state == NET_PARTITIONED && open >= min) {
		log_info("partition_recovered duration=%lld connections=%d",
		    (long long)(now - cm.since), open);
		cm.state = NET_OK;
		cm.since = now;
	}
}

static void
cm_check(int fd, short event, void *arg)
{
	int	 open = cm_open();

	cm.last_check = mono_ms();
	if (!cm_ready())
		return;
	cm_partition(open, (int)cm.conf->lim.min_connections);
	if (open > conn_limits.max_connections)
		cm_trim(conn_limits.max_connections,
		    "trimmed: over connectionManager.maxConnections");
	if (cm_need())
		cm_schedule();
}

/*
 * Look again soon: once however many events, and at most every
 * CM_CHECK_GAP ms, since a look walks every connection (thousands of
 * handshakes a second would otherwise each cost a walk of them all).
 */
static void
cm_kick(void)
{
	struct timeval	 tv = { 0, 0 };
	int64_t		 wait;

	if (!evtimer_initialized(&cm.ev_check) ||
	    evtimer_pending(&cm.ev_check, NULL))
		return;
	wait = cm.last_check + CM_CHECK_GAP - mono_ms();
	if (wait > 0)
		tv.tv_usec = wait * 1000;
	evtimer_add(&cm.ev_check, &tv);
}

void
connmgr_conn_up(struct conn *c)
{
	size_t	 i;

	for (i = 0; i < cm.ndials; i++)
		if (cm.dials[i] == c->id) {
			cm_forget_dial(c->id);
			if (cm.conf != NULL)
				cm.backoff = cm.conf->lim.dial_backoff_min;
			break;
		}
	dial_succeeded(c);
	cm_learn_bootstrap(c);
	known_conn_up(c, 0);
	cm_kick();
}

void
connmgr_conn_closed(struct conn *c)
{
	cm_forget_dial(c->id);
	if (c->in_upgrade)
		known_dial_failed(c);
	cm_kick();
}

/* The store learns where the configured peers are. */
static void
cm_discover(void)
{
	size_t	 i;

	for (i = 0; i < cm.nboot; i++)
		known_discovered(&cm.boot[i].ma, SRC_BOOTSTRAP);
	for (i = 0; i < cm.conf->nrelays; i++)
		known_discovered(&cm.conf->relays[i], SRC_RELAY);
}

/* The identity and the bans are in: the first round. */
void
connmgr_start(void)
{
	struct timeval	 tv = { 0, 0 };

	if (!cm_ready())
		return;
	cm_discover();
	if (!evtimer_pending(&cm.ev_round, NULL))
		evtimer_add(&cm.ev_round, &tv);
}

/* The configuration holds at most CONF_MAX_BOOTSTRAP of them. */
static void
cm_bootstrap(const struct engine_conf *ec)
{
	struct boot	*b;
	size_t		 i;

	cm.nboot = 0;
	for (i = 0; i < ec->nbootstrap && i < CONF_MAX_BOOTSTRAP; i++) {
		b = &cm.boot[cm.nboot++];
		b->ma = ec->bootstrap[i];
		b->have_id = maddr_get_peerid(&b->ma, &b->id) == 0;
		b->conn = 0;
	}
}

/*
 * The engine's part of the configuration: the engine keeps it as it is
 * until it hands over the next.
 */
void
connmgr_configure(const struct engine_conf *ec)
{
	if (!evtimer_initialized(&cm.ev_round)) {
		evtimer_set(&cm.ev_round, cm_round, NULL);
		evtimer_set(&cm.ev_check, cm_check, NULL);
		cm.since = mono_now();
	}
	cm.conf = ec;
	known_configure(&ec->lim);
	dial_configure(&ec->lim);
	cm_bootstrap(ec);
	cm.backoff = ec->lim.dial_backoff_min;
	cm.booted = 0;
	evtimer_del(&cm.ev_round);
	connmgr_start();
	cm_kick();
}

/* Once a second: a connection may have lost what protected it (its
 * circuit closed, its reservation expired) while over the maximum. */
void
connmgr_sweep(void)
{
	if (cm_ready() && cm_open() > conn_limits.max_connections)
		cm_kick();
}

void
connmgr_stop(void)
{
	cm.stopping = 1;
	if (evtimer_initialized(&cm.ev_round)) {
		evtimer_del(&cm.ev_round);
		evtimer_del(&cm.ev_check);
	}
}

static struct cm_tag *
cm_tag_find(const struct peerid *peer, const char *name)
{
	size_t	 i;

	for (i = 0; i < cm.ntags; i++)
		if (peerid_equal(&cm.tags[i].peer, peer) &&
		    strcmp(cm.tags[i].name, name) == 0)
			return &cm.tags[i];
	return NULL;
}

/* The daemon API's TAG_PEER: 0, or -1 when the table is full. */
int
connmgr_tag(const struct peerid *peer, const char *name, int64_t weight)
{
	struct cm_tag	*t, *v;
	size_t		 room;

	if ((t = cm_tag_find(peer, name)) != NULL) {
		t->weight = weight;
		return 0;
	}
	if (cm.ntags >= CM_MAX_TAGS)
		return -1;
	if (cm.ntags == cm.tagroom) {
		room = cm.tagroom == 0 ? 16 : cm.tagroom * 2;
		if ((v = reallocarray(cm.tags, room, sizeof(*v))) == NULL)
			return -1;
		cm.tags = v;
		cm.tagroom = room;
	}
	t = &cm.tags[cm.ntags];
	if ((t->name = strdup(name)) == NULL)
		return -1;
	t->peer = *peer;
	t->weight = weight;
	cm.ntags++;
	return 0;
}

void
connmgr_untag(const struct peerid *peer, const char *name)
{
	struct cm_tag	*t;

	if ((t = cm_tag_find(peer, name)) == NULL)
		return;
	free(t->name);
	*t = cm.tags[--cm.ntags];
}

/* The daemon API's TRIM: down to connectionManager.minConnections. */
void
connmgr_trim(void)
{
	if (cm.conf != NULL)
		cm_trim(cm.conf->lim.min_connections,
		    "trimmed: the daemon API asked");
}

void
connmgr_status(struct ctl_status *st)
{
	strlcpy(st->network, net_names[cm.state], sizeof(st->network));
	st->network_since = mono_now() - cm.since;
	st->outbound = cm_outbound();
	if (cm.conf != NULL) {
		st->outbound_target = cm.conf->lim.max_outgoing;
		st->min_connections = cm.conf->lim.min_connections;
	}
	st->bans = bans_count();
	st->addrs_filtered = counters.addrs_filtered;
	st->addrs_dropped = counters.addrs_dropped;
	st->dials_backed_off = counters.dials_backed_off;
}
