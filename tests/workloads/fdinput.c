/*
 * fdinput.c - reads its input through fd 5, for restore --fd.
 *
 * D/input is open on fd 5 and on fd 6, a dup of it (one description, one
 * offset), and its first two bytes are read before D/ready. At D/stop the
 * rest of fd 5 goes to D/seen5, then the rest of fd 6 to D/seen6: after
 * restore --fd 5=OTHER, seen5 holds OTHER (from 0, or from 2 with :pos)
 * and seen6 the rest of D/input as it was, the description shared with
 * fd 5 untouched.
 */
#include "workload.h"

static void rest_to(int fd, const char *name)
{
	char buf[4096];
	ssize_t n, len = 0;

	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0)
			wl_fail("read fd %d: %s", fd, strerror(errno));
		if (n == 0 || (len += n) == (ssize_t)sizeof(buf))
			break;
	}
	wl_write_file(name, buf, len);
}

int main(void)
{
	char path[PATH_MAX], two[2];
	unsigned long n = 0;
	int fd;

	wl_init();
	fd = open(wl_path(path, "input"), O_RDONLY);
	if (fd < 0 || dup2(fd, 5) != 5 || dup2(fd, 6) != 6)
		wl_fail("can't open D/input on fds 5 and 6: %s",
			strerror(errno));
	close(fd);
	if (read(5, two, 2) != 2)
		wl_fail("can't read the first bytes of D/input");
	fd = wl_count_open();
	while (!wl_count_step(fd, &n))
		wl_sleep_ms(20);
	rest_to(5, "seen5");
	rest_to(6, "seen6");
	return 0;
}
