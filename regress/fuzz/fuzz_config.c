/*
 * The YAML (and JSON) configuration: whatever is parsed either fails
 * with a message or gives a configuration whose emitted text parses
 * again to an equal one.  Everything is freed (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what, const char *err)
{
	if (!cond) {
		fprintf(stderr, "fuzz_config: %s%s%s\n", what,
		    err != NULL ? ": " : "", err != NULL ? err : "");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peerd_conf	*c, *r;
	char			 err[CONF_ERRLEN], *text;
	size_t			 len;

	err[0] = '\0';
	if ((c = config_parse((const char *)data, size, "fuzz", err,
	    sizeof(err))) == NULL) {
		check(err[0] != '\0', "refused without a message", NULL);
		check(memchr(err, '\0', sizeof(err)) != NULL, "message", NULL);
		return 0;
	}
	text = config_emit(c, &len);
	check(text != NULL, "config_emit failed", NULL);
	check(strlen(text) == len, "emitted length", NULL);
	r = config_parse(text, len, "emitted", err, sizeof(err));
	if (r == NULL)
		fprintf(stderr, "emitted:\n%s\n", text);
	check(r != NULL, "the emitted configuration does not parse", err);
	if (!config_equal(c, r))
		fprintf(stderr, "emitted:\n%s\n", text);
	check(config_equal(c, r), "emitted and parsed again differs", NULL);
	config_free(r);
	config_free(c);
	free(text);
	return 0;
}
