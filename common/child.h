/*
 * The frame every child shares: its channels to the parent and to its
 * siblings, configuration updates, verbosity, status, and shutdown.
 */
#ifndef PEERD_CHILD_H
#define PEERD_CHILD_H

#include "imsgev.h"
#include "msg.h"
#include "privsep.h"

struct child {
	enum proc_id		 id;
	struct privsep_opts	 opts;
	struct imsgev		 iev[PROC_MAX];
	int			 configured;	/* a configuration applies */
	int			 logformat;	/* of the one being received */
	int			 lograte;	/* log.rateLimit */
	int			 have_log;
	int			 lockdown;	/* entered; only a restart leaves */
	/*
	 * process specific; dispatch and reconf return -1 for a message
	 * they refuse.  reconf takes the parts of a configuration (msg.h)
	 * as they come, configure applies them at IMSG_RECONF_DONE.
	 */
	int	(*dispatch)(enum proc_id, struct imsg *);
	void	(*peer_up)(enum proc_id);
	int	(*reconf)(struct imsg *);
	void	(*configure)(void);
	void	(*status)(struct ctl_proc *);
	void	(*shutdown)(void);
	void	(*metrics)(struct metric_set *);	/* its rows */
	/* lockdown: stop doing what the key allows; says what it did */
	const char *(*lockdown_hook)(void);
};

extern struct child	*child;

void	 child_start(struct child *, int, char *[]);
void	 child_loop(void);
void	 child_receive(enum proc_id, struct imsg *);
int	 child_compose(enum proc_id, uint32_t, uint32_t, int, const void *,
	    size_t);
void	 child_fill_proc(struct ctl_proc *);
void	 child_metrics(struct metric_set *);
int	 child_connected(enum proc_id);
int	 child_has_room(enum proc_id);
int	 child_reconf_maddr(struct imsg *, struct reconf_maddr *);
int	 child_reconf_peerid(struct imsg *, struct reconf_peerid *);

#endif /* PEERD_CHILD_H */
