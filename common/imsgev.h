/*
 * An imsgbuf driven by libevent: read events always, write events while
 * anything is queued.
 */
#ifndef PEERD_IMSGEV_H
#define PEERD_IMSGEV_H

#include <event.h>

#include "imsg.h"

struct imsgev {
	struct imsgbuf	 ibuf;
	struct event	 ev;
	void		(*handler)(int, short, void *);
	void		*data;
	short		 events;
	int		 active;
	int		 paused;	/* not reading for now */
};

void	 imsgev_init(struct imsgev *, int, void (*)(int, short, void *),
	    void *);
void	 imsgev_add(struct imsgev *);
void	 imsgev_clear(struct imsgev *);
int	 imsgev_compose(struct imsgev *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
int	 imsgev_io(struct imsgev *, short, const char *);

#endif /* PEERD_IMSGEV_H */
