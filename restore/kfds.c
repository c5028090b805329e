/*
 * Kernel objects of the image's file table: eventfd, epoll, signalfd,
 * timerfd and inotify, made again in restore before the first process is
 * created (files.c), so that every process that had one inherits the same
 * open file description.
 *
 * A timerfd gets its clock, period and time left, and then the
 * expirations nobody had read by TFD_IOC_SET_TICKS (the ioctl the kernel
 * has for checkpoint/restore): a read() after restore returns them plus
 * whatever expired since.
 *
 * An inotify instance gives watch descriptors in increasing order
 * (idr_alloc_cyclic), so its watches are added in wd order; a wd the
 * process had removed is used up by a watch on a throwaway directory,
 * removed at once, and the IN_IGNORED events that leaves are drained.
 * Events queued at dump time are not carried: they are lost.
 *
 * An epoll is filled by a restored process, the first of the tree that
 * holds it (child.c), before it puts its own fds in place: a signalfd
 * wakes the epolls of the process that added it (the poll is on that
 * process's signal queue), and the kernel keys a watch by file and fd
 * number, which the process names in later EPOLL_CTL_MOD and _DEL calls,
 * so each file is added under its original number, which restore_kfds_tfds()
 * lists so that nothing restore keeps is placed there. Adding a file
 * checks its readiness and queues the watch if it is ready: right for
 * level-triggered watches and for the edges pending at dump; an
 * edge-triggered watch whose edge was reported already (the dump marks it
 * IMG_EPOLL_REPORTED) is added first and that edge taken by a wait.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS	_IOW('T', 0, uint64_t)
#endif

/* what inotify_add_watch must not find among the watches */
static const char *const throwaway[] = { "/", "/proc", "/dev", "/sys" };

static int make_eventfd(const struct img_file *f)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK |
			 (f->efd.semaphore ? EFD_SEMAPHORE : 0));

	/* the count may not fit eventfd()'s unsigned int: write it */
	if (fd >= 0 && f->efd.count &&
	    write(fd, &f->efd.count, 8) != 8) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The raw call: glibc's sigaddset() refuses its own signals 32 and 33. */
static int make_signalfd(const struct img_file *f)
{
	uint64_t mask = f->sfd.sigmask;

	return syscall(SYS_signalfd4, -1, &mask, sizeof(mask), SFD_CLOEXEC);
}

static void ns_ts(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000ull;
	ts->tv_nsec = ns % 1000000000ull;
}

static int make_timerfd(const struct img_file *f)
{
	struct itimerspec its;
	int fd, flags = 0;

	fd = timerfd_create(f->tfd.clockid, TFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (f->tfd.flags & IMG_TFD_ABSTIME)
		flags = TFD_TIMER_ABSTIME;
	if (f->tfd.flags & IMG_TFD_CANCEL_ON_SET)
		flags |= TFD_TIMER_CANCEL_ON_SET;
	ns_ts(f->tfd.value_ns, &its.it_value);
	ns_ts(f->tfd.interval_ns, &its.it_interval);
	if (f->tfd.value_ns && timerfd_settime(fd, flags, &its, NULL))
		goto err;
	/* after settime, which sets the ticks to 0 */
	if (f->tfd.ticks &&
	    ioctl(fd, TFD_IOC_SET_TICKS, &f->tfd.ticks)) {
		pr_perror("can't give timerfd file %u its %llu pending expirations",
			  f->id, (unsigned long long)f->tfd.ticks);
		errno = ENOTSUP;
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/* ---- inotify ------------------------------------------------------------ */

static int watched(const struct img_file *f, const struct stat *st)
{
	uint32_t i;

	for (i = 0; i < f->in.nr; i++)
		if (f->in.w[i].dev == st->st_dev &&
		    f->in.w[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* A directory none of the watches is on, or NULL. */
static const char *throwaway_dir(const struct img_file *f)
{
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(throwaway); i++)
		if (!stat(throwaway[i], &st) && !watched(f, &st))
			return throwaway[i];
	return NULL;
}

/* Use up the wds below want that the process had removed. */
static int skip_wds(int fd, int *next, int want, const char *dir)
{
	int wd;

	while (dir && *next < want) {
		wd = inotify_add_watch(fd, dir, IN_ATTRIB);
		if (wd < 0 || inotify_rm_watch(fd, wd))
			return -1;
		*next = wd + 1;
	}
	return 0;
}

/* The IN_IGNORED events of the throwaway watches. */
static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int add_watch(int fd, const struct img_file *f,
		     const struct img_inotify_watch *w)
{
	struct stat st;
	int wd;

	if (!stat(w->path, &st) &&
	    (st.st_dev != w->dev || st.st_ino != w->ino))
		pr_warn("inotify file %u: %s is not the file watched at dump time",
			f->id, w->path);
	wd = inotify_add_watch(fd, w->path, w->mask);
	if (wd < 0) {
		pr_perror("can't watch %s for inotify file %u", w->path, f->id);
		errno = ENOTSUP;
		return -1;
	}
	if (wd != w->wd)
		pr_warn("inotify file %u: %s has watch %d, was %d", f->id,
			w->path, wd, w->wd);
	return wd;
}

static int make_inotify(const struct img_file *f)
{
	const char *dir = throwaway_dir(f);
	uint32_t i;
	int fd, next = 1, wd;

	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -1;
	for (i = 0; i < f->in.nr; i++) {
		if (skip_wds(fd, &next, f->in.w[i].wd, dir))
			goto err;
		wd = add_watch(fd, f, &f->in.w[i]);
		if (wd < 0)
			goto err;
		next = wd + 1;
	}
	drain(fd);
	return fd;
err:
	close(fd);
	return -1;
}

static int make_kfd(const struct img_file *f)
{
	switch (f->kind) {
	case IMG_FILE_EVENTFD:
		return make_eventfd(f);
	case IMG_FILE_EPOLL:
		return epoll_create1(EPOLL_CLOEXEC);
	case IMG_FILE_SIGNALFD:
		return make_signalfd(f);
	case IMG_FILE_TIMERFD:
		return make_timerfd(f);
	case IMG_FILE_INOTIFY:
		return make_inotify(f);
	}
	errno = EINVAL;
	return -1;
}

int restore_kfd_open(const struct img_file *f)
{
	int fd = make_kfd(f);

	if (fd < 0) {
		if (errno != ENOTSUP)
			pr_perror("can't make file %u (kind %u)", f->id,
				  f->kind);
		return -1;
	}
	/* all of them are made O_RDWR but inotify, as the kernel does */
	if (fcntl(fd, F_SETFL, f->flags & O_NONBLOCK)) {
		pr_perror("can't set the flags of file %u", f->id);
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- epoll: filled in the process that owns it ------------------------ */

/* The process of the tree that fills an epoll: the first in the image to
 * hold it, which is the first the dump found it in. */
static const struct img_process *owner(const struct image *img, uint32_t id)
{
	uint32_t i, k;

	for (i = 0; i < img->nr_procs; i++)
		for (k = 0; k < img->procs[i].nr_fds; k++)
			if (img->procs[i].fds[k].file == id)
				return &img->procs[i];
	return NULL;
}

/* The numbers the epolls' files are added under, into out[] (NULL: only
 * counted); returns how many. */
uint32_t restore_kfds_tfds(const struct image *img, int *out)
{
	uint32_t i, k, n = 0;

	for (i = 0; i < img->nr_files; i++)
		for (k = 0; k < img->files[i].ep.nr; k++, n++)
			if (out)
				out[n] = img->files[i].ep.w[k].tfd;
	return n;
}

/* Add file t to the epoll ep as fd number w->tfd, which is free. */
static int add_target(int ep, int t, const struct img_epoll_watch *w)
{
	struct epoll_event ev = { .events = w->events & ~IMG_EPOLL_REPORTED,
				  .data.u64 = w->data };
	int ret, err;

	if (dup2(t, w->tfd) < 0)
		return -1;
	ret = epoll_ctl(ep, EPOLL_CTL_ADD, w->tfd, &ev);
	err = errno;
	close(w->tfd);
	errno = err;
	return ret;
}

/* Take every event the epoll ep has ready: only edge-triggered watches
 * are in it yet, so that each wait takes some off its list for good. */
static int consume(int ep, uint32_t nr)
{
	struct epoll_event ev[64];
	uint32_t round;
	int n = 1;

	for (round = 0; n > 0 && round <= nr; round++)
		n = epoll_wait(ep, ev, 64, 0);
	if (n > 0)
		errno = EAGAIN;
	return n ? -1 : 0;
}

/*
 * The watches whose edge was reported before the dump
 * (IMG_EPOLL_REPORTED, edge-triggered, not one-shot) first, and their
 * edges taken again, so that they are reported at the next edge only;
 * then the others, which EPOLL_CTL_ADD queues if their file is ready,
 * as they were (dump-epoll.c).
 */
static int fill_epoll(const struct image *img, const struct img_file *f,
		      const int *files, char *err, size_t len)
{
	const struct img_epoll_watch *w;
	int ep = files[f - img->files], pass, reported = 0;
	uint32_t k;

	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < f->ep.nr; k++) {
			w = &f->ep.w[k];
			if (!!(w->events & IMG_EPOLL_REPORTED) == pass)
				continue;
			reported += !pass;
			if (!add_target(ep, files[restore_file_index(img,
					w->file)], w))
				continue;
			snprintf(err, len, "can't make epoll file %u watch file %u as fd %d: %s",
				 f->id, w->file, w->tfd, strerror(errno));
			return -1;
		}
		if (!pass && reported && consume(ep, f->ep.nr)) {
			snprintf(err, len, "can't take the edges epoll file %u reported before the dump: %s",
				 f->id, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int restore_kfds_fill(const struct image *img, const struct img_process *p,
		      const int *files, char *err, size_t len)
{
	uint32_t i;

	for (i = 0; i < img->nr_files; i++) {
		const struct img_file *f = &img->files[i];

		if (f->kind != IMG_FILE_EPOLL || owner(img, f->id) != p)
			continue;
		if (fill_epoll(img, f, files, err, len))
			return -1;
	}
	return 0;
}
