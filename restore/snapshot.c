/*
 * snapshot: the files of the image's file snapshot (SNAPFILE records,
 * their copies in IMAGE.files/, ckpt/snapshot.c) put back before any
 * process is made, so that validation then finds the files checkpointed.
 *
 * The rule: a regular file is left alone when it is still there with the
 * same device, inode, size and modification time; otherwise its copy
 * replaces it (a reflink where the filesystem has them), with the mode,
 * owner and times it had. A directory is made if it is gone, and left
 * alone otherwise. What a directory holds that the snapshot does not is
 * left alone too.
 *
 * In two passes, so that a damaged snapshot changes no file: first every
 * copy that will be used is checked (size, BLAKE2b hash) and every path
 * is looked at; only then is anything written, each file through a
 * temporary name in its directory renamed over the old one. The paths
 * come from the image: the reader refuses "." and ".." in them, and they
 * are walked from / one component at a time with O_NOFOLLOW, so that a
 * symbolic link put on the way since (a directory replaced by a link to
 * elsewhere) is refused instead of followed; the copies are opened in
 * IMAGE.files/ with O_NOFOLLOW too.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/filecopy.h"
#include "util/filehash.h"
#include "util/progress.h"

enum { SNAP_KEEP, SNAP_PUT, SNAP_MKDIR };

static uint64_t ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000ULL + t->tv_nsec;
}

/*
 * The directory that holds path's last component, walked from / without
 * following a symbolic link; with mk, missing directories are made
 * (0755: a directory of the snapshot gets its own mode later). An O_PATH
 * fd, or -1 with errno set (ENOENT: a directory is missing).
 */
static int open_parent(const char *path, int mk)
{
	char comp[NAME_MAX + 1];
	const char *c = path + 1, *end;
	int fd, next;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	while (fd >= 0 && (end = strchr(c, '/'))) {
		if ((size_t)(end - c) > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, c, end - c);
		comp[end - c] = '\0';
		if (mk && mkdirat(fd, comp, 0755) && errno != EEXIST) {
			close(fd);
			return -1;
		}
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		fd = next;
		c = end + 1;
	}
	return fd;
}

static const char *base(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* path as it is now, by the confined walk: 0, or -1 (errno ENOENT: gone) */
static int stat_now(const char *path, struct stat *st)
{
	int pfd = open_parent(path, 0), ret;

	if (pfd < 0)
		return -1;
	ret = fstatat(pfd, base(path), st, AT_SYMLINK_NOFOLLOW);
	close(pfd);
	return ret;
}

/* The copy of f in the snapshot, checked: an fd, or -1 said. */
static int open_copy(struct restore_run *run, int sdir,
		     const struct img_snapfile *f, int check)
{
	uint8_t h[FILE_HASH_LEN];
	char name[16];
	struct stat st;
	const char *why = NULL;
	int fd;

	snprintf(name, sizeof(name), "%" PRIu32, f->data);
	fd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size)
		why = "not the size recorded";
	else if (check && file_hash(fd, h))
		why = strerror(errno);
	else if (check && memcmp(h, f->hash, sizeof(h)))
		why = "its content hash differs";
	if (!why)
		return fd;
	pr_err("%s: the snapshot's copy of %s (%s%s/%s) is damaged: %s",
	       run->path, f->path, run->path, IMG_SNAP_SUFFIX, name, why);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* What to do with f, after looking at it (and its copy): SNAP_*, or -1
 * said (*bad: the snapshot is damaged). */
static int plan_one(struct restore_run *run, int sdir,
		    const struct img_snapfile *f, int *bad)
{
	struct stat st;
	int fd;

	if (stat_now(f->path, &st)) {
		/* ENOTDIR, ELOOP: a file or a link on the way, not ours
		 * to remove or follow */
		if (errno != ENOENT) {
			pr_perror("%s: can't put back %s from the snapshot",
				  run->path, f->path);
			return -1;
		}
		st.st_mode = 0;		/* gone */
	}
	if (S_ISDIR(f->mode)) {
		if (!st.st_mode)
			return SNAP_MKDIR;
		if (S_ISDIR(st.st_mode))
			return SNAP_KEEP;
	} else if (S_ISREG(st.st_mode) && st.st_dev == f->dev &&
		   st.st_ino == f->ino && (uint64_t)st.st_size == f->size &&
		   ns(&st.st_mtim) == f->mtime_ns) {
		return SNAP_KEEP;
	} else if (!st.st_mode || S_ISREG(st.st_mode)) {
		fd = open_copy(run, sdir, f, 1);
		if (fd < 0) {
			*bad = 1;
			return -1;
		}
		close(fd);
		return SNAP_PUT;
	}
	pr_err("%s: can't put back %s from the snapshot: a %s is there now",
	       run->path, f->path, S_ISDIR(st.st_mode) ? "directory" :
	       "file of another kind");
	return -1;
}

/* Owner, mode and times of f on fd (what was made or written). */
static int set_meta(int fd, const struct img_snapfile *f)
{
	struct timespec t[2] = {
		{ f->atime_ns / 1000000000, f->atime_ns % 1000000000 },
		{ f->mtime_ns / 1000000000, f->mtime_ns % 1000000000 },
	};

	/* not root: the files stay ours, said once by the caller */
	if (fchown(fd, f->uid, f->gid) && errno != EPERM)
		return -1;
	if (fchmod(fd, f->mode & 07777) || futimens(fd, t))
		return -1;
	return 0;
}

/* f's copy written to a temporary name beside f->path, renamed over it. */
static int put_file(struct restore_run *run, int sdir,
		    const struct img_snapfile *f)
{
	char tmp[64];
	int in, out = -1, pfd, ret = -1;

	in = open_copy(run, sdir, f, 0);
	if (in < 0)
		return -1;
	pfd = open_parent(f->path, 1);
	snprintf(tmp, sizeof(tmp), ".ckpt-snapshot.%d.%" PRIu32,
		 (int)getpid(), f->data);
	if (pfd >= 0)
		out = openat(pfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
			     O_CLOEXEC, 0600);
	if (out < 0 || file_copy(in, out, f->size) < 0 ||
	    set_meta(out, f) || fsync(out) ||
	    renameat(pfd, tmp, pfd, base(f->path))) {
		pr_perror("can't put back %s", f->path);
		if (out >= 0)
			unlinkat(pfd, tmp, 0);
		goto out;
	}
	ret = 0;
out:
	if (out >= 0)
		close(out);
	if (pfd >= 0)
		close(pfd);
	close(in);
	return ret;
}

static int put_dir(const struct img_snapfile *f)
{
	int pfd = open_parent(f->path, 1), ret = -1;

	if (pfd >= 0 && (!mkdirat(pfd, base(f->path), 0700) ||
			 errno == EEXIST))
		ret = 0;
	if (ret)
		pr_perror("can't make %s", f->path);
	if (pfd >= 0)
		close(pfd);
	return ret;
}

/* A directory made: its mode, owner and times, once what it holds is
 * in (which changed its mtime). */
static int dir_meta(const struct img_snapfile *f)
{
	int pfd = open_parent(f->path, 0), fd = -1, ret = -1;

	if (pfd >= 0)
		fd = openat(pfd, base(f->path), O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !set_meta(fd, f))
		ret = 0;
	else
		pr_perror("can't set the mode and times of %s", f->path);
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return ret;
}

/* The second pass: what the first found changed, written. */
static int put_all(struct restore_run *run, int sdir, const uint8_t *plan)
{
	const struct image *img = run->img;
	uint64_t total = 0;
	uint32_t i;

	for (i = 0; i < img->nr_snapfiles; i++)
		if (plan[i] == SNAP_PUT)
			total += img->snapfiles[i].size;
	progress_restart("snapshot", total);
	for (i = 0; i < img->nr_snapfiles; i++)
		if ((plan[i] == SNAP_MKDIR && put_dir(&img->snapfiles[i])) ||
		    (plan[i] == SNAP_PUT &&
		     put_file(run, sdir, &img->snapfiles[i])))
			return -1;
	for (i = img->nr_snapfiles; i-- > 0;)
		if (plan[i] == SNAP_MKDIR && dir_meta(&img->snapfiles[i]))
			return -1;
	progress_phase("reading");
	return 0;
}

/* IMAGE.files beside the image a link (ckpt run's latest) leads to,
 * itself not a link */
static int open_snapdir(const struct restore_run *run)
{
	char path[PATH_MAX], *real = NULL;
	int fd = -1;

	if (strcmp(run->path, "-") && !strstr(run->path, "://"))
		real = realpath(run->path, NULL);
	if (real && (size_t)snprintf(path, sizeof(path), "%s%s", real,
				     IMG_SNAP_SUFFIX) < sizeof(path))
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			  O_CLOEXEC);
	free(real);
	if (fd < 0)
		pr_err("%s: the image has a file snapshot, and %s%s can't be opened: %s",
		       run->path, run->path, IMG_SNAP_SUFFIX,
		       strerror(errno ? errno : EINVAL));
	return fd;
}

/* Does the snapshot hold f, as it was at the same dump? Then it is
 * what restore_snapshot_put() makes it, and validation need not look. */
static int covered(const struct image *img, const struct img_fileid *f)
{
	uint32_t i;

	for (i = 0; i < img->nr_snapfiles; i++)
		if (img->snapfiles[i].dev == f->dev &&
		    img->snapfiles[i].ino == f->ino &&
		    S_ISREG(img->snapfiles[i].mode) &&
		    !strcmp(img->snapfiles[i].path, f->path))
			return 1;
	return 0;
}

int restore_snapshot_covers(const struct restore_run *run,
			    const struct img_fileid *f)
{
	return run->snap.plan && covered(run->img, f);
}

int restore_snapshot_check(struct restore_run *run)
{
	const struct image *img = run->img;
	uint32_t i;
	int p, bad = 0;

	run->snap.dir = -1;
	if (!img->nr_snapfiles)
		return 0;
	run->snap.dir = open_snapdir(run);
	if (run->snap.dir < 0)
		return EXIT_BADIMAGE;
	run->snap.plan = calloc(img->nr_snapfiles, 1);
	if (!run->snap.plan) {
		pr_err("out of memory");
		return EXIT_FAILED;
	}
	progress_phase("checking the snapshot");
	for (i = 0; i < img->nr_snapfiles; i++) {
		p = plan_one(run, run->snap.dir, &img->snapfiles[i], &bad);
		if (p < 0)
			return bad ? EXIT_BADIMAGE : EXIT_FILECHANGED;
		run->snap.plan[i] = p;
	}
	return 0;
}

int restore_snapshot_put(struct restore_run *run)
{
	const struct image *img = run->img;
	uint32_t i, nput = 0;
	int ret;

	if (!run->snap.plan)
		return 0;
	for (i = 0; i < img->nr_snapfiles; i++)
		nput += run->snap.plan[i] != SNAP_KEEP;
	if (nput && geteuid())
		pr_warn("not root: the files put back are owned by us");
	ret = put_all(run, run->snap.dir, run->snap.plan);
	if (!ret && nput)
		pr_info("%u files and directories put back from the snapshot",
			nput);
	free(run->snap.plan);
	run->snap.plan = NULL;
	close(run->snap.dir);
	run->snap.dir = -1;
	return ret ? EXIT_FAILED : 0;
}
