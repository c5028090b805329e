/*
 * accept.bpf.c: the TC program (clsact ingress of lo) by which restore
 * puts a connection back in its listener's accept queue
 * (restore/inet-accept.c). restore sends, from the connection's peer,
 * the acknowledgement that had ended its handshake: this program turns
 * it into a request socket of the listener (the kfunc
 * bpf_sk_assign_tcp_reqsk, Linux 6.9) with the options the connection
 * had negotiated, which restore leaves in the map; the TCP stack then
 * takes its initial sequence numbers from the segment (as for a SYN
 * cookie: net/ipv4/syncookies.c) and makes the connection, in the
 * listener's queue. Only restore's own segments (their mark) to a
 * listener are touched; everything else passes.
 *
 * Built with clang -target bpf and embedded in restore.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MARK		0x636b7074u	/* IMG_NETLOCK_MARK */
#define K_LISTEN	10		/* TCP_LISTEN */

/* The kernel's (include/net/tcp.h), as its BTF has it. */
struct bpf_tcp_req_attrs {
	__u32 rcv_tsval;
	__u32 rcv_tsecr;
	__u16 mss;
	__u8 rcv_wscale;
	__u8 snd_wscale;
	__u8 ecn_ok;
	__u8 wscale_ok;
	__u8 sack_ok;
	__u8 tstamp_ok;
	__u8 usec_ts_ok;
	__u8 reserved[3];
};

/* a struct, not a declaration: libbpf matches the kfunc's prototype
 * against the kernel's kind by kind (a forward declaration is not a
 * struct) */
struct sock {
	int unused;
};
extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs,
				   int attrs__sz) __ksym;

/* [0]: what restore sets before each segment; [1]: rcv_tsval counts
 * the segments this program gave a request socket (for restore to see) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bpf_tcp_req_attrs);
} ckpt_accept_attrs SEC(".maps");

/* The segment's tuple, if it is a bare ACK (no SYN, FIN, RST); its
 * size, or 0. */
static __always_inline __u32 tuple_of(struct __sk_buff *skb,
				      struct bpf_sock_tuple *t)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	__u32 size;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl != 5 ||
		    ip->protocol != IPPROTO_TCP)
			return 0;
		th = (void *)(ip + 1);
		t->ipv4.saddr = ip->saddr;
		t->ipv4.daddr = ip->daddr;
		size = sizeof(t->ipv4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return 0;
		th = (void *)(ip6 + 1);
		__builtin_memcpy(t->ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t->ipv6.daddr, &ip6->daddr, 16);
		size = sizeof(t->ipv6);
	} else {
		return 0;
	}
	if ((void *)(th + 1) > end || !th->ack || th->syn || th->fin ||
	    th->rst)
		return 0;
	if (size == sizeof(t->ipv4)) {
		t->ipv4.sport = th->source;
		t->ipv4.dport = th->dest;
	} else {
		t->ipv6.sport = th->source;
		t->ipv6.dport = th->dest;
	}
	return size;
}

SEC("tc")
int ckpt_accept(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_tcp_req_attrs a, *set, *done;
	struct bpf_sock *skc;
	struct sock *sk;
	__u32 size, k0 = 0, k1 = 1;

	if (skb->mark != MARK)
		return TC_ACT_OK;
	size = tuple_of(skb, &t);
	if (!size)
		return TC_ACT_OK;
	set = bpf_map_lookup_elem(&ckpt_accept_attrs, &k0);
	done = bpf_map_lookup_elem(&ckpt_accept_attrs, &k1);
	if (!set || !done)
		return TC_ACT_OK;
	skc = bpf_skc_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	if (!skc)
		return TC_ACT_OK;
	if (skc->state != K_LISTEN)
		goto out;
	sk = (struct sock *)bpf_skc_to_tcp_sock(skc);
	if (!sk)
		goto out;
	a = *set;
	if (!bpf_sk_assign_tcp_reqsk(skb, sk, &a, sizeof(a)))
		__sync_fetch_and_add(&done->rcv_tsval, 1);
out:
	bpf_sk_release(skc);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
