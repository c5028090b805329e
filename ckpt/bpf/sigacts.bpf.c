/*
 * sigacts.bpf.c: the task iterator by which ckpt reads a frozen process's
 * signal actions (ckpt/dump-task.c) in one read, rather than by 62
 * rt_sigaction(2) calls made in the process: for the leader of the
 * process the link is made for, one struct ckpt_sigact_rec per signal,
 * the sigaction of task->sighand->action[] as rt_sigaction would return
 * it but for the kernel's own flag bits, which the reader checks.
 *
 * The kernel's structures are declared here with only the fields read,
 * relocated against the running kernel's BTF (CO-RE): no offsets.
 * Built with clang -target bpf and embedded in ckpt.
 */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "ckpt/bpf/sigacts.h"

struct seq_file;

#pragma clang attribute push(__attribute__((preserve_access_index)), \
			     apply_to = record)
struct bpf_iter_meta {
	struct seq_file *seq;
};
struct sigaction {
	void *sa_handler;
	unsigned long sa_flags;
	void *sa_restorer;
	struct {
		unsigned long sig[1];
	} sa_mask;
};
struct k_sigaction {
	struct sigaction sa;
};
struct sighand_struct {
	struct k_sigaction action[CKPT_SIGACTS_NR];
};
struct task_struct {
	int pid;
	int tgid;
	struct sighand_struct *sighand;
};
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};
#pragma clang attribute pop

struct walk {
	struct seq_file *seq;
	void *action;		/* &sighand->action[0] */
};

static long one_sigact(__u32 i, void *arg)
{
	struct walk *w = arg;
	struct ckpt_sigact_rec r = { .sig = i + 1 };
	void *sa = w->action + i * bpf_core_type_size(struct k_sigaction) +
		   bpf_core_field_offset(struct k_sigaction, sa);

	bpf_probe_read_kernel(&r.handler, sizeof(void *), sa +
			      bpf_core_field_offset(struct sigaction,
						    sa_handler));
	bpf_probe_read_kernel(&r.flags, sizeof(unsigned long), sa +
			      bpf_core_field_offset(struct sigaction,
						    sa_flags));
	if (bpf_core_field_exists(struct sigaction, sa_restorer)) {
		r.has_restorer = 1;
		bpf_probe_read_kernel(&r.restorer, sizeof(void *), sa +
				      bpf_core_field_offset(struct sigaction,
							    sa_restorer));
	}
	bpf_probe_read_kernel(&r.mask, sizeof(unsigned long), sa +
			      bpf_core_field_offset(struct sigaction,
						    sa_mask));
	bpf_seq_write(w->seq, &r, sizeof(r));
	return 0;
}

SEC("iter/task")
int ckpt_sigacts(struct bpf_iter__task *it)
{
	struct task_struct *t = it->task;
	struct sighand_struct *sh;
	struct walk w;

	if (!t || BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid))
		return 0;
	sh = BPF_CORE_READ(t, sighand);
	if (!sh)
		return 0;
	w.seq = it->meta->seq;
	w.action = (void *)sh + bpf_core_field_offset(struct sighand_struct,
						      action);
	bpf_loop(CKPT_SIGACTS_NR, one_sigact, &w, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
