/*
 * tty.bpf.c: the task_file iterator by which the dumper sees what a pty
 * slave's line discipline (N_TTY) keeps and no ioctl shows
 * (ckpt/dump-tty.c): the output column, the column its current input
 * line began at, whether the last byte typed was VLNEXT (^V: the next
 * one is taken literally), and its read buffer's indexes.
 *
 * The dumper runs it on itself: the link's pid filter gives ckpt's own
 * fds, and target_fd the one where it holds the pty's master. The
 * master's file's private_data is a struct tty_file_private whose tty is
 * the master's tty_struct; its link is the slave's, whose disc_data is
 * the struct n_tty_data of drivers/tty/n_tty.c (private to it, but in
 * the kernel's BTF). The caller has checked that the slave's line
 * discipline is N_TTY.
 *
 * Built with clang -target bpf and embedded in ckpt.
 */
#include "ckpt/bpf/iter.h"

struct tty_struct {
	void *disc_data;
	struct tty_struct *link;
} __attribute__((preserve_access_index));

struct tty_file_private {
	struct tty_struct *tty;
} __attribute__((preserve_access_index));

struct n_tty_data {
	unsigned long read_head;
	unsigned long canon_head;
	unsigned char lnext:1;
	unsigned long read_tail;
	unsigned int column;
	unsigned int canon_column;
} __attribute__((preserve_access_index));

/* ckpt/dump-tty.c's struct tty_seen */
struct tty_seen {
	__u64 read_head, read_tail, canon_head;
	__u32 column, canon_column;
	__u32 lnext;
	__u32 pad;
};

const volatile __u32 target_fd;

SEC("iter/task_file")
int ckpt_tty(struct bpf_iter__task_file *it)
{
	struct file *f = it->file;
	struct tty_file_private *priv;
	struct n_tty_data *ld;
	struct tty_seen s = {};

	if (!f || it->fd != target_fd)
		return 0;
	priv = BPF_CORE_READ(f, private_data);
	if (!priv)
		return 0;
	ld = BPF_CORE_READ(priv, tty, link, disc_data);
	if (!ld)
		return 0;
	s.read_head = BPF_CORE_READ(ld, read_head);
	s.read_tail = BPF_CORE_READ(ld, read_tail);
	s.canon_head = BPF_CORE_READ(ld, canon_head);
	s.column = BPF_CORE_READ(ld, column);
	s.canon_column = BPF_CORE_READ(ld, canon_column);
	s.lnext = BPF_CORE_READ_BITFIELD_PROBED(ld, lnext);
	bpf_seq_write(it->meta->seq, &s, sizeof(s));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
