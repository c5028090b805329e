/*
 * uffdown.c - a process with a userfaultfd of its own, a range of its
 * memory registered with it: what pre-copy (attach --pre-copy) must
 * leave alone. It counts until D/stop, then checks its registration is
 * still in place (registering the range again is EBUSY... from another
 * userfaultfd: a new one of its own).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/userfaultfd.h>

#include "workload.h"

#define LEN	(1UL << 20)

static void *region;

static int make_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api))
		wl_fail("userfaultfd: %s", strerror(errno));
	return fd;
}

static int reg(int fd)
{
	struct uffdio_register r = {
		.range = { (unsigned long)region, LEN },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	return ioctl(fd, UFFDIO_REGISTER, &r);
}

static void check(void)
{
	int other = make_uffd();

	if (!reg(other) || errno != EBUSY)
		wl_fail("the range is no longer registered with our userfaultfd");
	close(other);
}

int main(void)
{
	int fd;

	wl_init();
	region = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	fd = make_uffd();
	if (reg(fd))
		wl_fail("UFFDIO_REGISTER: %s", strerror(errno));
	wl_count_checked(check);
	return 0;
}
