/*
 * relayd: the relay's control plane.  It holds the relay settings and,
 * with the relay issue, decides on reservations and circuits.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

static void
relayd_configure(struct peerd_conf *nconf, struct peerd_conf *oconf)
{
	const struct relay_conf *r = &nconf->relay;

	log_debug("relay %s, hop %s, %lld reservations of %lld ms, "
	    "%zu allowed, %zu blocked", r->enabled ? "on" : "off",
	    r->hop_enabled ? "on" : "off", (long long)r->reservations_max,
	    (long long)r->reservations_ttl, r->allowlist.n, r->blocklist.n);
}

static void
relayd_status(struct ctl_proc *p)
{
	const struct relay_conf *r;

	if (child->conf == NULL) {
		strlcpy(p->state, "starting", sizeof(p->state));
		return;
	}
	r = &child->conf->relay;
	snprintf(p->detail, sizeof(p->detail), "relay %s, hop %s, "
	    "0/%lld reservations, ttl %lld ms, %zu allowed, %zu blocked",
	    r->enabled ? "on" : "off", r->hop_enabled ? "on" : "off",
	    (long long)r->reservations_max, (long long)r->reservations_ttl,
	    r->allowlist.n, r->blocklist.n);
}

static int
relayd_dispatch(enum proc_id from, struct imsg *imsg)
{
	return -1;
}

int
main(int argc, char *argv[])
{
	static struct child c = {
		.id = PROC_RELAYD,
		.dispatch = relayd_dispatch,
		.configure = relayd_configure,
		.status = relayd_status,
	};

	if (argc < 1)
		errx(1, "no arguments");
	child_start(&c, argc, argv);
	child_loop();
	return 0;
}
