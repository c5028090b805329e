/*
 * serve-migrate: the receiving end of `ckpt migrate` (serve --restore).
 * The restore program beside ckpt restores a MIGRATE request's image,
 * detached (-d), in a session of its own. It starts when the image
 * starts to come (serve-conn.c stores it as a PUT) and reads it as it is
 * written (restore --follow): the pre-copy rounds, most of the image, are
 * read and checked while the source still runs, and only what came after
 * its freeze is left when the image is whole. The client hears "RUNS PID" and must answer
 * "DONE" in time, which we acknowledge ("OK"): the client kills the
 * source only then. So a client that stalls past the timeout finds the
 * connection closed and thaws its source, and a client that dies before
 * DONE leaves its source running: either way what we restored is killed
 * and the process runs in one place. (A client that dies between DONE
 * and its kill of the source leaves it running in both.) If the restore fails, the
 * image is removed and the client hears why; if the client goes away or
 * stays silent before DONE, or SIGTERM comes, what the restore made is
 * killed and the image removed: nothing half-migrated stays here.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/serve-priv.h"

/* --restore: the image directory as restore is to find it; NULL: off */
static const char *mig_dir;

/* For the signal handler: the restore running, or the tree it made, and
 * the image to remove (NAME under mig_dirfd). */
static volatile pid_t mig_child = -1, mig_root = -1;
/* the restore following the image: its PID line, and its wake-up pipe
 * (a byte 'm' after each write, 'e' once the image is whole) */
static int mig_out = -1, mig_wake = -1;
static int mig_dirfd = -1;
static char mig_name[NET_NAME_MAX + 1];

void serve_migrate_enable(const char *dir)
{
	mig_dir = dir;
}

int serve_migrate_enabled(void)
{
	return mig_dir != NULL;
}

void serve_migrate_on_term(void)
{
	if (mig_child > 0)
		kill(mig_child, SIGKILL);
	if (mig_root > 0)
		kill(mig_root, SIGKILL);
	if (mig_dirfd >= 0 && mig_name[0])
		unlinkat(mig_dirfd, mig_name, 0);
}

/* What restore's exit status means (restore(1)), for the client. */
static const char *restore_status(int code)
{
	switch (code) {
	case EXIT_USAGE:
		return "refused the options";
	case EXIT_BADIMAGE:
		return "the image is damaged or not for this host";
	case EXIT_NOIMAGE:
		return "can't open the image";
	case EXIT_PIDTAKEN:
		return "a PID the image needs is in use here";
	case EXIT_FILECHANGED:
		return "a file of the process is not the same here";
	default:
		return "the restore failed";
	}
}

/* The restore program sits beside ckpt (as for ckpt restore). */
static int restore_path(char *path, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", path, size - 16);
	char *slash;

	if (n < 0)
		return -1;
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "restore");
	return 0;
}

/* In the child: a session of its own, the PID line into out, and the
 * program run; never returns. */
static void run_restore(int out, const char *image, int lazy, int img_fd,
			int wake)
{
	char prog[PATH_MAX], follow[32];
	char *argv[9] = { "restore" };
	int n = 1;
	int null = open("/dev/null", O_RDONLY);
	/* both above the standard three, and open across the exec */
	int a = fcntl(img_fd, F_DUPFD, 3), b = fcntl(wake, F_DUPFD, 3);

	/* ckpt -v -v serve: its timings too (bench/migrate.sh) */
	if (log_get_level() >= LOG_DEBUG)
		argv[n++] = "-vv";
	argv[n++] = "-d";
	/* the image came whole through the secretstream (every frame
	 * authenticated) into our own directory just now: its pages'
	 * CRCs would only say that again, at each fault */
	if (lazy) {
		argv[n++] = "--lazy";
		argv[n++] = "--trust-pages";
	}
	snprintf(follow, sizeof(follow), "--follow=%d,%d", a, b);
	argv[n++] = follow;
	argv[n] = (char *)image;
	setsid();
	if (a < 0 || b < 0 || null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(out, STDOUT_FILENO) < 0 || restore_path(prog, sizeof(prog)))
		_exit(EXIT_FAILED);
	execv(prog, argv);
	pr_perror("can't run %s", prog);
	_exit(EXIT_FAILED);
}

/* Read the PID line of restore -d from fd: up to its newline, not until
 * the pipe closes (restore -d --lazy leaves its pager holding it while
 * it pulls the pages: the process runs already). */
static pid_t read_pid(int fd)
{
	char buf[64];
	size_t len = 0;
	ssize_t n;
	long v;

	while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v < INT_MAX ? (pid_t)v : -1;
}

int serve_migrate_start(int img_fd, const char *name, int lazy)
{
	char image[PATH_MAX];
	int p[2], w[2];
	pid_t pid;

	snprintf(image, sizeof(image), "%s/%s", mig_dir, name);
	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("can't run restore");
		return -1;
	}
	if (pipe2(w, O_CLOEXEC)) {
		pr_perror("can't run restore");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		run_restore(p[1], image, lazy, img_fd, w[0]);
	close(p[1]);
	close(w[0]);
	if (pid < 0) {
		pr_perror("can't run restore");
		close(p[0]);
		close(w[1]);
		return -1;
	}
	/* restore may fail and go before the image is whole: the wake-ups
	 * must not block us then (EPIPE, SIGPIPE ignored, or a full pipe) */
	if (fcntl(w[1], F_SETFL, O_NONBLOCK))
		pr_warn("restore's wake-ups may block: %s", strerror(errno));
	mig_child = pid;
	mig_out = p[0];
	mig_wake = w[1];
	log_stamp("serve: restore %d started", (int)pid);
	return 0;
}

void serve_migrate_more(void)
{
	/* a byte already waiting wakes it as well */
	if (mig_wake >= 0)
		(void)!write(mig_wake, "m", 1);
}

/* 'e' must get through, even behind a pipe full of 'm's; a restore that
 * reads none of them for WHOLE_WAIT_S (stopped?) is killed */
#define WHOLE_WAIT_S	60

void serve_migrate_whole(void)
{
	struct pollfd pfd = { .fd = mig_wake, .events = POLLOUT };
	int waits = 0;
	ssize_t n;

	for (;;) {
		n = write(mig_wake, "e", 1);
		if (n == 1 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
		if (n < 0 && errno == EAGAIN && !poll(&pfd, 1, 1000) &&
		    ++waits >= WHOLE_WAIT_S) {
			pr_warn("restore %d reads nothing of its image: killed",
				(int)mig_child);
			kill(mig_child, SIGKILL);
			break;
		}
	}
	close(mig_wake);
	mig_wake = -1;
	/* a restore already gone (EPIPE) says why by its exit status */
}

/* The restore child gone, its pipes closed. */
static int reap_restore(void)
{
	int status = 0;

	if (mig_wake >= 0)
		close(mig_wake);
	if (mig_out >= 0)
		close(mig_out);
	mig_wake = mig_out = -1;
	while (mig_child > 0 && waitpid(mig_child, &status, 0) < 0 &&
	       errno == EINTR)
		;
	mig_child = -1;
	return status;
}

void serve_migrate_abort(void)
{
	if (mig_child > 0)
		kill(mig_child, SIGKILL);
	(void)reap_restore();
}

/* The restore started by serve_migrate_start, done: the root's PID, or
 * -1 with *why set. */
static pid_t restore_image(char *why, size_t size)
{
	pid_t root;
	int status;

	root = read_pid(mig_out);
	log_stamp("serve: restore said %d", (int)root);
	status = reap_restore();
	log_stamp("serve: restore ended");
	if (WIFEXITED(status) && !WEXITSTATUS(status) && root > 0)
		return root;
	if (WIFEXITED(status))
		snprintf(why, size, "restore failed here (exit %d: %s)",
			 WEXITSTATUS(status),
			 restore_status(WEXITSTATUS(status)));
	else
		snprintf(why, size, "restore failed here (signal %d)",
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

/* Kill a process and its descendants (/proc/PID/task/PID/children, its
 * children are read while it is stopped, so none is missed). */
static void kill_tree(pid_t pid, int depth)
{
	char path[64], buf[4096], *s, *end;
	ssize_t n;
	long child;
	int fd;

	kill(pid, SIGSTOP);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (s = buf; depth < 64; s = end) {
		child = strtol(s, &end, 10);
		if (end == s)
			break;
		if (child > 0)
			kill_tree((pid_t)child, depth + 1);
	}
	kill(pid, SIGKILL);
}

/* The restore done: "RUNS PID", the client's "DONE" within timeout
 * seconds, our "OK" (a socket timeout, not the alarm: the caller, not a signal
 * handler, kills what was restored, the whole tree). */
static int hand_over(struct net_conn *c, pid_t root, unsigned int timeout)
{
	struct timeval tv = { .tv_sec = timeout };
	char msg[64];

	snprintf(msg, sizeof(msg), "RUNS %d", (int)root);
	if (net_send_msg(c, msg))
		return -1;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    net_recv_msg(c, msg, sizeof(msg)) || strcmp(msg, "DONE"))
		return -1;
	log_stamp("serve: DONE");
	/* the client kills the source only once it has this */
	return net_send_msg(c, "OK");
}

void serve_migrate(struct net_conn *c, int dirfd, const char *name,
		   const char *peer, unsigned int timeout)
{
	char why[256], reply[300];
	pid_t root;

	mig_dirfd = dirfd;
	snprintf(mig_name, sizeof(mig_name), "%s", name);
	root = restore_image(why, sizeof(why));
	if (root < 0) {
		pr_warn("%s migrate %s: refused: %s", peer, name, why);
		unlinkat(dirfd, name, 0);
		mig_name[0] = '\0';
		snprintf(reply, sizeof(reply), "ERR %s", why);
		if (net_send_msg(c, reply))
			pr_warn("%s migrate %s: the client left", peer, name);
		return;
	}
	mig_root = root;
	if (hand_over(c, root, timeout)) {
		pr_warn("%s migrate %s: no confirmation from the client: %d killed",
			peer, name, (int)root);
		kill_tree(root, 0);
		unlinkat(dirfd, name, 0);
		return;
	}
	mig_root = -1;
	mig_name[0] = '\0';
	pr_info("%s migrate %s: runs as PID %d", peer, name, (int)root);
}
