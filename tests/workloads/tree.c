/*
 * tree.c - a process tree: the parent and two children, one in the
 * parent's process group and one leading a group of its own. Child a
 * counts into a file of its own and checks a memory pattern and its
 * place in the tree; child b does the same through a grandchild that it
 * waits for in waitpid the whole time (so it is blocked in wait4 at dump
 * time). The parent counts into D/count, and after D/stop waits for both
 * children in waitpid and requires that they exited 0.
 */
#include <sys/wait.h>

#include "workload.h"

#define PATTERN_SIZE	(1 << 20)

static int child(const char *name, int own_group, pid_t parent)
{
	char path[PATH_MAX];
	unsigned long n = 0;
	uint64_t sum;
	char *mem;
	int fd;

	if (own_group && setpgid(0, 0))
		wl_fail("setpgid: %s", strerror(errno));
	mem = malloc(PATTERN_SIZE);
	if (!mem)
		wl_fail("malloc: %s", strerror(errno));
	wl_fill(mem, PATTERN_SIZE, (uint64_t)getpid());
	sum = wl_fnv64(mem, PATTERN_SIZE);
	fd = open(wl_path(path, name), O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		wl_fail("open %s: %s", name, strerror(errno));
	for (;;) {
		wl_count_write(fd, n++);
		if (n > 5 && wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	if (wl_fnv64(mem, PATTERN_SIZE) != sum)
		wl_fail("%s: memory pattern differs", name);
	if (getppid() != parent)
		wl_fail("%s: parent is %d, want %d", name, getppid(), parent);
	if (own_group ? getpgrp() != getpid() : getpgrp() != getpgid(parent))
		wl_fail("%s: in group %d", name, getpgrp());
	return 0;
}

static void reap(pid_t pid, const char *name)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		wl_fail("waitpid %s: %s", name, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("%s ended with status %#x", name, status);
}

/* Leads its own group; a grandchild counts while it waits in wait4. */
static int middle(pid_t parent)
{
	pid_t me = getpid(), pid;

	if (setpgid(0, 0))
		wl_fail("setpgid: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0)
		exit(child("count.b", 0, me));
	reap(pid, "grandchild");
	if (getppid() != parent)
		wl_fail("child b: parent is %d, want %d", getppid(), parent);
	if (getpgrp() != getpid())
		wl_fail("child b: in group %d", getpgrp());
	return 0;
}

static pid_t spawn_child(const char *name, int own_group)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0)
		exit(own_group ? middle(parent) : child(name, 0, parent));
	return pid;
}

int main(void)
{
	unsigned long n = 0;
	pid_t a, b;
	int fd;

	wl_init();
	a = spawn_child("count.a", 0);
	b = spawn_child("count.b", 1);
	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	reap(a, "child a");
	reap(b, "child b");
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
