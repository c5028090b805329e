/*
 * File locks the process holds, as its fdinfo shows them ("lock:" lines:
 * kind, mode, type, pid, dev:ino, start, end): POSIX record locks (the
 * process's own, listed under the fd they were taken through), OFD and
 * flock locks (the open file description's, listed under every fd of
 * it), and leases (the description's, ACTIVE: one being broken has a
 * breaker waiting and a deadline running, which can't be made again).
 * restore takes each again (restore/locks.c), so that another process
 * trying a conflicting lock fails as it did. Anything else is refused,
 * naming the fd.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

static const struct {
	const char *name;
	uint32_t kind;
} kinds[] = {
	{ "POSIX", IMG_LOCK_POSIX },
	{ "OFDLCK", IMG_LOCK_OFD },
	{ "FLOCK", IMG_LOCK_FLOCK },
	{ "LEASE", IMG_LOCK_LEASE },
};

static int add_lock(struct img_process *p, const struct img_lock *l)
{
	struct img_lock *n = realloc(p->locks, (p->nr_locks + 1) *
				     sizeof(*n));

	if (!n)
		return -1;
	p->locks = n;
	p->locks[p->nr_locks++] = *l;
	return 0;
}

/*
 * One "lock:" line, after its "N:" id: "POSIX  ADVISORY  WRITE 1234
 * 08:01:5678 0 EOF". 0 with l filled, or -1 when it is no lock we keep
 * (why says what it is).
 */
static int parse_lock(const char *s, struct img_lock *l, char *why,
		      size_t len)
{
	char kind[16], mode[16], type[16], end[24];
	unsigned long long start;
	size_t i;

	if (sscanf(s, "%15s %15s %15s %*d %*s %llu %23s", kind, mode, type,
		   &start, end) != 5) {
		snprintf(why, len, "an unknown lock (\"%.60s\")", s);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kind, kinds[i].name))
			l->kind = kinds[i].kind;
	if (l->kind == IMG_LOCK_LEASE && strcmp(mode, "ACTIVE")) {
		snprintf(why, len, "a lease being broken (%s), which can't be restored exactly",
			 mode);
		return -1;
	}
	if (!l->kind || (strcmp(mode, "ADVISORY") &&
			 l->kind != IMG_LOCK_LEASE) ||
	    (strcmp(type, "READ") && strcmp(type, "WRITE"))) {
		snprintf(why, len, "a %s %s %s lock, which is not supported yet",
			 kind, mode, type);
		return -1;
	}
	l->write = !strcmp(type, "WRITE");
	l->start = start;
	l->len = strcmp(end, "EOF") ? strtoull(end, NULL, 10) - start + 1 : 0;
	if (l->kind == IMG_LOCK_FLOCK || l->kind == IMG_LOCK_LEASE)
		l->start = l->len = 0;
	return 0;
}

int dump_locks_info(struct dump_ctx *c, struct img_fd *f, const char *s)
{
	char why[160];
	const char *p, *nl;
	struct img_lock l;
	int ret = 0;

	for (p = strstr(s, "\nlock:"); p && !ret; p = nl) {
		nl = strstr(p + 1, "\nlock:");
		memset(&l, 0, sizeof(l));
		l.fd = f->fd;
		p = strchr(p + 6, ':');		/* after the lock's id */
		if (!p || parse_lock(p + 1, &l, why, sizeof(why))) {
			pr_err("can't dump fd %d of %d: %s holds %s", f->fd,
			       c->pid, f->path ? f->path : "its file",
			       p ? why : "an unknown lock");
			errno = EOPNOTSUPP;
			ret = -1;
		} else if (add_lock(&c->proc, &l)) {
			ret = -1;
		}
	}
	return ret;
}

static int locks_of_fd(struct dump_ctx *c, struct img_fd *f)
{
	char path[64], *s;
	int ret, saved;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", c->pid, f->fd);
	s = read_file_str(path, NULL);
	if (!s)
		return errno == ENOENT ? 0 : -1;
	ret = dump_locks_info(c, f, s);
	saved = errno;
	free(s);
	errno = saved;
	return ret;
}

int dump_collect_locks(struct dump_ctx *c)
{
	uint32_t i;

	for (i = 0; i < c->proc.nr_fds; i++) {
		if (c->proc.fds[i].type == IMG_FD_NULL)
			continue;
		if (locks_of_fd(c, &c->proc.fds[i])) {
			if (errno != EOPNOTSUPP)
				dump_perror(c, "can't read the locks of fd %d of %d",
					    c->proc.fds[i].fd, c->pid);
			return -1;
		}
	}
	return 0;
}

int dump_write_locks(struct dump_ctx *c)
{
	uint32_t i;

	for (i = 0; i < c->proc.nr_locks; i++)
		if (img_write_lock(c->w, &c->proc.locks[i]))
			return -1;
	return 0;
}
