/*
 * The file table of a dump: open file descriptions that only the tree as a
 * whole can rebuild. Every fd dump-files.c marked IMG_FD_FILE (the ends of
 * pipes and FIFOs, and the kernel objects of dump-kfds.c, which all share
 * one anonymous inode) is matched against the descriptions already
 * found, by inode and then by kcmp(KCMP_FILE), so that a description shared
 * by dup() or fork() is one FILE record however many fds name it. A
 * regular file joins the table when two fds share its description: they
 * share one offset, which `(echo a; echo b) > out` relies on.
 *
 * A pipe also held by a process outside the tree cannot come back as it
 * was. On 0-2 it is the plumbing of whoever started the job (a shell's
 * pipe, a log collector) and restore hands over its own, as for a single
 * process; anywhere else the dump is refused, naming both processes.
 *
 * Sockets are looked into by dump-sockets.c; one that cannot come back
 * (not a unix socket, or connected out of the tree) is treated like a pipe
 * held outside.
 *
 * The bytes in flight in a pipe are copied with tee(2), which leaves them
 * in place: the frozen tree reads them after the dump as if nothing had
 * happened, and the restored tree reads the same bytes, exactly once each.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

static int same_description(pid_t p1, int fd1, pid_t p2, int fd2)
{
	return syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2) == 0;
}

static struct dump_file *find_file(struct dump_tree *t, pid_t pid,
				   const struct img_fd *f)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (df->f.dev == f->dev && df->f.ino == f->ino &&
		    same_description(df->pid, df->fd, pid, f->fd))
			return df;
	}
	return NULL;
}

static uint32_t kind_of(struct dump_tree *t, pid_t pid,
			const struct img_fd *f)
{
	if (S_ISREG(f->mode) && dump_mqueue_fd(pid, f->fd))
		return IMG_FILE_MQUEUE;		/* see dump-ipcns.c */
	if (dump_kfd_kind(f->path))
		return dump_kfd_kind(f->path);	/* see dump_kfds() */
	if (dump_tty_kind(f))
		return dump_tty_kind(f);	/* see dump-tty.c */
	if ((S_ISREG(f->mode) || S_ISDIR(f->mode)) &&
	    dump_ghost_find(&t->ghosts, f->dev, f->ino))
		return IMG_FILE_GHOST;		/* see dump-ghost.c */
	if (S_ISREG(f->mode) &&
	    dump_shm_find(&t->shms, IMG_SHM_MEMFD, f->dev, f->ino))
		return IMG_FILE_MEMFD;		/* see dump-shm.c */
	if (S_ISREG(f->mode))
		return IMG_FILE_REG;
	if (S_ISCHR(f->mode))
		return IMG_FILE_TUN;		/* the only other: dump-tun.c */
	/* any socket; dump-sockets.c sorts out the others */
	if (S_ISSOCK(f->mode))
		return IMG_FILE_UNIX;
	return strncmp(f->path, "pipe:[", 6) ? IMG_FILE_FIFO : IMG_FILE_PIPE;
}

static struct dump_file *add_file(struct dump_tree *t, pid_t pid,
				  const struct img_fd *f)
{
	struct dump_file *df, *n;

	n = realloc(t->files, (t->nr_files + 1) * sizeof(*n));
	if (!n)
		return NULL;
	t->files = n;
	df = &t->files[t->nr_files];
	memset(df, 0, sizeof(*df));
	df->pid = pid;
	df->fd = f->fd;
	df->f.id = t->nr_files + 1;
	df->f.flags = f->flags;
	df->f.dev = f->dev;
	df->f.ino = f->ino;
	df->f.pos = f->pos;
	df->f.kind = kind_of(t, pid, f);
	if (df->f.kind == IMG_FILE_GHOST ||
	    (df->f.kind == IMG_FILE_FIFO &&
	     dump_ghost_find(&t->ghosts, f->dev, f->ino)))	/* deleted */
		df->f.ghost = dump_ghost_find(&t->ghosts, f->dev, f->ino)->g.id;
	if (df->f.kind == IMG_FILE_MEMFD)
		df->f.shm = dump_shm_find(&t->shms, IMG_SHM_MEMFD, f->dev,
					  f->ino)->shm.id;
	if (df->f.kind == IMG_FILE_FIFO || df->f.kind == IMG_FILE_REG ||
	    df->f.kind == IMG_FILE_MQUEUE || df->f.kind == IMG_FILE_TUN) {
		df->f.path = strdup(f->path);
		if (!df->f.path)
			return NULL;
	}
	if (df->f.kind == IMG_FILE_MQUEUE &&
	    dump_mqueue_check(t->procs[0].pid, pid, f, &df->why))
		return NULL;
	t->nr_files++;
	return df;
}

/* Does another regular-file fd of the tree share f's description? */
static int reg_shared(struct dump_tree *t, int i, const struct img_fd *f)
{
	uint32_t k;
	int j;

	for (j = 0; j < t->n; j++) {
		const struct img_process *p = &t->procs[j].proc;

		for (k = 0; k < p->nr_fds; k++) {
			const struct img_fd *g = &p->fds[k];

			if (g == f || g->dev != f->dev || g->ino != f->ino ||
			    (g->type != IMG_FD_REG && g->type != IMG_FD_FILE))
				continue;
			if (same_description(t->procs[i].pid, f->fd,
					     t->procs[j].pid, g->fd))
				return 1;
		}
	}
	return 0;
}

static void mark_shared_regs(struct dump_tree *t)
{
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++)
			if (p->fds[k].type == IMG_FD_REG &&
			    reg_shared(t, i, &p->fds[k]))
				p->fds[k].type = IMG_FD_FILE;
	}
}

/* Give every IMG_FD_FILE fd of the tree its file. */
static int match_fds(struct dump_tree *t)
{
	struct dump_file *df;
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			struct img_fd *f = &p->fds[k];

			if (f->type != IMG_FD_FILE)
				continue;
			df = find_file(t, t->procs[i].pid, f);
			if (!df)
				df = add_file(t, t->procs[i].pid, f);
			if (!df) {
				pr_err("out of memory");
				return -1;
			}
			f->file = df->f.id;
		}
	}
	return 0;
}

/* The first file on dev/ino, or NULL. */
static struct dump_file *file_on(struct dump_tree *t, uint64_t dev,
				 uint64_t ino)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.dev == dev && t->files[i].f.ino == ino)
			return &t->files[i];
	return NULL;
}

/*
 * What sharing is judged on: the kernel object for pipe ends and sockets
 * (a pipe is held outside if either end is), the open file description
 * itself for the rest (every eventfd, epoll ... sits on one anonymous
 * inode, which says nothing).
 */
static struct dump_file *obj_head(struct dump_tree *t, struct dump_file *df)
{
	switch (df->f.kind) {
	case IMG_FILE_PIPE:
	case IMG_FILE_FIFO:
	case IMG_FILE_UNIX:
		return file_on(t, df->f.dev, df->f.ino);
	}
	return df;
}

/* An eventfd, epoll ... of the tree that fd of pid, whose /proc link is
 * link, is one with. */
static struct dump_file *kfd_shared(struct dump_tree *t, pid_t pid, int fd,
				    const char *link)
{
	uint32_t kind = dump_kfd_kind(link), i;

	for (i = 0; kind && i < t->nr_files; i++)
		if (t->files[i].f.kind == kind &&
		    same_description(t->files[i].pid, t->files[i].fd, pid, fd))
			return &t->files[i];
	return NULL;
}

static void note_outside(struct dump_file *df, pid_t pid, int fd)
{
	if (df && !df->outside) {
		df->outside = pid;
		df->outside_fd = fd;
	}
}

static void scan_fds_of(struct dump_tree *t, pid_t pid)
{
	char path[64], fdp[PATH_MAX], link[64];
	struct dump_file *df;
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return;		/* gone, or not ours to see */
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(fdp, sizeof(fdp), "%s/%s", path, de->d_name);
		if (stat(fdp, &st))
			continue;
		if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
			df = file_on(t, st.st_dev, st.st_ino);
			note_outside(df, pid, atoi(de->d_name));
			continue;
		}
		n = readlink(fdp, link, sizeof(link) - 1);
		if (n <= 0 || strncmp(link, "anon_inode:", 11))
			continue;
		link[n] = '\0';
		note_outside(kfd_shared(t, pid, atoi(de->d_name), link), pid,
			     atoi(de->d_name));
	}
	closedir(d);
}

/*
 * Which pipes does a process outside the tree hold too? Every process of
 * the system is looked at (the others keep running meanwhile: this is a
 * best effort, as any view of processes we have not frozen).
 */
static void find_outside(struct dump_tree *t)
{
	struct dirent *de;
	pid_t pid;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == getpid() || dump_tree_has(t, pid))
			continue;
		scan_fds_of(t, pid);
	}
	closedir(d);
}

/* Might find_outside find one of the tree's files held outside: has the
 * tree a pipe, a socket or a file on an anonymous inode? Not when it
 * shares only files opened by path (regular files, memfds, devices,
 * terminals): then no other process is looked at, which cost the freeze
 * of a single sleep most of its time on a host of 170 processes. */
static int may_be_outside(const struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		switch (t->files[i].f.kind) {
		case IMG_FILE_REG:
		case IMG_FILE_GHOST:
		case IMG_FILE_MEMFD:
		case IMG_FILE_PTY_MASTER:
		case IMG_FILE_PTY_SLAVE:
		case IMG_FILE_TTY:
		case IMG_FILE_MQUEUE:
			continue;
		default:
			return 1;
		}
	return 0;
}

/* Why the file under f cannot be kept in the table, or NULL. */
static const char *why_out(struct dump_tree *t, const struct img_fd *f,
			   char *buf, size_t len)
{
	/* before compact_files, file ids are table indexes + 1 */
	struct dump_file *df = obj_head(t, &t->files[f->file - 1]);

	if (df->why)
		return df->why;
	if (!df->outside)
		return NULL;
	snprintf(buf, len, "%s is shared with fd %d of %d, outside the tree",
		 f->path, df->outside_fd, df->outside);
	return buf;
}

/* A description some process outside holds as well, or a socket that
 * cannot be kept: on 0-2 it becomes restore's own fd, elsewhere the dump
 * is refused. */
/* Can restore hand over its own fd instead (a pipe or socket)? */
static int leads_out(const struct dump_file *df)
{
	return df->f.kind == IMG_FILE_PIPE || df->f.kind == IMG_FILE_FIFO ||
	       df->f.kind == IMG_FILE_UNIX || img_inet_kind(df->f.kind) ||
	       df->f.kind == IMG_FILE_NETLINK;
}

static int settle_outside(struct dump_tree *t)
{
	const char *why;
	char buf[PATH_MAX + 128];
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			struct img_fd *f = &p->fds[k];

			if (f->type != IMG_FD_FILE)
				continue;
			why = why_out(t, f, buf, sizeof(buf));
			if (!why)
				continue;
			if (f->fd <= 2 && leads_out(&t->files[f->file - 1])) {
				f->type = IMG_FD_INHERIT;
				f->file = 0;
				continue;
			}
			if (dump_fd_unsupported(t->procs[i].o, t->procs[i].pid,
						f, f->path, why))
				return -1;
		}
	}
	return 0;
}

/* Drop the files of pipes held outside (their fds are restore's own now)
 * and number the rest 1.. again. */
static void compact_files(struct dump_tree *t)
{
	uint32_t i, k, n = 0, *map;
	struct dump_file *first;
	int j;

	for (i = 0; i < t->nr_files; i++) {
		first = obj_head(t, &t->files[i]);
		t->files[i].drop = first->outside || first->why;
	}
	map = calloc(t->nr_files + 1, sizeof(*map));
	for (i = 0; map && i < t->nr_files; i++) {
		if (t->files[i].drop) {
			dump_inet_accept_close(&t->files[i]);
			img_file_free(&t->files[i].f);
			free(t->files[i].why);
			continue;
		}
		map[t->files[i].f.id] = n + 1;
		if (t->files[i].pending)	/* its listener comes first */
			t->files[i].f.inet.listener =
				map[t->files[i].f.inet.listener];
		t->files[n] = t->files[i];
		t->files[n].f.id = n + 1;
		n++;
	}
	if (!map)
		return;		/* nothing dropped: still a valid table */
	t->nr_files = n;
	for (j = 0; j < t->n; j++) {
		struct img_process *p = &t->procs[j].proc;

		for (k = 0; k < p->nr_fds; k++)
			if (p->fds[k].file)
				p->fds[k].file = map[p->fds[k].file];
	}
	free(map);
}

static int add_chunk(struct img_file *f, const uint8_t *buf, uint32_t len)
{
	struct img_chunk *n = realloc(f->chunks,
				      (f->nr_chunks + 1) * sizeof(*n));

	if (!n)
		return -1;
	f->chunks = n;
	n[f->nr_chunks].flags = 0;
	n[f->nr_chunks].len = len;
	n[f->nr_chunks].data = malloc(len);
	if (!n[f->nr_chunks].data)
		return -1;
	memcpy(n[f->nr_chunks].data, buf, len);
	f->nr_chunks++;
	return 0;
}

/* Read out of our copy of the pipe, in chunks the image takes. */
static int drain_copy(struct img_file *f, int rfd, int queued)
{
	uint8_t *buf = malloc(IMG_MAX_CHUNK);
	ssize_t n;
	int ret = -1;

	if (!buf)
		return -1;
	while (queued > 0) {
		n = read(rfd, buf, queued < (int)IMG_MAX_CHUNK ? queued :
			 (int)IMG_MAX_CHUNK);
		if (n <= 0)
			goto out;
		if (add_chunk(f, buf, n))
			goto out;
		queued -= n;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

/*
 * tee(2) duplicates the pipe's buffers into a pipe of ours without taking
 * them; it copies what it can in one call and a second call would copy
 * the same bytes again, so the count must match FIONREAD at once.
 */
static int copy_queue(struct img_file *f, int pfd)
{
	int q[2] = { -1, -1 }, queued = 0, ret = -1;
	ssize_t n;

	if (ioctl(pfd, FIONREAD, &queued) || queued == 0)
		return queued == 0 ? 0 : -1;
	if (pipe2(q, O_CLOEXEC | O_NONBLOCK))
		return -1;
	if (fcntl(q[1], F_SETPIPE_SZ, f->pipe_size) < 0)
		goto out;
	n = tee(pfd, q[1], INT_MAX, SPLICE_F_NONBLOCK);
	if (n != queued) {
		errno = n < 0 ? errno : EIO;
		goto out;
	}
	ret = drain_copy(f, q[0], queued);
out:
	close(q[0]);
	close(q[1]);
	return ret;
}

/* Size and bytes in flight of the pipe under df, carried by df. Opening
 * the /proc link adds a reader to the pipe for a moment, which nobody in
 * the frozen tree can notice. */
static int read_pipe(struct dump_file *df)
{
	char path[64];
	int pfd, sz, ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", df->pid, df->fd);
	pfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	sz = fcntl(pfd, F_GETPIPE_SZ);
	if (sz < 0)
		goto out;
	df->f.pipe_size = sz;
	ret = copy_queue(&df->f, pfd);
out:
	close(pfd);
	return ret;
}

static int read_pipes(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (df->f.kind != IMG_FILE_PIPE && df->f.kind != IMG_FILE_FIFO)
			continue;
		/* the first file of a pipe carries its bytes */
		if ((df->f.kind != IMG_FILE_PIPE &&
		     df->f.kind != IMG_FILE_FIFO) ||
		    file_on(t, df->f.dev, df->f.ino) != df)
			continue;
		if (read_pipe(df)) {
			pr_perror("can't read the pipe of fd %d of %d",
				  df->fd, df->pid);
			return -1;
		}
	}
	return 0;
}

/* Without kcmp(2) (a kernel without CONFIG_KCMP) every fd would look like
 * a description of its own: shared offsets and the two ends of a pipe
 * would come back apart. Refused instead, before anything is matched. */
static int kcmp_works(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return 0;
	ret = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, fd);
	close(fd);
	if (ret) {
		pr_perror("can't compare open files: kcmp");
		return 0;
	}
	return 1;
}

int dump_tree_files(struct dump_tree *t)
{
	if (!kcmp_works())
		return -1;
	mark_shared_regs(t);
	dump_unix_inflight_regs(t);	/* dump-sockq.c */
	if (dump_ttys_mark(t) || match_fds(t))
		return -1;
	if (!t->nr_files)
		return dump_ttys_outside(t);
	if (may_be_outside(t))
		find_outside(t);
	if (dump_sockets_probe(t) || settle_outside(t))
		return -1;
	compact_files(t);
	if (read_pipes(t) || dump_sockets_read(t) || dump_inet_read(t) ||
	    dump_ttys(t) || dump_kfds(t) || dump_epolls_ready(t) ||
	    dump_pidfds(t) || dump_tuns(t))
		return -1;
	return dump_ttys_outside(t);
}

int dump_write_files(struct dump_tree *t, struct img_writer *w)
{
	uint32_t i, k;

	for (i = 0; i < t->nr_files; i++) {
		const struct img_file *f = &t->files[i].f;

		if (img_write_file(w, f))
			return -1;
		for (k = 0; k < f->nr_chunks; k++)
			if (img_write_file_chunk(w, f->id, &f->chunks[k]))
				return -1;
	}
	return 0;
}

void dump_free_files(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		dump_inet_accept_close(&t->files[i]);
		img_file_free(&t->files[i].f);
		free(t->files[i].why);
	}
	free(t->files);
	t->files = NULL;
	t->nr_files = 0;
}
