/*
 * ttyq: bytes put in a pty slave's read queue through its master.
 *
 * A byte written to the master goes through the slave's line discipline
 * (n_tty) as a typed key does: echoed, turned into a signal, used to edit
 * the line, translated (ICRNL). What a queue holds already went through
 * all that, so the pair's termios is changed for the time of the write:
 * no ISIG, no input flags, no output processing, and the editing
 * characters (VERASE, VKILL, VWERASE, VLNEXT, VREPRINT, VDISCARD) set to
 * a byte the queue does not hold, so that every byte is stored as it is;
 * ICANON and IEXTEN stay as they were so that '\n', VEOL, VEOL2 and VEOF
 * end lines as before. ECHO is on: the line discipline puts each byte it
 * stored (VEOF alone is not echoed) in the master's read queue, so that
 * reading that many bytes back from the master says every byte was
 * stored (the write itself only queues them for a kernel worker), and
 * empties the master's queue again. The caller's termios come back then.
 *
 * The line discipline's output column, which no ioctl sets, moves with
 * what is written through the slave when OPOST is on: one column for a
 * printable byte, one back for '\b' but at 0 (drivers/tty/n_tty.c,
 * do_output_char). Echo with OPOST off leaves it: the typed bytes go
 * back without moving it, and the first byte of a line sets the column
 * the line began at (canon_column, used by the echo of an erased tab) to
 * it.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "util/ttyq.h"
#include "util/util.h"

#define ECHO_WAIT_MS	30000	/* the kernel worker on a loaded machine */

static const int editing[] = {
	VERASE, VKILL, VWERASE, VLNEXT, VREPRINT, VDISCARD,
};

int ttyq_is_end(const struct termios *tio, unsigned char c)
{
	return c == '\n' || (c && c == tio->c_cc[VEOL]) ||
	       (c && c == tio->c_cc[VEOL2] && (tio->c_lflag & IEXTEN));
}

int ttyq_is_eof(const struct termios *tio, unsigned char c)
{
	return c && c == tio->c_cc[VEOF];
}

/* A byte that neither buf nor tio's line ends use, or -1. */
static int spare_byte(const struct termios *tio, const unsigned char *buf,
		      size_t len)
{
	unsigned char used[256] = { 0 };
	size_t i;
	int c;

	for (i = 0; i < len; i++)
		used[buf[i]] = 1;
	for (c = 1; c < 256; c++)
		if (!used[c] && !ttyq_is_end(tio, c) && !ttyq_is_eof(tio, c))
			return c;
	return -1;
}

/* n bytes from m, within the bound, thrown away. */
static int drain(int m, size_t n)
{
	struct pollfd p = { .fd = m, .events = POLLIN };
	char buf[512];
	ssize_t r;

	while (n > 0) {
		if (poll(&p, 1, ECHO_WAIT_MS) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = read(m, buf, n < sizeof(buf) ? n : sizeof(buf));
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (r > 0)
			n -= r;
	}
	return 0;
}

/* The column from `from` to `to`, written through the slave s. */
static int move_column(int m, int s, const struct termios *tio,
		       unsigned int from, unsigned int to)
{
	struct termios out = *tio;
	unsigned int n = from < to ? to - from : from - to, k;
	char buf[512];
	int ret = 0, err;

	if (!n)
		return 0;
	memset(buf, from < to ? 'x' : '\b', sizeof(buf));
	out.c_oflag = OPOST;
	out.c_lflag = 0;
	if (tcsetattr(m, TCSANOW, &out))
		return -1;
	for (; !ret && n > 0; n -= k) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		ret = write_full(s, buf, k) || drain(m, k) ? -1 : 0;
	}
	err = errno;
	if (tcsetattr(m, TCSANOW, tio))
		return -1;
	errno = err;
	return ret;
}

int ttyq_push_input(int m, const struct termios *tio, const void *buf,
		    size_t len)
{
	const unsigned char *b = buf;
	struct termios raw = *tio;
	size_t i, echoed = 0;
	int spare = spare_byte(tio, b, len), ret = -1, err;

	if (!len)
		return 0;
	if (spare < 0 || len > TTYQ_MAX) {
		errno = EINVAL;
		return -1;
	}
	raw.c_iflag = 0;
	raw.c_oflag = 0;
	raw.c_lflag = (tio->c_lflag & (ICANON | IEXTEN)) | ECHO;
	for (i = 0; i < sizeof(editing) / sizeof(editing[0]); i++)
		raw.c_cc[editing[i]] = spare;
	for (i = 0; i < len; i++)
		echoed += !((tio->c_lflag & ICANON) && ttyq_is_eof(tio, b[i]));
	if (!tcsetattr(m, TCSANOW, &raw) && !write_full(m, b, len) &&
	    !drain(m, echoed))
		ret = 0;
	err = errno;
	if (tcsetattr(m, TCSANOW, tio))
		ret = -1;
	else
		errno = err;
	return ret;
}

int ttyq_push_columns(int m, const struct termios *tio, const void *buf,
		      size_t len, unsigned int from, unsigned int canon,
		      unsigned int col)
{
	int s, ret, err;

	if (from == col && (!len || from == canon))
		return ttyq_push_input(m, tio, buf, len);
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (s < 0)
		return -1;
	if (len)
		ret = move_column(m, s, tio, from, canon) ||
		      ttyq_push_input(m, tio, buf, len) ||
		      move_column(m, s, tio, canon, col) ? -1 : 0;
	else
		ret = move_column(m, s, tio, from, col);
	err = errno;
	close(s);
	errno = err;
	return ret;
}
