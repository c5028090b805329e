/*
 * Files that no path reached at dump time (ghosts, see image.h), made
 * again by restore before any process exists: in the directory they were
 * in, opened here, and unlinked at once, so that nothing of them is left
 * under a name even if restore fails or is killed later (and a kill
 * between the two calls that name and unlink one leaves the name to the
 * guardian, guard.c, which removes it).
 * Each is made under its old name, or under a temporary one when a new
 * file has taken that name. A regular file gets its size, its data (only
 * the ranges the image holds: holes stay holes), owner, mode and times;
 * a directory (a deleted cwd) or a FIFO (files.c fills it as any pipe)
 * its owner, mode and times. Restore holds every ghost until the tree is rebuilt:
 * fds are fresh opens of /proc/self/fd/N (files.c), mappings and cwds go
 * through /proc/RESTORE/fd/N, so one inode is shared by all of them again.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/fault.h"

#define FILL_BUF	(1u << 20)

/* The ghost's directory, opened (its path in dir); its last component in
 * *base. */
static int open_dir(const struct img_ghost *g, char *dir, const char **base)
{
	const char *slash = strrchr(g->path, '/');
	int fd;

	snprintf(dir, PATH_MAX, "%.*s", slash == g->path ? 1 :
		 (int)(slash - g->path), g->path);
	*base = slash + 1;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open %s, the directory of ghost %u", dir,
			  g->id);
	return fd;
}

static void temp_name(const struct img_ghost *g, char *buf, size_t len)
{
	snprintf(buf, len, ".ckpt-ghost.%d.%u", (int)getpid(), g->id);
}

/* The ghost made under name in dfd and opened: -1 with errno EEXIST when
 * the name is taken. The guardian knows the name from before it exists
 * to after it is gone (guard.c), so that a restore killed meanwhile
 * leaves nothing under it. */
static int make_named(struct restore_run *run, const struct img_ghost *g,
		      int dfd, const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, saved;

	snprintf(path, sizeof(path), "%s%s%s", dir,
		 dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	restore_guard_name(run, path, S_ISDIR(g->mode));
	if (S_ISREG(g->mode))
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			    0600);
	/* O_RDWR on a FIFO never waits for a peer (fifo(7)) */
	else if (S_ISFIFO(g->mode))
		fd = mkfifoat(dfd, name, 0600) ? -1 :
		     openat(dfd, name, O_RDWR | O_NONBLOCK | O_NOFOLLOW |
			    O_CLOEXEC);
	else if (mkdirat(dfd, name, 0700))
		fd = -1;
	else
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &st))
		restore_guard_ino(run, st.st_ino);
	saved = errno;
	if (fd < 0)
		restore_guard_gone(run);	/* taken, or not made */
	errno = saved;
	return fd;
}

/*
 * Under its old name if that is free (/proc shows "DIR/NAME (deleted)"
 * as it did: the open file keeps the name it had when unlinked), or a
 * temporary one; unlinked at once. A deleted directory is empty.
 */
static int make_at(struct restore_run *run, const struct img_ghost *g,
		   int dfd, const char *dir, const char *base)
{
	const char *name = base;
	char tmp[64];
	int fd;

	fd = make_named(run, g, dfd, dir, name);
	if (fd < 0 && errno == EEXIST) {
		temp_name(g, tmp, sizeof(tmp));
		name = tmp;
		fd = make_named(run, g, dfd, dir, name);
	}
	if (fd < 0)
		return -1;
	fault_point("ghost-named");
	if (unlinkat(dfd, name, S_ISDIR(g->mode) ? AT_REMOVEDIR : 0)) {
		pr_perror("can't unlink ghost %u from %s", g->id, g->path);
		close(fd);
		errno = EEXIST;		/* said */
		return -1;
	}
	restore_guard_gone(run);
	return fd;
}

/* The data the image holds, each range at its offset, up to the size. */
static int fill(struct restore_run *run, const struct img_ghost_object *o,
		int fd, uint8_t *buf)
{
	uint64_t ps = run->host.page_size, off, end, n;
	uint32_t i;

	if (ftruncate(fd, o->g.size))
		return -1;
	for (i = 0; i < o->nr_pages; i++) {
		off = o->pages[i].addr;
		end = off + o->pages[i].nr_pages * ps;
		if (end > o->g.size)
			end = o->g.size;
		for (; off < end; off += n) {
			n = end - off < FILL_BUF ? end - off : FILL_BUF;
			if (pread_full(run->img_fd, buf, n, o->pages[i].data_off
				       + (off - o->pages[i].addr)) ||
			    pwrite(fd, buf, n, off) != (ssize_t)n)
				return -1;
		}
	}
	return 0;
}

/* Owner before mode (chown clears set-id bits), times last. */
static int set_attrs(const struct img_ghost *g, int fd)
{
	struct timespec ts[2] = {
		{ g->atime_ns / 1000000000, g->atime_ns % 1000000000 },
		{ g->mtime_ns / 1000000000, g->mtime_ns % 1000000000 },
	};

	return fchown(fd, g->uid, g->gid) || fchmod(fd, g->mode & 07777) ||
	       futimens(fd, ts) ? -1 : 0;
}

/*
 * What restore holds of a regular file is read-only: a writer would keep
 * the kernel from making it an exe again (PR_SET_MM_MAP refuses a file
 * open for writing), and opens through /proc get the mode they ask for.
 */
static int read_only(const struct img_ghost *g, int fd)
{
	char proc[64];
	int ro;

	if (!S_ISREG(g->mode))
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ro = open(proc, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		pr_perror("can't open ghost %u (%s) again", g->id, g->path);
	close(fd);
	return ro;
}

static int make_one(struct restore_run *run, const struct img_ghost_object *o,
		    uint8_t *buf)
{
	const struct img_ghost *g = &o->g;
	char dir[PATH_MAX];
	const char *base;
	int dfd, fd;

	dfd = open_dir(g, dir, &base);
	if (dfd < 0)
		return -1;
	fd = make_at(run, g, dfd, dir, base);
	close(dfd);
	if (fd < 0) {
		if (errno != EEXIST)
			pr_perror("can't make ghost %u in %s", g->id, g->path);
		return -1;
	}
	if ((S_ISREG(g->mode) && fill(run, o, fd, buf)) || set_attrs(g, fd)) {
		pr_perror("can't fill ghost %u (%s)", g->id, g->path);
		close(fd);
		return -1;
	}
	return read_only(g, fd);
}

int restore_ghosts_create(struct restore_run *run)
{
	uint32_t i, n = run->img->nr_ghosts;
	uint8_t *buf;

	if (!n)
		return 0;
	run->ghost_fds = malloc(n * sizeof(*run->ghost_fds));
	buf = malloc(FILL_BUF);
	if (!run->ghost_fds || !buf) {
		free(buf);
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		run->ghost_fds[i] = -1;
	for (i = 0; i < n; i++) {
		run->ghost_fds[i] = make_one(run, &run->img->ghosts[i], buf);
		if (run->ghost_fds[i] < 0)
			break;
	}
	free(buf);
	if (i == n)
		return 0;
	restore_ghosts_close(run);
	return -1;
}

int restore_ghost_fd(const struct restore_run *run, uint32_t id)
{
	return run->ghost_fds && id && id <= run->img->nr_ghosts ?
		run->ghost_fds[id - 1] : -1;
}

const char *restore_ghost_path(const struct restore_run *run,
			       const char *link, int dir, char *buf, size_t len)
{
	const struct img_ghost *g = img_ghost_named(run->img, link, dir);

	if (!g)
		return link;
	snprintf(buf, len, "/proc/%d/fd/%d", run->host.restorer,
		 restore_ghost_fd(run, g->id));
	return buf;
}

void restore_ghosts_close(struct restore_run *run)
{
	uint32_t i;

	for (i = 0; run->ghost_fds && i < run->img->nr_ghosts; i++)
		if (run->ghost_fds[i] >= 0)
			close(run->ghost_fds[i]);
	free(run->ghost_fds);
	run->ghost_fds = NULL;
}
