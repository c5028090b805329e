/*
 * sock.bpf.c: the task_file iterator by which the dumper reads what of an
 * inet socket no getsockopt(2) tells (ckpt/dump-sockx.c): the device that
 * IP_MULTICAST_IF was given by its index (struct ip_mreqn), of which
 * getsockopt gives back only the address; whether a TCP socket has
 * TCP_MD5SIG keys, which no call reads back, and urgent data to read or
 * being sent (its urgent pointer, which TCP_REPAIR does not restore).
 *
 * The dumper runs it on itself (the link's pid filter): for each of its
 * fds that is a socket (the inode's mode) of family AF_INET or AF_INET6,
 * one record with inet_sock's mc_index.
 *
 * Built with clang -target bpf and embedded in ckpt.
 */
#include "ckpt/bpf/sock.h"
#include "ckpt/bpf/iter.h"

#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6

struct inode {
	unsigned short i_mode;
} __attribute__((preserve_access_index));

struct sock_common {
	unsigned short skc_family;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	unsigned short sk_protocol;
} __attribute__((preserve_access_index));

struct tcp_sock {
	void *md5sig_info;
	__u16 urg_data;
	__u32 snd_up;
	__u32 snd_una;
} __attribute__((preserve_access_index));

struct socket {
	struct sock *sk;
} __attribute__((preserve_access_index));

struct inet_sock {
	int mc_index;
} __attribute__((preserve_access_index));

SEC("iter/task_file")
int ckpt_sock(struct bpf_iter__task_file *it)
{
	struct ckpt_sock_rec r = {};
	struct file *f = it->file;
	struct socket *so;
	struct sock *sk;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	so = BPF_CORE_READ(f, private_data);
	sk = so ? BPF_CORE_READ(so, sk) : 0;
	if (!sk)
		return 0;
	r.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (r.family != AF_INET && r.family != AF_INET6)
		return 0;
	r.fd = it->fd;
	r.mc_index = BPF_CORE_READ((struct inet_sock *)sk, mc_index);
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		goto out;
	if (bpf_core_field_exists(struct tcp_sock, md5sig_info))
		r.md5 = !!BPF_CORE_READ((struct tcp_sock *)sk, md5sig_info);
	r.urg = BPF_CORE_READ((struct tcp_sock *)sk, urg_data) ||
		BPF_CORE_READ((struct tcp_sock *)sk, snd_up) !=
		BPF_CORE_READ((struct tcp_sock *)sk, snd_una);
out:
	bpf_seq_write(it->meta->seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
