/*
 * The one table of messages the processes exchange, with the exact
 * payload size each must have (MSG_VAR: variable, checked by its reader).
 */
#ifndef PEERD_MSG_H
#define PEERD_MSG_H

#include <sys/types.h>

#include <stdint.h>

#include "imsg.h"

#define MSG_VAR		((size_t)-1)

#define PEERID_STRLEN	64	/* base58btc of an identity multihash + NUL */
#define CTL_NAMELEN	16
#define CTL_USERLEN	33
#define CTL_DETAILLEN	256
#define CTL_MSGLEN	512

enum proc_id {
	PROC_PARENT,
	PROC_ENGINE,
	PROC_KEYD,
	PROC_STORED,
	PROC_RELAYD,
	PROC_MAX
};

struct ctl_proc {
	char		 name[CTL_NAMELEN];
	int32_t		 pid;
	uint32_t	 uid;
	char		 user[CTL_USERLEN];
	char		 root[256];
	char		 state[32];
	char		 detail[CTL_DETAILLEN];
};

struct ctl_status {
	char		 version[32];
	char		 mode[16];
	int64_t		 uptime;		/* seconds */
	char		 peerid[PEERID_STRLEN];
};

struct ctl_result {
	int32_t		 ok;
	char		 msg[CTL_MSGLEN];
};

struct key_public {
	uint8_t		 pubkey[32];		/* Ed25519 */
	char		 peerid[PEERID_STRLEN];
};

#define MSG_TABLE							\
	MSG(IMSG_NONE,			0)				\
	MSG(IMSG_SOCKET_CONN,		sizeof(uint32_t))		\
	MSG(IMSG_CTL_SOCKET,		sizeof(int32_t))		\
	MSG(IMSG_RECONF_CHUNK,		MSG_VAR)			\
	MSG(IMSG_RECONF_DONE,		0)				\
	MSG(IMSG_CTL_SHOW_STATUS,	0)				\
	MSG(IMSG_CTL_STATUS,		sizeof(struct ctl_status))	\
	MSG(IMSG_CTL_PROC,		sizeof(struct ctl_proc))	\
	MSG(IMSG_CTL_RELOAD,		0)				\
	MSG(IMSG_CTL_LOG_VERBOSE,	sizeof(int32_t))		\
	MSG(IMSG_CTL_RESULT,		sizeof(struct ctl_result))	\
	MSG(IMSG_CTL_END,		0)				\
	MSG(IMSG_KEY_GET_PUBLIC,	0)				\
	MSG(IMSG_KEY_PUBLIC,		sizeof(struct key_public))

enum imsg_type {
#define MSG(t, s)	t,
	MSG_TABLE
#undef MSG
	IMSG_MAX
};

const char	*msg_name(uint32_t);
int		 msg_valid(const struct imsg *);
void		 msg_check(const struct imsg *, const char *);
const char	*proc_name(enum proc_id);

#endif /* PEERD_MSG_H */
