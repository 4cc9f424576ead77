/*
 * The state every layer of the engine reads: the counters, the bounds
 * of the configuration and our identity.  The engine fills the bounds
 * at each load and the identity once keyd has told it; nothing here
 * calls anything.
 */
#include <sys/types.h>

#include "engine.h"

struct engine_counters	 counters;
/* as the engine has them before the first configuration */
struct conn_limits	 conn_limits = {
	.max_streams = 256,
	.upgrade_timeout = 10
};
struct engine_identity	 ident;
