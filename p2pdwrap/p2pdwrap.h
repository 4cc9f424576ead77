/*
 * peerd-p2pd(8): go-libp2p-daemon's p2pd command line in front of peerd.
 * flags.c parses p2pd's flags as Go's flag package does, options.c maps
 * them to a peerd configuration or refuses them, key.c checks and
 * installs an -id key file, conf.c writes the temporary directory,
 * ready.c asks the daemon API IDENTIFY, main.c runs and stops peerd,
 * reaper.c cleans up when the wrapper is killed by SIGKILL.
 */
#ifndef PEERD_P2PDWRAP_H
#define PEERD_P2PDWRAP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdint.h>

#include "multiaddr.h"
#include "peerid.h"

#define WRAP_NAME	"peerd-p2pd"
#define WRAP_MAXADDRS	16	/* -hostAddrs, -announceAddrs */
#define WRAP_KEYLEN	68	/* PrivateKey{Ed25519, seed, public key} */

enum flag_kind { F_BOOL, F_STR, F_INT, F_DUR };

struct flag {
	const char	*name;
	enum flag_kind	 kind;
	const char	*def;		/* Go's default, as text */
	const char	*usage;
	int		 set;		/* given on the command line */
	int		 b;		/* F_BOOL */
	long long	 n;		/* F_INT; F_DUR in milliseconds */
	const char	*s;		/* F_STR */
};

/* What peerd is started with. */
struct wrapconf {
	char		 api[PATH_MAX + 8];	/* daemonApi.listen */
	char		 sock[PATH_MAX];	/* its UNIX path, or "" */
	struct sockaddr_storage api_ss;	/* else its TCP address */
	socklen_t	 api_sslen;
	const char	*listen[WRAP_MAXADDRS];
	size_t		 nlisten;
	const char	*announce[WRAP_MAXADDRS];
	size_t		 nannounce;
	int		 hop;			/* relay.hop.enabled */
	int		 gossip;		/* gossipSub.enabled */
	long long	 heartbeat;	/* gossipSub.heartbeatInterval */
	long long	 maxconns;		/* 0: peerd's default */
	int		 quiet;
	const char	*idfile;
	uint8_t		 key[WRAP_KEYLEN];	/* when idfile */
	char		 dir[PATH_MAX];	/* the temporary directory */
};

/* flags.c */
struct flag	*flag_get(const char *);
void		 flags_parse(int, char *[]);
__attribute__((__noreturn__)) void flags_usage(int);

/* options.c */
void		 options_map(struct wrapconf *);

/* key.c */
void		 key_read(struct wrapconf *);
int		 key_install(const struct wrapconf *, const char *,
		    const char *);

/* conf.c */
int		 conf_users(char *, size_t);
int		 conf_write(struct wrapconf *);
void		 conf_remove(const struct wrapconf *);

/* reaper.c */
void		 reaper_start(const struct wrapconf *, pid_t);
void		 reaper_done(void);

/* ready.c */
struct ready {
	char		 id[PEERID_STRMAX];
	char		*addrs[64];
	size_t		 naddrs;
};
int		 ready_probe(const struct wrapconf *, struct ready *);
void		 ready_print(const struct wrapconf *, const struct ready *);
void		 ready_free(struct ready *);

#endif /* PEERD_P2PDWRAP_H */
