/*
 * tty.c - stdin, stdout and stderr are a terminal.
 *
 * Run under script(1), which gives it a pty.  The restorer replaces fds
 * 0-2 that were terminals with its own, so after a restore that itself
 * runs under script all three must be terminals again; the workload then
 * writes "tty-ok" to stdout, which the runner looks for in the second
 * script's log.
 */
#include <termios.h>

#include "workload.h"

static void want_tty(const char *when)
{
	struct termios t;
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (!isatty(fd))
			wl_fail("%s: fd %d is not a terminal", when, fd);
		if (tcgetattr(fd, &t))
			wl_fail("%s: tcgetattr(%d): %s", when, fd,
				strerror(errno));
	}
}

int main(void)
{
	unsigned long n = 0;
	int fd;

	wl_init();
	want_tty("before ready");
	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	want_tty("after stop");
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	if (write(1, "tty-ok\n", 7) != 7)
		wl_fail("write to the terminal: %s", strerror(errno));
	return 0;
}
