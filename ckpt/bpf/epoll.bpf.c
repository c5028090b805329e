/*
 * epoll.bpf.c: the task_file iterator by which the dumper sees which
 * watches of an epoll were on its ready list (ckpt/dump-epoll.c), which
 * neither fdinfo nor any call shows without consuming it.
 *
 * The dumper runs it on itself: the link's pid filter gives ckpt's own
 * fds, and target_fd the one where it holds its copy of the epoll. That
 * file's private_data is the struct eventpoll of fs/eventpoll.c (private
 * to it, but in the kernel's BTF), which points back to the file. Its
 * rdllist links the ready epitems by their rdllink; each names the
 * watched file and the fd number it was added under (ffd). The first
 * record says whether ovflist is active: a wait is copying events out,
 * and the items it took off rdllist are on a list of its own stack.
 *
 * Built with clang -target bpf and embedded in ckpt.
 */
#include "ckpt/bpf/epoll.h"
#include "ckpt/bpf/iter.h"

struct list_head {
	struct list_head *next;
} __attribute__((preserve_access_index));

struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct epoll_filefd {
	struct file *file;
	int fd;
} __attribute__((preserve_access_index));

struct epitem {
	struct list_head rdllink;
	struct epoll_filefd ffd;
} __attribute__((preserve_access_index));

struct eventpoll {
	struct list_head rdllist;
	struct epitem *ovflist;
	struct file *file;
} __attribute__((preserve_access_index));

#define EP_UNACTIVE	((void *)-1L)

const volatile __u32 target_fd;

SEC("iter/task_file")
int ckpt_epoll(struct bpf_iter__task_file *it)
{
	struct seq_file *seq = it->meta->seq;
	struct file *f = it->file, *wf;
	struct list_head *head, *pos;
	struct ckpt_epoll_rec s = {};
	struct eventpoll *ep;
	struct epitem *epi;
	int i;

	if (!f || it->fd != target_fd)
		return 0;
	ep = BPF_CORE_READ(f, private_data);
	if (!ep || BPF_CORE_READ(ep, file) != f)
		return 0;	/* not an epoll: no HEAD, the caller says */
	s.kind = CKPT_EPOLL_HEAD;
	s.tfd = BPF_CORE_READ(ep, ovflist) != EP_UNACTIVE;
	bpf_seq_write(seq, &s, sizeof(s));
	head = (void *)ep + bpf_core_field_offset(struct eventpoll, rdllist);
	pos = BPF_CORE_READ(ep, rdllist.next);
#pragma clang loop unroll(disable)
	for (i = 0; i < CKPT_EPOLL_MAX_READY && pos && pos != head; i++) {
		epi = (void *)pos -
		      bpf_core_field_offset(struct epitem, rdllink);
		wf = BPF_CORE_READ(epi, ffd.file);
		s.kind = CKPT_EPOLL_READY;
		s.tfd = BPF_CORE_READ(epi, ffd.fd);
		s.ino = BPF_CORE_READ(wf, f_inode, i_ino);
		s.dev = BPF_CORE_READ(wf, f_inode, i_sb, s_dev);
		bpf_seq_write(seq, &s, sizeof(s));
		pos = BPF_CORE_READ(pos, next);
	}
	if (pos && pos != head) {
		s.kind = CKPT_EPOLL_MORE;
		bpf_seq_write(seq, &s, sizeof(s));
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
