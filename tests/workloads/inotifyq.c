/*
 * inotifyq.c - an inotify instance (fd 3) with an event queued and never
 * read: a file created in the watched test directory D. No call queues
 * events again, so ckpt refuses it by name; the workload counts on.
 */
#include <sys/inotify.h>

#include "workload.h"

int main(void)
{
	unsigned long n = 0;
	char p[PATH_MAX];
	int in, fd;

	wl_init();
	in = inotify_init1(IN_NONBLOCK);
	if (in != 3)
		wl_fail("inotify_init1 gave fd %d, not 3", in);
	if (inotify_add_watch(in, wl_dir, IN_CREATE) < 0)
		wl_fail("inotify_add_watch: %s", strerror(errno));
	fd = open(wl_path(p, "created"), O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	close(fd);
	fd = wl_count_open();
	while (!wl_count_step(fd, &n))
		wl_sleep_ms(20);
	return 0;
}
