/*
 * The relay policy on an explicit clock: every refusal with its status,
 * one reservation per peer, the caps, the hourly rate, expiry, the
 * access lists and their reload, circuits and their accounting.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "config.h"
#include "peerid.h"
#include "policy.h"
#include "tap.h"

#define T0_WALL		1790000000
#define T0_MS		5000

struct removal {
	int		 n;
	char		 why[64];
	struct peerid	 last;
};

static struct peerid	 peers[64];
static char		 peerstr[64][PEERID_STRMAX];
static const uint8_t	 ip1[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
static const uint8_t	 ip2[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 };

static void
make_peers(void)
{
	uint8_t	 key[32], pb[ED25519_PUBKEY_PB_LEN];
	size_t	 i, n;

	for (i = 0; i < 64; i++) {
		memset(key, (int)i + 1, sizeof(key));
		n = pb_ed25519_pubkey(key, pb, sizeof(pb));
		if (peerid_from_pubkey_pb(pb, n, &peers[i]) == -1 ||
		    peerid_format(&peers[i], peerstr[i], PEERID_STRMAX) == -1)
			abort();
	}
}

/* A distinct peer for the bulk tests: an identity hash of i. */
static struct peerid
bulk_peer(uint32_t i)
{
	struct peerid	 id;

	memset(&id, 0, sizeof(id));
	id.len = 8;
	id.mh[0] = MH_IDENTITY;
	id.mh[1] = 6;
	id.mh[2] = 0xbb;
	id.mh[3] = 0xbb;
	memcpy(id.mh + 4, &i, sizeof(i));
	return id;
}

static void
on_removed(const struct rsvp *r, const char *why, void *arg)
{
	struct removal	*rm = arg;

	rm->n++;
	strlcpy(rm->why, why, sizeof(rm->why));
	rm->last = r->peer;
}

static void
conf_default(struct relayd_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->lim.enabled = 1;
	rc->lim.hop_enabled = 1;
	rc->lim.reservations_max = 1000;
	rc->lim.reservations_ttl = 3600000;
	rc->lim.reservations_per_ip = 8;
	rc->lim.limit_duration = 120000;
	rc->lim.limit_data = 131072;
	rc->lim.rsvp_per_hour = 0;
}

static struct policy_time
at(int64_t ms)
{
	struct policy_time	 t;

	t.ms = T0_MS + ms;
	t.wall = T0_WALL + ms / 1000;
	return t;
}

static void
setup(struct policy *p, const struct relayd_conf *rc, struct removal *rm)
{
	policy_init(p);
	memset(rm, 0, sizeof(*rm));
	p->removed = on_removed;
	p->arg = rm;
	if (policy_configure(p, rc) != 0)
		abort();
}

static int
reserve(struct policy *p, int i, const uint8_t *ip, int64_t ms,
    const char **why)
{
	struct relay_rsvp_res	 res;
	struct policy_time	 t = at(ms);
	const char		*w;

	return policy_reserve(p, &peers[i], ip, &t, &res, why ? why : &w);
}

static int
connect_(struct policy *p, int src, int dst, int64_t ms, uint32_t *id,
    const char **why)
{
	struct relay_connect_res res;
	struct policy_time	 t = at(ms);
	const char		*w;
	int			 s;

	s = policy_connect(p, &peers[src], &peers[dst], &t, &res,
	    why ? why : &w);
	if (id != NULL)
		*id = res.circuit;
	return s;
}

static void
test_grant(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	struct relay_rsvp_res	 res;
	struct policy_time	 t = at(0);
	const struct rsvp	*r;
	const char		*why = "x";

	conf_default(&rc);
	rc.lim.limit_duration = 1500;
	setup(&p, &rc, &rm);
	ok(policy_reserve(&p, &peers[0], ip1, &t, &res, &why) == CIRCUIT_OK &&
	    res.status == CIRCUIT_OK && why == NULL,
	    "a reservation is granted");
	ok(res.refreshed == 0 && res.expire == T0_WALL + 3600,
	    "new, expires ttl/1000 seconds from now");
	ok(res.limit_duration == 2 && res.limit_data == 131072,
	    "limits: duration in seconds rounded up, data in bytes");
	ok(p.nrsvps == 1 && (r = policy_rsvp(&p, &peers[0])) != NULL &&
	    r->created == T0_WALL && memcmp(r->ip, ip1, 16) == 0,
	    "the reservation is held with its address");
	t = at(600000);
	ok(policy_reserve(&p, &peers[0], ip1, &t, &res, &why) == CIRCUIT_OK &&
	    res.refreshed == 1 && res.expire == T0_WALL + 600 + 3600,
	    "a second request refreshes it");
	ok(p.nrsvps == 1 && (r = policy_rsvp(&p, &peers[0])) != NULL &&
	    r->created == T0_WALL && r->expire == T0_WALL + 4200,
	    "still one per peer, created kept, expiry moved");
	rc.lim.limit_duration = 0;
	rc.lim.limit_data = 0;
	policy_configure(&p, &rc);
	ok(policy_reserve(&p, &peers[1], ip1, &t, &res, &why) == CIRCUIT_OK &&
	    res.limit_duration == 0 && res.limit_data == 0,
	    "zero limits are sent as none");
	policy_free(&p);
	ok(p.nrsvps == 0 && RB_EMPTY(&p.rsvps), "policy_free empties it");
}

static void
test_disabled(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	const char		*why;

	conf_default(&rc);
	rc.lim.enabled = 0;
	setup(&p, &rc, &rm);
	ok(reserve(&p, 0, ip1, 0, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "relay_disabled") == 0,
	    "relay disabled: PERMISSION_DENIED");
	rc.lim.enabled = 1;
	rc.lim.hop_enabled = 0;
	policy_configure(&p, &rc);
	ok(reserve(&p, 0, ip1, 0, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "hop_disabled") == 0,
	    "hop disabled: PERMISSION_DENIED");
	ok(connect_(&p, 1, 0, 0, NULL, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "hop_disabled") == 0,
	    "hop disabled: connect PERMISSION_DENIED");
	rc.lim.hop_enabled = 1;
	policy_configure(&p, &rc);
	ok(reserve(&p, 0, ip1, 0, NULL) == CIRCUIT_OK, "enabled again");
	rc.lim.enabled = 0;
	policy_configure(&p, &rc);
	ok(p.nrsvps == 0 && rm.n == 1 && strcmp(rm.why, "relay_disabled") == 0,
	    "turning the relay off drops the reservations");
	policy_free(&p);
}

static void
test_lists(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	struct peerid		 allowid[] = { peers[0], peers[1] };
	struct peerid		 blockid[] = { peers[2] };
	const char		*why;

	conf_default(&rc);
	rc.block = blockid;
	rc.nblock = 1;
	setup(&p, &rc, &rm);
	ok(reserve(&p, 2, ip1, 0, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "blocked") == 0, "blocked peer: PERMISSION_DENIED");
	ok(reserve(&p, 3, ip1, 0, NULL) == CIRCUIT_OK,
	    "empty allowlist: anyone else may reserve");
	rc.allow = allowid;
	rc.nallow = 2;
	policy_configure(&p, &rc);
	ok(rm.n == 1 && strcmp(rm.why, "not_allowed") == 0 &&
	    peerid_equal(&rm.last, &peers[3]) && p.nrsvps == 0,
	    "an allowlist on reload drops a peer not on it");
	ok(reserve(&p, 3, ip1, 0, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "not_allowed") == 0,
	    "not on the allowlist: PERMISSION_DENIED");
	ok(reserve(&p, 0, ip1, 0, NULL) == CIRCUIT_OK &&
	    reserve(&p, 1, ip1, 0, NULL) == CIRCUIT_OK,
	    "on the allowlist: granted");
	blockid[0] = peers[1];
	policy_configure(&p, &rc);
	ok(reserve(&p, 1, ip1, 0, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "blocked") == 0,
	    "the blocklist wins over the allowlist");
	ok(rm.n == 2 && strcmp(rm.why, "blocked") == 0 &&
	    peerid_equal(&rm.last, &peers[1]) && p.nrsvps == 1 &&
	    policy_rsvp(&p, &peers[0]) != NULL,
	    "reload: a newly blocked peer loses its reservation at once");
	ok(connect_(&p, 1, 0, 0, NULL, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "blocked") == 0, "connect from a blocked peer");
	ok(connect_(&p, 3, 0, 0, NULL, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "not_allowed") == 0,
	    "connect from a peer not on the allowlist");
	rc.nallow = 0;
	policy_configure(&p, &rc);
	ok(reserve(&p, 3, ip1, 0, NULL) == CIRCUIT_OK,
	    "allowlist emptied on reload: open again");
	ok(connect_(&p, 0, 1, 0, NULL, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "blocked") == 0, "connect to a blocked peer");
	policy_free(&p);
}

/*
 * The operator guide's relay.blockTrustedlist, through the parser and
 * the part of the configuration the parent sends relayd.
 */
static void
test_alias(void)
{
	struct policy		 p;
	struct removal		 rm;
	struct peerd_conf	*conf;
	struct relayd_conf	 rc;
	char			 buf[1024], err[CONF_ERRLEN];
	const char		*why;
	int			 n;

	n = snprintf(buf, sizeof(buf), "{\"relay\": {\"blockTrustedlist\": "
	    "[\"%s\"], \"blocklist\": [\"%s\"]}}", peerstr[4], peerstr[5]);
	conf = config_parse(buf, n, "test", err, sizeof(err));
	ok(conf != NULL, "config with blockTrustedlist parses");
	if (conf == NULL) {
		printf("# %s\n", err);
		return;
	}
	memset(&rc, 0, sizeof(rc));
	config_part_relay(conf, &rc.lim);
	rc.allow = conf->relay.allowlist.id;
	rc.nallow = conf->relay.allowlist.text.n;
	rc.block = conf->relay.blocklist.id;
	rc.nblock = conf->relay.blocklist.text.n;
	ok(rc.lim.enabled && rc.lim.hop_enabled &&
	    rc.lim.reservations_max == 1000 && rc.nallow == 0 &&
	    rc.nblock == 2, "relayd's part: the defaults, two blocked");
	setup(&p, &rc, &rm);
	ok(reserve(&p, 4, ip1, 0, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "blocked") == 0, "blockTrustedlist blocks");
	ok(reserve(&p, 5, ip1, 0, &why) == CIRCUIT_PERMISSION_DENIED &&
	    strcmp(why, "blocked") == 0, "blocklist beside it blocks too");
	ok(reserve(&p, 6, ip1, 0, NULL) == CIRCUIT_OK, "others are not");
	policy_free(&p);
	config_free(conf);
}

static void
test_max(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	const char		*why;

	conf_default(&rc);
	rc.lim.reservations_max = 2;
	setup(&p, &rc, &rm);
	ok(reserve(&p, 0, ip1, 0, NULL) == CIRCUIT_OK &&
	    reserve(&p, 1, ip2, 0, NULL) == CIRCUIT_OK, "two of two");
	ok(reserve(&p, 2, ip1, 0, &why) == CIRCUIT_RESERVATION_REFUSED &&
	    strcmp(why, "too_many_reservations") == 0,
	    "a third: RESERVATION_REFUSED, as go-libp2p");
	ok(reserve(&p, 0, ip1, 1000, NULL) == CIRCUIT_OK,
	    "a refresh does not count against the maximum");
	ok(p.nrsvps == 2, "the table holds at most reservations.max");
	rc.lim.reservations_max = 1;
	policy_configure(&p, &rc);
	ok(p.nrsvps == 2 && reserve(&p, 1, ip2, 0, NULL) == CIRCUIT_OK,
	    "a lower maximum keeps what is held; refreshes still pass");
	ok(policy_unreserve(&p, &peers[1]) == 0 &&
	    reserve(&p, 1, ip2, 0, NULL) == CIRCUIT_RESERVATION_REFUSED,
	    "but a new one waits until below it");
	rc.lim.reservations_max = 0;
	policy_configure(&p, &rc);
	ok(reserve(&p, 2, ip1, 0, NULL) == CIRCUIT_RESERVATION_REFUSED,
	    "max 0 grants none");
	policy_free(&p);
}

static void
test_per_ip(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	const char		*why;

	conf_default(&rc);
	rc.lim.reservations_per_ip = 2;
	setup(&p, &rc, &rm);
	ok(reserve(&p, 0, ip1, 0, NULL) == CIRCUIT_OK &&
	    reserve(&p, 1, ip1, 0, NULL) == CIRCUIT_OK, "two from one IP");
	ok(reserve(&p, 2, ip1, 0, &why) == CIRCUIT_RESERVATION_REFUSED &&
	    strcmp(why, "too_many_reservations_for_ip") == 0,
	    "a third from it: RESERVATION_REFUSED, as go-libp2p");
	ok(reserve(&p, 2, ip2, 0, NULL) == CIRCUIT_OK,
	    "another IP is counted apart");
	ok(reserve(&p, 0, ip1, 0, NULL) == CIRCUIT_OK,
	    "a refresh from the same IP passes");
	ok(reserve(&p, 0, ip2, 0, NULL) == CIRCUIT_OK &&
	    reserve(&p, 3, ip2, 0, NULL) == CIRCUIT_RESERVATION_REFUSED,
	    "a peer moving IP is counted at its new one");
	ok(reserve(&p, 3, ip1, 0, NULL) == CIRCUIT_OK,
	    "and no longer at its old one");
	ok(policy_unreserve(&p, &peers[1]) == 0 &&
	    policy_unreserve(&p, &peers[3]) == 0 &&
	    policy_unreserve(&p, &peers[0]) == 0 &&
	    policy_unreserve(&p, &peers[2]) == 0 && RB_EMPTY(&p.ips),
	    "address counts go with their reservations");
	policy_free(&p);
}

static void
test_rate(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	struct policy_time	 t;
	const char		*why;
	int			 i, okn = 0;

	conf_default(&rc);
	rc.lim.rsvp_per_hour = 3;
	setup(&p, &rc, &rm);
	for (i = 0; i < 3; i++)
		okn += reserve(&p, 0, ip1, 0, NULL) == CIRCUIT_OK;
	ok(okn == 3, "three at once with reservationsPerHour 3");
	ok(reserve(&p, 0, ip1, 3000, &why) ==
	    CIRCUIT_RESOURCE_LIMIT_EXCEEDED && strcmp(why, "rate_limit") == 0,
	    "a fourth (refresh) in the hour: RESOURCE_LIMIT_EXCEEDED");
	ok(policy_rsvp(&p, &peers[0]) != NULL,
	    "the live reservation stays");
	ok(reserve(&p, 1, ip1, 3000, NULL) == CIRCUIT_OK,
	    "another peer has its own budget");
	ok(reserve(&p, 0, ip1, 1199999, NULL) ==
	    CIRCUIT_RESOURCE_LIMIT_EXCEEDED,
	    "just before a third of an hour: still refused");
	ok(reserve(&p, 0, ip1, 1200000, NULL) == CIRCUIT_OK,
	    "a third of an hour later one more is granted");
	ok(reserve(&p, 0, ip1, 1200001, NULL) ==
	    CIRCUIT_RESOURCE_LIMIT_EXCEEDED, "and only one");
	okn = 0;
	for (i = 0; i < 3; i++)
		okn += reserve(&p, 0, ip1, 1200000 + 3600000 + i,
		    NULL) == CIRCUIT_OK;
	ok(okn == 3, "after an idle hour the full budget is back");
	t = at(1200000 + 3 * 3600000);
	policy_sweep(&p, &t);
	ok(p.nrates == 0 && TAILQ_EMPTY(&p.rate_lru),
	    "full buckets are swept");
	rc.lim.rsvp_per_hour = 0;
	policy_configure(&p, &rc);
	okn = 0;
	for (i = 0; i < 50; i++)
		okn += reserve(&p, 0, ip1, 20000000, NULL) == CIRCUIT_OK;
	ok(okn == 50 && p.nrates == 0, "0: no limit, no table");
	policy_free(&p);
}

static void
test_expiry(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	struct policy_time	 t;
	const char		*why;

	conf_default(&rc);
	rc.lim.reservations_ttl = 5000;
	setup(&p, &rc, &rm);
	ok(reserve(&p, 0, ip1, 1000, NULL) == CIRCUIT_OK &&
	    reserve(&p, 1, ip1, 3000, NULL) == CIRCUIT_OK, "two, 2 s apart");
	t = at(5999);
	policy_expire(&p, &t);
	ok(p.nrsvps == 2 && rm.n == 0, "both live 1 ms before the first ends");
	t = at(6000);
	policy_expire(&p, &t);
	ok(p.nrsvps == 1 && rm.n == 1 && strcmp(rm.why, "expired") == 0 &&
	    peerid_equal(&rm.last, &peers[0]),
	    "the first expires at ttl exactly");
	ok(connect_(&p, 2, 0, 6000, NULL, &why) == CIRCUIT_NO_RESERVATION,
	    "an expired reservation admits no circuit");
	ok(connect_(&p, 2, 1, 7999, NULL, NULL) == CIRCUIT_OK,
	    "the second still does");
	ok(connect_(&p, 2, 1, 8000, NULL, &why) == CIRCUIT_NO_RESERVATION &&
	    rm.n == 2 && p.nrsvps == 0,
	    "expiry is checked on each request, not only by the timer");
	ok(reserve(&p, 0, ip1, 9000, NULL) == CIRCUIT_OK, "reserve again");
	ok(reserve(&p, 0, ip1, 12000, NULL) == CIRCUIT_OK, "refresh at 12 s");
	t = at(14000);
	policy_expire(&p, &t);
	ok(p.nrsvps == 1, "a refresh moves the deadline");
	t = at(17000);
	policy_expire(&p, &t);
	ok(p.nrsvps == 0 && rm.n == 3, "to ttl after the refresh");
	rc.lim.reservations_ttl = 2000;
	policy_configure(&p, &rc);
	ok(reserve(&p, 0, ip1, 20000, NULL) == CIRCUIT_OK &&
	    reserve(&p, 1, ip1, 19000, NULL) == CIRCUIT_OK, "new ttl");
	t = at(21000);
	policy_expire(&p, &t);
	ok(p.nrsvps == 1 && peerid_equal(&rm.last, &peers[1]),
	    "deadlines are kept in order of time, not of arrival");
	policy_free(&p);
}

static void
test_connect(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	struct relay_connect_res res;
	struct policy_time	 t = at(0);
	struct circuit		 c;
	const struct acct	*a;
	const char		*why;
	uint32_t		 id, id2;

	conf_default(&rc);
	setup(&p, &rc, &rm);
	ok(connect_(&p, 1, 0, 0, &id, &why) == CIRCUIT_NO_RESERVATION &&
	    strcmp(why, "no_reservation") == 0 && id == 0,
	    "no reservation: NO_RESERVATION");
	reserve(&p, 0, ip1, 0, NULL);
	ok(policy_connect(&p, &peers[1], &peers[0], &t, &res, &why) ==
	    CIRCUIT_OK && res.status == CIRCUIT_OK && res.circuit != 0 &&
	    why == NULL, "with a reservation: OK and a circuit ID");
	ok(res.limit_duration == 120 && res.limit_data == 131072,
	    "the circuit carries the limits");
	id = res.circuit;
	ok(connect_(&p, 2, 0, 0, &id2, NULL) == CIRCUIT_OK && id2 != id &&
	    p.ncircuits == 2, "circuit IDs differ");
	ok(policy_circuit_end(&p, 999, 1, 1, &t, &c) == -1,
	    "an unknown circuit is refused");
	t = at(42000);
	ok(policy_circuit_end(&p, id, 100, 2000, &t, &c) == 0 &&
	    c.id == id && peerid_equal(&c.src, &peers[1]) &&
	    peerid_equal(&c.dst, &peers[0]) && c.start == T0_MS &&
	    p.ncircuits == 1, "closing returns the circuit");
	ok(policy_circuit_end(&p, id, 1, 1, &t, &c) == -1,
	    "and only once");
	a = policy_acct(&p, &peers[1], T0_WALL / 86400);
	ok(a != NULL && a->bytes_out == 100 && a->bytes_in == 2000 &&
	    a->circuits == 1, "the source is accounted for the day");
	a = policy_acct(&p, &peers[0], T0_WALL / 86400);
	ok(a != NULL && a->bytes_out == 2000 && a->bytes_in == 100 &&
	    a->circuits == 1, "and the destination, the other way");
	policy_circuit_end(&p, id2, 5, 5, &t, &c);
	a = policy_acct(&p, &peers[0], T0_WALL / 86400);
	ok(a != NULL && a->bytes_out == 2005 && a->circuits == 2,
	    "a peer's day adds up");
	policy_free(&p);
}

static void
test_caps(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	struct policy_time	 t = at(0);
	struct circuit		 c;
	const char		*why;
	uint32_t		 ids[RELAY_MAX_CIRCUITS_PER_PEER];
	int			 i, okn = 0;

	conf_default(&rc);
	setup(&p, &rc, &rm);
	reserve(&p, 0, ip1, 0, NULL);
	reserve(&p, 1, ip1, 0, NULL);
	for (i = 0; i < RELAY_MAX_CIRCUITS_PER_PEER; i++)
		okn += connect_(&p, 2, 0, 0, &ids[i], NULL) == CIRCUIT_OK;
	ok(okn == RELAY_MAX_CIRCUITS_PER_PEER, "16 circuits from one peer");
	ok(connect_(&p, 2, 1, 0, NULL, &why) ==
	    CIRCUIT_RESOURCE_LIMIT_EXCEEDED &&
	    strcmp(why, "too_many_circuits_from_source") == 0,
	    "a 17th: RESOURCE_LIMIT_EXCEEDED");
	ok(connect_(&p, 3, 0, 0, NULL, &why) ==
	    CIRCUIT_RESOURCE_LIMIT_EXCEEDED &&
	    strcmp(why, "too_many_circuits_to_destination") == 0,
	    "the destination is capped the same, as go-libp2p");
	ok(connect_(&p, 3, 1, 0, NULL, NULL) == CIRCUIT_OK,
	    "other pairs are not");
	policy_circuit_end(&p, ids[0], 0, 0, &t, &c);
	ok(connect_(&p, 2, 1, 0, NULL, NULL) == CIRCUIT_OK,
	    "a closed circuit frees its place");
	policy_free(&p);

	conf_default(&rc);
	rc.lim.reservations_max = 1;
	setup(&p, &rc, &rm);
	reserve(&p, 0, ip1, 0, NULL);
	ok(policy_circuit_cap(&p) == RELAY_CIRCUITS_PER_RSVP,
	    "global cap: reservations.max * 4");
	okn = 0;
	for (i = 0; i < RELAY_CIRCUITS_PER_RSVP; i++)
		okn += connect_(&p, 1 + i, 0, 0, NULL, NULL) == CIRCUIT_OK;
	ok(okn == RELAY_CIRCUITS_PER_RSVP &&
	    connect_(&p, 10, 0, 0, NULL, &why) ==
	    CIRCUIT_RESOURCE_LIMIT_EXCEEDED &&
	    strcmp(why, "too_many_circuits") == 0,
	    "past the global cap: RESOURCE_LIMIT_EXCEEDED");
	rc.lim.reservations_max = 1000000;
	policy_configure(&p, &rc);
	ok(policy_circuit_cap(&p) == RELAY_MAX_CIRCUITS,
	    "and never more than RELAY_MAX_CIRCUITS");
	policy_free(&p);
}

static void
test_gone(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;

	conf_default(&rc);
	setup(&p, &rc, &rm);
	reserve(&p, 0, ip1, 0, NULL);
	reserve(&p, 1, ip1, 0, NULL);
	ok(policy_unreserve(&p, &peers[0]) == 0 && p.nrsvps == 1 &&
	    rm.n == 0, "a peer gone loses its reservation");
	ok(policy_unreserve(&p, &peers[0]) == -1, "only once");
	ok(connect_(&p, 1, 0, 0, NULL, NULL) == CIRCUIT_NO_RESERVATION,
	    "and admits no circuit");
	policy_free(&p);
}

static void
count_rsvp(const struct rsvp *r, void *arg)
{
	(*(int *)arg)++;
}

static void
test_bounds(void)
{
	struct policy		 p;
	struct relayd_conf	 rc;
	struct removal		 rm;
	struct relay_rsvp_res	 res;
	struct relay_connect_res cres;
	struct policy_time	 t = at(0);
	struct circuit		 c;
	struct peerid		 id;
	uint8_t			 ip[16];
	const char		*why;
	uint32_t		 i;
	int			 n = 0, okn = 0;

	conf_default(&rc);
	rc.lim.reservations_max = 20000;
	rc.lim.reservations_per_ip = 1000000;
	rc.lim.rsvp_per_hour = 5;
	setup(&p, &rc, &rm);
	memcpy(ip, ip1, sizeof(ip));
	for (i = 0; i < RELAY_RATE_MAX + 100; i++) {
		id = bulk_peer(i);
		okn += policy_reserve(&p, &id, ip, &t, &res, &why) ==
		    CIRCUIT_OK;
	}
	ok(okn == RELAY_RATE_MAX + 100 && p.nrates == RELAY_RATE_MAX,
	    "the rate table stays at RELAY_RATE_MAX");
	policy_rsvp_foreach(&p, count_rsvp, &n);
	ok(n == RELAY_RATE_MAX + 100, "foreach visits every reservation");
	id = bulk_peer(0);
	okn = 0;
	for (i = 0; i < RELAY_ACCT_MAX + 10; i++) {
		struct peerid src = bulk_peer(100000 + i);

		if (policy_connect(&p, &src, &id, &t, &cres, &why) ==
		    CIRCUIT_OK &&
		    policy_circuit_end(&p, cres.circuit, 1, 1, &t, &c) == 0)
			okn++;
	}
	ok(okn == RELAY_ACCT_MAX + 10 && p.naccts == RELAY_ACCT_MAX,
	    "the accounting table stays at RELAY_ACCT_MAX");
	ok(p.ncircuits == 0 && RB_EMPTY(&p.peercounts),
	    "circuit counts return to nothing");
	policy_free(&p);
}

int
main(void)
{
	make_peers();
	test_grant();
	test_disabled();
	test_lists();
	test_alias();
	test_max();
	test_per_ip();
	test_rate();
	test_expiry();
	test_connect();
	test_caps();
	test_gone();
	test_bounds();
	return tap_done();
}
