/*
 * The engine's dispatcher against the message table (dispatch_check.h).
 */
#include "../peerd/engine/engine.c"
#include "dispatch_check.h"

static const struct var_type	 vars[] = {
	{ IMSG_KEY_RECORD, 0, VAR_ANY, "keyd's signed envelope, kept as it "
	    "is; empty when keyd refused to sign" },
	/* a NUL-terminated string each */
	{ IMSG_LISTEN, 1, MADDR_STRMAX, NULL },
	{ IMSG_ADMIN_SOCKET, 1, 64, NULL },
	{ IMSG_DAPI_SOCKET, 1, PATH_MAX + 8, NULL },
	{ 0, 0, 0, NULL }
};

static struct relay_rsvp_res	 rsvp[2];
static struct store_cand	 cand[5];
static struct store_ban_op	 ban[7];
static struct reconf_maddr	 rma[2];
static struct reconf_peerid	 rpid[3];
static struct reconf_topic	 topic[3];

#define F(t, w, v, fatal)	{ t, w, &(v), sizeof(v), fatal }
static const struct var_form	 forms[] = {
	{ IMSG_LISTEN, "not terminated", "/ip4/127.0.0.1/tcp/1", 20, 1 },
	{ IMSG_LISTEN, "a NUL inside", "/ip4/127.0.0.1\0/tcp/1", 22, 1 },
	{ IMSG_LISTEN, "not a multiaddr", "/ip4/localhost/tcp/1", 21, 1 },
	{ IMSG_ADMIN_SOCKET, "not terminated", "127.0.0.1:1", 11, 1 },
	{ IMSG_ADMIN_SOCKET, "a NUL inside", "127.0.0.1\0:1", 13, 1 },
	{ IMSG_DAPI_SOCKET, "not terminated", "/unix/tmp/p2pd.sock", 19, 1 },
	{ IMSG_DAPI_SOCKET, "a NUL inside", "/unix/tmp\0/p2pd.sock", 21, 1 },
	F(IMSG_RELAY_RESERVE_RES, "a voucher of its array", rsvp[0], 0),
	F(IMSG_RELAY_RESERVE_RES, "a voucher past its array", rsvp[1], 1),
	F(IMSG_STORE_CANDIDATE, "one address", cand[0], 0),
	F(IMSG_STORE_CANDIDATE, "a peer ID of length 0", cand[1], 1),
	F(IMSG_STORE_CANDIDATE, "a peer ID past its array", cand[2], 1),
	F(IMSG_STORE_CANDIDATE, "more addresses than its array", cand[3], 1),
	F(IMSG_STORE_CANDIDATE, "an address past its array", cand[4], 1),
	F(IMSG_STORE_BAN, "a /24", ban[0], 0),
	F(IMSG_STORE_BAN, "a removal", ban[1], 1),
	F(IMSG_STORE_BAN, "a peer ID of length 0", ban[2], 1),
	F(IMSG_STORE_BAN, "a peer ID past its array", ban[3], 1),
	F(IMSG_STORE_BAN, "a prefix of 129 bits", ban[4], 1),
	F(IMSG_STORE_BAN, "a prefix of -1 bits", ban[5], 1),
	F(IMSG_STORE_BAN, "an unknown kind", ban[6], 1),
	F(IMSG_RECONF_MADDR, "an address to announce", rma[0], 0),
	F(IMSG_RECONF_MADDR, "an address past its array", rma[1], 1),
	F(IMSG_RECONF_PEERID, "a protected peer", rpid[0], 0),
	F(IMSG_RECONF_PEERID, "a peer ID past its array", rpid[1], 1),
	F(IMSG_RECONF_PEERID, "a list of relayd's", rpid[2], 1),
	F(IMSG_RECONF_TOPIC, "a topic", topic[0], 0),
	F(IMSG_RECONF_TOPIC, "an empty topic", topic[1], 1),
	F(IMSG_RECONF_TOPIC, "a topic without its NUL", topic[2], 1),
	{ 0, NULL, NULL, 0, 0 }
};

static void
forms_init(void)
{
	uint8_t		 pk[32] = { 7 }, pb[ED25519_PUBKEY_PB_LEN];
	struct peerid	 id;
	char		 err[128];
	size_t		 i;

	peerid_from_pubkey_pb(pb, pb_ed25519_pubkey(pk, pb, sizeof(pb)), &id);
	rsvp[0].voucherlen = RELAY_VOUCHER_MAX;
	rsvp[1].voucherlen = RELAY_VOUCHER_MAX + 1;
	for (i = 0; i < 5; i++) {
		cand[i].peer = id;
		cand[i].naddrs = 1;
	}
	cand[1].peer.len = 0;
	cand[2].peer.len = PEERID_MAXLEN + 1;
	cand[3].naddrs = PREC_MAXADDRS + 1;
	cand[4].addrs[0].len = PREC_ADDRMAX + 1;
	for (i = 0; i < 7; i++) {
		ban[i].add = 1;
		ban[i].ban.kind = BAN_NET;
		ban[i].ban.prefix = 24 + 96;
		ban[i].ban.peer = id;
	}
	ban[1].add = 0;
	ban[2].ban.kind = ban[3].ban.kind = BAN_PEER;
	ban[2].ban.peer.len = 0;
	ban[3].ban.peer.len = PEERID_MAXLEN + 1;
	ban[4].ban.prefix = 129;
	ban[5].ban.prefix = -1;
	ban[6].ban.kind = BAN_NET + 1;
	for (i = 0; i < 2; i++) {
		rma[i].list = RECONF_ANNOUNCE;
		if (maddr_parse("/ip4/127.0.0.1/tcp/4001", &rma[i].ma, err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
	}
	rma[1].ma.len = MADDR_MAXLEN + 1;
	for (i = 0; i < 3; i++) {
		rpid[i].list = RECONF_PROTECTED;
		rpid[i].id = id;
	}
	rpid[1].id.len = PEERID_MAXLEN + 1;
	rpid[2].list = RECONF_ALLOW;
	strlcpy(topic[0].topic, "/t", sizeof(topic[0].topic));
	memset(topic[2].topic, 't', sizeof(topic[2].topic));
}

int
main(void)
{
	event_init();
	child = &engine_child;
	forms_init();
	return dispatch_check(engine_child.id, child_receive, vars, forms);
}
