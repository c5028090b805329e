/*
 * sigacts.h: the records ckpt/bpf/sigacts.bpf.c writes, as
 * ckpt/dump-task.c reads them (shared by both; fixed-size types).
 */
#ifndef CKPT_BPF_SIGACTS_H
#define CKPT_BPF_SIGACTS_H

#include <linux/types.h>

#define CKPT_SIGACTS_NR	64	/* _NSIG on the architectures ckpt has */

struct ckpt_sigact_rec {
	__u32 sig;		/* from 1 */
	__u32 has_restorer;	/* the kernel's struct has sa_restorer */
	__u64 handler, flags, restorer, mask;
};

#endif
