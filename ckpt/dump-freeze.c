/*
 * dump-freeze: attach --freeze-cgroup. The root's cgroup is frozen as a
 * whole (v1: freezer.state FROZEN; v2: cgroup.freeze 1) so that nothing
 * of the tree forks, exits or runs while its processes are found and
 * seized. A frozen task does not stop for PTRACE_INTERRUPT until it is
 * thawed (v1 keeps it in the refrigerator, state D), so the seize takes
 * two steps: while the cgroup is frozen every thread of the tree (found
 * through task/T/children: a frozen process cannot fork) is seized and
 * interrupted without waiting (inject_preseize); then the cgroup is
 * thawed, and each thread, on its way out of the freezer, stops in its
 * ptrace trap before it runs an instruction of its own; inject_seize
 * adopts the threads so seized and waits for these stops. Should the
 * freeze fail before a preseized process is adopted (the dump then ends),
 * its threads wait in their trap until ckpt exits, which detaches them.
 *
 * A ckpt killed between the freeze and the thaw would leave the cgroup
 * frozen for good: a guardian process (forked through an intermediate
 * one that exits, so that neither ckpt's nor the tree's waits see it)
 * holds the reading end of a pipe and thaws the cgroup when the pipe
 * ends without the byte that says ckpt thawed it itself.
 */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/cgroup.h"
#include "util/fault.h"

struct freezer {
	char path[PATH_MAX];	/* freezer.state or cgroup.freeze */
	int v2;
	int guard;		/* the guardian's pipe, or -1 */
};

static const char *frozen_word(const struct freezer *f, int frozen)
{
	if (f->v2)
		return frozen ? "1" : "0";
	return frozen ? "FROZEN" : "THAWED";
}

static int set_state(const struct freezer *f, int frozen)
{
	const char *w = frozen_word(f, frozen);
	int fd = open(f->path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, w, strlen(w)) == (ssize_t)strlen(w) ? 0 : -1;
	close(fd);
	return ret;
}

/* Has the cgroup finished freezing? v1 says FREEZING until then; v2's
 * cgroup.events says frozen 1 */
static int is_frozen(const struct freezer *f)
{
	char path[PATH_MAX + 16], *s;
	int ret;

	if (f->v2) {
		snprintf(path, sizeof(path), "%.*s/cgroup.events",
			 (int)(strrchr(f->path, '/') - f->path), f->path);
		s = read_file_str(path, NULL);
		ret = s && strstr(s, "frozen 1");
	} else {
		s = read_file_str(f->path, NULL);
		ret = s && !strncmp(s, "FROZEN", 6);
	}
	free(s);
	return ret;
}

/* The "ID:controllers:path" line of pid's cgroups for the freezer:
 * v1's freezer hierarchy if the host has one, else v2's */
static char *line_of(const char *all, int v2)
{
	const char *l, *end;

	for (l = all; *l; l = *end ? end + 1 : end) {
		end = strchrnul(l, '\n');
		if ((v2 && !strncmp(l, "0::", 3)) ||
		    (!v2 && memmem(l, end - l, ":freezer:", 9)))
			return strndup(l, end - l);
	}
	return NULL;
}

static char *freezer_line(pid_t pid, int v2)
{
	char path[64], *all, *ret;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	all = read_file_str(path, NULL);
	ret = all ? line_of(all, v2) : NULL;
	free(all);
	return ret;
}

/* the path of an "ID:controllers:path" line */
static const char *path_of(const char *line)
{
	const char *c = line ? strchr(line, ':') : NULL;

	c = c ? strchr(c + 1, ':') : NULL;
	return c ? c + 1 : NULL;
}

/* In the v1 freezer hierarchy (v2 0) or in v2's (1), pid's cgroup, if
 * it is not ckpt's nor one that holds ckpt: its freezer file into f */
static int freezer_in(pid_t pid, int v2, struct freezer *f)
{
	char *line = freezer_line(pid, v2), *own = freezer_line(getpid(), v2);
	const char *path = path_of(line), *ownp = path_of(own);
	char *mnt = NULL;
	int ret = -1;

	if (!path || !ownp || img_path_under(ownp, path))
		goto out;
	mnt = cg_mount_of(v2 ? "" : "freezer");
	if (!mnt)
		goto out;
	f->v2 = v2;
	snprintf(f->path, sizeof(f->path), "%s%s/%s", mnt, path,
		 v2 ? "cgroup.freeze" : "freezer.state");
	ret = 0;
out:
	free(line);
	free(own);
	free(mnt);
	return ret;
}

/* pid's freezer: v1's when the host has one, else v2's */
static int find_freezer(pid_t pid, struct freezer *f)
{
	if (!freezer_in(pid, 0, f) || !freezer_in(pid, 1, f))
		return 0;
	pr_err("can't freeze the cgroup of %d: it is in no freezer cgroup of its own (not ckpt's nor one holding ckpt)",
	       pid);
	return -1;
}

/* The guardian: thaws f's cgroup unless ckpt says (one byte) it did */
static int start_guard(struct freezer *f)
{
	int p[2], st;
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		close(p[1]);
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		if (fork())
			_exit(0);
		if (read(p[0], &c, 1) != 1)
			(void)!set_state(f, 0);
		_exit(0);
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	f->guard = p[1];
	return 0;
}

static void stop_guard(struct freezer *f)
{
	if (write(f->guard, "t", 1) != 1)
		pr_warn("can't tell the freezer's guardian: %s", strerror(errno));
	close(f->guard);
	f->guard = -1;
}

/* Every process of the tree below pid (itself first) preseized; the tree
 * is frozen, so the list of children holds */
static int preseize_tree(pid_t pid, int tree)
{
	pid_t *kids = NULL;
	int n, i, ret;

	if (inject_preseize(pid) && errno != ESRCH && errno != ENOENT) {
		pr_perror("can't seize %d", pid);
		return -1;
	}
	if (!tree)
		return 0;
	n = dump_children_of(pid, &kids);
	for (i = 0, ret = 0; i < n && !ret; i++)
		ret = preseize_tree(kids[i], tree);
	free(kids);
	return ret;
}

int dump_freeze_seize(pid_t root, int tree)
{
	struct freezer f = { .guard = -1 };
	int i, ret = -1;

	if (find_freezer(root, &f) || start_guard(&f))
		return -1;
	if (set_state(&f, 1)) {
		pr_perror("can't freeze %d's cgroup (%s)", root, f.path);
		goto out;
	}
	/* a task in a system call that does not give way to the freezer
	 * (D state on I/O) holds it back: 20 s, then the seize goes on */
	for (i = 0; i < 4000 && !is_frozen(&f); i++)
		usleep(5000);
	if (!is_frozen(&f))
		pr_warn("%d's cgroup is not frozen after 20 s: seizing it as it runs",
			root);
	ret = preseize_tree(root, tree);
	fault_point("cgroup-frozen");
out:
	if (set_state(&f, 0)) {
		pr_perror("can't thaw %d's cgroup (%s)", root, f.path);
		ret = -1;	/* the guardian is left to try again */
		close(f.guard);
		return ret;
	}
	stop_guard(&f);
	return ret;
}
