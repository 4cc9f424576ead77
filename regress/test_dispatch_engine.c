/*
 * The engine's dispatcher against the message table (dispatch_check.h).
 */
#include "../peerd/engine/engine.c"
#include "dispatch_check.h"

int
main(void)
{
	event_init();
	child = &engine_child;
	return dispatch_check(engine_child.id, child_receive);
}
