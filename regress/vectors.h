/*
 * Test vectors from a file of "name hex" lines ('#' lines are comments),
 * as the files regress/vectors/NAME_js.txt are written; included by the
 * codec tests that read them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define VEC_MAX		64
#define VEC_MAXLEN	2048

struct vec {
	char	 name[32];
	uint8_t	 b[VEC_MAXLEN];
	size_t	 len;
};

static struct vec	 vecs[VEC_MAX];
static size_t		 nvecs;

/* 0, or -1 when the file cannot be read or a line is not hex. */
static int
load(const char *path)
{
	FILE	*fp;
	char	*line = NULL, *sp;
	size_t	 cap = 0;
	int	 rv = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (getline(&line, &cap, fp) != -1 && nvecs < VEC_MAX) {
		if (line[0] == '#' || (sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		sp[strcspn(sp, "\n")] = '\0';
		strlcpy(vecs[nvecs].name, line, sizeof(vecs[nvecs].name));
		if (sodium_hex2bin(vecs[nvecs].b, VEC_MAXLEN, sp, strlen(sp),
		    NULL, &vecs[nvecs].len, NULL) != 0) {
			rv = -1;
			break;
		}
		nvecs++;
	}
	free(line);
	fclose(fp);
	return rv;
}

/* The vector of that name; a test without it cannot go on. */
static const struct vec *
vec(const char *name)
{
	size_t	 i;

	for (i = 0; i < nvecs; i++)
		if (strcmp(vecs[i].name, name) == 0)
			return &vecs[i];
	fprintf(stderr, "no vector %s\n", name);
	exit(1);
}
