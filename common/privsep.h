/*
 * Starting the children and dropping their privileges.
 */
#ifndef PEERD_PRIVSEP_H
#define PEERD_PRIVSEP_H

#include <sys/types.h>

#define PROC_PARENT_FD	3

struct proc_opts {
	int		 debug;
	int		 verbose;
	int		 facility;
	int		 logformat;
	const char	*user;
	const char	*root;
};

pid_t	 proc_exec(const char *, char *const [], int);
void	 proc_child_init(int, char *[], const char *, struct proc_opts *);
void	 proc_drop(const char *, const char *);
void	 proc_argv(const struct proc_opts *, const char *, const char *,
	    char *[], size_t);
char	*proc_sibling_path(const char *);

#endif /* PEERD_PRIVSEP_H */
