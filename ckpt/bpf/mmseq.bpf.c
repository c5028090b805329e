/*
 * mmseq.bpf.c: the task iterator by which ckpt reads the sequence count
 * of a process's address space, mm->mm_lock_seq (ckpt/dump-maps.c): the
 * kernel bumps it whenever it takes the lock that every change of a
 * mapping or of its flags needs (mmap_write_lock), twice, so an even
 * count read twice, the same, means that nothing of the maps or their
 * flags changed between the reads. For the leader of the process the
 * link is made for: one __u32.
 *
 * Only kernels where mm_lock_seq is a seqcount (Linux 6.13 on) load it;
 * elsewhere ckpt does without.
 * Built with clang -target bpf and embedded in ckpt.
 */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct seq_file;

#pragma clang attribute push(__attribute__((preserve_access_index)), \
			     apply_to = record)
struct bpf_iter_meta {
	struct seq_file *seq;
};
struct seqcount {
	unsigned int sequence;
};
struct mm_struct {
	struct seqcount mm_lock_seq;
};
struct task_struct {
	int pid;
	int tgid;
	struct mm_struct *mm;
};
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};
#pragma clang attribute pop

SEC("iter/task")
int ckpt_mmseq(struct bpf_iter__task *it)
{
	struct task_struct *t = it->task;
	struct mm_struct *mm;
	__u32 seq;

	if (!t || BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid))
		return 0;
	mm = BPF_CORE_READ(t, mm);
	if (!mm)
		return 0;
	seq = BPF_CORE_READ(mm, mm_lock_seq.sequence);
	bpf_seq_write(it->meta->seq, &seq, sizeof(seq));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
