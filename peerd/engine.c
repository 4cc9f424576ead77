/*
 * The engine: every socket to the outside world.  For now it serves the
 * control socket and gathers status from the other processes.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "peerd.h"
#include "proc.h"

static struct {
	struct key_public	 key;
	int			 have_key;
	struct timespec		 started;
} engine;

const char *
engine_peerid(void)
{
	return engine.have_key ? engine.key.peerid : "";
}

int64_t
engine_uptime(void)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - engine.started.tv_sec;
}

/* Answer what the engine knows and ask every other process for its part. */
void
engine_show_status(uint32_t ctl)
{
	static const enum proc_id others[] = {
		PROC_PARENT, PROC_KEYD, PROC_STORED, PROC_RELAYD
	};
	struct ctl_status	 st;
	struct ctl_proc		 p;
	size_t			 i;
	int			 asked = 0;

	memset(&st, 0, sizeof(st));
	strlcpy(st.version, PEERD_VERSION, sizeof(st.version));
	strlcpy(st.mode, child->conf ? config_mode_name(child->conf->mode) :
	    "", sizeof(st.mode));
	st.uptime = engine_uptime();
	strlcpy(st.peerid, engine_peerid(), sizeof(st.peerid));
	control_reply(ctl, IMSG_CTL_STATUS, &st, sizeof(st));
	child_fill_proc(&p);
	control_reply(ctl, IMSG_CTL_PROC, &p, sizeof(p));
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (child_compose(others[i], IMSG_CTL_SHOW_STATUS, ctl, -1,
		    NULL, 0) == 0)
			asked++;
	control_set_pending(ctl, asked);
}

static void
engine_peer_up(enum proc_id id)
{
	if (id == PROC_KEYD)
		child_compose(PROC_KEYD, IMSG_KEY_GET_PUBLIC, 0, -1, NULL, 0);
}

static int
engine_dispatch(enum proc_id from, struct imsg *imsg)
{
	struct ctl_result	 res;
	int32_t			 ro;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SOCKET:
		if (from != PROC_PARENT || (fd = imsg_get_fd(imsg)) == -1)
			return -1;
		imsg_get_data(imsg, &ro, sizeof(ro));
		control_init(fd, ro);
		return 0;
	case IMSG_KEY_PUBLIC:
		if (from != PROC_KEYD)
			return -1;
		imsg_get_data(imsg, &engine.key, sizeof(engine.key));
		engine.key.peerid[sizeof(engine.key.peerid) - 1] = '\0';
		engine.have_key = 1;
		return 0;
	case IMSG_CTL_PROC:
		control_reply(imsg_get_peerid(imsg), IMSG_CTL_PROC, imsg->data,
		    imsg_get_len(imsg));
		control_pending_done(imsg_get_peerid(imsg));
		return 0;
	case IMSG_CTL_RESULT:
		if (from != PROC_PARENT)
			return -1;
		imsg_get_data(imsg, &res, sizeof(res));
		res.msg[sizeof(res.msg) - 1] = '\0';
		control_reply(imsg_get_peerid(imsg), IMSG_CTL_RESULT, &res,
		    sizeof(res));
		control_end(imsg_get_peerid(imsg));
		return 0;
	default:
		return -1;
	}
}

static void
engine_status(struct ctl_proc *p)
{
	snprintf(p->detail, sizeof(p->detail), "control socket%s",
	    engine.have_key ? "" : ", waiting for keyd");
}

static void
engine_shutdown(void)
{
	control_shutdown();
}

void
engine_main(int argc, char *argv[])
{
	static struct child c = {
		.id = PROC_ENGINE,
		.dispatch = engine_dispatch,
		.peer_up = engine_peer_up,
		.status = engine_status,
		.shutdown = engine_shutdown,
	};

	clock_gettime(CLOCK_MONOTONIC, &engine.started);
	child_start(&c, argc, argv);
	child_loop();
	exit(0);
}
