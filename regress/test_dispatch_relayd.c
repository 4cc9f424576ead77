/*
 * relayd's dispatcher against the message table (dispatch_check.h), and
 * its budget of reservations waiting for keyd's voucher
 * (relay.maxPendingVouchers): at the budget a reservation is refused,
 * keyd_busy, counted; an answer frees a place; a lower budget on reload
 * takes no place back but lets no new one in until it holds.
 */
#include <fcntl.h>

#define main relayd_main
int	 relayd_main(int, char *[]);
#include "../relayd/relayd.c"
#undef main
#include "dispatch_check.h"

static const struct var_type	 vars[] = {
	{ IMSG_KEY_VOUCHER, 0, RELAY_VOUCHER_MAX, "keyd's signed envelope, "
	    "empty when keyd refused to sign" },
	{ 0, 0, 0, NULL }
};

static struct relay_rsvp_req	 rsvp[2];
static struct relay_connect_req	 conn[2];
static struct relay_peer_gone	 gone[3];
static struct reconf_peerid	 rpid[3];

#define F(t, w, v, fatal)	{ t, w, &(v), sizeof(v), fatal }
static const struct var_form	 forms[] = {
	{ IMSG_KEY_VOUCHER, "a voucher of one byte", "", 1, 0 },
	F(IMSG_RELAY_RESERVE, "a peer ID of length 0", rsvp[0], 1),
	F(IMSG_RELAY_RESERVE, "a peer ID past its array", rsvp[1], 1),
	F(IMSG_RELAY_CONNECT, "a source past its array", conn[0], 1),
	F(IMSG_RELAY_CONNECT, "a target of length 0", conn[1], 1),
	F(IMSG_RELAY_PEER_GONE, "a peer without a reservation", gone[0], 0),
	F(IMSG_RELAY_PEER_GONE, "a peer ID of length 0", gone[1], 1),
	F(IMSG_RELAY_PEER_GONE, "a peer ID past its array", gone[2], 1),
	F(IMSG_RECONF_PEERID, "a peer to allow", rpid[0], 0),
	F(IMSG_RECONF_PEERID, "a peer ID past its array", rpid[1], 1),
	F(IMSG_RECONF_PEERID, "a list of the engine's", rpid[2], 1),
	{ 0, NULL, NULL, 0, 0 }
};

static void
forms_init(void)
{
	uint8_t		 pk[32] = { 7 }, pb[ED25519_PUBKEY_PB_LEN];
	struct peerid	 id;
	int		 i;

	peerid_from_pubkey_pb(pb, pb_ed25519_pubkey(pk, pb, sizeof(pb)), &id);
	for (i = 0; i < 2; i++) {
		rsvp[i].peer = id;
		conn[i].src = conn[i].dst = id;
	}
	rsvp[0].peer.len = 0;
	rsvp[1].peer.len = PEERID_MAXLEN + 1;
	conn[0].src.len = PEERID_MAXLEN + 1;
	conn[1].dst.len = 0;
	for (i = 0; i < 3; i++) {
		gone[i].peer = id;
		rpid[i].id = id;
		rpid[i].list = RECONF_ALLOW;
	}
	gone[1].peer.len = 0;
	gone[2].peer.len = PEERID_MAXLEN + 1;
	rpid[1].id.len = PEERID_MAXLEN + 1;
	rpid[2].list = RECONF_PROTECTED;
}

static struct imsgbuf	 engine_end, keyd_end;
static uint32_t		 asked[16];	/* voucher requests keyd got */
static int		 nasked, granted, refused;

static void
channel(enum proc_id id, struct imsgbuf *end)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		fatal("socketpair");
	imsgev_init(&child->iev[id], sv[0], NULL, NULL);
	imsgbuf_init(end, sv[1]);
}

/* What relayd sent keyd and the engine since the last look. */
static void
collect(void)
{
	struct relay_rsvp_res	 res;
	struct imsg		 m;

	imsgbuf_write(&child->iev[PROC_KEYD].ibuf);
	imsgbuf_write(&child->iev[PROC_ENGINE].ibuf);
	imsgbuf_read(&keyd_end);
	imsgbuf_read(&engine_end);
	while (imsg_get(&keyd_end, &m) > 0) {
		if (m.hdr.type == IMSG_KEY_SIGN_VOUCHER && nasked < 16)
			asked[nasked++] = imsg_get_id(&m);
		imsg_free(&m);
	}
	while (imsg_get(&engine_end, &m) > 0) {
		if (m.hdr.type == IMSG_RELAY_RESERVE_RES &&
		    imsg_get_data(&m, &res, sizeof(res)) == 0) {
			if (res.status == CIRCUIT_OK && res.voucherlen > 0)
				granted++;
			else
				refused++;
		}
		imsg_free(&m);
	}
}

static void
reserve(int n)
{
	struct relay_rsvp_req	 req;
	struct imsg		 imsg;
	uint8_t			 pk[32], pb[ED25519_PUBKEY_PB_LEN];

	memset(&req, 0, sizeof(req));
	memset(pk, 0, sizeof(pk));
	pk[0] = n;
	pb_ed25519_pubkey(pk, pb, sizeof(pb));
	peerid_from_pubkey_pb(pb, sizeof(pb), &req.peer);
	req.ip[15] = n;
	req.conn = n;
	memset(&imsg, 0, sizeof(imsg));
	imsg.hdr.type = IMSG_RELAY_RESERVE;
	imsg.hdr.len = IMSG_HEADER_SIZE + sizeof(req);
	imsg.hdr.id = n;
	imsg.fd = -1;
	imsg.data = &req;
	child_receive(PROC_ENGINE, &imsg);
	collect();
}

/* keyd's answer to the i-th request: a voucher, or none (refused). */
static void
answer(int i, int sign)
{
	struct imsg	 imsg;
	uint8_t		 v[8] = { 1 };

	memset(&imsg, 0, sizeof(imsg));
	imsg.hdr.type = IMSG_KEY_VOUCHER;
	imsg.hdr.len = IMSG_HEADER_SIZE + (sign ? sizeof(v) : 0);
	imsg.hdr.id = asked[i];
	imsg.fd = -1;
	imsg.data = sign ? v : NULL;
	child_receive(PROC_KEYD, &imsg);
	collect();
}

static void
configure(int64_t max)
{
	memset(&rd.conf, 0, sizeof(rd.conf));
	rd.conf.lim.enabled = 1;
	rd.conf.lim.hop_enabled = 1;
	rd.conf.lim.reservations_max = 1000;
	rd.conf.lim.reservations_ttl = 3600000;
	rd.conf.lim.reservations_per_ip = 1000;
	rd.conf.lim.max_pending_vouchers = max;
	rd.have_conf = 1;
	relayd_configure();
}

static uint64_t
busy(void)
{
	size_t	 i;

	for (i = 0; i < counts.rsvp_why.n; i++)
		if (strcmp(counts.rsvp_why.r[i].name, "keyd_busy") == 0)
			return counts.rsvp_why.r[i].n;
	return 0;
}

static void
test_pending(void)
{
	uint8_t	 pk[32] = { 9 }, pb[ED25519_PUBKEY_PB_LEN];
	int	 i;

	log_init(1, 0);
	log_procinit("relayd");
	channel(PROC_ENGINE, &engine_end);
	channel(PROC_KEYD, &keyd_end);
	pb_ed25519_pubkey(pk, pb, sizeof(pb));
	peerid_from_pubkey_pb(pb, sizeof(pb), &rd.self);
	rd.have_self = 1;
	configure(4);
	for (i = 1; i <= 6; i++)
		reserve(i);
	ok(nasked == 4 && rd.npending == 4 && refused == 2 && busy() == 2,
	    "at relay.maxPendingVouchers 4, 4 of 6 reservations wait for "
	    "keyd, 2 are refused as keyd_busy (%d asked, %zu waiting, %d "
	    "refused, %llu counted)", nasked, rd.npending, refused,
	    (unsigned long long)busy());
	answer(0, 1);
	answer(1, 0);
	ok(granted == 1 && refused == 3 && rd.npending == 2,
	    "a voucher grants its reservation, a refusal refuses it, each "
	    "frees its place (%d granted, %d refused, %zu waiting)", granted,
	    refused, rd.npending);
	reserve(7);
	reserve(8);
	reserve(9);
	ok(nasked == 6 && rd.npending == 4 && busy() == 3,
	    "the places freed are taken again, and no more (%d asked, %zu "
	    "waiting)", nasked, rd.npending);
	configure(2);
	reserve(10);
	ok(rd.npending == 4 && busy() == 4, "a lower budget on reload takes "
	    "no waiting reservation back, and lets no new one in (%zu "
	    "waiting)", rd.npending);
	for (i = 2; i < 5; i++)
		answer(i, 1);
	reserve(11);
	ok(granted == 4 && rd.npending == 2 && nasked == 7,
	    "once fewer wait than the budget a new one is taken (%d granted, "
	    "%zu waiting, %d asked)", granted, rd.npending, nasked);
	relayd_shutdown();
	ok(rd.npending == 0 && TAILQ_EMPTY(&rd.pending),
	    "at shutdown every waiting reservation is freed");
	imsgev_clear(&child->iev[PROC_ENGINE]);
	imsgev_clear(&child->iev[PROC_KEYD]);
	imsgbuf_clear(&engine_end);
	imsgbuf_clear(&keyd_end);
	memset(&counts, 0, sizeof(counts));
	rd.have_self = 0;
}

int
main(void)
{
	event_init();
	TAILQ_INIT(&rd.pending);
	policy_init(&rd.pol);
	child = &relayd_child;
	test_pending();
	policy_init(&rd.pol);
	forms_init();
	return dispatch_check(relayd_child.id, child_receive, vars, forms);
}
