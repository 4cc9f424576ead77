/*
 * Field-by-field equality of decoded peer records, shared by the store
 * record test and its fuzz target.
 */
#ifndef PEERD_STOREREC_EQUAL_H
#define PEERD_STOREREC_EQUAL_H

#include <string.h>

#include "storerec.h"

static int
addr_same(const struct prec_addr *a, const struct prec_addr *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0 &&
	    a->last_ok == b->last_ok && a->last_fail == b->last_fail;
}

static int
prec_same(const struct peer_rec *a, const struct peer_rec *b)
{
	size_t	 i;

	if (a->sources != b->sources || strcmp(a->agent, b->agent) != 0 ||
	    a->nprotos != b->nprotos || a->naddrs != b->naddrs ||
	    a->first_seen != b->first_seen || a->last_seen != b->last_seen ||
	    a->last_ok != b->last_ok || a->last_fail != b->last_fail ||
	    a->fails != b->fails)
		return 0;
	for (i = 0; i < a->nprotos; i++)
		if (strcmp(a->protos[i], b->protos[i]) != 0)
			return 0;
	for (i = 0; i < a->naddrs; i++)
		if (!addr_same(&a->addrs[i], &b->addrs[i]))
			return 0;
	return 1;
}

#endif /* PEERD_STOREREC_EQUAL_H */
