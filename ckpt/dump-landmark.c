/*
 * attach --landmark: the target is a ckpt cc program (its PROG.xisa
 * beside it, matching it), and its thread is run on to its next landmark
 * before anything is gathered, so that ckpt translate can rewrite its
 * frames for the other ISA. The image holds the landmark as the thread's
 * program counter. One thread yet (issue 16).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/xisa.h"
#include "ckpt/dump-priv.h"
#include "inject/inject.h"

static int exe_of(pid_t pid, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, buf, len - 1);
	if (n < 0) {
		pr_perror("can't read %s", link);
		return -1;
	}
	buf[n] = 0;
	return 0;
}

int dump_landmark(struct dump_ctx *c)
{
	char exe[PATH_MAX];
	struct xisa_meta m;
	uint64_t *addrs = NULL, hit;
	uint32_t i;
	int isa, ret = -1;

	if (exe_of(c->pid, exe, sizeof(exe)) || xisa_meta_for(exe, &m, &isa))
		return -1;
	if (xisa_isa(isa)->img_isa != arch_isa()) {
		pr_err("%d runs the %s build", c->pid, xisa_isa(isa)->name);
		goto out;
	}
	if (inject_nr_threads(c->ip) != 1) {
		pr_err("%d has %d threads: --landmark handles one yet",
		       c->pid, inject_nr_threads(c->ip));
		goto out;
	}
	addrs = calloc(m.nr_lms + 1, sizeof(*addrs));
	if (!addrs)
		goto out;
	for (i = 0; i < m.nr_lms; i++)
		addrs[i] = m.lms[i].pc[isa];
	if (inject_run_to(c->ip, 0, addrs, m.nr_lms, c->o->landmark_ms,
			  &hit)) {
		if (errno == ETIMEDOUT)
			pr_err("thread %d of %d did not reach a landmark "
			       "within %u ms", c->pid, c->pid,
			       c->o->landmark_ms);
		else
			pr_perror("can't run %d to a landmark", c->pid);
		goto out;
	}
	pr_info("%d stopped at landmark %u",
		c->pid, xisa_lm_at(&m, isa, hit)->id);
	ret = 0;
out:
	free(addrs);
	xisa_meta_free(&m);
	return ret;
}
