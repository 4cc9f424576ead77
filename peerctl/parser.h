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
};

struct parse_result {
	enum actions	 action;
	char		 target[CTL_TARGETLEN];
	int		 count;
};

const struct parse_result *parse(int, char *[]);

#endif /* PEERCTL_PARSER_H */
