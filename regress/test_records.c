/*
 * stored's caps, on a store of its own in a temporary directory: the
 * accounting by count and by size, the oldest days pruned first; the
 * known peers at store.maxPeers, the peers seen longest ago forgotten
 * first and never one with a ban; each held at every commit, and what
 * each pruned counted once.  With the argument "bench", the cost of
 * 10,000 inserts below and at each cap instead.
 */
#include <stdlib.h>

#define main stored_main
int	 stored_main(int, char *[]);
#include "../stored/stored.c"
#undef main
#include "tap.h"

#define ACCT_CAP	100
#define PEER_CAP	100

static struct ctl_store	 cs;

/* A peer ID whose key sorts by i: an Ed25519 identity multihash. */
static struct peerid
mkpeer(uint32_t i)
{
	static const uint8_t	 pre[] = { 0x00, 0x24, 0x08, 0x01, 0x12, 0x20 };
	struct peerid		 id;

	memset(&id, 0, sizeof(id));
	memcpy(id.mh, pre, sizeof(pre));
	id.mh[34] = i >> 24;
	id.mh[35] = i >> 16;
	id.mh[36] = i >> 8;
	id.mh[37] = i;
	id.len = 38;
	return id;
}

static void
limits(uint64_t peers, uint64_t acct, uint64_t size)
{
	struct rec_limits	 l = { peers, acct, size };

	rec_set_limits(&l);
}

/* The records and counters, as peerctl show store has them. */
static void
look(void)
{
	MDB_txn	*txn;

	memset(&cs, 0, sizeof(cs));
	if (store_read_begin(&txn) != 0)
		errx(1, "cannot read the store");
	rec_show_store(txn, &cs);
	mdb_txn_abort(txn);
}

static void
add_acct(uint32_t day, uint32_t i)
{
	struct store_acct	 a;

	memset(&a, 0, sizeof(a));
	a.acct.day = day;
	a.acct.peer = mkpeer(i);
	a.acct.rsvps = 1;
	store_queue(OP_ACCT, &a, sizeof(a), 0);
}

static int
has(MDB_dbi dbi, const uint8_t *key, size_t len)
{
	MDB_txn	*txn;
	MDB_val	 k, v;
	int	 r;

	if (store_read_begin(&txn) != 0)
		errx(1, "cannot read the store");
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = len;
	r = mdb_get(txn, dbi, &k, &v) == 0;
	mdb_txn_abort(txn);
	return r;
}

static int
has_acct(uint32_t day, uint32_t i)
{
	struct peerid	 id = mkpeer(i);
	uint8_t		 key[ACCT_KEYMAX];
	size_t		 len;

	acct_key_encode(day, &id, key, &len);
	return has(dbs.acct, key, len);
}

static int
has_peer(uint32_t i)
{
	struct peerid	 id = mkpeer(i);

	return has(dbs.peers, id.mh, id.len);
}

/* The first day with a record, and how many records it has. */
static uint32_t
first_day(uint64_t *n)
{
	struct acct_rec	 a;
	MDB_cursor	*cur;
	MDB_txn		*txn;
	MDB_val		 k, v;
	uint32_t	 day = 0;
	int		 r;

	*n = 0;
	if (store_read_begin(&txn) != 0 || mdb_cursor_open(txn, dbs.acct,
	    &cur) != 0)
		errx(1, "cannot read the store");
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (acct_key_decode(k.mv_data, k.mv_size, &a) == -1)
			errx(1, "a bad accounting key");
		if (*n > 0 && a.day != day)
			break;
		day = a.day;
		(*n)++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return day;
}

/*
 * Day 10 then day 20, 90 records each, at a cap of 100: after every
 * commit at most 100; the 90 of day 20 stay, day 10 loses its first
 * keys.  What an aborted transaction pruned is not counted.
 */
static void
test_acct_count(void)
{
	struct store_acct	 a;
	MDB_txn			*txn;
	uint64_t		 over = 0, n;
	uint32_t		 i, day;
	int			 kept = 1, r;

	limits(PEER_CAP, ACCT_CAP, 1ULL << 40);
	for (i = 0; i < 180; i++) {
		add_acct(i < 90 ? 10 : 20, i);
		store_flush();
		look();
		if (cs.acct > ACCT_CAP && over == 0)
			over = cs.acct;
	}
	ok(over == 0 && cs.acct == ACCT_CAP, "accounting: never over the "
	    "cap of %d at a commit (%llu at most over, %llu now)", ACCT_CAP,
	    (unsigned long long)over, (unsigned long long)cs.acct);
	ok(cs.pruned_acct == 80 && cs.pruned_acct_size == 0,
	    "accounting: 80 pruned by count, none by size: %llu, %llu",
	    (unsigned long long)cs.pruned_acct,
	    (unsigned long long)cs.pruned_acct_size);
	for (i = 90; i < 180; i++)
		kept &= has_acct(20, i);
	ok(kept, "accounting: every record of the newer day is kept");
	day = first_day(&n);
	ok(day == 10 && n == 10 && !has_acct(10, 79) && has_acct(10, 80),
	    "accounting: day 10 keeps its last 10 keys (day %u, %llu left)",
	    day, (unsigned long long)n);

	/* an update of a record that is there prunes nothing */
	add_acct(20, 100);
	store_flush();
	look();
	ok(cs.acct == ACCT_CAP && cs.pruned_acct == 80 && has_acct(10, 80),
	    "accounting: an update at the cap prunes nothing (%llu pruned)",
	    (unsigned long long)cs.pruned_acct);

	/* pruned in a transaction that does not commit: not counted */
	memset(&a, 0, sizeof(a));
	a.acct.day = 20;
	a.acct.peer = mkpeer(999);
	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		errx(1, "mdb_txn_begin");
	r = rec_apply(txn, OP_ACCT, &a, sizeof(a), NULL, 0);
	mdb_txn_abort(txn);
	rec_done(0);
	look();
	ok(r == 0 && cs.acct == ACCT_CAP && cs.pruned_acct == 80 &&
	    has_acct(10, 80) && !has_acct(20, 999), "accounting: what an "
	    "aborted transaction pruned is neither gone nor counted");

	limits(PEER_CAP, 1000, 1ULL << 40);
	for (i = 0; i < 40000; i++)
		add_acct(30 + i / 1000, 1000 + i);
	store_flush();
	look();
	ok(cs.acct == 1000 && cs.pruned_acct == 80 + 100 + 39000,
	    "accounting: 1000 kept of 40,000 more, each pruned counted once: "
	    "%llu, %llu", (unsigned long long)cs.acct,
	    (unsigned long long)cs.pruned_acct);
	day = first_day(&n);
	ok(day == 69 && n == 1000, "accounting: only the newest day is left "
	    "(day %u, %llu records)", day, (unsigned long long)n);
}

/*
 * A cap of 1 MiB of pages: never over it at a commit, the oldest days
 * go first, and pages are freed as they go (not all records lost).
 */
static void
test_acct_size(void)
{
	uint64_t	 cap = 1 << 20, worst = 0, n, before, pruned;
	uint32_t	 i, day;

	limits(PEER_CAP, 100000000, cap);
	before = cs.acct;
	for (i = 0; i < 60000; i++) {
		add_acct(100 + i / 1000, 100000 + i);
		if (i % 500 == 499) {
			store_flush();
			look();
			if (cs.acct_size > worst)
				worst = cs.acct_size;
		}
	}
	store_flush();
	look();
	ok(worst > 0 && worst <= cap, "accounting size: at most %llu bytes "
	    "at every commit (%llu at most)", (unsigned long long)cap,
	    (unsigned long long)worst);
	pruned = cs.pruned_acct_size;
	ok(pruned > 0 && cs.acct + pruned == before + 60000,
	    "accounting size: %llu pruned by size, %llu kept",
	    (unsigned long long)pruned, (unsigned long long)cs.acct);
	ok(cs.acct * 256 >= cap && cs.acct_size > cap / 2,
	    "accounting size: pages are freed as records go: %llu records in "
	    "%llu KiB", (unsigned long long)cs.acct,
	    (unsigned long long)cs.acct_size >> 10);
	day = first_day(&n);
	ok(has_acct(159, 100000 + 59999) && !has_acct(100, 100000) &&
	    day > 100, "accounting size: the newest kept, the oldest gone "
	    "(first day %u)", day);
	limits(PEER_CAP, 100000000, 1ULL << 40);
}

/* A peer record written by hand, last seen at seen. */
static void
put_peer(MDB_txn *txn, uint32_t i, int64_t seen)
{
	static struct peer_rec	 pr;
	struct peerid		 id = mkpeer(i);
	uint8_t			 buf[REC_MAXLEN];
	MDB_val			 k, v;
	size_t			 n;

	memset(&pr, 0, sizeof(pr));
	pr.sources = SRC_INBOUND;
	pr.first_seen = 1;
	pr.last_seen = seen;
	if (peer_rec_encode(&pr, buf, sizeof(buf), &n) == -1)
		errx(1, "peer_rec_encode");
	k.mv_data = id.mh;
	k.mv_size = id.len;
	v.mv_data = buf;
	v.mv_size = n;
	if (mdb_put(txn, dbs.peers, &k, &v, 0) != 0)
		errx(1, "mdb_put");
}

/* Peers from..to-1, seen at base + i, written in one transaction. */
static void
put_peers(uint32_t from, uint32_t to, int64_t base)
{
	MDB_txn		*txn;
	uint32_t	 i;

	store_flush();
	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		errx(1, "mdb_txn_begin");
	for (i = from; i < to; i++)
		put_peer(txn, i, base + i);
	if (mdb_txn_commit(txn) != 0)
		errx(1, "mdb_txn_commit");
}

static void
connected(uint32_t i)
{
	uint8_t			 buf[sizeof(struct store_peer_upd) + 64];
	struct store_peer_upd	 hdr;
	static struct peer_rec	 upd;
	size_t			 n;

	memset(&hdr, 0, sizeof(hdr));
	hdr.peer = mkpeer(i);
	hdr.kind = UPD_CONNECTED;
	memset(&upd, 0, sizeof(upd));
	upd.sources = SRC_INBOUND;
	memcpy(buf, &hdr, sizeof(hdr));
	if (peer_rec_encode(&upd, buf + sizeof(hdr), sizeof(buf) -
	    sizeof(hdr), &n) == -1)
		errx(1, "peer_rec_encode");
	store_queue(OP_PEER, buf, sizeof(hdr) + n, 0);
}

static void
ban(uint32_t i, int add)
{
	struct store_ban_op	 op;

	memset(&op, 0, sizeof(op));
	op.add = add;
	op.ban.kind = BAN_PEER;
	op.ban.peer = mkpeer(i);
	store_queue(OP_BAN, &op, sizeof(op), 0);
}

/*
 * 100 peers seen at 1000 + i; peer 0, the oldest, banned.  A new peer
 * at the cap of 100 forgets the two seen longest ago without a ban (1%
 * of the cap, and one): 1 and 2.
 */
static void
test_peers(void)
{
	uint64_t	 over = 0, p0;
	uint32_t	 i;
	int		 kept = 1;

	limits(PEER_CAP, 100000000, 1ULL << 40);
	put_peers(0, PEER_CAP, 1000);
	ban(0, 1);
	ban(5000, 1);
	store_flush();
	look();
	p0 = cs.pruned_peers;
	connected(5000);
	store_flush();
	look();
	ok(cs.peers == PEER_CAP - 1 && has_peer(5000) && has_peer(0) &&
	    !has_peer(1) && !has_peer(2) && has_peer(3),
	    "peers: a new peer at the cap forgets 1 and 2, not 0 (banned): "
	    "%llu peers", (unsigned long long)cs.peers);
	ok(cs.pruned_peers - p0 == 2, "peers: 2 counted as pruned: %llu",
	    (unsigned long long)(cs.pruned_peers - p0));

	for (i = 0; i < 1000; i++) {
		connected(10000 + i);
		if (i % 7 == 0) {
			store_flush();
			look();
			if (cs.peers > PEER_CAP && over == 0)
				over = cs.peers;
		}
	}
	store_flush();
	look();
	ok(over == 0 && cs.peers <= PEER_CAP && cs.peers >= PEER_CAP - 2,
	    "peers: never over the cap of %d at a commit (%llu over, %llu "
	    "now)", PEER_CAP, (unsigned long long)over,
	    (unsigned long long)cs.peers);
	ok(has_peer(0) && has_peer(5000), "peers: the banned ones are kept, "
	    "however old");
	ok(cs.pruned_peers - p0 == PEER_CAP + 1001 - cs.peers,
	    "peers: each forgotten peer counted once: %llu",
	    (unsigned long long)(cs.pruned_peers - p0));

	/* a reload that lowers the cap: the sweep forgets the oldest */
	put_peers(20000, 20000 + 40, 1);
	limits(50, 100000000, 1ULL << 40);
	store_sweep();
	look();
	for (i = 0; i < 40; i++)
		kept &= !has_peer(20000 + i);
	ok(cs.peers == 50 && kept && has_peer(0) && has_peer(10999),
	    "peers: a lower cap holds after a sweep, the oldest gone, the "
	    "banned and the newest kept: %llu", (unsigned long long)cs.peers);
	limits(PEER_CAP, 100000000, 1ULL << 40);
}

/* Only peers with a ban left: the new peer is the one not kept. */
static void
test_peers_banned(void)
{
	uint64_t	 p0;
	uint32_t	 i;

	ban(0, 0);
	ban(5000, 0);
	for (i = 0; i < 16; i++)
		ban(30000 + i, 1);
	put_peers(30000, 30016, 1);
	limits(16, 100000000, 1ULL << 40);
	store_sweep();
	look();
	p0 = cs.pruned_peers;
	ok(cs.peers == 16, "banned: 16 peers, all with a ban: %llu",
	    (unsigned long long)cs.peers);
	connected(40000);
	store_flush();
	look();
	ok(cs.peers == 16 && !has_peer(40000) && has_peer(30000) &&
	    cs.pruned_peers == p0 + 1, "banned: a new peer is not kept, and "
	    "counted (%llu peers, %llu pruned)", (unsigned long long)cs.peers,
	    (unsigned long long)(cs.pruned_peers - p0));
}

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 10,000 new records of one day, keys spread like fresh peer IDs. */
static double
bench_acct(uint32_t base)
{
	double		 t0 = now_ms();
	uint32_t	 i;

	for (i = 0; i < 10000; i++)
		add_acct(500, (base + i) * 2654435761U);
	store_flush();
	return now_ms() - t0;
}

static double
bench_peers(uint32_t base)
{
	double		 t0 = now_ms();
	uint32_t	 i;

	for (i = 0; i < 10000; i++)
		connected((base + i) * 2654435761U);
	store_flush();
	return now_ms() - t0;
}

static void
bench(void)
{
	double		 below = 0, at;
	uint32_t	 i;

	limits(10000, 100000, 1ULL << 40);
	for (i = 0; i < 10; i++)
		below = bench_acct(i * 10000);
	look();
	printf("# accounting: 10,000 inserts up to the cap: %.0f ms (%llu "
	    "records, %llu KiB)\n", below, (unsigned long long)cs.acct,
	    (unsigned long long)cs.acct_size >> 10);
	at = bench_acct(100000);
	look();
	printf("# accounting: 10,000 inserts at store.maxAccounting %llu: "
	    "%.0f ms (%llu pruned)\n", (unsigned long long)cs.max_acct, at,
	    (unsigned long long)cs.pruned_acct);
	limits(10000, 100000000, cs.acct_size);
	at = bench_acct(200000);
	look();
	printf("# accounting: 10,000 inserts at store.maxAccountingSize %llu "
	    "KiB: %.0f ms (%llu records, %llu pruned)\n",
	    (unsigned long long)cs.max_acct_size >> 10, at,
	    (unsigned long long)cs.acct,
	    (unsigned long long)cs.pruned_acct_size);
	below = bench_peers(0);
	look();
	printf("# peers: 10,000 inserts up to the cap: %.0f ms (%llu peers)\n",
	    below, (unsigned long long)cs.peers);
	at = bench_peers(10000);
	look();
	printf("# peers: 10,000 inserts at store.maxPeers %llu: %.0f ms (%llu "
	    "pruned)\n", (unsigned long long)cs.max_peers, at,
	    (unsigned long long)cs.pruned_peers);
}

int
main(int argc, char *argv[])
{
	char	 dir[] = "/tmp/peerd-records-XXXXXX";

	if (mkdtemp(dir) == NULL || chdir(dir) == -1)
		err(1, "%s", dir);
	log_init(1, LOG_DAEMON);
	log_setlimit(0);
	event_init();
	limits(PEER_CAP, ACCT_CAP, 1ULL << 40);
	store_open(1 << 20, dir, &rec_hooks);
	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		bench();
	else {
		test_acct_count();
		test_acct_size();
		test_peers();
		test_peers_banned();
	}
	store_close();
	unlink("data.mdb");
	unlink("lock.mdb");
	rmdir(dir);
	return tap_done();
}
