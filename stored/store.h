/*
 * stored: the LMDB environment, its write batches, and what lives in it.
 */
#ifndef PEERD_STORE_H
#define PEERD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "msg.h"
#include "storerec.h"

#define STORE_SCHEMA		2
#define STORE_MAXDBS		8
#define STORE_BATCH_OPS		512	/* a batch commits at this size */
#define STORE_BATCH_MS		50	/* or this long after its first op */
#define STORE_MAXQUEUE		4096	/* best-effort ops kept while failing */
#define STORE_RETRY		5	/* seconds between tries after a failure */
#define STORE_LIST_MAX		2000	/* rows in one listing */
#define STORE_MAXCAND		32

struct store_dbs {
	MDB_dbi		 meta;
	MDB_dbi		 peers;
	MDB_dbi		 bans;
	MDB_dbi		 acct;
};

enum store_op_type {
	OP_PEER,
	OP_BAN,
	OP_ACCT
};

/* restore.c: stored -R, the offline restore */
int	 restore_main(const char *, const char *, const char *);

/* verify.c: walks an environment, for stored and for the restore */
struct verify_report {
	uint64_t	 peers;
	uint64_t	 bans;
	uint64_t	 acct;
	uint64_t	 meta;
	uint64_t	 problems;
	uint32_t	 schema;
	void		(*problem)(void *, const char *);
	void		*arg;
};

int	 verify_env(MDB_env *, struct verify_report *, char *, size_t);
int	 store_open_dbs(MDB_txn *, struct store_dbs *, unsigned int);
int	 store_size_ok(MDB_env *, char *, size_t);
void	 verify_summary(const struct verify_report *, char *, size_t);

/*
 * store.c: what records.c does inside store.c's transactions, handed
 * down by stored.c at open.
 */
struct store_hooks {
	/* 0 applied, -1 refused (msg says why), else an LMDB or errno code */
	int	(*apply)(MDB_txn *, enum store_op_type, const void *, size_t,
		    char *, size_t);
	/* expired records, and records over the caps: 0, or a code */
	int	(*prune)(MDB_txn *, int64_t);
	/* after each write transaction, whether it was committed */
	void	(*done)(int);
	/* the records' part of peerctl show store */
	void	(*show)(MDB_txn *, struct ctl_store *);
};

extern MDB_env		*env;
extern struct store_dbs	 dbs;

void	 store_open(int64_t, const char *, const struct store_hooks *);
void	 store_close(void);
void	 store_queue(enum store_op_type, const void *, size_t, uint32_t);
int	 store_flush(void);
int	 store_read_begin(MDB_txn **);
int64_t	 store_now(void);
void	 store_status(char *, size_t);
void	 store_metrics(struct metric_set *);
void	 store_show(uint32_t);
void	 store_sweep(void);
void	 store_reply(uint32_t, uint32_t, int, const char *);

/* records.c */
struct rec_limits {
	uint64_t	 max_peers;
	uint64_t	 max_acct;		/* accounting records */
	uint64_t	 max_acct_size;		/* bytes of their pages */
};

int	 rec_apply(MDB_txn *, enum store_op_type, const void *, size_t,
	    char *, size_t);
int	 rec_prune(MDB_txn *, int64_t);
void	 rec_done(int);
void	 rec_show_store(MDB_txn *, struct ctl_store *);
void	 rec_set_limits(const struct rec_limits *);
void	 rec_send_bans(void);
void	 rec_candidates(uint32_t, const struct store_cand_req *);
void	 rec_lookup(uint32_t, const struct peerid *);
void	 rec_show_peers(uint32_t);
void	 rec_show_acct(uint32_t);

#endif /* PEERD_STORE_H */
