/*
 * Checks every message against the table in msg.h.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "imsg.h"
#include "log.h"
#include "msg.h"

static const struct msg_row msgs[] = {
#define MSG(t, s, f, r, fl)	{ #t, s, f, r, fl },
	MSG_TABLE
#undef MSG
};

static const struct {
	uint32_t	 type;
	size_t		 off;
	size_t		 len;
	const char	*name;
} strs[] = {
#define STR(t, st, f)	{ t, offsetof(st, f), sizeof(((st *)0)->f), #f },
	MSG_STRINGS
#undef STR
};

static const char *procs[PROC_MAX + 1] = {
	"parent", "engine", "keyd", "stored", "relayd", "control client"
};

const char *
proc_name(enum proc_id id)
{
	if (id > PROC_CTL)
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

/* Every string field of the message ends inside its array. */
static int
msg_strings(const struct imsg *imsg, enum proc_id from, char *why,
    size_t len)
{
	const char	*data = imsg->data;
	uint32_t	 type = imsg_get_type(imsg);
	size_t		 i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i].type == type &&
		    memchr(data + strs[i].off, '\0', strs[i].len) == NULL) {
			snprintf(why, len, "%s from %s: %s is not terminated",
			    msgs[type].name, proc_name(from), strs[i].name);
			return -1;
		}
	return 0;
}

/*
 * A message as its row in the table says: its type, its size, sent by
 * from to to, its strings terminated, with a descriptor exactly when it
 * carries one.  0, or -1
 * with why the message is refused in why.
 */
int
msg_accept(const struct imsg *imsg, enum proc_id from, enum proc_id to,
    char *why, size_t len)
{
	uint32_t	 type = imsg_get_type(imsg);
	size_t		 n = imsg_get_len(imsg);
	int		 fd = imsg->fd != -1;

	if (type == IMSG_NONE || type >= IMSG_MAX) {
		snprintf(why, len, "unknown message type %u from %s", type,
		    proc_name(from));
		return -1;
	}
	if (from > PROC_CTL || to > PROC_CTL ||
	    (msgs[type].from & (1U << from)) == 0 ||
	    (msgs[type].to & (1U << to)) == 0) {
		snprintf(why, len, "%s from %s to %s is not in the message "
		    "table", msgs[type].name, proc_name(from), proc_name(to));
		return -1;
	}
	if (msgs[type].size != MSG_VAR && n != msgs[type].size) {
		snprintf(why, len, "%s from %s: %zu bytes, not %zu",
		    msgs[type].name, proc_name(from), n, msgs[type].size);
		return -1;
	}
	if (msg_strings(imsg, from, why, len) == -1)
		return -1;
	if (fd != ((msgs[type].flags & MSG_FD) != 0)) {
		snprintf(why, len, "%s from %s %s a descriptor",
		    msgs[type].name, proc_name(from), fd ? "with" : "without");
		return -1;
	}
	return 0;
}

/* A message from another process of the suite outside the table is fatal. */
void
msg_check(const struct imsg *imsg, enum proc_id from, enum proc_id to)
{
	char	 why[160];

	if (msg_accept(imsg, from, to, why, sizeof(why)) == -1)
		fatalx("%s", why);
}

/* The row of a type, or NULL. */
const struct msg_row *
msg_row(uint32_t type)
{
	return type < IMSG_MAX ? &msgs[type] : NULL;
}

/* Whether the read-only control socket may ask it. */
int
msg_readonly(uint32_t type)
{
	return type < IMSG_MAX && (msgs[type].flags & MSG_RO);
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
