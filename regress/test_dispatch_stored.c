/*
 * stored's dispatcher against the message table (dispatch_check.h), on a
 * store of its own in a temporary directory.
 */
#include <stdlib.h>

#define main stored_main
int	 stored_main(int, char *[]);
#include "../stored/stored.c"
#undef main
#include "dispatch_check.h"

/* An update: its head, then a record of version ver and its fields. */
struct upd_form {
	struct store_peer_upd	 hdr;
	uint8_t			 rec[8];
};

static struct upd_form	 upds[7];
static struct store_acct	 accts[3];

static const struct var_type	 vars[] = {
	/* the head, then at least the record's version byte */
	{ IMSG_STORE_PEER, sizeof(struct store_peer_upd) + 1,
	    sizeof(struct store_peer_upd) + REC_MAXLEN, NULL },
	{ 0, 0, 0, NULL }
};

#define UPD(i, n)	&upds[i], sizeof(struct store_peer_upd) + (n)
static const struct var_form	 forms[] = {
	{ IMSG_STORE_PEER, "a record of its version alone", UPD(0, 1), 0 },
	{ IMSG_STORE_PEER, "a peer ID of length 0", UPD(1, 1), 1 },
	{ IMSG_STORE_PEER, "a peer ID longer than its array", UPD(2, 1), 1 },
	{ IMSG_STORE_PEER, "an update kind 0", UPD(3, 1), 1 },
	{ IMSG_STORE_PEER, "an update kind past the last", UPD(4, 1), 1 },
	{ IMSG_STORE_PEER, "a record of an unknown version", UPD(5, 1), 1 },
	{ IMSG_STORE_PEER, "a field claiming 16 bytes, 1 there", UPD(6, 4),
	    1 },
	{ IMSG_STORE_ACCT, "a day of a peer", &accts[0], sizeof(accts[0]), 0 },
	{ IMSG_STORE_ACCT, "a peer ID of length 0", &accts[1], sizeof(accts[1]),
	    1 },
	{ IMSG_STORE_ACCT, "a peer ID past its array", &accts[2],
	    sizeof(accts[2]), 1 },
	{ 0, NULL, NULL, 0, 0 }
};

static void
forms_init(void)
{
	int	 i;

	for (i = 0; i < 7; i++) {
		memset(&upds[i], 0, sizeof(upds[i]));
		upds[i].hdr.peer.len = 38;
		memset(upds[i].hdr.peer.mh, i + 1, 38);
		upds[i].hdr.kind = UPD_CONNECTED;
		upds[i].rec[0] = REC_VERSION;
	}
	upds[1].hdr.peer.len = 0;
	upds[2].hdr.peer.len = PEERID_MAXLEN + 1;
	upds[3].hdr.kind = 0;
	upds[4].hdr.kind = UPD_DISCOVERED + 1;
	upds[5].rec[0] = REC_VERSION + 1;
	memcpy(upds[6].rec + 1, "\x0a\x10x", 3);
	for (i = 0; i < 3; i++) {
		accts[i].acct.peer = upds[0].hdr.peer;
		accts[i].acct.rsvps = 1;
	}
	accts[1].acct.peer.len = 0;
	accts[2].acct.peer.len = PEERID_MAXLEN + 1;
}

int
main(void)
{
	char	 dir[] = "/tmp/peerd-dispatch-XXXXXX";
	int	 r;

	if (mkdtemp(dir) == NULL || chdir(dir) == -1)
		err(1, "%s", dir);
	event_init();
	store_open(1 << 20, dir, &rec_hooks);
	child = &stored_child;
	forms_init();
	r = dispatch_check(stored_child.id, child_receive, vars, forms);
	unlink("data.mdb");
	unlink("lock.mdb");
	rmdir(dir);
	return r;
}
