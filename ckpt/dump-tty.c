/*
 * Unix98 pty pairs whose master is in the tree (a terminal multiplexer, a
 * tiny tmux): the master and every fd of the tree on its slave become
 * FILE records of kind PTY_MASTER and PTY_SLAVE, so that restore makes
 * the pair again with its index. A slave whose master is elsewhere (the
 * user's own terminal, an ssh pty) stays IMG_FD_TTY: restore hands over
 * its own terminal, as before.
 *
 * The state of the pair is read through ckpt's copy of the master
 * (pidfd_getfd): termios and window size (the slave's, which ioctls on
 * the master reach), lock, packet mode, exclusive mode, the session whose
 * controlling terminal the slave is and its foreground group.
 *
 * Queued bytes. A pty can't be read without consuming. What the slave
 * wrote and the master has not read is read, kept in the image, and put
 * back at once with TIOCSTI on the master (which queues bytes for the
 * master to read, unchanged: the master side has no line discipline
 * processing), so that a tree that runs on still reads them. What the
 * master wrote and the slave has not read went through the slave's line
 * discipline already (echo, signals, line editing): it can't be put back
 * exactly, so a pair with such bytes is refused, naming them. So is a
 * pair whose slave a process outside the tree holds: it would keep the
 * old pty.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define MAX_QUEUED	(1u << 20)	/* far above any pty buffer */

static int is_master_path(const char *path)
{
	return !strcmp(path, "/dev/ptmx") || !strcmp(path, "/dev/pts/ptmx");
}

/* N of "/dev/pts/N", or -1. */
static long slave_index(const char *path)
{
	char *end;
	long n;

	if (strncmp(path, "/dev/pts/", 9) || !isdigit((unsigned char)path[9]))
		return -1;
	n = strtol(path + 9, &end, 10);
	return *end || n >= IMG_MAX_PTY ? -1 : n;
}

static long master_index(pid_t pid, int fd)
{
	struct dump_file df = { .pid = pid, .fd = fd };
	int m = dump_grab_fd(&df);
	unsigned int n;
	long ret = -1;

	if (m >= 0 && !ioctl(m, TIOCGPTN, &n))
		ret = n;
	if (m >= 0)
		close(m);
	return ret;
}

struct indexes {
	long *v;
	uint32_t n;
};

static int has_index(const struct indexes *x, long index)
{
	uint32_t i;

	for (i = 0; i < x->n; i++)
		if (x->v[i] == index)
			return 1;
	return 0;
}

/* The indexes of every master the tree holds. */
static int masters_of(struct dump_tree *t, struct indexes *x)
{
	long *v, index;
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			if (p->fds[k].type != IMG_FD_TTY ||
			    !is_master_path(p->fds[k].path))
				continue;
			index = master_index(t->procs[i].pid, p->fds[k].fd);
			if (index < 0) {
				pr_perror("can't read the index of pty master fd %d of %d",
					  p->fds[k].fd, t->procs[i].pid);
				return -1;
			}
			v = realloc(x->v, (x->n + 1) * sizeof(*v));
			if (!v)
				return -1;
			x->v = v;
			v[x->n++] = index;
		}
	}
	return 0;
}

int dump_ttys_mark(struct dump_tree *t)
{
	struct indexes x = { 0 };
	struct img_fd *f;
	uint32_t k;
	int i;

	if (masters_of(t, &x)) {
		free(x.v);
		return -1;
	}
	for (i = 0; x.n && i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			f = &p->fds[k];
			if (f->type == IMG_FD_TTY && (is_master_path(f->path) ||
			    has_index(&x, slave_index(f->path))))
				f->type = IMG_FD_FILE;
		}
	}
	free(x.v);
	return 0;
}

uint32_t dump_tty_kind(const struct img_fd *f)
{
	if (!S_ISCHR(f->mode))
		return 0;
	if (is_master_path(f->path))
		return IMG_FILE_PTY_MASTER;
	return slave_index(f->path) >= 0 ? IMG_FILE_PTY_SLAVE : 0;
}

static void set_termios(struct img_tty *t, const struct termios *tio,
			const struct winsize *ws)
{
	t->iflag = tio->c_iflag;
	t->oflag = tio->c_oflag;
	t->cflag = tio->c_cflag;
	t->lflag = tio->c_lflag;
	t->line = tio->c_line;
	memcpy(t->cc, tio->c_cc, sizeof(t->cc) < sizeof(tio->c_cc) ?
	       sizeof(t->cc) : sizeof(tio->c_cc));
	t->ispeed = cfgetispeed(tio);
	t->ospeed = cfgetospeed(tio);
	t->rows = ws->ws_row;
	t->cols = ws->ws_col;
	t->xpixel = ws->ws_xpixel;
	t->ypixel = ws->ws_ypixel;
}

/* Lock, packet mode, termios, window size, session and group. */
static int read_state(struct dump_file *df, int m)
{
	struct img_tty *t = &df->f.tty;
	int locked = 0, pkt = 0;
	struct termios tio;
	struct winsize ws;
	pid_t sid, pgrp;

	if (ioctl(m, TIOCGPTLCK, &locked) || ioctl(m, TIOCGPKT, &pkt) ||
	    tcgetattr(m, &tio) || ioctl(m, TIOCGWINSZ, &ws))
		return -1;
	t->flags |= (locked ? IMG_TTY_LOCKED : 0) | (pkt ? IMG_TTY_PACKET : 0);
	set_termios(t, &tio, &ws);
	/* no session: ENOTTY */
	if (!ioctl(m, TIOCGSID, &sid)) {
		t->sid = sid;
		if (!ioctl(m, TIOCGPGRP, &pgrp))
			t->pgrp = pgrp;
	}
	return 0;
}

static int queued(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

/* Is the slave of df's pair open in the tree? */
static int slave_in_tree(const struct dump_tree *t, const struct dump_file *df)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_PTY_SLAVE &&
		    t->files[i].f.tty.index == df->f.tty.index)
			return 1;
	return 0;
}

/*
 * What the slave's typed-in queue holds (refused), and exclusive mode,
 * through a slave of ckpt's own: only when the tree holds one, since the
 * last close of a slave hangs the master up (a master whose slave was
 * never opened reads EAGAIN, and EIO once it was opened and closed).
 */
static int read_slave_side(struct dump_tree *t, struct dump_file *df, int m)
{
	struct pollfd p = { .fd = m, .events = POLLIN };
	int s, n, excl = 0;

	if (!slave_in_tree(t, df)) {
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
			df->f.tty.flags |= IMG_TTY_HUP;
		return 0;
	}

	s = ioctl(m, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_NONBLOCK |
		  O_CLOEXEC);
	if (s < 0)
		return -1;
	n = queued(s);
	if (!ioctl(s, TIOCGEXCL, &excl) && excl)
		df->f.tty.flags |= IMG_TTY_EXCL;
	close(s);
	if (n > 0) {
		pr_err("can't dump fd %d of %d: pty /dev/pts/%u has %d bytes written to it and not read yet, which can't be put back exactly",
		       df->fd, df->pid, df->f.tty.index, n);
		errno = EOPNOTSUPP;
	}
	return n ? -1 : 0;
}

/* The bytes for the master to read: read, kept, put back. */
static int read_output(struct dump_file *df, int m)
{
	struct img_chunk *ch;
	uint8_t *buf;
	int n = queued(m), i;

	if (n <= 0)
		return n;
	if ((df->f.tty.flags & IMG_TTY_PACKET) || (unsigned int)n > MAX_QUEUED) {
		pr_err("can't dump fd %d of %d: pty master %u in packet mode has %d bytes not read yet",
		       df->fd, df->pid, df->f.tty.index, n);
		errno = EOPNOTSUPP;
		return -1;
	}
	buf = malloc(n);
	ch = calloc(1, sizeof(*ch));
	if (!buf || !ch || read_full(m, buf, n))
		goto err;
	for (i = 0; i < n; i++)
		if (ioctl(m, TIOCSTI, &buf[i]))
			pr_warn("can't put byte %d of %d back in pty master %u: %s",
				i, n, df->f.tty.index, strerror(errno));
	ch->data = buf;
	ch->len = n;
	df->f.chunks = ch;
	df->f.nr_chunks = 1;
	return 0;
err:
	free(buf);
	free(ch);
	return -1;
}

static int dump_master(struct dump_tree *t, struct dump_file *df)
{
	int m = dump_grab_fd(df), ret = -1;
	unsigned int n;

	if (m < 0 || ioctl(m, TIOCGPTN, &n))
		goto out;
	df->f.tty.index = n;
	if (read_state(df, m) || read_slave_side(t, df, m) || read_output(df, m))
		goto out;
	ret = 0;
out:
	if (ret && errno != EOPNOTSUPP)
		pr_perror("can't read pty master fd %d of %d", df->fd, df->pid);
	if (m >= 0)
		close(m);
	return ret;
}

static int dump_slave(struct dump_file *df)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", df->pid, df->fd);
	if (stat(path, &st)) {
		pr_perror("can't stat pty fd %d of %d", df->fd, df->pid);
		return -1;
	}
	df->f.tty.index = (major(st.st_rdev) - 136) * 256 + minor(st.st_rdev);
	return 0;
}

/* An fd of pid on the slave, N of /dev/pts/N: its number, or -1. */
static int holds_slave(pid_t pid, const char *slave)
{
	char path[64], fdp[PATH_MAX], link[64];
	struct dirent *de;
	int fd = -1;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && fd < 0 && (de = readdir(d))) {
		snprintf(fdp, sizeof(fdp), "%s/%s", path, de->d_name);
		n = readlink(fdp, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', !strcmp(link, slave)))
			fd = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return fd;
}

/*
 * A process outside the tree on the slave would keep the old pty while
 * the tree gets a new one: refused, naming it. Every process is looked
 * at; the others run on meanwhile, so this is a best effort.
 */
static int slave_outside(const struct dump_tree *t, const struct dump_file *df)
{
	char slave[32];
	struct dirent *de;
	pid_t pid;
	int fd = -1;
	DIR *d = opendir("/proc");

	snprintf(slave, sizeof(slave), "/dev/pts/%u", df->f.tty.index);
	while (d && fd < 0 && (de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid > 0 && pid != getpid() && !dump_tree_has(t, pid))
			fd = holds_slave(pid, slave);
	}
	if (d)
		closedir(d);
	if (fd < 0)
		return 0;
	pr_err("can't dump fd %d of %d: pty %s is held by fd %d of %d, outside the tree",
	       df->fd, df->pid, slave, fd, pid);
	errno = EOPNOTSUPP;
	return -1;
}

int dump_ttys(struct dump_tree *t)
{
	uint32_t i;

	/* the slaves' indexes first: a master looks for its slave */
	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_PTY_SLAVE &&
		    dump_slave(&t->files[i]))
			return -1;
	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_PTY_MASTER &&
		    (dump_master(t, &t->files[i]) ||
		     slave_outside(t, &t->files[i])))
			return -1;
	return 0;
}
