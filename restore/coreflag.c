/*
 * The core-dump flag of a zombie: its wait status says it dumped core,
 * which only a core dump that succeeded gives (do_coredump). The zombie
 * restore makes dumps one, as small as the kernel makes it (no memory:
 * coredump_filter 0), into a directory of its own named after it, which
 * its parent removes once it has died. Where core_pattern sends cores
 * elsewhere (a program, another directory) or the core limit can't be
 * raised, the image is refused before anything is made (check.c).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static void core_dir(pid_t pid, char *buf, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, len, "%s/.ckpt-core-%d", tmp && tmp[0] == '/' ? tmp :
		 "/tmp", pid);
}

/* In the zombie to be, pid: the directory, no memory in the core, and
 * the limit raised to what it may be. */
int restore_core_prepare(pid_t pid)
{
	struct rlimit rl;
	char dir[PATH_MAX - 512];
	int fd;

	core_dir(pid, dir, sizeof(dir));
	if (mkdir(dir, 0700) || chdir(dir) || getrlimit(RLIMIT_CORE, &rl))
		return -1;
	rl.rlim_cur = rl.rlim_max;
	fd = open("/proc/self/coredump_filter", O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1 || setrlimit(RLIMIT_CORE, &rl)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* In its parent, once it has died: the core and the directory go. */
void restore_core_cleanup(pid_t pid)
{
	char dir[PATH_MAX - 512], path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	core_dir(pid, dir, sizeof(dir));
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}
