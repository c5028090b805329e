/*
 * memfd.c - memfd descriptors, not only mappings.
 *
 *   a	memfd "ckpt-a" (sealing allowed): 3 pages and 10 bytes of data,
 *	mapped MAP_SHARED, open at offset 100 and dup'ed (one description),
 *	sealed against shrinking and growing
 *   b	memfd "ckpt-b" (no sealing: it shows F_SEAL_SEAL), 5000 bytes of
 *	which only the first are written, and a second description of it
 *	(opened through /proc/self/fd) O_RDONLY at offset 7
 * After restore: the names, sizes, seals and data are as they were, the
 * offsets too, the dup'ed fds share one, the two descriptions of b and
 * the mapping and fds of a are each one inode (a byte written through the
 * mapping is read through the fd), and the seals still hold.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "workload.h"

#define A_SIZE		(3 * 4096 + 10)
#define B_SIZE		5000

static int fa, fa2, fb, fb2;
static unsigned char *ma;

static unsigned char byte_at(long off)
{
	return (unsigned char)(off * 7 + 1);
}

static void put(int fd, long len)
{
	unsigned char buf[A_SIZE];
	long i;

	for (i = 0; i < len; i++)
		buf[i] = byte_at(i);
	if (pwrite(fd, buf, len, 0) != len)
		wl_fail("pwrite: %s", strerror(errno));
}

static void setup(void)
{
	char proc[64];

	fa = memfd_create("ckpt-a", MFD_ALLOW_SEALING);
	fb = memfd_create("ckpt-b", 0);
	if (fa < 0 || fb < 0)
		wl_fail("memfd_create: %s", strerror(errno));
	put(fa, A_SIZE);
	ma = mmap(NULL, A_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
	if (ma == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	fa2 = dup(fa);
	lseek(fa, 100, SEEK_SET);
	if (fcntl(fa, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		wl_fail("F_ADD_SEALS: %s", strerror(errno));
	put(fb, 40);
	if (ftruncate(fb, B_SIZE))
		wl_fail("ftruncate: %s", strerror(errno));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fb);
	fb2 = open(proc, O_RDONLY);
	if (fa2 < 0 || fb2 < 0)
		wl_fail("dup or open %s: %s", proc, strerror(errno));
	lseek(fb2, 7, SEEK_SET);
}

static void check_fd(int fd, const char *name, long size, int seals)
{
	char proc[64], link[256], want[256];
	struct stat st;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	if (strcmp(link, want))
		wl_fail("fd %d is %s, want %s", fd, link, want);
	if (fstat(fd, &st) || st.st_size != size)
		wl_fail("fd %d: size %ld, want %ld", fd, (long)st.st_size,
			size);
	if (fcntl(fd, F_GET_SEALS) != seals)
		wl_fail("fd %d: seals %#x, want %#x", fd,
			fcntl(fd, F_GET_SEALS), seals);
}

static void check_data(int fd, long len)
{
	unsigned char buf[A_SIZE];
	long i;

	if (pread(fd, buf, len, 0) != len)
		wl_fail("pread fd %d: %s", fd, strerror(errno));
	for (i = 0; i < len; i++)
		if (buf[i] != byte_at(i))
			wl_fail("fd %d: byte %ld is wrong", fd, i);
}

static int same_inode(int a, int b)
{
	struct stat x, y;

	return !fstat(a, &x) && !fstat(b, &y) && x.st_ino == y.st_ino &&
	       x.st_dev == y.st_dev;
}

static void check(void)
{
	unsigned char c;

	check_fd(fa, "ckpt-a", A_SIZE, F_SEAL_SHRINK | F_SEAL_GROW);
	check_fd(fb, "ckpt-b", B_SIZE, F_SEAL_SEAL);
	check_fd(fb2, "ckpt-b", B_SIZE, F_SEAL_SEAL);
	check_data(fa, A_SIZE);
	check_data(fb, 40);
	if (lseek(fa2, 0, SEEK_CUR) != 100 || lseek(fb2, 0, SEEK_CUR) != 7 ||
	    lseek(fb, 0, SEEK_CUR) != 0)
		wl_fail("offsets %ld %ld %ld, want 100 7 0",
			(long)lseek(fa2, 0, SEEK_CUR),
			(long)lseek(fb2, 0, SEEK_CUR),
			(long)lseek(fb, 0, SEEK_CUR));
	lseek(fa2, 3, SEEK_SET);
	if (lseek(fa, 0, SEEK_CUR) != 3)
		wl_fail("the dup'ed fds of a have two offsets");
	if (!same_inode(fb, fb2) || same_inode(fa, fb))
		wl_fail("the descriptions of b are not one memfd");
	ma[5] = 'Q';
	if (pread(fa, &c, 1, 5) != 1 || c != 'Q')
		wl_fail("the mapping and the fd of a are not one memfd");
	if (!ftruncate(fa, 10) || errno != EPERM)
		wl_fail("a: the shrink seal does not hold");
	if (write(fb2, "x", 1) != -1 || errno != EBADF)
		wl_fail("b: the O_RDONLY description can be written");
}

int main(void)
{
	unsigned long n = 0;
	int fd;

	wl_init();
	fd = wl_count_open();
	setup();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	check();
	return 0;
}
