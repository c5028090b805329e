/*
 * Kernel objects behind an fd with no path: eventfd, epoll, signalfd,
 * timerfd and inotify. dump-files.c sends their fds to the tree's file
 * table, which makes one FILE of each open file description; here each
 * such FILE gets what is needed to make the object again, mostly from
 * /proc/PID/fdinfo, which reads without disturbing anything.
 *
 * A timerfd is the exception: its fdinfo shows no time left once it has
 * fired, so ckpt takes a copy of the fd (pidfd_getfd) and asks
 * timerfd_gettime(), which also folds the periods missed since the last
 * read into the pending ticks, as a read() would, without consuming them.
 * Nothing is ever read() from these copies: that would take the counter,
 * ticks or signals away from the frozen process.
 *
 * An epoll's fdinfo names each watched file by the fd number it was added
 * under, which the process may have closed or reused since; kcmp
 * (KCMP_EPOLL_TFD) tells which file of the table it really is. An inotify
 * watch is an inode and a file handle; the path comes back by opening the
 * handle (CAP_DAC_READ_SEARCH) and reading the link of the fd.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define MAX_HANDLE	128	/* MAX_HANDLE_SZ in the kernel */

static const struct {
	const char *link;
	uint32_t kind;
} kinds[] = {
	{ "anon_inode:[eventfd]", IMG_FILE_EVENTFD },
	{ "anon_inode:[eventpoll]", IMG_FILE_EPOLL },
	{ "anon_inode:[signalfd]", IMG_FILE_SIGNALFD },
	{ "anon_inode:[timerfd]", IMG_FILE_TIMERFD },
	{ "anon_inode:inotify", IMG_FILE_INOTIFY },
	{ "anon_inode:[pidfd]", IMG_FILE_PIDFD },	/* dump-pidfd.c */
};

uint32_t dump_kfd_kind(const char *link)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(link, kinds[i].link))
			return kinds[i].kind;
	return 0;
}

static char *fdinfo(const struct dump_file *df)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", df->pid, df->fd);
	return read_file_str(path, NULL);
}

/* The text after "key" in s, or NULL. */
static const char *field(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? p + strlen(key) : NULL;
}

static int dump_eventfd(struct dump_file *df, const char *info)
{
	const char *p = field(info, "eventfd-count:");

	if (!p) {
		errno = EPROTO;
		return -1;
	}
	df->f.efd.count = strtoull(p, NULL, 16);
	/* before 6.7 fdinfo did not say: such kernels are not supported */
	p = field(info, "eventfd-semaphore:");
	df->f.efd.semaphore = p ? strtoul(p, NULL, 10) != 0 : 0;
	return 0;
}

static int dump_signalfd(struct dump_file *df, const char *info)
{
	const char *p = field(info, "sigmask:");

	if (!p) {
		errno = EPROTO;
		return -1;
	}
	df->f.sfd.sigmask = strtoull(p, NULL, 16);
	return 0;
}

/* ---- timerfd ------------------------------------------------------------ */

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + ts->tv_nsec;
}

/* A copy of fd of pid in ckpt: the same open file description. */
static int grab_fd(pid_t pid, int fd)
{
	int pidfd, ret;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -1;
	ret = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return ret;
}

static int timer_fields(struct dump_file *df, const char *info)
{
	const char *clk = field(info, "clockid:");
	const char *ticks = field(info, "ticks:");
	const char *flags = field(info, "settime flags:");

	if (!clk || !ticks || !flags) {
		errno = EPROTO;
		return -1;
	}
	df->f.tfd.clockid = strtoul(clk, NULL, 10);
	df->f.tfd.ticks = strtoull(ticks, NULL, 10);
	df->f.tfd.flags = strtoul(flags, NULL, 8) &
		(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
	return 0;
}

/*
 * The time left and then the ticks. A periodic timer that fires between
 * the two shows "it_value: (0, 0)" in fdinfo: ask again, or the first
 * expiry after restore would come a period early.
 */
static int read_timer(struct dump_file *df, int tfd)
{
	struct itimerspec its;
	const char *v;
	char *info;
	int i, again = 1;

	for (i = 0; i < 5 && again; i++) {
		if (timerfd_gettime(tfd, &its))
			return -1;
		info = fdinfo(df);
		if (!info)
			return -1;
		v = field(info, "it_value: (0, 0)");
		again = v && ts_ns(&its.it_interval) != 0;
		if (timer_fields(df, info)) {
			free(info);
			return -1;
		}
		free(info);
	}
	df->f.tfd.value_ns = ts_ns(&its.it_value);
	df->f.tfd.interval_ns = ts_ns(&its.it_interval);
	return 0;
}

/* An absolute expiry is kept only on the realtime clocks, the one time
 * another boot shares; on the others the time left is what counts. */
static void timer_absolute(struct img_file *f)
{
	struct timespec now;
	int rt = f->tfd.clockid == CLOCK_REALTIME ||
		 f->tfd.clockid == CLOCK_REALTIME_ALARM;

	if (!(f->tfd.flags & IMG_TFD_ABSTIME) || !rt) {
		f->tfd.flags = 0;
		return;
	}
	if (f->tfd.value_ns && !clock_gettime(CLOCK_REALTIME, &now))
		f->tfd.value_ns += ts_ns(&now);
}

static int dump_timerfd(struct dump_file *df)
{
	int tfd = grab_fd(df->pid, df->fd), ret;

	if (tfd < 0)
		return -1;
	ret = read_timer(df, tfd);
	close(tfd);
	if (!ret)
		timer_absolute(&df->f);
	return ret;
}

/* ---- epoll -------------------------------------------------------------- */

static int epoll_target_is(pid_t pid, int fd, const struct dump_file *ep,
			   int tfd, int toff)
{
	struct kcmp_epoll_slot slot = {
		.efd = ep->fd, .tfd = tfd, .toff = toff,
	};

	return syscall(SYS_kcmp, pid, ep->pid, KCMP_EPOLL_TFD, fd,
		       &slot) == 0;
}

/* Why the target of a watch cannot be restored, in one message. */
static void no_target(struct dump_tree *t, const struct dump_file *ep,
		      int tfd, int toff)
{
	const struct img_process *p = NULL;
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].pid == ep->pid)
			p = &t->procs[i].proc;
	for (k = 0; p && k < p->nr_fds; k++) {
		if (!epoll_target_is(ep->pid, p->fds[k].fd, ep, tfd, toff))
			continue;
		pr_err("can't dump epoll fd %d of %d: it watches fd %d (%s), which restore reopens per process",
		       ep->fd, ep->pid, p->fds[k].fd, p->fds[k].path);
		return;
	}
	pr_err("can't dump epoll fd %d of %d: the file it watches as fd %d is not one of the tree's fds",
	       ep->fd, ep->pid, tfd);
}

static uint32_t find_target(struct dump_tree *t, const struct dump_file *ep,
			    int tfd, int toff)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (epoll_target_is(t->files[i].pid, t->files[i].fd, ep, tfd,
				    toff))
			return t->files[i].f.id;
	no_target(t, ep, tfd, toff);
	errno = EOPNOTSUPP;
	return 0;
}

static int add_epoll_watch(struct img_file *f, const struct img_epoll_watch *w)
{
	struct img_epoll_watch *n;

	if (f->ep.nr >= IMG_MAX_WATCHES) {
		pr_err("can't dump epoll file %u: more than %u watches",
		       f->id, IMG_MAX_WATCHES);
		errno = EOPNOTSUPP;
		return -1;
	}
	n = realloc(f->ep.w, (f->ep.nr + 1) * sizeof(*n));
	if (!n)
		return -1;
	f->ep.w = n;
	n[f->ep.nr++] = *w;
	return 0;
}

/* Watches with the same fd number before this one: kcmp's "toff". */
static int same_tfd_before(const struct img_file *f, int tfd)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < f->ep.nr; i++)
		n += f->ep.w[i].tfd == tfd;
	return n;
}

/* "tfd: N events: X data: Y pos: ..." lines, in the order kcmp counts */
static int dump_epoll(struct dump_tree *t, struct dump_file *df,
		      const char *info)
{
	struct img_epoll_watch w;
	unsigned long long data;
	const char *p = info;
	unsigned int ev;
	int tfd;

	while ((p = strstr(p, "tfd:"))) {
		if (sscanf(p, "tfd: %d events: %x data: %llx", &tfd, &ev,
			   &data) != 3) {
			errno = EPROTO;
			return -1;
		}
		p += 4;
		w = (struct img_epoll_watch){ .tfd = tfd, .events = ev,
					      .data = data };
		w.file = find_target(t, df, tfd, same_tfd_before(&df->f, tfd));
		if (!w.file || add_epoll_watch(&df->f, &w))
			return -1;
	}
	return 0;
}

/* ---- inotify ------------------------------------------------------------ */

/* A mount point of the filesystem dev in our namespace (open_by_handle_at
 * takes no O_PATH fd); the n-th
 * one from *from in /proc/self/mountinfo. */
static int open_mount(dev_t dev, int *from)
{
	char line[PATH_MAX + 256], mnt[PATH_MAX];
	int n = 0, fd = -1;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	dev_t d;

	if (!f)
		return -1;
	while (fd < 0 && fgets(line, sizeof(line), f)) {
		if (dump_mountinfo_line(line, &d, mnt) || d != dev)
			continue;
		if (n++ < *from)
			continue;
		*from = n;
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	fclose(f);
	return fd;
}

static int hex_bytes(const char *hex, unsigned char *out, unsigned int n)
{
	unsigned int i, b;

	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = b;
	}
	return 0;
}

/* The path of the inode the handle opens, if it is that inode. */
static char *handle_path(int mfd, struct file_handle *fh,
			 const struct img_inotify_watch *w)
{
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	if (path[0] != '/' || stat(path, &st) || st.st_dev != w->dev ||
	    st.st_ino != w->ino)
		return NULL;
	return strdup(path);
}

static char *watch_path(const struct img_inotify_watch *w,
			struct file_handle *fh)
{
	char *path = NULL;
	int from = 0, mfd;

	while (!path && (mfd = open_mount(w->dev, &from)) >= 0) {
		path = handle_path(mfd, fh, w);
		close(mfd);
	}
	return path;
}

static int add_inotify_watch(struct img_file *f,
			     const struct img_inotify_watch *w)
{
	struct img_inotify_watch *n;

	if (f->in.nr >= IMG_MAX_WATCHES) {
		pr_err("can't dump inotify file %u: more than %u watches",
		       f->id, IMG_MAX_WATCHES);
		errno = EOPNOTSUPP;
		return -1;
	}
	n = realloc(f->in.w, (f->in.nr + 1) * sizeof(*n));
	if (!n)
		return -1;
	f->in.w = n;
	n[f->in.nr++] = *w;
	return 0;
}

/* One "inotify wd:..." line (wd, ino, sdev, mask and sizes in hex). */
static int inotify_line(struct dump_file *df, const char *line)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + MAX_HANDLE];
	} h;
	struct img_inotify_watch w = { 0 };
	unsigned int wd, sdev, mask, bytes, type;
	unsigned long ino;
	char hex[2 * MAX_HANDLE + 1];

	if (sscanf(line, "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%*x fhandle-bytes:%x fhandle-type:%x f_handle:%256s",
		   &wd, &ino, &sdev, &mask, &bytes, &type, hex) != 7 ||
	    bytes > MAX_HANDLE || hex_bytes(hex, h.fh.f_handle, bytes)) {
		errno = EPROTO;
		return -1;
	}
	h.fh.handle_bytes = bytes;
	h.fh.handle_type = type;
	w = (struct img_inotify_watch){ .wd = wd, .mask = mask, .ino = ino,
		.dev = makedev(sdev >> 20, sdev & 0xfffff) };
	w.path = watch_path(&w, &h.fh);
	if (!w.path) {
		pr_err("can't dump inotify fd %d of %d: no path leads to inode %lu of watch %u",
		       df->fd, df->pid, ino, wd);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (add_inotify_watch(&df->f, &w)) {
		free(w.path);
		return -1;
	}
	return 0;
}

static int cmp_wd(const void *a, const void *b)
{
	const struct img_inotify_watch *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

/* (here, not in dump-sockets.c: check_dump links this file alone) */
int dump_grab_fd(const struct dump_file *df)
{
	int pfd, fd;

	if (df->own)	/* a connection ckpt accepted (dump-inet-accept.c) */
		return fcntl(df->own - 1, F_DUPFD_CLOEXEC, 0);
	if (df->pending) {	/* not yet */
		errno = EBADF;
		return -1;
	}
	pfd = syscall(SYS_pidfd_open, df->pid, 0);
	if (pfd < 0)
		return -1;
	fd = syscall(SYS_pidfd_getfd, pfd, df->fd, 0);
	close(pfd);
	return fd;
}

/* Events queued in it: no call puts events back in an inotify instance,
 * so one that has some is refused (the program reads them first) */
static int inotify_queued(struct dump_file *df)
{
	int fd = dump_grab_fd(df), n = 0;

	if (fd < 0 || ioctl(fd, FIONREAD, &n)) {
		pr_perror("can't dump inotify fd %d of %d: can't count its queued events",
			  df->fd, df->pid);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!n)
		return 0;
	pr_err("can't dump inotify fd %d of %d: it holds %d bytes of events not read yet, which restore can't queue again",
	       df->fd, df->pid, n);
	errno = EOPNOTSUPP;
	return -1;
}

/* fdinfo lists the newest watch first; the image wants wd order */
static int dump_inotify(struct dump_file *df, const char *info)
{
	const char *p = info;

	if (inotify_queued(df))
		return -1;

	while ((p = strstr(p, "inotify wd:"))) {
		if (inotify_line(df, p))
			return -1;
		p += 11;
	}
	/* an inotify fd may watch nothing: w is NULL, which qsort may not
	 * be given */
	if (df->f.in.nr)
		qsort(df->f.in.w, df->f.in.nr, sizeof(*df->f.in.w), cmp_wd);
	return 0;
}

/* ---- all of them -------------------------------------------------------- */

int dump_kfd_info(struct dump_tree *t, struct dump_file *df,
		  const char *info)
{
	int ret = -1;

	switch (df->f.kind) {
	case IMG_FILE_EVENTFD:
		ret = dump_eventfd(df, info);
		break;
	case IMG_FILE_SIGNALFD:
		ret = dump_signalfd(df, info);
		break;
	case IMG_FILE_EPOLL:
		ret = dump_epoll(t, df, info);
		break;
	case IMG_FILE_INOTIFY:
		ret = dump_inotify(df, info);
		break;
	}
	return ret;
}

static int dump_kfd(struct dump_tree *t, struct dump_file *df)
{
	char *info;
	int ret, saved;

	if (df->f.kind == IMG_FILE_TIMERFD)
		return dump_timerfd(df);
	info = fdinfo(df);
	if (!info)
		return -1;
	ret = dump_kfd_info(t, df, info);
	saved = errno;
	free(info);
	errno = saved;
	return ret;
}

int dump_kfds(struct dump_tree *t)
{
	struct dump_file *df;
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		df = &t->files[i];
		if (!img_kfd_kind(df->f.kind) || !dump_kfd(t, df))
			continue;
		if (errno != EOPNOTSUPP)
			pr_perror("can't dump fd %d of %d", df->fd, df->pid);
		return -1;
	}
	return 0;
}
