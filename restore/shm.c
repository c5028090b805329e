/*
 * The shared memory objects of the image, made by restore itself once,
 * before any process exists (so that a failure costs nothing): a MAP_SHARED
 * anonymous region (mapped here, then held by an fd from
 * /proc/self/map_files, so that it keeps the kernel's "/dev/zero" name), a
 * memfd with its name, or a System V segment with its key and its id,
 * which /proc/sys/kernel/shm_next_id gives back (or the segment itself,
 * when the dumped process was killed and left it behind unused); when
 * the id is taken, the restore fails.
 * Their pages are
 * read from the image straight into a mapping here. Each process then maps
 * them in mm.c: the fd ones by opening /proc/RESTORE/fd/N, the segments by
 * a remote shmat(). Seals and IPC_RMID come last, once every process has
 * its mappings, as they forbid what those need.
 * A segment of an IPC namespace of the tree's own (IMG_SHM_IPCNS) is not
 * made here: the namespace's owner makes it there with its id (ipcns.c),
 * and mm.c attaches it, and marks it removed after the last attachment.
 */
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define NEXT_ID		"/proc/sys/kernel/shm_next_id"

static uint64_t obj_len(const struct restore_run *run,
		       const struct img_shm *s)
{
	long ps = run->host.page_size;

	return (s->size + ps - 1) / ps * ps;
}

/* The object's pages from the image into map, a mapping of the object. */
static int fill(struct restore_run *run, const struct img_shm_object *o,
		uint8_t *map)
{
	uint32_t i;

	for (i = 0; i < o->nr_pages; i++) {
		const struct img_pages *pg = &o->pages[i];
		size_t len = pg->nr_pages * run->host.page_size;

		/* one fault for the whole run, as in mm.c */
		madvise(map + pg->addr, len, MADV_POPULATE_WRITE);
		if (pread_full(run->img_fd, map + pg->addr, len,
			       pg->data_off)) {
			pr_perror("can't read the pages of shared memory object %u from %s",
				  o->shm.id, run->path);
			return -1;
		}
	}
	return 0;
}

static int fill_fd(struct restore_run *run, const struct img_shm_object *o,
		   int fd)
{
	uint64_t len = obj_len(run, &o->shm);
	void *map;
	int ret;

	if (!o->nr_pages)
		return 0;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		pr_perror("can't map shared memory object %u", o->shm.id);
		return -1;
	}
	ret = fill(run, o, map);
	munmap(map, len);
	return ret;
}

static int set_owner(const struct img_shm_object *o, int fd)
{
	if (fchmod(fd, o->shm.mode) || fchown(fd, o->shm.uid, o->shm.gid)) {
		pr_perror("can't set the owner and mode of shared memory object %u",
			  o->shm.id);
		return -1;
	}
	return 0;
}

/* MAP_SHARED | MAP_ANONYMOUS here, kept by an fd on its shmem file. */
static int make_anon(struct restore_run *run, const struct img_shm_object *o)
{
	uint64_t len = obj_len(run, &o->shm);
	char path[96];
	uint8_t *map;
	int fd = -1;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		pr_perror("can't create shared memory object %u", o->shm.id);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)map, (unsigned long)map + len);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open %s", path);
	if (fd < 0 || fill(run, o, map) || set_owner(o, fd)) {
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	munmap(map, len);
	return fd;
}

/* Sealing must be allowed at creation if the memfd has more seals than
 * F_SEAL_SEAL, which is what a memfd that does not allow sealing shows. */
static int make_memfd(struct restore_run *run, const struct img_shm_object *o)
{
	unsigned int flags = MFD_CLOEXEC;
	int fd;

	if (o->shm.seals != F_SEAL_SEAL)
		flags |= MFD_ALLOW_SEALING;
	fd = memfd_create(o->shm.name, flags);
	if (fd < 0) {
		pr_perror("can't create memfd %s", o->shm.name);
		return -1;
	}
	if (ftruncate(fd, o->shm.size)) {
		pr_perror("can't size memfd %s", o->shm.name);
		goto err;
	}
	if (fill_fd(run, o, fd) || set_owner(o, fd))
		goto err;
	return fd;
err:
	close(fd);
	return -1;
}

static void set_next_id(int id)
{
	char buf[16];
	int fd = open(NEXT_ID, O_WRONLY | O_CLOEXEC), n;

	if (fd < 0)
		return;		/* an old kernel: a different id fails */
	n = snprintf(buf, sizeof(buf), "%d", id);
	if (write(fd, buf, n) != n)
		pr_debug("can't write %s: %s", NEXT_ID, strerror(errno));
	close(fd);
}

/*
 * A segment with the key exists. When it is the image's own (same id and
 * size) and nobody has it attached, it is what a dump with --kill leaves
 * behind: it is taken over, and refilled from the image. Otherwise it
 * belongs to someone (the dumped process itself, if it still runs).
 */
static int sysv_reuse(const struct img_shm *s, struct restore_shm *r)
{
	int id = shmget(s->key, 0, 0);
	struct shmid_ds ds;

	if (id == s->shmid && !shmctl(id, IPC_STAT, &ds) &&
	    ds.shm_segsz == s->size && !ds.shm_nattch) {
		pr_info("System V segment %d (key %#x) left unused: refilled",
			id, (unsigned int)s->key);
		r->reused = 1;
		return id;
	}
	pr_err("can't create System V segment %d: key %#x is in use (id %d)",
	       s->shmid, (unsigned int)s->key, id);
	return -1;
}

/* shmget() with the image's id if it is free (shm_next_id), and its key
 * unless it was removed: that key belongs to nobody any more. */
static int sysv_get(const struct img_shm *s, struct restore_shm *r)
{
	key_t key = (s->flags & IMG_SHM_REMOVED) ? IPC_PRIVATE : s->key;
	int id, err;

	set_next_id(s->shmid);
	id = shmget(key, s->size, IPC_CREAT | IPC_EXCL | s->mode);
	err = errno;
	set_next_id(-1);	/* unused if shmget failed early */
	if (id < 0 && err == EEXIST)
		return sysv_reuse(s, r);
	if (id < 0) {
		errno = err;
		pr_perror("can't create System V segment %d", s->shmid);
	} else if (id != s->shmid) {
		/* the process may hold the id: another one is not its segment */
		pr_err("can't create System V segment %d: that id is taken (the kernel offers %d)",
		       s->shmid, id);
		shmctl(id, IPC_RMID, NULL);
		id = -1;
	}
	return id;
}

static int sysv_fill(struct restore_run *run, const struct img_shm_object *o,
		     const struct restore_shm *r)
{
	int id = r->shmid, ret = 0;
	struct shmid_ds ds;
	void *map;

	if (shmctl(id, IPC_STAT, &ds) == 0) {
		ds.shm_perm.uid = o->shm.uid;
		ds.shm_perm.gid = o->shm.gid;
		ds.shm_perm.mode = o->shm.mode;
		if (shmctl(id, IPC_SET, &ds) == 0)
			goto owned;
	}
	pr_perror("can't set the owner of System V segment %d", id);
	return -1;
owned:
	if (!o->nr_pages && !r->reused)
		return 0;
	map = shmat(id, NULL, 0);
	if (map == (void *)-1) {
		pr_perror("can't attach System V segment %d", id);
		return -1;
	}
	/* a segment taken over: what the image does not hold is zero */
	if (r->reused && madvise(map, obj_len(run, &o->shm), MADV_REMOVE)) {
		pr_perror("can't clear System V segment %d", id);
		ret = -1;
	}
	if (!ret)
		ret = fill(run, o, map);
	shmdt(map);
	return ret;
}

static int make_one(struct restore_run *run, uint32_t i)
{
	const struct img_shm_object *o = &run->img->shms[i];
	struct restore_shm *r = &run->shms[i];

	switch (o->shm.kind) {
	case IMG_SHM_ANON:
		r->fd = make_anon(run, o);
		return r->fd < 0 ? -1 : 0;
	case IMG_SHM_MEMFD:
		r->fd = make_memfd(run, o);
		return r->fd < 0 ? -1 : 0;
	}
	if (o->shm.flags & IMG_SHM_IPCNS) {
		r->shmid = o->shm.shmid;	/* in the tree's namespace */
		return 0;
	}
	r->shmid = sysv_get(&o->shm, r);
	if (r->shmid < 0)
		return -1;
	return sysv_fill(run, o, r);
}

int restore_shm_create(struct restore_run *run)
{
	uint32_t i, n = run->img->nr_shms;

	run->shms = calloc(n ? n : 1, sizeof(*run->shms));
	if (!run->shms) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		run->shms[i].fd = run->shms[i].shmid = -1;
	for (i = 0; i < n; i++) {
		if (make_one(run, i)) {
			restore_shm_abort(run);
			return -1;
		}
	}
	return 0;
}

static void release(struct restore_run *run, int remove_all)
{
	uint32_t i;

	for (i = 0; run->shms && i < run->img->nr_shms; i++) {
		struct restore_shm *r = &run->shms[i];
		uint32_t flags = run->img->shms[i].shm.flags;

		if (r->fd >= 0)
			close(r->fd);
		/* one taken over stays: it was there before this restore;
		 * one of the tree's namespace is not in ours */
		if (r->shmid >= 0 && !(flags & IMG_SHM_IPCNS) &&
		    ((remove_all && !r->reused) || (flags & IMG_SHM_REMOVED)) &&
		    shmctl(r->shmid, IPC_RMID, NULL))
			pr_perror("can't remove System V segment %d",
				  r->shmid);
	}
	free(run->shms);
	run->shms = NULL;
}

int restore_shm_finish(struct restore_run *run)
{
	uint32_t i;

	for (i = 0; i < run->img->nr_shms; i++) {
		const struct img_shm *s = &run->img->shms[i].shm;

		if (s->kind != IMG_SHM_MEMFD || s->seals == F_SEAL_SEAL)
			continue;
		if (fcntl(run->shms[i].fd, F_ADD_SEALS, s->seals)) {
			pr_perror("can't seal memfd %s", s->name);
			return -1;
		}
	}
	release(run, 0);
	return 0;
}

void restore_shm_abort(struct restore_run *run)
{
	release(run, 1);
}
