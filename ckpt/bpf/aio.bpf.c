/*
 * aio.bpf.c: the task iterator by which the dumper sees the AIO contexts
 * (io_setup) of a process and the requests each has in flight
 * (ckpt/dump-aio.c). Nothing in /proc shows either.
 *
 * The iterator visits the threads of one process (the link's pid
 * filter); the first with an mm writes one record per context of
 * mm->ioctx_table: its ring address (the context id), max_reqs (what
 * io_setup was given), nr_events (the ring's size) and its requests
 * alive. A request holds a reference on ctx->reqs from its allocation
 * to its end (fs/aio.c: aio_get_req, iocb_destroy); the context holds
 * one more. ctx->reqs is a percpu_ref in percpu mode: its count is its
 * atomic part (which carries PERCPU_COUNT_BIAS) plus every CPU's
 * counter (lib/percpu-refcount.c: percpu_ref_switch_to_atomic sums them
 * so).
 *
 * A CPU's counter is at the percpu address plus that CPU's offset. The
 * kernel's table of offsets is not in its BTF, but any percpu object
 * gives them: a percpu array map's percpu pointer (struct bpf_array's
 * pptrs[0]) and the address bpf_map_lookup_percpu_elem returns for a
 * CPU differ by that CPU's offset.
 *
 * The kernel's structures are declared with the few fields read here
 * (CO-RE: libbpf relocates the offsets against /sys/kernel/btf/vmlinux);
 * struct kioctx is private to fs/aio.c but is in the kernel's BTF.
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

struct kioctx_table {
	unsigned int nr;
	struct kioctx *table[];
} __attribute__((preserve_access_index));

struct mm_struct {
	struct kioctx_table *ioctx_table;
} __attribute__((preserve_access_index));

struct task_struct {
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

struct percpu_ref_data {
	struct {
		long counter;
	} count;
} __attribute__((preserve_access_index));

struct percpu_ref {
	unsigned long percpu_count_ptr;
	struct percpu_ref_data *data;
} __attribute__((preserve_access_index));

struct kioctx {
	struct percpu_ref reqs;
	unsigned long user_id;
	unsigned int max_reqs;
	unsigned int nr_events;
	unsigned int tail;	/* in an anonymous struct, cache aligned */
} __attribute__((preserve_access_index));

struct bpf_array {
	void *pptrs[0];
} __attribute__((preserve_access_index));

/* one per context: ckpt/dump-aio.c's struct aio_seen */
struct aio_seen {
	__u64 ring;
	__u64 reqs;		/* requests alive; ~0: not counted */
	__u32 max_reqs;
	__u32 nr_events;
	__u32 tail;		/* the kernel's, where it completes next */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ckpt_aio_cpu SEC(".maps");

const volatile __u32 nr_cpus;	/* possible CPUs */
int done;
volatile unsigned long scratch;

/* The verifier allows no arithmetic between a map's pointer (or a map
 * value's) and a number: the pointer comes back from memory as a plain
 * number (a program of CAP_BPF and CAP_PERFMON may store it). */
static __always_inline unsigned long addr_of(const void *p)
{
	scratch = (unsigned long)p;
	return scratch;
}

struct sum_state {
	unsigned long pcpu, base;
	__u64 sum;
	int err;
};

/* bpf_loop's step: one CPU's counter */
static long add_cpu(__u32 cpu, void *data)
{
	struct sum_state *st = data;
	__u32 zero = 0;
	void *p = bpf_map_lookup_percpu_elem(&ckpt_aio_cpu, &zero, cpu);
	__u64 v = 0;

	if (!p || bpf_probe_read_kernel(&v, sizeof(v),
					(void *)(st->pcpu + addr_of(p) -
						 st->base))) {
		st->err = 1;
		return 1;
	}
	st->sum += v;
	return 0;
}

/* every possible CPU's counter of a percpu_ref, summed, or -1 */
static __u64 percpu_sum(unsigned long pcpu)
{
	struct sum_state st = { .pcpu = pcpu };

	if (bpf_probe_read_kernel(&st.base, sizeof(st.base),
				  (void *)(addr_of(&ckpt_aio_cpu) +
			bpf_core_field_offset(struct bpf_array, pptrs))))
		return ~0ULL;
	bpf_loop(nr_cpus, add_cpu, &st, 0);
	return st.err ? ~0ULL : st.sum;
}

static int one_ctx(struct seq_file *seq, struct kioctx *ctx)
{
	struct aio_seen s = {};
	unsigned long pcpu = BPF_CORE_READ(ctx, reqs.percpu_count_ptr);
	__u64 count = BPF_CORE_READ(ctx, reqs.data, count.counter), sum = 0;

	s.ring = BPF_CORE_READ(ctx, user_id);
	s.max_reqs = BPF_CORE_READ(ctx, max_reqs);
	s.nr_events = BPF_CORE_READ(ctx, nr_events);
	s.tail = BPF_CORE_READ(ctx, tail);
	/* atomic or dead (__PERCPU_REF_ATOMIC_DEAD): the count alone */
	if (!(pcpu & 3)) {
		sum = percpu_sum(pcpu);
		count -= 1ULL << 63;	/* PERCPU_COUNT_BIAS */
	}
	/* ioctx_alloc's two: the initial one and free_ioctx_users' */
	s.reqs = sum == ~0ULL ? ~0ULL : count + sum - 2;
	return bpf_seq_write(seq, &s, sizeof(s));
}

struct ctx_state {
	struct seq_file *seq;
	struct kioctx_table *tab;
};

/* bpf_loop's step: one slot of the table (an empty one is NULL) */
static long one_slot(__u32 i, void *data)
{
	struct ctx_state *st = data;
	struct kioctx_table *tab = st->tab;
	struct kioctx *ctx = NULL;

	bpf_probe_read_kernel(&ctx, sizeof(ctx), &tab->table[i]);
	if (ctx && one_ctx(st->seq, ctx))
		return 1;
	return 0;
}

SEC("iter/task")
int ckpt_aio(struct bpf_iter__task *it)
{
	struct task_struct *t = it->task;
	struct kioctx_table *tab;
	struct ctx_state st;

	/* the link's filter gives the threads of the process, as ckpt's
	 * pid namespace names it (tgid is the initial namespace's) */
	if (!t || done || !t->mm)
		return 0;
	done = 1;
	st.seq = it->meta->seq;
	tab = BPF_CORE_READ(t, mm, ioctx_table);
	st.tab = tab;
	if (tab)
		bpf_loop(BPF_CORE_READ(tab, nr), one_slot, &st, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
