/*
 * keyd: the only process that ever holds private key bytes.  It answers
 * narrow questions about the key and never signs what it cannot check.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd.h"
#include "log.h"
#include "peerid.h"
#include "proc.h"

static struct identity	*ident;
static struct key_public pub;

static void
keyd_load(void)
{
	char	 err[512];
	int	 r;

	if ((ident = sodium_malloc(sizeof(*ident))) == NULL)
		fatal("sodium_malloc");
	if ((r = keyfile_load(KEYFILE_NAME, ident, err, sizeof(err))) == -1)
		fatalx("identity key: %s", err);
	if (r == 1) {
		if (keyfile_create(KEYFILE_NAME, ident, err, sizeof(err)) == -1)
			fatalx("cannot create identity key: %s", err);
		log_info("created a new identity key in %s/%s",
		    child->opts.root, KEYFILE_NAME);
	}
	memcpy(pub.pubkey, ident->pk, sizeof(pub.pubkey));
	if (peerid_from_ed25519(pub.pubkey, pub.peerid, sizeof(pub.peerid)) ==
	    -1)
		fatalx("peer id does not fit");
	sodium_mprotect_noaccess(ident);
	log_info("identity %s", pub.peerid);
}

static int
keyd_dispatch(enum proc_id from, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_KEY_GET_PUBLIC:
		if (from != PROC_ENGINE && from != PROC_RELAYD)
			return -1;
		child_compose(from, IMSG_KEY_PUBLIC, imsg_get_peerid(imsg), -1,
		    &pub, sizeof(pub));
		return 0;
	default:
		return -1;
	}
}

static void
keyd_status(struct ctl_proc *p)
{
	snprintf(p->detail, sizeof(p->detail), "identity %s (Ed25519)",
	    pub.peerid);
}

static void
keyd_shutdown(void)
{
	sodium_free(ident);
	ident = NULL;
}

int
main(int argc, char *argv[])
{
	static struct child c = {
		.id = PROC_KEYD,
		.dispatch = keyd_dispatch,
		.status = keyd_status,
		.shutdown = keyd_shutdown,
	};

	if (sodium_init() == -1)
		errx(1, "sodium_init");
	child_start(&c, argc, argv);
	keyd_load();
	child_loop();
	return 0;
}
