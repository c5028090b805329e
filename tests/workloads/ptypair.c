/*
 * ptypair.c - a tiny tmux: a pty pair, its master here, a child on its
 * slave.
 *
 * The parent opens a pty (posix_openpt), gives it a window size and a
 * kill character of its own, and forks a child that starts a session,
 * takes the slave as its controlling terminal and as fds 0-2, and writes
 * "tick N" lines to it every 20 ms. The parent counts (D/count) and reads
 * the master, checking the ticks come one after another, none lost or
 * repeated. Once D/restored is seen the ticks must go on; at D/stop the
 * parent checks the pair (same /dev/pts name, window size, kill
 * character) and writes "q" to the master: the child, which reads its
 * terminal, checks its session still has the terminal and is its
 * foreground group, and exits 0.
 *
 * Two more masters stand alone: one whose slave was opened and closed
 * (it reads EIO), one never unlocked (it reads EAGAIN and is locked).
 *
 * With the argument "typed", the parent types (writes to the master) a
 * line, a line ended by VEOF (^D) and the start of a third with a ^V'd
 * erase character in it, which the child reads only at D/stop: bytes the
 * slave has not read, as its line discipline cooked them, which must come
 * back once, as they were: their echo seen once, no erase done twice, the
 * lines read one by one. With "quoted", a line with a newline quoted by
 * ^V in it, which a dump refuses (and puts back unquoted): the child
 * reads what comes until the "q".
 *
 * Run under tests/workloads/reaper and dumped with --tree.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <poll.h>
#include <termios.h>

#include "workload.h"

#define ROWS	33
#define COLS	111
#define KILLC	0x0b	/* ^K */

#define TYPED	"typed\n" "a line\x04" "ha\x16\x7fl"
#define HALF	"ha\x7flq\n"	/* the line begun, and "q\n" */
#define QUOTED	"a\x16\nb\n"

static int typed, quoted;

/* At D/stop, with "typed": the lines typed long before come first. */
static void read_typed(void)
{
	char buf[64];

	if (typed && (read(0, buf, sizeof(buf)) != 6 ||
		      memcmp(buf, "typed\n", 6) ||
		      read(0, buf, sizeof(buf)) != 6 ||
		      memcmp(buf, "a line", 6)))
		_exit(15);
}

/* What the child reads once the parent wrote "q\n". */
static void read_q(void)
{
	char buf[64];
	ssize_t n = read(0, buf, sizeof(buf));
	int i;

	for (i = 0; quoted && i < 8 && n > 0 && !memchr(buf, 'q', n); i++)
		n = read(0, buf, sizeof(buf));
	if (quoted)
		return;
	if (typed ? n != sizeof(HALF) - 1 || memcmp(buf, HALF, n) :
	    n < 1 || buf[0] != 'q')
		_exit(12);
}

static void child(const char *name)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	struct winsize ws;
	unsigned long n = 0;
	int fd;

	if (setsid() < 0)
		_exit(10);
	fd = open(name, O_RDWR);	/* our controlling terminal */
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(11);
	if (fd > 2)
		close(fd);
	for (;;) {
		dprintf(1, "tick %lu\n", n++);
		if ((typed || quoted) && !wl_should_stop())
			wl_sleep_ms(20);
		else if (poll(&p, 1, 20) == 1)
			break;
	}
	read_typed();
	read_q();
	if (tcgetsid(0) != getpid() || tcgetpgrp(0) != getpid())
		_exit(13);
	fd = open("/dev/tty", O_RDWR);
	if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) || ws.ws_row != ROWS)
		_exit(14);
	_exit(0);
}

struct ticks {
	char line[256];
	size_t len;
	long last, at_restored;
	int echoes[3];		/* "typed", "a line", "ha" seen */
};

static const char *const echoed[3] = { "typed", "a line", "ha" };

/* The echo of what was typed, seen in a line of the master's output. */
static void count_echoes(struct ticks *t)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strstr(t->line, echoed[i]))
			t->echoes[i]++;
}

static void check_echoes(const struct ticks *t)
{
	int i;

	for (i = 0; typed && i < 3; i++)
		if (t->echoes[i] != 1)
			wl_fail("the echo of \"%s\" seen %d times", echoed[i],
				t->echoes[i]);
}

/* Every complete line of the master's output: "tick N", N one more. */
static void read_ticks(int m, struct ticks *t)
{
	char c, *tick;

	while (read(m, &c, 1) == 1) {
		if (c == '\r')
			continue;
		if (c != '\n') {
			if (t->len < sizeof(t->line) - 1)
				t->line[t->len++] = c;
			continue;
		}
		t->line[t->len] = '\0';
		t->len = 0;
		count_echoes(t);
		/* an echo without its newline may come first */
		tick = strstr(t->line, "tick ");
		if (!tick)
			continue;	/* the echo of "q" */
		if (atol(tick + 5) != t->last + 1)
			wl_fail("tick %s after tick %ld", tick + 5, t->last);
		t->last++;
	}
	if (errno != EAGAIN)
		wl_fail("read the master: %s", strerror(errno));
}

static void check_pair(int m, const char *name)
{
	struct termios tio;
	struct winsize ws;
	char *now = ptsname(m);

	if (!now || strcmp(now, name))
		wl_fail("the slave was %s, it is %s", name, now ? now : "?");
	if (ioctl(m, TIOCGWINSZ, &ws) || ws.ws_row != ROWS ||
	    ws.ws_col != COLS)
		wl_fail("window size %ux%u", ws.ws_row, ws.ws_col);
	if (tcgetattr(m, &tio) || tio.c_cc[VKILL] != KILLC)
		wl_fail("kill character %#x", tio.c_cc[VKILL]);
}

/* A master whose slave was opened and closed, and a locked one. */
static void open_lone(int *hup, int *locked)
{
	int s;

	*hup = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	*locked = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (*hup < 0 || *locked < 0 || unlockpt(*hup))
		wl_fail("can't open a pty: %s", strerror(errno));
	s = open(ptsname(*hup), O_RDWR | O_NOCTTY);
	if (s < 0 || close(s))
		wl_fail("can't open the slave: %s", strerror(errno));
}

static void check_lone(int hup, int locked)
{
	char c;
	int lock = 0;

	if (read(hup, &c, 1) != -1 || errno != EIO)
		wl_fail("the hung up master reads: %s", strerror(errno));
	if (read(locked, &c, 1) != -1 || errno != EAGAIN)
		wl_fail("the locked master reads: %s", strerror(errno));
	if (ioctl(locked, TIOCGPTLCK, &lock) || !lock)
		wl_fail("the locked master is not locked");
}

static int open_pair(char *name, size_t len)
{
	struct winsize ws = { .ws_row = ROWS, .ws_col = COLS };
	struct termios tio;
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	if (m < 0 || grantpt(m) || unlockpt(m) ||
	    ptsname_r(m, name, len) || tcgetattr(m, &tio))
		wl_fail("can't open a pty: %s", strerror(errno));
	tio.c_cc[VKILL] = KILLC;
	if (tcsetattr(m, TCSANOW, &tio) || ioctl(m, TIOCSWINSZ, &ws))
		wl_fail("can't set up the pty: %s", strerror(errno));
	return m;
}

int main(int argc, char **argv)
{
	struct ticks t = { .last = -1, .at_restored = -2 };
	unsigned long n = 0;
	char name[64];
	int m, fd, st, hup, locked;
	pid_t pid;

	wl_init();
	typed = argc > 1 && !strcmp(argv[1], "typed");
	quoted = argc > 1 && !strcmp(argv[1], "quoted");
	m = open_pair(name, sizeof(name));
	pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0)
		child(name);
	fcntl(m, F_SETFL, O_NONBLOCK);
	if (typed && write(m, TYPED, sizeof(TYPED) - 1) != sizeof(TYPED) - 1)
		wl_fail("write the master: %s", strerror(errno));
	if (quoted && write(m, QUOTED, sizeof(QUOTED) - 1) !=
	    sizeof(QUOTED) - 1)
		wl_fail("write the master: %s", strerror(errno));
	open_lone(&hup, &locked);
	fd = wl_count_open();
	while (!wl_count_step(fd, &n)) {
		read_ticks(m, &t);
		if (t.at_restored == -2 && wl_restored())
			t.at_restored = t.last;
		wl_sleep_ms(20);
	}
	read_ticks(m, &t);
	check_pair(m, name);
	check_lone(hup, locked);
	check_echoes(&t);
	if (t.at_restored != -2 && t.last <= t.at_restored + 2)
		wl_fail("no ticks since restore: %ld", t.last);
	if (write(m, "q\n", 2) != 2)
		wl_fail("write the master: %s", strerror(errno));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("the child on the slave ended with status %#x", st);
	return 0;
}
