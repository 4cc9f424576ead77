/*
 * The command line of peerctl, driven by a token table: each keyword
 * leads to the next table; a unique prefix of a keyword is enough.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

#define PING_DEFAULT	3

enum token_type {
	ENDTOKEN,
	NOTOKEN,
	KEYWORD,
	FULLWORD,	/* a keyword no prefix stands for */
	TARGET,
	COUNT,
	MESSAGE,
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;
	const struct token	*next;
};

static const struct token t_show[];
static const struct token t_log[];
static const struct token t_target[];
static const struct token t_ping[];
static const struct token t_ping_opts[];
static const struct token t_count[];
static const struct token t_key[];
static const struct token t_publish[];
static const struct token t_message[];
static const struct token t_subscribe[];
static const struct token t_sub_opts[];
static const struct token t_gossip[];

static const struct token t_main[] = {
	{ KEYWORD,	"show",		SHOW_STATUS,	t_show },
	{ KEYWORD,	"reload",	RELOAD,		NULL },
	{ KEYWORD,	"log",		NONE,		t_log },
	{ KEYWORD,	"ping",		PING,		t_ping },
	{ KEYWORD,	"connect",	CONNECT,	t_target },
	{ KEYWORD,	"disconnect",	DISCONNECT,	t_target },
	{ KEYWORD,	"block",	BLOCK,		t_target },
	{ KEYWORD,	"unblock",	UNBLOCK,	t_target },
	{ KEYWORD,	"backup",	BACKUP,		t_target },
	{ KEYWORD,	"verify",	VERIFY,		NULL },
	{ FULLWORD,	"lockdown",	LOCKDOWN,	NULL },
	{ KEYWORD,	"key",		NONE,		t_key },
	{ FULLWORD,	"publish",	PUBLISH,	t_publish },
	{ FULLWORD,	"subscribe",	SUBSCRIBE,	t_subscribe },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ KEYWORD,	"status",	SHOW_STATUS,	NULL },
	{ KEYWORD,	"connections",	SHOW_CONNS,	NULL },
	{ KEYWORD,	"reservations",	SHOW_RSVPS,	NULL },
	{ KEYWORD,	"circuits",	SHOW_CIRCUITS,	NULL },
	{ KEYWORD,	"peers",	SHOW_PEERS,	NULL },
	{ KEYWORD,	"bans",		SHOW_BANS,	NULL },
	{ KEYWORD,	"accounting",	SHOW_ACCT,	NULL },
	{ KEYWORD,	"store",	SHOW_STORE,	NULL },
	{ KEYWORD,	"metrics",	SHOW_METRICS,	NULL },
	{ KEYWORD,	"topics",	SHOW_TOPICS,	NULL },
	{ KEYWORD,	"gossip",	NONE,		t_gossip },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_gossip[] = {
	{ KEYWORD,	"peers",	SHOW_GSPEERS,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_key[] = {
	{ KEYWORD,	"show",		KEY_SHOW,	NULL },
	{ KEYWORD,	"rotate",	KEY_ROTATE,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_log[] = {
	{ KEYWORD,	"verbose",	LOG_VERBOSE,	NULL },
	{ KEYWORD,	"brief",	LOG_BRIEF,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_target[] = {
	{ TARGET,	"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_ping[] = {
	{ TARGET,	"",		NONE,		t_ping_opts },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_ping_opts[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ KEYWORD,	"-c",		NONE,		t_count },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_publish[] = {
	{ TARGET,	"",		NONE,		t_message },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_message[] = {
	{ MESSAGE,	"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_subscribe[] = {
	{ TARGET,	"",		NONE,		t_sub_opts },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_sub_opts[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ FULLWORD,	"-j",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_count[] = {
	{ COUNT,	"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static struct parse_result	 res;
static int			 said;	/* a bad argument said why */

static int
match_arg(const char *word, const struct token *t)
{
	const char	*errstr;

	if (word == NULL)
		return 0;
	if (t->type == MESSAGE) {
		if (strlcpy(res.message, word, sizeof(res.message)) >=
		    sizeof(res.message)) {
			fprintf(stderr, "message too long for the command "
			    "line: give - and the message on standard "
			    "input\n");
			said = 1;
			return 0;
		}
		return 1;
	}
	if (t->type == TARGET) {
		if (strlcpy(res.target, word, sizeof(res.target)) >=
		    sizeof(res.target)) {
			fprintf(stderr, "%s: too long\n", word);
			said = 1;
			return 0;
		}
		return 1;
	}
	res.count = strtonum(word, 1, CTL_MAXPINGS, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "count %s: %s (1 to %d)\n", word, errstr,
		    CTL_MAXPINGS);
		said = 1;
		return 0;
	}
	return 1;
}

static const struct token *
match_token(const char *word, const struct token *table)
{
	const struct token	*t = NULL;
	size_t			 i, n = 0;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		switch (table[i].type) {
		case NOTOKEN:
			if (word == NULL || *word == '\0') {
				t = &table[i];
				n++;
			}
			break;
		case KEYWORD:
			if (word != NULL && strncmp(word, table[i].keyword,
			    strlen(word)) == 0) {
				t = &table[i];
				n++;
			}
			break;
		case FULLWORD:
			if (word != NULL && strcmp(word, table[i].keyword) ==
			    0) {
				t = &table[i];
				n++;
			}
			break;
		case TARGET:
		case COUNT:
		case MESSAGE:
			if (match_arg(word, &table[i])) {
				t = &table[i];
				n++;
			}
			break;
		case ENDTOKEN:
			break;
		}
	}
	if (n != 1) {
		if (n == 0 && said)
			return NULL;
		fprintf(stderr, "%s: %s\n", word ? word : "(nothing)",
		    n ? "ambiguous" : word ? "unknown command or argument" :
		    "missing argument");
		return NULL;
	}
	if (t->value != NONE)
		res.action = t->value;
	if (t->type == FULLWORD && strcmp(t->keyword, "-j") == 0)
		res.json = 1;
	return t;
}

/* 30s, 10m, 2h, 7d, 1w, a bare number of seconds, or "forever". */
static int
parse_duration(const char *word, int64_t *secs)
{
	static const struct {
		char	 unit;
		int64_t	 mult;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 },
	};
	char		 num[32];
	const char	*errstr;
	size_t		 len = strlen(word), i;
	int64_t		 mult = 1, n;

	if (strcmp(word, "forever") == 0) {
		*secs = 0;
		return 0;
	}
	if (len == 0 || len >= sizeof(num))
		return -1;
	strlcpy(num, word, sizeof(num));
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (num[len - 1] == units[i].unit) {
			mult = units[i].mult;
			num[len - 1] = '\0';
			break;
		}
	n = strtonum(num, 1, CTL_MAXBAN / mult, &errstr);
	if (errstr != NULL)
		return -1;
	*secs = n * mult;
	return 0;
}

/* block TARGET [DURATION] [REASON ...] */
static int
parse_block(int argc, char *argv[])
{
	int	 i = 0;

	if (strlen(res.target) >= BAN_TARGETLEN) {
		fprintf(stderr, "%s: too long (at most %d bytes)\n",
		    res.target, BAN_TARGETLEN - 1);
		return -1;
	}
	if (argc > 0 && parse_duration(argv[0], &res.duration) == 0)
		i++;
	/* a mistyped duration must not become a ban without end */
	else if (argc > 0 && isdigit((unsigned char)argv[0][0])) {
		fprintf(stderr, "%s: not a duration (30s, 10m, 2h, 7d, 1w, "
		    "at most 10 years, or forever)\n", argv[0]);
		return -1;
	}
	for (; i < argc; i++) {
		if (res.reason[0] != '\0')
			strlcat(res.reason, " ", sizeof(res.reason));
		if (strlcat(res.reason, argv[i], sizeof(res.reason)) >=
		    sizeof(res.reason)) {
			fprintf(stderr, "reason too long (at most %d "
			    "bytes)\n", BAN_REASONLEN - 1);
			return -1;
		}
	}
	return 0;
}

const struct parse_result *
parse(int argc, char *argv[])
{
	const struct token	*table = t_main, *t;
	int			 i = 0;

	memset(&res, 0, sizeof(res));
	res.count = PING_DEFAULT;
	if (argc == 0)
		return NULL;
	while (table != NULL) {
		if ((t = match_token(i < argc ? argv[i] : NULL, table)) ==
		    NULL)
			return NULL;
		if (t->type != NOTOKEN)
			i++;
		table = t->next;
	}
	if (res.action == BLOCK) {
		if (parse_block(argc - i, argv + i) == -1)
			return NULL;
		i = argc;
	}
	if (i < argc) {
		fprintf(stderr, "%s: unexpected argument\n", argv[i]);
		return NULL;
	}
	return res.action == NONE ? NULL : &res;
}
