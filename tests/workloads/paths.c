/*
 * paths.c - O_PATH descriptors and /proc files of the process itself.
 *
 *   fp	D/file O_PATH
 *   fl	D/link, a symlink to file, O_PATH | O_NOFOLLOW: the link itself
 *   fd	D O_PATH | O_DIRECTORY
 *   st	/proc/self/status O_RDONLY, read once (offset 9)
 *   pd	/proc/self O_RDONLY | O_DIRECTORY
 *   mp	/proc/self/maps O_RDONLY
 *   gp	D/gone O_PATH, then D/gone deleted
 *   ns	/proc/self/ns/net and /proc/self/ns/uts, O_RDONLY
 * After restore: O_PATH and the inodes are as they were, the symlink is
 * still one and reads "file", lookups through fd work; the /proc files
 * are this process's (its PID, its maps); gp is a deleted "D/gone" with
 * its 5 bytes, read through /proc/self/fd; the namespace fds are of the
 * namespaces the process lives in.
 *
 * With "outside" it also holds /proc/PPID/status of its parent, which is
 * no part of the dump: ckpt must refuse it, naming it.
 */
#include <sys/stat.h>

#include "workload.h"

static int fp, fl, fdir, st, pd, mp, gp, ns[2];
static const char *const ns_names[] = { "net", "uts" };
static struct stat sp, sl;

static int xopen(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		wl_fail("open %s: %s", path, strerror(errno));
	return fd;
}

static void setup(int outside)
{
	char p[PATH_MAX], q[PATH_MAX], buf[16];

	wl_write_file("file", "data\n", 5);
	if (symlink("file", wl_path(p, "link")))
		wl_fail("symlink: %s", strerror(errno));
	fp = xopen(wl_path(p, "file"), O_PATH);
	fl = xopen(wl_path(q, "link"), O_PATH | O_NOFOLLOW);
	fdir = xopen(wl_dir, O_PATH | O_DIRECTORY);
	st = xopen("/proc/self/status", O_RDONLY);
	if (read(st, buf, 9) != 9)
		wl_fail("read /proc/self/status: %s", strerror(errno));
	pd = xopen("/proc/self", O_RDONLY | O_DIRECTORY);
	mp = xopen("/proc/self/maps", O_RDONLY);
	wl_write_file("gone", "gone\n", 5);
	gp = xopen(wl_path(p, "gone"), O_PATH);
	if (unlink(p))
		wl_fail("unlink %s: %s", p, strerror(errno));
	for (int i = 0; i < 2; i++) {
		snprintf(q, sizeof(q), "/proc/self/ns/%s", ns_names[i]);
		ns[i] = xopen(q, O_RDONLY);
	}
	if (fstat(fp, &sp) || fstat(fl, &sl) || !S_ISLNK(sl.st_mode))
		wl_fail("fstat: %s", strerror(errno));
	if (outside) {
		snprintf(p, sizeof(p), "/proc/%d/status", (int)getppid());
		xopen(p, O_RDONLY);
	}
}

static void check_opath(void)
{
	char buf[16];
	struct stat s;
	ssize_t n;
	int fd;

	if (!(fcntl(fp, F_GETFL) & O_PATH) || !(fcntl(fl, F_GETFL) & O_PATH) ||
	    !(fcntl(fdir, F_GETFL) & O_PATH))
		wl_fail("an fd lost O_PATH");
	if (fstat(fp, &s) || s.st_ino != sp.st_ino)
		wl_fail("the O_PATH fd is not D/file");
	if (fstat(fl, &s) || !S_ISLNK(s.st_mode) || s.st_ino != sl.st_ino)
		wl_fail("the O_PATH | O_NOFOLLOW fd is not the symlink");
	n = readlinkat(fl, "", buf, sizeof(buf));
	if (n != 4 || memcmp(buf, "file", 4))
		wl_fail("readlinkat through the symlink's fd: %zd", n);
	fd = openat(fdir, "file", O_RDONLY);
	if (fd < 0 || read(fd, buf, 5) != 5 || memcmp(buf, "data\n", 5))
		wl_fail("openat through the O_PATH directory failed");
	close(fd);
}

/* gp: O_PATH on the deleted D/gone; ns[]: our own namespaces */
static void check_gone(void)
{
	char p[PATH_MAX], want[PATH_MAX + 16], buf[PATH_MAX + 16];
	char gone[PATH_MAX];
	struct stat s, o;
	ssize_t n;
	int fd, i;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", gp);
	n = readlink(p, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "%s (deleted)", wl_path(gone, "gone"));
	if (!(fcntl(gp, F_GETFL) & O_PATH) || fstat(gp, &s) || s.st_nlink ||
	    strcmp(buf, want) || wl_exists("gone"))
		wl_fail("gp: O_PATH %d, %lu links, shows '%s', want '%s'",
			!!(fcntl(gp, F_GETFL) & O_PATH),
			(unsigned long)s.st_nlink, buf, want);
	fd = open(p, O_RDONLY);
	if (fd < 0 || read(fd, buf, 6) != 5 || memcmp(buf, "gone\n", 5))
		wl_fail("gp: its data is not there");
	close(fd);
	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_names[i]);
		if (fstat(ns[i], &s) || stat(p, &o) || s.st_ino != o.st_ino)
			wl_fail("the %s namespace fd is not our namespace's",
				ns_names[i]);
	}
}

static void check_proc(void)
{
	char buf[4096], want[32];
	ssize_t n;
	int fd;

	if (lseek(st, 0, SEEK_CUR) != 9)
		wl_fail("/proc/self/status: offset %ld, want 9",
			(long)lseek(st, 0, SEEK_CUR));
	n = pread(st, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "\nPid:\t%d\n", (int)getpid());
	if (!strstr(buf, want))
		wl_fail("the status fd is not this process's");
	fd = openat(pd, "status", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (!strstr(buf, want))
		wl_fail("the /proc/self directory fd is not this process's");
	close(fd);
	n = read(mp, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (!strstr(buf, "[stack]") && !strstr(buf, "paths"))
		wl_fail("the maps fd does not show this process's maps");
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int fd;

	wl_init();
	fd = wl_count_open();
	setup(argc > 1 && !strcmp(argv[1], "outside"));
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	check_opath();
	check_proc();
	check_gone();
	return 0;
}
