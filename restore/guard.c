/*
 * The guardian: what a restore killed outright (SIGKILL included) leaves
 * behind is undone by a small process of its own.
 *
 * Until the restorer seizes a new process, that process dies with its
 * parent (PR_SET_PDEATHSIG); once seized, with the restorer
 * (PTRACE_O_EXITKILL). Three things outlive a killed restore all the
 * same: the System V segments it made (the kernel keeps them), the
 * network lock of the image's TCP connections (netlock.c), and, while the
 * processes are let go one after the other at the very end, those already
 * let go. So before it makes anything, restore forks a guardian that holds
 * the read end of a pipe whose only write end restore keeps. restore tells
 * it the PIDs of the tree just before letting the first one go, and "done"
 * once the last one runs (or once a failed restore has cleaned up after
 * itself). End of file without "done" means restore died: the guardian
 * kills every PID it was told, removes every System V segment that
 * restore created (its creator PID is restore's and it was made after
 * restore started), the name of a ghost file (ghost.c) that restore
 * was making, and the network lock the image names (netlock.c), then
 * exits. restore tells a ghost's name before it makes it, its inode once
 * made, and that it is gone once unlinked: a ghost lives under its name
 * only for the moment between open and unlink.
 */
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore/restore.h"

#define GUARD_DONE	(-1)	/* the message that ends the guard */
#define GUARD_NAME	(-2)	/* a ghost's name: length, path, is a dir */
#define GUARD_INO	(-3)	/* the inode made under the last name */
#define GUARD_GONE	(-4)	/* the last name is unlinked (or unmade) */
#define GUARD_UFFD	(-5)	/* a userfaultfd of restore's: its fd */
#define GUARD_TRIES	16	/* guardians whose PID the image needs */

/* A name that restore is making a ghost under (ghost.c). */
struct guard_name {
	char *path;
	uint32_t dir;
	uint64_t ino;		/* 0 until told */
};

/* Remove the segments restore (pid) made at or after `since'. */
static void remove_segments(pid_t restorer, time_t since)
{
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	long key, id, size, cpid, lpid, nattch, uid, gid, cuid, cgid;
	long long atime, dtime, ctime;
	unsigned int perms;

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%ld %ld %o %ld %ld %ld %ld %ld %ld %ld %ld "
			   "%lld %lld %lld", &key, &id, &perms, &size, &cpid,
			   &lpid, &nattch, &uid, &gid, &cuid, &cgid, &atime,
			   &dtime, &ctime) != 14)
			continue;
		if (cpid == restorer && ctime >= since)
			shmctl(id, IPC_RMID, NULL);
	}
	fclose(f);
}

/*
 * A name still told is removed if what it names is what restore made
 * there: the inode it was told, or, when restore died before it could
 * say which, an entry of the kind it was making, made by us since it
 * started (the name was free when it began: O_EXCL, mkdir).
 */
static void remove_name(const struct guard_name *g, time_t since)
{
	struct stat st;

	if (!g->path || lstat(g->path, &st) ||
	    !S_ISDIR(st.st_mode) != !g->dir)
		return;
	if (g->ino ? st.st_ino != g->ino :
	    st.st_ctime < since || st.st_uid != geteuid())
		return;
	if (g->dir)
		rmdir(g->path);
	else
		unlink(g->path);
}

/* The rest of a GUARD_NAME or GUARD_INO message into g; -1 when restore
 * died in the middle of one. */
static int read_name(int fd, pid_t kind, struct guard_name *g)
{
	uint32_t len;

	if (kind == GUARD_INO)
		return read_full(fd, &g->ino, sizeof(g->ino));
	free(g->path);
	memset(g, 0, sizeof(*g));
	if (read_full(fd, &len, sizeof(len)) || !len || len >= PATH_MAX)
		return -1;
	g->path = calloc(1, len + 1);
	if (!g->path || read_full(fd, g->path, len) ||
	    read_full(fd, &g->dir, sizeof(g->dir)))
		return -1;
	return 0;
}

/*
 * A duplicate of restore's userfaultfd fd (lazy.c), held until the end:
 * if restore or its pager dies, the tree's faults stay blocked until the
 * tree is killed below, rather than read as zeros. Then a byte on ack.
 */
static void take_uffd(int fd, pid_t restorer, int ack)
{
	int nr, pfd, got = -1;
	char ok = 1;

	if (read_full(fd, &nr, sizeof(nr)))
		return;
	pfd = syscall(SYS_pidfd_open, restorer, 0);
	if (pfd >= 0) {
		got = syscall(SYS_pidfd_getfd, pfd, nr, 0);
		close(pfd);
	}
	if (got < 0)
		ok = 0;
	if (write(ack, &ok, 1) != 1)
		return;
}

static void __attribute__((noreturn)) guardian(int fd, int ack,
					       pid_t restorer, time_t since,
					       const struct image *img)
{
	struct guard_name g = { 0 };
	pid_t *pids = NULL, pid, *n;
	size_t nr = 0;
	ssize_t r;

	/* a signal that kills the terminal's job must leave us to clean up */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	for (;;) {
		r = read(fd, &pid, sizeof(pid));
		if (r < 0 && errno == EINTR)
			continue;
		if (r != sizeof(pid))
			break;		/* restore is gone */
		if (pid == GUARD_DONE)
			_exit(0);
		if (pid == GUARD_GONE) {
			free(g.path);
			memset(&g, 0, sizeof(g));
			continue;
		}
		if (pid == GUARD_UFFD) {
			take_uffd(fd, restorer, ack);
			continue;
		}
		if (pid == GUARD_NAME || pid == GUARD_INO) {
			if (read_name(fd, pid, &g))
				break;
			continue;
		}
		n = realloc(pids, (nr + 1) * sizeof(*pids));
		if (!n)
			continue;	/* EXITKILL still covers most */
		pids = n;
		pids[nr++] = pid;
	}
	while (nr--)
		kill(pids[nr], SIGKILL);
	remove_segments(restorer, since);
	remove_name(&g, since);
	if (restore_netlock_drop(img))
		pr_err("guardian: the TCP connections of the image stay cut off");
	_exit(0);
}

/* Is pid one the image needs (a process or a thread)? */
static int image_needs(const struct image *img, pid_t pid)
{
	uint32_t i, t;

	for (i = 0; i < img->nr_procs; i++) {
		if (img->procs[i].proc.pid == pid)
			return 1;
		for (t = 0; t < img->procs[i].nr_threads; t++)
			if ((pid_t)img->procs[i].threads[t].tid == pid)
				return 1;
	}
	return 0;
}

/*
 * The guardian is not restore's child (an intermediate process forks it
 * and exits), so that restore's own waits for the whole tree never wait
 * for it; its PID comes back through a pipe.
 */
static pid_t fork_guardian(struct restore_run *run, int rfd, int wfd,
			   int ack[2])
{
	pid_t restorer = getpid(), mid, pid = -1;
	time_t since = time(NULL) - 1;
	int st[2];

	if (pipe2(st, O_CLOEXEC))
		return -1;
	mid = fork();
	if (mid == 0) {
		close(st[0]);
		pid = fork();
		if (pid == 0) {
			close(st[1]);
			close(wfd);
			close(ack[0]);
			if (run->img_fd >= 0)
				close(run->img_fd);
			/* an early one's (restore_guard_early) */
			if (run->follow_wake >= 0)
				close(run->follow_wake);
			guardian(rfd, ack[1], restorer, since, run->img);
		}
		_exit(write(st[1], &pid, sizeof(pid)) == sizeof(pid) ? 0 : 1);
	}
	close(st[1]);
	if (mid > 0) {
		if (read(st[0], &pid, sizeof(pid)) != sizeof(pid))
			pid = -1;
		waitpid(mid, NULL, 0);
	}
	close(st[0]);
	return pid;
}

static void tell(struct restore_run *run, pid_t pid)
{
	if (run->guard_fd >= 0 &&
	    write(run->guard_fd, &pid, sizeof(pid)) != sizeof(pid))
		pr_warn("can't tell the guardian about %d", pid);
}

/* A guardian forked, its pipes run->guard_fd and guard_ack: its PID,
 * or -1 (said if the pipes failed). */
static pid_t fork_one(struct restore_run *run)
{
	int fds[2], ack[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC)) {
		pr_perror("can't create the guardian's pipe");
		return -1;
	}
	if (pipe2(ack, O_CLOEXEC)) {
		pr_perror("can't create the guardian's pipe");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	fflush(NULL);
	pid = fork_guardian(run, fds[0], fds[1], ack);
	close(fds[0]);
	close(ack[1]);
	run->guard_fd = fds[1];
	run->guard_ack = ack[0];
	if (pid < 0) {
		close(fds[1]);
		close(ack[0]);
		run->guard_fd = -1;
		run->guard_ack = -1;
	}
	return pid;
}

/* A guardian that will not do is sent away: it acts on nothing when told
 * it is done. */
static void send_away(struct restore_run *run)
{
	tell(run, GUARD_DONE);
	close(run->guard_fd);
	close(run->guard_ack);
	run->guard_fd = -1;
	run->guard_ack = -1;
}

/*
 * serve --restore: the guardian forked while the image still comes, so
 * that its forks are not part of a migration's downtime. That copy of
 * restore knows nothing of the image (run->img is still NULL): it is
 * kept only if the image needs neither its PID nor a network lock.
 */
void restore_guard_early(struct restore_run *run)
{
	pid_t pid = fork_one(run);

	if (pid > 0)
		run->guard = pid;
}

/* A guardian whose PID the tree needs is sent away and another one
 * forked. */
int restore_guard_start(struct restore_run *run)
{
	pid_t pid = -1;
	int i;

	if (run->guard > 0 && !image_needs(run->img, run->guard) &&
	    !restore_netlock_named(run->img))
		return 0;
	if (run->guard > 0)
		send_away(run);
	run->guard = 0;
	for (i = 0; i < GUARD_TRIES; i++) {
		pid = fork_one(run);
		if (pid > 0 && !image_needs(run->img, pid))
			break;
		if (pid > 0)
			send_away(run);
		pid = -1;
	}
	if (pid < 0) {
		pr_err("can't start the guardian");
		return -1;
	}
	run->guard = pid;
	return 0;
}

static void tell_bytes(struct restore_run *run, const void *buf, size_t len)
{
	if (run->guard_fd >= 0 && write_full(run->guard_fd, buf, len))
		pr_warn("can't tell the guardian about a ghost");
}

void restore_guard_name(struct restore_run *run, const char *path, int dir)
{
	uint32_t len = strlen(path), d = dir ? 1 : 0;
	pid_t kind = GUARD_NAME;

	if (!len || len >= PATH_MAX)
		return;
	tell_bytes(run, &kind, sizeof(kind));
	tell_bytes(run, &len, sizeof(len));
	tell_bytes(run, path, len);
	tell_bytes(run, &d, sizeof(d));
}

void restore_guard_ino(struct restore_run *run, uint64_t ino)
{
	pid_t kind = GUARD_INO;

	tell_bytes(run, &kind, sizeof(kind));
	tell_bytes(run, &ino, sizeof(ino));
}

void restore_guard_gone(struct restore_run *run)
{
	tell(run, GUARD_GONE);
}

void restore_guard_tree(struct restore_run *run)
{
	uint32_t i;

	for (i = 0; i < run->img->nr_procs; i++)
		if (run->procs[i].child > 0)
			tell(run, run->procs[i].child);
}

void restore_guard_done(struct restore_run *run)
{
	if (run->guard <= 0)
		return;
	tell(run, GUARD_DONE);
	restore_guard_leave(run);
}

void restore_guard_leave(struct restore_run *run)
{
	if (run->guard <= 0)
		return;
	close(run->guard_fd);
	close(run->guard_ack);
	run->guard_fd = -1;
	run->guard_ack = -1;
	run->guard = 0;
}

int restore_guard_uffd(struct restore_run *run, int fd)
{
	pid_t kind = GUARD_UFFD;
	char ok = 0;

	if (run->guard_fd < 0 || write_full(run->guard_fd, &kind, sizeof(kind)) ||
	    write_full(run->guard_fd, &fd, sizeof(fd)) ||
	    read(run->guard_ack, &ok, 1) != 1 || !ok) {
		pr_err("the guardian can't hold the userfaultfd of the lazy restore");
		return -1;
	}
	return 0;
}
