/*
 * Checks every message against the table in msg.h.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "imsg.h"
#include "log.h"
#include "msg.h"

static const struct {
	const char	*name;
	size_t		 size;
} msgs[] = {
#define MSG(t, s)	{ #t, s },
	MSG_TABLE
#undef MSG
};

static const char *procs[PROC_MAX] = {
	"parent", "engine", "keyd", "stored", "relayd"
};

const char *
proc_name(enum proc_id id)
{
	if (id >= PROC_MAX)
		return "unknown";
	return procs[id];
}

const char *
msg_name(uint32_t type)
{
	if (type >= IMSG_MAX)
		return "unknown";
	return msgs[type].name;
}

/* Known type and exact length: 1; anything else: 0. */
int
msg_valid(const struct imsg *imsg)
{
	uint32_t type = imsg_get_type(imsg);

	if (type == IMSG_NONE || type >= IMSG_MAX)
		return 0;
	if (msgs[type].size == MSG_VAR)
		return 1;
	return imsg_get_len(imsg) == msgs[type].size;
}

/* A malformed message from another process of the suite is fatal. */
void
msg_check(const struct imsg *imsg, const char *from)
{
	if (!msg_valid(imsg))
		fatalx("malformed message from %s: type %u (%s), %zu bytes",
		    from, imsg_get_type(imsg), msg_name(imsg_get_type(imsg)),
		    imsg_get_len(imsg));
}

/* The note that ends a listing cut at max rows; 0 when none was left out. */
int
msg_list_more(struct ctl_result *res, size_t n, size_t max, const char *what)
{
	if (n <= max)
		return 0;
	memset(res, 0, sizeof(*res));
	res->ok = 1;
	snprintf(res->msg, sizeof(res->msg), "%zu more %s not listed (at most "
	    "%zu are)", n - max, what, max);
	return 1;
}
