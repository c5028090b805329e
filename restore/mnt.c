/*
 * The mounts of the tree's mount namespace (MOUNT records, image.h), made
 * in two steps. restore itself, before it opens the image's files, takes a
 * private copy of its mount namespace and makes the binds, tmpfs and
 * overlay mounts there (a ROOT's below its directory; an overlay's layers
 * are host paths) but those below a late one (img_mnt_late()), each tmpfs
 * filled with its files before anything is mounted over it and before it
 * is made read-only; the files of the image are opened in that view
 * (chrooted into the ROOT's directory). Then the root of the tree, in the
 * child before it makes its children, takes a copy of that namespace,
 * mounts what belongs to its other namespaces (proc of its PID namespace,
 * mqueue of its IPC one, sysfs, a new devpts instance, the cgroup mounts
 * of its cgroup namespace, made there already: each of a hierarchy that
 * restore's namespace has mounted with the same options, checked
 * first), the binds of parts
 * of those or of the tree's tmpfs mounts (INNER: a runc container's masked
 * and read-only /proc paths), and what is below any of these, in image
 * order (parents and bind sources first), pivots into the ROOT (and lets
 * go of the old root), and sets the propagation of each mount.
 * The files of a tmpfs are made beneath its root only: their parents are
 * opened with openat2() RESOLVE_BENEATH and no symlink followed, so that
 * an image can write nothing elsewhere.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/cgroup.h"

static const char *base_of(const struct image *img)
{
	return img->nr_mounts && img->mounts[0].kind == IMG_MNT_ROOT ?
	       img->mounts[0].host : "";
}

static void target(const struct image *img, const struct img_mount *m,
		   char *buf, size_t len)
{
	const char *base = base_of(img);

	snprintf(buf, len, "%s%s", base,
		 *base && !strcmp(m->point, "/") ? "" : m->point);
}

/* The directory that holds path, beneath root; *name its last part */
static int parent_fd(int root, const char *path, const char **name)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH |
					   RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_XDEV |
					   RESOLVE_NO_MAGICLINKS };
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*name = path;
		return dup(root);
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	*name = slash + 1;
	return syscall(SYS_openat2, root, dir, &how, sizeof(how));
}

static int put_reg(int dfd, const char *name, const struct img_mntfile *f)
{
	int fd, ret = -1;

	if (f->flags & IMG_MNTF_MORE)
		fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (!(f->flags & IMG_MNTF_MORE) && ftruncate(fd, f->size))
		goto out;
	if (f->len && pwrite(fd, f->data, f->len, f->offset) != f->len)
		goto out;
	ret = 0;
out:
	close(fd);
	return ret;
}

static int put_file(int dfd, const char *name, const struct img_mntfile *f,
		    int root)
{
	uint32_t perm = f->mode & 07777;

	if (f->flags & IMG_MNTF_HARDLINK) {
		const char *lname;
		int lfd = parent_fd(root, f->link, &lname), ret;

		if (lfd < 0)
			return -1;
		ret = linkat(lfd, lname, dfd, name, 0);
		close(lfd);
		return ret;
	}
	if (S_ISREG(f->mode) && put_reg(dfd, name, f))
		return -1;
	if (f->flags & IMG_MNTF_MORE)
		return 0;
	if ((S_ISDIR(f->mode) && mkdirat(dfd, name, 0700)) ||
	    (S_ISLNK(f->mode) && symlinkat(f->link, dfd, name)) ||
	    ((S_ISCHR(f->mode) || S_ISBLK(f->mode) || S_ISFIFO(f->mode)) &&
	     mknodat(dfd, name, (f->mode & S_IFMT) | 0600, f->rdev)))
		return -1;
	if (fchownat(dfd, name, f->uid, f->gid, AT_SYMLINK_NOFOLLOW))
		return -1;
	/* after the owner, which clears set-user-ID */
	return S_ISLNK(f->mode) ? 0 : fchmodat(dfd, name, perm, 0);
}

static int set_times(int root, const struct img_mntfile *f)
{
	struct timespec ts[2] = {
		{ f->atime_ns / 1000000000ULL, f->atime_ns % 1000000000ULL },
		{ f->mtime_ns / 1000000000ULL, f->mtime_ns % 1000000000ULL },
	};
	const char *name;
	int dfd, ret;

	if (!*f->path)
		return futimens(root, ts);
	dfd = parent_fd(root, f->path, &name);
	if (dfd < 0)
		return -1;
	ret = utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
	close(dfd);
	return ret;
}

/* The files of m, beneath root (its mount's root directory) */
static int fill_tmpfs(const struct image *img, const struct img_mount *m,
		      int root)
{
	const struct img_mntfile *f;
	const char *name;
	uint32_t i, first = img->nr_mntfiles;
	int dfd, ret;

	for (i = 0; i < img->nr_mntfiles; i++) {
		f = &img->mntfiles[i];
		if (f->mount != m->id)
			continue;
		if (first == img->nr_mntfiles)
			first = i;
		if (!*f->path) {
			ret = fchown(root, f->uid, f->gid) ||
			      fchmod(root, f->mode & 07777);
		} else {
			dfd = parent_fd(root, f->path, &name);
			ret = dfd < 0 || put_file(dfd, name, f, root);
			if (dfd >= 0)
				close(dfd);
		}
		if (ret) {
			pr_perror("can't make %s in the tmpfs on %s", f->path,
				  m->point);
			return -1;
		}
	}
	/* children before their directory, whose times they change */
	for (i = img->nr_mntfiles; i-- > first;) {
		f = &img->mntfiles[i];
		if (f->mount == m->id &&
		    !(f->flags & (IMG_MNTF_MORE | IMG_MNTF_HARDLINK)) &&
		    set_times(root, f))
			pr_warn("can't set the times of %s in the tmpfs on %s: %s",
				f->path, m->point, strerror(errno));
	}
	return 0;
}

static int make_tmpfs(const struct image *img, const struct img_mount *m,
		      const char *at)
{
	int root, ret;

	if (mount(m->source, at, "tmpfs", 0, m->options))
		return -1;
	root = open(at, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	ret = fill_tmpfs(img, m, root);
	close(root);
	if (!ret && m->sb_ro)
		ret = mount(NULL, at, NULL, MS_REMOUNT | MS_RDONLY, m->options);
	return ret;
}

/* An INNER bind: its source looked up in the tree's root (as the tree
 * sees it, no symlink leading out of it), then bound through its fd */
static int bind_inner(const char *base, const struct img_mount *m,
		      const char *at)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT |
					   RESOLVE_NO_MAGICLINKS };
	int root, fd, tree, ret;

	root = open(*base ? base : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	fd = syscall(SYS_openat2, root, m->host[1] ? m->host + 1 : ".", &how,
		     sizeof(how));
	close(root);
	if (fd < 0)
		return -1;
	/* open_tree(2) (Linux 5.2), not a bind of /proc/self/fd/N: a
	 * namespace below the root's may have unmounted /proc (mntns.c) */
	tree = syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE |
		       OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	close(fd);
	if (tree < 0)
		return -1;
	ret = syscall(SYS_move_mount, tree, "", AT_FDCWD, at,
		      MOVE_MOUNT_F_EMPTY_PATH);
	close(tree);
	return ret;
}

/* m at at, its flags set */
int restore_mnt_one(const struct image *img, const struct img_mount *m,
		    const char *at, const char *base)
{
	switch (m->kind) {
	case IMG_MNT_ROOT:
	case IMG_MNT_BIND:
		if (mount(m->host, at, NULL, MS_BIND, NULL))
			return -1;
		break;
	case IMG_MNT_INNER:
		if (bind_inner(base, m, at))
			return -1;
		break;
	case IMG_MNT_TMPFS:
		if (make_tmpfs(img, m, at))
			return -1;
		break;
	default:
		if (mount(m->source, at, m->fstype, m->sb_ro ? MS_RDONLY : 0,
			  m->options))
			return -1;
	}
	return mount(NULL, at, NULL, MS_REMOUNT | MS_BIND | m->flags, NULL);
}

/* A bind of a pty of a devpts instance of the tree's (runc binds the
 * console's slave on /dev/console): the pty is made after the mounts */
static int is_pty_bind(const struct img_mount *m)
{
	return m->kind == IMG_MNT_INNER && !strcmp(m->fstype, "devpts");
}

int restore_mnt_consoles(const struct image *img)
{
	const struct img_mount *m;
	uint32_t i;

	/* after pivot_root: the points are the tree's own */
	for (i = 0; i < img->nr_mounts; i++) {
		m = &img->mounts[i];
		if (is_pty_bind(m) && (restore_mnt_one(img, m, m->point, "") ||
				       restore_mnt_propagate(m))) {
			pr_perror("can't bind %s on %s", m->host, m->point);
			return -1;
		}
	}
	return 0;
}

static int make_mounts(const struct image *img, int want_late)
{
	unsigned char *late = malloc(img->nr_mounts + 1);
	const struct img_mount *m;
	char at[PATH_MAX];
	uint32_t i;
	int ret = -1;

	if (!late)
		return -1;
	img_mnt_late(img->mounts, img->nr_mounts, late);
	for (i = 0; i < img->nr_mounts; i++) {
		m = &img->mounts[i];
		if (late[i] != want_late || is_pty_bind(m))
			continue;
		target(img, m, at, sizeof(at));
		if (restore_mnt_one(img, m, at, base_of(img))) {
			pr_perror("can't mount the %s %s on %s", m->fstype,
				  img_mnt_kind_name(m->kind), m->point);
			goto out;
		}
	}
	ret = 0;
out:
	free(late);
	return ret;
}

/* A CGROUP mount shows a hierarchy that restore's namespace has mounted
 * with the same options: mount(2) would otherwise make a new one or
 * change the flags of cgroup2's */
static int cgroups_known(const struct restore_run *run)
{
	const struct img_mount *m;
	uint32_t i;

	for (i = 0; i < run->img->nr_mounts; i++) {
		m = &run->img->mounts[i];
		if (m->kind == IMG_MNT_CGROUP &&
		    !cg_sb_mounted(m->fstype, m->options)) {
			pr_err("%s: can't restore the tree's %s mount on %s: no hierarchy with options %s is mounted here",
			       run->path, m->fstype, m->point, m->options);
			return -1;
		}
	}
	return 0;
}

int restore_mnt_prepare(const struct restore_run *run)
{
	if (!run->img->nr_mounts)
		return 0;
	if (cgroups_known(run))
		return -1;
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		pr_perror("can't make a mount namespace of restore's own");
		return -1;
	}
	return make_mounts(run->img, 0);
}

int restore_mnt_enter(const struct restore_run *run, int *old)
{
	const char *base = base_of(run->img);

	*old = -1;
	if (!*base)
		return 0;
	*old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*old < 0 || chroot(base) || chdir("/")) {
		pr_perror("can't enter the tree's root %s", base);
		return -1;
	}
	return 0;
}

void restore_mnt_leave(int old)
{
	if (old < 0)
		return;
	if (fchdir(old) || chroot(".")) {
		pr_perror("can't leave the tree's root");
		abort();	/* restore would go on in the tree's root */
	}
	close(old);
}

int restore_mnt_propagate(const struct img_mount *m)
{
	unsigned long flag;

	/* a mount below the root's may be a slave: shared, it would be
	 * both (mount_namespaces(7)) */
	if (m->propagation == IMG_MNT_SHARED &&
	    mount(NULL, m->point, NULL, MS_PRIVATE, NULL))
		return -1;
	flag = m->propagation == IMG_MNT_SHARED ? MS_SHARED :
	       m->propagation == IMG_MNT_UNBINDABLE ? MS_UNBINDABLE :
	       m->propagation == IMG_MNT_SLAVE ? MS_SLAVE : 0;
	return flag ? mount(NULL, m->point, NULL, flag, NULL) : 0;
}

static int set_propagation(const struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_mounts; i++)
		if (restore_mnt_propagate(&img->mounts[i]))
			return -1;
	return 0;
}

/* In the root, before its children: see the top of this file */
int restore_mnt_make(const struct restore_run *run)
{
	const struct image *img = run->img;
	const char *base = base_of(img);

	if (unshare(CLONE_NEWNS) || make_mounts(img, 1))
		return -1;
	if (*base && (chdir(base) || syscall(SYS_pivot_root, ".", ".") ||
		      umount2(".", MNT_DETACH) || chdir("/")))
		return -1;
	return set_propagation(img);
}
