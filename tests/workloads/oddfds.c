/*
 * oddfds.c - holds one kind of fd ckpt refuses by name: "uring" an
 * io_uring instance, "uffd" a userfaultfd, "pidfd" a pidfd of its parent
 * (outside the tree). Counts until D/stop; the test checks that the dump is refused
 * naming the fd or mapping and that the program runs on.
 */
#include <sys/mman.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>

#include "workload.h"

static void hold(const char *kind)
{
	struct io_uring_params p = { 0 };
	long fd = -1;

	if (!strcmp(kind, "uring"))
		fd = syscall(SYS_io_uring_setup, 4, &p);
	else if (!strcmp(kind, "uffd"))
		fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	else if (!strcmp(kind, "pidfd"))
		fd = syscall(SYS_pidfd_open, getppid(), 0);
	else
		wl_fail("unknown kind %s", kind);
	if (fd < 0)
		wl_fail("can't make the %s: %s", kind, strerror(errno));
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int fd;

	if (argc != 2)
		wl_fail("usage: oddfds uring|uffd|pidfd");
	wl_init();
	hold(argv[1]);
	fd = wl_count_open();
	while (!wl_count_step(fd, &n))
		wl_sleep_ms(20);
	return 0;
}
