/*
 * Unix98 pty pairs whose master is in the tree (a terminal multiplexer, a
 * tiny tmux): the master and every fd of the tree on its slave become
 * FILE records of kind PTY_MASTER and PTY_SLAVE, so that restore makes
 * the pair again with its index. A slave whose master is elsewhere (the
 * user's own terminal, an ssh pty) stays IMG_FD_TTY: restore hands over
 * its own terminal, as before.
 *
 * A pair is on ckpt's /dev/pts or on a devpts instance the tree's mount
 * namespace mounted itself (a container's newinstance), told by its
 * slave's st_dev: the pty's img_tty.mount names that instance's MOUNT
 * record, and pairs are told apart by instance and index. A pty of the
 * tree's own instance on /dev/pts whose master a process outside holds
 * (a container's console) is read as a pair whose master is that one
 * (dump-console.c); another of the tree's own instance whose master the
 * tree does not hold is refused, and so is one of any other instance.
 *
 * The state of the pair is read through ckpt's copy of the master
 * (pidfd_getfd): termios and window size (the slave's, which ioctls on
 * the master reach), lock, packet mode, exclusive mode, the session whose
 * controlling terminal the slave is and its foreground group.
 *
 * Queued bytes, both ways. A pty can't be read without consuming: what
 * the slave wrote and the master has not read, and what was typed (the
 * master wrote) and the slave has not read, are read, kept in the image,
 * and put back at once (put_back), so that a tree that runs on still
 * reads them. Typed bytes went through the slave's line discipline
 * already (echo, signals, line editing): what it holds is kept, line by
 * line in canonical mode, and put back as it is (util/ttyq.c), echoed
 * and edited no more. A pair whose slave a process outside the tree
 * holds is refused, naming it: it would keep the old pty.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <ctype.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/ttyq.h"

/* bpf/tty.bpf.c's object, embedded by the Makefile, and its record */
extern const unsigned char ckpt_tty_bpf[], ckpt_tty_bpf_end[];

struct tty_seen {
	uint64_t read_head, read_tail, canon_head;
	uint32_t column, canon_column;
	uint32_t lnext;
	uint32_t pad;
};

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

/*
 * The devpts instance a pty is on, told by the st_dev of its slave: 0 for
 * ckpt's /dev/pts, the id of the tree's DEVPTS MOUNT record of it (a
 * container's newinstance), or -1 for any other.
 */
static int pty_mount(const struct dump_tree *t, dev_t dev, uint32_t *mount)
{
	struct stat st;
	uint32_t i;

	*mount = 0;
	for (i = 0; t->mnt && i < t->mnt->n; i++)
		if (t->mnt->recs[i].kind == IMG_MNT_DEVPTS &&
		    t->mnt->recs[i].dev == dev) {
			*mount = t->mnt->recs[i].id;
			return 0;
		}
	return !stat("/dev/pts", &st) && st.st_dev == dev ? 0 : -1;
}

/* A pty: its instance (a slave's st_dev) and index */
struct pty_key {
	dev_t dev;
	long index;
};

/*
 * The key of the pty whose master m is. The slave's path is that of its
 * instance, which a master opened through /dev/ptmx does not show: it is
 * opened O_PATH (TIOCGPTPEER), which opens no tty, so that a slave never
 * opened is not hung up when it is closed.
 */
static int master_key(int m, struct pty_key *k)
{
	unsigned int n;
	struct stat st;
	int s;

	if (ioctl(m, TIOCGPTN, &n))
		return -1;
	s = ioctl(m, TIOCGPTPEER, O_PATH | O_CLOEXEC);
	if (s < 0)
		return -1;
	if (fstat(s, &st)) {
		close(s);
		return -1;
	}
	close(s);
	k->dev = st.st_dev;
	k->index = n;
	return 0;
}

static int master_key_of(pid_t pid, int fd, struct pty_key *k)
{
	struct dump_file df = { .pid = pid, .fd = fd };
	int m = dump_grab_fd(&df), ret = -1;

	if (m >= 0)
		ret = master_key(m, k);
	if (m >= 0)
		close(m);
	return ret;
}

struct keys {
	struct pty_key *v;
	uint32_t n;
};

static int has_key(const struct keys *x, dev_t dev, long index)
{
	uint32_t i;

	for (i = 0; index >= 0 && i < x->n; i++)
		if (x->v[i].dev == dev && x->v[i].index == index)
			return 1;
	return 0;
}

/* The keys of every master the tree holds. */
static int masters_of(struct dump_tree *t, struct keys *x)
{
	struct pty_key *v, key;
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			if (p->fds[k].type != IMG_FD_TTY ||
			    !is_master_path(p->fds[k].path))
				continue;
			if (master_key_of(t->procs[i].pid, p->fds[k].fd, &key)) {
				pr_perror("can't read the index of pty master fd %d of %d",
					  p->fds[k].fd, t->procs[i].pid);
				return -1;
			}
			v = realloc(x->v, (x->n + 1) * sizeof(*v));
			if (!v)
				return -1;
			x->v = v;
			v[x->n++] = key;
		}
	}
	return 0;
}

/*
 * A slave of the tree's own /dev/pts whose master a process outside the
 * tree holds (dump-console.c), marked as those of pairs in the tree; its
 * key added to x, so that the other fds on it need no look at every
 * process again.
 */
static int is_console(const struct dump_tree *t, const struct img_fd *f,
		      struct keys *x)
{
	struct pty_key *v;
	pid_t pid;
	int fd;

	if (!S_ISCHR(f->mode) || dump_console_holder(t, f->dev,
			slave_index(f->path), &pid, &fd))
		return 0;
	v = realloc(x->v, (x->n + 1) * sizeof(*v));
	if (v) {	/* else looked for again */
		x->v = v;
		v[x->n].dev = f->dev;
		v[x->n++].index = slave_index(f->path);
	}
	return 1;
}

int dump_ttys_mark(struct dump_tree *t)
{
	struct keys x = { 0 };
	struct img_fd *f;
	uint32_t k;
	int i;

	if (masters_of(t, &x)) {
		free(x.v);
		return -1;
	}
	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			f = &p->fds[k];
			if (f->type == IMG_FD_TTY && (is_master_path(f->path) ||
			    has_key(&x, f->dev, slave_index(f->path)) ||
			    is_console(t, f, &x)))
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
static int read_state(struct dump_file *df, int m, struct termios *tio)
{
	struct img_tty *t = &df->f.tty;
	int locked = 0, pkt = 0;
	struct winsize ws;
	pid_t sid, pgrp;

	if (ioctl(m, TIOCGPTLCK, &locked) || ioctl(m, TIOCGPKT, &pkt) ||
	    tcgetattr(m, tio) || ioctl(m, TIOCGWINSZ, &ws))
		return -1;
	t->flags |= (locked ? IMG_TTY_LOCKED : 0) | (pkt ? IMG_TTY_PACKET : 0);
	set_termios(t, tio, &ws);
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
		    t->files[i].f.tty.mount == df->f.tty.mount &&
		    t->files[i].f.tty.index == df->f.tty.index)
			return 1;
	return 0;
}

static int __printf(2, 3) refuse(const struct dump_file *df,
				 const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("can't dump fd %d of %d: pty /dev/pts/%u %s", df->fd, df->pid,
	       df->f.tty.index, why);
	errno = EOPNOTSUPP;
	return -1;
}

static const struct dump_bpf tty_bpf = {
	.blob = ckpt_tty_bpf, .end = ckpt_tty_bpf_end, .name = "ckpt_tty",
};

/* The slave's N_TTY state, through the master m ckpt holds (BPF). */
static int ldisc_seen(int m, struct tty_seen *s)
{
	struct tty_seen *r;
	uint32_t ro = m;
	size_t n = 0;

	r = dump_bpf_run(&tty_bpf, &ro, sizeof(ro), getpid(), sizeof(*s), &n);
	if (!r)
		return -1;
	if (!n) {
		free(r);
		errno = EIO;
		return -1;
	}
	*s = r[0];
	free(r);
	return 0;
}

/*
 * What the slave's line discipline keeps that no ioctl shows: its output
 * column and the column the line being typed began at are kept (written
 * again at restore, util/ttyq.c) when the tree holds the slave. Refused
 * where it would not be the same after restore: a VLNEXT typed last
 * (the next byte typed would be taken literally); bytes typed on a slave
 * the tree does not hold (they can't be read without opening it), or a
 * column that output processing or the echo of an erased tab would use
 * there; a line begun with ECHO off off a tab stop, as nothing typed
 * sets that column again; keys typed on a console (dump-console.c),
 * which can't be read and put back exactly while the holder of its
 * master, running on, may type more and reads their echo. Without BPF,
 * refused only where the termios say it could matter, saying why, and
 * a console always (what was typed on it can't be seen unread).
 */
static int check_ldisc(const struct dump_tree *t, struct dump_file *df,
		       int m, const struct termios *tio)
{
	int post = tio->c_oflag & OPOST;
	int tab3 = post && (tio->c_oflag & TABDLY) == TAB3;
	int onocr = post && (tio->c_oflag & ONOCR);
	int erase = (tio->c_lflag & (ICANON | ECHO | ECHOE | ECHOPRT)) ==
		    (ICANON | ECHO | ECHOE);
	int lnext = (tio->c_lflag & IEXTEN) && tio->c_cc[VLNEXT];
	int console = !!(df->f.tty.flags & IMG_TTY_CONSOLE);
	struct tty_seen s;

	if (tio->c_line != N_TTY)
		return 0;
	if (ldisc_seen(m, &s)) {
		if (!tab3 && !onocr && !erase && !lnext && !console &&
		    slave_in_tree(t, df))
			return 0;
		return refuse(df, "has a line discipline whose column, VLNEXT and typed bytes can't be seen (BPF: %s)",
			      strerror(errno));
	}
	if (console && s.read_head != s.read_tail)
		return refuse(df, "is a console with keys typed that the container has not read, which fd %d of %d, outside the tree, may add to: they can't be kept exactly",
			      df->outside_fd, df->outside);
	if (!slave_in_tree(t, df) && s.read_head != s.read_tail)
		return refuse(df, "has %llu bytes typed on a slave the tree doesn't hold, which can't be read",
			      (unsigned long long)(s.read_head - s.read_tail));
	if (s.lnext)
		return refuse(df, "had VLNEXT (^V) typed last: the byte after it would not be taken literally after restore");
	if (slave_in_tree(t, df) && s.column <= IMG_TTY_MAX_COLUMN &&
	    s.canon_column <= IMG_TTY_MAX_COLUMN) {
		df->f.tty.column = s.column;
		df->f.tty.canon_column = s.canon_column;
		if (s.column || s.canon_column)
			df->f.tty.flags |= IMG_TTY_COLUMN;
		/* with ECHO, the next line typed sets where it began */
		if ((tio->c_lflag & (ICANON | ECHO | ECHOE)) ==
		    (ICANON | ECHOE) && (s.canon_column & 7) &&
		    s.canon_head == s.read_head)
			return refuse(df, "has its input line begun at column %u with ECHO off, which the echo of an erased tab would use: it can't be set again",
				      s.canon_column);
		return 0;
	}
	/* a tab stop is every 8 columns; the line's start matters to the
	 * echo of an erased tab while that line is being typed */
	if (((tab3 || erase) && (s.column & 7)) || (onocr && s.column) ||
	    (erase && (s.canon_column & 7) && s.canon_head != s.read_head))
		return refuse(df, "has its output at column %u (its input line began at %u), which %s would use: %s",
			      s.column, s.canon_column,
			      tab3 || onocr ? "output processing (TAB3 or ONOCR)" :
			      "the echo of an erased tab (ECHOE)",
			      slave_in_tree(t, df) ? "too far to write again" :
			      "the tree doesn't hold the slave to set it again");
	return 0;
}

/* One read of the slave s: a line in canonical mode (0 bytes: a line of
 * VEOF alone), what there is else; 0 and *n = -1 when nothing is left. */
static int read_some(int s, uint8_t *buf, ssize_t *n)
{
	*n = read(s, buf, TTYQ_MAX + 1);
	if (*n < 0 && errno == EAGAIN)
		return 0;
	return *n < 0 ? -1 : 0;
}

/*
 * The lines the slave's reader has to read, one chunk each; a line that
 * VEOF ended reads without it (flagged EOR). What follows them, the line
 * being typed, reads only out of canonical mode (which then makes every
 * byte readable), so the mode is left for that read and comes back.
 */
static int read_lines(struct dump_file *df, int m, int s,
		      const struct termios *tio, uint8_t *buf)
{
	struct termios raw = *tio;
	uint32_t flags;
	ssize_t n;

	for (;;) {
		if (read_some(s, buf, &n))
			return -1;
		if (n < 0)
			break;
		flags = IMG_CHUNK_TTY_IN;
		if (!n || !ttyq_is_end(tio, buf[n - 1]))
			flags |= IMG_CHUNK_EOR;
		if (dump_add_chunk(&df->f, buf, n, flags))
			return -1;
	}
	raw.c_lflag &= ~ICANON;
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(m, TCSANOW, &raw))
		return -1;
	n = 0;
	if (read_some(s, buf, &n) || (n > 0 &&
	    dump_add_chunk(&df->f, buf, n, IMG_CHUNK_TTY_IN))) {
		n = errno;
		if (tcsetattr(m, TCSANOW, tio))
			pr_perror("can't set pty /dev/pts/%u back in canonical mode",
				  df->f.tty.index);
		errno = n;
		return -1;
	}
	return tcsetattr(m, TCSANOW, tio);
}

/* What was typed and not read yet: read through the slave s, kept as
 * chunks. Pushed back by put_back(). */
static int read_input(struct dump_file *df, int m, int s,
		      const struct termios *tio)
{
	uint8_t buf[TTYQ_MAX + 1];
	ssize_t n;

	if (tio->c_lflag & ICANON)
		return read_lines(df, m, s, tio, buf);
	if (read_some(s, buf, &n))
		return -1;
	if (n > 0 && dump_add_chunk(&df->f, buf, n, IMG_CHUNK_TTY_IN))
		return -1;
	return 0;
}

/*
 * Exclusive mode and the slave's input queue, through a slave of ckpt's
 * own: only when the tree holds one, since the last close of a slave
 * hangs the master up (a master whose slave was never opened reads
 * EAGAIN, and EIO once it was opened and closed).
 */
static int read_slave_side(struct dump_tree *t, struct dump_file *df, int m,
			   const struct termios *tio)
{
	struct pollfd p = { .fd = m, .events = POLLIN };
	int s, excl = 0, ret;

	if (!slave_in_tree(t, df)) {
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
			df->f.tty.flags |= IMG_TTY_HUP;
		return 0;
	}
	s = ioctl(m, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_NONBLOCK |
		  O_CLOEXEC);
	if (s < 0)
		return -1;
	if (!ioctl(s, TIOCGEXCL, &excl) && excl)
		df->f.tty.flags |= IMG_TTY_EXCL;
	if (df->f.tty.flags & IMG_TTY_CONSOLE) {
		ret = 0;	/* nothing typed: check_ldisc() */
	} else if (tio->c_lflag & EXTPROC) {
		ret = queued(s) ? refuse(df, "has bytes typed in external processing mode (EXTPROC), which can't be put back exactly") : 0;
	} else {
		ret = read_input(df, m, s, tio);
	}
	close(s);
	return ret;
}

/*
 * n bytes for the master to read into buf. In packet mode each read
 * gives a header byte first, 0 (TIOCPKT_DATA) before data; a status
 * change not read yet (flushes, flow control) would come alone instead,
 * and can't be made again: refused, seen by POLLPRI without reading.
 */
static int read_packets(struct dump_file *df, int m, uint8_t *buf, int n)
{
	struct pollfd p = { .fd = m, .events = POLLPRI };
	uint8_t pkt[4097];
	int got = 0;
	ssize_t r;

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLPRI))
		return refuse(df, "has a packet mode status change for its master, not read yet");
	while (got < n) {
		r = read(m, pkt, n - got + 1 < (int)sizeof(pkt) ?
			 n - got + 1 : (int)sizeof(pkt));
		if (r <= 1 || pkt[0] != TIOCPKT_DATA)
			return refuse(df, "gave a packet mode status change for its master while it was read");
		memcpy(buf + got, pkt + 1, r - 1);
		got += r - 1;
	}
	return 0;
}

/* The bytes for the master to read: read and kept; put_back(). */
static int read_output(struct dump_file *df, int m)
{
	uint8_t *buf;
	int n = queued(m), ret;

	if (n <= 0)
		return n;
	if ((unsigned int)n > MAX_QUEUED)
		return refuse(df, "has %d bytes for its master, more than a pty holds", n);
	buf = malloc(n);
	if (!buf)
		return -1;
	if (df->f.tty.flags & IMG_TTY_PACKET)
		ret = read_packets(df, m, buf, n);
	else
		ret = read_full(m, buf, n);
	if (!ret && dump_add_chunk(&df->f, buf, n, 0))
		ret = -1;
	free(buf);
	return ret;
}

/*
 * What ckpt read goes back, for a tree that runs on: the typed bytes
 * through the master (ttyq.c; packet mode off meanwhile, since the echo
 * it reads back would come with packet headers), then those for the
 * master to read with TIOCSTI on the master, which queues bytes for the
 * master to read unchanged (the master side has no line discipline
 * processing). Both queues were empty then.
 */
/* The typed bytes as they came, for a dump refused for them: a line
 * with a quoted end goes back with its end unquoted. */
static int typed_as_read(const struct img_file *f, const struct termios *tio,
			 uint8_t *buf)
{
	uint32_t i, n = 0;

	for (i = 0; i < f->nr_chunks; i++) {
		const struct img_chunk *ch = &f->chunks[i];

		if (!(ch->flags & IMG_CHUNK_TTY_IN) ||
		    ch->len + 1 > TTYQ_MAX - n)
			continue;
		if (ch->len)
			memcpy(buf + n, ch->data, ch->len);
		n += ch->len;
		if (ch->flags & IMG_CHUNK_EOR)
			buf[n++] = tio->c_cc[VEOF];
	}
	return n;
}

static int put_back(struct dump_file *df, int m, const struct termios *tio)
{
	int pkt = !!(df->f.tty.flags & IMG_TTY_PACKET), off = 0, n, ret = 0;
	uint8_t buf[TTYQ_MAX];
	int exact = 1;
	uint32_t i, k;

	n = img_tty_input(&df->f, buf);
	if (n < 0) {
		exact = 0;
		n = typed_as_read(&df->f, tio, buf);
	}
	if (n > 0 && (ioctl(m, TIOCPKT, &off) ||
		      ttyq_push_columns(m, tio, buf, n, df->f.tty.column,
					df->f.tty.canon_column,
					df->f.tty.column) ||
		      ioctl(m, TIOCPKT, &pkt))) {
		pr_perror("can't put %d typed bytes back in pty /dev/pts/%u",
			  n, df->f.tty.index);
		ret = -1;
	}
	for (i = 0; i < df->f.nr_chunks; i++) {
		struct img_chunk *ch = &df->f.chunks[i];

		for (k = 0; !(ch->flags & IMG_CHUNK_TTY_IN) && k < ch->len; k++)
			if (ioctl(m, TIOCSTI, &ch->data[k]))
				pr_warn("can't put byte %u of %u back in pty master %u: %s",
					k, ch->len, df->f.tty.index,
					strerror(errno));
	}
	if (!exact)
		return refuse(df, "has typed bytes that can't be put back exactly (an end of line or VEOF quoted with VLNEXT; they went back unquoted)");
	return ret;
}

/* A pty of a devpts instance neither ckpt's nor the tree's own would
 * come back on /dev/pts: refused */
static int other_instance(const struct dump_file *df, dev_t dev)
{
	pr_err("can't dump fd %d of %d: pty %u is on a devpts instance (device %u:%u) that is neither ckpt's /dev/pts nor one the tree mounted, which is not supported",
	       df->fd, df->pid, df->f.tty.index, major(dev), minor(dev));
	errno = EOPNOTSUPP;
	return -1;
}

static int dump_master(struct dump_tree *t, struct dump_file *df)
{
	int m = df->f.tty.flags & IMG_TTY_CONSOLE ? dump_console_grab(df) :
		dump_grab_fd(df), ret = -1;
	struct pty_key key;
	struct termios tio;

	if (m < 0 || master_key(m, &key))
		goto out;
	df->f.tty.index = key.index;
	if (pty_mount(t, key.dev, &df->f.tty.mount)) {
		ret = other_instance(df, key.dev);
		goto out;
	}
	if (read_state(df, m, &tio))
		goto out;
	if (check_ldisc(t, df, m, &tio)) {
		errno = EOPNOTSUPP;
		goto out;
	}
	/* a console's are its holder's, left to it (dump-console.c) */
	if (!(df->f.tty.flags & IMG_TTY_CONSOLE) && read_output(df, m))
		goto out;
	ret = read_slave_side(t, df, m, &tio);
	if (put_back(df, m, &tio))
		ret = -1;
out:
	if (ret && errno != EOPNOTSUPP)
		pr_perror("can't read pty master fd %d of %d", df->fd, df->pid);
	if (m >= 0)
		close(m);
	return ret;
}

static int dump_slave(struct dump_tree *t, struct dump_file *df)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", df->pid, df->fd);
	if (stat(path, &st)) {
		pr_perror("can't stat pty fd %d of %d", df->fd, df->pid);
		return -1;
	}
	df->f.tty.index = (major(st.st_rdev) - 136) * 256 + minor(st.st_rdev);
	return pty_mount(t, st.st_dev, &df->f.tty.mount) ?
	       other_instance(df, st.st_dev) : 0;
}

/* An fd of pid on the slave, N of /dev/pts/N on the instance of device
 * dev (the path alone would match a pty of another instance): its
 * number, or -1. */
static int holds_slave(pid_t pid, const char *slave, dev_t dev)
{
	char path[64], fdp[PATH_MAX], link[64];
	struct dirent *de;
	struct stat st;
	int fd = -1;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && fd < 0 && (de = readdir(d))) {
		snprintf(fdp, sizeof(fdp), "%s/%s", path, de->d_name);
		n = readlink(fdp, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', !strcmp(link, slave)) &&
		    !stat(fdp, &st) && st.st_dev == dev)
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
	struct stat st;
	dev_t dev;
	pid_t pid;
	int fd = -1;
	DIR *d;

	if (df->f.tty.mount)
		dev = t->mnt->recs[df->f.tty.mount - 1].dev;
	else if (!stat("/dev/pts", &st))
		dev = st.st_dev;
	else
		return 0;	/* no /dev/pts: the master's was checked */
	snprintf(slave, sizeof(slave), "/dev/pts/%u", df->f.tty.index);
	d = opendir("/proc");
	while (d && fd < 0 && (de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid > 0 && pid != getpid() && !dump_tree_has(t, pid))
			fd = holds_slave(pid, slave, dev);
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

/* The pty of the tree's own devpts instance that chunk ch (FILE ids in
 * flight, little endian) carries, or NULL. */
static const struct img_file *own_pty_in(const struct dump_tree *t,
					 const struct img_chunk *ch)
{
	uint32_t k, id, i;

	for (k = 0; k + 4 <= ch->len; k += 4) {
		memcpy(&id, ch->data + k, 4);
		id = le32toh(id);
		for (i = 0; i < t->nr_files; i++)
			if (t->files[i].f.id == id &&
			    img_tty_kind(t->files[i].f.kind) &&
			    t->files[i].f.tty.mount)
				return &t->files[i].f;
	}
	return NULL;
}

/*
 * A pty of the tree's own instance is made by the restored root, after
 * restore has queued the messages of unix sockets: one in flight in a
 * message is refused, naming the socket.
 */
static int check_in_flight(const struct dump_tree *t)
{
	const struct img_file *pty;
	uint32_t i, k;

	for (i = 0; i < t->nr_files; i++) {
		const struct dump_file *df = &t->files[i];

		for (k = 0; k < df->f.nr_chunks; k++) {
			if (!(df->f.chunks[k].flags & IMG_CHUNK_FDS))
				continue;
			pty = own_pty_in(t, &df->f.chunks[k]);
			if (!pty)
				continue;
			pr_err("can't dump fd %d of %d: a message queued on it carries pty /dev/pts/%u of the devpts instance on %s, which is not supported yet",
			       df->fd, df->pid, pty->tty.index,
			       t->mnt->recs[pty->tty.mount - 1].point);
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	return 0;
}

/* The masters of the table from its file i on */
static int dump_masters(struct dump_tree *t, uint32_t i)
{
	for (; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_PTY_MASTER &&
		    (dump_master(t, &t->files[i]) ||
		     slave_outside(t, &t->files[i])))
			return -1;
	return 0;
}

int dump_ttys(struct dump_tree *t)
{
	uint32_t i;

	/* the slaves' indexes first: a master looks for its slave */
	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_PTY_SLAVE &&
		    dump_slave(t, &t->files[i]))
			return -1;
	if (dump_masters(t, 0))
		return -1;
	/* the consoles: slaves whose master the tree's masters are not */
	i = t->nr_files;
	if (dump_consoles_add(t) || dump_masters(t, i))
		return -1;
	return check_in_flight(t);
}

/* The TTY file of path, if one was made. */
static int have_outside(const struct dump_tree *t, const char *path)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_TTY &&
		    !strcmp(t->files[i].f.path, path))
			return 1;
	return 0;
}

/* The session of the tree whose controlling terminal rdev is, and the
 * terminal's foreground group: a slave tells them only to its session. */
static void outside_session(const struct dump_tree *t, dev_t rdev,
			    struct img_tty *tty)
{
	struct proc_stat st;
	int i;

	for (i = 0; i < t->n; i++)
		if (!proc_parse_stat(t->procs[i].pid, &st) &&
		    (dev_t)(unsigned int)st.tty_nr == rdev) {
			tty->sid = st.session;
			tty->pgrp = st.tpgid > 0 ? st.tpgid : 0;
			return;
		}
}

/* A TTY file for the terminal of fd f of pid: its termios and size. A
 * second fd on it finds it (have_outside); one it can't read, never. */
static int add_outside(struct dump_tree *t, pid_t pid, const struct img_fd *f)
{
	struct dump_file df = { .pid = pid, .fd = f->fd }, *n;
	int fd = dump_grab_fd(&df), ret = -1;
	struct termios tio;
	struct winsize ws;
	struct stat st;

	df.f.kind = IMG_FILE_TTY;
	df.f.flags = f->flags;
	df.f.id = t->nr_files ? t->files[t->nr_files - 1].f.id + 1 : 1;
	df.f.path = strdup(f->path);
	if (fd < 0 || !df.f.path) {
		pr_perror("can't read terminal %s of fd %d of %d", f->path,
			  f->fd, pid);
		goto out;
	}
	/* a terminal hung up (EIO) is no use to restore --pty: none kept */
	if (fstat(fd, &st) || tcgetattr(fd, &tio) ||
	    ioctl(fd, TIOCGWINSZ, &ws)) {
		pr_info("terminal %s of fd %d of %d not kept: %s", f->path,
			f->fd, pid, strerror(errno));
		ret = 0;
		goto out;
	}
	set_termios(&df.f.tty, &tio, &ws);
	df.f.tty.index = slave_index(f->path) < 0 ? 0 : slave_index(f->path);
	outside_session(t, st.st_rdev, &df.f.tty);
	n = realloc(t->files, (t->nr_files + 1) * sizeof(*n));
	if (!n)
		goto out;
	t->files = n;
	n[t->nr_files++] = df;
	df.f.path = NULL;
	ret = 0;
out:
	free(df.f.path);
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * A pty of the tree's own devpts instance that is neither a pair of the
 * tree nor a console (dump-console.c): one on another point than
 * /dev/pts, or whose master is closed. restore --pty hands over a
 * terminal of /dev/pts, not of the instance. Refused, naming it.
 */
static int own_instance(const struct dump_tree *t, pid_t pid,
			const struct img_fd *f)
{
	const char *point;
	uint32_t mount;

	if (pty_mount(t, f->dev, &mount) || !mount)
		return 0;
	point = t->mnt->recs[mount - 1].point;
	/* slave_index() knows a slave by its path, /dev/pts/N */
	if (strcmp(point, "/dev/pts"))
		pr_err("can't dump %d: its fd %d is a pty of the devpts instance on %s, which is not supported yet (one on /dev/pts is)",
		       pid, f->fd, point);
	else
		pr_err("can't dump %d: its fd %d is a pty of the devpts instance on %s whose master no process holds, which is not supported",
		       pid, f->fd, point);
	errno = EOPNOTSUPP;
	return -1;
}

int dump_ttys_outside(struct dump_tree *t)
{
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++)
			if (p->fds[k].type == IMG_FD_TTY &&
			    (own_instance(t, t->procs[i].pid, &p->fds[k]) ||
			     (!have_outside(t, p->fds[k].path) &&
			      add_outside(t, t->procs[i].pid, &p->fds[k]))))
				return -1;
	}
	return 0;
}
