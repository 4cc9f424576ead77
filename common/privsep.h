/*
 * Starting the children and dropping their privileges.
 */
#ifndef PEERD_PRIVSEP_H
#define PEERD_PRIVSEP_H

#include <sys/types.h>

#define PROC_PARENT_FD	3

struct privsep_opts {
	int		 debug;
	int		 verbose;
	int		 facility;
	int		 logformat;
	const char	*user;
	const char	*root;
};

pid_t	 privsep_exec(const char *, char *const [], int);
void	 privsep_child_init(int, char *[], const char *, struct privsep_opts *);
void	 privsep_drop(const char *, const char *);
void	 privsep_argv(const struct privsep_opts *, const char *, const char *,
	    char *[], size_t);
char	*privsep_sibling_path(const char *);

#endif /* PEERD_PRIVSEP_H */
