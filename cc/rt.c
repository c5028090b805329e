/*
 * The runtime linked into both executables of a ckpt cc program.
 *
 * The other ISA's libc cannot be translated (its data has another
 * layout), so a translated program starts as any other: its own libc
 * initialises, then this constructor, seeing CKPT_XISA_RESUME, fills the
 * program's memory from the translated image (its aligned globals and
 * its stack at the original addresses) and jumps to the landmark the
 * image names. main's outermost frame returns into ckpt_xisa_exit
 * (arch/ISA/rt/xisa-jump.c), which exits with main's value.
 *
 * With CKPT_XISA_DUMP, SIGUSR2 checkpoints it (rt-dump.c). The
 * breakpoints of a ckpt that died are taken away as met (rt-heal.c), but
 * on aarch64 with CKPT_XISA_DUMP, whose checkpointer has their signal.
 *
 * stdout is unbuffered in both builds: what libc buffered at the
 * checkpoint would be lost with the source ISA's libc.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/xisa-image.h"
#include "arch/xisa-rt.h"

void ckpt_xisa_exit_code(int code)
{
	exit(code);
}

static void fail(const char *img, const char *what)
{
	fprintf(stderr, "ckpt-xisa: %s: %s%s%s\n", img, what,
		errno ? ": " : "", errno ? strerror(errno) : "");
	_exit(70);
}

static int read_all(int fd, void *buf, uint64_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len > (1 << 30) ? (1 << 30) : len);
		if (n <= 0) {
			if (!n)
				errno = 0;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static uint64_t hash_self(void)
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned char buf[65536];
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ssize_t n, i;

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	close(fd);
	return h;
}

extern char __executable_start[], _end[];

/* the image's threads, main's first */
static struct xisa_thread threads[XISA_MAX_THREADS];
static uint32_t nr_threads;
/* the thread-local variables of each (not main's: in place already) */
static struct xisa_rt_tls *tls_of[XISA_MAX_THREADS];

void xisa_rt_tls_put(const struct xisa_rt_tls *v)
{
	for (; v; v = v->next)
		memcpy((char *)(uintptr_t)(xisa_rt_tp() + v->off), v->bytes,
		       v->len);
}

void xisa_rt_resume(const struct xisa_thread *t)
{
	/* a copy: waiting again, the thread writes its slot over */
	struct xisa_thread c = *t;
	uint64_t rv;

	if (c.how == XISA_T_BLOCKED) {
		rv = xisa_rt_reissue(&c);
		xisa_rt_ret(c.pc, c.sp, c.fp, rv);
	}
	xisa_rt_jump(c.pc, c.sp, c.fp);
}

/* the signals' actions, put in place once the memory is */
static struct xisa_sigact acts[XISA_NSIG];
static char have_act[XISA_NSIG];

static void put_sigacts(const char *img)
{
	struct sigaction sa;
	int sig, k;

	for (sig = 1; sig <= XISA_NSIG; sig++) {
		const struct xisa_sigact *a = &acts[sig - 1];

		if (!have_act[sig - 1])
			continue;
		/* this run's checkpointer has these (rt-dump.c), its
		 * healer this one (rt-heal.c: the default for all else) */
		if (!a->handler && (sig == xisa_rt_bp_sig ||
				    ((sig == SIGUSR2 || sig == SIGTRAP) &&
				     ckpt_xisa_dumping())))
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = (void (*)(int))(uintptr_t)a->handler;
		sa.sa_flags = (int)a->flags;
		sigemptyset(&sa.sa_mask);
		for (k = 1; k <= XISA_NSIG; k++)
			if (a->mask & (1ull << (k - 1)))
				sigaddset(&sa.sa_mask, k);
		/* the default where this libc or qemu keeps a signal for
		 * itself is what the program has anyway */
		if (sigaction(sig, &sa, NULL) && a->handler)
			fail(img, "can't set a signal's action");
	}
}

static void map_region(const char *img, int fd, const struct xisa_region *r)
{
	void *at = (void *)(uintptr_t)r->addr, *p;

	if (r->flags & XISA_R_SIGACT) {
		if (r->len != sizeof(acts[0]) || r->addr < 1 ||
		    r->addr > XISA_NSIG ||
		    read_all(fd, &acts[r->addr - 1], r->len))
			fail(img, "a bad signal action");
		have_act[r->addr - 1] = 1;
		return;
	}

	if ((r->flags & XISA_R_TLS) && nr_threads &&
	    threads[nr_threads - 1].handle) {
		/* another thread's: kept until it starts */
		struct xisa_rt_tls *v = malloc(sizeof(*v) + r->len);

		if (!v || r->len > (1u << 20))
			fail(img, "a thread-local variable");
		v->off = (int64_t)r->addr;
		v->len = r->len;
		v->next = tls_of[nr_threads - 1];
		tls_of[nr_threads - 1] = v;
		if (read_all(fd, v->bytes, r->len))
			fail(img, "short region");
		return;
	}
	if (r->flags & XISA_R_TLS) {
		/* a thread-local variable, at its place from this thread's
		 * pointer (the translation checked it is the program's) */
		if (read_all(fd, (char *)(uintptr_t)(xisa_rt_tp() + r->addr),
			     r->len))
			fail(img, "short region");
		return;
	}
	if (r->flags & XISA_R_OVER) {
		/* a thread's stack, in the carried heap mapped before */
		if (r->addr < XISA_HEAP_BASE ||
		    r->addr + r->len > XISA_HEAP_BASE + XISA_HEAP_SIZE ||
		    read_all(fd, at, r->len))
			fail(img, "a thread's stack is not in the carried heap");
		return;
	}
	if (r->flags & XISA_R_THREAD) {
		if (r->len != sizeof(threads[0]) ||
		    nr_threads == XISA_MAX_THREADS ||
		    read_all(fd, &threads[nr_threads++], r->len))
			fail(img, "a bad thread");
		return;
	}
	if (r->flags & XISA_R_PROGRAM) {
		/* the program's aligned globals: written over in place */
		if ((char *)at < __executable_start ||
		    (char *)at + r->len > _end)
			fail(img, "a region is not the program's");
		if (read_all(fd, at, r->len))
			fail(img, "short region");
		return;
	}
	p = mmap(at, r->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		fail(img, "can't map a region");
	if (p != at)
		fail(img, "a region's addresses are taken");
	if (!(r->flags & XISA_R_ZERO) && read_all(fd, at, r->len))
		fail(img, "short region");
	if (mprotect(p, r->len, r->prot))
		fail(img, "mprotect");
	if (r->addr == XISA_HEAP_BASE)
		ckpt_xisa_heap_carried();
}

static void resume(const char *img)
{
	sigset_t all, old;
	struct xisa_hdr h;
	struct xisa_region r;
	uint32_t k;
	int fd;

	/* a signal that comes meanwhile waits for the program's actions
	 * and memory (the mask, the startup's, comes back before any
	 * thread of the program runs) */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	fd = open(img, O_RDONLY | O_CLOEXEC);
	errno = 0;
	if (fd < 0)
		fail(img, "can't open");
	if (read_all(fd, &h, sizeof(h)) ||
	    memcmp(h.magic, XISA_MAGIC, 8) || h.version != XISA_VERSION ||
	    h.nr_regions > XISA_MAX_REGIONS)
		fail(img, "not a translated image");
	if (h.bin_hash != hash_self()) {
		errno = 0;
		fail(img, "translated for another executable");
	}
	for (k = 0; k < h.nr_regions; k++) {
		if (read_all(fd, &r, sizeof(r)))
			fail(img, "short region header");
		map_region(img, fd, &r);
	}
	close(fd);
	unsetenv("CKPT_XISA_RESUME");	/* not for the programs it runs */
	put_sigacts(img);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!nr_threads)
		xisa_rt_jump(h.pc, h.sp, h.fp);
	if (threads[0].handle) {
		errno = 0;
		fail(img, "main's thread is not the first");
	}
	for (k = 1; k < nr_threads; k++)
		if ((errno = xisa_rt_thread_again(&threads[k], tls_of[k])))
			fail(img, "can't start a thread again");
	xisa_rt_resume(&threads[0]);
}

__attribute__((constructor)) static void ckpt_xisa_init(void)
{
	const char *img = getenv("CKPT_XISA_RESUME");
	const char *dump = getenv("CKPT_XISA_DUMP");

	setvbuf(stdout, NULL, _IONBF, 0);
	/* rt-heal.c, unless its signal is the checkpointer's */
	if (!(dump && *dump) || xisa_rt_bp_sig != SIGTRAP)
		xisa_rt_heal_init();
	if (dump && *dump) {
		ckpt_xisa_dump_init(dump);	/* rt-dump.c */
		unsetenv("CKPT_XISA_DUMP");
	}
	if (img && *img)
		resume(img);
}
