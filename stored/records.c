/*
 * What stored keeps: known peers, bans and relay accounting.  Updates
 * are applied inside the batch transaction and the sweep prunes inside
 * its own, both store.c's, which calls in here through its hooks; reads
 * answer the engine.  The caps on peers and accounting hold at every
 * commit: an insert that goes over one prunes in its own transaction.
 * Calls store.c and common/.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "child.h"
#include "log.h"
#include "multiaddr.h"
#include "store.h"

#define DAY		86400
#define PEER_WAIT_MAX	3600	/* seconds a failing peer waits at most */

/* What each cap has pruned: in the open transaction, and committed. */
enum prune_why {
	PRUNE_PEERS,
	PRUNE_ACCT,
	PRUNE_ACCT_SIZE,
	PRUNE_N
};

static struct rec_limits lim = { 10000, 100000, 67108864 };
static uint64_t		 pruned[PRUNE_N], pending[PRUNE_N];

static int	 acct_caps(MDB_txn *);
static int	 peers_cap(MDB_txn *, const MDB_val *);

static int
mdb_errcode(int r)
{
	return r == -1 ? MDB_PANIC : r;
}

static int
peer_get(MDB_txn *txn, const struct peerid *id, struct peer_rec *r)
{
	MDB_val	 k, v;
	char	 err[128], peer[PEERID_STRMAX];
	int	 rv;

	k.mv_data = (void *)(uintptr_t)id->mh;
	k.mv_size = id->len;
	if ((rv = mdb_get(txn, dbs.peers, &k, &v)) != 0) {
		memset(r, 0, sizeof(*r));
		return rv == MDB_NOTFOUND ? 0 : mdb_errcode(rv);
	}
	if (peer_rec_decode(v.mv_data, v.mv_size, r, err, sizeof(err)) ==
	    -1) {
		peerid_format(id, peer, sizeof(peer));
		log_warnx("store: replacing the record of %s: %s", peer, err);
		memset(r, 0, sizeof(*r));
	}
	return 0;
}

static int
apply_peer(MDB_txn *txn, const uint8_t *data, size_t len)
{
	static struct peer_rec	 cur, upd;
	struct store_peer_upd	 hdr;
	uint8_t			 buf[REC_MAXLEN];
	MDB_val			 k, v;
	size_t			 n;
	int			 r;

	memcpy(&hdr, data, sizeof(hdr));
	if (peer_rec_decode(data + sizeof(hdr), len - sizeof(hdr), &upd,
	    NULL, 0) == -1)
		return 0;
	if ((r = peer_get(txn, &hdr.peer, &cur)) != 0)
		return r;
	peer_rec_merge(&cur, &upd, hdr.kind, store_now());
	if (peer_rec_encode(&cur, buf, sizeof(buf), &n) == -1)
		return 0;
	k.mv_data = hdr.peer.mh;
	k.mv_size = hdr.peer.len;
	v.mv_data = buf;
	v.mv_size = n;
	if ((r = mdb_put(txn, dbs.peers, &k, &v, 0)) != 0)
		return mdb_errcode(r);
	return peers_cap(txn, &k);
}

static void
ban_message(const struct ban *b, const char *target, char *msg,
    size_t msglen)
{
	struct tm	 tm;
	time_t		 t = b->until;
	char		 until[32];

	if (b->until == 0) {
		snprintf(msg, msglen, "blocked %s until unblocked", target);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(msg, msglen, "blocked %s until %s", target, until);
}

static int
apply_ban(MDB_txn *txn, const struct store_ban_op *op, char *msg,
    size_t msglen)
{
	uint8_t		 key[BAN_KEYMAX], val[REC_MAXLEN];
	char		 target[BAN_TARGETLEN];
	MDB_val		 k, v;
	size_t		 klen, vlen;
	int		 r;

	if (ban_key_encode(&op->ban, key, &klen) == -1 ||
	    ban_val_encode(&op->ban, val, sizeof(val), &vlen) == -1) {
		if (msg != NULL)
			strlcpy(msg, "bad ban", msglen);
		return -1;
	}
	k.mv_data = key;
	k.mv_size = klen;
	ban_format(&op->ban, target, sizeof(target));
	if (op->add) {
		v.mv_data = val;
		v.mv_size = vlen;
		if (msg != NULL)
			ban_message(&op->ban, target, msg, msglen);
		return mdb_errcode(mdb_put(txn, dbs.bans, &k, &v, 0));
	}
	if ((r = mdb_del(txn, dbs.bans, &k, NULL)) == MDB_NOTFOUND) {
		if (msg != NULL)
			snprintf(msg, msglen, "%s is not blocked", target);
		return -1;
	}
	if (msg != NULL)
		snprintf(msg, msglen, "unblocked %s", target);
	return mdb_errcode(r);
}

static int
apply_acct(MDB_txn *txn, const struct store_acct *op)
{
	struct acct_rec	 cur, add = op->acct;
	uint8_t		 key[ACCT_KEYMAX], val[REC_MAXLEN];
	MDB_val		 k, v;
	size_t		 klen, vlen;
	int		 r;

	if (add.day == 0)
		add.day = (uint32_t)(store_now() / DAY);
	if (acct_key_encode(add.day, &add.peer, key, &klen) == -1)
		return 0;
	k.mv_data = key;
	k.mv_size = klen;
	memset(&cur, 0, sizeof(cur));
	if ((r = mdb_get(txn, dbs.acct, &k, &v)) == 0) {
		if (acct_val_decode(v.mv_data, v.mv_size, &cur, NULL, 0) == -1)
			memset(&cur, 0, sizeof(cur));
	} else if (r != MDB_NOTFOUND)
		return mdb_errcode(r);
	cur.rsvps += add.rsvps;
	cur.circuits += add.circuits;
	cur.bytes_in += add.bytes_in;
	cur.bytes_out += add.bytes_out;
	if (acct_val_encode(&cur, val, sizeof(val), &vlen) == -1)
		return 0;
	v.mv_data = val;
	v.mv_size = vlen;
	if ((r = mdb_put(txn, dbs.acct, &k, &v, 0)) != 0)
		return mdb_errcode(r);
	return acct_caps(txn);
}

/* 0 applied, -1 refused (msg says why), else an LMDB or errno code. */
int
rec_apply(MDB_txn *txn, enum store_op_type type, const void *data,
    size_t len, char *msg, size_t msglen)
{
	switch (type) {
	case OP_PEER:
		return apply_peer(txn, data, len);
	case OP_BAN:
		return apply_ban(txn, data, msg, msglen);
	case OP_ACCT:
		return apply_acct(txn, data);
	}
	return 0;
}

static int
cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cur)
{
	int	 r;

	if ((r = mdb_cursor_open(txn, dbi, cur)) != 0)
		log_warnx("store: cursor: %s", mdb_strerror(r));
	return r;
}

/* Expired bans and accounting older than ACCT_KEEP_DAYS go. */
static void
prune_expired(MDB_txn *txn, int64_t now)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	struct ban	 b;
	struct acct_rec	 a;
	char		 target[BAN_TARGETLEN];
	uint32_t	 cutoff = (uint32_t)(now / DAY) - ACCT_KEEP_DAYS;
	int		 r;

	if (cursor_open(txn, dbs.bans, &cur) != 0)
		return;
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (ban_key_decode(k.mv_data, k.mv_size, &b) == -1 ||
		    ban_val_decode(v.mv_data, v.mv_size, &b, NULL, 0) == -1 ||
		    b.until == 0 || b.until > now)
			continue;
		ban_format(&b, target, sizeof(target));
		log_info("ban_expired target=%s", target);
		mdb_cursor_del(cur, 0);
	}
	mdb_cursor_close(cur);
	if (cursor_open(txn, dbs.acct, &cur) != 0)
		return;
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (acct_key_decode(k.mv_data, k.mv_size, &a) == 0 &&
		    a.day >= cutoff)
			break;
		mdb_cursor_del(cur, 0);
	}
	mdb_cursor_close(cur);
}

/* Bytes of the pages of a database. */
static uint64_t
db_size(const MDB_stat *st)
{
	return (uint64_t)st->ms_psize * (st->ms_branch_pages +
	    st->ms_leaf_pages + st->ms_overflow_pages);
}

/* The first n records of the accounting: its oldest days. */
static int
acct_drop(MDB_txn *txn, uint64_t n, enum prune_why why)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 r;

	if ((r = cursor_open(txn, dbs.acct, &cur)) != 0)
		return mdb_errcode(r);
	for (; n > 0 && (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0;
	    n--) {
		if ((r = mdb_cursor_del(cur, 0)) != 0)
			break;
		pending[why]++;
	}
	mdb_cursor_close(cur);
	return r == MDB_NOTFOUND ? 0 : mdb_errcode(r);
}

/*
 * Over either cap the oldest days go first, as the key starts with the
 * day.  Deleting the first records frees whole pages, so the size comes
 * down in batches of 1% of the records.
 */
static int
acct_caps(MDB_txn *txn)
{
	MDB_stat	 st;
	int		 r;

	if ((r = mdb_stat(txn, dbs.acct, &st)) != 0)
		return mdb_errcode(r);
	if (st.ms_entries > lim.max_acct && (r = acct_drop(txn,
	    st.ms_entries - lim.max_acct, PRUNE_ACCT)) != 0)
		return r;
	while ((r = mdb_stat(txn, dbs.acct, &st)) == 0 &&
	    st.ms_entries > 0 && db_size(&st) > lim.max_acct_size)
		if ((r = acct_drop(txn, st.ms_entries / 100 + 1,
		    PRUNE_ACCT_SIZE)) != 0)
			return r;
	return mdb_errcode(r);
}

static int
age_cmp(const void *a, const void *b)
{
	const int64_t	*x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* A peer that may be forgotten: not keep, and without a ban on its ID. */
static int
peer_evictable(MDB_txn *txn, const MDB_val *k, const MDB_val *keep)
{
	uint8_t	 bkey[BAN_KEYMAX];
	MDB_val	 bk, bv;

	if (keep != NULL && k->mv_size == keep->mv_size &&
	    memcmp(k->mv_data, keep->mv_data, k->mv_size) == 0)
		return 0;
	if (k->mv_size == 0 || k->mv_size > PEERID_MAXLEN)
		return 1;
	bkey[0] = 'p';
	memcpy(bkey + 1, k->mv_data, k->mv_size);
	bk.mv_data = bkey;
	bk.mv_size = 1 + k->mv_size;
	return mdb_get(txn, dbs.bans, &bk, &bv) != 0;
}

/*
 * The ages of the peers that may be forgotten, sorted: into *ages (n
 * of them), to find the age at which the oldest want end.
 */
static int
peers_ages(MDB_txn *txn, const MDB_val *keep, int64_t **ages, size_t *n)
{
	MDB_cursor	*cur;
	MDB_stat	 st;
	MDB_val		 k, v;
	int		 r;

	*n = 0;
	*ages = NULL;
	if ((r = mdb_stat(txn, dbs.peers, &st)) != 0)
		return mdb_errcode(r);
	if ((*ages = calloc(st.ms_entries + 1, sizeof(**ages))) == NULL)
		return ENOMEM;
	if ((r = cursor_open(txn, dbs.peers, &cur)) != 0)
		return mdb_errcode(r);
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0 &&
	    *n < st.ms_entries; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (peer_evictable(txn, &k, keep))
			peer_rec_age(v.mv_data, v.mv_size, &(*ages)[(*n)++]);
	mdb_cursor_close(cur);
	if (r != 0 && r != MDB_NOTFOUND)
		return mdb_errcode(r);
	qsort(*ages, *n, sizeof(**ages), age_cmp);
	return 0;
}

/*
 * The want peers seen longest ago are forgotten, never keep nor a peer
 * with a ban.  Two walks, and only the ages held between them.
 */
static int
peers_evict(MDB_txn *txn, uint64_t want, const MDB_val *keep,
    uint64_t *gone)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int64_t		*ages, age, cut;
	uint64_t	 older = 0, ties;
	size_t		 n, i;
	int		 r;

	*gone = 0;
	if ((r = peers_ages(txn, keep, &ages, &n)) != 0 || n == 0) {
		free(ages);
		return r;
	}
	if (want > n)
		want = n;
	cut = ages[want - 1];
	for (i = 0; i < want && ages[i] < cut; i++)
		older++;
	ties = want - older;
	free(ages);
	if ((r = cursor_open(txn, dbs.peers, &cur)) != 0)
		return mdb_errcode(r);
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0 && *gone <
	    want; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		peer_rec_age(v.mv_data, v.mv_size, &age);
		if (age > cut || (age == cut && ties == 0) ||
		    !peer_evictable(txn, &k, keep))
			continue;
		if (age == cut)
			ties--;
		if ((r = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*gone)++;
	}
	mdb_cursor_close(cur);
	return r == 0 || r == MDB_NOTFOUND ? 0 : mdb_errcode(r);
}

/*
 * Over store.maxPeers, the peers seen longest ago make room, 1% of the
 * maximum at a time so that the walks are made once per 1% of new
 * peers.  When only peers with a ban are left, keep goes instead.
 */
static int
peers_cap(MDB_txn *txn, const MDB_val *keep)
{
	MDB_stat	 st;
	MDB_val		 k;
	uint64_t	 need, gone;
	int		 r;

	if ((r = mdb_stat(txn, dbs.peers, &st)) != 0)
		return mdb_errcode(r);
	if (st.ms_entries <= lim.max_peers)
		return 0;
	need = st.ms_entries - lim.max_peers;
	if ((r = peers_evict(txn, need + (keep != NULL ? lim.max_peers / 100 :
	    0), keep, &gone)) != 0)
		return r;
	pending[PRUNE_PEERS] += gone;
	if (gone >= need || keep == NULL)
		return 0;
	pending[PRUNE_PEERS]++;
	k = *keep;
	return mdb_errcode(mdb_del(txn, dbs.peers, &k, NULL));
}

/* 0, or an LMDB or errno code. */
int
rec_prune(MDB_txn *txn, int64_t now)
{
	int	 r;

	prune_expired(txn, now);
	if ((r = peers_cap(txn, NULL)) != 0)
		return r;
	return acct_caps(txn);
}

void
rec_set_limits(const struct rec_limits *l)
{
	lim = *l;
}

/* After each write transaction: what the caps pruned, if it holds. */
void
rec_done(int committed)
{
	static struct log_limit	 ll[PRUNE_N] = {
		LOG_LIMIT("peers pruned at store.maxPeers"),
		LOG_LIMIT("accounting pruned at store.maxAccounting"),
		LOG_LIMIT("accounting pruned at store.maxAccountingSize"),
	};
	static const char	*what[PRUNE_N] = {
		"kind=peers", "kind=accounting", "kind=accounting" };
	static const char	*why[PRUNE_N] = {
		"max_peers", "max_records", "max_size" };
	uint64_t		 max[PRUNE_N];
	int			 i;

	max[PRUNE_PEERS] = lim.max_peers;
	max[PRUNE_ACCT] = lim.max_acct;
	max[PRUNE_ACCT_SIZE] = lim.max_acct_size;
	for (i = 0; i < PRUNE_N; i++) {
		if (committed && pending[i] > 0) {
			pruned[i] += pending[i];
			log_limited(&ll[i], LOG_NOTICE, "records_pruned %s "
			    "count=%llu reason=%s max=%llu", what[i],
			    (unsigned long long)pending[i], why[i],
			    (unsigned long long)max[i]);
		}
		pending[i] = 0;
	}
}

/* peerctl show store: the records, their caps and what was pruned. */
void
rec_show_store(MDB_txn *txn, struct ctl_store *cs)
{
	MDB_stat	 st;

	if (mdb_stat(txn, dbs.peers, &st) == 0)
		cs->peers = st.ms_entries;
	if (mdb_stat(txn, dbs.bans, &st) == 0)
		cs->bans = st.ms_entries;
	if (mdb_stat(txn, dbs.acct, &st) == 0) {
		cs->acct = st.ms_entries;
		cs->acct_size = db_size(&st);
	}
	cs->max_peers = lim.max_peers;
	cs->max_acct = lim.max_acct;
	cs->max_acct_size = lim.max_acct_size;
	cs->pruned_peers = pruned[PRUNE_PEERS];
	cs->pruned_acct = pruned[PRUNE_ACCT];
	cs->pruned_acct_size = pruned[PRUNE_ACCT_SIZE];
}

/* Every ban in force, to the engine that enforces them. */
void
rec_send_bans(void)
{
	struct store_ban_op	 op;
	MDB_cursor		*cur;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int64_t			 now = store_now();
	int			 r;

	if (store_read_begin(&txn) != 0)
		fatalx("store: cannot read the bans");
	if (cursor_open(txn, dbs.bans, &cur) != 0)
		fatalx("store: cannot read the bans");
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		memset(&op, 0, sizeof(op));
		op.add = 1;
		if (ban_key_decode(k.mv_data, k.mv_size, &op.ban) == -1 ||
		    ban_val_decode(v.mv_data, v.mv_size, &op.ban, NULL,
		    0) == -1 || (op.ban.until != 0 && op.ban.until <= now))
			continue;
		child_compose(PROC_ENGINE, IMSG_STORE_BAN, 0, -1, &op,
		    sizeof(op));
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	child_compose(PROC_ENGINE, IMSG_STORE_BANS_END, 0, -1, NULL, 0);
}

struct cand {
	uint32_t	 key;
	struct peerid	 id;
	struct peer_rec	*rec;
};

/* Weighted toward recent success: 1 to 17 draws, the best one kept. */
static uint32_t
cand_key(const struct peer_rec *r, int64_t now)
{
	uint32_t	 w = 1, k = 0, x;
	int64_t		 age;

	if (r->last_ok > 0) {
		age = now > r->last_ok ? (now - r->last_ok) / 3600 : 0;
		w += age < 16 ? 16 - (uint32_t)age : 0;
	}
	while (w-- > 0)
		if ((x = arc4random()) > k)
			k = x;
	return k;
}

static int
cand_waiting(const struct peer_rec *r, int64_t now, uint32_t backoff_max)
{
	int64_t	 wait;

	if (r->fails == 0)
		return 0;
	wait = r->fails >= 12 ? PEER_WAIT_MAX : (int64_t)1 << r->fails;
	if (wait > backoff_max)
		wait = backoff_max;
	return now < r->last_fail + wait;
}

static int
addr_cmp(const void *a, const void *b)
{
	const struct prec_addr	*x = a, *y = b;

	return x->last_ok > y->last_ok ? -1 : x->last_ok < y->last_ok;
}

static void
cand_send(const struct cand *c, uint32_t id)
{
	struct store_cand	 sc;
	size_t			 i;

	memset(&sc, 0, sizeof(sc));
	sc.peer = c->id;
	qsort(c->rec->addrs, c->rec->naddrs, sizeof(c->rec->addrs[0]),
	    addr_cmp);
	for (i = 0; i < c->rec->naddrs; i++) {
		sc.addrs[i].len = c->rec->addrs[i].len;
		memcpy(sc.addrs[i].b, c->rec->addrs[i].b,
		    c->rec->addrs[i].len);
	}
	sc.naddrs = c->rec->naddrs;
	child_compose(PROC_ENGINE, IMSG_STORE_CANDIDATE, id, -1, &sc,
	    sizeof(sc));
}

/* The addresses of one peer, for a control request (id) that names it. */
void
rec_lookup(uint32_t id, const struct peerid *peer)
{
	static struct peer_rec	 pr;
	struct cand		 c;
	MDB_txn			*txn;
	MDB_val			 k, v;

	if (store_read_begin(&txn) == 0) {
		k.mv_data = (void *)(uintptr_t)peer->mh;
		k.mv_size = peer->len;
		if (mdb_get(txn, dbs.peers, &k, &v) == 0 &&
		    peer_rec_decode(v.mv_data, v.mv_size, &pr, NULL, 0) == 0 &&
		    pr.naddrs > 0) {
			c.id = *peer;
			c.rec = &pr;
			cand_send(&c, id);
		}
		mdb_txn_abort(txn);
	}
	child_compose(PROC_ENGINE, IMSG_STORE_CANDIDATES_END, id, -1, NULL, 0);
}

/* A weighted random sample of the known peers that may be dialled. */
void
rec_candidates(uint32_t id, const struct store_cand_req *req)
{
	static struct peer_rec	 recs[STORE_MAXCAND + 1];
	struct cand		 best[STORE_MAXCAND + 1], c;
	MDB_cursor		*cur;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int64_t			 now = store_now();
	size_t			 want, n = 0, i;
	int			 r;

	want = req->want > STORE_MAXCAND ? STORE_MAXCAND : req->want;
	for (i = 0; i <= STORE_MAXCAND; i++)
		best[i].rec = &recs[i];
	if (want > 0 && store_read_begin(&txn) == 0) {
		if (cursor_open(txn, dbs.peers, &cur) == 0) {
			for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
			    r == 0; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
				c = best[n];
				if (peerid_from_mh(k.mv_data, k.mv_size,
				    &c.id) == -1 || peer_rec_decode(v.mv_data,
				    v.mv_size, c.rec, NULL, 0) == -1 ||
				    c.rec->naddrs == 0 ||
				    cand_waiting(c.rec, now, req->backoff_max))
					continue;
				c.key = cand_key(c.rec, now);
				/* insertion into best[], highest key first */
				for (i = n; i > 0 && best[i - 1].key < c.key;
				    i--)
					best[i] = best[i - 1];
				best[i] = c;
				if (n < want)
					n++;
			}
			mdb_cursor_close(cur);
		}
		mdb_txn_abort(txn);
	}
	for (i = 0; i < n; i++)
		cand_send(&best[i], 0);
	child_compose(PROC_ENGINE, IMSG_STORE_CANDIDATES_END, 0, -1, NULL, 0);
}

static void
peer_row(const struct peerid *id, const struct peer_rec *r,
    struct ctl_peer *p)
{
	struct multiaddr	 ma;
	size_t			 i, best = 0;

	memset(p, 0, sizeof(*p));
	peerid_format(id, p->peer, sizeof(p->peer));
	p->sources = r->sources;
	p->first_seen = r->first_seen;
	p->last_seen = r->last_seen;
	p->last_ok = r->last_ok;
	p->fails = (int32_t)r->fails;
	p->naddrs = (int32_t)r->naddrs;
	strlcpy(p->agent, r->agent, sizeof(p->agent));
	for (i = 1; i < r->naddrs; i++)
		if (r->addrs[i].last_ok > r->addrs[best].last_ok)
			best = i;
	if (r->naddrs > 0 && maddr_decode(r->addrs[best].b,
	    r->addrs[best].len, &ma) == 0 &&
	    maddr_format(&ma, p->addr, sizeof(p->addr)) == -1)
		strlcpy(p->addr, "?", sizeof(p->addr));
}

/* A row of a listing: 0 when the record does not decode; sent if send. */
typedef int	(*row_fn)(const MDB_val *, const MDB_val *, uint32_t, int);

static void
rec_list(uint32_t ctl, MDB_dbi dbi, int newest_first, row_fn row,
    const char *what)
{
	MDB_cursor	*cur;
	MDB_txn		*txn;
	MDB_val		 k, v;
	MDB_cursor_op	 first = newest_first ? MDB_LAST : MDB_FIRST;
	MDB_cursor_op	 next = newest_first ? MDB_PREV : MDB_NEXT;
	struct ctl_result res;
	size_t		 n = 0;
	int		 r;

	if (store_read_begin(&txn) == 0) {
		if (cursor_open(txn, dbi, &cur) == 0) {
			for (r = mdb_cursor_get(cur, &k, &v, first); r == 0;
			    r = mdb_cursor_get(cur, &k, &v, next))
				n += row(&k, &v, ctl, n < STORE_LIST_MAX);
			mdb_cursor_close(cur);
		}
		mdb_txn_abort(txn);
	}
	if (msg_list_more(&res, n, STORE_LIST_MAX, what))
		child_compose(PROC_ENGINE, IMSG_CTL_RESULT, ctl, -1, &res,
		    sizeof(res));
	child_compose(PROC_ENGINE, IMSG_CTL_END, ctl, -1, NULL, 0);
}

static int
peer_list_row(const MDB_val *k, const MDB_val *v, uint32_t ctl, int send)
{
	static struct peer_rec	 pr;
	struct ctl_peer		 p;
	struct peerid		 id;

	if (peerid_from_mh(k->mv_data, k->mv_size, &id) == -1 ||
	    peer_rec_decode(v->mv_data, v->mv_size, &pr, NULL, 0) == -1)
		return 0;
	if (send) {
		peer_row(&id, &pr, &p);
		child_compose(PROC_ENGINE, IMSG_CTL_PEER, ctl, -1, &p,
		    sizeof(p));
	}
	return 1;
}

static int
acct_list_row(const MDB_val *k, const MDB_val *v, uint32_t ctl, int send)
{
	struct acct_rec	 a;
	struct ctl_acct	 row;

	if (acct_key_decode(k->mv_data, k->mv_size, &a) == -1 ||
	    acct_val_decode(v->mv_data, v->mv_size, &a, NULL, 0) == -1)
		return 0;
	if (send) {
		memset(&row, 0, sizeof(row));
		peerid_format(&a.peer, row.peer, sizeof(row.peer));
		row.day = a.day;
		row.rsvps = a.rsvps;
		row.circuits = a.circuits;
		row.bytes_in = a.bytes_in;
		row.bytes_out = a.bytes_out;
		child_compose(PROC_ENGINE, IMSG_CTL_ACCT, ctl, -1, &row,
		    sizeof(row));
	}
	return 1;
}

void
rec_show_peers(uint32_t ctl)
{
	rec_list(ctl, dbs.peers, 0, peer_list_row, "peers");
}

/* Newest day first. */
void
rec_show_acct(uint32_t ctl)
{
	rec_list(ctl, dbs.acct, 1, acct_list_row, "accounting records");
}
