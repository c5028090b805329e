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
 * record per file and directory (path, mode, owner, times, size, the
 * hash), which is what restore trusts; MANIFEST only serves ckpt run's
 * next checkpoint, which links the copy of a file unchanged since
 * (same device, inode, size and mtime) instead of copying it again.
 *
 * The copies go to IMAGE.files.tmp.PID, renamed to IMAGE.files just
 * before the image is committed (an older IMAGE.files is kept aside
 * until the commit, and put back if it fails). Each copy is the
 * cheapest the filesystem has (util/filecopy.c): a reflink, else the
 * data ranges only. The tree is frozen all the while, so the copy is the
 * files as the processes saw them; the hash (BLAKE2b) is of the file as
 * it was copied, which restore checks the copy against.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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

int snap_check_sink(const char *cmd, const char *const *outputs,
		    int nr_outputs, int encrypted)
{
	const char *why = NULL;

	if (nr_outputs != 1)
		why = "one image file (-o), not several";
	else if (!strcmp(outputs[0], "-") || strstr(outputs[0], "://"))
		why = "an image in a local file, not a stream";
	else if (encrypted)
		why = "an unencrypted image (the copies are not encrypted)";
	if (!why)
		return 0;
	fprintf(stderr, "%s: --snapshot needs %s\n", cmd, why);
	return -1;
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
	r->atime_ns = ns(&st->st_atim);
	r->mtime_ns = ns(&st->st_mtim);
	r->path = (char *)path;
}

/* The copy of in as tmp/name, durable, its hash in r: a link to prev's
 * if the file did not change since, else a reflink or a copy. */
static int copy_one(struct snap_set *s, int in, const struct stat *st,
		    struct img_snapfile *r, const char *name)
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
	how = file_copy(in, out, r->size);
	/* the hash of the file, not of its copy: the same bytes (the tree is
	 * frozen), but the job's file is likely in the page cache and a
	 * fresh reflink is not (a GiB read back from disk, for nothing) */
	if (how < 0 || fsync(out) || file_hash(in, r->hash)) {
		close(out);
		return -1;
	}
	if (how == FILE_CLONED)
		s->cloned++;
	else
		s->copied++;
	return close(out);
}

/* One regular file: its copy, its MANIFEST line, its record. */
static int take_file(struct snap_set *s, struct img_writer *w,
		     const char *path)
{
	char name[16], hx[2 * FILE_HASH_LEN + 1];
	struct img_snapfile r;
	struct stat st;
	int fd, k, ret = -1;

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
	if (copy_one(s, fd, &st, &r, name)) {
		pr_perror("can't copy %s into %s", path, s->tmp);
		goto out;
	}
	hex(hx, r.hash);
	if (dprintf(s->manifest, "%s %" PRIu64 " %" PRIu64 " %" PRIu64
		    " %" PRIu64 " %s\n", name, r.dev, r.ino, r.size,
		    r.mtime_ns, hx) < 0) {
		pr_perror("can't write %s/%s", s->tmp, MANIFEST);
		goto out;
	}
	s->files++;
	s->bytes += r.size;
	ret = img_write_snapfile(w, &r);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int take_path(struct snap_set *s, struct img_writer *w,
		     const char *path);

/* A directory: its record, then what it holds, sorted (the image the
 * same for the same tree). */
static int take_dir(struct snap_set *s, struct img_writer *w,
		    const char *path, const struct stat *st)
{
	struct dirent **ents = NULL;
	struct img_snapfile r;
	char *sub = NULL;
	int i, n, ret = -1;

	fill_rec(&r, path, st);
	if (img_write_snapfile(w, &r))
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
		if (take_path(s, w, sub))
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

/* What restore can put back exactly: regular files and directories. */
static int take_path(struct snap_set *s, struct img_writer *w,
		     const char *path)
{
	struct stat st;

	if (lstat(path, &st)) {
		pr_perror("can't snapshot %s", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return take_dir(s, w, path, &st);
	if (S_ISREG(st.st_mode))
		return take_file(s, w, path);
	pr_err("can't snapshot %s: not a regular file or directory", path);
	return -1;
}

/* --snapshot PATH, made absolute without symbolic links: the path
 * restore writes to must reach the file without following any */
static int take_given(struct snap_set *s, struct img_writer *w,
		      const char *given)
{
	char *real = realpath(given, NULL);
	int ret;

	if (!real) {
		pr_perror("can't snapshot %s", given);
		return -1;
	}
	ret = take_path(s, w, real);
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

/* IMAGE.files.tmp.PID made (a stale one of ours removed first) */
static int open_tmp(struct snap_set *s, const char *image)
{
	char suffix[48];

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
	      struct img_writer *w)
{
	uint32_t i;
	int k;

	if (!snap_wanted(s))
		return 0;
	s->dirfd = s->prevfd = s->manifest = -1;
	s->files = s->bytes = s->cloned = s->copied = s->linked = 0;
	if (open_tmp(s, image))
		return -1;
	load_prev(s);
	progress_restart("snapshot", 0);
	for (k = 0; k < s->nr_paths; k++)
		if (take_given(s, w, s->paths[k]))
			return -1;
	for (i = 0; s->open_files && i < n; i++)
		if (open[i] && take_file(s, w, ids[i].path))
			return -1;
	if (fsync(s->manifest) || fsync(s->dirfd)) {
		pr_perror("can't write %s", s->tmp);
		return -1;
	}
	pr_info("snapshot of %" PRIu64 " files (%" PRIu64 " bytes): %"
		PRIu64 " reflinked, %" PRIu64 " copied, %" PRIu64
		" linked from the previous", s->files, s->bytes, s->cloned,
		s->copied, s->linked);
	progress_phase("files");
	return 0;
}

int snap_place(struct snap_set *s)
{
	char suffix[48];

	if (!snap_wanted(s) || !s->tmp)
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
	s->dir = s->tmp = s->old = NULL;
	s->pv = NULL;
	s->seen = NULL;
	s->nr_pv = s->nr_seen = s->cap_seen = s->next = 0;
	s->placed = 0;
}

void snap_done(struct snap_set *s)
{
	if (!snap_wanted(s) || !s->tmp)
		return;
	if (s->old)
		remove_flat(AT_FDCWD, s->old);
	snap_end(s);
}

void snap_abort(struct snap_set *s)
{
	if (!snap_wanted(s) || !s->tmp)
		return;
	if (s->placed) {
		remove_flat(AT_FDCWD, s->dir);
		if (s->old && rename(s->old, s->dir))
			pr_perror("can't put %s back", s->dir);
	} else {
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
