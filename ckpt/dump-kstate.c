/*
 * dump-kstate: what the kernel keeps of a process's POSIX timers and
 * seccomp filters and tells through no system call, read by the task
 * iterator of ckpt/bpf/timers.bpf.c (embedded in ckpt; loaded once, a
 * link made for each process, its records read from the iterator's fd).
 * It needs CAP_BPF and CAP_PERFMON (root) and a kernel with BTF; without
 * them dump_kstate_read() fails with the reason, and the callers refuse
 * what they cannot tell otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ckpt/dump-priv.h"

extern const unsigned char ckpt_timers_bpf[], ckpt_timers_bpf_end[];

static struct bpf_object *obj;
static struct bpf_program *prog;
static int load_err;		/* errno of a failed load, kept */

static int libbpf_quiet(enum libbpf_print_level l, const char *fmt,
			va_list ap)
{
	(void)l; (void)fmt; (void)ap;
	return 0;
}

static int load(void)
{
	if (prog)
		return 0;
	if (load_err) {
		errno = load_err;
		return -1;
	}
	libbpf_set_print(libbpf_quiet);
	obj = bpf_object__open_mem(ckpt_timers_bpf,
				   ckpt_timers_bpf_end - ckpt_timers_bpf, NULL);
	if (!obj || bpf_object__load(obj) ||
	    !(prog = bpf_object__find_program_by_name(obj, "ckpt_kstate"))) {
		load_err = errno ? errno : EINVAL;
		if (obj)
			bpf_object__close(obj);
		obj = NULL;
		prog = NULL;
		errno = load_err;
		return -1;
	}
	return 0;
}

int dump_kstate_read(pid_t pid, struct dump_kstate *ks)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info;
	struct bpf_link *link;
	size_t cap = 0, got = 0;
	char *buf = NULL;
	ssize_t n;
	int fd, err = 0;

	memset(ks, 0, sizeof(*ks));
	if (load())
		return -1;
	memset(&info, 0, sizeof(info));
	info.task.pid = pid;
	opts.link_info = &info;
	opts.link_info_len = sizeof(info);
	link = bpf_program__attach_iter(prog, &opts);
	if (!link)
		return -1;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = errno;
		goto out;
	}
	for (;;) {
		if (cap - got < 4096) {
			char *nb = realloc(buf, cap = cap * 2 + 65536);

			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n ? errno : 0;
			break;
		}
		got += n;
	}
	close(fd);
out:
	bpf_link__destroy(link);
	if (!err && got % sizeof(*ks->recs))
		err = EPROTO;
	if (err) {
		free(buf);
		errno = err;
		return -1;
	}
	ks->recs = (struct ckpt_kstate_rec *)buf;
	ks->n = got / sizeof(*ks->recs);
	for (size_t i = 0; i < ks->n; i++)
		if (ks->recs[i].kind == CKPT_KSTATE_TRUNCATED) {
			dump_kstate_free(ks);
			errno = E2BIG;
			return -1;
		}
	return 0;
}

void dump_kstate_free(struct dump_kstate *ks)
{
	free(ks->recs);
	ks->recs = NULL;
	ks->n = 0;
}
