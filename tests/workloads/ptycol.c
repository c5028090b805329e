/*
 * ptycol.c - a pty pair whose slave's line discipline keeps what no
 * ioctl shows (ckpt/dump-tty.c, bpf/tty.bpf.c).
 *
 * It opens a pty pair, sets the slave's output to expand tabs (TAB3),
 * writes "abc" without a newline to the slave and reads it off the
 * master: the line discipline's output column is 3. At D/stop it writes
 * "\tX\n" to the slave: the tab must expand to the next tab stop, 5
 * spaces, as the master reads back.
 *
 * With the argument "lnext", the master types VLNEXT (^V) to the slave
 * in canonical mode instead: the next byte typed would be taken
 * literally. At D/stop it types "\n" and a read of the slave must find
 * that quoted newline as data, the line still open.
 *
 * With "unopened", the slave is never opened: the master types "hello"
 * to it, which its line discipline keeps.
 */
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "workload.h"

#define WANT_TAB	"     X\r\n"

/* exactly len bytes from fd (the pair's other side), within 30 s */
static void read_exact(int fd, char *buf, size_t len, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&p, 1, 30000) != 1)
			wl_fail("%s: %zu of %zu bytes", what, got, len);
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			wl_fail("%s: %s", what, strerror(errno));
		if (n > 0)
			got += n;
	}
}

static void write_exact(int fd, const char *s, const char *what)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		wl_fail("%s: %s", what, strerror(errno));
}

int main(int argc, char **argv)
{
	int lnext = argc > 1 && !strcmp(argv[1], "lnext");
	int unopened = argc > 1 && !strcmp(argv[1], "unopened");
	char buf[64] = "";
	struct termios tio;
	unsigned long n = 0;
	int m, s, fd;

	wl_init();
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (unopened) {
		if (m < 0 || unlockpt(m))
			wl_fail("can't open a pty: %s", strerror(errno));
		write_exact(m, "hello", "type hello");
		fd = wl_count_open();
		while (!wl_count_step(fd, &n))
			wl_sleep_ms(20);
		return 0;
	}
	if (m < 0 || grantpt(m) || unlockpt(m) ||
	    (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0 ||
	    tcgetattr(s, &tio))
		wl_fail("can't open a pty: %s", strerror(errno));
	tio.c_oflag = (tio.c_oflag & ~TABDLY) | OPOST | ONLCR | TAB3;
	tio.c_lflag = ICANON | IEXTEN | (lnext ? 0 : ECHO);
	tio.c_cc[VLNEXT] = 'V' & 0x1f;
	if (tcsetattr(s, TCSANOW, &tio))
		wl_fail("can't set the slave's termios: %s", strerror(errno));
	if (lnext) {
		write_exact(m, "\x16", "type ^V");
	} else {
		write_exact(s, "abc", "write abc to the slave");
		read_exact(m, buf, 3, "abc off the master");
	}
	fd = wl_count_open();
	while (!wl_count_step(fd, &n))
		wl_sleep_ms(20);
	if (lnext) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		write_exact(m, "\nY\n", "type a newline");
		if (poll(&p, 1, 30000) != 1)
			wl_fail("nothing to read on the slave");
		/* one line: the quoted newline in it */
		if (read(s, buf, sizeof(buf)) != 3 || memcmp(buf, "\nY\n", 3))
			wl_fail("the slave read '%.3s', not a quoted newline",
				buf);
		return 0;
	}
	write_exact(s, "\tX\n", "write a tab to the slave");
	memset(buf, 0, sizeof(buf));
	read_exact(m, buf, strlen(WANT_TAB), "the tab off the master");
	if (strcmp(buf, WANT_TAB))
		wl_fail("the tab came out as '%s', not '%s'", buf, WANT_TAB);
	return 0;
}
