/*
 * Unix98 pty pairs of the image (ckpt/dump-tty.c), made again in restore
 * before the first process, with the file table: each master is a new
 * open of /dev/ptmx with the same index, each slave fd an open of its
 * master's peer (TIOCGPTPEER, which needs no path and no unlock). A pair
 * of a devpts instance the tree mounted itself (img_tty.mount) is made
 * on the instance restore mounts anew, which exists only in the restored
 * mount namespace: by the root once it made its mounts (restore/mnt.c),
 * through that instance's ptmx, before it makes its children, which
 * inherit the file table.
 *
 * The same index: the kernel gives a new master the lowest free index,
 * so /dev/ptmx is opened again and again, holding each pty, until the
 * index comes; the others are closed then. /dev/pts/N in a program's
 * memory or environment (tmux keeps its panes' names) stays true. An
 * index in use by another pty fails the restore, naming it: a pty of
 * another index would be restored only approximately.
 *
 * The bytes typed and not read yet go back as the slave's line discipline
 * held them (util/ttyq.c), with its output column, and those the slave
 * had written and the master not read with TIOCSTI on the master (as
 * ckpt put them back), before packet mode is on and the pair is locked again if it was. The session
 * whose controlling terminal the slave was gets it back in its leader (restore_tty_ctty, in the child,
 * before it makes its children, which each take their link to it at
 * fork), and then its foreground group (restore_tty_fg: TIOCSPGRP works
 * only from the session that has the terminal).
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/ttyq.h"

#define MAX_TRIES	4096	/* ptys opened to reach one index */
#define FG_TRIES	3000	/* 10 ms each: the foreground group made */
#define PTY_FLAGS	(O_RDWR | O_NOCTTY | O_CLOEXEC)
#define SETFL_MASK	(O_APPEND | O_NONBLOCK | O_ASYNC)

static void close_fds(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

/* A new master with this index, through ptmx (/dev/ptmx, or the ptmx of
 * a devpts instance of the tree's own), or -1. */
static int open_index(const char *ptmx, uint32_t want)
{
	int held[MAX_TRIES], n = 0, fd = -1;
	unsigned int index;

	while (n < MAX_TRIES) {
		fd = open(ptmx, PTY_FLAGS);
		if (fd < 0 || ioctl(fd, TIOCGPTN, &index)) {
			pr_perror("can't open a pty for /dev/pts/%u", want);
			break;
		}
		if (index == want)
			break;
		held[n++] = fd;
		fd = -1;
		if (index > want) {
			pr_err("can't make pty /dev/pts/%u again: it is in use",
			       want);
			break;
		}
	}
	close_fds(held, n);
	return fd;
}

static int set_termios(int m, const struct img_tty *t, struct termios *tio)
{
	struct winsize ws = {
		.ws_row = t->rows, .ws_col = t->cols,
		.ws_xpixel = t->xpixel, .ws_ypixel = t->ypixel,
	};

	img_tty_termios(t, tio);
	if (cfsetispeed(tio, t->ispeed) || cfsetospeed(tio, t->ospeed))
		return -1;
	return tcsetattr(m, TCSANOW, tio) || ioctl(m, TIOCSWINSZ, &ws) ?
		-1 : 0;
}

/* What was typed (util/ttyq.c), then what the master had to read; the
 * typed bytes first, while the master's queue is empty: their echo, read
 * back from it, says the line discipline has them. */
static int queue_bytes(int m, const struct img_file *f,
		       const struct termios *tio)
{
	uint8_t buf[TTYQ_MAX];
	uint32_t i, k;
	int n = img_tty_input(f, buf);	/* checked with the image */

	/* the column, 0 in a new pty, with them (util/ttyq.c) */
	if (n < 0 || ttyq_push_columns(m, tio, buf, n, 0, f->tty.canon_column,
				       f->tty.column))
		return -1;
	for (i = 0; i < f->nr_chunks; i++) {
		const struct img_chunk *ch = &f->chunks[i];

		for (k = 0; !(ch->flags & IMG_CHUNK_TTY_IN) && k < ch->len; k++)
			if (ioctl(m, TIOCSTI, &ch->data[k]))
				return -1;
	}
	return 0;
}

/* The pair's state but its lock, through the master. */
static int set_state(int m, const struct img_file *f)
{
	const struct img_tty *t = &f->tty;
	int pkt = !!(t->flags & IMG_TTY_PACKET), unlock = 0, s;
	struct termios tio;

	if (ioctl(m, TIOCSPTLCK, &unlock) || set_termios(m, t, &tio) ||
	    queue_bytes(m, f, &tio) || ioctl(m, TIOCPKT, &pkt))
		return -1;
	if (!(t->flags & IMG_TTY_EXCL))
		return 0;
	s = ioctl(m, TIOCGPTPEER, PTY_FLAGS);
	if (s < 0)
		return -1;
	/* further opens of the slave by path: EBUSY but for root */
	if (ioctl(s, TIOCEXCL)) {
		close(s);
		return -1;
	}
	close(s);
	return 0;
}

/* A slave opened and closed again hangs the master up: reads get EIO. */
static int hang_up(int m, const struct img_file *f)
{
	int s;

	if (!(f->tty.flags & IMG_TTY_HUP))
		return 0;
	s = ioctl(m, TIOCGPTPEER, PTY_FLAGS);
	if (s < 0)
		return -1;
	close(s);
	return 0;
}

static int open_master(const struct image *img, const struct img_file *f)
{
	char ptmx[PATH_MAX];
	int m;

	/* the image's check: a mount is a DEVPTS one; restore_mnt_make()
	 * mounted it there, and this process is in that namespace */
	if (f->tty.mount)
		snprintf(ptmx, sizeof(ptmx), "%s/ptmx",
			 img->mounts[f->tty.mount - 1].point);
	else
		snprintf(ptmx, sizeof(ptmx), "/dev/ptmx");
	m = open_index(ptmx, f->tty.index);

	if (m < 0)
		return -1;
	if (set_state(m, f) || hang_up(m, f) ||
	    fcntl(m, F_SETFL, f->flags & SETFL_MASK)) {
		pr_perror("can't set the state of pty /dev/pts/%u",
			  f->tty.index);
		close(m);
		return -1;
	}
	return m;
}

static int open_slave(const struct image *img, const int *fds,
		      const struct img_file *f)
{
	const struct img_file *mf = img_pty_master(img, f->tty.mount,
						   f->tty.index);
	int s;

	/* the image's check: every slave has its master */
	s = ioctl(fds[mf - img->files], TIOCGPTPEER,
		  (f->flags & (O_ACCMODE | SETFL_MASK)) | O_NOCTTY |
		  O_CLOEXEC);
	if (s < 0)
		pr_perror("can't open the slave of pty /dev/pts/%u for file %u",
			  f->tty.index, f->id);
	return s;
}

/* Is f a pty of the pass that opens those of devpts instance ns (0: of
 * /dev/pts, in restore; 1: of the tree's own instances, in the root)? */
static int of_pass(const struct img_file *f, int ns)
{
	return img_tty_kind(f->kind) && !f->tty.mount == !ns;
}

/* Locked again, once every slave is open (TIOCGPTPEER needs no unlock,
 * but a lock taken after the slave was opened is the program's own). */
static int lock_again(const struct image *img, const int *fds, int ns)
{
	int lock = 1;
	uint32_t i;

	for (i = 0; i < img->nr_files; i++) {
		const struct img_file *f = &img->files[i];

		if (f->kind == IMG_FILE_PTY_MASTER && of_pass(f, ns) &&
		    (f->tty.flags & IMG_TTY_LOCKED) &&
		    ioctl(fds[i], TIOCSPTLCK, &lock)) {
			pr_perror("can't lock pty /dev/pts/%u", f->tty.index);
			return -1;
		}
	}
	return 0;
}

static int open_ttys(const struct image *img, int *fds, int ns)
{
	uint32_t i;
	int pass;

	/* masters first: a slave is an open of its master's peer */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < img->nr_files; i++) {
			const struct img_file *f = &img->files[i];

			if (!of_pass(f, ns) || f->kind != (pass ?
			    IMG_FILE_PTY_SLAVE : IMG_FILE_PTY_MASTER))
				continue;
			fds[i] = pass ? open_slave(img, fds, f) :
				open_master(img, f);
			if (fds[i] < 0)
				return -1;
		}
	}
	return lock_again(img, fds, ns);
}

int restore_ttys_open(const struct image *img, int *fds)
{
	return open_ttys(img, fds, 0);
}

int restore_ttys_open_ns(const struct image *img, int *fds)
{
	return fds ? open_ttys(img, fds, 1) : 0;
}

/* The master of the pty whose session p leads, or NULL. */
static const struct img_file *led_by(const struct image *img,
				     const struct img_proc *p)
{
	uint32_t i;

	for (i = 0; i < img->nr_files; i++)
		if (img->files[i].kind == IMG_FILE_PTY_MASTER &&
		    img->files[i].tty.sid == p->pid && p->sid == p->pid)
			return &img->files[i];
	return NULL;
}

/* The slave of the pty whose session p leads, opened anew, or -1 (with
 * errno 0 when there is none). */
static int led_slave(const struct image *img, const struct img_proc *p,
		     const int *files, const struct img_file **mf)
{
	*mf = led_by(img, p);
	errno = 0;
	if (!*mf)
		return -1;
	return ioctl(files[*mf - img->files], TIOCGPTPEER, PTY_FLAGS);
}

int restore_tty_ctty(const struct image *img, const struct img_proc *p,
		     const int *files)
{
	const struct img_file *mf;
	int s = led_slave(img, p, files, &mf), ret;

	if (s < 0)
		return errno ? -1 : 0;
	ret = ioctl(s, TIOCSCTTY, 0) ? -1 : 0;
	close(s);
	return ret;
}

/*
 * TIOCSPGRP takes a group of the session that exists: one of a process
 * that its parent, running meanwhile, may not have made yet. The wait is
 * bounded so that a group that never comes fails the restore.
 */
int restore_tty_set_fg(int s, pid_t pgrp)
{
	int ret = -1, i;

	for (i = 0; i < FG_TRIES; i++) {
		ret = ioctl(s, TIOCSPGRP, &pgrp);
		if (!ret || errno != ESRCH)
			break;
		usleep(10000);
	}
	return ret;
}

int restore_tty_fg(const struct image *img, const struct img_proc *p,
		   const int *files)
{
	const struct img_file *mf;
	int s = led_slave(img, p, files, &mf), ret = 0, err;

	if (s < 0)
		return errno ? -1 : 0;
	if (mf->tty.pgrp)
		ret = restore_tty_set_fg(s, mf->tty.pgrp);
	err = errno;
	close(s);
	errno = err;
	return ret;
}
