/*
 * relayd: the relay's control plane.  The engine asks about each
 * reservation and circuit; relayd decides (policy.c), has keyd sign the
 * voucher of each reservation it grants, and logs what happens.  Calls
 * policy.c and common/.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event.h>

#include "child.h"
#include "circuit.h"
#include "log.h"
#include "peerid.h"
#include "policy.h"

#define PENDING_DEFAULT		256	/* relay.maxPendingVouchers */
#define PENDING_TIMEOUT		10000	/* ms */
#define VOUCHER_PAYLOAD_MAX	256

/*
 * A reservation granted, its voucher asked of keyd: what the answer
 * will say but the voucher, which keyd's answer brings.  In the order
 * sent, which is that of their deadlines and, keyd answering in turn,
 * of the answers.
 */
struct pending {
	TAILQ_ENTRY(pending)	 entry;
	uint32_t		 id;		/* of the request to keyd */
	uint32_t		 reqid;		/* of the engine's request */
	int64_t			 sent;		/* monotonic ms */
	struct peerid		 peer;
	uint8_t			 ip[16];
	uint32_t		 conn;
	int32_t			 refreshed;
	uint64_t		 expire;
	uint32_t		 limit_duration;
	uint64_t		 limit_data;
};
TAILQ_HEAD(pendinglist, pending);

static struct {
	struct policy		 pol;
	struct peerid		 self;
	int			 have_self;
	struct pendinglist	 pending;
	size_t			 npending;
	size_t			 maxpending;	/* relay.maxPendingVouchers */
	uint32_t		 next_id;
	struct event		 ev_tick;
	struct relayd_conf	 conf;		/* being received */
	int			 have_conf;
	size_t			 allowcap, blockcap;
} rd;

/*
 * Every event a peer causes goes through a limiter of its kind; the
 * counts below and the policy's own stay whole.
 */
static struct log_limit	 ll_created = LOG_LIMIT("reservation_created");
static struct log_limit	 ll_removed = LOG_LIMIT("reservation_removed");
static struct log_limit	 ll_expired = LOG_LIMIT("reservation_expired");
static struct log_limit	 ll_opened = LOG_LIMIT("circuit_opened");
static struct log_limit	 ll_closed = LOG_LIMIT("circuit_closed");

/* Counts by reason, for the metrics: the reasons are few and fixed. */
#define REASONS_MAX	16

struct reasons {
	struct {
		char		 name[METRIC_LVALUELEN];
		uint64_t	 n;
	}		 r[REASONS_MAX];
	size_t		 n;
};

/* Whole counts of what the log may show only a sample of. */
static struct {
	uint64_t	 rsvps_refused;
	uint64_t	 circuits_refused;
	uint64_t	 acct_dropped;
	uint64_t	 rsvps_created;
	uint64_t	 rsvps_refreshed;
	uint64_t	 circuits_opened;
	uint64_t	 bytes_src_dst;
	uint64_t	 bytes_dst_src;
	struct reasons	 rsvp_why, circuit_why, closed_why;
} counts;

/* One more of a reason; past the table's room, "other". */
static void
reason_count(struct reasons *t, const char *why)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->r[i].name, why) == 0)
			break;
	if (i == REASONS_MAX)
		i = REASONS_MAX - 1;
	else if (i == t->n) {
		strlcpy(t->r[i].name, i + 1 < REASONS_MAX ? why : "other",
		    sizeof(t->r[i].name));
		t->n++;
	}
	t->r[i].n++;
}

static struct policy_time
relayd_now(void)
{
	struct policy_time	 t;
	struct timespec		 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t.ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	t.wall = time(NULL);
	return t;
}

static int
peer_valid(const struct peerid *id)
{
	struct peerid	 tmp;

	return id->len > 0 && id->len <= PEERID_MAXLEN &&
	    peerid_from_mh(id->mh, id->len, &tmp) == 0;
}

static const char *
fmt_peer(const struct peerid *id, char *buf, size_t len)
{
	if (peerid_format(id, buf, len) == -1)
		strlcpy(buf, "invalid", len);
	return buf;
}

static const char *
fmt_ip(const uint8_t ip[16], char *buf, size_t len)
{
	static const uint8_t	 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	const char		*s;

	if (memcmp(ip, v4mapped, sizeof(v4mapped)) == 0)
		s = inet_ntop(AF_INET, ip + 12, buf, len);
	else
		s = inet_ntop(AF_INET6, ip, buf, len);
	if (s == NULL)
		strlcpy(buf, "?", len);
	return buf;
}

/* The engine's words go to the log as one printable token. */
static const char *
fmt_reason(const char *in, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len && i < RELAY_REASONLEN && in[i] != '\0'; i++)
		buf[i] = in[i] > ' ' && in[i] < 0x7f ? in[i] : '_';
	buf[i] = '\0';
	if (i == 0)
		strlcpy(buf, "none", len);
	return buf;
}

static void
log_rsvp_refused(int pri, const struct peerid *peer, const uint8_t ip[16],
    const char *why, int status)
{
	static struct log_limit	 ll = LOG_LIMIT("reservation_refused");
	char			 p[PEERID_STRMAX], a[INET6_ADDRSTRLEN];

	counts.rsvps_refused++;
	reason_count(&counts.rsvp_why, why);
	log_limited(&ll, pri, "reservation_refused peer=%s ip=%s reason=%s status=%s",
	    fmt_peer(peer, p, sizeof(p)), fmt_ip(ip, a, sizeof(a)), why,
	    circuit_status_name(status));
}

static void
relayd_removed(const struct rsvp *r, const char *why, void *arg)
{
	char	 p[PEERID_STRMAX], a[INET6_ADDRSTRLEN];

	if (strcmp(why, "expired") == 0)
		log_limited(&ll_expired, LOG_INFO,
		    "reservation_expired peer=%s ip=%s",
		    fmt_peer(&r->peer, p, sizeof(p)),
		    fmt_ip(r->ip, a, sizeof(a)));
	else
		log_limited(&ll_removed, LOG_INFO,
		    "reservation_removed peer=%s ip=%s reason=%s",
		    fmt_peer(&r->peer, p, sizeof(p)),
		    fmt_ip(r->ip, a, sizeof(a)), why);
}

/* Reservations: granted here, answered when keyd has signed. */

static struct pending *
pending_find(uint32_t id)
{
	struct pending	*pd;

	TAILQ_FOREACH(pd, &rd.pending, entry)
		if (pd->id == id)
			return pd;
	return NULL;
}

static void
pending_free(struct pending *pd)
{
	TAILQ_REMOVE(&rd.pending, pd, entry);
	rd.npending--;
	free(pd);
}

/* The answer to the engine, as the policy granted it. */
static void
pending_res(const struct pending *pd, struct relay_rsvp_res *res)
{
	memset(res, 0, sizeof(*res));
	res->status = CIRCUIT_OK;
	res->conn = pd->conn;
	res->refreshed = pd->refreshed;
	res->expire = pd->expire;
	res->limit_duration = pd->limit_duration;
	res->limit_data = pd->limit_data;
}

/* keyd would not sign, did not answer, or the peer left meanwhile. */
static void
pending_fail(struct pending *pd, int pri, const char *why)
{
	static struct relay_rsvp_res	 res;

	policy_unreserve(&rd.pol, &pd->peer);
	log_rsvp_refused(pri, &pd->peer, pd->ip, why,
	    CIRCUIT_RESOURCE_LIMIT_EXCEEDED);
	memset(&res, 0, sizeof(res));
	res.status = CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	res.conn = pd->conn;
	child_compose(PROC_ENGINE, IMSG_RELAY_RESERVE_RES, pd->reqid, -1,
	    &res, sizeof(res));
	pending_free(pd);
}

/* Relay accounting, per peer per day, kept by stored. */
static void
account(const struct peerid *peer, uint64_t rsvps, uint64_t circuits,
    uint64_t bytes_in, uint64_t bytes_out)
{
	static struct log_limit	 ll = LOG_LIMIT("accounting update dropped");
	struct store_acct	 a;

	if (!child_has_room(PROC_STORED)) {
		counts.acct_dropped++;
		log_limited(&ll, LOG_WARNING,
		    "accounting update dropped: stored is behind");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.acct.peer = *peer;
	a.acct.rsvps = rsvps;
	a.acct.circuits = circuits;
	a.acct.bytes_in = bytes_in;
	a.acct.bytes_out = bytes_out;
	child_compose(PROC_STORED, IMSG_STORE_ACCT, 0, -1, &a, sizeof(a));
}

static void
pending_grant(struct pending *pd, const void *voucher, size_t len)
{
	static struct relay_rsvp_res	 res;
	char				 p[PEERID_STRMAX], a[INET6_ADDRSTRLEN];
	int64_t				 ttl;

	if (policy_rsvp(&rd.pol, &pd->peer) == NULL) {
		pending_fail(pd, LOG_INFO, "gone");
		return;
	}
	pending_res(pd, &res);
	memcpy(res.voucher, voucher, len);
	res.voucherlen = len;
	ttl = (int64_t)pd->expire - relayd_now().wall;
	log_limited(&ll_created, LOG_INFO, "%s peer=%s ip=%s ttl=%lld "
	    "expire=%llu", pd->refreshed ? "reservation_refreshed" :
	    "reservation_created",
	    fmt_peer(&pd->peer, p, sizeof(p)), fmt_ip(pd->ip, a, sizeof(a)),
	    (long long)(ttl > 0 ? ttl : 0), (unsigned long long)pd->expire);
	child_compose(PROC_ENGINE, IMSG_RELAY_RESERVE_RES, pd->reqid, -1,
	    &res, sizeof(res));
	if (pd->refreshed)
		counts.rsvps_refreshed++;
	else {
		counts.rsvps_created++;
		account(&pd->peer, 1, 0, 0, 0);
	}
	pending_free(pd);
}

static void
pending_expire(const struct policy_time *now)
{
	struct pending	*pd;

	while ((pd = TAILQ_FIRST(&rd.pending)) != NULL &&
	    now->ms - pd->sent >= PENDING_TIMEOUT)
		pending_fail(pd, LOG_WARNING, "keyd_timeout");
}

/* At relay.maxPendingVouchers, a reservation is refused: say so. */
static int
pending_full(void)
{
	static struct log_limit	 ll = LOG_LIMIT("pending vouchers full");

	if (rd.npending < rd.maxpending)
		return 0;
	log_limited(&ll, LOG_WARNING, "vouchers_pending_full pending=%zu "
	    "max=%zu", rd.npending, rd.maxpending);
	return 1;
}

/* Hold a granted reservation until keyd has signed its voucher. */
static int
pending_start(uint32_t reqid, const struct relay_rsvp_req *req,
    const struct relay_rsvp_res *res, const struct policy_time *now)
{
	struct rsvp_voucher	 v;
	struct pending		*pd;
	uint8_t			 buf[VOUCHER_PAYLOAD_MAX];
	size_t			 len;
	uint32_t		 id;

	v.relay = rd.self;
	v.peer = req->peer;
	v.expiration = res->expire;
	if (voucher_encode(&v, buf, sizeof(buf), &len) == -1)
		return -1;
	do {
		id = ++rd.next_id;
	} while (id == 0 || pending_find(id) != NULL);
	if ((pd = calloc(1, sizeof(*pd))) == NULL)
		return -1;
	if (child_compose(PROC_KEYD, IMSG_KEY_SIGN_VOUCHER, id, -1, buf,
	    len) == -1) {
		free(pd);
		return -1;
	}
	pd->id = id;
	pd->reqid = reqid;
	pd->peer = req->peer;
	memcpy(pd->ip, req->ip, sizeof(pd->ip));
	pd->conn = res->conn;
	pd->refreshed = res->refreshed;
	pd->expire = res->expire;
	pd->limit_duration = res->limit_duration;
	pd->limit_data = res->limit_data;
	pd->sent = now->ms;
	TAILQ_INSERT_TAIL(&rd.pending, pd, entry);
	rd.npending++;
	return 0;
}

static int
relayd_reserve(struct imsg *imsg)
{
	struct relay_rsvp_req	 req;
	struct relay_rsvp_res	 res;
	struct policy_time	 now = relayd_now();
	const char		*why;
	int			 pri = LOG_INFO;

	if (imsg_get_data(imsg, &req, sizeof(req)) == -1 ||
	    !peer_valid(&req.peer))
		return -1;
	memset(&res, 0, sizeof(res));
	res.conn = req.conn;
	res.status = CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	if (!rd.have_self)
		why = "no_identity";
	else if (pending_full())
		why = "keyd_busy";
	else
		policy_reserve(&rd.pol, &req.peer, req.ip, &now, &res, &why);
	if (res.status == CIRCUIT_OK) {
		if (pending_start(imsg_get_id(imsg), &req, &res, &now) == 0)
			return 0;
		policy_unreserve(&rd.pol, &req.peer);
		memset(&res, 0, sizeof(res));
		res.conn = req.conn;
		res.status = CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
		why = "keyd_unavailable";
		pri = LOG_WARNING;
	}
	log_rsvp_refused(pri, &req.peer, req.ip, why, res.status);
	child_compose(PROC_ENGINE, IMSG_RELAY_RESERVE_RES,
	    imsg_get_id(imsg), -1, &res, sizeof(res));
	return 0;
}

static int
relayd_voucher(struct imsg *imsg)
{
	struct pending	*pd;
	size_t		 len = imsg_get_len(imsg);

	/* keyd signs into RELAY_VOUCHER_MAX bytes: more is not from it */
	if (len > RELAY_VOUCHER_MAX)
		return -1;
	if ((pd = pending_find(imsg_get_id(imsg))) == NULL) {
		log_warnx("voucher %u from keyd is not awaited",
		    imsg_get_id(imsg));
		return 0;
	}
	if (len == 0) {
		pending_fail(pd, LOG_WARNING, "voucher_refused");
		return 0;
	}
	pending_grant(pd, imsg->data, len);
	return 0;
}

static int
relayd_key_public(struct imsg *imsg)
{
	static struct log_limit	 ll = LOG_LIMIT("relay identity");
	struct key_public	 kp;
	uint8_t			 pb[ED25519_PUBKEY_PB_LEN];
	char			 p[PEERID_STRMAX];
	size_t			 n;

	if (imsg_get_data(imsg, &kp, sizeof(kp)) == -1)
		return -1;
	n = pb_ed25519_pubkey(kp.pubkey, pb, sizeof(pb));
	if (peerid_from_pubkey_pb(pb, n, &rd.self) == -1)
		fatalx("relay identity from keyd");
	/* a second one: peerctl key rotate */
	if (rd.have_self)
		log_limited(&ll, LOG_INFO, "relay identity now %s: vouchers "
		    "are asked for it from now on", fmt_peer(&rd.self, p,
		    sizeof(p)));
	else
		log_debug("relay identity %s", fmt_peer(&rd.self, p,
		    sizeof(p)));
	rd.have_self = 1;
	return 0;
}

static int
relayd_peer_gone(struct imsg *imsg)
{
	struct relay_peer_gone	 g;
	const struct rsvp	*r;
	char			 p[PEERID_STRMAX], a[INET6_ADDRSTRLEN];

	if (imsg_get_data(imsg, &g, sizeof(g)) == -1 || !peer_valid(&g.peer))
		return -1;
	if ((r = policy_rsvp(&rd.pol, &g.peer)) == NULL)
		return 0;
	fmt_ip(r->ip, a, sizeof(a));
	policy_unreserve(&rd.pol, &g.peer);
	log_limited(&ll_removed, LOG_INFO,
	    "reservation_removed peer=%s ip=%s reason=disconnected",
	    fmt_peer(&g.peer, p, sizeof(p)), a);
	return 0;
}

/* Circuits */

static int
relayd_connect(struct imsg *imsg)
{
	struct relay_connect_req req;
	static struct log_limit	 ll = LOG_LIMIT("circuit_refused");
	struct relay_connect_res res;
	struct policy_time	 now = relayd_now();
	char			 s[PEERID_STRMAX], d[PEERID_STRMAX];
	const char		*why;

	if (imsg_get_data(imsg, &req, sizeof(req)) == -1 ||
	    !peer_valid(&req.src) || !peer_valid(&req.dst))
		return -1;
	memset(&res, 0, sizeof(res));
	res.stream = req.stream;
	res.conn = req.conn;
	if (policy_connect(&rd.pol, &req.src, &req.dst, &now, &res, &why) ==
	    CIRCUIT_OK) {
		counts.circuits_opened++;
		log_limited(&ll_opened, LOG_INFO,
		    "circuit_opened id=%u src=%s dst=%s", res.circuit,
		    fmt_peer(&req.src, s, sizeof(s)),
		    fmt_peer(&req.dst, d, sizeof(d)));
	} else {
		counts.circuits_refused++;
		reason_count(&counts.circuit_why, why);
		log_limited(&ll, LOG_INFO, "circuit_refused src=%s dst=%s "
		    "reason=%s status=%s", fmt_peer(&req.src, s, sizeof(s)),
		    fmt_peer(&req.dst, d, sizeof(d)), why,
		    circuit_status_name(res.status));
	}
	child_compose(PROC_ENGINE, IMSG_RELAY_CONNECT_RES,
	    imsg_get_id(imsg), -1, &res, sizeof(res));
	return 0;
}

static int
relayd_circuit_end(struct imsg *imsg)
{
	struct relay_circuit_end e;
	struct circuit		 c;
	struct policy_time	 now = relayd_now();
	char			 s[PEERID_STRMAX], d[PEERID_STRMAX];
	char			 why[RELAY_REASONLEN];

	if (imsg_get_data(imsg, &e, sizeof(e)) == -1)
		return -1;
	if (policy_circuit_end(&rd.pol, e.circuit, e.bytes_src_dst,
	    e.bytes_dst_src, &now, &c) == -1) {
		log_warnx("end of unknown circuit %u", e.circuit);
		return 0;
	}
	counts.bytes_src_dst += e.bytes_src_dst;
	counts.bytes_dst_src += e.bytes_dst_src;
	reason_count(&counts.closed_why, fmt_reason(e.reason, why,
	    sizeof(why)));
	log_limited(&ll_closed, LOG_INFO, "circuit_closed id=%u src=%s "
	    "dst=%s reason=%s bytes_src_dst=%llu bytes_dst_src=%llu "
	    "seconds=%lld", c.id,
	    fmt_peer(&c.src, s, sizeof(s)), fmt_peer(&c.dst, d, sizeof(d)),
	    fmt_reason(e.reason, why, sizeof(why)),
	    (unsigned long long)e.bytes_src_dst,
	    (unsigned long long)e.bytes_dst_src,
	    (long long)((now.ms - c.start) / 1000));
	account(&c.src, 0, 1, e.bytes_src_dst, e.bytes_dst_src);
	account(&c.dst, 0, 1, e.bytes_dst_src, e.bytes_src_dst);
	return 0;
}

/* Control */

/*
 * At most this many reservations in one listing, so that the answer fits
 * the queues between the processes and to the control client.
 */
#define RSVP_LIST_MAX	2000

struct rsvp_list {
	uint32_t	 id;
	size_t		 n;
};

static void
relayd_show_rsvp(const struct rsvp *r, void *arg)
{
	struct rsvp_list	*l = arg;
	struct ctl_rsvp		 c;

	if (l->n++ >= RSVP_LIST_MAX)
		return;
	memset(&c, 0, sizeof(c));
	fmt_peer(&r->peer, c.peer, sizeof(c.peer));
	fmt_ip(r->ip, c.addr, sizeof(c.addr));
	c.expire = r->expire;
	c.created = r->created;
	child_compose(PROC_ENGINE, IMSG_CTL_RSVP, l->id, -1, &c, sizeof(c));
}

static int
relayd_show_rsvps(struct imsg *imsg)
{
	struct policy_time	 now = relayd_now();
	struct rsvp_list	 l;
	struct ctl_result	 res;

	l.id = imsg_get_id(imsg);
	l.n = 0;
	policy_expire(&rd.pol, &now);
	policy_rsvp_foreach(&rd.pol, relayd_show_rsvp, &l);
	if (msg_list_more(&res, l.n, RSVP_LIST_MAX, "reservations"))
		child_compose(PROC_ENGINE, IMSG_CTL_RESULT, l.id, -1, &res,
		    sizeof(res));
	child_compose(PROC_ENGINE, IMSG_CTL_END, l.id, -1, NULL, 0);
	return 0;
}

static void
relayd_tick(int fd, short event, void *arg)
{
	struct timeval		 tv = { 1, 0 };
	struct policy_time	 now = relayd_now();

	policy_expire(&rd.pol, &now);
	policy_sweep(&rd.pol, &now);
	pending_expire(&now);
	evtimer_add(&rd.ev_tick, &tv);
}

static void
relayd_peer_up(enum proc_id id)
{
	if (id == PROC_KEYD)
		child_compose(PROC_KEYD, IMSG_KEY_GET_PUBLIC, 0, -1, NULL, 0);
}

/* Append a peer ID to an access list being received. */
static void
peerlist_push(struct peerid **v, size_t *n, size_t *cap,
    const struct peerid *id)
{
	struct peerid	*nv;
	size_t		 ncap;

	if (*n >= CONF_LIST_MAX)
		fatalx("configuration from parent: an access list too long");
	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 64;
		if ((nv = reallocarray(*v, ncap, sizeof(*nv))) == NULL)
			fatal("configuration");
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *id;
}

static int
relayd_reconf_peerid(struct imsg *imsg)
{
	struct reconf_peerid	 p;

	if (child_reconf_peerid(imsg, &p) == -1)
		return -1;
	if (p.list == RECONF_ALLOW)
		peerlist_push(&rd.conf.allow, &rd.conf.nallow, &rd.allowcap,
		    &p.id);
	else if (p.list == RECONF_BLOCK)
		peerlist_push(&rd.conf.block, &rd.conf.nblock, &rd.blockcap,
		    &p.id);
	else
		return -1;
	return 0;
}

/* The parts of a configuration, until IMSG_RECONF_DONE. */
static int
relayd_reconf(struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_RECONF_RELAY:
		imsg_get_data(imsg, &rd.conf.lim, sizeof(rd.conf.lim));
		rd.have_conf = 1;
		return 0;
	case IMSG_RECONF_PEERID:
		return relayd_reconf_peerid(imsg);
	default:
		return 1;
	}
}

static void
relayd_conf_clear(void)
{
	free(rd.conf.allow);
	free(rd.conf.block);
	memset(&rd.conf, 0, sizeof(rd.conf));
	rd.have_conf = 0;
	rd.allowcap = rd.blockcap = 0;
}

/* IMSG_RECONF_DONE: the policy takes what came, at once. */
static void
relayd_configure(void)
{
	const struct policy	*pol = &rd.pol;

	if (!rd.have_conf)
		fatalx("configuration from parent without relayd's part");
	if (policy_configure(&rd.pol, &rd.conf) == -1)
		fatal("relay policy");
	/* fewer than are waiting: they drain before the next is taken */
	rd.maxpending = rd.conf.lim.max_pending_vouchers;
	relayd_conf_clear();
	log_debug("relay %s, hop %s, %lld reservations of %lld ms, "
	    "%zu allowed, %zu blocked", pol->enabled ? "on" : "off",
	    pol->hop ? "on" : "off", (long long)pol->rsvp_max,
	    (long long)pol->rsvp_ttl, pol->nallow, pol->nblock);
}

/* What the policy enforces, as it took it from the configuration. */
static void
relayd_status(struct ctl_proc *p)
{
	const struct policy	*pol = &rd.pol;

	if (!child->configured) {
		strlcpy(p->state, "starting", sizeof(p->state));
		return;
	}
	snprintf(p->detail, sizeof(p->detail), "relay %s, hop %s, "
	    "%zu/%lld reservations, %zu circuits, ttl %lld ms, "
	    "%zu allowed, %zu blocked, %zu/%zu vouchers at keyd",
	    pol->enabled ? "on" : "off", pol->hop ? "on" : "off",
	    pol->nrsvps, (long long)pol->rsvp_max, pol->ncircuits,
	    (long long)pol->rsvp_ttl, pol->nallow, pol->nblock,
	    rd.npending, rd.maxpending);
	snprintf(p->detail + strlen(p->detail), sizeof(p->detail) -
	    strlen(p->detail), "; refused %llu reservations, %llu circuits",
	    (unsigned long long)counts.rsvps_refused,
	    (unsigned long long)counts.circuits_refused);
	if (counts.acct_dropped > 0)
		snprintf(p->detail + strlen(p->detail), sizeof(p->detail) -
		    strlen(p->detail), "; %llu accounting updates dropped",
		    (unsigned long long)counts.acct_dropped);
}

static void
relayd_reasons(struct metric_set *set, uint32_t id, const struct reasons *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		metric_add(set, id, t->r[i].n, "reason", t->r[i].name, NULL,
		    NULL);
}

static void
relayd_metrics(struct metric_set *set)
{
	size_t	 i;
	uint64_t rated = 0;

	for (i = 0; i < counts.rsvp_why.n; i++)
		if (strcmp(counts.rsvp_why.r[i].name, "rate_limit") == 0)
			rated = counts.rsvp_why.r[i].n;
	metric_add(set, METRIC_RESERVATIONS, rd.pol.nrsvps, NULL, NULL, NULL,
	    NULL);
	metric_add(set, METRIC_RESERVATIONS_CREATED, counts.rsvps_created,
	    "kind", "new", NULL, NULL);
	metric_add(set, METRIC_RESERVATIONS_CREATED, counts.rsvps_refreshed,
	    "kind", "refreshed", NULL, NULL);
	relayd_reasons(set, METRIC_RESERVATIONS_REFUSED, &counts.rsvp_why);
	metric_add(set, METRIC_CIRCUITS, rd.pol.ncircuits, NULL, NULL, NULL,
	    NULL);
	metric_add(set, METRIC_CIRCUITS_OPENED, counts.circuits_opened,
	    NULL, NULL, NULL, NULL);
	relayd_reasons(set, METRIC_CIRCUITS_REFUSED, &counts.circuit_why);
	relayd_reasons(set, METRIC_CIRCUITS_CLOSED, &counts.closed_why);
	metric_add(set, METRIC_RELAYED_BYTES, counts.bytes_src_dst,
	    "direction", "src_dst", NULL, NULL);
	metric_add(set, METRIC_RELAYED_BYTES, counts.bytes_dst_src,
	    "direction", "dst_src", NULL, NULL);
	metric_add(set, METRIC_RATE_LIMITED, rated, "kind", "reservations",
	    NULL, NULL);
	metric_add(set, METRIC_ERRORS, counts.acct_dropped, "kind",
	    "accounting_dropped", NULL, NULL);
}

static int
relayd_dispatch(enum proc_id from, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_RELAY_RESERVE:
		return relayd_reserve(imsg);
	case IMSG_RELAY_CONNECT:
		return relayd_connect(imsg);
	case IMSG_RELAY_CIRCUIT_END:
		return relayd_circuit_end(imsg);
	case IMSG_RELAY_PEER_GONE:
		return relayd_peer_gone(imsg);
	case IMSG_CTL_SHOW_RSVPS:
		return relayd_show_rsvps(imsg);
	case IMSG_KEY_PUBLIC:
		return relayd_key_public(imsg);
	case IMSG_KEY_VOUCHER:
		return relayd_voucher(imsg);
	default:
		return 1;
	}
}

static void
relayd_shutdown(void)
{
	struct pending	*pd;

	while ((pd = TAILQ_FIRST(&rd.pending)) != NULL)
		pending_free(pd);
	policy_free(&rd.pol);
	relayd_conf_clear();
}

static struct child relayd_child = {
	.id = PROC_RELAYD,
	.dispatch = relayd_dispatch,
	.peer_up = relayd_peer_up,
	.reconf = relayd_reconf,
	.configure = relayd_configure,
	.status = relayd_status,
	.shutdown = relayd_shutdown,
	.metrics = relayd_metrics,
};

int
main(int argc, char *argv[])
{
	struct timeval	 tv = { 1, 0 };

	if (argc < 1)
		errx(1, "no arguments");
	child_start(&relayd_child, argc, argv);
	TAILQ_INIT(&rd.pending);
	rd.maxpending = PENDING_DEFAULT;
	policy_init(&rd.pol);
	rd.pol.removed = relayd_removed;
	evtimer_set(&rd.ev_tick, relayd_tick, NULL);
	evtimer_add(&rd.ev_tick, &tv);
	child_loop();
	return 0;
}
