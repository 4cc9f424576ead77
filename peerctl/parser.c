/*
 * The command line of peerctl, driven by a token table: each keyword
 * leads to the next table; a unique prefix is enough.
 */
#include <stdio.h>
#include <string.h>

#include "parser.h"

enum token_type {
	ENDTOKEN,
	NOTOKEN,
	KEYWORD,
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;
	const struct token	*next;
};

static const struct token t_show[];
static const struct token t_log[];

static const struct token t_main[] = {
	{ KEYWORD,	"show",		SHOW_STATUS,	t_show },
	{ KEYWORD,	"reload",	RELOAD,		NULL },
	{ KEYWORD,	"log",		NONE,		t_log },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ KEYWORD,	"status",	SHOW_STATUS,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_log[] = {
	{ KEYWORD,	"verbose",	LOG_VERBOSE,	NULL },
	{ KEYWORD,	"brief",	LOG_BRIEF,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static struct parse_result	 res;

static const struct token *
match_token(const char *word, const struct token *table)
{
	const struct token	*t = NULL;
	size_t			 i, n = 0;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		if (table[i].type == NOTOKEN) {
			if (word == NULL || *word == '\0') {
				t = &table[i];
				n++;
			}
		} else if (word != NULL && strncmp(word, table[i].keyword,
		    strlen(word)) == 0) {
			t = &table[i];
			n++;
		}
	}
	if (n != 1) {
		fprintf(stderr, "%s: %s\n", word ? word : "",
		    n ? "ambiguous" : "unknown command");
		return NULL;
	}
	if (t->value != NONE)
		res.action = t->value;
	return t;
}

static void
show_valid(const struct token *table)
{
	size_t	 i;

	fprintf(stderr, "valid commands/arguments:\n");
	for (i = 0; table[i].type != ENDTOKEN; i++)
		if (table[i].type == KEYWORD)
			fprintf(stderr, "  %s\n", table[i].keyword);
}

const struct parse_result *
parse(int argc, char *argv[])
{
	const struct token	*table = t_main, *t;
	int			 i = 0;

	memset(&res, 0, sizeof(res));
	if (argc == 0)
		return NULL;
	while (table != NULL) {
		if ((t = match_token(i < argc ? argv[i] : NULL, table)) ==
		    NULL) {
			show_valid(table);
			return NULL;
		}
		if (t->type != NOTOKEN)
			i++;
		table = t->next;
	}
	if (i < argc) {
		fprintf(stderr, "%s: unexpected argument\n", argv[i]);
		return NULL;
	}
	return res.action == NONE ? NULL : &res;
}
