/*
 * Files of /proc of another process of the tree, or of a thread
 * (ckpt/dump-procfs.c): "/proc/PID/..." names a process that may not
 * exist yet while the holder places its fds (child.c), nor its threads,
 * which are made last. The holder leaves that number free, and opens the
 * file by a remote call once every process of the tree and its own
 * threads exist (task.c), at its offset, then moves it to its number.
 * Its own files (not of a thread) are opened by the child as any file.
 */
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

int restore_is_late_proc(const struct img_proc *p, const struct img_fd *f)
{
	const char *s;
	char *end;
	long pid;

	if ((f->type != IMG_FD_REG && f->type != IMG_FD_DIR &&
	     f->type != IMG_FD_PATH) || !f->path ||
	    strncmp(f->path, "/proc/", 6))
		return 0;
	s = f->path + 6;
	pid = strtol(s, &end, 10);
	if (end == s || (*end && *end != '/'))
		return 0;
	return pid != p->pid || !strncmp(end, "/task/", 6);
}

static int open_late(struct restore_proc *c, const struct img_fd *f)
{
	size_t len = strlen(f->path) + 1;
	uint64_t at = inject_scratch(c->ip);
	long fd = -1;
	int ret;

	if (len > inject_scratch_len(c->ip)) {
		errno = ENAMETOOLONG;
		pr_perror("can't open %s for fd %d of %d", f->path, f->fd,
			  c->proc->proc.pid);
		return -1;
	}
	if (inject_write(c->ip, at, f->path, len) ||
	    rcall(c, 0, "open a /proc file", &fd, SYS_openat, AT_FDCWD, at,
		  f->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY), 0, 0,
		  0))
		return -1;
	if (f->type == IMG_FD_REG && f->pos)
		ret = rcall(c, 0, "seek in a /proc file", NULL, SYS_lseek, fd,
			    f->pos, SEEK_SET, 0, 0, 0);
	else
		ret = 0;
	if (!ret && fd == f->fd)
		return rcall(c, 0, "set the flags of a /proc file", NULL,
			     SYS_fcntl, fd, F_SETFD, f->fdflags, 0, 0, 0);
	if (!ret)
		ret = rcall(c, 0, "place a /proc file", NULL, SYS_dup3, fd,
			    f->fd, f->fdflags & FD_CLOEXEC ? O_CLOEXEC : 0, 0,
			    0, 0);
	if (rcall(c, 0, "close", NULL, SYS_close, fd, 0, 0, 0, 0, 0))
		ret = -1;
	return ret;
}

int restore_late_procfs(struct restore_proc *c)
{
	const struct img_process *p = c->proc;
	uint32_t k;

	for (k = 0; k < p->nr_fds; k++)
		if (!restore_fd_opt(c, p->fds[k].fd) &&
		    restore_is_late_proc(&p->proc, &p->fds[k]) &&
		    open_late(c, &p->fds[k]))
			return -1;
	return 0;
}
