/*
 * The threads of ckpt cc programs (part of the runtime, cc/rt.c): the
 * landmark pass renames the program's calls of pthread_create, _join,
 * _exit, pthread_mutex_* and pthread_cond_* to the functions below, so
 * that what the program holds of its threads and locks is the runtime's,
 * with one layout on both ISAs, and moves with it:
 *
 * - a thread (the program's pthread_t) is a record in the carried heap
 *   (cc/rt-heap.c), and so is its stack: its start routine runs there,
 *   called from libc's thread (whose own stack and TCB stay libc's), and
 *   returns into ckpt_xisa_thread_ret (arch/ISA/rt/xisa-jump.c), which
 *   ckpt translate knows as the end of a thread's call chain;
 * - a mutex is the first 32-bit word of the program's pthread_mutex_t (0
 *   free, 1 held, 2 held with waiters), a condition variable the first
 *   word of its pthread_cond_t (a sequence): PTHREAD_MUTEX_INITIALIZER
 *   and PTHREAD_COND_INITIALIZER are zero on both ISAs.
 *
 * Each thread has a slot here (per run, not carried: main's is 0): what
 * the checkpointer (cc/rt-dump.c) counts and records. A thread about to
 * wait (for a mutex, a condition or a thread) records the wait and the
 * program's return address and frame pointer in its slot: it counts as
 * stopped, and the image it is in issues the wait again on the other
 * ISA (XISA_T_BLOCKED). Waking while an image is written, it waits on
 * until it is written (or the checkpoint failed).
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "arch/xisa-image.h"
#include "arch/xisa-rt.h"

#define THR_MAGIC	0x726874617369ull	/* "isathr" */
#define STACK_SIZE	(1ul << 20)

#define thr xisa_rt_thr	/* arch/xisa-rt.h: ckpt translate reads it */

/* where a wait was issued from: the program's return address and frame
 * pointer, and what it waits for */
struct wait {
	uint32_t op;
	uint64_t a, b, c, pc, fp;
};

struct xisa_rt_slot xisa_rt_slots[XISA_MAX_THREADS] = {
	[0] = { .state = XISA_S_RUNNING },	/* main */
};
uint32_t xisa_rt_ckpt;		/* XISA_C_* */
uint32_t xisa_rt_gen;		/* futex: +1 when a checkpoint failed */
/* the lock of the slots and the above: ckpt attach --landmark reads
 * the slots only while it is free */
uint32_t xisa_rt_ck;
static __thread int my_slot;	/* main: 0 */
static __thread jmp_buf *my_jb;

void *ckpt_xisa_malloc(size_t n);
void ckpt_xisa_free(void *p);
void *ckpt_xisa_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     long off);
int ckpt_xisa_munmap(void *addr, size_t len);
int ckpt_xisa_pthread_create(uint64_t *t, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg);
int ckpt_xisa_pthread_join(uint64_t t, void **ret);
void ckpt_xisa_pthread_exit(void *ret) __attribute__((noreturn));
int ckpt_xisa_pthread_mutex_init(void *m, const pthread_mutexattr_t *a);
int ckpt_xisa_pthread_mutex_destroy(void *m);
int ckpt_xisa_pthread_mutex_lock(void *m);
int ckpt_xisa_pthread_mutex_trylock(void *m);
int ckpt_xisa_pthread_mutex_unlock(void *m);
int ckpt_xisa_pthread_cond_init(void *c, const void *a);
int ckpt_xisa_pthread_cond_destroy(void *c);
int ckpt_xisa_pthread_cond_wait(void *c, void *m);
int ckpt_xisa_pthread_cond_signal(void *c);
int ckpt_xisa_pthread_cond_broadcast(void *c);
void ckpt_xisa_thread_done(uint64_t ret) __attribute__((noreturn, used));

/* the caller's return address and frame pointer, in a wrapper the
 * program called */
#define CALLER(w) do { \
	(w).pc = (uint64_t)(uintptr_t)__builtin_return_address(0); \
	(w).fp = *(uint64_t *)__builtin_frame_address(0); \
} while (0)

static long futex(uint32_t *w, int op, uint32_t v)
{
	return syscall(SYS_futex, w, op, v, NULL, NULL, 0);
}

void xisa_rt_wait_gen(uint32_t g)
{
	while (__atomic_load_n(&xisa_rt_gen, __ATOMIC_SEQ_CST) == g)
		futex(&xisa_rt_gen, FUTEX_WAIT_PRIVATE, g);
}

/* The lock of the slots, taken with every signal blocked (the
 * checkpointer's handlers take it too), or in those handlers */
void xisa_rt_lock(sigset_t *old)
{
	sigset_t all;

	if (old) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, old);
	}
	while (__atomic_exchange_n(&xisa_rt_ck, 1, __ATOMIC_ACQUIRE))
		;
}

void xisa_rt_unlock(sigset_t *old)
{
	__atomic_store_n(&xisa_rt_ck, 0, __ATOMIC_RELEASE);
	if (old)
		pthread_sigmask(SIG_SETMASK, old, NULL);
}

int xisa_rt_self(void)
{
	return my_slot;
}

int ckpt_xisa_threads(void)
{
	int i, n = 0;

	for (i = 0; i < XISA_MAX_THREADS; i++)
		n += xisa_rt_slots[i].state != XISA_S_FREE;
	return n;
}

/* This thread is to wait as w says: stopped, as far as a checkpoint
 * goes, until unblock() */
static void block(const struct wait *w)
{
	struct xisa_rt_slot *s = &xisa_rt_slots[my_slot];
	sigset_t old;
	int write;

	xisa_rt_lock(&old);
	memset(&s->t, 0, sizeof(s->t));
	s->t.handle = s->handle;
	s->t.how = XISA_T_BLOCKED;
	s->t.op = w->op;
	s->t.a = w->a;
	s->t.b = w->b;
	s->t.c = w->c;
	s->t.pc = w->pc;
	s->t.fp = w->fp;
	/* where the checkpointer looks for main's stack (the wait may run
	 * on another, resumed: cc/rt.c); translate reckons the caller's
	 * stack pointer from its frame */
	s->t.sp = w->fp;
	s->t.tp = xisa_rt_tp();
	s->sigs = xisa_rt_sigs_busy(&old);
	s->state = XISA_S_BLOCKED;
	write = xisa_rt_all_stopped();
	xisa_rt_unlock(&old);
	if (write)
		xisa_rt_write();	/* rt-dump.c: only if it failed */
}

static void unblock(void)
{
	sigset_t old;
	uint32_t g;

	for (;;) {
		xisa_rt_lock(&old);
		if (xisa_rt_ckpt != XISA_C_WRITING) {
			xisa_rt_slots[my_slot].state = XISA_S_RUNNING;
			xisa_rt_unlock(&old);
			return;
		}
		g = xisa_rt_gen;
		xisa_rt_unlock(&old);
		xisa_rt_wait_gen(g);
	}
}

/* ---- mutexes and condition variables ---- */

static void lock(uint32_t *m, const struct wait *from)
{
	struct wait w = *from;
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(m, &c, 1, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	w.op = XISA_OP_LOCK;
	w.a = (uintptr_t)m;
	if (c != 2)
		c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
	while (c) {
		block(&w);
		futex(m, FUTEX_WAIT_PRIVATE, 2);
		unblock();
		c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
	}
}

static void unlock(uint32_t *m)
{
	if (__atomic_fetch_sub(m, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(m, 0, __ATOMIC_RELEASE);
		futex(m, FUTEX_WAKE_PRIVATE, 1);
	}
}

/* the wait of a condition variable from its sequence s on, then the
 * mutex again */
static void cond_wait(uint32_t *c, uint32_t s, uint32_t *m,
		      const struct wait *from)
{
	struct wait w = *from;

	w.op = XISA_OP_COND;
	w.a = (uintptr_t)c;
	w.b = (uintptr_t)m;
	w.c = s;
	block(&w);
	futex(c, FUTEX_WAIT_PRIVATE, s);
	unblock();
	lock(m, from);
}

int ckpt_xisa_pthread_mutex_init(void *m, const pthread_mutexattr_t *a)
{
	int type;

	if (a && (pthread_mutexattr_gettype(a, &type) ||
		  (type != PTHREAD_MUTEX_NORMAL &&
		   type != PTHREAD_MUTEX_DEFAULT)))
		return EINVAL;	/* recursive, error checking: not yet */
	__atomic_store_n((uint32_t *)m, 0, __ATOMIC_RELEASE);
	return 0;
}

int ckpt_xisa_pthread_mutex_destroy(void *m)
{
	return __atomic_load_n((uint32_t *)m, __ATOMIC_ACQUIRE) ? EBUSY : 0;
}

__attribute__((noinline)) int ckpt_xisa_pthread_mutex_lock(void *m)
{
	struct wait w;

	CALLER(w);
	lock(m, &w);
	return 0;
}

int ckpt_xisa_pthread_mutex_trylock(void *m)
{
	uint32_t c = 0;

	return __atomic_compare_exchange_n((uint32_t *)m, &c, 1, 0,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)
		? 0 : EBUSY;
}

int ckpt_xisa_pthread_mutex_unlock(void *m)
{
	unlock(m);
	return 0;
}

int ckpt_xisa_pthread_cond_init(void *c, const void *a)
{
	(void)a;	/* only its clock, for timed waits: not wrapped */
	__atomic_store_n((uint32_t *)c, 0, __ATOMIC_RELEASE);
	return 0;
}

int ckpt_xisa_pthread_cond_destroy(void *c)
{
	(void)c;
	return 0;
}

__attribute__((noinline)) int ckpt_xisa_pthread_cond_wait(void *c, void *m)
{
	uint32_t s = __atomic_load_n((uint32_t *)c, __ATOMIC_ACQUIRE);
	struct wait w;

	CALLER(w);
	unlock(m);
	cond_wait(c, s, m, &w);
	return 0;
}

static int wake(uint32_t *c, int n)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELEASE);
	futex(c, FUTEX_WAKE_PRIVATE, n);
	return 0;
}

int ckpt_xisa_pthread_cond_signal(void *c)
{
	return wake(c, 1);
}

int ckpt_xisa_pthread_cond_broadcast(void *c)
{
	return wake(c, INT_MAX);
}

/* ---- threads ---- */

static int join(struct thr *r, void **ret, const struct wait *from)
{
	struct wait w = *from;

	if (!r || r->magic != THR_MAGIC)
		return ESRCH;
	w.op = XISA_OP_JOIN;
	w.a = (uintptr_t)r;
	w.b = (uintptr_t)ret;
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		block(&w);
		futex(&r->done, FUTEX_WAIT_PRIVATE, 0);
		unblock();
	}
	if (ret)
		*ret = (void *)(uintptr_t)r->ret;
	ckpt_xisa_munmap((void *)(uintptr_t)r->stack_lo,
			 r->stack_hi - r->stack_lo);
	r->magic = 0;
	ckpt_xisa_free(r);
	return 0;
}

__attribute__((noinline)) int ckpt_xisa_pthread_join(uint64_t t, void **ret)
{
	struct wait w;

	CALLER(w);
	return join((struct thr *)(uintptr_t)t, ret, &w);
}

/* A thread's start routine returned (ckpt_xisa_thread_ret) or it called
 * pthread_exit: back onto libc's stack, in start() */
void ckpt_xisa_thread_done(uint64_t ret)
{
	((struct thr *)(uintptr_t)xisa_rt_slots[my_slot].handle)->ret = ret;
	longjmp(*my_jb, 1);
}

void ckpt_xisa_pthread_exit(void *ret)
{
	sigset_t old;

	if (my_slot)
		ckpt_xisa_thread_done((uintptr_t)ret);
	/* main: the checkpointer refuses a program without it */
	xisa_rt_lock(&old);
	xisa_rt_slots[0].state = XISA_S_FREE;
	xisa_rt_unlock(&old);
	pthread_exit(ret);
}

/* Where a wait an image recorded goes on (cc/rt.c): its value */
int xisa_rt_reissue(const struct xisa_thread *t)
{
	struct wait w = { t->op, t->a, t->b, t->c, t->pc, t->fp };

	switch (t->op) {
	case XISA_OP_JOIN:
		return join((struct thr *)(uintptr_t)t->a,
			    (void **)(uintptr_t)t->b, &w);
	case XISA_OP_LOCK:
		lock((uint32_t *)(uintptr_t)t->a, &w);
		return 0;
	case XISA_OP_COND:
		cond_wait((uint32_t *)(uintptr_t)t->a, t->c,
			  (uint32_t *)(uintptr_t)t->b, &w);
		return 0;
	}
	return EINVAL;
}

/* libc's thread of slot i: the start routine on the thread's stack, or
 * (resumed, cc/rt.c) its place in the image */
static void *start(void *p)
{
	struct xisa_rt_slot *s = &xisa_rt_slots[(intptr_t)p];
	struct thr *r = (struct thr *)(uintptr_t)s->handle;
	jmp_buf jb;
	sigset_t old;
	int write;

	my_slot = (intptr_t)p;
	my_jb = &jb;
	/* which thread is whose, for ckpt attach --landmark */
	__atomic_store_n(&s->tid, (int32_t)syscall(SYS_gettid),
			 __ATOMIC_RELEASE);
	if (!setjmp(jb)) {
		if (s->resume) {
			xisa_rt_tls_put(s->tls);
			xisa_rt_resume(&s->t);
		}
		xisa_rt_call_on(r->fn, r->arg, r->stack_hi);
	}
	/* r->ret set: off its stack, out of the program */
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	futex(&r->done, FUTEX_WAKE_PRIVATE, INT_MAX);
	xisa_rt_lock(&old);
	s->state = XISA_S_FREE;
	write = xisa_rt_all_stopped();
	xisa_rt_unlock(&old);
	if (write)
		xisa_rt_write();
	return NULL;
}

/* A slot for the thread of record handle, running; -1 if none is free */
static int slot_new(uint64_t handle)
{
	sigset_t old;
	int i;

	xisa_rt_lock(&old);
	for (i = 1; i < XISA_MAX_THREADS; i++)
		if (xisa_rt_slots[i].state == XISA_S_FREE)
			break;
	if (i < XISA_MAX_THREADS) {
		memset(&xisa_rt_slots[i], 0, sizeof(xisa_rt_slots[i]));
		xisa_rt_slots[i].handle = handle;
		xisa_rt_slots[i].state = XISA_S_RUNNING;
	}
	xisa_rt_unlock(&old);
	return i < XISA_MAX_THREADS ? i : -1;
}

static void slot_free(int i)
{
	sigset_t old;

	xisa_rt_lock(&old);
	xisa_rt_slots[i].state = XISA_S_FREE;
	xisa_rt_unlock(&old);
}

/* libc's thread for slot i, detached (the program joins the record) */
static int spawn(int i)
{
	pthread_attr_t a;
	pthread_t lt;
	int ret;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&lt, &a, start, (void *)(intptr_t)i);
	pthread_attr_destroy(&a);
	return ret;
}

int ckpt_xisa_pthread_create(uint64_t *t, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg)
{
	struct thr *r;
	void *stk;
	int i, ret;

	if (attr)
		return EINVAL;	/* its stack would be libc's: not yet */
	r = ckpt_xisa_malloc(sizeof(*r));
	if (!r)
		return EAGAIN;
	stk = ckpt_xisa_mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stk == MAP_FAILED) {
		ckpt_xisa_free(r);
		return EAGAIN;
	}
	memset(r, 0, sizeof(*r));
	r->magic = THR_MAGIC;
	r->stack_lo = (uintptr_t)stk;
	r->stack_hi = r->stack_lo + STACK_SIZE;
	r->fn = (uintptr_t)fn;
	r->arg = (uintptr_t)arg;
	i = slot_new((uintptr_t)r);
	ret = i < 0 ? EAGAIN : spawn(i);
	if (ret) {
		if (i >= 0)
			slot_free(i);
		ckpt_xisa_munmap(stk, STACK_SIZE);
		ckpt_xisa_free(r);
		return ret;
	}
	*t = (uintptr_t)r;
	return 0;
}

/* cc/rt.c, resuming: the thread an image recorded, in a new slot */
int xisa_rt_thread_again(const struct xisa_thread *t,
			 const struct xisa_rt_tls *tls)
{
	int i = slot_new(t->handle), ret;

	if (i < 0)
		return EAGAIN;
	xisa_rt_slots[i].t = *t;
	xisa_rt_slots[i].resume = 1;
	xisa_rt_slots[i].tls = tls;
	ret = spawn(i);
	if (ret)
		slot_free(i);
	return ret;
}

/* the stack of a thread's record (for the checkpointer) */
void xisa_rt_thread_stack(uint64_t handle, uint64_t *lo, uint64_t *hi)
{
	const struct thr *r = (const struct thr *)(uintptr_t)handle;

	*lo = r->stack_lo;
	*hi = r->stack_hi;
}
