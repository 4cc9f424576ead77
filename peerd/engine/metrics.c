/*
 * The Prometheus exposition of the engine's figures: a placeholder
 * until the metrics land, so that GET /metrics has its contract.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "engine.h"

static const char placeholder[] =
    "# HELP peerd_up Whether the engine answers.\n"
    "# TYPE peerd_up gauge\n"
    "peerd_up 1\n";

int
metrics_render(struct bq *out)
{
	return bq_append(out, placeholder, strlen(placeholder), SIZE_MAX);
}
