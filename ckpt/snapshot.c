/*
 * snapshot: the files a job works on (--snapshot PATH, files or
 * directories; --snapshot-open, every regular file the tree has open or
 * mapped), copied beside its image while the tree is frozen, so that
 * restore can put back those that changed or vanished since
 * (restore/snapshot.c).
 *
 * IMAGE.files/ (0700) holds one copy per regular file (0600), named by a
 * number, and MANIFEST, a line per copy: its number, the file's device,
 * inode, size, mtime and the copy's hash. The image holds a SNAPFILE
 * record per entry (path, mode, owner, times, size, the hash), which is
 * what restore trusts; MANIFEST only serves ckpt run's
 * next checkpoint, which links the copy of a file unchanged since
 * (same device, inode, size and mtime) instead of copying it again.
 *
 * For a stream sink (snap_set_sink) there is no IMAGE.files: each copy
 * is a nameless file (O_TMPFILE) beside the original, hashed after the
 * thaw and written into the image as SNAPDATA records after its SNAPFILE
 * (data ranges only), then closed.
 *
 * Symbolic links (their text), FIFOs and device nodes have a record and
 * no copy; every record but a link's carries the extended attributes
 * (ACLs among them). A unix socket file is refused.
 *
 * The copies go to IMAGE.files.tmp.PID, renamed to IMAGE.files just
 * before the image is committed (an older IMAGE.files is kept aside
 * until the commit, and put back if it fails). Each copy is the
 * cheapest the filesystem has (util/filecopy.c): a reflink, else the
 * data ranges only. The tree is frozen while they are made, so the
 * copies are the files as the processes saw them; their hashes
 * (BLAKE2b), which restore checks the copies against, are computed
 * after the thaw from the copies (snap_finish: reading a GiB is what
 * took the frozen time, not the reflink), and only then are the records
 * written and the image committed.
 */
#include <sys/stat.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/snapshot.h"
#include "util/filecopy.h"
#include "util/filehash.h"
#include "util/progress.h"
#include "util/util.h"

#define MANIFEST	"MANIFEST"

/* A line of the previous snapshot's MANIFEST. */
/* A record of the snapshot, written by snap_finish(). */
struct snap_rec {
	struct img_snapfile f;
	uint8_t later;		/* its copy to be hashed */
	int fd;			/* in the image: its nameless copy, or -1 */
};

struct snap_prev {
	uint32_t data;
	uint64_t dev, ino, size, mtime_ns;
	uint8_t hash[FILE_HASH_LEN];
};

int snap_add(struct snap_set *s, const char *path)
{
	if (s->nr_paths == SNAP_MAX_PATHS) {
		pr_err("at most %d --snapshot", SNAP_MAX_PATHS);
		return -1;
	}
	s->paths[s->nr_paths++] = path;
	return 0;
}

int snap_wanted(const struct snap_set *s)
{
	return s && (s->nr_paths || s->open_files);
}

void snap_set_sink(struct snap_set *s, const char *const *outputs,
		   int nr_outputs, int encrypted)
{
	s->in_image = nr_outputs != 1 || !strcmp(outputs[0], "-") ||
		      strstr(outputs[0], "://") || encrypted;
}

static void remove_flat(int dirfd, const char *path);

static uint64_t ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000ULL + t->tv_nsec;
}

static void hex(char *out, const uint8_t *h)
{
	int i;

	for (i = 0; i < FILE_HASH_LEN; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static int unhex(uint8_t *h, const char *s)
{
	unsigned v;
	int i;

	if (strlen(s) != 2 * FILE_HASH_LEN)
		return -1;
	for (i = 0; i < FILE_HASH_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		h[i] = v;
	}
	return 0;
}

/* prev's MANIFEST, if it has one: a line that does not parse ends it
 * (it only spares copies; restore checks the hashes of what it uses) */
static void load_prev(struct snap_set *s)
{
	char path[PATH_MAX], hx[2 * FILE_HASH_LEN + 2];
	struct snap_prev p, *v;
	FILE *f;
	int fd;

	if (!s->prev || (size_t)snprintf(path, sizeof(path), "%s%s",
					 s->prev, SNAP_DIR_SUFFIX) >= sizeof(path))
		return;
	s->prevfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			 O_CLOEXEC);
	fd = s->prevfd < 0 ? -1 : openat(s->prevfd, MANIFEST,
					  O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fscanf(f, "%" SCNu32 " %" SCNu64 " %" SCNu64 " %" SCNu64
		      " %" SCNu64 " %65s", &p.data, &p.dev, &p.ino, &p.size,
		      &p.mtime_ns, hx) == 6 && !unhex(p.hash, hx)) {
		v = realloc(s->pv, (s->nr_pv + 1) * sizeof(*v));
		if (!v)
			break;
		s->pv = v;
		s->pv[s->nr_pv++] = p;
	}
	fclose(f);
}

static const struct snap_prev *find_prev(const struct snap_set *s,
					 const struct stat *st)
{
	uint32_t i;

	for (i = 0; i < s->nr_pv; i++)
		if (s->pv[i].dev == st->st_dev && s->pv[i].ino == st->st_ino &&
		    s->pv[i].size == (uint64_t)st->st_size &&
		    s->pv[i].mtime_ns == ns(&st->st_mtim))
			return &s->pv[i];
	return NULL;
}

/* Taken already (a file named twice, or open and under a directory)? */
static int seen(struct snap_set *s, const struct stat *st)
{
	uint64_t (*v)[2];
	uint32_t i;

	for (i = 0; i < s->nr_seen; i++)
		if (s->seen[i][0] == st->st_dev && s->seen[i][1] == st->st_ino)
			return 1;
	if (s->nr_seen == s->cap_seen) {
		s->cap_seen = s->cap_seen ? 2 * s->cap_seen : 64;
		v = realloc(s->seen, s->cap_seen * sizeof(*v));
		if (!v)
			return -1;
		s->seen = v;
	}
	s->seen[s->nr_seen][0] = st->st_dev;
	s->seen[s->nr_seen][1] = st->st_ino;
	s->nr_seen++;
	return 0;
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void rec_free(struct img_snapfile *f)
{
	free(f->path);
	free(f->target);
	free(f->xattrs);
}

/* path's extended attributes (user.*, trusted.*, security.*, the POSIX
 * ACLs in system.*: whatever the filesystem lists to us) in r. The
 * buffers sized by a first call may be short by the time of the second
 * if the file changes: the tree is frozen, not everyone else. */
static int read_xattrs(struct img_snapfile *r)
{
	char *names = NULL, *nm;
	ssize_t n, v;
	uint8_t *b = NULL, *nb;
	size_t len = 0, k;
	int ret = -1;

	n = llistxattr(r->path, NULL, 0);
	if (n <= 0) {
		ret = n < 0 && errno != ENOTSUP ? -1 : 0;
		goto out;
	}
	names = malloc(n);
	n = names ? llistxattr(r->path, names, n) : -1;
	for (nm = names; n > 0 && nm < names + n; nm += strlen(nm) + 1) {
		v = lgetxattr(r->path, nm, NULL, 0);
		if (v < 0 && errno == ENODATA)
			continue;	/* gone since the list */
		k = strlen(nm);
		nb = v < 0 ? NULL : realloc(b, len + k + 5 + v);
		if (!nb)
			goto out;
		b = nb;
		memcpy(b + len, nm, k + 1);
		v = lgetxattr(r->path, nm, b + len + k + 5, v);
		if (v < 0)
			goto out;
		le32(b + len + k + 1, v);
		len += k + 5 + v;
	}
	if (n < 0 || len > IMG_MAX_SNAP_XATTRS) {
		errno = n < 0 ? errno : E2BIG;
		goto out;
	}
	r->flags |= IMG_SNAP_XATTRS;
	r->xattrs = b;
	r->xattrs_len = len;
	b = NULL;
	ret = 0;
out:
	if (ret)
		pr_perror("can't read the extended attributes of %s", r->path);
	free(names);
	free(b);
	return ret;
}

static void fill_rec(struct img_snapfile *r, const char *path,
		     const struct stat *st)
{
	memset(r, 0, sizeof(*r));
	r->mode = st->st_mode;
	r->uid = st->st_uid;
	r->gid = st->st_gid;
	r->dev = st->st_dev;
	r->ino = st->st_ino;
	r->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	r->rdev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ?
		  st->st_rdev : 0;
	r->atime_ns = ns(&st->st_atim);
	r->mtime_ns = ns(&st->st_mtim);
	r->path = (char *)path;
}

static void count_copy(struct snap_set *s, int how)
{
	if (how == FILE_CLONED)
		s->cloned++;
	else
		s->copied++;
}

/* The copy of in as tmp/name: a link to prev's if the file did not change
 * since (its hash in r), else a reflink or a copy (*later: to be hashed
 * and synced). */
static int copy_one(struct snap_set *s, int in, const struct stat *st,
		    struct img_snapfile *r, const char *name, uint8_t *later)
{
	const struct snap_prev *p = find_prev(s, st);
	char pname[16];
	int out, how;

	if (p) {
		snprintf(pname, sizeof(pname), "%" PRIu32, p->data);
		if (!linkat(s->prevfd, pname, s->dirfd, name, 0)) {
			memcpy(r->hash, p->hash, FILE_HASH_LEN);
			s->linked++;
			return 0;
		}
	}
	out = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		     0600);
	if (out < 0)
		return -1;
	/* no hash and no fsync here: the tree is frozen, and the copy
	 * (which cannot change) is hashed and made durable after the thaw,
	 * by snap_finish(), before the image is committed (an fsync of a
	 * reflink is most of what the copy costs on btrfs) */
	how = file_copy(in, out, r->size);
	if (how < 0) {
		close(out);
		return -1;
	}
	*later = 1;
	count_copy(s, how);
	return close(out);
}

/* The directory of a path with a slash (malloc'd), or NULL. */
static char *dir_of(const char *path)
{
	char *dir = strdup(path), *slash;

	slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash) {
		free(dir);
		return NULL;
	}
	*(slash == dir ? slash + 1 : slash) = '\0';
	return dir;
}

/* For a snapshot in the image: a copy of in (path) with no name, beside
 * it (O_TMPFILE, a reflink where the filesystem has them), else in
 * TMPDIR; gone when closed, or when we die. An fd, or -1 said. */
static int copy_nameless(struct snap_set *s, int in, const char *path,
			 uint64_t size)
{
	const char *tmpdir = getenv("TMPDIR");
	char *dir = dir_of(path);
	int out = -1, how;

	if (dir)
		out = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	free(dir);
	if (out < 0)
		out = open(tmpdir && *tmpdir ? tmpdir : "/tmp",
			   O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	how = out < 0 ? -1 : file_copy(in, out, size);
	if (how < 0) {
		pr_perror("can't copy %s", path);
		if (out >= 0)
			close(out);
		return -1;
	}
	count_copy(s, how);
	return out;
}

/* r kept for snap_finish(), with its extended attributes (path's), its
 * path copied; its target and xattrs are the set's from now on, or freed
 * on failure. later: its copy is to be hashed. */
static int keep_rec(struct snap_set *s, struct img_snapfile *r,
		    uint8_t later)
{
	struct snap_rec *v;

	if (!S_ISLNK(r->mode) && read_xattrs(r))
		goto err;
	if (s->nr_recs == s->cap_recs) {
		v = realloc(s->recs, (s->cap_recs ? 2 * s->cap_recs : 64) *
			    sizeof(*v));
		if (!v)
			goto oom;
		s->recs = v;
		s->cap_recs = s->cap_recs ? 2 * s->cap_recs : 64;
	}
	v = &s->recs[s->nr_recs];
	v->f = *r;
	v->later = later;
	v->fd = -1;
	v->f.path = strdup(r->path);
	if (!v->f.path)
		goto oom;
	s->nr_recs++;
	return 0;
oom:
	pr_err("out of memory");
err:
	free(r->target);
	free(r->xattrs);
	return -1;
}

/* One regular file: its copy, and its record kept. */
static int take_file(struct snap_set *s, const char *path)
{
	struct img_snapfile r;
	struct stat st;
	uint8_t later = 0;
	char name[16];
	int fd, k, copy = -1, ret = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		  O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st)) {
		pr_perror("can't snapshot %s", path);
		goto out;
	}
	k = seen(s, &st);
	if (k) {
		ret = k > 0 ? 0 : -1;
		goto out;
	}
	fill_rec(&r, path, &st);
	r.data = s->next++;
	snprintf(name, sizeof(name), "%" PRIu32, r.data);
	if (s->in_image) {
		copy = copy_nameless(s, fd, path, r.size);
		if (copy < 0)
			goto out;
		r.flags |= IMG_SNAP_INLINE;
		later = 1;
	} else if (copy_one(s, fd, &st, &r, name, &later)) {
		pr_perror("can't copy %s into %s", path, s->tmp);
		goto out;
	}
	s->files++;
	s->bytes += r.size;
	ret = keep_rec(s, &r, later);
	if (!ret)
		s->recs[s->nr_recs - 1].fd = copy;
	else if (copy >= 0)
		close(copy);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int take_path(struct snap_set *s, const char *path);

/* A directory: its record, then what it holds, sorted (the image the
 * same for the same tree). */
static int take_dir(struct snap_set *s, const char *path,
		    const struct stat *st)
{
	struct dirent **ents = NULL;
	struct img_snapfile r;
	char *sub = NULL;
	int i, n, ret = -1;

	fill_rec(&r, path, st);
	if (keep_rec(s, &r, 0))
		return -1;
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		pr_perror("can't read %s", path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (!strcmp(e, ".") || !strcmp(e, ".."))
			continue;
		free(sub);
		if (asprintf(&sub, "%s%s%s", path, path[1] ? "/" : "",
			     e) < 0) {
			sub = NULL;
			pr_err("out of memory");
			goto out;
		}
		if (take_path(s, sub))
			goto out;
	}
	ret = 0;
out:
	free(sub);
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

/* A symbolic link (its text), a FIFO or a device node: a record, no
 * copy. A FIFO is never opened: its bytes belong to whoever has it open
 * (the tree's part of them is in the image), not to the snapshot. */
static int take_node(struct snap_set *s, const char *path,
		     const struct stat *st)
{
	struct img_snapfile r;
	char *t;
	ssize_t n;
	int k = seen(s, st);

	if (k)
		return k > 0 ? 0 : -1;
	fill_rec(&r, path, st);
	if (S_ISLNK(st->st_mode)) {
		t = malloc(PATH_MAX);
		n = t ? readlink(path, t, PATH_MAX - 1) : -1;
		if (n < 0) {
			pr_perror("can't snapshot %s", path);
			free(t);
			return -1;
		}
		t[n] = '\0';
		r.target = t;
	}
	return keep_rec(s, &r, 0);
}

/* What restore can put back exactly: regular files, directories,
 * symbolic links, FIFOs and device nodes. */
static int take_path(struct snap_set *s, const char *path)
{
	struct stat st;

	if (lstat(path, &st)) {
		pr_perror("can't snapshot %s", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return take_dir(s, path, &st);
	if (S_ISREG(st.st_mode))
		return take_file(s, path);
	if (!S_ISSOCK(st.st_mode))
		return take_node(s, path, &st);
	/* a copy would be a socket file nobody listens on: the listener
	 * is a process's socket, which its bind() made the file for */
	pr_err("can't snapshot %s: a unix socket file (bind() makes it; restore can't make a listening one from a copy)",
	       path);
	return -1;
}

/* A FIFO the tree has open (--snapshot-open): its node, when the path
 * still leads to it; one deleted or replaced since it was opened is not
 * the snapshot's (the image keeps a deleted one, and restore refuses a
 * replaced one). */
static int take_fifo(struct snap_set *s, const struct img_fileid *f)
{
	struct stat st;

	if (lstat(f->path, &st) || !S_ISFIFO(st.st_mode) ||
	    st.st_dev != f->dev || st.st_ino != f->ino)
		return 0;
	return take_node(s, f->path, &st);
}

/* --snapshot PATH, made absolute without symbolic links: the path
 * restore writes to must reach the file without following any */
static int take_given(struct snap_set *s, const char *given)
{
	char *real = realpath(given, NULL);
	int ret;

	if (!real) {
		pr_perror("can't snapshot %s", given);
		return -1;
	}
	ret = take_path(s, real);
	free(real);
	return ret;
}

static char *cat(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s%s", a, b) < 0) {
		pr_err("out of memory");
		return NULL;
	}
	return p;
}

/* IMAGE.files.tmp.PID of a ckpt that died before its commit (no
 * image was committed with it): removed. */
static void remove_stale(const char *image)
{
	const char *slash = strrchr(image, '/');
	const char *base = slash ? slash + 1 : image;
	char *dir = slash ? dir_of(image) : strdup("."), *prefix = NULL, *end;
	struct dirent *de;
	DIR *d = NULL;
	long pid;

	if (dir && asprintf(&prefix, "%s%s.tmp.", base, SNAP_DIR_SUFFIX) > 0)
		d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		pid = strtol(de->d_name + strlen(prefix), &end, 10);
		if (*end || pid <= 0 || pid == getpid() ||
		    !(kill(pid, 0) && errno == ESRCH))
			continue;
		pr_info("removing %s, left by ckpt %ld, which died",
			de->d_name, pid);
		remove_flat(dirfd(d), de->d_name);
	}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
}

/* IMAGE.files.tmp.PID made (a stale one of ours removed first, and those
 * of ckpts that died) */
static int open_tmp(struct snap_set *s, const char *image)
{
	char suffix[48];

	remove_stale(image);
	snprintf(suffix, sizeof(suffix), "%s.tmp.%d", SNAP_DIR_SUFFIX,
		 (int)getpid());
	s->dir = cat(image, SNAP_DIR_SUFFIX);
	s->tmp = s->dir ? cat(image, suffix) : NULL;
	if (!s->tmp)
		return -1;
	remove_flat(AT_FDCWD, s->tmp);
	if (mkdir(s->tmp, 0700)) {
		pr_perror("can't create %s", s->tmp);
		return -1;
	}
	s->dirfd = open(s->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
	s->manifest = s->dirfd < 0 ? -1 :
		      openat(s->dirfd, MANIFEST, O_WRONLY | O_CREAT | O_EXCL |
			     O_CLOEXEC, 0600);
	if (s->manifest < 0) {
		pr_perror("can't create %s", s->tmp);
		return -1;
	}
	return 0;
}

int snap_take(struct snap_set *s, const char *image,
	      const struct img_fileid *ids, const uint8_t *open, uint32_t n,
	      const struct img_fileid *fifos, uint32_t nr_fifos)
{
	uint32_t i;
	int k;

	if (!snap_wanted(s))
		return 0;
	s->dirfd = s->prevfd = s->manifest = -1;
	s->files = s->bytes = s->cloned = s->copied = s->linked = 0;
	s->taken = 1;
	if (!s->in_image && open_tmp(s, image))
		return -1;
	if (!s->in_image)
		load_prev(s);
	progress_restart("snapshot", 0);
	for (k = 0; k < s->nr_paths; k++)
		if (take_given(s, s->paths[k]))
			return -1;
	for (i = 0; s->open_files && i < n; i++)
		if (open[i] && take_file(s, ids[i].path))
			return -1;
	for (i = 0; s->open_files && i < nr_fifos; i++)
		if (take_fifo(s, &fifos[i]))
			return -1;
	pr_info("snapshot of %" PRIu64 " files (%" PRIu64 " bytes): %"
		PRIu64 " reflinked, %" PRIu64 " copied, %" PRIu64
		" linked from the previous", s->files, s->bytes, s->cloned,
		s->copied, s->linked);
	progress_phase("files");
	return 0;
}

/* A copy's hash, and its MANIFEST line. */
static int hash_one(struct snap_set *s, struct snap_rec *v)
{
	char name[16], hx[2 * FILE_HASH_LEN + 1];
	int fd = -1, err;

	snprintf(name, sizeof(name), "%" PRIu32, v->f.data);
	if (v->fd >= 0) {
		if (!file_hash(v->fd, v->f.hash))
			return 0;
		pr_perror("can't hash the copy of %s", v->f.path);
		return -1;
	}
	if (v->later) {
		fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || file_hash(fd, v->f.hash) || fsync(fd)) {
			err = errno;
			if (fd >= 0)
				close(fd);
			pr_err("can't hash %s/%s (the copy of %s): %s", s->tmp,
			       name, v->f.path, strerror(err));
			return -1;
		}
		close(fd);
	}
	hex(hx, v->f.hash);
	if (dprintf(s->manifest, "%s %" PRIu64 " %" PRIu64 " %" PRIu64
		    " %" PRIu64 " %s\n", name, v->f.dev, v->f.ino, v->f.size,
		    v->f.mtime_ns, hx) < 0) {
		pr_perror("can't write %s/%s", s->tmp, MANIFEST);
		return -1;
	}
	return 0;
}

/* The data ranges of v's nameless copy as SNAPDATA records (holes
 * left out: restore leaves them holes). */
static int write_data(struct img_writer *w, const struct snap_rec *v)
{
	static char buf[IMG_MAX_CHUNK];
	off_t data, hole = 0;
	ssize_t n;

	for (;;) {
		data = lseek(v->fd, hole, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			return 0;
		hole = data < 0 ? -1 : lseek(v->fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		while (data < hole) {
			n = pread(v->fd, buf, hole - data < (off_t)sizeof(buf) ?
				  (size_t)(hole - data) : sizeof(buf), data);
			if (n <= 0)
				goto err;
			if (img_write_snapdata(w, v->f.data, data, buf, n))
				return -1;
			data += n;
		}
	}
err:
	pr_perror("can't read the copy of %s", v->f.path);
	return -1;
}

int snap_finish(struct snap_set *s, struct img_writer *w)
{
	struct snap_rec *v;
	uint32_t i;

	if (!snap_wanted(s) || !s->taken)
		return 0;
	progress_restart("hashing the snapshot", s->bytes);
	for (i = 0; i < s->nr_recs; i++)
		if (S_ISREG(s->recs[i].f.mode) && hash_one(s, &s->recs[i]))
			return -1;
	if (!s->in_image && (fsync(s->manifest) || fsync(s->dirfd))) {
		pr_perror("can't write %s", s->tmp);
		return -1;
	}
	for (i = 0; i < s->nr_recs; i++) {
		v = &s->recs[i];
		if (img_write_snapfile(w, &v->f) ||
		    (v->fd >= 0 && write_data(w, v)))
			return -1;
		if (v->fd >= 0)
			close(v->fd);
		v->fd = -1;
	}
	return 0;
}

int snap_place(struct snap_set *s)
{
	char suffix[48];

	if (!snap_wanted(s) || !s->tmp || s->in_image)
		return 0;
	snprintf(suffix, sizeof(suffix), ".old.%d", (int)getpid());
	s->old = cat(s->dir, suffix);
	if (!s->old)
		return -1;
	if (rename(s->dir, s->old)) {
		free(s->old);
		s->old = NULL;
		if (errno != ENOENT) {
			pr_perror("can't move %s aside", s->dir);
			return -1;
		}
	}
	if (rename(s->tmp, s->dir)) {
		pr_perror("can't rename %s to %s", s->tmp, s->dir);
		return -1;
	}
	s->placed = 1;
	return 0;
}

/* The state of one dump, gone. */
static void snap_end(struct snap_set *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->prevfd >= 0)
		close(s->prevfd);
	if (s->manifest >= 0)
		close(s->manifest);
	s->dirfd = s->prevfd = s->manifest = -1;
	free(s->dir);
	free(s->tmp);
	free(s->old);
	free(s->pv);
	free(s->seen);
	while (s->nr_recs) {
		rec_free(&s->recs[--s->nr_recs].f);
		if (s->recs[s->nr_recs].fd >= 0)
			close(s->recs[s->nr_recs].fd);
	}
	free(s->recs);
	s->recs = NULL;
	s->cap_recs = 0;
	s->dir = s->tmp = s->old = NULL;
	s->pv = NULL;
	s->seen = NULL;
	s->nr_pv = s->nr_seen = s->cap_seen = s->next = 0;
	s->placed = 0;
	s->taken = 0;
}

void snap_done(struct snap_set *s)
{
	if (!snap_wanted(s) || !s->taken)
		return;
	if (s->old)
		remove_flat(AT_FDCWD, s->old);
	snap_end(s);
}

void snap_abort(struct snap_set *s)
{
	if (!snap_wanted(s) || !s->taken)
		return;
	if (s->placed) {
		remove_flat(AT_FDCWD, s->dir);
		if (s->old && rename(s->old, s->dir))
			pr_perror("can't put %s back", s->dir);
	} else if (s->tmp) {
		remove_flat(AT_FDCWD, s->tmp);
	}
	snap_end(s);
}

/* A snapshot directory holds files only: each removed, then it. */
static void remove_flat(int dirfd, const char *path)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	if (unlinkat(dirfd, path, AT_REMOVEDIR) && errno != ENOENT)
		pr_perror("can't remove %s", path);
}

void snap_remove(int dirfd, const char *image)
{
	char *p = cat(image, SNAP_DIR_SUFFIX);

	if (p)
		remove_flat(dirfd, p);
	free(p);
}
