/*
 * The frame every child shares: its channels to the parent and to its
 * siblings, configuration updates, verbosity, status, and shutdown.
 */
#ifndef PEERD_CHILD_H
#define PEERD_CHILD_H

#include "config.h"
#include "imsgev.h"
#include "msg.h"
#include "privsep.h"

struct child {
	enum proc_id		 id;
	struct privsep_opts	 opts;
	struct imsgev		 iev[PROC_MAX];
	struct peerd_conf	*conf;
	char			*reconf;
	size_t			 reconf_len;
	/* process specific; dispatch returns -1 for a message it refuses */
	int	(*dispatch)(enum proc_id, struct imsg *);
	void	(*peer_up)(enum proc_id);
	void	(*configure)(struct peerd_conf *, struct peerd_conf *);
	void	(*status)(struct ctl_proc *);
	void	(*shutdown)(void);
};

extern struct child	*child;

void	 child_start(struct child *, int, char *[]);
void	 child_loop(void);
int	 child_compose(enum proc_id, uint32_t, uint32_t, int, const void *,
	    size_t);
void	 child_fill_proc(struct ctl_proc *);
int	 child_connected(enum proc_id);
int	 child_has_room(enum proc_id);

#endif /* PEERD_CHILD_H */
