/*
 * Files of /proc that fds of the tree hold. The kernel shows them as
 * "/proc/PID/..." (/proc/self resolved), and restore opens them again by
 * that path in the process being made, which has its PID back already:
 * its own files come back as they were; those of other processes of the
 * tree, and of its own threads (/proc/PID/task/TID), are opened once
 * they all exist (restore/procfs.c), PIDs being the same. A /proc file of
 * a process outside the tree (whose PID may be anyone's after restore),
 * or of a thread of another process, is refused, naming it.
 */
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

/*
 * A namespace fd ("net:[4026531840]", from /proc/PID/ns/net or setns
 * users): one of the namespaces the process lives in is kept as
 * /proc/PID/ns/TYPE, which restore opens in the process, living in
 * restore's namespaces as the whole tree does (it makes none). Another
 * namespace is refused. 0: not a namespace fd.
 */
int dump_ns_fd(struct dump_ctx *c, struct img_fd *f, const char *link,
	       const struct stat *st)
{
	char type[16], own[64], why[160];
	unsigned long long ino;
	struct stat ns;
	char *path;

	if (sscanf(link, "%15[a-z_]:[%llu]", type, &ino) != 2 ||
	    ino != st->st_ino)
		return 0;
	snprintf(own, sizeof(own), "/proc/%d/ns/%s", c->pid, type);
	if (stat(own, &ns) || ns.st_ino != st->st_ino ||
	    ns.st_dev != st->st_dev) {
		snprintf(why, sizeof(why), "%s is a namespace %d does not live in, which is not supported yet",
			 link, c->pid);
		return dump_fd_unsupported(c->o, c->pid, f, link, why) ? -1 :
			1;
	}
	path = strdup(own);
	if (!path)
		return -1;
	f->path = path;
	f->type = IMG_FD_REG;
	return 1;
}

/* The PID a /proc path is of (and in *tid the thread of its task/ part,
 * else the PID), or 0 when it is no such path. */
static pid_t proc_pid(const char *path, pid_t *tid)
{
	char *end;
	long pid;

	if (strncmp(path, "/proc/", 6))
		return 0;
	pid = strtol(path + 6, &end, 10);
	if (end == path + 6 || (*end && *end != '/') || pid <= 0)
		return 0;
	*tid = pid;
	if (!strncmp(end, "/task/", 6))
		*tid = strtol(end + 6, NULL, 10);
	return pid;
}

static int is_thread_of(const struct img_process *p, pid_t tid)
{
	uint32_t k;

	for (k = 0; k < p->nr_threads; k++)
		if (p->threads[k].tid == tid)
			return 1;
	return 0;
}

/*
 * A /proc file several fds share is opened by restore itself, before the
 * processes exist (restore/files.c): not supported yet, whatever
 * --ext-null says (its FILE record would be opened all the same).
 */
static int check_shared(struct dump_tree *t, int i, const struct img_fd *f)
{
	const struct img_file *df = &t->files[f->file - 1].f;
	pid_t tid;

	if (df->kind != IMG_FILE_REG || !proc_pid(df->path, &tid))
		return 0;
	pr_err("can't dump fd %d of %d: %s is a /proc file that several fds share, which is not supported yet",
	       f->fd, t->procs[i].pid, df->path);
	return -1;
}

static int check_fd(struct dump_tree *t, int i, struct img_fd *f)
{
	char why[PATH_MAX + 128];
	pid_t pid, tid;

	if (f->type == IMG_FD_FILE)
		return check_shared(t, i, f);
	if ((f->type != IMG_FD_REG && f->type != IMG_FD_DIR &&
	     f->type != IMG_FD_PATH) || !f->path)
		return 0;
	pid = proc_pid(f->path, &tid);
	if (!pid || (tid == pid && dump_tree_has(t, pid)) ||
	    (pid == t->procs[i].pid && is_thread_of(&t->procs[i].proc, tid)))
		return 0;
	snprintf(why, sizeof(why), tid != pid ?
		 "%s is a /proc file of thread %d of another process, which is not supported yet" :
		 "%s is a /proc file of process %d, which is not in the dump",
		 f->path, tid != pid ? tid : pid);
	return dump_fd_unsupported(t->procs[i].o, t->procs[i].pid, f, f->path,
				   why);
}

int dump_tree_check_procfs(struct dump_tree *t)
{
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++)
		for (k = 0; k < t->procs[i].proc.nr_fds; k++)
			if (check_fd(t, i, &t->procs[i].proc.fds[k]))
				return -1;
	return 0;
}
