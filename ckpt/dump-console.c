/*
 * A container's console: a pty of the tree's own devpts instance (on
 * /dev/pts) whose master a process outside the tree holds, as runc -t
 * hands it to its --console-socket and containerd's shim keeps it. Its
 * slave fds become PTY_SLAVE files like those of a pair in the tree, and
 * the pair a PTY_MASTER file flagged IMG_TTY_CONSOLE, read through a copy
 * of the holder's master (dump-tty.c reads it as any master): restore
 * makes the pair again on the new instance and hands the new master to
 * its --console-socket, as runc does at run.
 *
 * The holder is found by scanning every process for an fd on the ptmx of
 * that instance (st_dev, rdev 5:2) whose pty has the index (TIOCGPTN).
 * It runs on meanwhile: what it typed and the container has not read
 * can't be put back exactly while it may type more, and is refused.
 * What the container wrote and the holder has not read yet is the
 * holder's, as what a socket's peer has received and not read: it stays
 * in the old pty, which the holder reads to its end (a master reads EIO
 * only once its queue is empty), and is not in the image, so that the
 * holder gets every byte once, from the old master and then the new.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define PTMX_MAJOR	5
#define PTMX_MINOR	2

/* The tree's DEVPTS mount on /dev/pts of device dev, or NULL: a console
 * slave is known by its path, /dev/pts/N */
static const struct img_mount *own_pts(const struct dump_tree *t, dev_t dev)
{
	uint32_t i;

	for (i = 0; t->mnt && i < t->mnt->n; i++)
		if (t->mnt->recs[i].kind == IMG_MNT_DEVPTS &&
		    t->mnt->recs[i].dev == dev &&
		    !strcmp(t->mnt->recs[i].point, "/dev/pts"))
			return &t->mnt->recs[i];
	return NULL;
}

/* Is fd of pid a master of pty index (its instance is checked)? */
static int is_master(pid_t pid, int fd, long index)
{
	struct dump_file df = { .pid = pid, .fd = fd };
	unsigned int n;
	int m, ret;

	m = dump_grab_fd(&df);
	if (m < 0)
		return 0;
	ret = !ioctl(m, TIOCGPTN, &n) && n == index;
	close(m);
	return ret;
}

/* An fd of pid on the master of pty index of the instance on dev, or -1 */
static int holds_master(pid_t pid, dev_t dev, long index)
{
	char path[64], fdp[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int fd = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && fd < 0 && (de = readdir(d))) {
		snprintf(fdp, sizeof(fdp), "%s/%s", path, de->d_name);
		if (!stat(fdp, &st) && S_ISCHR(st.st_mode) &&
		    st.st_dev == dev &&
		    st.st_rdev == makedev(PTMX_MAJOR, PTMX_MINOR) &&
		    is_master(pid, atoi(de->d_name), index))
			fd = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return fd;
}

int dump_console_holder(const struct dump_tree *t, dev_t dev, long index,
			pid_t *pid, int *fd)
{
	struct dirent *de;
	DIR *d;

	*fd = -1;
	if (index < 0 || !own_pts(t, dev))
		return -1;
	d = opendir("/proc");
	while (d && *fd < 0 && (de = readdir(d))) {
		*pid = atoi(de->d_name);
		if (*pid > 0 && *pid != getpid() && !dump_tree_has(t, *pid))
			*fd = holds_master(*pid, dev, index);
	}
	if (d)
		closedir(d);
	return *fd < 0 ? -1 : 0;
}

/* Has the tree a PTY_MASTER file for slave s? */
static int has_master(const struct dump_tree *t, const struct dump_file *s)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_PTY_MASTER &&
		    t->files[i].f.tty.mount == s->f.tty.mount &&
		    t->files[i].f.tty.index == s->f.tty.index)
			return 1;
	return 0;
}

/* The console master of slave s: named by s's fd in messages, read
 * through the holder's (outside, outside_fd) */
static int add_console(struct dump_tree *t, const struct dump_file *s)
{
	dev_t dev = t->mnt->recs[s->f.tty.mount - 1].dev;
	struct dump_file df = { .pid = s->pid, .fd = s->fd }, *n;

	if (dump_console_holder(t, dev, s->f.tty.index, &df.outside,
				&df.outside_fd)) {
		pr_err("can't dump fd %d of %d: the master of its console pty /dev/pts/%u is held by no process any more",
		       s->fd, s->pid, s->f.tty.index);
		errno = EOPNOTSUPP;
		return -1;
	}
	df.f.kind = IMG_FILE_PTY_MASTER;
	df.f.flags = O_RDWR;
	df.f.id = t->files[t->nr_files - 1].f.id + 1;
	df.f.tty.index = s->f.tty.index;
	df.f.tty.mount = s->f.tty.mount;
	df.f.tty.flags = IMG_TTY_CONSOLE;
	/* s is in the table that moves */
	n = realloc(t->files, (t->nr_files + 1) * sizeof(*n));
	if (!n)
		return -1;
	t->files = n;
	n[t->nr_files++] = df;
	pr_info("pty /dev/pts/%u of %d is a console, its master fd %d of %d",
		df.f.tty.index, df.pid, df.outside_fd, df.outside);
	return 0;
}

int dump_consoles_add(struct dump_tree *t)
{
	uint32_t i, n = t->nr_files;

	for (i = 0; i < n; i++)
		if (t->files[i].f.kind == IMG_FILE_PTY_SLAVE &&
		    t->files[i].f.tty.mount && !has_master(t, &t->files[i]) &&
		    add_console(t, &t->files[i]))
			return -1;
	return 0;
}

/* A copy of the console master df reads, from its holder */
int dump_console_grab(const struct dump_file *df)
{
	struct dump_file h = { .pid = df->outside, .fd = df->outside_fd };

	return dump_grab_fd(&h);
}

