/*
 * How often each key was seen in the last window, in fixed memory: a
 * count-min sketch of SKETCH_ROWS rows of SKETCH_WIDTH counters, one
 * for the current window and one for the previous, which counts in
 * proportion to how much of it still lies within a window of now.
 * Keys are hashed with SipHash under a key drawn at random in each
 * process, so that a remote cannot pick addresses that collide.
 *
 * An estimate is never below the true count: a collision can make a
 * limit stricter, never looser, and no key is forgotten however many
 * others are seen.  Counters are raised conservatively (only those at
 * the minimum, and only up to the new minimum), which keeps that bound
and lowers the error.  Calls
 * libsodium only.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "engine.h"

_Static_assert(sizeof(((struct sketch *)0)->key) ==
    crypto_shorthash_KEYBYTES, "sketch key size");
_Static_assert(SKETCH_ROWS * SKETCH_BITS <= 64, "one hash for all rows");

void
sketch_init(struct sketch *sk, int64_t window, int64_t now)
{
	memset(sk->cell, 0, sizeof(sk->cell));
	crypto_shorthash_keygen(sk->key);
	sk->window = window;
	sk->start = now;
	sk->cur = 0;
	sk->ready = 1;
}

/* Move the windows on to now. */
static void
sketch_rotate(struct sketch *sk, int64_t now)
{
	int64_t	 n;

	if (now < sk->start || (n = (now - sk->start) / sk->window) == 0)
		return;
	if (n >= 2)
		memset(sk->cell[sk->cur], 0, sizeof(sk->cell[0]));
	sk->cur ^= 1;
	memset(sk->cell[sk->cur], 0, sizeof(sk->cell[0]));
	sk->start += n * sk->window;
}

static void
sketch_index(const struct sketch *sk, const uint8_t *k, size_t len,
    uint32_t idx[SKETCH_ROWS])
{
	uint8_t		 h[crypto_shorthash_BYTES];
	uint64_t	 v = 0;
	size_t		 i;

	crypto_shorthash(h, k, len, sk->key);
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	for (i = 0; i < SKETCH_ROWS; i++) {
		idx[i] = v & (SKETCH_WIDTH - 1);
		v >>= SKETCH_BITS;
	}
}

static uint32_t
sketch_min(const struct sketch *sk, int w, const uint32_t idx[SKETCH_ROWS])
{
	uint32_t	 m = UINT32_MAX;
	size_t		 i;

	for (i = 0; i < SKETCH_ROWS; i++)
		if (sk->cell[w][i][idx[i]] < m)
			m = sk->cell[w][i][idx[i]];
	return m;
}

static uint64_t
sketch_est(const struct sketch *sk, const uint32_t idx[SKETCH_ROWS],
    int64_t now)
{
	int64_t		 left = sk->window - (now - sk->start);

	if (left < 0)
		left = 0;
	return (uint64_t)sketch_min(sk, sk->cur, idx) * 1000 +
	    (uint64_t)sketch_min(sk, sk->cur ^ 1, idx) * 1000 * left /
	    sk->window;
}

/* The count of key over the last window, in thousandths. */
uint64_t
sketch_estimate(struct sketch *sk, const void *k, size_t len, int64_t now)
{
	uint32_t	 idx[SKETCH_ROWS];

	sketch_rotate(sk, now);
	sketch_index(sk, k, len, idx);
	return sketch_est(sk, idx, now);
}

/*
 * Count n more of key; say whether its count over the last window was
 * below limit before them.
 */
int
sketch_add(struct sketch *sk, const void *k, size_t len, uint32_t n,
    uint64_t limit, int64_t now)
{
	uint32_t	 idx[SKETCH_ROWS], m, to;
	uint64_t	 est;
	size_t		 i;

	sketch_rotate(sk, now);
	sketch_index(sk, k, len, idx);
	est = sketch_est(sk, idx, now);
	m = sketch_min(sk, sk->cur, idx);
	to = m > UINT32_MAX - n ? UINT32_MAX : m + n;
	for (i = 0; i < SKETCH_ROWS; i++)
		if (sk->cell[sk->cur][i][idx[i]] < to)
			sk->cell[sk->cur][i][idx[i]] = to;
	return est < limit * 1000;
}
