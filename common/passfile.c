/*
 * The passphrase source of the key (passfile.h): the configured file
 * first, else the systemd credential when $CREDENTIALS_DIRECTORY has it.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passfile.h"

/*
 * Open the passphrase source: its descriptor, with its name in source;
 * PASSFILE_NONE when none is configured; -1 with err set when it cannot
 * be used (missing, not a file, not ours, open to group or others).
 */
int
passfile_open(const char *conf, char *source, size_t srclen, char *err,
    size_t errlen)
{
	struct stat	 sb;
	const char	*dir;
	int		 fd;

	if (conf != NULL && conf[0] != '\0')
		snprintf(source, srclen, "%s", conf);
	else if ((dir = getenv("CREDENTIALS_DIRECTORY")) != NULL &&
	    dir[0] != '\0') {
		snprintf(source, srclen, "%s/%s", dir, PASSFILE_CREDENTIAL);
		if (access(source, F_OK) == -1 && errno == ENOENT)
			return PASSFILE_NONE;
	} else
		return PASSFILE_NONE;
	if ((fd = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "passphrase file %s: %s", source,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1)
		snprintf(err, errlen, "passphrase file %s: %s", source,
		    strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		snprintf(err, errlen, "passphrase file %s: not a regular file",
		    source);
	else if (sb.st_uid != geteuid())
		snprintf(err, errlen, "passphrase file %s: owned by uid %u, "
		    "not by %s (uid %u)", source, sb.st_uid, geteuid() == 0 ?
		    "root" : "the user running peerd", geteuid());
	else if (sb.st_mode & (S_IRWXG | S_IRWXO))
		snprintf(err, errlen, "passphrase file %s: mode %04o: group "
		    "and others must have no access (chmod 600)", source,
		    sb.st_mode & 07777);
	else
		return fd;
	close(fd);
	return -1;
}
