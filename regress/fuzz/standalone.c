/*
 * Run a fuzz target without libFuzzer: every file named on the command
 * line, or every file in a named directory, is one input.  Speaks TAP.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"

#define INPUT_MAX	(1024 * 1024)

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
run_file(const char *path)
{
	struct stat	 st;
	uint8_t		*buf;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    st.st_size > INPUT_MAX) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static void
run_dir(const char *dir)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		 path[PATH_MAX];

	if ((d = opendir(dir)) == NULL) {
		ok(0, "%s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			ok(run_file(path) == 0, "%s", path);
	}
	closedir(d);
}

int
main(int argc, char *argv[])
{
	struct stat	 st;
	int		 i;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			ok(run_file(argv[i]) == 0, "%s", argv[i]);
	}
	return tap_done();
}
