/*
 * epoll.h: the records ckpt/bpf/epoll.bpf.c writes, as ckpt/dump-epoll.c
 * reads them (shared by both; fixed-size types): a HEAD, then one READY
 * for each watch on the epoll's ready list, then MORE if the list goes on
 * past CKPT_EPOLL_MAX_READY.
 */
#ifndef CKPT_BPF_EPOLL_H
#define CKPT_BPF_EPOLL_H

#include <linux/types.h>

#define CKPT_EPOLL_HEAD		1
#define CKPT_EPOLL_READY	2
#define CKPT_EPOLL_MORE		3
#define CKPT_EPOLL_MAX_READY	1024

struct ckpt_epoll_rec {
	__u64 ino;		/* READY: the watched file's inode */
	__u32 dev;		/* and its filesystem, the kernel's encoding */
	__s32 tfd;		/* the fd number it was added under; HEAD: 1
				 * if ovflist is active (a wait copying out) */
	__u32 kind;		/* CKPT_EPOLL_* */
	__u32 pad;
};

#endif
