/*
 * dump-mntfiles: the files of a tmpfs of the tree's own (dump-mnt.c opened
 * its root), walked parents first: directories, regular files (their
 * SEEK_DATA ranges, so that holes stay holes), symlinks, device nodes and
 * FIFOs, with modes, owners and times; a regular file linked twice is
 * saved once and linked again. A socket is refused, naming it (a socket
 * bound there would not be bound again). Extended attributes are not
 * saved. The walk runs twice: first to check and count the data against
 * --ghost-limit, before anything is written, then to write.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

struct walk {
	const struct img_mount *m;
	struct img_writer *w;	/* NULL: count */
	pid_t pid;
	uint64_t bytes, limit;
	uint8_t *buf;
	struct seen {
		dev_t dev;
		ino_t ino;
		char *path;
	} *links;
	uint32_t nr_links;
};

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ULL + ts->tv_nsec;
}

static void fill(struct img_mntfile *f, const struct walk *k,
		 const struct stat *st, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->mount = k->m->id;
	f->mode = st->st_mode;
	f->uid = st->st_uid;
	f->gid = st->st_gid;
	f->size = S_ISREG(st->st_mode) ? st->st_size : 0;
	f->rdev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ?
		  st->st_rdev : 0;
	f->atime_ns = ns_of(&st->st_atim);
	f->mtime_ns = ns_of(&st->st_mtim);
	f->path = (char *)path;
}

static int put(const struct walk *k, const struct img_mntfile *f)
{
	return k->w ? img_write_mntfile(k->w, f) : 0;
}

/* A regular file linked more than once, seen before: its first path */
static const char *seen_link(struct walk *k, const struct stat *st,
			     const char *path, int *err)
{
	struct seen *s;
	uint32_t i;

	*err = 0;
	if (st->st_nlink < 2)
		return NULL;
	for (i = 0; i < k->nr_links; i++)
		if (k->links[i].dev == st->st_dev &&
		    k->links[i].ino == st->st_ino)
			return k->links[i].path;
	s = realloc(k->links, (k->nr_links + 1) * sizeof(*s));
	if (!s || !(path = strdup(path))) {
		*err = 1;
		if (s)
			k->links = s;
		return NULL;
	}
	k->links = s;
	s[k->nr_links++] = (struct seen){ st->st_dev, st->st_ino,
					  (char *)path };
	return NULL;
}

/* A regular file's data ranges: one record each (the first carries the
 * file, so one record when it has none) */
static int put_data(struct walk *k, struct img_mntfile *f, int fd)
{
	off_t data = 0, hole, n;
	int first = 1;

	while ((uint64_t)data < f->size) {
		data = lseek(fd, data, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -1;
		for (; data < hole; data += n) {
			n = hole - data < IMG_MAX_MNT_DATA ? hole - data :
			    IMG_MAX_MNT_DATA;
			k->bytes += n;
			if (k->w && pread_full(fd, k->buf, n, data))
				return -1;
			f->flags = first ? 0 : IMG_MNTF_MORE;
			f->offset = data;
			f->len = n;
			f->data = k->buf;
			if (put(k, f))
				return -1;
			first = 0;
		}
	}
	f->flags = 0;
	f->len = 0;
	f->offset = 0;
	f->data = NULL;
	return first ? put(k, f) : 0;
}

static int walk_dir(struct walk *k, int dfd, const char *rel);

static int walk_one(struct walk *k, int dfd, const char *name,
		    const char *path)
{
	struct img_mntfile f;
	char target[4096];
	struct stat st;
	const char *to;
	ssize_t n;
	int fd, ret, err;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -1;
	fill(&f, k, &st, path);
	if (S_ISSOCK(st.st_mode)) {
		pr_err("can't dump %d: the tmpfs on %s holds the socket %s, which is not supported yet",
		       k->pid, k->m->point, path);
		return -2;
	}
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		f.link = target;
		return put(k, &f);
	}
	if (S_ISDIR(st.st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0 || put(k, &f))
			return -1;
		ret = walk_dir(k, fd, path);
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode))
		return put(k, &f);
	to = seen_link(k, &st, path, &err);
	if (err)
		return -1;
	if (to) {
		f.flags = IMG_MNTF_HARDLINK;
		f.link = (char *)to;
		f.size = 0;
		return put(k, &f);
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = put_data(k, &f, fd);
	close(fd);
	return ret;
}

static int walk_dir(struct walk *k, int dfd, const char *rel)
{
	struct dirent *de;
	char *path;
	int ret = 0, fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);	/* the offset is dfd's too: the first walk's end */
	while (!ret && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "",
			     de->d_name) < 0) {
			ret = -1;
			break;
		}
		ret = walk_one(k, dfd, de->d_name, path);
		if (ret == -1)
			pr_perror("can't dump %s in the tmpfs on %s of %d", path,
				  k->m->point, k->pid);
		ret = ret ? -2 : 0;
		free(path);
	}
	closedir(d);
	return ret;
}

int dump_mnt_files(const struct dump_tree *t, const struct dump_mnt *d,
		   uint32_t i, struct img_writer *w)
{
	struct walk k = { .m = &d->recs[i], .w = w,
			  .pid = t->procs[0].pid,
			  .limit = t->procs[0].o->ghost_limit };
	struct img_mntfile f;
	struct stat st;
	uint32_t j;
	int ret = -1;

	if (w && !(k.buf = malloc(IMG_MAX_MNT_DATA)))
		return -1;
	if (fstat(d->fds[i], &st)) {
		pr_perror("can't read the tmpfs on %s", k.m->point);
		goto out;
	}
	fill(&f, &k, &st, "");
	if (put(&k, &f) || walk_dir(&k, d->fds[i], ""))
		goto out;
	if (k.bytes > k.limit) {
		pr_err("can't dump %d: the tmpfs on %s holds %llu bytes of data, more than --ghost-limit %llu",
		       k.pid, k.m->point, (unsigned long long)k.bytes,
		       (unsigned long long)k.limit);
		goto out;
	}
	ret = 0;
out:
	for (j = 0; j < k.nr_links; j++)
		free(k.links[j].path);
	free(k.links);
	free(k.buf);
	return ret;
}
