#ifndef PEERCTL_OUTPUT_H
#define PEERCTL_OUTPUT_H

#include "msg.h"

struct output {
	void	(*head)(void);
	void	(*status)(const struct ctl_status *);
	void	(*proc)(const struct ctl_proc *);
	void	(*result)(const struct ctl_result *);
	void	(*tail)(void);
};

extern const struct output show_output, json_output;

#endif /* PEERCTL_OUTPUT_H */
