/*
 * iter.h: what the task_file iterators of ckpt/bpf/ (tty.bpf.c,
 * epoll.bpf.c, sock.bpf.c) declare alike: the helpers, the iterator's context and
 * the kernel's struct file, with the fields they read (CO-RE: libbpf
 * relocates the offsets against /sys/kernel/btf/vmlinux).
 */
#ifndef CKPT_BPF_ITER_H
#define CKPT_BPF_ITER_H

#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct seq_file;
struct inode;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct file {
	void *private_data;
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	void *task;
	__u32 fd;
	struct file *file;
} __attribute__((preserve_access_index));

#endif
