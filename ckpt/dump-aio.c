/*
 * The AIO contexts of a process (io_setup(2)): each has a ring, a shared
 * mapping "/[aio] (deleted)" at the context's id, which holds the
 * completed events not reaped yet; the rest is the kernel's. A context
 * is saved (an AIO record: restore/aio.c makes it again) when it has no
 * request in flight; one that has is refused, naming it.
 *
 * Nothing in /proc shows the contexts' requests, nor max_reqs: a BPF
 * task iterator (bpf/aio.bpf.c, embedded) reads them from the kernel's
 * struct kioctx. Where BPF can't be loaded (no CAP_BPF, an old kernel,
 * no BTF) an AIO ring is refused as before, saying why.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "ckpt/dump-priv.h"
#include "util/util.h"

/* bpf/aio.bpf.c's object, embedded by the Makefile */
extern const unsigned char ckpt_aio_bpf[], ckpt_aio_bpf_end[];

/* bpf/aio.bpf.c's record: one context */
struct aio_seen {
	uint64_t ring;
	uint64_t reqs;		/* requests alive; UINT64_MAX: unknown */
	uint32_t max_reqs;
	uint32_t nr_events;
	uint32_t tail;		/* the kernel's own (ctx->tail) */
	uint32_t pad;
};

/* its read-only globals, in order */
struct aio_rodata {
	uint32_t nr_cpus;
};

#define RING_NAME	"/[aio] (deleted)"
#define RING_TAIL	3	/* the header's words: id nr head tail ... */

int dump_is_aio_ring(const char *path)
{
	return path && !strcmp(path, RING_NAME);
}

static const struct dump_bpf aio_bpf = {
	.blob = ckpt_aio_bpf, .end = ckpt_aio_bpf_end, .name = "ckpt_aio",
};

/* The iterator's records for process pid, read whole. */
static struct aio_seen *aio_iterate(pid_t pid, size_t *nr)
{
	struct aio_rodata ro = { 0 };
	int cpus = libbpf_num_possible_cpus();

	if (cpus <= 0) {
		errno = EINVAL;
		return NULL;
	}
	ro.nr_cpus = cpus;
	return dump_bpf_run(&aio_bpf, &ro, sizeof(ro), pid,
			    sizeof(struct aio_seen), nr);
}

int dump_aio_works(void)
{
	size_t nr;
	struct aio_seen *s = aio_iterate(getpid(), &nr);

	free(s);
	return s != NULL;
}

static const struct proc_map *ring_map(const struct dump_ctx *c,
				       uint64_t ring)
{
	int i;

	for (i = 0; i < c->nr_maps; i++)
		if (c->maps[i].start == ring &&
		    dump_is_aio_ring(c->maps[i].path))
			return &c->maps[i];
	return NULL;
}

static const struct aio_seen *seen_at(const struct aio_seen *s, size_t n,
				      uint64_t ring)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i].ring == ring)
			return &s[i];
	return NULL;
}

/* The ring's bytes, read from the frozen process. */
static int read_ring(struct dump_ctx *c, struct img_aio *a)
{
	char path[64];
	int fd, ret;

	a->data = malloc(a->len);
	if (!a->data)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", c->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = pread_full(fd, a->data, a->len, a->ring);
	close(fd);
	return ret ? -1 : 0;
}

/* One context as the iterator saw it, with the ring mapped at m. */
static int one_context(struct dump_ctx *c, const struct aio_seen *s,
		       const struct proc_map *m)
{
	struct img_process *p = &c->proc;
	uint64_t len = ((s->nr_events + 1ULL) * IMG_AIO_HDR + c->page_size - 1)
		       / c->page_size * c->page_size;
	struct img_aio *a, *n;
	uint32_t word[4];

	if (s->reqs == UINT64_MAX) {
		pr_err("can't dump AIO context %llx of %d: its requests in flight can't be counted",
		       (unsigned long long)s->ring, c->pid);
		errno = EIO;
		return -1;
	}
	if (s->reqs) {
		pr_err("can't dump AIO context %llx of %d: %llu requests in flight",
		       (unsigned long long)s->ring, c->pid,
		       (unsigned long long)s->reqs);
		errno = EBUSY;
		return -1;
	}
	if (m->end - m->start != len || len > IMG_MAX_AIO_LEN) {
		pr_err("can't dump AIO context %llx of %d: its ring is mapped at %llx-%llx, not as the kernel made it",
		       (unsigned long long)s->ring, c->pid,
		       (unsigned long long)m->start,
		       (unsigned long long)m->end);
		errno = EOPNOTSUPP;
		return -1;
	}
	n = realloc(p->aios, (p->nr_aios + 1) * sizeof(*n));
	if (!n)
		return -1;
	p->aios = n;
	a = &p->aios[p->nr_aios++];
	memset(a, 0, sizeof(*a));
	a->ring = s->ring;
	a->max_reqs = s->max_reqs;
	a->nr_events = s->nr_events;
	a->prot = m->prot;
	a->len = len;
	if (read_ring(c, a)) {
		dump_perror(c, "can't read the AIO ring %llx of %d",
			    (unsigned long long)a->ring, c->pid);
		return -1;
	}
	memcpy(word, a->data, sizeof(word));
	/* restore makes the kernel's tail by completing requests: the
	 * header's must be the kernel's */
	if (word[1] != s->nr_events || word[RING_TAIL] != s->tail) {
		pr_err("can't dump AIO context %llx of %d: its ring's header was overwritten",
		       (unsigned long long)a->ring, c->pid);
		errno = EOPNOTSUPP;
		return -1;
	}
	return 0;
}

int dump_collect_aio(struct dump_ctx *c)
{
	struct aio_seen *s;
	size_t nr = 0, i;
	int k, ret = -1;

	for (k = 0; k < c->nr_maps; k++)
		if (dump_is_aio_ring(c->maps[k].path))
			break;
	if (k == c->nr_maps)
		return 0;
	s = aio_iterate(c->pid, &nr);
	if (!s) {
		pr_err("can't dump mapping %llx-%llx of %d: an AIO ring (io_setup) whose requests in flight can't be seen (BPF: %s)",
		       (unsigned long long)c->maps[k].start,
		       (unsigned long long)c->maps[k].end, c->pid,
		       strerror(errno));
		errno = EOPNOTSUPP;
		return -1;
	}
	for (i = 0; i < nr; i++) {
		const struct proc_map *m = ring_map(c, s[i].ring);

		if (!m) {
			pr_err("can't dump AIO context %llx of %d: its ring is not mapped",
			       (unsigned long long)s[i].ring, c->pid);
			errno = EOPNOTSUPP;
			goto out;
		}
		if (one_context(c, &s[i], m))
			goto out;
	}
	/* after the contexts: a ring that mprotect split is refused
	 * above, as its context's */
	for (k = 0; k < c->nr_maps; k++)
		if (dump_is_aio_ring(c->maps[k].path) &&
		    !seen_at(s, nr, c->maps[k].start)) {
			pr_err("can't dump mapping %llx-%llx of %d: an AIO ring of no context",
			       (unsigned long long)c->maps[k].start,
			       (unsigned long long)c->maps[k].end, c->pid);
			errno = EOPNOTSUPP;
			goto out;
		}
	ret = 0;
out:
	free(s);
	return ret;
}

int dump_write_aios(struct dump_ctx *c)
{
	uint32_t i;

	for (i = 0; i < c->proc.nr_aios; i++)
		if (img_write_aio(c->w, &c->proc.aios[i]))
			return -1;
	return 0;
}

void dump_free_aios(struct img_process *p)
{
	uint32_t i;

	for (i = 0; i < p->nr_aios; i++)
		free(p->aios[i].data);
	free(p->aios);
	p->aios = NULL;
	p->nr_aios = 0;
}
