/*
 * Process groups whose leader is not in the image: an orphan in the
 * group of its dead parent, a pipeline whose first command exited. A
 * group exists only while a process is in it, and setpgid() joins only
 * a group that exists, so the parent of the group's members (ckpt
 * refuses members of several parents or another session) first makes a
 * helper process with the group's id, which leads the group until every
 * member is in it, and then ends it (child.c). The group of the root is
 * restore's own.
 */
#include <stdio.h>
#include <unistd.h>

#include "restore/restore.h"

pid_t restore_leaderless_group(const struct restore_run *run,
			       const struct img_proc *p)
{
	const struct image *img = run->img;
	uint32_t i;

	if (p == &img->procs[0].proc || p->pgid == p->pid ||
	    p->pgid == img->procs[0].proc.pgid || p->sid == p->pid)
		return 0;
	for (i = 0; i < img->nr_procs; i++)
		if (img->procs[i].proc.pid == p->pgid)
			return 0;
	return p->pgid;
}

int restore_check_groups(const struct restore_run *run)
{
	char path[64];
	uint32_t i;
	pid_t g;

	for (i = 0; i < run->img->nr_procs; i++) {
		g = restore_leaderless_group(run, &run->img->procs[i].proc);
		snprintf(path, sizeof(path), "/proc/%d", g);
		if (g && !access(path, F_OK)) {
			pr_err("can't restore %s: pid %d, of the group of %d, is taken",
			       run->path, g, run->img->procs[i].proc.pid);
			return -1;
		}
	}
	return 0;
}
