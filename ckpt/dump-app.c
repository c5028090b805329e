/*
 * dump-app: what the dump does for application plugins (app.h: their
 * events and the records they put while the tree is frozen) and for
 * restore's validation of files: the identity of every regular file the
 * tree has open or mapped (FILEID records: device, inode, size, mtime,
 * and with --validate=hash the content's hash), written after the FILE
 * records.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "ckpt/snapshot.h"
#include "plugins/appset.h"
#include "util/filehash.h"

int dump_app_event(const struct dump_opts *o, enum ckpt_app_event ev)
{
	int veto = ev == CKPT_APP_BEFORE_FREEZE || ev == CKPT_APP_FROZEN;

	if (!o->apps)
		return 0;
	return app_set_event(o->apps, ev, o->pid, o->outputs[0], veto);
}

struct fileids {
	struct img_fileid *v;
	uint8_t *open;		/* per v[]: through an fd or a shared
				 * mapping, not only mapped privately */
	uint32_t n, cap;
};

/* Files of the kernel's making: their size and times say nothing. */
static int virtual_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return 1;
	switch (sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case BPF_FS_MAGIC:
	case NSFS_MAGIC:
		return 1;
	}
	return 0;
}

/* Known already (and then written, or open, if it is by this holder
 * too)? */
static int seen(struct fileids *ids, uint64_t dev, uint64_t ino,
		uint32_t written, int held)
{
	uint32_t i;

	for (i = 0; i < ids->n; i++)
		if (ids->v[i].dev == dev && ids->v[i].ino == ino) {
			ids->v[i].flags |= written;
			ids->open[i] |= held;
			if (written)	/* its hash is no use */
				ids->v[i].flags &= ~IMG_FILEID_HASH;
			return 1;
		}
	return 0;
}

/*
 * The file at path if it still is (dev, ino), as it is now. A file that
 * path no longer reaches is a ghost (in the image) or was replaced (and
 * restore would open another: mm.c and files.c say so), not ours.
 */
static int add_file(struct fileids *ids, const char *path, uint64_t dev,
		    uint64_t ino, uint32_t written, int held, int hash)
{
	struct img_fileid *f;
	struct stat st;
	uint8_t *o;
	int fd, ret = -1;

	if (!path || path[0] != '/' || seen(ids, dev, ino, written, held))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_dev != dev || st.st_ino != ino || virtual_fs(fd)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (ids->n == ids->cap) {
		uint32_t cap = ids->cap ? 2 * ids->cap : 32;

		f = cap <= IMG_MAX_FILEIDS ?
		    realloc(ids->v, cap * sizeof(*f)) : NULL;
		if (f)
			ids->v = f;
		o = f ? realloc(ids->open, cap) : NULL;
		if (!o) {
			pr_err("out of memory");
			goto out;
		}
		ids->open = o;
		ids->cap = cap;
	}
	ids->open[ids->n] = held;
	f = &ids->v[ids->n];
	memset(f, 0, sizeof(*f));
	f->mode = st.st_mode;
	f->dev = dev;
	f->ino = ino;
	f->size = st.st_size;
	f->mtime_ns = st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec;
	f->flags = written;
	if (hash && !written) {
		if (file_hash(fd, f->hash)) {
			pr_perror("can't hash %s", path);
			goto out;
		}
		f->flags |= IMG_FILEID_HASH;
	}
	f->path = strdup(path);
	if (!f->path) {
		pr_err("out of memory");
		goto out;
	}
	ids->n++;
	ret = 0;
out:
	close(fd);
	return ret;
}

/* IMG_FILEID_WRITTEN for open(2) flags that write */
static uint32_t writes(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY ? IMG_FILEID_WRITTEN : 0;
}

static uint32_t vma_writes(const struct img_vma *v)
{
	return (v->flags & IMG_VMA_SHARED) && (v->prot & PROT_WRITE) ?
	       IMG_FILEID_WRITTEN : 0;
}

/* The regular files of one process: its fds and its mappings. */
static int proc_files(struct fileids *ids, const struct img_process *p,
		      int hash)
{
	uint32_t i;

	for (i = 0; i < p->nr_fds; i++)
		if (p->fds[i].type == IMG_FD_REG &&
		    add_file(ids, p->fds[i].path, p->fds[i].dev,
			     p->fds[i].ino, writes(p->fds[i].flags), 1, hash))
			return -1;
	for (i = 0; i < p->nr_vmas; i++)
		if (!p->vmas[i].shm &&
		    add_file(ids, p->vmas[i].path, p->vmas[i].dev,
			     p->vmas[i].ino, vma_writes(&p->vmas[i]),
			     !!(p->vmas[i].flags & IMG_VMA_SHARED), hash))
			return -1;
	return 0;
}

static int tree_files(struct fileids *ids, const struct dump_tree *t,
		      int hash)
{
	uint32_t i;
	int k;

	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_REG &&
		    add_file(ids, t->files[i].f.path, t->files[i].f.dev,
			     t->files[i].f.ino, writes(t->files[i].f.flags),
			     1, hash))
			return -1;
	for (k = 0; k < t->n; k++)
		if (!t->procs[k].proc.proc.zombie &&
		    proc_files(ids, &t->procs[k].proc, hash))
			return -1;
	return 0;
}

/* The FIFOs the tree has open by a path (--snapshot-open puts their
 * nodes back), their paths the tree's file table's. */
struct fifos {
	struct img_fileid *v;
	uint32_t n;
};

static int tree_fifos(struct fifos *ff, const struct dump_tree *t)
{
	uint32_t i;

	ff->v = calloc(t->nr_files + 1, sizeof(*ff->v));
	if (!ff->v) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < t->nr_files; i++) {
		if (t->files[i].f.kind != IMG_FILE_FIFO || !t->files[i].f.path)
			continue;
		ff->v[ff->n].path = t->files[i].f.path;
		ff->v[ff->n].dev = t->files[i].f.dev;
		ff->v[ff->n].ino = t->files[i].f.ino;
		ff->n++;
	}
	return 0;
}

int dump_write_app(struct dump_tree *t, struct img_writer *w)
{
	const struct dump_opts *o = t->procs[0].o;
	struct fifos fifos = { 0 };
	struct fileids ids = { 0 };
	uint32_t i;
	int ret = -1;

	if (o->apps && app_set_write(o->apps, w))
		return -1;
	if (tree_files(&ids, t, o->validate_hash))
		goto out;
	for (i = 0; i < ids.n; i++)
		if (img_write_fileid(w, &ids.v[i]))
			goto out;
	if (tree_fifos(&fifos, t) ||
	    snap_take(o->snap, o->outputs[0], ids.v, ids.open, ids.n,
		      fifos.v, fifos.n) ||
	    (o->notify && img_write_notify(w, o->notify, o->notify_seconds)))
		goto out;
	ret = 0;
out:
	for (i = 0; i < ids.n; i++)
		free(ids.v[i].path);
	free(ids.v);
	free(ids.open);
	free(fifos.v);
	return ret;
}
