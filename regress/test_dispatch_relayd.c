/*
 * relayd's dispatcher against the message table (dispatch_check.h).
 */
#define main relayd_main
int	 relayd_main(int, char *[]);
#include "../relayd/relayd.c"
#undef main
#include "dispatch_check.h"

int
main(void)
{
	event_init();
	policy_init(&rd.pol);
	child = &relayd_child;
	return dispatch_check(relayd_child.id, child_receive);
}
