/*
 * semantics: what the records of an image mean together. Each record is
 * decoded into the process it belongs to (the latest PROC); when a process
 * ends (the next PROC or the trailer) its records are checked as a whole:
 * thread count, unique tids and fds, PAGES inside a VMA and disjoint.
 * SHM records, all before the first PROC, take the PAGES that follow them
 * (offsets in the object), and each VMA that names one is checked against
 * it as it arrives. GHOST records come after them, each with its PAGES
 * (offsets in the file); the FILEs, VMAs and cwds that name a ghost are
 * checked against the image's ghosts.
 * A ZOMBIE stands alone: its parent is a live process before it, and
 * nothing belongs to it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "image/reader-priv.h"
#include "util/ttyq.h"

/* Makes room for element n of *arrp (an array of elem-byte items). */
int rd_grow(struct rd *r, void *arrp, uint32_t *cap, uint32_t n, size_t elem)
{
	void **arr = arrp;
	uint32_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p) {
		rd_fail(r, "out of memory");
		return -1;
	}
	memset((char *)p + (size_t)*cap * elem, 0,
	       (size_t)(ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

/* The process the current record belongs to: never a zombie. */
static struct img_process *cur_proc(struct rd *r)
{
	struct image *img = r->img;
	struct img_process *p;

	if (!img->nr_procs) {
		rec_fail(r, "%s record before the first PROC",
			 img_rec_name(r->type));
		return NULL;
	}
	p = &img->procs[img->nr_procs - 1];
	if (p->proc.zombie) {
		rec_fail(r, "%s record after zombie %d, which has none",
			 img_rec_name(r->type), p->proc.pid);
		return NULL;
	}
	return p;
}

/* Ends the process before and makes room for the next; NULL on error. */
static struct img_process *new_proc(struct rd *r)
{
	struct image *img = r->img;
	struct img_process *p;

	if (img->nr_procs && sem_process_end(r))
		return NULL;
	if (!img->nr_procs && sem_files_end(r))
		return NULL;
	if (img->nr_procs >= IMG_MAX_PROCS) {
		rec_fail(r, "more than %u processes", IMG_MAX_PROCS);
		return NULL;
	}
	if (rd_grow(r, &img->procs, &r->cap_procs, img->nr_procs,
		    sizeof(*p)))
		return NULL;
	p = &img->procs[img->nr_procs++];
	memset(p, 0, sizeof(*p));
	r->cap_threads = r->cap_vmas = r->cap_pages = r->cap_fds = 0;
	r->cap_locks = r->cap_fowns = r->cap_aios = 0;
	return p;
}

/* The process with pid among the first n of the image, or NULL. */
static const struct img_process *find_proc(const struct image *img,
					   uint32_t n, int32_t pid)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (img->procs[i].proc.pid == pid)
			return &img->procs[i];
	return NULL;
}

/* The latest process, just decoded: a zombie has no children. */
static int check_not_zombie_child(struct rd *r)
{
	const struct image *img = r->img;
	const struct img_proc *p = &img->procs[img->nr_procs - 1].proc;
	const struct img_process *parent;

	parent = find_proc(img, img->nr_procs - 1, p->ppid);
	if (!parent || !parent->proc.zombie)
		return 0;
	rec_fail(r, "process %d is a child of zombie %d", p->pid, p->ppid);
	return -1;
}

/* A cwd (an exe) that no path reaches is a ghost directory (regular
 * file) of the image. */
static int check_ghost_link(struct rd *r, const struct img_proc *p,
			    const char *link, int dir)
{
	static const char deleted[] = " (deleted)";
	size_t n = link ? strlen(link) : 0, k = strlen(deleted);

	if (n <= k || strcmp(link + n - k, deleted) ||
	    img_ghost_named(r->img, link, dir))
		return 0;
	rec_fail(r, "process %d: its %s %s is no ghost of the image",
		 p->pid, dir ? "cwd" : "exe", link);
	return -1;
}

static int check_cwd(struct rd *r, const struct img_proc *p)
{
	return check_ghost_link(r, p, p->cwd, 1) ||
	       check_ghost_link(r, p, p->exe, 0) ? -1 : 0;
}

static int sem_proc(struct rd *r, struct dec *d)
{
	struct img_process *p = new_proc(r);

	if (!p || img_dec_proc(d, &p->proc) || check_cwd(r, &p->proc))
		return -1;
	return check_not_zombie_child(r);
}

/*
 * A zombie is recreated by its parent, which must come before it and be
 * alive; the root of the tree is never a zombie, and a zombie has no
 * children (the kernel hands them to a reaper when it exits).
 */
static int check_zombie_tree(struct rd *r, const struct img_proc *z)
{
	const struct image *img = r->img;
	uint32_t n = img->nr_procs - 1, i;
	const struct img_process *parent;

	if (!n) {
		rec_fail(r, "zombie %d is the first process: the root of a "
			 "tree is never a zombie", z->pid);
		return -1;
	}
	parent = find_proc(img, n, z->ppid);
	if (!parent || parent->proc.zombie) {
		rec_fail(r, "zombie %d: its parent %d is not a live process "
			 "before it", z->pid, z->ppid);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (img->procs[i].proc.ppid != z->pid)
			continue;
		rec_fail(r, "process %d is a child of zombie %d",
			 img->procs[i].proc.pid, z->pid);
		return -1;
	}
	return check_not_zombie_child(r);
}

static int sem_zombie(struct rd *r, struct dec *d)
{
	struct img_process *p = new_proc(r);

	if (!p || img_dec_zombie(d, &p->proc))
		return -1;
	return check_zombie_tree(r, &p->proc);
}

static int sem_thread(struct rd *r, struct dec *d, struct img_process *p)
{
	if (p->nr_threads >= p->proc.nr_threads) {
		rec_fail(r, "more THREAD records than the %u of the process",
			 p->proc.nr_threads);
		return -1;
	}
	if (rd_grow(r, &p->threads, &r->cap_threads, p->nr_threads,
		    sizeof(*p->threads)))
		return -1;
	p->nr_threads++;
	return img_dec_thread(d, &p->threads[p->nr_threads - 1],
			      r->img->hdr.isa);
}

static uint64_t page_round(const struct rd *r, uint64_t n)
{
	uint64_t ps = r->img->hdr.page_size;

	return (n + ps - 1) / ps * ps;
}

/* The flags each kind of object wants of the VMAs that map it. */
static int vma_shm_flags_ok(const struct img_vma *v, uint32_t kind)
{
	uint32_t f = v->flags;

	if (f & ~(IMG_VMA_SHARED | IMG_VMA_ANON | IMG_VMA_NOWRITE))
		return 0;
	if ((f & IMG_VMA_NOWRITE) && !(f & IMG_VMA_SHARED))
		return 0;
	if (kind == IMG_SHM_ANON)
		return (f & IMG_VMA_SHARED) && (f & IMG_VMA_ANON);
	if (f & IMG_VMA_ANON)
		return 0;
	return kind == IMG_SHM_MEMFD || (f & IMG_VMA_SHARED);
}

/* A VMA that maps a SHM object: the object exists, the kind of mapping
 * fits it, and a System V attachment lies inside its segment. */
static int sem_vma_shm(struct rd *r, const struct img_vma *v)
{
	const struct img_shm *s;
	uint64_t len = v->end - v->start;

	if (v->shm > r->img->nr_shms) {
		rec_fail(r, "vma %#llx-%#llx maps shm object %u, the image has %u",
			 (unsigned long long)v->start,
			 (unsigned long long)v->end, v->shm, r->img->nr_shms);
		return -1;
	}
	s = &r->img->shms[v->shm - 1].shm;
	if (!vma_shm_flags_ok(v, s->kind)) {
		rec_fail(r, "vma %#llx-%#llx: flags %#x for shm object %u of kind %u",
			 (unsigned long long)v->start,
			 (unsigned long long)v->end, v->flags, v->shm, s->kind);
		return -1;
	}
	if (v->pgoff % r->img->hdr.page_size || v->pgoff >= IMG_MAX_ADDR ||
	    (s->kind == IMG_SHM_SYSV &&
	     v->pgoff + len > page_round(r, s->size))) {
		rec_fail(r, "vma %#llx-%#llx: offset %#llx in shm object %u of %llu bytes",
			 (unsigned long long)v->start,
			 (unsigned long long)v->end,
			 (unsigned long long)v->pgoff, v->shm,
			 (unsigned long long)s->size);
		return -1;
	}
	return 0;
}

/* A mapping of a deleted file: its GHOST, a regular file, is in the
 * image; it is no anonymous memory, and no other file. */
static int sem_vma_ghost(struct rd *r, const struct img_vma *v)
{
	const struct img_ghost *g = img_find_ghost(r->img, v->dev, v->ino);

	if (!g || !S_ISREG(g->mode)) {
		rec_fail(r, "vma %#llx-%#llx maps ghost %llu:%llu, which the image lacks",
			 (unsigned long long)v->start,
			 (unsigned long long)v->end,
			 (unsigned long long)v->dev,
			 (unsigned long long)v->ino);
		return -1;
	}
	if (!(v->flags & (IMG_VMA_ANON | IMG_VMA_FILE | IMG_VMA_HEAP |
			  IMG_VMA_STACK | IMG_VMA_VDSO | IMG_VMA_VVAR)) &&
	    (!(v->flags & IMG_VMA_NOWRITE) || (v->flags & IMG_VMA_SHARED)))
		return 0;
	rec_fail(r, "vma %#llx-%#llx: flags %#x for a ghost",
		 (unsigned long long)v->start, (unsigned long long)v->end,
		 v->flags);
	return -1;
}

/* Shared anonymous memory is always an object of the image, so that it
 * has one way back whether one process maps it or several. */
static int sem_vma_plain(struct rd *r, const struct img_vma *v)
{
	const uint32_t sa = IMG_VMA_SHARED | IMG_VMA_ANON;

	if (v->flags & IMG_VMA_GHOST)
		return sem_vma_ghost(r, v);
	if ((v->flags & sa) != sa && !(v->flags & IMG_VMA_NOWRITE))
		return 0;
	rec_fail(r, "vma %#llx-%#llx: flags %#x without a shm object",
		 (unsigned long long)v->start, (unsigned long long)v->end,
		 v->flags);
	return -1;
}

static int sem_vma(struct rd *r, struct dec *d, struct img_process *p)
{
	struct img_vma *v;

	if (rd_grow(r, &p->vmas, &r->cap_vmas, p->nr_vmas, sizeof(*v)))
		return -1;
	v = &p->vmas[p->nr_vmas++];
	if (img_dec_vma(d, v, r->img->hdr.page_size))
		return -1;
	if (v->shm && (v->flags & IMG_VMA_GHOST)) {
		rec_fail(r, "vma %#llx-%#llx maps a shm object and a ghost",
			 (unsigned long long)v->start,
			 (unsigned long long)v->end);
		return -1;
	}
	if (v->shm ? sem_vma_shm(r, v) : sem_vma_plain(r, v))
		return -1;
	if (p->nr_vmas > 1 && v->start < v[-1].end) {
		rec_fail(r, "vma %#llx-%#llx not after the one before, "
			 "which ends at %#llx", (unsigned long long)v->start,
			 (unsigned long long)v->end,
			 (unsigned long long)v[-1].end);
		return -1;
	}
	return 0;
}

static int sem_fd(struct rd *r, struct dec *d, struct img_process *p)
{
	struct img_fd *f;

	if (rd_grow(r, &p->fds, &r->cap_fds, p->nr_fds, sizeof(*p->fds)))
		return -1;
	f = &p->fds[p->nr_fds++];
	if (img_dec_fd(d, f))
		return -1;
	if (f->file && !img_find_file(r->img, f->file)) {
		rec_fail(r, "fd %d names file %u, which the image lacks",
			 f->fd, f->file);
		return -1;
	}
	return 0;
}

/* FILE records: before the first PROC, ids increasing. */
static int sem_file(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_file *f;

	if (img->nr_procs || img->nr_shms || img->nr_ghosts ||
	    img->nr_apps || img->nr_fileids || img->nr_snapfiles) {
		rec_fail(r, "FILE record after the first PROC, SHM, GHOST, APP, FILEID or SNAPFILE");
		return -1;
	}
	if (img->nr_files >= IMG_MAX_FILES) {
		rec_fail(r, "more than %u files", IMG_MAX_FILES);
		return -1;
	}
	if (rd_grow(r, &img->files, &r->cap_files, img->nr_files,
		    sizeof(*f)))
		return -1;
	f = &img->files[img->nr_files++];
	r->cap_chunks = 0;
	if (img_dec_file(d, f))
		return -1;
	if (img->nr_files > 1 && f->id <= f[-1].id) {
		rec_fail(r, "file id %u not above the one before (%u)", f->id,
			 f[-1].id);
		return -1;
	}
	return 0;
}

/* Message boundaries belong to datagram and seqpacket sockets, and a
 * listening socket queues connections, not bytes. */
static int is_msg_socket(const struct img_file *f)
{
	return f->kind == IMG_FILE_UNIX && f->sk.type != SOCK_STREAM;
}

/* A unix datagram's named sender (the sun_path bytes, a path without
 * its NUL), before the datagram's first chunk. */
static int unix_sender(struct rd *r, const struct img_file *f,
		       const struct img_chunk *ch)
{
	const struct img_chunk *prev = f->nr_chunks ?
		&f->chunks[f->nr_chunks - 1] : NULL;

	if (ch->flags != IMG_CHUNK_ADDR || f->sk.type != SOCK_DGRAM ||
	    ch->len > IMG_MAX_UNIX_NAME || (!ch->data[0] && ch->len < 2) ||
	    (ch->data[0] && memchr(ch->data, 0, ch->len))) {
		rec_fail(r, "file %u: a bad sender address", f->id);
		return -1;
	}
	if (prev && !(prev->flags & IMG_CHUNK_EOR)) {
		rec_fail(r, "file %u: a sender address inside a message",
			 f->id);
		return -1;
	}
	return 0;
}

/* A message's descriptors in flight, before its first chunk (after its
 * sender's name); in a stream, before the one chunk (flagged EOR) of the
 * bytes they came with: FILE ids, checked once every FILE is in. */
static int unix_fds(struct rd *r, const struct img_file *f,
		    const struct img_chunk *ch)
{
	const struct img_chunk *prev = f->nr_chunks ?
		&f->chunks[f->nr_chunks - 1] : NULL;
	int bad_prev = f->sk.type == SOCK_STREAM ?
		prev && (prev->flags & IMG_CHUNK_FDS) :
		prev && !(prev->flags & (IMG_CHUNK_EOR | IMG_CHUNK_ADDR |
					 IMG_CHUNK_CREDS));

	if (ch->flags != IMG_CHUNK_FDS || bad_prev ||
	    !ch->len || ch->len % 4 || ch->len > 4 * IMG_MAX_FDS_IN_FLIGHT) {
		rec_fail(r, "file %u: bad descriptors in flight", f->id);
		return -1;
	}
	return 0;
}

/* A message's credentials (SO_PASSCRED), before its descriptors (after
 * its sender's name); in a stream, before the bytes they came with, not
 * between descriptors and theirs: pid (checked against the processes by
 * restore), uid, gid. */
static int unix_creds(struct rd *r, const struct img_file *f,
		      const struct img_chunk *ch)
{
	const struct img_chunk *prev = f->nr_chunks ?
		&f->chunks[f->nr_chunks - 1] : NULL;
	int bad_prev = f->sk.type == SOCK_STREAM ?
		prev && (prev->flags & (IMG_CHUNK_FDS | IMG_CHUNK_CREDS)) :
		prev && !(prev->flags & (IMG_CHUNK_EOR | IMG_CHUNK_ADDR));

	if (ch->flags != IMG_CHUNK_CREDS || ch->len != 12 || bad_prev ||
	    (int32_t)get_le32(ch->data) < 0) {
		rec_fail(r, "file %u: bad credentials", f->id);
		return -1;
	}
	return 0;
}

/* Is the last chunk of unix stream f so far descriptors in flight? */
static int fds_before(const struct img_file *f)
{
	return f->kind == IMG_FILE_UNIX && f->sk.type == SOCK_STREAM &&
	       f->nr_chunks &&
	       (f->chunks[f->nr_chunks - 1].flags & IMG_CHUNK_FDS);
}

/* In a unix stream, the descriptors in flight are followed by one chunk
 * of bytes flagged EOR: those of the skb that carries them. */
static int stream_fds_bytes(struct rd *r, const struct img_file *f,
			    const struct img_chunk *ch)
{
	if (!fds_before(f) || (ch->flags == IMG_CHUNK_EOR && ch->len))
		return 0;
	rec_fail(r, "file %u: descriptors in flight without their bytes",
		 f->id);
	return -1;
}

static int check_chunk(struct rd *r, const struct img_file *f,
		       const struct img_chunk *ch)
{
	if (img_inet_kind(f->kind))
		return sem_inet_chunk(r, f, ch);	/* semantics-inet.c */
	if (f->kind == IMG_FILE_UNIX && (ch->flags & IMG_CHUNK_ADDR))
		return unix_sender(r, f, ch);
	if (f->kind == IMG_FILE_UNIX && (ch->flags & IMG_CHUNK_FDS))
		return unix_fds(r, f, ch);
	if (f->kind == IMG_FILE_UNIX && (ch->flags & IMG_CHUNK_CREDS))
		return unix_creds(r, f, ch);
	if (ch->flags & (IMG_CHUNK_SENDQ | IMG_CHUNK_ADDR | IMG_CHUNK_FDS |
			 IMG_CHUNK_CREDS)) {
		rec_fail(r, "file %u: a TCP or UDP chunk in a file of kind %u",
			 f->id, f->kind);
		return -1;
	}
	if ((ch->flags & IMG_CHUNK_TTY_IN) && f->kind != IMG_FILE_PTY_MASTER) {
		rec_fail(r, "file %u: typed bytes in a file of kind %u", f->id,
			 f->kind);
		return -1;
	}
	if (stream_fds_bytes(r, f, ch))
		return -1;
	if ((ch->flags & IMG_CHUNK_EOR) && !is_msg_socket(f) &&
	    !(ch->flags & IMG_CHUNK_TTY_IN) && !fds_before(f)) {
		rec_fail(r, "file %u: a message boundary in a byte stream",
			 f->id);
		return -1;
	}
	if (f->kind == IMG_FILE_UNIX && f->sk.state == IMG_UNIX_LISTENING) {
		rec_fail(r, "file %u: data queued in a listening socket",
			 f->id);
		return -1;
	}
	return 0;
}

/* FILE_DATA: right after its FILE (or another FILE_DATA of it). */
static int sem_file_data(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_file *f;
	struct img_chunk ch = { 0 };
	uint32_t id = 0;

	if (img_dec_file_data(d, &id, &ch)) {
		free(ch.data);
		return -1;
	}
	f = img->nr_files ? &img->files[img->nr_files - 1] : NULL;
	if (img->nr_procs || img->nr_shms || img->nr_ghosts || !f ||
	    img->nr_apps || img->nr_fileids || img->nr_snapfiles ||
	    f->id != id) {
		free(ch.data);
		rec_fail(r, "FILE_DATA of file %u not right after its FILE",
			 id);
		return -1;
	}
	if (img_kfd_kind(f->kind) || f->kind == IMG_FILE_NETLINK ||
	    f->kind == IMG_FILE_PTY_SLAVE || f->kind == IMG_FILE_TTY ||
	    f->kind == IMG_FILE_MQUEUE) {
		free(ch.data);
		rec_fail(r, "FILE_DATA of file %u, which holds no bytes", id);
		return -1;
	}
	if (check_chunk(r, f, &ch)) {
		free(ch.data);
		return -1;
	}
	if (rd_grow(r, &f->chunks, &r->cap_chunks, f->nr_chunks,
		    sizeof(ch))) {
		free(ch.data);
		return -1;
	}
	f->chunks[f->nr_chunks++] = ch;
	return 0;
}

static int sem_sockx(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_file *f = img->nr_files ? &img->files[img->nr_files - 1] :
		NULL;

	if (!f || img->nr_procs || img->nr_shms || img->nr_ghosts ||
	    img->nr_apps || img->nr_fileids || img->nr_snapfiles ||
	    f->nr_chunks) {
		rec_fail(r, "SOCKX not right after its FILE");
		return -1;
	}
	return img_dec_sockx(d, f);
}

static int cmp_watch(const void *a, const void *b)
{
	const struct img_epoll_watch *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return (x->tfd > y->tfd) - (x->tfd < y->tfd);
}

/* Every file an epoll watches is in the image, each (file, fd) once: the
 * kernel keys a watch by both and refuses a second one. */
static int check_epoll(struct rd *r, const struct img_file *f)
{
	struct img_epoll_watch *w;
	uint32_t i;

	for (i = 0; i < f->ep.nr; i++) {
		if (img_find_file(r->img, f->ep.w[i].file))
			continue;
		rd_fail(r, "epoll file %u watches file %u, which the image lacks",
			f->id, f->ep.w[i].file);
		return -1;
	}
	w = malloc((size_t)(f->ep.nr ? f->ep.nr : 1) * sizeof(*w));
	if (!w) {
		rd_fail(r, "out of memory");
		return -1;
	}
	memcpy(w, f->ep.w, (size_t)f->ep.nr * sizeof(*w));
	qsort(w, f->ep.nr, sizeof(*w), cmp_watch);
	for (i = 1; i < f->ep.nr; i++)
		if (!cmp_watch(&w[i - 1], &w[i]))
			break;
	if (i < f->ep.nr)
		rd_fail(r, "epoll file %u watches file %u as fd %d twice",
			f->id, w[i].file, w[i].tfd);
	free(w);
	return i < f->ep.nr ? -1 : 0;
}

/* What epolls say of the other files. */
static int check_epolls(struct rd *r)
{
	uint32_t i;

	for (i = 0; i < r->img->nr_files; i++)
		if (r->img->files[i].kind == IMG_FILE_EPOLL &&
		    check_epoll(r, &r->img->files[i]))
			return -1;
	return 0;
}

static int sem_lock(struct rd *r, struct dec *d, struct img_process *p)
{
	if (p->nr_locks >= IMG_MAX_LOCKS) {
		rec_fail(r, "more than %u locks in a process", IMG_MAX_LOCKS);
		return -1;
	}
	if (rd_grow(r, &p->locks, &r->cap_locks, p->nr_locks,
		    sizeof(*p->locks)))
		return -1;
	return img_dec_lock(d, &p->locks[p->nr_locks++]);
}

static int sem_fown(struct rd *r, struct dec *d, struct img_process *p)
{
	if (p->nr_fowns >= p->nr_fds) {
		rec_fail(r, "more SIGIO owners than fds in a process");
		return -1;
	}
	if (rd_grow(r, &p->fowns, &r->cap_fowns, p->nr_fowns,
		    sizeof(*p->fowns)))
		return -1;
	return img_dec_fown(d, &p->fowns[p->nr_fowns++]);
}

static int has_fd(const struct img_process *p, int32_t fd)
{
	uint32_t k;

	for (k = 0; k < p->nr_fds; k++)
		if (p->fds[k].fd == fd)
			return 1;
	return 0;
}

/* A segment of the tree's own IPC namespace: its SYSV record, of the
 * same id and size, came before and holds its bytes. */
static int sem_shm_ipcns(struct rd *r, const struct img_shm *s)
{
	const struct image *img = r->img;
	uint32_t i;

	if (!(s->flags & IMG_SHM_IPCNS))
		return 0;
	for (i = 0; i < img->nr_sysvs; i++)
		if (img->sysvs[i].kind == IMG_SYSV_SHM &&
		    img->sysvs[i].id == s->shmid &&
		    img->sysvs[i].size == s->size)
			return 0;
	rec_fail(r, "shm object %u: System V segment %d of an IPC namespace of the tree's own has no SYSV record",
		 s->id, s->shmid);
	return -1;
}

/* Each lock is held through an fd of its process, and each SIGIO owner
 * is an fd's, once. */
static int check_locks(struct rd *r, const struct img_process *p)
{
	uint32_t i, k;

	for (i = 0; i < p->nr_locks; i++) {
		if (has_fd(p, p->locks[i].fd))
			continue;
		rd_fail(r, "process %u (pid %d): a lock through fd %d, which it lacks",
			r->img->nr_procs, p->proc.pid, p->locks[i].fd);
		return -1;
	}
	for (i = 0; i < p->nr_fowns; i++) {
		for (k = 0; k < i; k++)
			if (p->fowns[k].fd == p->fowns[i].fd)
				break;
		if (k == i && has_fd(p, p->fowns[i].fd))
			continue;
		rd_fail(r, "process %u (pid %d): %s SIGIO owner of fd %d%s",
			r->img->nr_procs, p->proc.pid,
			k < i ? "a second" : "a", p->fowns[i].fd,
			k < i ? "" : ", which it lacks");
		return -1;
	}
	return 0;
}

static int sem_sigacts(struct rd *r, struct dec *d, struct img_process *p)
{
	if (p->has_sigacts) {
		rec_fail(r, "second SIGACTS record of the process");
		return -1;
	}
	p->has_sigacts = 1;
	return img_dec_sigacts(d, p->sigacts);
}

static int sem_shm(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_shm_object *o;

	if (img->nr_procs || img->nr_ghosts) {
		rec_fail(r, "SHM record after the first PROC or GHOST");
		return -1;
	}
	if (img->nr_shms >= IMG_MAX_SHMS) {
		rec_fail(r, "more than %u shm objects", IMG_MAX_SHMS);
		return -1;
	}
	if (rd_grow(r, &img->shms, &r->cap_shms, img->nr_shms, sizeof(*o)))
		return -1;
	o = &img->shms[img->nr_shms++];
	memset(o, 0, sizeof(*o));
	r->cap_shm_pages = 0;
	if (img_dec_shm(d, &o->shm))
		return -1;
	if (o->shm.id != img->nr_shms) {
		rec_fail(r, "shm object %u has id %u", img->nr_shms, o->shm.id);
		return -1;
	}
	return sem_shm_ipcns(r, &o->shm);
}

/* GHOST records: after the SHM records, before the first PROC. */
static int sem_ghost(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_ghost_object *o;

	if (img->nr_procs) {
		rec_fail(r, "GHOST record after the first PROC");
		return -1;
	}
	if (img->nr_ghosts >= IMG_MAX_GHOSTS) {
		rec_fail(r, "more than %u ghosts", IMG_MAX_GHOSTS);
		return -1;
	}
	if (rd_grow(r, &img->ghosts, &r->cap_ghosts, img->nr_ghosts,
		    sizeof(*o)))
		return -1;
	o = &img->ghosts[img->nr_ghosts++];
	memset(o, 0, sizeof(*o));
	r->cap_shm_pages = 0;
	if (img_dec_ghost(d, &o->g))
		return -1;
	if (o->g.id != img->nr_ghosts) {
		rec_fail(r, "ghost %u has id %u", img->nr_ghosts, o->g.id);
		return -1;
	}
	return 0;
}

/* NS records: right after the header, one per kind and id. */
static int sem_ns(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_ns *ns;
	uint32_t i;

	if (img->nr_files || img->nr_shms || img->nr_ghosts || img->nr_procs) {
		rec_fail(r, "NS record after a FILE, SHM, GHOST or PROC");
		return -1;
	}
	if (img->nr_nss >= IMG_MAX_NSS) {
		rec_fail(r, "more than %u namespaces", IMG_MAX_NSS);
		return -1;
	}
	if (rd_grow(r, &img->nss, &r->cap_nss, img->nr_nss, sizeof(*ns)))
		return -1;
	ns = &img->nss[img->nr_nss++];
	memset(ns, 0, sizeof(*ns));
	if (img_dec_ns(d, ns))
		return -1;
	for (i = 0; i + 1 < img->nr_nss; i++)
		if (img->nss[i].kind == ns->kind && img->nss[i].id == ns->id) {
			rec_fail(r, "%s namespace %llu recorded twice",
				 img_ns_name(ns->kind),
				 (unsigned long long)ns->id);
			return -1;
		}
	return 0;
}

/* CGROUP records: after the NS records, one per hierarchy. */
static int sem_cgroup(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_cgroup *cg;
	uint32_t i;

	if (img->nr_files || img->nr_shms || img->nr_ghosts || img->nr_procs) {
		rec_fail(r, "CGROUP record after a FILE, SHM, GHOST or PROC");
		return -1;
	}
	if (img->nr_cgroups >= IMG_MAX_CGROUPS) {
		rec_fail(r, "more than %u cgroups", IMG_MAX_CGROUPS);
		return -1;
	}
	if (rd_grow(r, &img->cgroups, &r->cap_cgroups, img->nr_cgroups,
		    sizeof(*cg)))
		return -1;
	cg = &img->cgroups[img->nr_cgroups++];
	memset(cg, 0, sizeof(*cg));
	if (img_dec_cgroup(d, cg))
		return -1;
	for (i = 0; i + 1 < img->nr_cgroups; i++)
		if (!strcmp(img->cgroups[i].controllers, cg->controllers)) {
			rec_fail(r, "two cgroups of hierarchy \"%s\"",
				 cg->controllers);
			return -1;
		}
	return 0;
}

static int sem_dispatch(struct rd *r, struct dec *d)
{
	struct img_process *p;

	if (r->type == IMG_REC_PROC)
		return sem_proc(r, d);
	if (r->type == IMG_REC_FILE)
		return sem_file(r, d);
	if (r->type == IMG_REC_FILE_DATA)
		return sem_file_data(r, d);
	if (r->type == IMG_REC_SOCKX)
		return sem_sockx(r, d);
	if (r->type == IMG_REC_SHM)
		return sem_shm(r, d);
	if (r->type == IMG_REC_APP)
		return sem_app(r, d);
	if (r->type == IMG_REC_FILEID)
		return sem_fileid(r, d);
	if (r->type == IMG_REC_SNAPFILE)
		return sem_snapfile(r, d);
	if (r->type == IMG_REC_SNAPDATA)
		return sem_snapdata(r, d);
	if (r->type == IMG_REC_NOTIFY)
		return sem_notify(r, d);
	if (r->type == IMG_REC_GHOST)
		return sem_ghost(r, d);
	if (r->type == IMG_REC_ZOMBIE)
		return sem_zombie(r, d);
	if (r->type == IMG_REC_NS)
		return sem_ns(r, d);
	if (r->type == IMG_REC_CGROUP)
		return sem_cgroup(r, d);
	if (r->type == IMG_REC_MOUNT)
		return sem_mount(r, d);
	if (r->type == IMG_REC_NSMOUNT)
		return sem_nsmount(r, d);
	if (r->type == IMG_REC_MNTFILE)
		return sem_mntfile(r, d);
	if (r->type == IMG_REC_NETDEV)
		return sem_netdev(r, d);
	if (r->type == IMG_REC_ROUTE)
		return sem_route(r, d);
	if (r->type == IMG_REC_SYSV)
		return sem_sysv(r, d);
	if (r->type == IMG_REC_SYSV_DATA)
		return sem_sysv_data(r, d);
	if (r->type == IMG_REC_NSJOIN)
		return sem_nsjoin(r, d);
	if (r->type == IMG_REC_IDENT)
		return sem_ident(r, d);
	if (r->type == IMG_REC_PARENT_PAGES)
		return sem_parent_pages(r, d);
	if (r->type == IMG_REC_PRECOPY)
		return sem_precopy(r, d);
	if (r->type == IMG_REC_PRE_PAGES)
		return sem_pre_pages(r, d);
	if (r->type == IMG_REC_PRE_RUNS)
		return sem_pre_runs(r, d);
	p = cur_proc(r);
	if (!p)
		return -1;
	switch (r->type) {
	case IMG_REC_THREAD:
		return sem_thread(r, d, p);
	case IMG_REC_VMA:
		return sem_vma(r, d, p);
	case IMG_REC_FD:
		return sem_fd(r, d, p);
	case IMG_REC_SIGACTS:
		return sem_sigacts(r, d, p);
	case IMG_REC_LOCK:
		return sem_lock(r, d, p);
	case IMG_REC_FOWN:
		return sem_fown(r, d, p);
	case IMG_REC_AIO:
		return sem_aio(r, d, p);
	}
	rec_fail(r, "unknown record type %#x", r->type);
	return -1;
}

/* Decodes a whole-payload record into the image. */
int sem_record(struct rd *r, const uint8_t *payload, uint64_t len)
{
	struct dec d;

	dec_init(&d, payload, len);
	/* PAGES come through sem_pages(): a PRECOPY's until another record */
	r->pre_open = 0;
	if (r->type != IMG_REC_IDENT && r->type != IMG_REC_PRECOPY)
		r->past_pre = 1;
	if (sem_dispatch(r, &d) == 0)
		return 0;
	/* a failure already reported leaves d untouched */
	if (d.failed)
		rec_fail(r, "%s", d.msg);
	return -1;
}

/* Pages of the latest SHM or GHOST object, which has size bytes: inside
 * it, in ascending order; appended to *pages. */
static int obj_pages(struct rd *r, const struct img_pages *pg,
		     struct img_pages **pages, uint32_t *nr, uint64_t size,
		     const char *what, uint32_t id)
{
	uint64_t ps = r->img->hdr.page_size;
	uint64_t end = pg->addr + pg->nr_pages * ps;

	if (end > page_round(r, size)) {
		rec_fail(r, "pages at offset %#llx-%#llx beyond the %llu bytes of %s %u",
			 (unsigned long long)pg->addr,
			 (unsigned long long)end, (unsigned long long)size,
			 what, id);
		return -1;
	}
	if (*nr && pg->addr < (*pages)[*nr - 1].addr +
	    (*pages)[*nr - 1].nr_pages * ps) {
		rec_fail(r, "pages at offset %#llx not after those before",
			 (unsigned long long)pg->addr);
		return -1;
	}
	if (rd_grow(r, pages, &r->cap_shm_pages, *nr, sizeof(**pages)))
		return -1;
	(*pages)[(*nr)++] = *pg;
	return 0;
}

static int sem_obj_pages(struct rd *r, const struct img_pages *pg)
{
	struct image *img = r->img;
	struct img_shm_object *o;
	struct img_ghost_object *g;

	if (img->nr_ghosts) {
		g = &img->ghosts[img->nr_ghosts - 1];
		return obj_pages(r, pg, &g->pages, &g->nr_pages, g->g.size,
				 "ghost", g->g.id);
	}
	o = &img->shms[img->nr_shms - 1];
	if (o->shm.flags & IMG_SHM_IPCNS) {
		rec_fail(r, "pages for shm object %u, whose SYSV record holds them",
			 o->shm.id);
		return -1;
	}
	return obj_pages(r, pg, &o->pages, &o->nr_pages, o->shm.size,
			 "shm object", o->shm.id);
}

int sem_pages(struct rd *r, const struct img_pages *pg)
{
	struct img_process *p;

	if (r->pre_open)
		return sem_precopy_pages(r, pg);
	if (!r->img->nr_procs && (r->img->nr_shms || r->img->nr_ghosts))
		return sem_obj_pages(r, pg);
	p = cur_proc(r);

	if (!p)
		return -1;
	if (rd_grow(r, &p->pages, &r->cap_pages, p->nr_pages,
		    sizeof(*p->pages)))
		return -1;
	if (rd_grow(r, &r->ploc, &r->cap_ploc, p->nr_pages,
		    sizeof(*r->ploc)))
		return -1;
	r->ploc[p->nr_pages] = (struct rd_loc){ r->nr_idx + 1, r->off };
	p->pages[p->nr_pages++] = *pg;
	return 0;
}

/* ---- the end of the file table ------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Each descriptor in flight in f's queue is a FILE of the image. */
static int check_in_flight(struct rd *r, const struct img_file *f)
{
	uint32_t i, k, id;

	for (i = 0; i < f->nr_chunks; i++) {
		if (!(f->chunks[i].flags & IMG_CHUNK_FDS))
			continue;
		for (k = 0; k < f->chunks[i].len / 4; k++) {
			id = get_le32(f->chunks[i].data + 4 * k);
			if (img_find_file(r->img, id))
				continue;
			rd_fail(r, "file %u: descriptor in flight %u is no file of the image",
				f->id, id);
			return -1;
		}
	}
	return 0;
}

/* A socket's peer is a socket of the image (inos: those of the image's
 * sockets, sorted); a message queue ends with a whole message. */
static int check_unix(struct rd *r, const struct img_file *f,
		      const uint64_t *inos, uint32_t n)
{
	const struct img_chunk *last = f->nr_chunks ?
		&f->chunks[f->nr_chunks - 1] : NULL;

	if (f->sk.peer && !bsearch(&f->sk.peer, inos, n, sizeof(*inos),
				   cmp_u64)) {
		rd_fail(r, "file %u: its peer %llu is no socket of the image",
			f->id, (unsigned long long)f->sk.peer);
		return -1;
	}
	if (last && is_msg_socket(f) && !(last->flags & IMG_CHUNK_EOR)) {
		rd_fail(r, "file %u: its last message has no end", f->id);
		return -1;
	}
	if (last && (last->flags & (IMG_CHUNK_FDS | IMG_CHUNK_CREDS))) {
		rd_fail(r, "file %u: descriptors or credentials without bytes",
			f->id);
		return -1;
	}
	if (last && (f->sk.opts & IMG_UNIX_EXTERNAL)) {
		rd_fail(r, "file %u: data queued from a peer outside the image",
			f->id);
		return -1;
	}
	return check_in_flight(r, f);
}

/* A pty slave has its master in the image, and each pair one master,
 * on /dev/pts or on a DEVPTS mount of the image. */
static int check_pty(struct rd *r, const struct img_file *f)
{
	const struct img_file *m = img_pty_master(r->img, f->tty.mount,
						  f->tty.index);
	uint32_t mnt = f->tty.mount;
	uint8_t buf[TTYQ_MAX];

	if (mnt && (mnt > r->img->nr_mounts ||
		    r->img->mounts[mnt - 1].kind != IMG_MNT_DEVPTS)) {
		rd_fail(r, "file %u: pty %u is on mount %u, which is no devpts mount of the image",
			f->id, f->tty.index, mnt);
		return -1;
	}

	if (f->kind == IMG_FILE_PTY_SLAVE && !m) {
		rd_fail(r, "file %u: the master of pty %u is not in the image",
			f->id, f->tty.index);
		return -1;
	}
	if (f->kind == IMG_FILE_PTY_MASTER && m != f) {
		rd_fail(r, "file %u: pty %u has two masters", f->id,
			f->tty.index);
		return -1;
	}
	/* restore makes a console in the root, on its own instance */
	if (f->kind == IMG_FILE_PTY_MASTER &&
	    (f->tty.flags & IMG_TTY_CONSOLE) && !mnt) {
		rd_fail(r, "file %u: console pty %u is on no devpts mount of the image",
			f->id, f->tty.index);
		return -1;
	}
	if (f->kind == IMG_FILE_PTY_MASTER && img_tty_input(f, buf) < 0) {
		rd_fail(r, "file %u: pty %u has typed bytes no terminal holds",
			f->id, f->tty.index);
		return -1;
	}
	return 0;
}

/* A GHOST file names a ghost of the image, a MEMFD file a memfd. */
static int check_object_files(struct rd *r)
{
	const struct image *img = r->img;
	uint32_t i;

	for (i = 0; i < img->nr_files; i++) {
		const struct img_file *f = &img->files[i];

		if (img_tty_kind(f->kind) && check_pty(r, f))
			return -1;
		if (f->ghost && (f->ghost > img->nr_ghosts ||
				 !S_ISFIFO(img->ghosts[f->ghost - 1].g.mode) !=
				 (f->kind == IMG_FILE_GHOST))) {
			rd_fail(r, "file %u opens ghost %u, which is no %s of the image",
				f->id, f->ghost, f->kind == IMG_FILE_GHOST ?
				"file or directory" : "FIFO");
			return -1;
		}
		if (f->kind == IMG_FILE_MEMFD && (f->shm > img->nr_shms ||
		    img->shms[f->shm - 1].shm.kind != IMG_SHM_MEMFD)) {
			rd_fail(r, "file %u opens shm object %u, which is no memfd of the image",
				f->id, f->shm);
			return -1;
		}
	}
	return 0;
}

static int cmp_ghost(const void *a, const void *b)
{
	const struct img_ghost *x = *(const struct img_ghost *const *)a;
	const struct img_ghost *y = *(const struct img_ghost *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

static int cmp_ghost_dir(const void *a, const void *b)
{
	const struct img_ghost *x = *(const struct img_ghost *const *)a;
	const struct img_ghost *y = *(const struct img_ghost *const *)b;

	if (S_ISDIR(x->mode) != S_ISDIR(y->mode))
		return S_ISDIR(x->mode) ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* Ghosts are named by dev and ino, a directory also by its path (a cwd):
 * each names one. */
static int check_ghosts(struct rd *r)
{
	const struct image *img = r->img;
	const struct img_ghost **g;
	uint32_t i, n = img->nr_ghosts;
	int ret = 0;

	g = malloc((size_t)(n ? n : 1) * sizeof(*g));
	if (!g) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		g[i] = &img->ghosts[i].g;
	qsort(g, n, sizeof(*g), cmp_ghost);
	for (i = 1; i < n && !ret; i++)
		if (!cmp_ghost(&g[i - 1], &g[i])) {
			rd_fail(r, "ghosts %u and %u are one inode",
				g[i - 1]->id, g[i]->id);
			ret = -1;
		}
	qsort(g, n, sizeof(*g), cmp_ghost_dir);
	for (i = 1; i < n && !ret; i++)
		if (S_ISDIR(g[i]->mode) && !cmp_ghost_dir(&g[i - 1], &g[i])) {
			rd_fail(r, "ghost directories %u and %u have one path",
				g[i - 1]->id, g[i]->id);
			ret = -1;
		}
	free(g);
	return ret;
}

/* The files as a whole, once the first PROC shows they are all in. */
int sem_files_end(struct rd *r)
{
	const struct image *img = r->img;
	uint64_t *inos;
	uint32_t i, n = 0;
	int ret = 0;

	inos = malloc((size_t)(img->nr_files ? img->nr_files : 1) *
		      sizeof(*inos));
	if (!inos) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < img->nr_files; i++)
		if (img->files[i].kind == IMG_FILE_UNIX)
			inos[n++] = img->files[i].ino;
	qsort(inos, n, sizeof(*inos), cmp_u64);
	for (i = 0; i < img->nr_files && !ret; i++)
		if (img->files[i].kind == IMG_FILE_UNIX)
			ret = check_unix(r, &img->files[i], inos, n);
	free(inos);
	if (ret || check_ghosts(r) || check_object_files(r) ||
	    check_epolls(r) || sem_net_end(r))
		return -1;
	return sem_inet_end(r);
}

/* ---- the end of a process ----------------------------------------------- */

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* The first value that appears twice among n, or -1 (values are >= 0). */
static int64_t dup_i32(int32_t *v, uint32_t n)
{
	uint32_t i;

	qsort(v, n, sizeof(*v), cmp_i32);
	for (i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return v[i];
	return -1;
}

static int check_unique(struct rd *r, const struct img_process *p)
{
	int32_t *v;
	int64_t dup;
	uint32_t i, n = p->nr_threads > p->nr_fds ? p->nr_threads : p->nr_fds;

	v = malloc((size_t)(n ? n : 1) * sizeof(*v));
	if (!v) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < p->nr_threads; i++)
		v[i] = p->threads[i].tid;
	dup = dup_i32(v, p->nr_threads);
	if (dup >= 0)
		goto tid;
	for (i = 0; i < p->nr_fds; i++)
		v[i] = p->fds[i].fd;
	dup = dup_i32(v, p->nr_fds);
	free(v);
	if (dup >= 0) {
		rd_fail(r, "process %u (pid %d): fd %lld appears twice",
			r->img->nr_procs, p->proc.pid, (long long)dup);
		return -1;
	}
	return 0;
tid:
	free(v);
	rd_fail(r, "process %u (pid %d): thread %lld appears twice",
		r->img->nr_procs, p->proc.pid, (long long)dup);
	return -1;
}

/* The VMA holding addr, or NULL: vmas[] is sorted and disjoint. */
static const struct img_vma *find_vma(const struct img_process *p,
				      uint64_t addr)
{
	uint32_t lo = 0, hi = p->nr_vmas, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < p->vmas[mid].start)
			hi = mid;
		else if (addr >= p->vmas[mid].end)
			lo = mid + 1;
		else
			return &p->vmas[mid];
	}
	return NULL;
}

struct span {
	uint64_t start, end;
	uint32_t i;		/* in pages[] */
};

static int cmp_span(const void *a, const void *b)
{
	uint64_t x = ((const struct span *)a)->start;
	uint64_t y = ((const struct span *)b)->start;

	return (x > y) - (x < y);
}

static int check_pages_in_vmas(struct rd *r, const struct img_process *p)
{
	uint64_t ps = r->img->hdr.page_size, end;
	const struct img_vma *v;
	uint32_t i;

	for (i = 0; i < p->nr_pages; i++) {
		end = p->pages[i].addr + p->pages[i].nr_pages * ps;
		v = find_vma(p, p->pages[i].addr);
		if (v && end <= v->end && !((v->shm ||
					     (v->flags & IMG_VMA_GHOST)) &&
					    (v->flags & IMG_VMA_SHARED)))
			continue;
		rec_fail_at(r, r->ploc[i].no, IMG_REC_PAGES, r->ploc[i].off,
			    v && end <= v->end ?
			    "pages %#llx-%#llx in a shared mapping of a shm object or ghost" :
			    "pages %#llx-%#llx not inside one vma",
			    (unsigned long long)p->pages[i].addr,
			    (unsigned long long)end);
		return -1;
	}
	return 0;
}

/* Sorted by address, the pages must not overlap: at once when they come
 * in ascending order, as ckpt writes them. */
static int check_pages_disjoint(struct rd *r, const struct img_process *p)
{
	uint64_t ps = r->img->hdr.page_size;
	struct span *sp;
	uint32_t i;
	int ret = 0;

	for (i = 1; i < p->nr_pages; i++)
		if (p->pages[i - 1].addr + p->pages[i - 1].nr_pages * ps >
		    p->pages[i].addr)
			break;
	if (i >= p->nr_pages)
		return 0;
	sp = malloc((size_t)(p->nr_pages ? p->nr_pages : 1) * sizeof(*sp));
	if (!sp) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < p->nr_pages; i++) {
		sp[i].start = p->pages[i].addr;
		sp[i].end = sp[i].start + p->pages[i].nr_pages * ps;
		sp[i].i = i;
	}
	qsort(sp, p->nr_pages, sizeof(*sp), cmp_span);
	for (i = 1; i < p->nr_pages && !ret; i++) {
		if (sp[i - 1].end <= sp[i].start)
			continue;
		rec_fail_at(r, r->ploc[sp[i].i].no, IMG_REC_PAGES,
			    r->ploc[sp[i].i].off, "pages at %#llx overlap "
			    "those of record %llu",
			    (unsigned long long)sp[i].start,
			    (unsigned long long)r->ploc[sp[i - 1].i].no);
		ret = -1;
	}
	free(sp);
	return ret;
}

static int is_thread_of(const struct img_process *p, int32_t tid)
{
	uint32_t i;

	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].tid == tid)
			return 1;
	return 0;
}

/* A timer's notified thread and the thread whose CPU time it measures
 * are threads of its process. */
static int check_timer_threads(struct rd *r, const struct img_process *p)
{
	const struct img_pstate *s = &p->proc.ks;
	uint32_t i;

	for (i = 0; i < s->nr_timers; i++) {
		const struct img_timer *t = &s->timers[i];

		/* a CPU clock's id: the process's, or one of its threads' */
		int32_t cid = t->clockid < 0 ? ~(t->clockid >> 3) : 0;

		if ((t->tid && !is_thread_of(p, t->tid)) ||
		    (t->owner && !is_thread_of(p, t->owner)) ||
		    (cid && (t->clockid & 4 ? !is_thread_of(p, cid) :
			     cid != p->proc.pid))) {
			rd_fail(r, "process %d: timer %d names a thread it "
				"has not", p->proc.pid, t->id);
			return -1;
		}
	}
	return 0;
}

/* Checks the latest process as a whole, now that all its records are in. */
int sem_process_end(struct rd *r)
{
	const struct img_process *p = &r->img->procs[r->img->nr_procs - 1];

	if (p->nr_threads != p->proc.nr_threads) {
		rd_fail(r, "process %u (pid %d): %u THREAD records, "
			"its PROC says %u", r->img->nr_procs, p->proc.pid,
			p->nr_threads, p->proc.nr_threads);
		return -1;
	}
	if (check_unique(r, p) || check_pages_in_vmas(r, p) ||
	    check_pages_disjoint(r, p) || check_locks(r, p) ||
	    check_aios(r, p) ||
	    check_timer_threads(r, p) || sem_share_end(r, p))
		return -1;
	return 0;
}

/* Is the owner a thread of p (IMG_FOWN_TID), a process or a process
 * group of the image? */
static int owner_in_image(const struct image *img,
			  const struct img_process *p, const struct img_fown *o)
{
	uint32_t i;

	if (o->type == IMG_FOWN_TID)
		return is_thread_of(p, o->pid);
	for (i = 0; i < img->nr_procs; i++)
		if ((o->type == IMG_FOWN_PID && img->procs[i].proc.pid == o->pid) ||
		    (o->type == IMG_FOWN_PGRP &&
		     img->procs[i].proc.pgid == o->pid))
			return 1;
	return 0;
}

/* Every SIGIO owner is of the tree (a thread one of the holder's): restore
 * could only name another process that happens to have the number. */
int sem_image_end(struct rd *r)
{
	static const char *const types[] = { "thread", "process", "group" };
	uint32_t i, k;

	for (i = 0; i < r->img->nr_files; i++) {
		const struct img_file *f = &r->img->files[i];

		if (f->kind != IMG_FILE_PIDFD || !f->pidfd.pid ||
		    find_proc(r->img, r->img->nr_procs, f->pidfd.pid))
			continue;
		rd_fail(r, "file %u: a pidfd of %d, not a process of the image",
			f->id, f->pidfd.pid);
		return -1;
	}
	for (i = 0; i < r->img->nr_procs; i++) {
		const struct img_process *p = &r->img->procs[i];

		for (k = 0; k < p->nr_fowns; k++) {
			const struct img_fown *o = &p->fowns[k];

			if (o->type == IMG_FOWN_PGRP &&
			    o->pid == r->img->procs[0].proc.pgid) {
				rd_fail(r, "process %d: the SIGIO owner of fd %d is the root's group %d, which restore replaces",
					p->proc.pid, o->fd, o->pid);
				return -1;
			}
			if (!o->pid || owner_in_image(r->img, p, o))
				continue;
			rd_fail(r, "process %d: the SIGIO owner of fd %d is %s %d, not of the image",
				p->proc.pid, o->fd, types[o->type], o->pid);
			return -1;
		}
	}
	return 0;
}
