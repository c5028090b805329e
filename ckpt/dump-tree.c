/*
 * A process tree in one dump: finding the children (this kernel has no
 * /proc/PID/task/TID/children, so every /proc/PID/stat is read for the
 * parent), recording its zombies and checking what the processes share.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Threads of pid besides its leader, or -1 when it is gone. */
static int other_threads(pid_t pid)
{
	pid_t *tids = NULL;
	int n = proc_list_tasks(pid, &tids);

	free(tids);
	return n < 1 ? -1 : n - 1;
}

/*
 * Is pid a zombie: has every thread exited, its parent not having reaped
 * it? A group whose leader exited first shows a zombie leader while the
 * other threads run (not a zombie), and a group being torn down shows one
 * for a moment, the time its other threads take to go: wait a little.
 */
int dump_is_zombie(pid_t pid, struct proc_stat *st)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (proc_parse_stat(pid, st) || st->state != 'Z')
			return 0;
		if (other_threads(pid) <= 0)
			return 1;
		usleep(10000);
	}
	return -1;
}

/*
 * A zombie of the tree is only its place and its exit status: /proc/PID/
 * stat field 52 is the status its parent's wait4() will get. Its parent
 * is frozen, so it can't be reaped while we dump. 1 when pid is a zombie
 * (recorded in p), 0 when it is not, -1 when it can't be dumped.
 */
int dump_zombie(pid_t pid, struct img_proc *p)
{
	struct proc_stat st;
	int z = dump_is_zombie(pid, &st);

	if (z < 0) {
		pr_err("can't dump %d: its main thread has exited and other threads run on, which is not supported yet",
		       pid);
		return -1;
	}
	if (!z)
		return 0;
	if (!img_exit_status_ok(st.exit_code)) {
		pr_err("can't dump zombie %d: unknown exit status %#x", pid,
		       st.exit_code);
		return -1;
	}
	if (!img_exit_signal_ok(st.exit_signal)) {
		pr_err("can't dump zombie %d: its exit signal is %d", pid,
		       st.exit_signal);
		return -1;
	}
	memset(p, 0, sizeof(*p));
	p->ks.exit_signal = st.exit_signal;
	p->pid = pid;
	p->ppid = st.ppid;
	p->pgid = st.pgrp;
	p->sid = st.session;
	memcpy(p->comm, st.comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	p->zombie = 1;
	p->exit_status = st.exit_code;
	return 1;
}

int dump_tree_index(const struct dump_tree *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].pid == pid)
			return i;
	return -1;
}

int dump_tree_has(const struct dump_tree *t, pid_t pid)
{
	return dump_tree_index(t, pid) >= 0;
}

const struct img_fd *dump_find_fd(const struct img_process *p, int fd)
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
			r = dump_find_fd(root, f->fd);
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
