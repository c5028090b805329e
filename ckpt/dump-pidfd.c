/*
 * pidfds. A pidfd names a process by its struct pid, which fdinfo shows
 * as "Pid:" in our namespace: a process or zombie of the tree comes back
 * with its PID, so restore opens a pidfd of it again (restore/pidfd.c).
 * A process outside the tree is refused by name: restore could only name
 * whatever process has that number then. "Pid: -1" is a process that was
 * reaped: restore makes a throwaway process, lets it end as this one
 * ended (its wait status, which PIDFD_GET_INFO reports since Linux 6.15)
 * and reaps it, so that the pidfd polls readable, waitid() says ECHILD
 * and pidfd_send_signal() ESRCH, as they did. A pidfd of a thread other
 * than a leader (PIDFD_THREAD) is refused, and so is an epoll watching a
 * pidfd, which restore could only fill before the pidfd exists.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

/* <linux/pidfd.h> of Linux 6.15, which the build host may predate */
struct pidfd_exit_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO_CMD	_IOWR(0xFF, 11, struct pidfd_exit_info)
#define PIDFD_INFO_EXIT_BIT	(1ULL << 3)

/* The wait status a reaped process's pidfd reports, or 0 */
static uint32_t reaped_status(const struct dump_file *df)
{
	struct pidfd_exit_info info = { .mask = PIDFD_INFO_EXIT_BIT };
	int fd = dump_grab_fd(df), ret;

	if (fd < 0)
		return 0;
	ret = ioctl(fd, PIDFD_GET_INFO_CMD, &info);
	close(fd);
	if (ret || !(info.mask & PIDFD_INFO_EXIT_BIT))
		return 0;
	return (uint32_t)info.exit_code & 0xffff;
}

static int refuse(const struct dump_file *df, const char *why, int pid)
{
	pr_err("can't dump fd %d of %d: %s %d%s", df->fd, df->pid, why, pid,
	       strchr(why, '(') ? ") is not supported yet" :
	       ", which is not a process of the dump (a thread or a process outside the tree), is not supported");
	errno = EOPNOTSUPP;
	return -1;
}

static int dump_pidfd(struct dump_tree *t, struct dump_file *df)
{
	char path[64], *info, *p;
	int pid;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", df->pid, df->fd);
	info = read_file_str(path, NULL);
	if (!info)
		return -1;
	p = strstr(info, "\nPid:");
	pid = p ? atoi(p + 5) : 0;
	free(info);
	if (!p || !pid) {
		errno = EPROTO;
		return -1;
	}
	if (pid < 0) {
		df->f.pidfd.status = reaped_status(df);
		return 0;
	}
	if (!dump_tree_has(t, pid))
		return refuse(df, "a pidfd of", pid);
	df->f.pidfd.pid = pid;
	df->f.flags &= O_ACCMODE | O_NONBLOCK | O_EXCL;
	return 0;
}

static const struct dump_file *file_of(const struct dump_tree *t,
				       uint32_t id)
{
	/* file ids are table indexes + 1 (compact_files keeps it so) */
	return id >= 1 && id <= t->nr_files ? &t->files[id - 1] : NULL;
}

int dump_pidfds(struct dump_tree *t)
{
	const struct dump_file *w;
	uint32_t i, k;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (df->f.kind == IMG_FILE_PIDFD && dump_pidfd(t, df)) {
			if (errno != EOPNOTSUPP)
				pr_perror("can't dump pidfd fd %d of %d",
					  df->fd, df->pid);
			return -1;
		}
	}
	for (i = 0; i < t->nr_files; i++) {
		const struct dump_file *df = &t->files[i];

		for (k = 0; df->f.kind == IMG_FILE_EPOLL && k < df->f.ep.nr;
		     k++) {
			w = file_of(t, df->f.ep.w[k].file);
			if (w && w->f.kind == IMG_FILE_PIDFD)
				return refuse(df, "an epoll watching a pidfd (fd",
					      df->f.ep.w[k].tfd);
		}
	}
	return 0;
}
