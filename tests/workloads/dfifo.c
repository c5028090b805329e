/*
 * dfifo.c - a FIFO opened, given bytes and deleted.
 *
 * D/f is made with mode 0640, opened for reading (non-blocking) and for
 * writing, 12 bytes are written and left unread, and it is unlinked.
 * Once (after restore, or at D/stop) both fds must still be that one
 * FIFO (one inode, no link, mode 0640, /proc showing "D/f (deleted)"),
 * the 12 bytes must read back exactly, once, and a byte written then
 * must come through; D/f must not be there again.
 */
#include <sys/stat.h>

#include "workload.h"

static const char queued[] = "queued bytes";
static int r, w;

static void check(void)
{
	char p[PATH_MAX], want[PATH_MAX + 16], link[PATH_MAX + 16], buf[64];
	struct stat sr, sw;
	ssize_t n;

	if (fstat(r, &sr) || fstat(w, &sw) || !S_ISFIFO(sr.st_mode) ||
	    sr.st_ino != sw.st_ino || sr.st_dev != sw.st_dev ||
	    sr.st_nlink || (sr.st_mode & 07777) != 0640)
		wl_fail("the ends are not one deleted FIFO of mode 0640 (mode %#o, %lu links)",
			sr.st_mode, (unsigned long)sr.st_nlink);
	snprintf(want, sizeof(want), "%s (deleted)", wl_path(p, "f"));
	snprintf(p, sizeof(p), "/proc/self/fd/%d", r);
	n = readlink(p, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	if (strcmp(link, want))
		wl_fail("fd %d shows '%s', want '%s'", r, link, want);
	n = read(r, buf, sizeof(buf));
	if (n != (ssize_t)strlen(queued) || memcmp(buf, queued, n))
		wl_fail("read %zd bytes '%.*s', want '%s'", n, (int)(n > 0 ? n : 0),
			buf, queued);
	if (read(r, buf, 1) != -1 || errno != EAGAIN)
		wl_fail("more bytes than were queued");
	if (write(w, "x", 1) != 1 || read(r, buf, 1) != 1 || buf[0] != 'x')
		wl_fail("a byte does not go through: %s", strerror(errno));
	if (wl_exists("f"))
		wl_fail("D/f is there again");
}

int main(void)
{
	char p[PATH_MAX];

	wl_init();
	if (mkfifo(wl_path(p, "f"), 0600) || chmod(p, 0640))
		wl_fail("mkfifo %s: %s", p, strerror(errno));
	r = open(p, O_RDONLY | O_NONBLOCK);
	w = open(p, O_WRONLY);
	if (r < 0 || w < 0 || write(w, queued, strlen(queued)) !=
	    (ssize_t)strlen(queued) || unlink(p))
		wl_fail("setting D/f up: %s", strerror(errno));
	wl_count_checked(check);
	return 0;
}
