/*
 * restore --fd N=PATH[:FLAGS]: fd N of the root process is PATH instead
 * of what the image has there, so that one image can be restarted many
 * times, each run reading its own input (restore(1)).
 *
 * Only fd N of the root changes: an open file description it shared with
 * other fds or processes is restored for them as it was (the description
 * is made by files.c for the whole tree; the root's fd N is then one
 * process's own open of PATH). PATH is opened in the root itself, before
 * it changes directory, so a relative PATH is relative to restore's own.
 *
 * FLAGS, comma-separated: r, w, rw or a choose the access (w truncates,
 * w, rw and a create PATH if need be); none keeps the original fd's
 * access and status flags and creates nothing. pos seeks to the original
 * fd's offset instead of 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

/* What open(2) must not do again: the file exists, its data is input. */
#define NOT_AGAIN	(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC)

static const struct {
	const char *name;
	int flags;
} access_words[] = {
	{ "r", O_RDONLY },
	{ "w", O_WRONLY | O_CREAT | O_TRUNC },
	{ "rw", O_RDWR | O_CREAT },
	{ "a", O_WRONLY | O_CREAT | O_APPEND },
};

/* One word of FLAGS into o: 0, or -1 when it is none of ours. */
static int parse_word(struct restore_fd_opt *o, const char *w, size_t len)
{
	size_t i;

	if (len == 3 && !strncmp(w, "pos", 3)) {
		o->pos = 1;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(access_words); i++) {
		if (strlen(access_words[i].name) == len &&
		    !strncmp(w, access_words[i].name, len) && o->flags < 0) {
			o->flags = access_words[i].flags;
			return 0;
		}
	}
	return -1;
}

static int parse_flags(struct restore_fd_opt *o, const char *s)
{
	size_t len;

	while (*s) {
		len = strcspn(s, ",");
		if (parse_word(o, s, len))
			return -1;
		s += len + !!s[len];
	}
	return 0;
}

int restore_fd_opt_parse(struct restore_run *run, char *arg)
{
	struct restore_fd_opt *o;
	char *eq, *path, *colon, *end;
	long n;

	n = strtol(arg, &eq, 10);
	if (eq == arg || *eq != '=' || n < 0 || n > INT32_MAX || !eq[1]) {
		pr_err("--fd takes N=PATH[:FLAGS], not %s", arg);
		return -1;
	}
	o = realloc(run->fd_opts, (run->nr_fd_opts + 1) * sizeof(*o));
	if (!o) {
		pr_err("out of memory");
		return -1;
	}
	run->fd_opts = o;
	o += run->nr_fd_opts;
	memset(o, 0, sizeof(*o));
	o->fd = n;
	o->flags = -1;
	o->path = path = eq + 1;
	/* the last colon starts FLAGS: "a:b:" is the file a:b */
	colon = strrchr(path, ':');
	end = colon ? colon : path + strlen(path);
	if ((colon && parse_flags(o, colon + 1)) || end == path) {
		pr_err("--fd %s: bad FLAGS (r, w, rw, a, pos)", arg);
		return -1;
	}
	if (colon)
		*colon = '\0';
	run->nr_fd_opts++;
	return 0;
}

static const struct img_fd *root_fd(const struct restore_run *run, int fd)
{
	const struct img_process *p = &run->img->procs[0];
	uint32_t i;

	for (i = 0; i < p->nr_fds; i++)
		if (p->fds[i].fd == fd)
			return &p->fds[i];
	return NULL;
}

/* The offset of f where it has one: by its own or by its shared file. */
static int fd_pos(const struct restore_run *run, const struct img_fd *f,
		  uint64_t *pos)
{
	const struct img_file *file;

	if (f->type == IMG_FD_REG) {
		*pos = f->pos;
		return 0;
	}
	if (f->type != IMG_FD_FILE)
		return -1;
	file = img_find_file(run->img, f->file);
	if (!file || (file->kind != IMG_FILE_REG &&
		      file->kind != IMG_FILE_GHOST &&
		      file->kind != IMG_FILE_MEMFD))
		return -1;
	*pos = file->pos;
	return 0;
}

int restore_fd_opts_check(struct restore_run *run)
{
	struct restore_fd_opt *o;
	const struct img_fd *f;
	uint32_t i;

	for (i = 0; i < run->nr_fd_opts; i++) {
		o = &run->fd_opts[i];
		f = root_fd(run, o->fd);
		if (!f) {
			pr_err("can't replace fd %d: the root process %d of %s had no fd %d",
			       o->fd, run->img->procs[0].proc.pid, run->path,
			       o->fd);
			return -1;
		}
		if (o->pos && fd_pos(run, f, &o->offset)) {
			pr_err("can't keep the offset of fd %d of %d for %s: it had none",
			       o->fd, run->img->procs[0].proc.pid, o->path);
			return -1;
		}
	}
	return 0;
}

const struct restore_fd_opt *restore_fd_opt(const struct restore_proc *c,
					    int fd)
{
	const struct restore_run *run = c->run;
	uint32_t i;

	if (c != &run->procs[0])
		return NULL;
	/* given twice, the last one counts */
	for (i = run->nr_fd_opts; i-- > 0;)
		if (run->fd_opts[i].fd == fd)
			return &run->fd_opts[i];
	return NULL;
}

int restore_fd_opt_open(const struct restore_fd_opt *o, const struct img_fd *f)
{
	int flags = o->flags >= 0 ? o->flags : (int)f->flags & ~NOT_AGAIN;
	int fd, err;

	fd = open(o->path, flags, 0666);
	if (fd < 0)
		return -1;
	if (o->pos && lseek(fd, o->offset, SEEK_SET) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
