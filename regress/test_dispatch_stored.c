/*
 * stored's dispatcher against the message table (dispatch_check.h), on a
 * store of its own in a temporary directory.
 */
#include <stdlib.h>

#define main stored_main
int	 stored_main(int, char *[]);
#include "../stored/stored.c"
#undef main
#include "dispatch_check.h"

int
main(void)
{
	char	 dir[] = "/tmp/peerd-dispatch-XXXXXX";
	int	 r;

	if (mkdtemp(dir) == NULL || chdir(dir) == -1)
		err(1, "%s", dir);
	event_init();
	store_open(1 << 20, dir, &rec_hooks);
	child = &stored_child;
	r = dispatch_check(stored_child.id, child_receive);
	unlink("data.mdb");
	unlink("lock.mdb");
	rmdir(dir);
	return r;
}
