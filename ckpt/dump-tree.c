/*
 * A process tree in one dump: finding the children (this kernel has no
 * /proc/PID/task/TID/children, so every /proc/PID/stat is read for the
 * parent) and checking what the processes share.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "ckpt/dump-priv.h"

int dump_children_of(pid_t pid, pid_t **out)
{
	struct proc_stat st;
	struct dirent *de;
	pid_t *kids = NULL, *nk, p;
	int n = 0;
	DIR *d = opendir("/proc");

	*out = NULL;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		p = atoi(de->d_name);
		if (proc_parse_stat(p, &st) || st.ppid != pid)
			continue;
		nk = realloc(kids, (n + 1) * sizeof(*kids));
		if (!nk)
			break;
		kids = nk;
		kids[n++] = p;
	}
	closedir(d);
	*out = kids;
	return n;
}

static const struct img_fd *find_fd(const struct img_process *p, int fd)
{
	uint32_t i;

	for (i = 0; i < p->nr_fds; i++)
		if (p->fds[i].fd == fd)
			return &p->fds[i];
	return NULL;
}

/*
 * Pipes and sockets on 0-2 are replaced by restore's own. That is right
 * for the root and for a descendant that shares the root's (the job's
 * terminal or log pipe); a descendant whose 0-2 leads elsewhere out of
 * the tree would be handed the wrong one.
 */
int dump_tree_check_fds(struct dump_tree *t)
{
	const struct img_process *root = &t->procs[0].proc;
	char why[PATH_MAX + 64];
	int i;
	uint32_t k;

	for (i = 1; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			struct img_fd *f = &p->fds[k];
			const struct img_fd *r;

			if (f->type != IMG_FD_INHERIT)
				continue;
			r = find_fd(root, f->fd);
			if (r && r->type == IMG_FD_INHERIT && r->dev == f->dev &&
			    r->ino == f->ino)
				continue;
			snprintf(why, sizeof(why),
				 "%s leads out of the tree but is not the root's fd %d",
				 f->path, f->fd);
			if (dump_fd_unsupported(t->procs[i].o, t->procs[i].pid,
						f, f->path, why))
				return -1;
		}
	}
	return 0;
}
