/*
 * notify: the client side of ckpt run --notify (notify.h). A job that does
 * not listen costs a failed connect(2); one that listens but does not
 * answer costs the bounded wait; neither stops the checkpoint. The wait
 * is for the job's close, not for bytes: the job closes its end before
 * the freeze, so that the tree holds no socket connected to ckpt (which
 * the dump would refuse as leading out of the tree).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/notify.h"
#include "util/util.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* until EOF on fd, at most seconds: 1 at EOF */
static int wait_close(int fd, unsigned int seconds)
{
	double end = mono() + seconds, left;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	ssize_t n;

	while ((left = end - mono()) > 0) {
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (!p.revents)
			continue;
		n = read(fd, buf, sizeof(buf));	/* what it says: ignored */
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 1;	/* closed (or reset) */
	}
	return 0;
}

int notify_job(const char *path, const char *event, unsigned int seconds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];
	int fd, ret = 0, n;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		pr_debug("no job listens on %s: %s", path, strerror(errno));
		goto out;
	}
	n = snprintf(line, sizeof(line), "%s\n", event);
	if (send(fd, line, n, MSG_NOSIGNAL) != n ||
	    shutdown(fd, SHUT_WR)) {
		pr_debug("can't tell the job on %s: %s", path,
			 strerror(errno));
		goto out;
	}
	ret = wait_close(fd, seconds);
	if (!ret)
		pr_info("the job on %s did not close after \"%s\" in %u s; going on",
			path, event, seconds);
out:
	close(fd);
	return ret;
}
