/*
 * The image's file table, opened in restore before the first process is
 * created: every process of the tree inherits all of it through fork and
 * puts the files it had at their fd numbers (child.c), so that a file two
 * processes shared is one open file description again.
 *
 * Pipes: each pipe of the image is made once, with its capacity, and the
 * bytes that were in flight are written into it; each end the tree held
 * is then a fresh open of the pipe through /proc/self/fd (which works for
 * anonymous pipes as for FIFOs), with its own flags. The pipe itself
 * (the "holder") is closed once every end is open, so a pipe whose
 * writers had all gone delivers its bytes and then end of file.
 *
 * Unix sockets are made first, all together (sockets.c), then TCP and
 * UDP sockets (inet.c) and netlink sockets (netlink.c).
 * eventfd, epoll, signalfd, timerfd and inotify files are made in kfds.c,
 * pty pairs in tty.c, fds of /dev/net/tun in tun.c.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

/* What F_SETFL can set back; the access mode comes from the open. */
#define SETFL_MASK	(O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

struct holder {
	uint64_t dev, ino;
	int r, w;		/* the pipe's ends (a FIFO: both O_RDWR) */
};

struct holders {
	struct holder *h;
	uint32_t n;
};

static void close_holders(struct holders *hs)
{
	uint32_t i;

	for (i = 0; i < hs->n; i++) {
		close(hs->h[i].r);
		if (hs->h[i].w != hs->h[i].r)
			close(hs->h[i].w);
	}
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

static int make_pipe(const struct restore_run *run, const struct img_file *f,
		     struct holder *h)
{
	const char *path = f->path;
	char ghost[64];
	int p[2];
	struct stat st;

	if (f->kind == IMG_FILE_PIPE) {
		if (pipe2(p, O_CLOEXEC))
			return -1;
		h->r = p[0];
		h->w = p[1];
		return 0;
	}
	if (f->ghost) {		/* deleted: ghost.c made it again */
		snprintf(ghost, sizeof(ghost), "/proc/self/fd/%d",
			 restore_ghost_fd(run, f->ghost));
		path = ghost;
	}
	/* O_RDWR on a FIFO never waits for a peer (fifo(7)) */
	h->r = h->w = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (h->r < 0)
		return -1;
	if (fstat(h->r, &st) || !S_ISFIFO(st.st_mode)) {
		close(h->r);
		errno = ENOTSUP;
		pr_err("can't reopen FIFO %s: it is not a FIFO any more",
		       f->path);
		return -1;
	}
	return 0;
}

/* Capacity first (the bytes may need it), then the bytes, all at once. */
static int fill_pipe(const struct img_file *f, struct holder *h)
{
	uint32_t i;

	if (f->pipe_size && fcntl(h->w, F_SETPIPE_SZ, f->pipe_size) < 0) {
		pr_perror("can't give pipe %llu its size of %u bytes",
			  (unsigned long long)f->ino, f->pipe_size);
		return -1;
	}
	if (fcntl(h->w, F_SETFL, O_NONBLOCK))
		return -1;
	for (i = 0; i < f->nr_chunks; i++) {
		if (write_full(h->w, f->chunks[i].data, f->chunks[i].len)) {
			pr_perror("can't queue %u bytes in pipe %llu",
				  f->chunks[i].len,
				  (unsigned long long)f->ino);
			return -1;
		}
	}
	return 0;
}

/* The pipe of f, made and filled the first time one of its ends is. */
static struct holder *holder_of(const struct restore_run *run,
				 struct holders *hs, const struct img_file *f)
{
	struct holder *h;
	uint32_t i;

	for (i = 0; i < hs->n; i++)
		if (hs->h[i].dev == f->dev && hs->h[i].ino == f->ino)
			return &hs->h[i];
	h = realloc(hs->h, (hs->n + 1) * sizeof(*h));
	if (!h)
		return NULL;
	hs->h = h;
	h = &hs->h[hs->n];
	h->dev = f->dev;
	h->ino = f->ino;
	if (make_pipe(run, f, h)) {
		if (errno != ENOTSUP)
			pr_perror("can't make the pipe of file %u", f->id);
		return NULL;
	}
	hs->n++;
	if (fill_pipe(f, h))
		return NULL;
	return h;
}

static int open_pipe_end(const struct restore_run *run, struct holders *hs,
			 const struct img_file *f)
{
	struct holder *h = holder_of(run, hs, f);
	char path[64];
	int fd;

	if (!h)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", h->r);
	fd = open(path, (f->flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open an end of pipe %llu",
			  (unsigned long long)f->ino);
		return -1;
	}
	if (fcntl(fd, F_SETFL, f->flags & SETFL_MASK)) {
		pr_perror("can't set the flags of file %u", f->id);
		close(fd);
		return -1;
	}
	return fd;
}

/* A regular file several fds shared (one open, one offset), by path, or
 * an open of a ghost (ghost.c) or memfd (shm.c) by /proc/self/fd/N of
 * restore's own. */
int restore_file_open_reg(const struct restore_run *run,
			  const struct img_file *f)
{
	const char *path = f->path;
	char ghost[64];
	int fd;

	if (f->kind == IMG_FILE_GHOST || f->kind == IMG_FILE_MEMFD) {
		snprintf(ghost, sizeof(ghost), "/proc/self/fd/%d",
			 f->kind == IMG_FILE_GHOST ?
			 restore_ghost_fd(run, f->ghost) :
			 run->shms[f->shm - 1].fd);
		path = ghost;
	}
	fd = open(path, (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC |
				      O_NOCTTY)) | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s for file %u", path, f->id);
		return -1;
	}
	if (lseek(fd, f->pos, SEEK_SET) < 0) {
		pr_perror("can't seek file %u to %llu", f->id,
			  (unsigned long long)f->pos);
		close(fd);
		return -1;
	}
	return fd;
}

static int open_file(const struct restore_run *run, struct holders *hs,
		     const struct img_file *f)
{
	if (img_kfd_kind(f->kind))
		return restore_kfd_open(f);	/* kfds.c */
	switch (f->kind) {
	case IMG_FILE_PIPE:
	case IMG_FILE_FIFO:
		return open_pipe_end(run, hs, f);
	case IMG_FILE_REG:
	case IMG_FILE_GHOST:
	case IMG_FILE_MEMFD:
		return restore_file_open_reg(run, f);
	case IMG_FILE_TUN:
		return restore_tun_open(run->img, f);	/* tun.c */
	}
	pr_err("file %u: unknown kind %u", f->id, f->kind);
	return -1;
}

/* One fd per process of the tree and file: room above the soft limit
 * (raising it to the hard one needs no privilege). */
static void raise_nofile(uint32_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	if (rl.rlim_cur < 4 * (rlim_t)n + 256) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			pr_debug("can't raise the fd limit: %s",
				 strerror(errno));
	}
}

int restore_files_open(const struct restore_run *run, int **out,
		       struct restore_socks **tree)
{
	const struct image *img = run->img;
	struct restore_socks *late = NULL;
	struct holders hs = { 0 };
	int *fds;
	uint32_t i;

	*out = NULL;
	*tree = NULL;
	if (!img->nr_files)
		return 0;
	raise_nofile(img->nr_files);
	fds = malloc(img->nr_files * sizeof(*fds));
	if (!fds) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < img->nr_files; i++)
		fds[i] = -1;
	if (restore_sockets_open(img, fds, &late) ||
	    restore_inet_open(img, fds) || restore_netlink_open(img, fds) ||
	    restore_ttys_open(img, fds))
		goto err;
	for (i = 0; i < img->nr_files; i++) {
		if (fds[i] >= 0 || img->files[i].kind == IMG_FILE_PIDFD ||
		    img->files[i].kind == IMG_FILE_TTY ||
		    img->files[i].kind == IMG_FILE_MQUEUE ||
		    img_tty_kind(img->files[i].kind) ||
		    img_tcp_queued(&img->files[i]) ||
		    restore_mntns_file(img, i))
			continue;	/* a socket or pty, made above; a pidfd
					 * later (pidfd.c); a terminal outside:
					 * IMG_FD_TTY; a pty of the tree's
					 * devpts, by the root (tty.c); a
					 * connection in its listener's
					 * queue (inet-accept.c); a file of a
					 * mount namespace below the root's,
					 * by its owner (mntns.c); a message
					 * queue, by the root in its IPC
					 * namespace (ipcns.c) */
		fds[i] = open_file(run, &hs, &img->files[i]);
		if (fds[i] < 0)
			goto err;
	}
	close_holders(&hs);
	/* unix queues with descriptors in flight need them all open */
	if (restore_sockets_late(late, fds, tree)) {
		late = NULL;
		goto err;
	}
	*out = fds;
	return 0;
err:
	restore_sockets_drop(late);
	restore_files_close(fds, img->nr_files);
	close_holders(&hs);
	return -1;
}

void restore_files_close(int *fds, uint32_t n)
{
	uint32_t i;

	if (!fds)
		return;
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

int restore_file_index(const struct image *img, uint32_t id)
{
	const struct img_file *f = img_find_file(img, id);

	return f ? (int)(f - img->files) : -1;
}
