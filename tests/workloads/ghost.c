/*
 * ghost.c - files that no path reaches: deleted while open or mapped, or
 * replaced by another file of the same name, and a deleted cwd.
 *
 *   g1		D/g1, sparse: 4 KiB of data, a hole up to 1 MiB, 8 KiB and
 *		100 bytes more; mode 0640, a fixed mtime. Open O_RDWR at
 *		offset 1234 and dup'ed (one description), open again
 *		O_RDONLY at offset 777, mapped MAP_SHARED; then unlinked.
 *		After restore: one inode under all of them (a byte written
 *		through the mapping is read through the fd), nlink 0,
 *		/proc shows "D/g1 (deleted)", the data, the hole, the size,
 *		mode, mtime and both offsets are as they were.
 *   g2		D/g2 open O_RDONLY, then replaced by a new D/g2 (rename):
 *		the fd still reads the old contents, D/g2 the new ones (the
 *		old one is deleted, under a name of restore's choosing).
 *   g3		D/g3, two pages mapped MAP_PRIVATE, the first written (a
 *		private copy), then closed and unlinked: the second page
 *		comes from the file, the first from the process.
 *   g4		an empty file, open and unlinked.
 *   cwd	D/gdir, made the cwd and removed: still the cwd, deleted.
 * After restore nothing of them is in D under any name.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "workload.h"

#define MIB		(1 << 20)
#define G1_SIZE		(MIB + 8192 + 100)
#define G1_MTIME	1000000000
#define OFF_RW		1234
#define OFF_RO		777
#define PAGE		4096

static int fd_rw, fd_dup, fd_ro, fd_old, fd_empty, sparse;
static unsigned char *m1, *m3;

static unsigned char byte_at(long off, int seed)
{
	return (unsigned char)(off * 13 + seed);
}

static void fill(unsigned char *buf, long off, long len, int seed)
{
	long i;

	for (i = 0; i < len; i++)
		buf[i] = byte_at(off + i, seed);
}

static int xopen(const char *name, int flags)
{
	char p[PATH_MAX];
	int fd = open(wl_path(p, name), flags | O_CLOEXEC, 0600);

	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	return fd;
}

static void xunlink(const char *name)
{
	char p[PATH_MAX];

	if (unlink(wl_path(p, name)))
		wl_fail("unlink %s: %s", p, strerror(errno));
}

static void put(int fd, long off, long len, int seed)
{
	unsigned char buf[8192 + 100];

	fill(buf, off, len, seed);
	if (pwrite(fd, buf, len, off) != len)
		wl_fail("pwrite: %s", strerror(errno));
}

static void setup_g1(void)
{
	struct timespec ts[2] = { { G1_MTIME, 0 }, { G1_MTIME, 0 } };

	fd_rw = xopen("g1", O_RDWR | O_CREAT | O_EXCL);
	put(fd_rw, 0, PAGE, 1);
	put(fd_rw, MIB, 8192 + 100, 1);
	/* a file system without holes makes the hole check moot */
	sparse = lseek(fd_rw, PAGE, SEEK_DATA) == MIB;
	fd_dup = dup(fd_rw);
	fd_ro = xopen("g1", O_RDONLY);
	m1 = mmap(NULL, G1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_rw, 0);
	if (fd_dup < 0 || m1 == MAP_FAILED)
		wl_fail("dup or mmap g1: %s", strerror(errno));
	if (fchmod(fd_rw, 0640) || futimens(fd_rw, ts))
		wl_fail("fchmod or futimens g1: %s", strerror(errno));
	lseek(fd_rw, OFF_RW, SEEK_SET);
	lseek(fd_ro, OFF_RO, SEEK_SET);
	xunlink("g1");
}

static void setup_others(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	int fd;

	wl_write_file("g2", "old contents", 12);
	fd_old = xopen("g2", O_RDONLY);
	wl_write_file("g2.new", "new contents", 12);
	if (rename(wl_path(p, "g2.new"), wl_path(q, "g2")))
		wl_fail("rename %s: %s", p, strerror(errno));

	fd = xopen("g3", O_RDWR | O_CREAT | O_EXCL);
	put(fd, 0, PAGE, 3);
	put(fd, PAGE, PAGE, 3);
	m3 = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m3 == MAP_FAILED)
		wl_fail("mmap g3: %s", strerror(errno));
	memset(m3, 'P', PAGE);
	close(fd);
	xunlink("g3");

	fd_empty = xopen("g4", O_RDWR | O_CREAT | O_EXCL);
	xunlink("g4");

	if (mkdir(wl_path(p, "gdir"), 0751) || chdir(p) || rmdir(p))
		wl_fail("mkdir, chdir, rmdir %s: %s", p, strerror(errno));
}

/* /proc shows proc as "D/name (deleted)"; name NULL: any name in D (a
 * ghost whose name is taken comes back under another) */
static void check_link(const char *proc, const char *name)
{
	char link[PATH_MAX], p[PATH_MAX], want[PATH_MAX + 16];
	ssize_t n = readlink(proc, link, sizeof(link) - 1);
	size_t k;

	if (n < 0)
		wl_fail("readlink %s: %s", proc, strerror(errno));
	link[n] = '\0';
	snprintf(want, sizeof(want), "%s (deleted)", wl_path(p, name ? name :
							       "*"));
	k = strlen(wl_dir) + 1;
	if (name ? strcmp(link, want) : strncmp(link, want, k) ||
	    strchr(link + k, '/') || !strstr(link + k, " (deleted)"))
		wl_fail("%s is %s, want %s", proc, link, want);
}

static void check_fd_link(int fd, const char *name)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	check_link(proc, name);
}

static void check_data(int fd, long off, long len, int seed)
{
	unsigned char buf[8192 + 100], want[8192 + 100];

	if (pread(fd, buf, len, off) != len)
		wl_fail("pread %ld at %ld: %s", len, off, strerror(errno));
	fill(want, off, len, seed);
	if (memcmp(buf, want, len))
		wl_fail("fd %d: wrong data at %ld", fd, off);
}

static void check_g1_inode(void)
{
	struct stat a, b, c;

	if (fstat(fd_rw, &a) || fstat(fd_dup, &b) || fstat(fd_ro, &c))
		wl_fail("fstat g1: %s", strerror(errno));
	if (a.st_ino != b.st_ino || a.st_ino != c.st_ino ||
	    a.st_dev != c.st_dev)
		wl_fail("the fds of g1 are not one inode any more");
	if (a.st_nlink != 0 || !S_ISREG(a.st_mode) ||
	    (a.st_mode & 07777) != 0640 || a.st_size != G1_SIZE ||
	    a.st_mtim.tv_sec != G1_MTIME)
		wl_fail("g1: nlink %lu mode %o size %ld mtime %ld",
			(unsigned long)a.st_nlink, (unsigned)a.st_mode,
			(long)a.st_size, (long)a.st_mtim.tv_sec);
}

static void check_g1(void)
{
	check_g1_inode();
	check_fd_link(fd_rw, "g1");
	check_fd_link(fd_ro, "g1");
	if (lseek(fd_rw, 0, SEEK_CUR) != OFF_RW ||
	    lseek(fd_dup, 0, SEEK_CUR) != OFF_RW ||
	    lseek(fd_ro, 0, SEEK_CUR) != OFF_RO)
		wl_fail("g1: offsets %ld %ld %ld, want %d %d %d",
			(long)lseek(fd_rw, 0, SEEK_CUR),
			(long)lseek(fd_dup, 0, SEEK_CUR),
			(long)lseek(fd_ro, 0, SEEK_CUR), OFF_RW, OFF_RW,
			OFF_RO);
	lseek(fd_dup, 5, SEEK_SET);
	if (lseek(fd_rw, 0, SEEK_CUR) != 5)
		wl_fail("g1: the dup'ed fds have two offsets");
	check_data(fd_ro, 0, PAGE, 1);
	check_data(fd_ro, MIB, 8192 + 100, 1);
	if (sparse && lseek(fd_ro, PAGE, SEEK_DATA) != MIB) /* moves it */
		wl_fail("g1: the hole at 4096 is gone (data at %ld)",
			(long)lseek(fd_ro, PAGE, SEEK_DATA));
	if (m1[MIB + 7] != byte_at(MIB + 7, 1))
		wl_fail("g1: the mapping lost its data");
	m1[10] = 'Z';
	check_data(fd_ro, 11, 100, 1);
	if (pread(fd_ro, m1 + 9000, 1, 10) != 1 || m1[9000] != 'Z')
		wl_fail("g1: the mapping and the fds are not one file");
}

static void check_others(void)
{
	char buf[16], p[PATH_MAX];
	struct stat st;
	int fd;

	if (pread(fd_old, buf, 12, 0) != 12 || memcmp(buf, "old contents", 12))
		wl_fail("g2: the open fd does not read the old contents");
	check_fd_link(fd_old, NULL);
	fd = xopen("g2", O_RDONLY);
	if (read(fd, buf, 12) != 12 || memcmp(buf, "new contents", 12))
		wl_fail("D/g2 does not hold the new contents");
	close(fd);
	if (m3[0] != 'P' || m3[PAGE - 1] != 'P' ||
	    m3[PAGE + 5] != byte_at(PAGE + 5, 3))
		wl_fail("g3: the private mapping is wrong");
	if (fstat(fd_empty, &st) || st.st_size || st.st_nlink)
		wl_fail("g4: size %ld nlink %lu", (long)st.st_size,
			(unsigned long)st.st_nlink);
	check_fd_link(fd_empty, "g4");
	check_link("/proc/self/cwd", "gdir");
	if (stat(".", &st) || !S_ISDIR(st.st_mode) || st.st_nlink ||
	    (st.st_mode & 07777) != 0751)
		wl_fail("the cwd is not the deleted directory gdir");
	if (!access(wl_path(p, "g1"), F_OK) || !access(wl_path(p, "gdir"), F_OK))
		wl_fail("a ghost has a name in D again");
}

int main(void)
{
	unsigned long n = 0;
	int fd;

	wl_init();
	fd = wl_count_open();
	setup_g1();
	setup_others();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	check_others();
	check_g1();
	return 0;
}
