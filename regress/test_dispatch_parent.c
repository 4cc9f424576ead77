/*
 * The parent's receive path against the message table (dispatch_check.h):
 * a message the parent refuses or does not handle stops the suite, as
 * exit 1 does here.
 */
#include "../peerd/parent.c"
#include "dispatch_check.h"

static const struct var_type	 vars[] = { { 0, 0, 0, NULL } };
static const struct var_form	 forms[] = { { 0, NULL, NULL, 0, 0 } };

static void
receive(enum proc_id from, struct imsg *imsg)
{
	if (parent_receive(from, imsg) == -1)
		exit(1);
}

int
main(void)
{
	event_init();
	return dispatch_check(PROC_PARENT, receive, vars, forms);
}
