/*
 * semundo.bpf.c: the task iterator by which the dumper sees whether a
 * thread has System V semaphore undo values (semop with SEM_UNDO), which
 * the kernel applies when the process exits and no call reads
 * (ckpt/dump-semundo.c). The link's pid filter gives the process's
 * threads; each thread whose undo list (task->sysvsem.undo_list, shared
 * by the threads of a process) holds an entry writes its tid.
 *
 * Built with clang -target bpf and embedded in ckpt.
 */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct list_head {
	struct list_head *next;
} __attribute__((preserve_access_index));

struct sem_undo_list {
	struct list_head list_proc;
} __attribute__((preserve_access_index));

struct sysv_sem {
	struct sem_undo_list *undo_list;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	struct sysv_sem sysvsem;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

SEC("iter/task")
int ckpt_semundo(struct bpf_iter__task *it)
{
	struct task_struct *t = it->task;
	struct sem_undo_list *ul;
	struct list_head *head;
	__s32 tid;

	if (!t)
		return 0;
	ul = BPF_CORE_READ(t, sysvsem.undo_list);
	if (!ul)
		return 0;
	head = (void *)ul + bpf_core_field_offset(struct sem_undo_list,
						  list_proc);
	if (BPF_CORE_READ(ul, list_proc.next) == head)
		return 0;	/* made once, empty since */
	tid = BPF_CORE_READ(t, pid);
	bpf_seq_write(it->meta->seq, &tid, sizeof(tid));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
