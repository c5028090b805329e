/*
 * Memory that mappings share, in one process or across the tree (and
 * that fds open, for a memfd):
 * MAP_SHARED anonymous memory (the maps show "/dev/zero (deleted)"),
 * memfds ("/memfd:NAME (deleted)") and System V segments ("/SYSVkey
 * (deleted)", whose inode number is the segment's id). Each object is
 * known by its kind and the maps' device and inode, opened once through
 * /proc/PID/map_files (root only), and its pages are read from that fd
 * with pread, holes skipped: they go in the image once, before the first
 * process, however many mappings there are.
 */
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define COPY_CHUNK	DUMP_OBJ_CHUNK
#define DELETED		" (deleted)"

static int has_prefix_suffix(const char *s, const char *pre, const char *suf)
{
	size_t n = strlen(s), a = strlen(pre), b = strlen(suf);

	return n >= a + b && !strncmp(s, pre, a) && !strcmp(s + n - b, suf);
}

/* The kind of shared object m maps (enum img_shm_kind), or 0. */
uint32_t dump_shm_kind(const struct proc_map *m)
{
	if (!m->path)
		return 0;
	if (m->shared && !strcmp(m->path, "/dev/zero" DELETED))
		return IMG_SHM_ANON;
	if (has_prefix_suffix(m->path, "/memfd:", DELETED))
		return IMG_SHM_MEMFD;
	if (m->shared && has_prefix_suffix(m->path, "/SYSV", DELETED))
		return IMG_SHM_SYSV;
	return 0;
}

/* The object of kind on dev and ino, of the IPC namespace ipcns (0:
 * ckpt's; System V ids are per namespace) */
static struct dump_shm_obj *find_obj(const struct dump_shm_table *t,
				     uint32_t kind, uint64_t dev, uint64_t ino,
				     uint64_t ipcns)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (t->objs[i].shm.kind == kind && t->objs[i].dev == dev &&
		    t->objs[i].ino == ino && t->objs[i].ipcns == ipcns)
			return &t->objs[i];
	return NULL;
}

struct dump_shm_obj *dump_shm_find(const struct dump_shm_table *t,
				   uint32_t kind, uint64_t dev, uint64_t ino)
{
	return find_obj(t, kind, dev, ino, 0);
}

/* "/memfd:NAME (deleted)" -> NAME */
static char *memfd_name(const char *path)
{
	size_t n = strlen(path) - strlen("/memfd:") - strlen(DELETED);

	return strndup(path + strlen("/memfd:"), n);
}

/* System V ids are per IPC namespace: the target's (its inode), 0 when
 * it is ours, or -1 when /proc does not say */
static uint64_t ipc_ns_of(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	if (stat("/proc/self/ns/ipc", &a) || stat(path, &b))
		return (uint64_t)-1;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev ? 0 : b.st_ino;
}

struct sysv_stat {
	int id;
	struct shmid_ds ds;
};

static int stat_segment(void *arg)
{
	struct sysv_stat *st = arg;

	return shmctl(st->id, IPC_STAT, &st->ds) < 0 ? -1 : 0;
}

/*
 * The segment's fields, read in its namespace: ours, or one of the
 * tree's (entered for that), which dump_ipcns_check_shms() checks later
 * is one the image keeps, with a SYSV record that holds the bytes.
 */
static int sysv_fields(struct dump_ctx *c, struct dump_shm_obj *o)
{
	struct img_shm *s = &o->shm;
	struct sysv_stat st;
	int ret;

	memset(&st, 0, sizeof(st));
	st.id = o->ino;

	if (o->ipcns == (uint64_t)-1) {
		pr_perror("can't find the IPC namespace of %d", c->pid);
		return -1;
	}
	ret = o->ipcns ? dump_in_ipcns(c->pid, stat_segment, &st) :
			 stat_segment(&st);
	if (ret && errno != EINVAL) {
		pr_perror("can't read System V segment %llu of %d",
			  (unsigned long long)o->ino, c->pid);
		return -1;
	}
	/* the maps show the segment's id, which another segment may have
	 * in the namespace the process is in now (unshare after shmat) */
	if (ret || st.ds.shm_segsz != s->size) {
		pr_err("can't dump System V segment %llu of %d: it is not the segment of that id in the process's IPC namespace",
		       (unsigned long long)o->ino, c->pid);
		errno = EOPNOTSUPP;
		return -1;
	}
	s->shmid = o->ino;
	s->key = st.ds.shm_perm.__key;
	s->mode = st.ds.shm_perm.mode & 0777;
	s->uid = st.ds.shm_perm.uid;
	s->gid = st.ds.shm_perm.gid;
	if (st.ds.shm_perm.mode & SHM_DEST)
		s->flags |= IMG_SHM_REMOVED;
	if (o->ipcns)
		s->flags |= IMG_SHM_IPCNS;
	return 0;
}

/* What the object's inode says: size, mode, owner, seals, and that it is
 * shmem (hugetlbfs memory is not supported yet). what is "mapping A-B" or
 * "fd N", path what the kernel shows. */
static int inode_fields(struct dump_ctx *c, const char *what,
			const char *path, struct dump_shm_obj *o)
{
	struct statfs sfs;
	struct stat st;
	int seals;

	if (fstat(o->fd, &st) || fstatfs(o->fd, &sfs)) {
		pr_perror("can't stat %s of %d", path, c->pid);
		return -1;
	}
	if (sfs.f_type != TMPFS_MAGIC) {
		pr_err("can't dump %s of %d: %s is not shmem (hugetlb?), which is not supported yet",
		       what, c->pid, path);
		errno = EOPNOTSUPP;
		return -1;
	}
	o->shm.size = st.st_size;
	o->shm.mode = st.st_mode & 07777;
	o->shm.uid = st.st_uid;
	o->shm.gid = st.st_gid;
	if (o->shm.kind != IMG_SHM_MEMFD)
		return 0;
	seals = fcntl(o->fd, F_GET_SEALS);
	if (seals < 0) {
		pr_perror("can't read the seals of %s of %d", path, c->pid);
		return -1;
	}
	o->shm.seals = seals;
	o->shm.name = memfd_name(path);
	return o->shm.name ? 0 : -1;
}

/* The object of kind on dev and ino (in the IPC namespace ipcns, as
 * ipc_ns_of() says), opened by proc (a /proc link of the target); what
 * and path as for inode_fields(). */
static struct dump_shm_obj *add_obj(struct dump_ctx *c, uint32_t kind,
				    uint64_t dev, uint64_t ino, uint64_t ipcns,
				    const char *proc, const char *what,
				    const char *path)
{
	struct dump_shm_table *t = c->shms;
	struct dump_shm_obj *o;

	o = realloc(t->objs, (t->n + 1) * sizeof(*o));
	if (!o)
		return NULL;
	t->objs = o;
	o = &t->objs[t->n];
	memset(o, 0, sizeof(*o));
	o->shm.kind = kind;
	o->dev = dev;
	o->ino = ino;
	o->ipcns = ipcns;
	o->pid = c->pid;
	o->fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0) {
		pr_perror("can't open %s (%s)", proc, path);
		return NULL;
	}
	t->n++;		/* from here on freed with the table */
	if (inode_fields(c, what, path, o) ||
	    (kind == IMG_SHM_SYSV && sysv_fields(c, o)))
		return NULL;
	o->shm.id = t->n;
	return o;
}

/* Is link (an fd's) a memfd? */
int dump_memfd_link(const char *link)
{
	return has_prefix_suffix(link, "/memfd:", DELETED);
}

/* An fd on a memfd: the file table opens the object again (kind MEMFD). */
int dump_shm_fd(struct dump_ctx *c, struct img_fd *f, const char *link)
{
	char proc[64], what[32];

	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", c->pid, f->fd);
	snprintf(what, sizeof(what), "fd %d", f->fd);
	if (!dump_shm_find(c->shms, IMG_SHM_MEMFD, f->dev, f->ino) &&
	    !add_obj(c, IMG_SHM_MEMFD, f->dev, f->ino, 0, proc, what, link)) {
		if (errno != EOPNOTSUPP)
			dump_perror(c, "can't read %s, fd %d of %d", link,
				    f->fd, c->pid);
		errno = EOPNOTSUPP;	/* said */
		return -1;
	}
	f->type = IMG_FD_FILE;
	return 0;
}

/* Make v map the object m shows, found or added to the tree's table. */
int dump_shm_link(struct dump_ctx *c, const struct proc_map *m,
		  struct img_vma *v, uint32_t kind)
{
	uint64_t ipcns = kind == IMG_SHM_SYSV ? ipc_ns_of(c->pid) : 0;
	struct dump_shm_obj *o = find_obj(c->shms, kind, m->dev, m->ino, ipcns);
	char proc[96], what[64];

	snprintf(proc, sizeof(proc), "/proc/%d/map_files/%llx-%llx", c->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	snprintf(what, sizeof(what), "mapping %llx-%llx",
		 (unsigned long long)m->start, (unsigned long long)m->end);
	if (!o)
		o = add_obj(c, kind, m->dev, m->ino, ipcns, proc, what,
			    m->path);
	if (!o)
		return -1;
	v->shm = o->shm.id;
	if (m->shared && !(m->vmflags & PROC_VMF_MAYWRITE))
		v->flags |= IMG_VMA_NOWRITE;
	return 0;
}

/* off..off+len of the object, zeros past its end, as PAGES records. */
static int write_range(struct dump_ctx *c, const struct dump_obj *o,
		       uint8_t *buf, uint64_t off, uint64_t len)
{
	uint64_t n, have;

	if (img_write_pages_begin(c->w, off, len / c->page_size))
		return -1;
	while (len) {
		n = len < COPY_CHUNK ? len : COPY_CHUNK;
		have = off < o->size ? o->size - off : 0;
		if (have > n)
			have = n;
		if (dump_interrupted(c))
			return -1;
		if (pread_full(o->fd, buf, have, off)) {
			pr_perror("can't read %s %u at %llu", o->what, o->id,
				  (unsigned long long)off);
			return -1;
		}
		memset(buf + have, 0, n - have);
		if (img_write_pages_data(c->w, buf, n))
			return -1;
		off += n;
		len -= n;
	}
	return img_write_pages_end(c->w);
}

/*
 * The pages of o that hold data (present or swapped, or a file's blocks),
 * as SEEK_DATA and SEEK_HOLE see them: never the holes. buf holds
 * COPY_CHUNK bytes, or is NULL to count the bytes only, in *bytes.
 */
int dump_obj_pages(struct dump_ctx *c, const struct dump_obj *o,
		   uint8_t *buf, uint64_t *bytes)
{
	uint64_t ps = c->page_size, end = (o->size + ps - 1) / ps * ps;
	off_t data = 0, hole;

	*bytes = 0;
	while ((uint64_t)data < end) {
		data = lseek(o->fd, data, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		hole = data < 0 ? -1 : lseek(o->fd, data, SEEK_HOLE);
		if (hole < 0) {
			pr_perror("can't find the data of %s %u", o->what,
				  o->id);
			return -1;
		}
		data = data / ps * ps;
		hole = ((uint64_t)hole + ps - 1) / ps * ps;
		if ((uint64_t)hole > end)
			hole = end;
		if (hole > data && buf && write_range(c, o, buf, data,
						      hole - data))
			return -1;
		*bytes += hole > data ? hole - data : 0;
		data = hole;
	}
	return 0;
}

static int write_obj(struct dump_ctx *c, struct dump_shm_obj *o,
		     uint8_t *buf)
{
	struct dump_obj d = { o->fd, o->shm.size, "shared memory object",
			      o->shm.id };
	uint64_t bytes;

	if (img_write_shm(c->w, &o->shm))
		return -1;
	if (o->shm.flags & IMG_SHM_IPCNS)
		return 0;	/* its SYSV record holds the bytes */
	return dump_obj_pages(c, &d, buf, &bytes);
}

/* Every object of the tree, after the header and before any process. */
int dump_write_shms(struct dump_ctx *c)
{
	uint8_t *buf;
	uint32_t i;
	int ret = 0;

	if (!c->shms->n)
		return 0;
	buf = malloc(COPY_CHUNK);
	if (!buf)
		return -1;
	for (i = 0; i < c->shms->n && !ret; i++)
		ret = write_obj(c, &c->shms->objs[i], buf);
	free(buf);
	return ret;
}

void dump_free_shms(struct dump_shm_table *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		if (t->objs[i].fd >= 0)
			close(t->objs[i].fd);
		free(t->objs[i].shm.name);
	}
	free(t->objs);
	t->objs = NULL;
	t->n = 0;
}
