#ifndef PEERCTL_PARSER_H
#define PEERCTL_PARSER_H

#include "msg.h"

enum actions {
	NONE,
	SHOW_STATUS,
	SHOW_CONNS,
	SHOW_RSVPS,
	SHOW_CIRCUITS,
	RELOAD,
	LOG_VERBOSE,
	LOG_BRIEF,
	PING,
	CONNECT,
	DISCONNECT,
	SHOW_PEERS,
	SHOW_BANS,
	SHOW_ACCT,
	BLOCK,
	UNBLOCK,
	BACKUP,
	VERIFY,
	SHOW_STORE,
	SHOW_METRICS,
	LOCKDOWN,
	KEY_SHOW,
	KEY_ROTATE,
	SHOW_TOPICS,
	PUBLISH,
	SUBSCRIBE,
	SHOW_GSPEERS,
};

struct parse_result {
	enum actions	 action;
	char		 target[CTL_TARGETLEN];
	int		 count;
	int64_t		 duration;		/* seconds, 0: forever */
	char		 reason[BAN_REASONLEN];
	char		 message[CTL_TARGETLEN];	/* publish; "-": stdin */
	int		 json;			/* subscribe ... -j */
};

const struct parse_result *parse(int, char *[]);

#endif /* PEERCTL_PARSER_H */
