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
	{ 0, 0, 0, NULL }
};

static const struct var_form	 forms[] = {
	{ IMSG_LISTEN, "not terminated", "/ip4/127.0.0.1/tcp/1", 20, 1 },
	{ IMSG_LISTEN, "a NUL inside", "/ip4/127.0.0.1\0/tcp/1", 22, 1 },
	{ IMSG_LISTEN, "not a multiaddr", "/ip4/localhost/tcp/1", 21, 1 },
	{ IMSG_ADMIN_SOCKET, "not terminated", "127.0.0.1:1", 11, 1 },
	{ IMSG_ADMIN_SOCKET, "a NUL inside", "127.0.0.1\0:1", 13, 1 },
	{ 0, NULL, NULL, 0, 0 }
};

int
main(void)
{
	event_init();
	child = &engine_child;
	return dispatch_check(engine_child.id, child_receive, vars, forms);
}
