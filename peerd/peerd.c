/*
 * peerd: checks the configuration, then becomes the parent of the suite;
 * re-executed with -E it is the network engine.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "peerd.h"
#include "privsep.h"

__attribute__((__noreturn__))
static void
usage(void)
{
	fprintf(stderr, "usage: %s [-dnv] [-f file]\n"
	    "       %s [-f file] -r backup\n"
	    "       %s [-f file] -K\n", getprogname(), getprogname(),
	    getprogname());
	exit(1);
}

/* The restore is stored's: neither the parent nor the engine links LMDB. */
static void
restore_exec(const struct peerd_conf *conf, const char *backup)
{
	char	*path;

	path = privsep_sibling_path("stored");
	execl(path, path, "-R", backup, conf->state_dir, conf->user,
	    (char *)NULL);
	err(1, "%s", path);
}

int
main(int argc, char *argv[])
{
	struct peerd_conf	*conf;
	const char		*file = PEERD_CONF_FILE, *restore = NULL;
	char			 errbuf[CONF_ERRLEN], *text;
	size_t			 len;
	int			 ch, debug = 0, noaction = 0, verbose = 0;
	int			 explicit = 0, keyconf = 0;

	if (argc > 1 && strcmp(argv[1], "-E") == 0)
		engine_main(argc - 1, argv + 1);

	while ((ch = getopt(argc, argv, "df:Knr:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			file = optarg;
			explicit = 1;
			break;
		case 'K':
			keyconf = 1;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'r':
			restore = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if ((conf = config_load(file, explicit, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "%s\n", errbuf);
		exit(1);
	}
	/* for keyd's offline commands, which link no configuration parser */
	if (keyconf) {
		printf("%s\n%s\n%s\n", conf->key_dir, conf->key_user,
		    conf->key_passfile);
		exit(0);
	}
	if (restore != NULL) {
		if (noaction || debug)
			usage();
		restore_exec(conf, restore);
	}
	if (noaction) {
		if (verbose) {
			if ((text = config_emit(conf, &len)) == NULL)
				err(1, "config_emit");
			fwrite(text, 1, len, stdout);
			free(text);
		} else
			fprintf(stderr, "configuration OK\n");
		config_free(conf);
		exit(0);
	}
	parent_main(conf, file, explicit, debug, verbose);
}
