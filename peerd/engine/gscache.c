/*
 * The gossipsub router's caches: the seen cache, message IDs seen in
 * the last seenTTL (each kept as a keyed 64-bit hash, at most
 * gossipSub.maxSeen of them, the oldest dropped first), and the message
 * cache, the frames of the messages of the last mcacheLength
 * heartbeats (at most gossipSub.maxCacheEntries), which IWANT is
 * answered from and IHAVE told from.  Data only; calls nothing.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "engine.h"
#include "gossip.h"

#define SEEN_BUCKETS	(1 << 14)
#define MCACHE_BUCKETS	(1 << 12)

struct seen {
	LIST_ENTRY(seen)	 bucket;
	TAILQ_ENTRY(seen)	 fifo;
	uint64_t		 hash;
	int64_t			 at;	/* ms */
};

static uint8_t			 hkey[crypto_shorthash_KEYBYTES];
static int			 hkey_set;
static LIST_HEAD(, seen)	 seen_tab[SEEN_BUCKETS];
static TAILQ_HEAD(, seen)	 seen_fifo = TAILQ_HEAD_INITIALIZER(seen_fifo);
static size_t			 nseen;

static LIST_HEAD(, gs_msg)	 mc_tab[MCACHE_BUCKETS];
static TAILQ_HEAD(gs_msgq_head, gs_msg) mc_fifo =
    TAILQ_HEAD_INITIALIZER(mc_fifo);
static size_t			 nmc;
static int			 beat;		/* heartbeats so far */

int64_t
gs_now(void)
{
	return mono_ms();
}

uint64_t
gs_idhash(const uint8_t *id, size_t len)
{
	uint8_t		 h[crypto_shorthash_BYTES];
	uint64_t	 v;

	if (!hkey_set) {
		randombytes_buf(hkey, sizeof(hkey));
		hkey_set = 1;
	}
	crypto_shorthash(h, id, len, hkey);
	memcpy(&v, h, sizeof(v));
	return v;
}

void
seen_init(void)
{
	size_t	 i;

	for (i = 0; i < SEEN_BUCKETS; i++)
		LIST_INIT(&seen_tab[i]);
	for (i = 0; i < MCACHE_BUCKETS; i++)
		LIST_INIT(&mc_tab[i]);
}

static void
seen_drop(struct seen *e)
{
	LIST_REMOVE(e, bucket);
	TAILQ_REMOVE(&seen_fifo, e, fifo);
	free(e);
	nseen--;
}

int
seen_has_hash(uint64_t h)
{
	struct seen	*e;

	LIST_FOREACH(e, &seen_tab[h & (SEEN_BUCKETS - 1)], bucket)
		if (e->hash == h)
			return 1;
	return 0;
}

int
seen_has(const uint8_t *id, size_t len)
{
	return seen_has_hash(gs_idhash(id, len));
}

/* Over maxSeen the oldest goes: a late duplicate may then pass again. */
void
seen_add(const uint8_t *id, size_t len)
{
	struct seen	*e;

	while (nseen > 0 && nseen >= (size_t)gs_conf.max_seen) {
		seen_drop(TAILQ_FIRST(&seen_fifo));
		counters.gossip.drop_limits++;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	e->hash = gs_idhash(id, len);
	e->at = gs_now();
	LIST_INSERT_HEAD(&seen_tab[e->hash & (SEEN_BUCKETS - 1)], e, bucket);
	TAILQ_INSERT_TAIL(&seen_fifo, e, fifo);
	nseen++;
}

void
seen_expire(int64_t now)
{
	struct seen	*e;

	while ((e = TAILQ_FIRST(&seen_fifo)) != NULL &&
	    now - e->at >= gs_conf.seen_ttl)
		seen_drop(e);
}

size_t
seen_count(void)
{
	return nseen;
}

static void
mcache_drop(struct gs_msg *m)
{
	LIST_REMOVE(m, bucket);
	TAILQ_REMOVE(&mc_fifo, m, window);
	m->topic->refs--;	/* gstopic.c frees it when unused */
	free(m->frame);
	free(m);
	nmc--;
}

/* A copy of the frame, under its ID, in the current window. */
struct gs_msg *
mcache_put(struct gs_topic *t, const uint8_t *id, size_t idlen,
    const uint8_t *frame, size_t framelen)
{
	struct gs_msg	*m;

	if (idlen > GS_IDMAX)
		return NULL;
	while (nmc > 0 && nmc >= (size_t)gs_conf.max_mcache) {
		mcache_drop(TAILQ_FIRST(&mc_fifo));
		counters.gossip.drop_limits++;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->frame = malloc(framelen)) == NULL) {
		free(m);
		return NULL;
	}
	memcpy(m->frame, frame, framelen);
	m->framelen = framelen;
	memcpy(m->id, id, idlen);
	m->idlen = idlen;
	m->hash = gs_idhash(id, idlen);
	m->win = beat;
	m->first = gs_now();
	m->topic = t;
	t->refs++;
	LIST_INSERT_HEAD(&mc_tab[m->hash & (MCACHE_BUCKETS - 1)], m, bucket);
	TAILQ_INSERT_TAIL(&mc_fifo, m, window);
	nmc++;
	return m;
}

struct gs_msg *
mcache_get(const uint8_t *id, size_t len)
{
	struct gs_msg	*m;
	uint64_t	 h = gs_idhash(id, len);

	LIST_FOREACH(m, &mc_tab[h & (MCACHE_BUCKETS - 1)], bucket)
		if (m->hash == h && m->idlen == len &&
		    memcmp(m->id, id, len) == 0)
			return m;
	return NULL;
}

/* A heartbeat: a new window, and the one past mcacheLength goes. */
void
mcache_shift(void)
{
	struct gs_msg	*m;

	beat++;
	while ((m = TAILQ_FIRST(&mc_fifo)) != NULL &&
	    m->win <= beat - gs_conf.mcache_len)
		mcache_drop(m);
}

/* The newest messages of a topic in the last mcacheGossip windows. */
size_t
mcache_gossip(const struct gs_topic *t, const struct gs_msg **out,
    size_t max)
{
	struct gs_msg	*m;
	size_t		 n = 0;

	TAILQ_FOREACH_REVERSE(m, &mc_fifo, gs_msgq_head, window) {
		if (m->win <= beat - gs_conf.mcache_gossip || n >= max)
			break;
		if (m->topic == t)
			out[n++] = m;
	}
	return n;
}

size_t
mcache_count(void)
{
	return nmc;
}

void
mcache_clear(void)
{
	struct gs_msg	*m;
	struct seen	*e;

	while ((m = TAILQ_FIRST(&mc_fifo)) != NULL)
		mcache_drop(m);
	while ((e = TAILQ_FIRST(&seen_fifo)) != NULL)
		seen_drop(e);
}
