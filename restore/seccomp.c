/*
 * seccomp: each thread's seccomp filters (or strict mode) installed again,
 * in their original order, oldest first.
 *
 * A thread needs no_new_privs or CAP_SYS_ADMIN to install a filter: they
 * go in while the target still has restore's capabilities, before
 * restore_creds() takes them away (no_new_privs is already as the image
 * had it). From here on the target's filters would see every remote call
 * we make in it, so they are suspended first (PTRACE_O_SUSPEND_SECCOMP,
 * until we detach): whatever restore still does is not filtered.
 *
 * The leading filters that every thread has alike are installed once,
 * with SECCOMP_FILTER_FLAG_TSYNC, so that the threads share them as they
 * did (and a later TSYNC of the target works as it would have); the rest
 * of each thread's chain is its own. SECCOMP_FILTER_FLAG_SPEC_ALLOW is
 * always given: the speculation controls were set from the image already
 * (pstate.c), and a filter must not change them again.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>

#include "restore/restore.h"

#define PROG_OFF	16	/* struct sock_fprog, then the program */

/* Where the programs are written: the scratch page, or a mapping of ours
 * in the target when the longest is larger */
struct prog_area {
	uint64_t addr, len;
	int mapped;
};

static const struct img_seccomp *sc(const struct restore_proc *c, int ti)
{
	return &c->proc->threads[ti].seccomp;
}

/* The filters that every thread has alike; strict mode shares nothing */
static uint32_t shared_filters(const struct restore_proc *c)
{
	uint32_t i, n = sc(c, 0)->nr_filters, m;

	for (i = 1; i < c->proc->nr_threads; i++) {
		m = img_seccomp_common(sc(c, 0), sc(c, i));
		if (m < n)
			n = m;
	}
	return n;
}

static int open_area(struct restore_proc *c, struct prog_area *a)
{
	uint64_t page = c->run->host.page_size, need = 0, len;
	uint32_t i, j;
	long ret;

	for (i = 0; i < c->proc->nr_threads; i++)
		for (j = 0; j < sc(c, i)->nr_filters; j++) {
			len = PROG_OFF + sc(c, i)->filters[j].len *
				sizeof(struct sock_filter);
			if (len > need)
				need = len;
		}
	a->addr = inject_scratch(c->ip);
	a->len = need;
	a->mapped = 0;
	if (need <= inject_scratch_len(c->ip))
		return 0;
	a->len = (need + page - 1) & ~(page - 1);
	if (rcall(c, 0, "map room for the seccomp filters", &ret, SYS_mmap, 0,
		  a->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0))
		return -1;
	a->addr = ret;
	a->mapped = 1;
	return 0;
}

static int close_area(struct restore_proc *c, const struct prog_area *a)
{
	if (!a->mapped)
		return 0;
	return rcall(c, 0, "unmap the room for the seccomp filters", NULL,
		     SYS_munmap, a->addr, a->len, 0, 0, 0, 0);
}

static int install(struct restore_proc *c, int ti, const struct prog_area *a,
		   const struct img_seccomp_filter *f, unsigned long flags)
{
	struct sock_filter *prog = calloc(f->len, sizeof(*prog));
	struct sock_fprog fp = {
		.len = f->len,
		.filter = (void *)(uintptr_t)(a->addr + PROG_OFF),
	};
	uint32_t i;
	long ret;
	int rc = -1;

	if (!prog)
		return -1;
	for (i = 0; i < f->len; i++)
		prog[i] = (struct sock_filter){
			.code = f->insns[i] & 0xffff,
			.jt = f->insns[i] >> 16 & 0xff,
			.jf = f->insns[i] >> 24 & 0xff,
			.k = f->insns[i] >> 32,
		};
	flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	if (f->flags & IMG_SECCOMP_LOG)
		flags |= SECCOMP_FILTER_FLAG_LOG;
	if (inject_write(c->ip, a->addr, &fp, sizeof(fp)) ||
	    inject_write(c->ip, a->addr + PROG_OFF, prog,
			 f->len * sizeof(*prog))) {
		pr_perror("can't write a seccomp filter in %d", c->child);
		goto out;
	}
	if (rcall(c, ti, "install a seccomp filter", &ret, SYS_seccomp,
		  SECCOMP_SET_MODE_FILTER, flags, a->addr, 0, 0, 0))
		goto out;
	/* TSYNC: the thread that could not be made to share them */
	if (ret) {
		pr_err("can't share a seccomp filter in %d with thread %ld",
		       c->child, ret);
		goto out;
	}
	rc = 0;
out:
	free(prog);
	return rc;
}

static int install_all(struct restore_proc *c, const struct prog_area *a)
{
	uint32_t shared = shared_filters(c), i, j;

	for (j = 0; j < shared; j++)
		if (install(c, 0, a, &sc(c, 0)->filters[j],
			    SECCOMP_FILTER_FLAG_TSYNC))
			return -1;
	for (i = 0; i < c->proc->nr_threads; i++) {
		for (j = shared; j < sc(c, i)->nr_filters; j++)
			if (install(c, i, a, &sc(c, i)->filters[j], 0))
				return -1;
		if (sc(c, i)->mode == IMG_SECCOMP_STRICT &&
		    rcall(c, i, "set seccomp strict mode", NULL, SYS_seccomp,
			  SECCOMP_SET_MODE_STRICT, 0, 0, 0, 0, 0))
			return -1;
	}
	return 0;
}

int restore_seccomp(struct restore_proc *c)
{
	struct prog_area a;
	uint32_t i;
	int any = 0;

	for (i = 0; i < c->proc->nr_threads; i++)
		any |= sc(c, i)->mode;
	if (!any)
		return 0;
	if (inject_suspend_seccomp(c->ip)) {
		pr_perror("can't suspend seccomp in %d", c->child);
		return -1;
	}
	/* on failure the target is killed, its area with it */
	if (open_area(c, &a) || install_all(c, &a))
		return -1;
	return close_area(c, &a);
}
