/*
 * Files that no path reaches any more: deleted while a process of the tree
 * holds them, or replaced by another file of the same name (the kernel's
 * links end in " (deleted)" either way), used as an fd, a mapping or the
 * current directory. Such a file (a "ghost") cannot be reopened by path,
 * so its contents go in the image: opened once through /proc (the fd, the
 * mapping's map_files entry, or cwd), known by its device and inode, and
 * read over its SEEK_DATA ranges so that holes stay holes. A file with
 * more data than --ghost-limit is refused, naming it, as is one that is
 * still linked elsewhere (restoring a copy would split it in two) or whose
 * directory is gone too (restore makes it again there).
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define DELETED		" (deleted)"

static int has_deleted(const char *link)
{
	size_t n = strlen(link), k = strlen(DELETED);

	return link[0] == '/' && n > k && !strcmp(link + n - k, DELETED);
}

/*
 * Does link, a /proc link to a file that st describes, show one no path
 * reaches? A file really named "x (deleted)" is still there under it.
 */
int dump_ghost_link(const char *link, const struct stat *st)
{
	struct stat at;

	if (!has_deleted(link))
		return 0;
	return stat(link, &at) || at.st_dev != st->st_dev ||
	       at.st_ino != st->st_ino;
}

struct dump_ghost *dump_ghost_find(const struct dump_ghost_table *t,
				   uint64_t dev, uint64_t ino)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (t->objs[i].g.dev == dev && t->objs[i].g.ino == ino)
			return &t->objs[i];
	return NULL;
}

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ULL + ts->tv_nsec;
}

/* Why a ghost cannot be kept, in why; 0 if it can. */
static int ghost_refused(struct dump_ctx *c, const struct dump_ghost *d,
			 const struct stat *st, char *why, size_t len)
{
	const char *link = d->g.path, *slash = strrchr(link, '/');
	char dir[PATH_MAX];
	struct stat ds;
	uint64_t bytes;
	uint32_t i;

	if (st->st_nlink) {
		snprintf(why, len, "%s" DELETED " is still linked elsewhere (%lu links), which is not supported",
			 link, (unsigned long)st->st_nlink);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash == link ? 1 :
		 (int)(slash - link), link);
	if (stat(dir, &ds) || !S_ISDIR(ds.st_mode)) {
		snprintf(why, len, "%s" DELETED ": its directory %s is gone too",
			 link, dir);
		return 1;
	}
	if (ds.st_dev != st->st_dev) {
		snprintf(why, len, "%s" DELETED " is not on the file system of %s, which is not supported yet",
			 link, dir);
		return 1;
	}
	for (i = 0; S_ISDIR(st->st_mode) && i < c->ghosts->n; i++) {
		if (!S_ISDIR(c->ghosts->objs[i].g.mode) ||
		    strcmp(c->ghosts->objs[i].g.path, link))
			continue;
		snprintf(why, len, "%s" DELETED " is one of two deleted directories of that name",
			 link);
		return 1;
	}
	bytes = 0;
	if (S_ISREG(st->st_mode) &&
	    dump_obj_pages(c, &(struct dump_obj){ d->fd, st->st_size, link, 0 },
			   NULL, &bytes))
		return -1;
	if (bytes > c->o->ghost_limit) {
		snprintf(why, len, "%s" DELETED " holds %llu bytes, over the ghost limit of %llu (--ghost-limit)",
			 link, (unsigned long long)bytes,
			 (unsigned long long)c->o->ghost_limit);
		return 1;
	}
	return 0;
}

static void fill_ghost(struct img_ghost *g, const struct stat *st)
{
	g->mode = st->st_mode;
	g->uid = st->st_uid;
	g->gid = st->st_gid;
	g->size = S_ISREG(st->st_mode) ? st->st_size : 0;
	g->atime_ns = ns_of(&st->st_atim);
	g->mtime_ns = ns_of(&st->st_mtim);
	g->dev = st->st_dev;
	g->ino = st->st_ino;
}

/*
 * The ghost that proc (a /proc link of the target) leads to, added to the
 * tree's table if new; link is what the kernel shows. NULL with why set
 * when it is refused, NULL with why empty on an error (errno).
 */
static struct dump_ghost *ghost_of(struct dump_ctx *c, const char *proc,
				   const char *link, char *why, size_t len)
{
	struct dump_ghost_table *t = c->ghosts;
	struct dump_ghost *d;
	struct stat st;
	int fd, r;

	why[0] = '\0';
	/* a FIFO opened for reading would wake a writer waiting for one */
	fd = stat(proc, &st) ? -1 : open(proc, S_ISFIFO(st.st_mode) ?
		O_PATH | O_CLOEXEC : O_RDONLY | O_NOATIME | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {	/* the same file, held now */
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	d = dump_ghost_find(t, st.st_dev, st.st_ino);
	if (d || !(d = realloc(t->objs, (t->n + 1) * sizeof(*d)))) {
		close(fd);
		return d;
	}
	t->objs = d;
	d = &t->objs[t->n];
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->g.path = strndup(link, strlen(link) - strlen(DELETED));
	if (!d->g.path) {
		close(fd);
		return NULL;
	}
	r = ghost_refused(c, d, &st, why, len);
	if (r) {
		if (r < 0)
			why[0] = '\0';
		free(d->g.path);
		close(fd);
		return NULL;
	}
	fill_ghost(&d->g, &st);
	d->g.id = ++t->n;
	return d;
}

int dump_ghost_fd(struct dump_ctx *c, struct img_fd *f, const char *link)
{
	char proc[64], why[PATH_MAX + 160];

	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", c->pid, f->fd);
	if (ghost_of(c, proc, link, why, sizeof(why))) {
		/* an O_PATH fd stays one, opened through the ghost by name
		 * (restore_ghost_path()); any other is dump-filetab.c's:
		 * kind GHOST, or FIFO */
		if (f->type != IMG_FD_PATH)
			f->type = IMG_FD_FILE;
		return 0;
	}
	if (why[0])
		return dump_fd_unsupported(c->o, c->pid, f, link, why);
	dump_perror(c, "can't read %s, fd %d of %d", link, f->fd, c->pid);
	errno = EOPNOTSUPP;	/* said */
	return -1;
}

int dump_ghost_vma(struct dump_ctx *c, const struct proc_map *m,
		   struct img_vma *v)
{
	char proc[96], why[PATH_MAX + 160];
	struct dump_ghost *d;

	snprintf(proc, sizeof(proc), "/proc/%d/map_files/%llx-%llx", c->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	d = ghost_of(c, proc, m->path, why, sizeof(why));
	if (!d) {
		if (why[0])
			pr_err("can't dump mapping %llx-%llx of %d: %s",
			       (unsigned long long)m->start,
			       (unsigned long long)m->end, c->pid, why);
		else
			dump_perror(c, "can't read %s, mapped at %llx in %d",
				    m->path, (unsigned long long)m->start,
				    c->pid);
		errno = EOPNOTSUPP;
		return -1;
	}
	v->flags |= IMG_VMA_GHOST;
	if (m->shared && !(m->vmflags & PROC_VMF_MAYWRITE))
		v->flags |= IMG_VMA_NOWRITE;
	v->dev = d->g.dev;
	v->ino = d->g.ino;
	return 0;
}

/* Does another ghost of d's type have d's path? The image names a cwd
 * or an exe by path. */
static int path_taken(const struct dump_ghost_table *t,
		      const struct dump_ghost *d)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (&t->objs[i] != d &&
		    S_ISDIR(t->objs[i].g.mode) == S_ISDIR(d->g.mode) &&
		    !strcmp(t->objs[i].g.path, d->g.path))
			return 1;
	return 0;
}

/* A current directory deleted, an executable deleted or replaced (what
 * "PATH (deleted)" in the image names): a ghost. name: "cwd" or "exe". */
static int ghost_link(struct dump_ctx *c, const char *name, const char *link)
{
	char proc[64], why[PATH_MAX + 160];
	struct dump_ghost *d;
	struct stat st;

	snprintf(proc, sizeof(proc), "/proc/%d/%s", c->pid, name);
	if (stat(proc, &st) || !dump_ghost_link(link, &st))
		return 0;
	d = ghost_of(c, proc, link, why, sizeof(why));
	if (d && path_taken(c->ghosts, d))
		snprintf(why, sizeof(why), "%s is one of two deleted files of that name",
			 link);
	else if (d)
		return 0;
	if (why[0])
		pr_err("can't dump the %s of %d: %s", name, c->pid, why);
	else
		dump_perror(c, "can't read %s, the %s of %d", link, name,
			    c->pid);
	return -1;
}

int dump_ghost_proc(struct dump_ctx *c)
{
	return ghost_link(c, "cwd", c->proc.proc.cwd) ||
	       ghost_link(c, "exe", c->proc.proc.exe) ? -1 : 0;
}

int dump_write_ghosts(struct dump_ctx *c)
{
	struct dump_ghost_table *t = c->ghosts;
	uint8_t *buf;
	uint64_t bytes;
	uint32_t i;
	int ret = 0;

	if (!t->n)
		return 0;
	buf = malloc(DUMP_OBJ_CHUNK);
	if (!buf)
		return -1;
	for (i = 0; i < t->n && !ret; i++) {
		struct dump_obj o = { t->objs[i].fd, t->objs[i].g.size,
				      "ghost", t->objs[i].g.id };

		ret = img_write_ghost(c->w, &t->objs[i].g) ||
		      dump_obj_pages(c, &o, buf, &bytes) ? -1 : 0;
	}
	free(buf);
	return ret;
}

void dump_free_ghosts(struct dump_ghost_table *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		close(t->objs[i].fd);
		free(t->objs[i].g.path);
	}
	free(t->objs);
	t->objs = NULL;
	t->n = 0;
}
