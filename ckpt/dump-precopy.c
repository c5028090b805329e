/*
 * Pre-copy (attach --pre-copy): the memory of the tree is copied while it
 * runs, so that it is frozen only for its state and the pages it wrote
 * during the last round.
 *
 * Write tracking is an asynchronous userfaultfd write protection
 * (UFFD_FEATURE_WP_ASYNC, Linux 6.7): a write to a protected page only
 * clears the protection, in the kernel, without a fault delivered to
 * anyone, and PAGEMAP_SCAN reports the pages written since (no uffd-wp bit:
 * PAGE_IS_WRITTEN) and protects them again in the same call
 * (PM_SCAN_WP_MATCHING). The target makes the userfaultfd by a remote call
 * (userfaultfd() registers on the caller's mm), ckpt takes it with
 * pidfd_getfd() and the target's descriptor is closed in the same freeze;
 * registration and protection are ioctls ckpt makes on its copy. The
 * tracking is ckpt's alone: when ckpt closes it, or dies, the kernel
 * releases the userfaultfd, which unregisters every range and clears the
 * protection bits (seen on 6.18: pagemap's uffd-wp bit is clear once
 * the last descriptor is closed), and a write never waited on anyone
 * anyway. So the tracking ends after the thaw (unregistering walks every
 * page table entry of the ranges: 0.2 s a GiB), and a ckpt killed before
 * that leaves nothing of it in the process.
 *
 * What is taken from ckpt's copy: a page is used only if it is wanted at
 * the final freeze (pagemap), was copied after it was last protected, and
 * still carries the protection bit, read from a pagemap opened after the
 * freeze. Only this userfaultfd sets that bit at that address: pages the
 * target mapped anew, moved (mremap clears it without UFFD_FEATURE_EVENT_
 * REMAP), or faulted in again have none and are read from the frozen
 * target, as is everything outside the tracked ranges (file mappings'
 * private copies, a process that appeared during the rounds).
 *
 * The window: a ckpt killed between the remote userfaultfd() and the
 * remote close of its descriptor leaves that descriptor open in the
 * target (a userfaultfd with nothing registered, O_CLOEXEC).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "ckpt/dump-uffd.h"
#include "util/fault.h"

#define PRE_ROUNDS	8		/* copy rounds after the first */
#define PRE_ENOUGH	(4ULL << 20)	/* dirty bytes left for the freeze */
#define PRE_CHUNK	(16UL << 20)	/* bytes read at once */
#define SCAN_VEC	512		/* regions per PAGEMAP_SCAN */
#define PACE_STEP	(2ULL << 20)	/* see paced_op() */
#define PACE_REST	3		/* its pause: times as long as a step */

/* One tracked range: a private writable VMA as it was armed. */
struct pre_range {
	uint64_t start, end;
	uint8_t *mirror;	/* end - start bytes of ours: a page costs
				 * nothing until it is copied */
	uint8_t *valid;		/* per page: 1 + the round that copied it as
				 * it was when last protected; 0: not */
	int lost;		/* the scan refused it: nothing of it used */
	int piece;		/* of a lost range: its mirror and valid */
};

/* A run of pages for a PAGES record, and where its bytes are; data NULL:
 * a PRE_RUNS record, as round sent them. */
struct pre_run {
	uint64_t addr, nr;
	uint8_t *data;
	int owned;		/* malloc'd, not in a mirror */
	uint32_t round;
};

struct dump_pre {
	pid_t pid;
	int uffd, pagemap_fd;
	struct pre_range *r;
	int nr;
	struct pre_run *runs;
	size_t nr_runs, cap;
	uint64_t copied;	/* bytes copied while it ran */
	/* streamed (dump_opts.pre_stream): no mirror, each round's pages
	 * written to w at once, read through bounce (PRE_CHUNK bytes) */
	struct img_writer *w;
	uint8_t *bounce;
	uint32_t round;
	int announced;		/* its PRECOPY of this round is written */
	int failed;		/* the image could not take them */
	struct dump_smaps_pre smaps;	/* read before the last round */
};

static struct dump_pre *pre_new(struct dump_pre_table *t, pid_t pid)
{
	struct dump_pre **v = realloc(t->v, (t->n + 1) * sizeof(*v));
	struct dump_pre *p;

	if (!v)
		return NULL;
	t->v = v;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->uffd = p->pagemap_fd = -1;
	t->v[t->n++] = p;
	return p;
}

static struct dump_pre *pre_find(const struct dump_pre_table *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->v[i]->pid == pid)
			return t->v[i];
	return NULL;
}

struct dump_smaps_pre *dump_pre_smaps(struct dump_ctx *c)
{
	struct dump_pre *p = c->pres ? pre_find(c->pres, c->pid) : NULL;

	return p ? &p->smaps : dump_incr_smaps(c);
}

int dump_pre_trackable(const struct proc_map *m)
{
	const char *path = m->path;

	if (m->shared || !(m->prot & PROT_WRITE) ||
	    (m->vmflags & (PROC_VMF_IO | PROC_VMF_DROPPABLE)))
		return 0;
	return !path || !strncmp(path, "[anon", 5) || !strcmp(path, "[heap]") ||
	       !strncmp(path, "[stack", 6);
}

/*
 * Protecting or unprotecting a running process's memory rewrites each of
 * its page table entries. On this VM (paravirtualised, shadow page
 * tables) the process was held meanwhile, and for as long again after
 * it: 1 GiB unregistered at once held it 80-140 ms (tests/workloads/
 * migmem.c's D/gap-at against ckpt -v -v's stamps; perf saw its CPU run
 * nothing meanwhile). So, while it runs, that is done PACE_STEP at a
 * time, each step followed by a pause PACE_REST times as long: it runs
 * in between. Unregistering 1 GiB then takes some 0.3 s, after the thaw,
 * and the process rewriting 50 MiB/s saw gaps of 28-41 ms meanwhile.
 * 0, or -1 with errno from the first step that failed; with on_error,
 * the steps after a failed one are made too.
 */
static int paced_op(int uffd, unsigned long op, uint64_t start, uint64_t end,
		    int on_error)
{
	int ret = 0;
	struct timespec a, b;
	uint64_t s, e;
	long ns;

	for (s = start; s < end; s = e) {
		struct uffdio_range rg = { s, 0 };
		struct uffdio_writeprotect wp = {
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};

		e = (s & ~(PACE_STEP - 1)) + PACE_STEP;
		if (e > end)
			e = end;
		rg.len = e - s;
		wp.range = rg;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (ioctl(uffd, op, op == UFFDIO_WRITEPROTECT ?
			  (void *)&wp : (void *)&rg)) {
			ret = -1;
			if (!on_error)
				return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns = (b.tv_sec - a.tv_sec) * 1000000000L +
		     (b.tv_nsec - a.tv_nsec);
		ns *= PACE_REST;
		if (ns > 60000 && e < end)	/* a step that changed little: on */
			nanosleep(&(struct timespec){ 0, ns < 2000000 ? ns :
						      2000000 }, NULL);
	}
	return ret;
}

int dump_pre_uffd_op(int uffd, int protect, const struct proc_map *m)
{
	struct uffdio_register reg = {
		.range = { m->start, m->end - m->start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { m->start, m->end - m->start },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};

	return protect ? ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) :
			 ioctl(uffd, UFFDIO_REGISTER, &reg);
}

/* Register one range (protected after the thaw: protect()); 0 with
 * nothing added when the kernel will not (a range the target's own
 * userfaultfd has: EBUSY). */
static int add_range(struct dump_pre *p, const struct proc_map *m)
{
	size_t len = m->end - m->start, pages = len / sysconf(_SC_PAGESIZE);
	struct pre_range *r = realloc(p->r, (p->nr + 1) * sizeof(*r));

	if (!r)
		return -1;
	p->r = r;
	if (dump_pre_uffd_op(p->uffd, 0, m)) {
		pr_debug("no write tracking of %llx-%llx of %d: %s",
			 (unsigned long long)m->start,
			 (unsigned long long)m->end, p->pid, strerror(errno));
		return 0;
	}
	r = &p->r[p->nr];
	memset(r, 0, sizeof(*r));
	r->start = m->start;
	r->end = m->end;
	if (!p->w)
		r->mirror = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				 -1, 0);
	r->valid = calloc(pages, 1);
	p->nr++;	/* freed with the rest even if the next fails */
	if (r->mirror == MAP_FAILED) {
		r->mirror = NULL;
		return -1;
	}
	return r->valid ? 0 : -1;
}

/*
 * Range i was refused by the scan: a mapping made, moved or merged into
 * it since it was registered (a munmap and a new mmap of a piece of an
 * anonymous mapping the kernel had merged with its neighbour). What is
 * still ours of it are the mappings inside it that still carry our write
 * protection (VmFlags uw: no other userfaultfd is in this process, and a
 * mapping made or moved there has none); each becomes a range of its
 * own, over the same mirror and the same valid bytes, so that the rest
 * stays tracked. The number of pieces, or -1 when out of memory.
 */
static int split(struct dump_pre *p, int i)
{
	struct proc_map *maps;
	struct pre_range *r;
	long ps = sysconf(_SC_PAGESIZE);
	int n = proc_parse_maps(p->pid, &maps), k, got = 0;
	uint64_t start = p->r[i].start, end = p->r[i].end;

	if (n < 0)
		return 0;	/* gone, or unreadable: lost it is */
	for (k = 0; k < n; k++) {
		if (!(maps[k].vmflags & PROC_VMF_UFFD_WP) ||
		    maps[k].start < start || maps[k].end > end)
			continue;
		r = realloc(p->r, (p->nr + 1) * sizeof(*r));
		if (!r) {
			free(maps);
			return -1;
		}
		p->r = r;
		r[p->nr] = r[i];
		r[p->nr].start = maps[k].start;
		r[p->nr].end = maps[k].end;
		if (r[i].mirror)
			r[p->nr].mirror += maps[k].start - start;
		r[p->nr].valid += (maps[k].start - start) / ps;
		r[p->nr].lost = 0;
		r[p->nr].piece = 1;
		p->nr++;
		got++;
	}
	free(maps);
	if (got)
		pr_info("pre-copy of %d: %llx-%llx tracked on in %d pieces",
			p->pid, (unsigned long long)start,
			(unsigned long long)end, got);
	return got;
}

/*
 * Protect every range of p, the process running again: walking the page
 * tables of a GiB takes 0.2 s, which the arming freeze need not hold.
 * Round 0 copies every page after its range was protected, so what the
 * process wrote meanwhile is in that copy, or has no protection bit. A
 * range the kernel refuses (unmapped or mapped anew meanwhile: not ours
 * to protect) is lost to the tracking, read whole at the freeze, but
 * for the pieces that split() finds still ours.
 */
static void protect(struct dump_pre *p)
{
	int i;

	for (i = 0; i < p->nr; i++) {
		struct proc_map m = { .start = p->r[i].start,
				      .end = p->r[i].end };

		if (paced_op(p->uffd, UFFDIO_WRITEPROTECT, m.start, m.end,
			     0)) {
			pr_debug("pre-copy of %d: %llx-%llx not protected: %s",
				 p->pid, (unsigned long long)m.start,
				 (unsigned long long)m.end, strerror(errno));
			p->r[i].lost = 1;
			/* its pieces come after it: this loop protects them */
			if (split(p, i) < 0)
				p->failed = 1;
		}
	}
}

/* Has the process a userfaultfd of its own? Its ranges would refuse ours
 * one by one; better none at all, and the dump says what it thinks of it. */
static int owns_uffd(pid_t pid)
{
	char path[64], link[64];
	int fd;

	for (fd = 0; fd < 4096; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, "anon_inode:[userfaultfd]"))
			return 1;
	}
	return 0;
}

/* The target's userfaultfd() made remotely, ours by pidfd_getfd(), its
 * own closed again: our descriptor, or -1 (*why says which step). */
static int remote_uffd(struct dump_ctx *c, const char **why)
{
	int ti = inject_leader(c->ip), pidfd = -1, fd = -1, saved;
	long tfd, ret;

	*why = "userfaultfd() in the target";
	if (inject_prepare(c->ip))
		return -1;
	if (inject_syscall(c->ip, ti, &tfd, SYS_userfaultfd,
			   O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY,
			   0, 0, 0, 0, 0))
		goto out;
	if (tfd < 0) {
		errno = -tfd;
		goto out;
	}
	fault_point("pre-uffd");
	*why = "pidfd_getfd()";
	pidfd = syscall(SYS_pidfd_open, c->pid, 0);
	if (pidfd >= 0)
		fd = syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
	saved = errno;
	if (inject_syscall(c->ip, ti, &ret, SYS_close, tfd, 0, 0, 0, 0, 0) ||
	    ret < 0) {
		*why = "closing the target's userfaultfd";
		saved = ret < 0 ? -ret : errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	errno = saved;
out:
	saved = errno;
	if (pidfd >= 0)
		close(pidfd);
	if (inject_unprepare(c->ip)) {
		*why = "cleaning up after calls";
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	errno = saved;
	return fd;
}

int dump_pre_open_uffd(struct dump_ctx *c)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_WP_ASYNC };
	const char *why;
	int fd;

	if (owns_uffd(c->pid)) {
		pr_info("no write tracking of %d: it has a userfaultfd of its own",
			c->pid);
		return -1;
	}
	if (dump_seccomp_suspend(c))
		return -2;
	fd = remote_uffd(c, &why);
	if (fd < 0) {
		pr_info("no write tracking of %d: %s: %s", c->pid, why,
			strerror(errno));
		return dump_gone(c) ? -2 : -1;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		pr_info("no write tracking of %d: this kernel has no asynchronous write protection",
			c->pid);
		close(fd);
		return -1;
	}
	return fd;
}

/* Start the tracking in one frozen process; a process that cannot have
 * it is only told of with -v (its snapshot copies it whole). */
static int arm_one(struct dump_ctx *c, struct dump_pre *p)
{
	struct proc_map *maps = NULL;
	char path[64];
	int i, n, ret = -1;

	p->uffd = dump_pre_open_uffd(c);
	if (p->uffd < 0)
		return p->uffd == -2 ? -1 : 0;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", c->pid);
	p->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	n = proc_parse_maps(c->pid, &maps);
	if (p->pagemap_fd < 0 || n < 0) {
		dump_perror(c, "can't read the memory map of %d", c->pid);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (dump_pre_trackable(&maps[i]) && add_range(p, &maps[i])) {
			dump_perror(c, "can't track the writes of %d", c->pid);
			goto out;
		}
	ret = 0;
out:
	proc_free_maps(maps, n > 0 ? n : 0);
	return ret;
}

int dump_pre_arm(struct dump_tree *t)
{
	struct dump_pre *p;
	int i;

	for (i = 0; i < t->n; i++) {
		struct dump_ctx *c = &t->procs[i];

		if (c->proc.proc.zombie || !c->ip)
			continue;
		p = pre_new(&t->pres, c->pid);
		if (!p)
			return -1;
		if (c->o->pre_stream) {
			p->w = c->w;
			p->bounce = malloc(PRE_CHUNK);
			if (!p->bounce)
				return -1;
		}
		if (arm_one(c, p))
			return -1;
	}
	return 0;
}

int dump_pm_scan(int pm, uint64_t start, uint64_t end, uint64_t flags,
		 uint64_t mask, uint64_t anyof,
		 int (*fn)(void *arg, uint64_t s, uint64_t e), void *arg)
{
	struct page_region v[SCAN_VEC];
	struct pm_scan_arg a = {
		.size = sizeof(a), .flags = flags, .start = start, .end = end,
		.vec = (uintptr_t)v, .vec_len = SCAN_VEC,
		.category_mask = mask, .category_anyof_mask = anyof,
		.return_mask = mask | anyof,
	};
	long n, i;

	while (a.start < end) {
		n = ioctl(pm, PAGEMAP_SCAN, &a);
		if (n < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (fn(arg, v[i].start, v[i].end))
				return -1;
		if (a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	return 0;
}

/* A range of p for dump_pm_scan's callbacks. */
struct pre_at {
	struct dump_pre *p;
	struct pre_range *r;
};

static int scan(int pm, uint64_t start, uint64_t end, uint64_t flags,
		uint64_t mask, uint64_t anyof,
		int (*fn)(void *, uint64_t, uint64_t), struct dump_pre *p,
		struct pre_range *r)
{
	struct pre_at at = { p, r };

	return dump_pm_scan(pm, start, end, flags, mask, anyof, fn, &at);
}

/* Streamed: len bytes of pages at addr into the image, after the
 * PRECOPY record of this process and round. */
static int send(struct dump_pre *p, uint64_t addr, size_t len, long ps)
{
	if (!p->announced && img_write_precopy(p->w, p->pid, p->round))
		goto err;
	p->announced = 1;
	if (img_write_pages_begin(p->w, addr, len / ps) ||
	    img_write_pages_data(p->w, p->bounce, len) ||
	    img_write_pages_end(p->w))
		goto err;
	return 0;
err:
	p->failed = 1;
	return -1;
}

/* Copy [s, e) of the running target into r's mirror, or streamed into
 * the image; what could not be read (unmapped, made unreadable
 * meanwhile) stays not valid. */
static int copy(void *arg, uint64_t s, uint64_t e)
{
	struct dump_pre *p = ((struct pre_at *)arg)->p;
	struct pre_range *r = ((struct pre_at *)arg)->r;
	long ps = sysconf(_SC_PAGESIZE);

	while (s < e) {
		size_t len = e - s < PRE_CHUNK ? e - s : PRE_CHUNK;
		struct iovec l = { p->w ? p->bounce :
				   r->mirror + (s - r->start), len };
		struct iovec rm = { (void *)(uintptr_t)s, len };
		ssize_t n = process_vm_readv(p->pid, &l, 1, &rm, 1, 0);

		if (n < ps) {
			if (n < 0 && errno == ESRCH)
				return -1;
			/* skip the page it stopped at; a round after the first
			 * found it written and protected it again: what we
			 * hold of it is older than that */
			r->valid[(s - r->start) / ps] = 0;
			n = ps;
		} else {
			n = n / ps * ps;
			if (p->w && send(p, s, n, ps))
				return -1;
			memset(r->valid + (s - r->start) / ps, 1 + p->round,
			       n / ps);
			p->copied += n;
		}
		s += n;
	}
	return 0;
}

/* One round over every range of p: the first copies every page there
 * is, the next ones what was written since (protected again by the
 * scan itself). A range the scan refuses is lost to the tracking, but
 * for the pieces split() finds still ours. */
static void round_of(struct dump_pre *p, int first)
{
	int i;

	for (i = 0; i < p->nr && !p->failed; i++) {
		struct pre_range *r = &p->r[i];
		int err;

		if (r->lost)
			continue;
		if (first)
			err = scan(p->pagemap_fd, r->start, r->end, 0, 0,
				   PAGE_IS_PRESENT | PAGE_IS_SWAPPED, copy, p,
				   r);
		else
			err = scan(p->pagemap_fd, r->start, r->end,
				   PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
				   PAGE_IS_WRITTEN, 0, copy, p, r);
		if (err) {
			pr_debug("pre-copy of %d: %llx-%llx no longer tracked: %s",
				 p->pid, (unsigned long long)r->start,
				 (unsigned long long)r->end, strerror(errno));
			r->lost = 1;
			/* its pieces come after it: this loop scans them */
			if (split(p, i) < 0)
				p->failed = 1;
		}
	}
}

int dump_pre_rounds(struct dump_tree *t)
{
	uint64_t before, last = UINT64_MAX, dirty;
	int k, i;

	for (i = 0; i < t->pres.n; i++)
		protect(t->pres.v[i]);
	for (k = 0; k <= PRE_ROUNDS; k++) {
		before = 0;
		for (i = 0; i < t->pres.n; i++)
			before += t->pres.v[i]->copied;
		/* the smaps walk, before a round that may be the last: off
		 * the frozen time if nothing changes from now on (its pages
		 * written meanwhile are this round's) */
		for (i = 0; k && i < t->pres.n; i++)
			dump_maps_preread(t->pres.v[i]->pid,
					  &t->pres.v[i]->smaps);
		for (i = 0; i < t->pres.n; i++) {
			if (dump_interrupted(&t->procs[0]))
				return -1;
			fault_point("pre-copy");
			t->pres.v[i]->round = k;
			t->pres.v[i]->announced = 0;
			round_of(t->pres.v[i], !k);
			if (t->pres.v[i]->failed)
				return -1;
		}
		dirty = 0;
		for (i = 0; i < t->pres.n; i++)
			dirty += t->pres.v[i]->copied;
		dirty -= before;
		pr_info("pre-copy round %d: %llu KiB", k,
			(unsigned long long)(dirty >> 10));
		if (k && (dirty <= PRE_ENOUGH || dirty >= last))
			break;
		if (k)
			last = dirty;
	}
	log_stamp("pre-copy rounds done");
	fault_point("pre-rounds-done");
	return 0;
}

static struct pre_range *range_at(struct dump_pre *p, uint64_t addr)
{
	int i;

	for (i = 0; i < p->nr; i++)
		if (addr >= p->r[i].start && addr < p->r[i].end &&
		    !p->r[i].lost)
			return &p->r[i];
	return NULL;
}

/* The first tracked range above addr, or end. */
static uint64_t next_range(struct dump_pre *p, uint64_t addr, uint64_t end)
{
	int i;

	for (i = 0; i < p->nr; i++)
		if (!p->r[i].lost && p->r[i].start > addr &&
		    p->r[i].start < end)
			end = p->r[i].start;
	return end;
}

static int add_run(struct dump_pre *p, uint64_t addr, uint64_t nr,
		   uint8_t *data, int owned)
{
	struct pre_run *v;

	if (p->nr_runs == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		v = realloc(p->runs, p->cap * sizeof(*v));
		if (!v) {
			if (owned)
				free(data);
			return -1;
		}
		p->runs = v;
	}
	p->runs[p->nr_runs++] = (struct pre_run){ addr, nr, data, owned, 0 };
	return 0;
}

static int read_frozen(struct dump_ctx *c, struct dump_mem_io *io,
		       uint64_t addr, void *buf, size_t len)
{
	if (!dump_mem_read(c, io, addr, buf, len))
		return 0;
	dump_perror(c, "can't read memory of %d at %llx", c->pid,
		    (unsigned long long)addr);
	return -1;
}

/* [addr, +nr) read from the frozen target into a run of its own. */
static int snap_frozen(struct dump_ctx *c, struct dump_mem_io *io,
		       uint64_t addr, uint64_t nr)
{
	uint8_t *buf = malloc(nr * c->page_size);

	if (!buf || read_frozen(c, io, addr, buf, nr * c->page_size)) {
		free(buf);
		return -1;
	}
	return add_run(c->pre, addr, nr, buf, 1);	/* frees on error */
}

/* Streamed: a run of pages some round sent as they are now. */
static int add_ref(struct dump_pre *p, uint64_t addr, uint64_t nr,
		   uint32_t round)
{
	if (add_run(p, addr, nr, NULL, 0))
		return -1;
	p->runs[p->nr_runs - 1].round = round;
	return 0;
}

/* Pages [addr, +nr) inside tracked range r: the ones not valid read now.
 * Streamed, the valid ones are named by the round that sent them. */
static int snap_tracked(struct dump_ctx *c, struct dump_mem_io *io,
			struct pre_range *r, uint64_t addr, uint64_t nr)
{
	uint64_t ps = c->page_size, i = 0, j;
	uint8_t *valid = r->valid + (addr - r->start) / ps;
	int err;

	while (i < nr) {
		for (j = i; j < nr && valid[j] == valid[i]; j++)
			;
		if (c->pre->w)
			err = valid[i] ? add_ref(c->pre, addr + i * ps, j - i,
						 valid[i] - 1) :
			      snap_frozen(c, io, addr + i * ps, j - i);
		else
			err = !valid[i] &&
			      read_frozen(c, io, addr + i * ps,
					  r->mirror + (addr - r->start) +
					  i * ps, (j - i) * ps);
		if (err)
			return -1;
		i = j;
	}
	if (c->pre->w)
		return 0;
	return add_run(c->pre, addr, nr, r->mirror + (addr - r->start), 0);
}

/* A run of wanted pages at the final freeze: from the mirror where it
 * holds them, else from the frozen target. */
static int snap_run(struct dump_ctx *c, struct dump_mem_io *io,
		    uint64_t addr, uint64_t nr, void *arg)
{
	uint64_t ps = c->page_size, end = addr + nr * ps, n, lim;
	struct pre_range *r;

	(void)arg;
	while (addr < end) {
		r = range_at(c->pre, addr);
		lim = r ? (r->end < end ? r->end : end) :
		      next_range(c->pre, addr, end);
		n = (lim - addr) / ps;
		if (r ? snap_tracked(c, io, r, addr, n) :
		    snap_frozen(c, io, addr, n))
			return -1;
		addr = lim;
	}
	return 0;
}

/* Pages [s, e) were written since their protection, or are not the
 * pages that were protected: what the mirror holds of them is not used. */
static void forget(struct dump_pre *p, uint64_t s, uint64_t e)
{
	long ps = sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < p->nr; i++) {
		struct pre_range *r = &p->r[i];
		uint64_t a = s > r->start ? s : r->start;
		uint64_t b = e < r->end ? e : r->end;

		if (a < b)
			memset(r->valid + (a - r->start) / ps, 0, (b - a) / ps);
	}
}

static int forget_cb(void *arg, uint64_t s, uint64_t e)
{
	forget(((struct pre_at *)arg)->p, s, e);
	return 0;
}

/*
 * The wanted pages of v at the final freeze in one walk of the kernel:
 * PAGEMAP_SCAN's regions, where reading a pagemap entry a page cost
 * 0.13 s a GiB while frozen. A region without the protection bit
 * (PAGE_IS_WRITTEN) is forgotten from the mirror first. 1 when the kernel
 * refuses the categories before it did anything (no PAGE_IS_GUARD before
 * 6.15).
 */
static int snap_regions(struct dump_ctx *c, struct dump_mem_io *io,
			const struct img_vma *v, const struct page_region *reg,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!dump_mem_wanted_cat(v, reg[i].categories))
			continue;
		if (reg[i].categories & PAGE_IS_WRITTEN)
			forget(c->pre, reg[i].start, reg[i].end);
		if (snap_run(c, io, reg[i].start,
			     (reg[i].end - reg[i].start) / c->page_size, NULL))
			return -1;
	}
	return 0;
}

static int snap_vma(struct dump_ctx *c, struct dump_mem_io *io,
		    const struct img_vma *v)
{
	struct page_region reg[SCAN_VEC];
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = v->start, .end = v->end,
		.vec = (uintptr_t)reg, .vec_len = SCAN_VEC,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = DUMP_SNAP_CATS,
	};
	const struct page_region *pre;
	size_t nr;
	long n;

	/* scanned already while the state was gathered (dump-prescan.c) */
	pre = dump_prescan_get(c, v->start, v->end, &nr);
	if (pre)
		return snap_regions(c, io, v, pre, nr);
	while (a.start < v->end) {
		n = ioctl(io->pagemap_fd, PAGEMAP_SCAN, &a);
		if (n < 0 && errno == EINVAL && a.start == v->start)
			return 1;
		if (n < 0) {
			dump_perror(c, "can't scan the pagemap of %d", c->pid);
			return -1;
		}
		if (snap_regions(c, io, v, reg, n))
			return -1;
		if (a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	return 0;
}

/* The same with a pagemap entry a page, as the old kernel must. */
static int snap_vma_slow(struct dump_ctx *c, struct dump_mem_io *io,
			 const struct img_vma *v)
{
	if (dump_pm_scan(io->pagemap_fd, v->start, v->end, 0, PAGE_IS_WRITTEN,
			 0, forget_cb, &(struct pre_at){ c->pre, NULL })) {
		dump_perror(c, "can't scan the pagemap of %d", c->pid);
		return -1;
	}
	return dump_mem_vma_runs(c, io, v, snap_run, NULL);
}

/* Every wanted page of c: the mirror's where it holds them as they are
 * now, the frozen target's otherwise. */
static int snap_all(struct dump_ctx *c)
{
	struct dump_mem_io io;
	uint32_t i;
	int r = 0;

	if (dump_mem_io_open(c, &io))
		return -1;
	for (i = 0; i < c->proc.nr_vmas && r >= 0; i++) {
		const struct img_vma *v = &c->proc.vmas[i];

		if (!dump_mem_wanted_cat(v, PAGE_IS_PRESENT | PAGE_IS_SWAPPED))
			continue;	/* nothing of it in the image */
		r = snap_vma(c, &io, v);
		if (r > 0)
			r = snap_vma_slow(c, &io, v);
	}
	dump_mem_io_close(&io);
	return r < 0 ? -1 : 0;
}

/* End the tracking, after the thaw (paced_op): its VMAs are as they
 * were before it once it runs again. */
static void disarm(struct dump_pre *p)
{
	int i;

	if (p->uffd < 0)
		return;
	for (i = 0; i < p->nr; i++)	/* gone: fine */
		(void)!paced_op(p->uffd, UFFDIO_UNREGISTER, p->r[i].start,
				p->r[i].end, 1);
	close(p->uffd);
	p->uffd = -1;
}


int dump_pre_snapshot(struct dump_ctx *c)
{
	struct dump_pre *p = pre_find(c->pres, c->pid);

	if (!p && !(p = pre_new(c->pres, c->pid)))
		return -1;
	c->pre = p;
	fault_point("pre-snapshot");
	log_stamp("frozen: memory of %d", c->pid);
	/* the tracking ends after the thaw (dump_pre_write, or with the
	 * rest in dump_pre_free): unregistering walks the whole range
	 * (0.2 s a GiB) */
	if (snap_all(c)) {
		dump_prescan_end(c);
		return -1;
	}
	dump_prescan_end(c);
	log_stamp("frozen: memory of %d found", c->pid);
	return 0;
}

/* A run read at the freeze, as PAGES. */
static int write_data_run(struct dump_ctx *c, const struct pre_run *run)
{
	uint64_t left = run->nr * c->page_size, off = 0;

	if (img_write_pages_begin(c->w, run->addr, run->nr))
		return -1;
	while (left) {
		size_t n = left < PRE_CHUNK ? left : PRE_CHUNK;

		if (dump_interrupted(c))
			return -1;
		fault_point("memory");
		if (img_write_pages_data(c->w, run->data + off, n))
			return -1;
		off += n;
		left -= n;
	}
	return img_write_pages_end(c->w);
}

/*
 * The runs in address order, so that a reader finds them ascending (one
 * pass checks them): those a round sent named by PRE_RUNS records, as
 * many to one as come between two runs read at the freeze (a migration's
 * freeze names tens of thousands), the others as PAGES.
 */
int dump_pre_write(struct dump_ctx *c)
{
	struct dump_pre *p = c->pre;
	struct img_pre_run *v;
	uint32_t n = 0;
	size_t i;
	int ret = 0;

	/* thawed (late records): it runs on untracked as it was before */
	if (!c->o->kill) {
		fault_point("pre-disarm");
		disarm(p);
	}
	v = malloc(IMG_PRE_RUNS_MAX * sizeof(*v));
	if (!v)
		return -1;
	for (i = 0; i < p->nr_runs && !ret; i++) {
		const struct pre_run *run = &p->runs[i];

		if (!run->data) {
			v[n++] = (struct img_pre_run){ run->addr, run->nr,
						       run->round };
			if (n == IMG_PRE_RUNS_MAX) {
				ret = img_write_pre_runs(c->w, v, n);
				n = 0;
			}
			continue;
		}
		if (n)
			ret = img_write_pre_runs(c->w, v, n);
		n = 0;
		if (!ret)
			ret = write_data_run(c, run);
	}
	if (n && !ret)
		ret = img_write_pre_runs(c->w, v, n);
	free(v);
	return ret;
}

void dump_pre_free(struct dump_pre_table *t)
{
	int i, k;
	size_t j;

	for (i = 0; i < t->n; i++) {
		struct dump_pre *p = t->v[i];

		disarm(p);
		dump_maps_preread_free(&p->smaps);
		if (p->pagemap_fd >= 0)
			close(p->pagemap_fd);
		for (k = 0; k < p->nr; k++) {
			if (p->r[k].piece)
				continue;
			if (p->r[k].mirror)
				munmap(p->r[k].mirror,
				       p->r[k].end - p->r[k].start);
			free(p->r[k].valid);
		}
		for (j = 0; j < p->nr_runs; j++)
			if (p->runs[j].owned)
				free(p->runs[j].data);
		free(p->r);
		free(p->runs);
		free(p->bounce);
		free(p);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
