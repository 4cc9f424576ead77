/*
 * Field by field comparison of decoded circuit relay messages, for the
 * codec test and the fuzz target.
 */
#ifndef PEERD_CIRCUIT_EQUAL_H
#define PEERD_CIRCUIT_EQUAL_H

#include <string.h>

#include "circuit.h"

static inline int
addrs_equal(const struct circuit_addrs *a, const struct circuit_addrs *b)
{
	struct multiaddr	 x, y;
	size_t			 i;

	if (a->naddrs != b->naddrs)
		return 0;
	for (i = 0; i < a->naddrs; i++)
		if (circuit_addr(a, i, &x) == -1 ||
		    circuit_addr(b, i, &y) == -1 || !maddr_equal(&x, &y))
			return 0;
	return 1;
}

static inline int
peer_equal(const struct circuit_peer *a, const struct circuit_peer *b)
{
	if (a->present != b->present)
		return 0;
	return !a->present ||
	    (peerid_equal(&a->id, &b->id) && addrs_equal(&a->addrs, &b->addrs));
}

static inline int
limit_equal(const struct circuit_limit *a, const struct circuit_limit *b)
{
	return a->present == b->present && a->duration == b->duration &&
	    a->data == b->data;
}

static inline int
rsvp_equal(const struct circuit_reservation *a,
    const struct circuit_reservation *b)
{
	if (a->present != b->present)
		return 0;
	if (!a->present)
		return 1;
	if (a->expire != b->expire || !addrs_equal(&a->addrs, &b->addrs) ||
	    (a->voucher == NULL) != (b->voucher == NULL) ||
	    a->voucherlen != b->voucherlen)
		return 0;
	return a->voucher == NULL || a->voucherlen == 0 ||
	    memcmp(a->voucher, b->voucher, a->voucherlen) == 0;
}

static inline int
hop_equal(const struct hop_msg *a, const struct hop_msg *b)
{
	return a->type == b->type && a->has_type == b->has_type &&
	    peer_equal(&a->peer, &b->peer) && rsvp_equal(&a->rsvp, &b->rsvp) &&
	    limit_equal(&a->limit, &b->limit) &&
	    a->has_status == b->has_status && a->status == b->status;
}

static inline int
stop_equal(const struct stop_msg *a, const struct stop_msg *b)
{
	return a->type == b->type && a->has_type == b->has_type &&
	    peer_equal(&a->peer, &b->peer) &&
	    limit_equal(&a->limit, &b->limit) &&
	    a->has_status == b->has_status && a->status == b->status;
}

#endif /* PEERD_CIRCUIT_EQUAL_H */
