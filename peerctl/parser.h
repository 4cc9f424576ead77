#ifndef PEERCTL_PARSER_H
#define PEERCTL_PARSER_H

enum actions {
	NONE,
	SHOW_STATUS,
	RELOAD,
	LOG_VERBOSE,
	LOG_BRIEF,
};

struct parse_result {
	enum actions	 action;
};

const struct parse_result *parse(int, char *[]);
void	 parse_usage(void);

#endif /* PEERCTL_PARSER_H */
