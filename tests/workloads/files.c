/*
 * files.c - open files, working directory and umask.
 *
 *   app	D/app.log O_WRONLY | O_APPEND: after restore a line appended
 *		through another fd first must not be overwritten
 *   rw		D/rw.dat O_RDWR, offset 1010: offset, flags and the data
 *		read from there are right; writing works
 *   ro		D/ro.dat O_RDONLY, offset 333: same; writing fails with
 *		EBADF
 *   cloexec	D/ce.dat with FD_CLOEXEC (the others have it clear)
 *   null	/dev/null dup2'd to fd 7
 *   high	D/hi.dat moved to fd 200
 *   dir	D opened O_DIRECTORY: same inode, openat() through it works
 *   stdio	fd 0 /dev/null, fds 1 and 2 the runner's out.log with O_APPEND
 * cwd is D/sub and umask 027.  Every fd keeps its number and its inode.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "workload.h"

#define RW_SIZE		4096
#define RW_OFF		1010
#define RO_OFF		333

enum { F_APP, F_RW, F_RO, F_CE, F_NULL, F_HIGH, F_DIR, NFD };

static const char *const names[NFD] = {
	"app.log", "rw.dat", "ro.dat", "ce.dat", "/dev/null", "hi.dat", ".",
};
static int fds[NFD];
static int want_flags[NFD];
static struct stat st0[NFD];

static unsigned char rw_byte(int i)
{
	return (unsigned char)(i * 7 + 3);
}

static int open_in_d(const char *name, int flags)
{
	char p[PATH_MAX];
	int fd;

	fd = open(name[0] == '/' ? name : wl_path(p, name), flags, 0644);
	if (fd < 0)
		wl_fail("open %s: %s", name, strerror(errno));
	return fd;
}

static void read_at_cur(int fd, int off, int len)
{
	unsigned char buf[64];
	int i;

	if (lseek(fd, 0, SEEK_CUR) != off)
		wl_fail("fd %d: offset %ld, want %d", fd,
			(long)lseek(fd, 0, SEEK_CUR), off);
	if (read(fd, buf, len) != len)
		wl_fail("fd %d: read: %s", fd, strerror(errno));
	for (i = 0; i < len; i++)
		if (buf[i] != rw_byte(off + i))
			wl_fail("fd %d: byte %d is %#x, want %#x", fd, off + i,
				buf[i], rw_byte(off + i));
}

static void setup(void)
{
	unsigned char data[RW_SIZE];
	char p[PATH_MAX];
	int i, fd;

	for (i = 0; i < RW_SIZE; i++)
		data[i] = rw_byte(i);
	wl_write_file("rw.dat", data, RW_SIZE);
	wl_write_file("ro.dat", data, RW_SIZE);
	wl_write_file("ce.dat", "cloexec\n", 8);
	wl_write_file("hi.dat", "high\n", 5);
	if (mkdir(wl_path(p, "sub"), 0755))
		wl_fail("mkdir %s: %s", p, strerror(errno));

	fds[F_APP] = open_in_d("app.log", O_WRONLY | O_CREAT | O_APPEND);
	if (write(fds[F_APP], "before\n", 7) != 7)
		wl_fail("write app.log: %s", strerror(errno));
	fds[F_RW] = open_in_d("rw.dat", O_RDWR);
	lseek(fds[F_RW], RW_OFF - 10, SEEK_SET);
	read_at_cur(fds[F_RW], RW_OFF - 10, 10);
	fds[F_RO] = open_in_d("ro.dat", O_RDONLY);
	lseek(fds[F_RO], RO_OFF - 3, SEEK_SET);
	read_at_cur(fds[F_RO], RO_OFF - 3, 3);
	fds[F_CE] = open_in_d("ce.dat", O_RDONLY | O_CLOEXEC);

	fd = open_in_d("/dev/null", O_RDWR);
	if (dup2(fd, 7) != 7)
		wl_fail("dup2: %s", strerror(errno));
	if (fd != 7)	/* it is 7 when 0-6 are taken */
		close(fd);
	fds[F_NULL] = 7;
	fd = open_in_d("hi.dat", O_RDONLY);
	if (dup2(fd, 200) != 200)
		wl_fail("dup2: %s", strerror(errno));
	close(fd);
	fds[F_HIGH] = 200;
	fds[F_DIR] = open_in_d(".", O_RDONLY | O_DIRECTORY);

	for (i = 0; i < NFD; i++) {
		want_flags[i] = fcntl(fds[i], F_GETFL);
		if (fstat(fds[i], &st0[i]))
			wl_fail("fstat %s: %s", names[i], strerror(errno));
	}
	if (chdir(wl_path(p, "sub")))
		wl_fail("chdir %s: %s", p, strerror(errno));
	umask(027);
}

static void check_fds(void)
{
	struct stat st;
	int i, fl, fdfl;

	for (i = 0; i < NFD; i++) {
		if (fstat(fds[i], &st))
			wl_fail("fd %d (%s) is gone: %s", fds[i], names[i],
				strerror(errno));
		if (st.st_ino != st0[i].st_ino || st.st_dev != st0[i].st_dev ||
		    (st.st_mode & S_IFMT) != (st0[i].st_mode & S_IFMT))
			wl_fail("fd %d is no longer %s", fds[i], names[i]);
		fl = fcntl(fds[i], F_GETFL);
		if (fl != want_flags[i])
			wl_fail("fd %d (%s): flags %#o, were %#o", fds[i],
				names[i], fl, want_flags[i]);
		fdfl = fcntl(fds[i], F_GETFD);
		if (!!(fdfl & FD_CLOEXEC) != (i == F_CE))
			wl_fail("fd %d (%s): FD_CLOEXEC is %s", fds[i],
				names[i], fdfl & FD_CLOEXEC ? "set" : "clear");
	}
	if ((want_flags[F_APP] & (O_APPEND | O_ACCMODE)) !=
	    (O_APPEND | O_WRONLY) ||
	    (want_flags[F_RW] & O_ACCMODE) != O_RDWR ||
	    (want_flags[F_RO] & O_ACCMODE) != O_RDONLY)
		wl_fail("access modes were not what was asked for");
	if (major(st0[F_NULL].st_rdev) != 1 || minor(st0[F_NULL].st_rdev) != 3)
		wl_fail("fd 7 is not /dev/null");
}

static void check_io(void)
{
	char buf[64];
	ssize_t n;
	int fd;

	/* someone else appends; our O_APPEND write must land after it */
	fd = open_in_d("app.log", O_WRONLY | O_APPEND);
	if (write(fd, "other\n", 6) != 6)
		wl_fail("write app.log: %s", strerror(errno));
	close(fd);
	if (write(fds[F_APP], "after\n", 6) != 6)
		wl_fail("write app.log: %s", strerror(errno));
	fd = open_in_d("app.log", O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	if (strcmp(buf, "before\nother\nafter\n"))
		wl_fail("app.log holds \"%s\"", buf);

	read_at_cur(fds[F_RW], RW_OFF, 10);
	if (pwrite(fds[F_RW], "X", 1, 0) != 1)
		wl_fail("write rw.dat: %s", strerror(errno));
	read_at_cur(fds[F_RO], RO_OFF, 10);
	if (write(fds[F_RO], "X", 1) != -1 || errno != EBADF)
		wl_fail("write to the O_RDONLY fd did not fail with EBADF");
	if (read(fds[F_CE], buf, 8) != 8 || memcmp(buf, "cloexec\n", 8))
		wl_fail("read ce.dat: wrong data");
	if (write(7, "x", 1) != 1 || read(7, buf, 1) != 0)
		wl_fail("fd 7 does not behave like /dev/null");
	if (read(200, buf, 5) != 5 || memcmp(buf, "high\n", 5))
		wl_fail("read fd 200: wrong data");
	fd = openat(fds[F_DIR], "rw.dat", O_RDONLY);
	if (fd < 0)
		wl_fail("openat through the directory fd: %s", strerror(errno));
	close(fd);
}

static void check_cwd_umask(void)
{
	char cwd[PATH_MAX], want[PATH_MAX];
	mode_t m;

	if (!getcwd(cwd, sizeof(cwd)))
		wl_fail("getcwd: %s", strerror(errno));
	wl_path(want, "sub");
	if (strcmp(cwd, want))
		wl_fail("cwd is %s, want %s", cwd, want);
	m = umask(0);
	umask(m);
	if (m != 027)
		wl_fail("umask is %03o, want 027", (unsigned)m);
}

static void check_stdio(void)
{
	struct stat st;
	int fl;

	if (fstat(0, &st) || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
		wl_fail("fd 0 is not /dev/null");
	if (fstat(1, &st) || !S_ISREG(st.st_mode))
		wl_fail("fd 1 is not a regular file");
	fl = fcntl(1, F_GETFL);
	if ((fl & (O_ACCMODE | O_APPEND)) != (O_WRONLY | O_APPEND))
		wl_fail("fd 1 flags %#o, want O_WRONLY|O_APPEND", fl);
}

int main(void)
{
	unsigned long n = 0;
	int fd;

	wl_init();
	setup();
	check_stdio();
	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	check_cwd_umask();
	check_fds();
	check_stdio();
	check_io();
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
