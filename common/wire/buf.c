/*
 * Byte queues: data lives in [off, off + len) of one allocation that is
 * released as soon as the queue is empty, so idle connections cost
 * nothing here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void
bq_account(struct bq_acct *a, size_t add, size_t sub)
{
	for (; a != NULL; a = a->up)
		a->held = a->held + add - sub;
}

/*
 * Room for n more bytes, holding at most max in all; NULL with errno
 * EMSGSIZE when over, ENOMEM when there is no memory.
 */
uint8_t *
bq_reserve(struct bq *q, size_t n, size_t max)
{
	size_t	 need, ncap;
	uint8_t	*p;

	if (q->len > max || n > max - q->len) {
		errno = EMSGSIZE;
		return NULL;
	}
	need = q->len + n;
	if (q->off + need <= q->cap)
		return q->data + q->off + q->len;
	if (need <= q->cap) {
		memmove(q->data, q->data + q->off, q->len);
		q->off = 0;
		return q->data + q->len;
	}
	ncap = q->cap ? q->cap : 256;
	while (ncap < need && ncap <= max / 2)
		ncap *= 2;
	if (ncap < need || ncap > max)
		ncap = max;
	if (q->off != 0) {
		memmove(q->data, q->data + q->off, q->len);
		q->off = 0;
	}
	if ((p = realloc(q->data, ncap)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	bq_account(q->acct, ncap, q->cap);
	q->data = p;
	q->cap = ncap;
	return q->data + q->len;
}

/* Returns 0, or -1 when the queue would exceed max bytes (or no memory). */
int
bq_append(struct bq *q, const void *data, size_t n, size_t max)
{
	uint8_t	*p;

	if (n == 0)
		return 0;
	if ((p = bq_reserve(q, n, max)) == NULL)
		return -1;
	memcpy(p, data, n);
	q->len += n;
	return 0;
}

void
bq_consume(struct bq *q, size_t n)
{
	if (n >= q->len) {
		bq_free(q);
		return;
	}
	q->off += n;
	q->len -= n;
}

void
bq_free(struct bq *q)
{
	struct bq_acct	*a = q->acct;

	bq_account(a, 0, q->cap);
	free(q->data);
	memset(q, 0, sizeof(*q));
	q->acct = a;
}
