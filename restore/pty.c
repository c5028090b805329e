/*
 * restore --pty: the tree gets a pty of its own, in place of the terminal
 * outside it that it had (the TTY file of the image: the one whose
 * termios and size ckpt saved), and restore bridges it to its own
 * standard input and output, so that an interactive program dumped in one
 * terminal comes back in another.
 *
 * The pty is made with the image's termios and window size, so that the
 * tree finds its terminal as it left it; the root leads a session of its
 * own whose controlling terminal it is (as it was of the program's, in
 * the terminal it was dumped from), with the image's foreground group
 * when that group is in the tree. Then restore bridges: its terminal in
 * raw mode (every key goes to the pty, whose line discipline is the
 * tree's: ^C reaches the tree, not restore), bytes copied both ways, its
 * window size passed on at once and at each SIGWINCH (the kernel tells
 * the pty's foreground group, which redraws), until the root ends; its
 * terminal's modes come back then, and the root's status is restore's.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "restore/restore.h"

#define POLL_MS		200	/* a signal that comes before poll waits */

static volatile sig_atomic_t winch, quit;

int restore_pty_check(const struct restore_run *run)
{
	uint32_t n;

	if (!run->pty.on || img_outside_tty(run->img, &n))
		return 0;
	if (!n)
		pr_err("can't give %s a pty of its own: it had no terminal",
		       run->path);
	else
		pr_err("can't give %s a pty of its own: it had %u terminals",
		       run->path, n);
	return -1;
}

int restore_pty_open(struct restore_run *run)
{
	uint32_t n;
	const struct img_file *f = img_outside_tty(run->img, &n);
	struct winsize ws = { .ws_row = f->tty.rows, .ws_col = f->tty.cols,
			      .ws_xpixel = f->tty.xpixel,
			      .ws_ypixel = f->tty.ypixel };
	struct termios tio;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s = -1;

	img_tty_termios(&f->tty, &tio);
	if (m < 0 || unlockpt(m) ||
	    (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    cfsetispeed(&tio, f->tty.ispeed) ||
	    cfsetospeed(&tio, f->tty.ospeed) ||
	    tcsetattr(m, TCSANOW, &tio) || ioctl(m, TIOCSWINSZ, &ws)) {
		pr_perror("can't make a pty for %s", f->path);
		if (m >= 0)
			close(m);
		if (s >= 0)
			close(s);
		return -1;
	}
	run->pty.m = m;
	run->pty.s = s;
	return 0;
}

void restore_pty_close(struct restore_run *run)
{
	if (run->pty.m >= 0)
		close(run->pty.m);
	if (run->pty.s >= 0)
		close(run->pty.s);
	run->pty.m = run->pty.s = -1;
}

/* The group of the tree that had the terminal, or the root's. */
static pid_t fg_group(const struct restore_run *run)
{
	const struct img_proc *root = &run->img->procs[0].proc;
	uint32_t i, n;
	pid_t pgrp = img_outside_tty(run->img, &n)->tty.pgrp;

	if (pgrp == root->pgid)
		return root->pid;
	for (i = 0; pgrp && i < run->img->nr_procs; i++)
		if (run->img->procs[i].proc.pid == pgrp &&
		    run->img->procs[i].proc.pgid == pgrp)
			return pgrp;
	return root->pid;
}

int restore_pty_ctty(const struct restore_run *run)
{
	if (setsid() < 0 || ioctl(run->pty.s, TIOCSCTTY, 0))
		return -1;
	return 0;
}

int restore_pty_fg(const struct restore_run *run)
{
	return restore_tty_set_fg(run->pty.s, fg_group(run));
}

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		winch = 1;
	else if (sig != SIGCHLD)
		quit = sig;
}

static void catch_signals(void)
{
	static const int sigs[] = { SIGWINCH, SIGCHLD, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll wakes up */
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void pass_size(int m)
{
	struct winsize ws, now;

	if (!ioctl(0, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col &&
	    !ioctl(m, TIOCGWINSZ, &now) &&
	    (ws.ws_row != now.ws_row || ws.ws_col != now.ws_col) &&
	    ioctl(m, TIOCSWINSZ, &ws))
		pr_warn("can't pass the window size on: %s", strerror(errno));
}

/* One read from `from`, written whole to `to`: 0, or -1 at its end. */
static int copy(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;	/* EIO: no slave open any more */
	if (write_full(to, buf, n))
		pr_warn("can't pass %zd bytes on: %s", n, strerror(errno));
	return 0;
}

/* The root's status if it has ended, else -1. */
static int ended(pid_t root)
{
	int st;
	pid_t p = waitpid(root, &st, WNOHANG);

	if (p != root)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What is left in the master once the root ended, without waiting. */
static void drain(int m)
{
	int fl = fcntl(m, F_GETFL);

	if (fl >= 0 && !fcntl(m, F_SETFL, fl | O_NONBLOCK))
		while (!copy(m, 1))
			if (errno == EAGAIN || errno == EINTR)
				break;
}

static int bridge(int m, pid_t root)
{
	struct pollfd p[2] = {
		{ .fd = 0, .events = POLLIN }, { .fd = m, .events = POLLIN },
	};
	int st, n;

	while ((st = ended(root)) < 0 && !quit) {
		n = poll(p, 2, POLL_MS);
		/* after the poll, before the keys: a resize comes before the
		 * keys typed after it (its SIGWINCH is ours by the time they
		 * can be read, at the latest on the way out of poll) */
		if (winch) {
			winch = 0;
			pass_size(m);
		}
		if (n <= 0)
			continue;
		/* a negative fd is left out: stdin at its end, the master
		 * once no slave is open (the root may still run) */
		if ((p[0].revents & (POLLIN | POLLHUP)) && copy(0, m))
			p[0].fd = -1;
		if ((p[1].revents & (POLLIN | POLLHUP)) && copy(m, 1))
			p[1].fd = -1;
	}
	if (quit)
		return 128 + quit;
	drain(m);
	return st;
}

int restore_pty_bridge(struct restore_run *run, pid_t root)
{
	struct termios saved, raw;
	int tty = isatty(0) && !tcgetattr(0, &saved), m = run->pty.m, ret;

	close(run->pty.s);
	run->pty.s = -1;
	/* the keys are the tree's: its line discipline handles them */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	catch_signals();
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(0, TCSANOW, &raw))
			pr_warn("can't put the terminal in raw mode: %s",
				strerror(errno));
		pass_size(m);
	}
	ret = bridge(m, root);
	if (tty && tcsetattr(0, TCSANOW, &saved))
		pr_warn("can't set the terminal's modes back: %s",
			strerror(errno));
	return ret;
}
