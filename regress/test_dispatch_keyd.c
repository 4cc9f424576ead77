/*
 * keyd's dispatcher against the message table (dispatch_check.h).
 */
#define main keyd_main
int	 keyd_main(int, char *[]);
#include "../keyd/keyd.c"
#undef main
#include "dispatch_check.h"

int
main(void)
{
	child = &keyd_child;
	return dispatch_check(keyd_child.id, child_receive);
}
