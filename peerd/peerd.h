#ifndef PEERD_PEERD_H
#define PEERD_PEERD_H

#include <stdint.h>

#include "config.h"
#include "imsg.h"
#include "msg.h"

#define PEERD_SHUTDOWN_WAIT	5	/* seconds before SIGKILL */
#define CTL_MAXCONNS		32
#define LISTEN_BACKLOG		512
#define CTL_MAXPINGS		1000

/* parent.c */
__attribute__((__noreturn__))
void	 parent_main(struct peerd_conf *, const char *, int, int, int);

/* engine.c */
__attribute__((__noreturn__))
void	 engine_main(int, char *[]);
const char *engine_peerid(void);
int64_t	 engine_uptime(void);

#endif /* PEERD_PEERD_H */
