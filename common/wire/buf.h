/*
 * A byte queue that holds memory only while it holds data.
 */
#ifndef PEERD_BUF_H
#define PEERD_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A budget the queues pointing to it count their allocations in, and
 * the larger budget it counts in (a connection's, then the engine's).
 */
struct bq_acct {
	size_t		 held;		/* bytes allocated, over all levels */
	struct bq_acct	*up;
};

struct bq {
	uint8_t		*data;
	size_t		 off;
	size_t		 len;
	size_t		 cap;
	struct bq_acct	*acct;		/* NULL: counted nowhere */
};

int	 bq_append(struct bq *, const void *, size_t, size_t);
uint8_t	*bq_reserve(struct bq *, size_t, size_t);
void	 bq_consume(struct bq *, size_t);
void	 bq_free(struct bq *);

static inline const uint8_t *
bq_ptr(const struct bq *q)
{
	return q->data == NULL ? NULL : q->data + q->off;
}

#endif /* PEERD_BUF_H */
