/*
 * Stand-ins for the parts of the engine around yamux, the streams and
 * the protocols: one connection, in state CS_OPEN, whose output is kept
 * in clear in stub_out instead of being sealed into Noise frames; a
 * clock that moves only when told; randomness that is all zeros.  The
 * relay (relay.c, relay_client.c) is not linked: proto_hop and
 * proto_stop are here, disabled, and rclient_addrs() has none.
 */
#ifndef PEERD_ENGINE_STUBS_H
#define PEERD_ENGINE_STUBS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engine.h"

extern time_t		 stub_now;	/* mono_now() */
extern int		 stub_congested;	/* conn_congested() forced */
extern int		 stub_max_streams;	/* conn_limits, at open */
extern size_t		 stub_out_max;	/* CONN_MAX_OUT, or smaller */
extern size_t		 stub_stream_buffer, stub_conn_buffer, stub_total_buffer;
extern struct bq	 stub_out;	/* everything conn_write() took */
extern int		 stub_closed;	/* connections closed */
extern char		 stub_close_reason[256];
extern int		 stub_ping_replies;	/* IMSG_CTL_PING_REPLY sent */
extern int		 stub_ping_done;	/* control_result(), _end() */
extern char		 stub_ping_err[256];	/* its last error, or "" */

/* Once per process: stream.c's upcalls, event base, RNG, addresses. */
void		 stub_init(void);
/* A fresh connection in CS_OPEN, as upgrade_open() leaves it. */
struct conn	*stub_conn_open(enum conn_dir);
/* The connection while it is open, else NULL. */
struct conn	*stub_conn(void);
/* Close it if open; forget the output and the counters. */
void		 stub_reset(void);
/* What conn_send() does when the socket took everything. */
void		 stub_drain(void);
/* Fire the n-th pending timer (mod their number); 0 if there is none. */
int		 stub_fire_timer(unsigned int);
/* Timers pending. */
int		 stub_timers(void);

#endif /* PEERD_ENGINE_STUBS_H */
