/*
 * Dump of the file descriptor table from /proc/PID/fd and fdinfo. What a
 * single process can get back by itself is kept: regular files and
 * directories (by path, flags and offset), character devices by path,
 * O_PATH fds by path whatever they lead to, and terminals. Files no path
 * reaches are ghosts (dump-ghost.c), memfds objects of the tree
 * (dump-shm.c), /proc files are checked against the tree
 * (dump-procfs.c). Pipes, FIFOs, sockets, eventfds, epolls, signalfds, timerfds
 * and inotify instances go to the tree's file table, which hands pipes and
 * sockets leading out of the tree on 0-2 to restore's own. Anything
 * else is refused with the fd and its kind named, never
 * silently dropped.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

static int is_tty_major(unsigned int maj)
{
	/* 4: tty/ttyS, 5: /dev/tty and ptmx, 136-143: Unix98 pty slaves */
	return maj == 4 || maj == 5 || (maj >= 136 && maj <= 143);
}

static int read_fdinfo(pid_t pid, int fd, struct img_fd *f)
{
	char path[64], *s, *p;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	p = strstr(s, "pos:");
	f->pos = p ? strtoull(p + 4, NULL, 10) : 0;
	p = strstr(s, "flags:");
	f->flags = p ? strtoul(p + 6, NULL, 8) : 0;
	free(s);
	f->fdflags = (f->flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	f->flags &= ~O_CLOEXEC;
	return 0;
}

/*
 * An O_PATH fd refers to a place, not to an open file: reopened by path
 * with O_PATH (and O_NOFOLLOW: a symlink itself), whatever the file is.
 * One on a deleted regular file or directory is on a ghost
 * (dump-ghost.c); on anything else no path reaches, not supported yet.
 */
static int classify_path(struct dump_ctx *c, struct img_fd *f,
			 const char *link, const struct stat *st)
{
	char why[PATH_MAX + 64];

	f->type = IMG_FD_PATH;
	if (link[0] == '/' && (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) &&
	    dump_ghost_link(link, st))
		return dump_ghost_fd(c, f, link);
	if (link[0] != '/' || dump_ghost_link(link, st)) {
		snprintf(why, sizeof(why), "%s is an O_PATH fd no path reaches, which is not supported yet",
			 link);
		return dump_fd_unsupported(c->o, c->pid, f, link, why);
	}
	return 0;
}

/* Classify fd; -1 with a message when it cannot be restored. */
static int classify(struct dump_ctx *c, struct img_fd *f, const char *link,
		    const struct stat *st)
{
	char why[PATH_MAX + 64];

	if (f->flags & O_PATH)
		return classify_path(c, f, link, st);

	if (dump_kfd_kind(link)) {
		/* eventfd, epoll ...: the tree's file table (dump-kfds.c) */
		f->type = IMG_FD_FILE;
		return 0;
	}
	if (S_ISREG(st->st_mode) && dump_memfd_link(link))
		return dump_shm_fd(c, f, link);		/* dump-shm.c */
	if (S_ISREG(st->st_mode) && dump_mqueue_fd(c->pid, f->fd)) {
		/* opened again by name: the tree's file table checks that
		 * it can be (dump-ipcns.c) */
		f->type = IMG_FD_FILE;
		return 0;
	}
	if ((S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) &&
	    dump_ghost_link(link, st))
		return dump_ghost_fd(c, f, link);	/* dump-ghost.c */
	if (S_ISREG(st->st_mode) && link[0] != '/') {
		int ns = dump_ns_fd(c, f, link, st);	/* dump-procfs.c */

		if (ns)
			return ns < 0 ? -1 : 0;
	}
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		if (link[0] != '/') {
			pr_err("can't dump fd %d of %d: %s is not reachable by path",
			       f->fd, c->pid, link);
			errno = EOPNOTSUPP;
			return -1;
		}
		f->type = S_ISREG(st->st_mode) ? IMG_FD_REG : IMG_FD_DIR;
		return 0;
	}
	if (dump_tun_chr(st)) {
		f->type = IMG_FD_FILE;	/* dump-tun.c */
		return 0;
	}
	if (S_ISCHR(st->st_mode)) {
		f->type = is_tty_major(major(st->st_rdev)) ? IMG_FD_TTY :
			IMG_FD_CHR;
		return 0;
	}
	if (S_ISFIFO(st->st_mode) && dump_ghost_link(link, st))
		return dump_ghost_fd(c, f, link);	/* dump-ghost.c */
	if (S_ISFIFO(st->st_mode) && strncmp(link, "pipe:[", 6) &&
	    (link[0] != '/' || strstr(link, " (deleted)"))) {
		snprintf(why, sizeof(why), "%s is a FIFO no path reaches",
			 link);
		return dump_fd_unsupported(c->o, c->pid, f, link, why);
	}
	if (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)) {
		/* a pipe or FIFO end, a socket: the tree's file table
		 * (dump-filetab.c) decides what it becomes */
		f->type = IMG_FD_FILE;
		return 0;
	}
	snprintf(why, sizeof(why), "%s is not supported yet", link);
	return dump_fd_unsupported(c->o, c->pid, f, link, why);
}

/*
 * An fd ckpt cannot carry: refused, naming it, or with --ext-null turned
 * into /dev/null, naming it too (never silently). The image keeps what it
 * was in path, for restore's warning and for inspect.
 */
int dump_fd_unsupported(const struct dump_opts *o, pid_t pid,
			struct img_fd *f, const char *what, const char *why)
{
	char *path;

	if (!o->ext_null) {
		pr_err("can't dump fd %d of %d: %s", f->fd, pid, why);
		errno = EOPNOTSUPP;
		return -1;
	}
	pr_warn("fd %d of %d: %s: /dev/null after restore (--ext-null)",
		f->fd, pid, why);
	path = strdup(what);
	if (!path)
		return -1;
	free(f->path);
	f->path = path;
	f->type = IMG_FD_NULL;
	f->file = 0;
	return 0;
}

static int collect_fd(struct dump_ctx *c, int fd, struct img_fd *f)
{
	char path[64], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	/* an O_PATH fd on a symlink (O_NOFOLLOW) stats as the link itself */
	if (n < 0 || stat(path, &st))
		return -1;
	link[n] = '\0';
	if (read_fdinfo(c->pid, fd, f))
		return -1;
	f->mode = st.st_mode;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	if (classify(c, f, link, &st))
		return -1;
	if (!f->path)
		f->path = strdup(link);
	return f->path ? 0 : -1;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int list_fds(pid_t pid, int **out)
{
	char path[64];
	struct dirent *de;
	int *fds = NULL, *nf, n = 0, cap = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			nf = realloc(fds, cap * sizeof(*fds));
			if (!nf) {
				closedir(d);
				free(fds);
				return -1;
			}
			fds = nf;
		}
		fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(fds, n, sizeof(*fds), cmp_int);
	*out = fds;
	return n;
}

int dump_collect_fds(struct dump_ctx *c)
{
	struct img_process *p = &c->proc;
	int *fds = NULL, n, i, ret = -1;

	n = list_fds(c->pid, &fds);
	if (n < 0)
		return -1;
	p->fds = calloc(n ? n : 1, sizeof(*p->fds));
	if (!p->fds)
		goto out;
	for (i = 0; i < n; i++) {
		if (collect_fd(c, fds[i], &p->fds[p->nr_fds])) {
			if (errno == ENOENT)	/* closed meanwhile? frozen: no */
				continue;
			if (errno != EOPNOTSUPP)
				pr_perror("can't dump fd %d of %d", fds[i],
					  c->pid);
			goto out;
		}
		p->nr_fds++;
	}
	ret = 0;
out:
	free(fds);
	return ret;
}
