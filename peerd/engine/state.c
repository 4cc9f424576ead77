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
	.upgrade_timeout = 10,
	.stream_buffer = 256 * 1024,
	.conn_buffer = 4 * 1024 * 1024,
	.total_buffer = 32 * 1024 * 1024,
	.stalled_timeout = 30,
	.max_pending_per_ip = 8,
	.ipv4_prefix = 32,
	.ipv6_prefix = 64,
	.ws_max_message = 1024 * 1024
};
struct bq_acct		 mem_total;
struct engine_identity	 ident;
