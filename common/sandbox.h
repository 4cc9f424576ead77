/*
 * seccomp filters: each process of the suite, once started, confined to
 * the system calls it needs.
 */
#ifndef PEERD_SANDBOX_H
#define PEERD_SANDBOX_H

#include <stddef.h>

#include "msg.h"

void	 sandbox_prepare(void);
void	 sandbox_enter(enum proc_id);
const char *sandbox_state(char *, size_t);

#endif /* PEERD_SANDBOX_H */
