/*
 * app: application plugins (plugins/app.h, ckpt-app-plugin(7)) at the
 * events of a restore: BEFORE_CREATE (the image read and checked, its
 * records theirs to read) and BEFORE_RUN may refuse it; RUNNING is told.
 */
#include "plugins/appset.h"
#include "restore/restore.h"

int restore_app_event(struct restore_run *run, enum ckpt_app_event ev,
		      pid_t root)
{
	if (!run->apps.n)
		return 0;
	if (ev == CKPT_APP_BEFORE_CREATE)
		app_set_image(&run->apps, run->img);
	return app_set_event(&run->apps, ev, root, run->path,
			     ev != CKPT_APP_RUNNING);
}
