/*
 * pidfds (FILE records of kind PIDFD, ckpt/dump-pidfd.c). A pidfd can
 * only be opened once its process exists, after the file table every
 * process inherits was made: so restore opens each itself when the first
 * process holding it is rebuilt (task.c), every process of the tree
 * existing by then, and the holder takes it from restore by remote
 * pidfd_getfd() and puts it at its number, while it still has restore's
 * credentials: each holder gets the one open file description, as the
 * image has it. A pidfd of a process that was reaped is one of a
 * throwaway child of restore that ends as that process ended, then is
 * reaped.
 */
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

/* Ends as status says: an exit code, or a signal with no core. */
static void __attribute__((noreturn)) end_as(uint32_t status)
{
	sigset_t set;

	if (!(status & 0x7f))
		_exit(status >> 8);
	signal(status & 0x7f, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, status & 0x7f);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), status & 0x7f);
	_exit(127);
}

/* A pidfd (with flags) of a child of ours that ended with status and was
 * reaped. */
static int reaped_pidfd(const struct img_file *f)
{
	int p[2], pfd = -1, st;
	char c;
	pid_t kid;

	if (f->pidfd.status & 0x80) {
		pr_err("can't make a pidfd of a reaped process that dumped core (file %u)",
		       f->id);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC))
		return -1;
	kid = fork();
	if (kid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(127);
		end_as(f->pidfd.status);
	}
	close(p[0]);
	if (kid > 0)
		pfd = syscall(SYS_pidfd_open, kid, f->flags & (O_NONBLOCK |
							       O_EXCL));
	close(p[1]);
	if (kid > 0 && (waitpid(kid, &st, 0) != kid || (uint32_t)st !=
							 f->pidfd.status)) {
		pr_err("the throwaway process of pidfd file %u did not end as it should (status %#x)",
		       f->id, st);
		if (pfd >= 0)
			close(pfd);
		return -1;
	}
	return pfd;
}

/* restore's own pidfd of file index i, made the first time */
static int pidfd_of(struct restore_run *run, uint32_t i)
{
	const struct img_file *f = &run->img->files[i];

	if (!run->pidfds) {
		run->pidfds = malloc(run->img->nr_files * sizeof(int));
		if (!run->pidfds)
			return -1;
		memset(run->pidfds, 0xff, run->img->nr_files * sizeof(int));
	}
	if (run->pidfds[i] >= 0)
		return run->pidfds[i];
	if (f->pidfd.pid)
		run->pidfds[i] = syscall(SYS_pidfd_open, f->pidfd.pid,
					 f->flags & (O_NONBLOCK | O_EXCL));
	else
		run->pidfds[i] = reaped_pidfd(f);
	if (run->pidfds[i] < 0)
		pr_perror("can't open a pidfd of %d", f->pidfd.pid);
	return run->pidfds[i];
}

/* Our fd src at fd->fd in c: pidfd_open(us), pidfd_getfd, dup3, closes.
 * Each number the calls get is free: fd->fd too, until the dup3. */
static int hand_over(struct restore_proc *c, const struct img_fd *fd, int src)
{
	long us = -1, got = -1;
	int ret = -1;

	if (rcall(c, 0, "open a pidfd of restore", &us, SYS_pidfd_open,
		  getpid(), 0, 0, 0, 0, 0) ||
	    rcall(c, 0, "take a pidfd from restore", &got, SYS_pidfd_getfd,
		  us, src, 0, 0, 0, 0))
		goto out;
	if (got == fd->fd)
		ret = rcall(c, 0, "set the flags of a pidfd", NULL, SYS_fcntl,
			    got, F_SETFD, fd->fdflags, 0, 0, 0);
	else
		ret = rcall(c, 0, "place a pidfd", NULL, SYS_dup3, got, fd->fd,
			    fd->fdflags & FD_CLOEXEC ? O_CLOEXEC : 0, 0, 0, 0);
out:
	if (got >= 0 && got != fd->fd &&
	    rcall(c, 0, "close", NULL, SYS_close, got, 0, 0, 0, 0, 0))
		ret = -1;
	if (us >= 0 && us != fd->fd &&
	    rcall(c, 0, "close", NULL, SYS_close, us, 0, 0, 0, 0, 0))
		ret = -1;
	return ret;
}

int restore_pidfds(struct restore_proc *c)
{
	const struct img_process *p = c->proc;
	uint32_t k;
	int i, src;

	for (k = 0; k < p->nr_fds; k++) {
		const struct img_fd *fd = &p->fds[k];

		if (fd->type != IMG_FD_FILE || restore_fd_opt(c, fd->fd))
			continue;
		i = restore_file_index(c->run->img, fd->file);
		if (i < 0 || c->run->img->files[i].kind != IMG_FILE_PIDFD)
			continue;
		src = pidfd_of(c->run, i);
		if (src < 0 || hand_over(c, fd, src))
			return -1;
	}
	return 0;
}

void restore_pidfds_close(struct restore_run *run)
{
	uint32_t i;

	for (i = 0; run->pidfds && i < run->img->nr_files; i++)
		if (run->pidfds[i] >= 0)
			close(run->pidfds[i]);
	free(run->pidfds);
	run->pidfds = NULL;
}

/* Is fd f a pidfd, which restore_pidfds() places? */
int restore_is_pidfd(const struct image *img, const struct img_fd *f)
{
	int i;

	if (f->type != IMG_FD_FILE)
		return 0;
	i = restore_file_index(img, f->file);
	return i >= 0 && img->files[i].kind == IMG_FILE_PIDFD;
}
