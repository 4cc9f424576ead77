/*
 * show metrics: its chunks, and the output that prints them (metrics.c).
 */
#ifndef PEERCTL_METRICS_OUT_H
#define PEERCTL_METRICS_OUT_H

#include <stddef.h>

#include "output.h"

void			 metrics_chunk(const void *, size_t);
const struct output	*metrics_output_for(int);

#endif /* PEERCTL_METRICS_OUT_H */
