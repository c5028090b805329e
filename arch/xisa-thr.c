/*
 * The threads of a stopped ckpt cc program of several threads, as the
 * runtime's own checkpointer counts them (cc/rt-dump.c,
 * xisa_rt_all_stopped): each stands at a landmark, or its slot in the
 * runtime (xisa_rt_slots, cc/rt-threads.c) says it waits in one of the
 * runtime's thread calls (XISA_S_BLOCKED), and then the slot says where.
 * attach --landmark asks it of the live program until every thread is
 * stopped so; ckpt translate asks it again of the image's memory, which
 * is the same memory, to get each thread's struct xisa_thread.
 *
 * The slots are read only while their lock (xisa_rt_ck) is free: a
 * thread stopped inside the runtime's critical section may have left
 * its slot half written. Slot 0 is main's, the process's leader; the
 * others name their kernel thread (tid), set as it starts.
 */
#include <stdlib.h>
#include <string.h>

#include "arch/xisa-rt.h"
#include "arch/xisa.h"

static int read_slots(const struct xisa_meta *m, int isa, xisa_read_fn rd,
		      void *ctx, struct xisa_rt_slot *slots)
{
	uint32_t lock;

	if (!m->slots[isa] || !m->slots_lock[isa]) {
		pr_err("the metadata has no thread slots of the runtime: "
		       "build the program again with ckpt cc");
		return -1;
	}
	if (rd(ctx, m->slots_lock[isa], &lock, sizeof(lock)) ||
	    rd(ctx, m->slots[isa], slots,
	       XISA_MAX_THREADS * sizeof(*slots))) {
		pr_err("can't read the runtime's thread slots");
		return -1;
	}
	return lock ? 1 : 0;
}

static int slot_of(const struct xisa_rt_slot *slots, const struct xisa_seen *s)
{
	int i;

	if (s->leader)
		return slots[0].state == XISA_S_FREE ? -1 : 0;
	for (i = 1; i < XISA_MAX_THREADS; i++)
		if (slots[i].state != XISA_S_FREE && slots[i].tid == s->tid)
			return i;
	return -1;
}

/* The record of a thread not main's: its stack */
static int stack_of(xisa_read_fn rd, void *ctx, struct xisa_thread *t)
{
	struct xisa_rt_thr r;

	if (rd(ctx, t->handle, &r, sizeof(r))) {
		pr_err("can't read the record of thread %#llx",
		       (unsigned long long)t->handle);
		return -1;
	}
	t->stack_lo = r.stack_lo;
	t->stack_hi = r.stack_hi;
	return 0;
}

int xisa_threads_of(const struct xisa_meta *m, int isa, xisa_read_fn rd,
		    void *ctx, const struct xisa_seen *seen, unsigned n,
		    struct xisa_thread *out, unsigned *busy)
{
	struct xisa_rt_slot *slots = calloc(XISA_MAX_THREADS, sizeof(*slots));
	char used[XISA_MAX_THREADS] = { 0 };
	unsigned i, k = 1;
	int ret, j;

	if (!slots)
		return -1;
	*busy = 0;
	if (n > XISA_MAX_THREADS) {
		pr_err("more than %d threads", XISA_MAX_THREADS);
		ret = -1;
		goto out;
	}
	ret = read_slots(m, isa, rd, ctx, slots);
	if (ret)
		goto out;	/* 1: the lock held, by the first, say */
	for (i = 0; i < n; i++) {
		const struct xisa_seen *s = &seen[i];
		struct xisa_thread *t;

		j = slot_of(slots, s);
		if (s->leader && j < 0) {
			pr_err("main has called pthread_exit: not moved yet");
			ret = -1;
			goto out;
		}
		if (j < 0 || used[j] || (!s->at &&
					 slots[j].state != XISA_S_BLOCKED)) {
			*busy = i;	/* no slot yet, or no more, or runs */
			ret = 1;
			goto out;
		}
		if (j && k >= n) {	/* main not among them */
			*busy = i;
			ret = 1;
			goto out;
		}
		used[j] = 1;
		/* main's first, the others in the order seen */
		t = j ? &out[k++] : &out[0];
		if (s->at) {
			memset(t, 0, sizeof(*t));
			t->handle = slots[j].handle;
			t->how = XISA_T_LANDMARK;
			t->pc = s->pc;
			t->sp = s->sp;
			t->fp = s->fp;
			t->tp = s->tp;
		} else {
			*t = slots[j].t;
		}
		if (j && stack_of(rd, ctx, t)) {
			ret = -1;
			goto out;
		}
	}
	/* a slot without its thread: one being started */
	for (j = 0; j < XISA_MAX_THREADS; j++)
		if (slots[j].state != XISA_S_FREE && !used[j]) {
			ret = 1;
			goto out;
		}
out:
	free(slots);
	return ret;
}
