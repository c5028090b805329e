/*
 * dump-semundo: System V semaphore undo values (semop(2) with SEM_UNDO),
 * which the kernel applies to the semaphores when the process exits.
 * No call reads them, and restore could not make them again, so a
 * process that has any is refused, naming the thread. They are seen
 * with BPF (ckpt/bpf/semundo.bpf.c); without it (not root) they are not
 * seen at all, which ckpt(1) says.
 */
#include <errno.h>
#include <stdlib.h>

#include "ckpt/dump-priv.h"

extern const unsigned char ckpt_semundo_bpf[], ckpt_semundo_bpf_end[];
static struct dump_bpf semundo_bpf = {
	.blob = ckpt_semundo_bpf, .end = ckpt_semundo_bpf_end,
	.name = "ckpt_semundo",
};

/* Before the freeze, as dump_kstate_preload() */
void dump_semundo_preload(void)
{
	if (dump_bpf_load(&semundo_bpf, NULL, 0))
		return;	/* the error is kept */
}

int dump_semundo_works(void)
{
	int32_t *tids;
	size_t n;

	if (dump_bpf_load(&semundo_bpf, NULL, 0))
		return 0;
	tids = dump_bpf_iterate(&semundo_bpf, getpid(), sizeof(*tids), &n);
	free(tids);
	return tids != NULL;
}

int dump_collect_semundo(struct dump_ctx *c)
{
	int32_t *tids;
	size_t n = 0;

	if (dump_bpf_load(&semundo_bpf, NULL, 0))
		return 0;	/* not seen: ckpt(1) */
	tids = dump_bpf_iterate(&semundo_bpf, c->pid, sizeof(*tids), &n);
	if (!tids) {
		pr_perror("can't read the semaphore undo values of %d", c->pid);
		return -1;
	}
	if (n)
		pr_err("can't dump %d: thread %d has System V semaphore undo values (semop with SEM_UNDO), which no call reads back",
		       c->pid, tids[0]);
	free(tids);
	return n ? -1 : 0;
}
