/*
 * sock.h: the records ckpt/bpf/sock.bpf.c writes, as ckpt/dump-sockx.c
 * reads them (shared by both; fixed-size types): one per inet socket
 * among ckpt's own fds.
 */
#ifndef CKPT_BPF_SOCK_H
#define CKPT_BPF_SOCK_H

#include <linux/types.h>

struct ckpt_sock_rec {
	__s32 fd;		/* ckpt's fd of it */
	__u32 family;		/* AF_INET, AF_INET6 */
	__s32 mc_index;		/* inet_sock's: IP_MULTICAST_IF's device */
	__u32 md5;		/* TCP: 1 with TCP_MD5SIG keys */
	__u32 urg;		/* TCP: 1 with urgent data to read, or being
				 * sent (snd_up ahead of snd_una) */
	__u32 pad;
};

#endif
