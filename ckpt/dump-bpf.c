/*
 * dump-bpf: how ckpt runs its BPF task iterators (the ckpt/bpf/ programs,
 * embedded by the Makefile): the object is opened from memory, given its
 * read-only globals, loaded, and for each run attached as an iterator on
 * one process's tasks (the link's pid filter); the records it writes are
 * read whole from the iterator's fd. Loading needs CAP_BPF, CAP_PERFMON
 * (root) and a kernel with BTF; the error of a failed load is kept, so
 * that a caller that loads once is told the same reason each time.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ckpt/dump-priv.h"

int dump_bpf_load(struct dump_bpf *b, const void *ro, size_t len)
{
	struct bpf_object *obj;
	struct bpf_program *p;

	if (b->prog)
		return 0;
	if (b->err) {
		errno = b->err;
		return -1;
	}
	libbpf_set_print(NULL);	/* its messages: the callers say why */
	obj = bpf_object__open_mem(b->blob, b->end - b->blob, NULL);
	if (!obj) {
		b->err = errno ? errno : EINVAL;
		errno = b->err;
		return -1;
	}
	p = bpf_object__find_program_by_name(obj, b->name);
	errno = 0;
	if (!p || (ro && bpf_map__set_initial_value(
			 bpf_object__find_map_by_name(obj, ".rodata"), ro,
			 len)) || bpf_object__load(obj)) {
		b->err = errno ? errno : EINVAL;
		bpf_object__close(obj);
		errno = b->err;
		return -1;
	}
	b->obj = obj;
	b->prog = p;
	return 0;
}

void dump_bpf_close(struct dump_bpf *b)
{
	bpf_object__close(b->obj);
	b->obj = NULL;
	b->prog = NULL;
}

/* Everything the iterator fd gives, into a buffer grown as needed. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 0, got = 0;
	char *buf = NULL, *nb;
	ssize_t n;

	for (;;) {
		if (cap - got < 4096) {
			nb = realloc(buf, cap = cap * 2 + 65536);
			if (!nb) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (!n)
			break;
		got += n;
	}
	*len = got;
	return buf;
}

void *dump_bpf_iterate(struct dump_bpf *b, pid_t pid, size_t rec,
		       size_t *nr)
{
	union bpf_iter_link_info li = { .task.pid = pid };
	LIBBPF_OPTS(bpf_iter_attach_opts, o, .link_info = &li,
		    .link_info_len = sizeof(li));
	struct bpf_link *link;
	size_t len = 0;
	char *buf = NULL;
	int fd, err = 0;

	if (!b->prog) {
		errno = b->err ? b->err : EINVAL;
		return NULL;
	}
	link = bpf_program__attach_iter(b->prog, &o);
	if (!link)
		return NULL;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0 || !(buf = read_all(fd, &len)))
		err = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	if (!err && len % rec) {
		free(buf);
		buf = NULL;
		err = EPROTO;
	}
	if (err) {
		errno = err;
		return NULL;
	}
	*nr = len / rec;
	return buf;
}

void *dump_bpf_run(const struct dump_bpf *spec, const void *ro, size_t len,
		   pid_t pid, size_t rec, size_t *nr)
{
	struct dump_bpf b = { .blob = spec->blob, .end = spec->end,
			      .name = spec->name };
	void *recs = NULL;
	int err;

	if (!dump_bpf_load(&b, ro, len))
		recs = dump_bpf_iterate(&b, pid, rec, nr);
	err = errno;
	dump_bpf_close(&b);
	errno = err;
	return recs;
}
