/*
 * The names of the image's unix sockets as addresses, and names bound
 * where nobody else sees them: a peer that had closed keeps its name
 * (getpeername(2) on its socket gives it), but the path may be another
 * socket's now, one still listening there most likely; so the stand-in
 * peer is bound in a child that has a mount namespace of its own, on a
 * tmpfs mounted over the path's directory there. The child shares the
 * socket with restore (fork), and the kernel keeps the name with it.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "restore/unix-priv.h"

socklen_t unix_addr(const struct img_file *f, const char *name,
		    struct sockaddr_un *a)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = img_unix_name(name, !!(f->sk.opts & IMG_UNIX_ESCAPED),
			  a->sun_path);
	if (n <= 0)
		return 0;	/* the reader checked it */
	/* a path ends with its NUL, an abstract name has no end but its
	 * length */
	return offsetof(struct sockaddr_un, sun_path) + n +
	       (a->sun_path[0] ? 1 : 0);
}

/* dir, made on a tmpfs mounted on its nearest ancestor that exists */
static int cover_dir(char *dir)
{
	char *slash;
	struct stat st;

	if (!stat(dir, &st))
		return mount("ckpt", dir, "tmpfs", 0, "mode=0755");
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		errno = ENOENT;	/* not a tmpfs over the whole root */
		return -1;
	}
	*slash = '\0';
	if (cover_dir(dir))
		return -1;
	*slash = '/';
	return mkdir(dir, 0755);
}

/* In the child: the directory of a's path, absolute. */
static int path_dir(const struct sockaddr_un *a, const char *cwd, char *dir)
{
	char *slash;
	int n;

	if (a->sun_path[0] == '/')
		n = snprintf(dir, PATH_MAX, "%s", a->sun_path);
	else
		n = snprintf(dir, PATH_MAX, "%s/%s", cwd, a->sun_path);
	if (n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

static int bind_in_child(int fd, const struct sockaddr_un *a, socklen_t len,
			 const char *cwd)
{
	char dir[PATH_MAX];

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    path_dir(a, cwd, dir) || cover_dir(dir))
		return -1;
	if (a->sun_path[0] != '/' && chdir(cwd))
		return -1;
	return bind(fd, (const struct sockaddr *)a, len);
}

int unix_bind_private(int fd, const struct sockaddr_un *a, socklen_t len,
		      const char *cwd)
{
	int st;
	pid_t pid;

	if (!a->sun_path[0])	/* abstract: no file to hide */
		return bind(fd, (const struct sockaddr *)a, len);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		_exit(bind_in_child(fd, a, len, cwd) ? errno & 0xff : 0);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return 0;
	errno = WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
	return -1;
}
