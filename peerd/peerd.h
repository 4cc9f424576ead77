/*
 * The root parent of the suite (peerd.c, parent.c).  Of the engine it
 * re-executes (peerd -E) only the entry is here: the engine's own
 * header is engine/engine.h, which no file of the parent includes.
 */
#ifndef PEERD_PEERD_H
#define PEERD_PEERD_H

#include "config.h"

#define PEERD_SHUTDOWN_WAIT	5	/* seconds before SIGKILL */
#define LISTEN_BACKLOG		512

/* parent.c */
__attribute__((__noreturn__))
void	 parent_main(struct peerd_conf *, const char *, int, int, int);

/* engine/engine.c */
__attribute__((__noreturn__))
void	 engine_main(int, char *[]);

#endif /* PEERD_PEERD_H */
