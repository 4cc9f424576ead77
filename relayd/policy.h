/*
 * The relay policy: reservations, circuit admission, rate limits and
 * accounting.  Pure functions of the settings and an explicit clock;
 * relayd.c does the messages and the timers.
 */
#ifndef PEERD_POLICY_H
#define PEERD_POLICY_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "peerid.h"

#define RELAY_MAX_CIRCUITS_PER_PEER	16	/* as source or destination */
#define RELAY_CIRCUITS_PER_RSVP		4	/* global cap: this * max */
#define RELAY_MAX_CIRCUITS		65536	/* and never more than this */
#define RELAY_RATE_MAX			8192	/* rate limit entries */
#define RELAY_ACCT_MAX			1024	/* peer-day accounting entries */

/* relayd's part of the configuration, as the parent sends it. */
struct relayd_conf {
	struct reconf_relay	 lim;
	struct peerid		*allow;		/* in the order given */
	size_t			 nallow;
	struct peerid		*block;
	size_t			 nblock;
};

struct policy_time {
	int64_t		 ms;		/* CLOCK_MONOTONIC, milliseconds */
	int64_t		 wall;		/* unix seconds */
};

struct rsvp {
	RB_ENTRY(rsvp)	 by_peer;
	RB_ENTRY(rsvp)	 by_deadline;
	struct peerid	 peer;
	uint8_t		 ip[16];
	int64_t		 deadline;	/* monotonic ms */
	int64_t		 expire;	/* unix seconds */
	int64_t		 created;	/* unix seconds, first reservation */
};

struct circuit {
	RB_ENTRY(circuit) entry;
	uint32_t	 id;
	struct peerid	 src;
	struct peerid	 dst;
	int64_t		 start;		/* monotonic ms */
};

/* Relayed bytes and circuits of one peer on one UTC day. */
struct acct {
	RB_ENTRY(acct)	 entry;
	TAILQ_ENTRY(acct) lru;
	struct peerid	 peer;
	int64_t		 day;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 circuits;
};

RB_HEAD(rsvp_peers, rsvp);
RB_HEAD(rsvp_deadlines, rsvp);
RB_HEAD(ipcounts, ipcount);
RB_HEAD(rates, rate);
TAILQ_HEAD(rate_lru, rate);
RB_HEAD(circuits, circuit);
RB_HEAD(peercounts, peercount);
RB_HEAD(accts, acct);
TAILQ_HEAD(acct_lru, acct);

struct policy {
	int			 enabled;
	int			 hop;
	int64_t			 rsvp_max;
	int64_t			 rsvp_ttl;		/* ms */
	int64_t			 rsvp_per_ip;
	int64_t			 rsvp_per_hour;		/* 0: no limit */
	int64_t			 limit_duration;	/* ms, 0: none */
	int64_t			 limit_data;		/* bytes, 0: none */
	struct peerid		*allow;			/* sorted */
	size_t			 nallow;
	struct peerid		*block;			/* sorted */
	size_t			 nblock;

	struct rsvp_peers	 rsvps;
	struct rsvp_deadlines	 deadlines;
	struct ipcounts		 ips;
	size_t			 nrsvps;
	struct rates		 rates;
	struct rate_lru		 rate_lru;
	size_t			 nrates;
	struct circuits		 circuits;
	struct peercounts	 peercounts;
	size_t			 ncircuits;
	uint32_t		 next_circuit;
	struct accts		 accts;
	struct acct_lru		 acct_lru;
	size_t			 naccts;

	/* told of each reservation that expires or a reload removes */
	void			(*removed)(const struct rsvp *, const char *,
				    void *);
	void			*arg;
};

void	 policy_init(struct policy *);
void	 policy_free(struct policy *);
int	 policy_configure(struct policy *, const struct relayd_conf *);
void	 policy_expire(struct policy *, const struct policy_time *);
void	 policy_sweep(struct policy *, const struct policy_time *);

int	 policy_reserve(struct policy *, const struct peerid *,
	    const uint8_t [16], const struct policy_time *,
	    struct relay_rsvp_res *, const char **);
int	 policy_unreserve(struct policy *, const struct peerid *);
const struct rsvp *policy_rsvp(struct policy *, const struct peerid *);
void	 policy_rsvp_foreach(struct policy *,
	    void (*)(const struct rsvp *, void *), void *);

int	 policy_connect(struct policy *, const struct peerid *,
	    const struct peerid *, const struct policy_time *,
	    struct relay_connect_res *, const char **);
int	 policy_circuit_end(struct policy *, uint32_t, uint64_t, uint64_t,
	    const struct policy_time *, struct circuit *);
size_t	 policy_circuit_cap(const struct policy *);
const struct acct *policy_acct(struct policy *, const struct peerid *,
	    int64_t);

uint32_t policy_seconds(int64_t);

#endif /* PEERD_POLICY_H */
