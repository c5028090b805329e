/*
 * The checkpointer inside ckpt cc programs (part of the runtime, cc/rt.c),
 * for where ckpt cannot ptrace the program: its aarch64 build under
 * qemu-aarch64, whose registers and memory ptrace would see as qemu's.
 *
 * With CKPT_XISA_DUMP=PATH in its environment the program reads its
 * landmarks' addresses from PROG.xisa as it starts and takes SIGUSR2 as
 * "checkpoint at the next landmark": the handler puts a breakpoint on
 * every landmark; each thread that reaches one stops there (parked in
 * the SIGTRAP handler) with nothing live in registers but the stack and
 * frame pointers (what the landmark pass guarantees); a thread waiting
 * in one of the runtime's thread functions (a mutex, a condition, a
 * join: cc/rt-threads.c) counts as stopped where it called it. The last
 * thread to stop takes the breakpoints away and writes a source image
 * (arch/xisa-image.h) to PATH: main's stack, the program's globals and
 * the carried heap (the other threads' stacks are in it), read from
 * /proc/self/maps (qemu shows the program's own mappings there), where
 * each thread stopped with its thread pointer, and the pages of each
 * thread's thread-local variables. The program then exits 0. ckpt translate
 * reads the image as it reads an image attach --landmark took.
 *
 * A landmark not reached within CKPT_XISA_LANDMARK_MS (milliseconds,
 * 5000 by default: attach --landmark's bound) after the SIGUSR2, a
 * timer (SIGUSR2 again, told apart by its si_code) takes the breakpoints
 * away, says so in one line, and the program runs on, not checkpointed.
 *
 * A program whose main called pthread_exit is not checkpointed yet: it
 * says so in one line and runs on.
 *
 * Everything after the start is system calls on static buffers: the
 * handlers may interrupt libc. A checkpoint that fails says so on stderr
 * and the program runs on from the landmark, unaltered.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "arch/xisa-image.h"
#include "arch/xisa-rt.h"

#define PAGE		4096ull
#define BELOW_SP	65536ull	/* of the stack VMA: what may be used */
#define MAPS_MAX	(1 << 18)

static char path[4096], tmp[4112], exe[4096];
static uint64_t *lm_pc;
static uint32_t nr_lms;
static unsigned char *orig;	/* each landmark's bytes under the trap */
static uint64_t text_lo, text_hi, data_lo, data_hi;
static int64_t tls_lo = INT64_MAX, tls_hi = INT64_MIN;	/* from the TP */
static char maps[MAPS_MAX];
static unsigned long bound_ms = 5000;	/* attach --landmark's default */
static char bound_msg[96];
static timer_t bound;
static struct timespec armed_at;	/* the SIGUSR2 */

static void say(const char *what)
{
	const char *p[] = { "ckpt-xisa: ", path, ": ", what, "\n" };
	unsigned i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (write(2, p[i], strlen(p[i])) < 0)
			return;
}

/* PROG.xisa beside /proc/self/exe: the landmarks of this build and the
 * program's globals. 0, or -1 with nothing set. */
static int read_meta(void)
{
	char meta[4096 + 8], *line = NULL, *dot;
	unsigned long long v[4], d0, d1, sz;
	long long o[2];
	size_t cap = 0, n = 0;
	unsigned id, fn;
	char kind;
	FILE *f;
	ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (k <= 0)
		return -1;
	exe[k] = 0;
	dot = strrchr(exe, '.');
	if (!dot || dot == exe)
		return -1;
	snprintf(meta, sizeof(meta), "%.*s.xisa", (int)(dot - exe), exe);
	f = fopen(meta, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "data %llx %llx", &d0, &d1) == 2) {
			data_lo = d0 & ~(PAGE - 1);
			data_hi = (d1 + PAGE - 1) & ~(PAGE - 1);
		}
		if (sscanf(line, "tls %*s %llu %lld %lld", &sz, &o[0],
			   &o[1]) == 3) {
			if (o[xisa_rt_col] < tls_lo)
				tls_lo = o[xisa_rt_col];
			if (o[xisa_rt_col] + (long long)sz > tls_hi)
				tls_hi = o[xisa_rt_col] + sz;
		}
		if (sscanf(line, "lm %u %u %c %llx %llx %llx %llx", &id, &fn,
			   &kind, &v[0], &v[1], &v[2], &v[3]) != 7 ||
		    id != n)
			continue;
		if (!(n & (n - 1))) {
			uint64_t *p = realloc(lm_pc, (n ? 2 * n : 1) * 8);

			if (!p)
				break;
			lm_pc = p;
		}
		lm_pc[n++] = v[2 * xisa_rt_col];
	}
	free(line);
	fclose(f);
	nr_lms = n;
	orig = n ? malloc(n * xisa_rt_trap_len) : NULL;
	if (!orig || !data_hi)
		return -1;
	text_lo = UINT64_MAX;
	for (n = 0; n < nr_lms; n++) {
		memcpy(orig + n * xisa_rt_trap_len, (void *)(uintptr_t)lm_pc[n],
		       xisa_rt_trap_len);
		if (lm_pc[n] < text_lo)
			text_lo = lm_pc[n];
		if (lm_pc[n] + xisa_rt_trap_len > text_hi)
			text_hi = lm_pc[n] + xisa_rt_trap_len;
	}
	text_lo &= ~(PAGE - 1);
	text_hi = (text_hi + PAGE - 1) & ~(PAGE - 1);
	return 0;
}

/* The landmarks' bytes: the traps (on) or what was there */
static int patch(int on)
{
	void *lo = (void *)(uintptr_t)text_lo;
	uint32_t i;

	if (mprotect(lo, text_hi - text_lo,
		     PROT_READ | PROT_WRITE | PROT_EXEC))
		return -1;
	for (i = 0; i < nr_lms; i++)
		memcpy((void *)(uintptr_t)lm_pc[i],
		       on ? xisa_rt_trap : orig + i * xisa_rt_trap_len,
		       xisa_rt_trap_len);
	__builtin___clear_cache((char *)lo, (char *)(uintptr_t)text_hi);
	return mprotect(lo, text_hi - text_lo, PROT_READ | PROT_EXEC);
}

/* The bound from the SIGUSR2 on (on 1), or none (0) */
static void set_bound(int on)
{
	struct itimerspec t;

	memset(&t, 0, sizeof(t));
	if (on) {
		t.it_value.tv_sec = bound_ms / 1000;
		t.it_value.tv_nsec = bound_ms % 1000 * 1000000;
	}
	timer_settime(bound, 0, &t, NULL);
}

/* every parked thread on (the checkpoint failed or the bound passed) */
static void release(void)
{
	__atomic_add_fetch(&xisa_rt_gen, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &xisa_rt_gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
		NULL, 0);
}

int xisa_rt_all_stopped(void)
{
	int i;

	if (xisa_rt_ckpt != XISA_C_ARMED)
		return 0;
	for (i = 0; i < XISA_MAX_THREADS; i++)
		if (xisa_rt_slots[i].state == XISA_S_RUNNING)
			return 0;
	xisa_rt_ckpt = XISA_C_WRITING;
	return 1;
}

/* SIGUSR2: from the user, arm; from the timer, the bound passed */
static void arm(int sig, siginfo_t *si, void *uc)
{
	int e = errno, was, write;

	(void)sig;
	(void)uc;
	xisa_rt_lock(NULL);
	was = xisa_rt_ckpt;
	if (si->si_code == SI_TIMER ? was == XISA_C_ARMED : was == XISA_C_IDLE)
		xisa_rt_ckpt = was == XISA_C_IDLE ? XISA_C_ARMED : XISA_C_IDLE;
	xisa_rt_unlock(NULL);
	if (si->si_code == SI_TIMER) {
		if (was == XISA_C_ARMED) {
			patch(0);
			say(bound_msg);
			release();
		}
	} else if (was == XISA_C_IDLE) {
		clock_gettime(CLOCK_MONOTONIC, &armed_at);
		if (patch(1)) {
			patch(0);
			xisa_rt_lock(NULL);
			xisa_rt_ckpt = XISA_C_IDLE;
			xisa_rt_unlock(NULL);
			say("can't put breakpoints on the landmarks");
		} else {
			set_bound(1);
			/* every thread waiting already? */
			xisa_rt_lock(NULL);
			write = xisa_rt_all_stopped();
			xisa_rt_unlock(NULL);
			if (write)
				xisa_rt_write();
		}
	}
	errno = e;
}

static int put(int fd, uint64_t addr, uint64_t len, uint32_t prot,
	       uint32_t flags, const void *data)
{
	struct xisa_region r = { addr, len, prot, flags };
	const char *p = data;
	ssize_t n;

	if (write(fd, &r, sizeof(r)) != sizeof(r))
		return -1;
	while (data && len) {
		n = write(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static uint64_t hex(const char **s)
{
	uint64_t v = 0;
	int d;

	for (;; (*s)++) {
		d = **s >= '0' && **s <= '9' ? **s - '0'
		  : **s >= 'a' && **s <= 'f' ? **s - 'a' + 10 : -1;
		if (d < 0)
			return v;
		v = v * 16 + d;
	}
}

static int read_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, maps + len, MAPS_MAX - 1 - len)) > 0)
		len += n;
	close(fd);
	maps[len] = 0;
	return n < 0 || len == MAPS_MAX - 1 ? -1 : 0;
}

/* The regions of the mappings: the stack holding sp, the writable pages
 * of the program's globals (the others are the same in every run), the
 * carried heap. Their number, or -1. */
static int page_zero(uint64_t a)
{
	const uint64_t *w = (const uint64_t *)(uintptr_t)a;
	unsigned i;

	for (i = 0; i < PAGE / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

/* A readable mapping of the heap in runs: pages of zeros (the unused
 * parts of threads' stacks, mostly) without their bytes. Their number. */
static int put_heap_runs(int fd, uint64_t a, uint64_t b, uint32_t prot)
{
	uint64_t c, d;
	int n = 0, z;

	for (c = a; c < b; c = d, n++) {
		z = page_zero(c);
		for (d = c + PAGE; d < b && page_zero(d) == z; d += PAGE)
			;
		if (put(fd, c, d - c, prot, z ? XISA_R_ZERO : 0,
			z ? NULL : (void *)(uintptr_t)c))
			return -1;
	}
	return n;
}

static int put_maps(int fd, uint64_t sp)
{
	const char *s = maps;
	uint64_t a, b;
	uint32_t prot;
	int n = 0, k;

	while (*s) {
		a = hex(&s);
		s++;
		b = hex(&s);
		s++;
		prot = (s[0] == 'r' ? PROT_READ : 0) |
		       (s[1] == 'w' ? PROT_WRITE : 0) |
		       (s[2] == 'x' ? PROT_EXEC : 0);
		if (sp >= a && sp < b && sp - a > BELOW_SP)
			a = (sp - BELOW_SP) & ~(PAGE - 1);
		if ((prot & PROT_WRITE) && a < data_hi && b > data_lo) {
			uint64_t lo = a > data_lo ? a : data_lo;
			uint64_t hi = b < data_hi ? b : data_hi;

			if (put(fd, lo, hi - lo, prot, XISA_R_PROGRAM,
				(void *)(uintptr_t)lo))
				return -1;
			n++;
		} else if (a >= XISA_HEAP_BASE && b <= XISA_HEAP_BASE +
			   XISA_HEAP_SIZE && (prot & PROT_READ)) {
			if ((k = put_heap_runs(fd, a, b, prot)) < 0)
				return -1;
			n += k;
		} else if ((sp >= a && sp < b) ||
		    (a >= XISA_HEAP_BASE && b <= XISA_HEAP_BASE +
		     XISA_HEAP_SIZE)) {
			if (put(fd, a, b - a, prot,
				prot & PROT_READ ? 0 : XISA_R_ZERO,
				prot & PROT_READ ? (void *)(uintptr_t)a : NULL))
				return -1;
			n++;
		}
		s = strchr(s, '\n');
		if (!s)
			break;
		s++;
	}
	return n;
}

/* Each thread: where it stopped, its stack (main's: 0, the VMA of sp) */
static int put_threads(int fd)
{
	struct xisa_thread t;
	int i, n = 0;

	for (i = 0; i < XISA_MAX_THREADS; i++) {
		if (xisa_rt_slots[i].state == XISA_S_FREE)
			continue;
		t = xisa_rt_slots[i].t;
		if (i)
			xisa_rt_thread_stack(t.handle, &t.stack_lo,
					     &t.stack_hi);
		if (put(fd, 0, sizeof(t), 0, XISA_R_THREAD, &t))
			return -1;
		n++;
	}
	return n;
}

static void arm(int sig, siginfo_t *si, void *uc);
static void trapped(int sig, siginfo_t *si, void *uc);

/* Each signal's action but the checkpointer's own and those libc keeps
 * to itself (sigaction says EINVAL): their number, or -1 */
static int put_sigacts(int fd)
{
	struct xisa_sigact a;
	struct sigaction sa;
	int sig, k, n = 0;

	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP ||
		    sigaction(sig, NULL, &sa))
			continue;
		if ((sa.sa_flags & SA_SIGINFO) &&
		    (sa.sa_sigaction == arm || sa.sa_sigaction == trapped))
			continue;
		a.handler = (uintptr_t)sa.sa_handler;
		a.flags = (uint32_t)sa.sa_flags & ~0x04000000u;	/* RESTORER */
		a.mask = 0;
		for (k = 1; k <= 64; k++)
			if (sigismember(&sa.sa_mask, k) == 1)
				a.mask |= 1ull << (k - 1);
		if (put(fd, sig, sizeof(a), 0, XISA_R_SIGACT, &a))
			return -1;
		n++;
	}
	return n;
}

/* The image of every thread (slot 0, main, in the header too) */
static int write_image(void)
{
	const struct xisa_thread *m = &xisa_rt_slots[0].t;
	struct xisa_hdr h;
	struct timespec now;
	int fd, n, k;

	memset(&h, 0, sizeof(h));
	clock_gettime(CLOCK_MONOTONIC, &now);
	h.stop_ns = (now.tv_sec - armed_at.tv_sec) * 1000000000ull +
		    now.tv_nsec - armed_at.tv_nsec;
	memcpy(h.magic, XISA_SRC_MAGIC, 8);
	h.version = XISA_VERSION;
	h.isa = xisa_rt_img_isa;
	h.pc = m->pc;
	h.sp = m->sp;
	h.fp = m->fp;
	for (h.landmark = 0; h.landmark < nr_lms &&
	     lm_pc[h.landmark] != m->pc; h.landmark++)
		;
	h.tp = m->tp;
	if (read_maps())
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, &h, sizeof(h)) != sizeof(h) ||
	    put(fd, 0, strlen(exe), 0, XISA_R_EXE, exe) ||
	    (n = put_maps(fd, m->sp)) < 0 || (k = put_threads(fd)) < 0)
		goto fail;
	n += k;
	if ((k = put_sigacts(fd)) < 0)
		goto fail;
	n += k;
	for (k = 0; tls_lo < tls_hi && k < XISA_MAX_THREADS; k++) {
		/* the pages of each thread's thread-local variables */
		uint64_t tp = xisa_rt_slots[k].t.tp;
		uint64_t lo = (tp + tls_lo) & ~(PAGE - 1);
		uint64_t hi = (tp + tls_hi + PAGE - 1) & ~(PAGE - 1);

		if (xisa_rt_slots[k].state == XISA_S_FREE)
			continue;
		if (put(fd, lo, hi - lo, PROT_READ | PROT_WRITE, 0,
			(void *)(uintptr_t)lo))
			goto fail;
		n++;
	}
	h.nr_regions = 1 + n;
	if (pwrite(fd, &h, sizeof(h), 0) != sizeof(h) || fsync(fd) ||
	    close(fd) || rename(tmp, path))
		goto fail_closed;
	return 0;
fail:
	close(fd);
fail_closed:
	unlink(tmp);
	return -1;
}

int xisa_rt_sigs_busy(const sigset_t *mask)
{
	sigset_t p;
	int k;

	if (sigpending(&p))
		return 1;
	for (k = 1; k <= 64; k++)
		if (k != SIGUSR2 && k != SIGTRAP &&
		    (sigismember(mask, k) == 1 || sigismember(&p, k) == 1))
			return 1;
	return 0;
}

/* Any thread stopped with signals blocked or pending (for the writer,
 * whose own slot says it already, the process's too) */
static int sigs_busy(void)
{
	int k;

	for (k = 0; k < XISA_MAX_THREADS; k++)
		if (xisa_rt_slots[k].state != XISA_S_FREE &&
		    xisa_rt_slots[k].sigs)
			return 1;
	return 0;
}

void xisa_rt_write(void)
{
	const char *why = NULL;

	set_bound(0);
	if (patch(0)) {
		say("can't take the breakpoints away");
		_exit(70);
	}
	if (xisa_rt_slots[0].state == XISA_S_FREE)
		why = "main has called pthread_exit: not checkpointed, "
		      "running on";
	else if (sigs_busy())
		why = "a thread has signals blocked or pending, which the "
		      "image can't carry: not checkpointed, running on";
	else if (!write_image())
		_exit(0);
	say(why ? why : strerror(errno));
	xisa_rt_lock(NULL);
	xisa_rt_ckpt = XISA_C_IDLE;
	xisa_rt_unlock(NULL);
	release();
}

static void trapped(int sig, siginfo_t *si, void *uc)
{
	struct xisa_rt_slot *s;
	uint64_t pc, sp, fp;
	uint32_t i, g;
	int e = errno, write;

	xisa_rt_trapped(uc, &pc, &sp, &fp);
	for (i = 0; i < nr_lms && lm_pc[i] != pc; i++)
		;
	if (i == nr_lms || si->si_code <= 0) {	/* <= 0: sent, not a trap */
		/* not ours: what SIGTRAP does without the runtime */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	xisa_rt_set_pc(uc, pc);
	xisa_rt_lock(NULL);
	if (xisa_rt_ckpt != XISA_C_ARMED) {
		/* the breakpoints are being taken away: on */
		xisa_rt_unlock(NULL);
		errno = e;
		return;
	}
	s = &xisa_rt_slots[xisa_rt_self()];
	memset(&s->t, 0, sizeof(s->t));
	s->t.handle = s->handle;
	s->t.how = XISA_T_LANDMARK;
	s->t.pc = pc;
	s->t.sp = sp;
	s->t.fp = fp;
	s->t.tp = xisa_rt_tp();
	s->sigs = xisa_rt_sigs_busy(&((ucontext_t *)uc)->uc_sigmask);
	s->state = XISA_S_PARKED;
	write = xisa_rt_all_stopped();
	g = xisa_rt_gen;
	xisa_rt_unlock(NULL);
	if (write)
		xisa_rt_write();
	for (;;) {
		xisa_rt_wait_gen(g);
		xisa_rt_lock(NULL);
		/* released, unless a new checkpoint came meanwhile: it is
		 * stopped at a landmark for that one too */
		if (xisa_rt_ckpt == XISA_C_IDLE)
			break;
		g = xisa_rt_gen;
		xisa_rt_unlock(NULL);
	}
	s->state = XISA_S_RUNNING;
	xisa_rt_unlock(NULL);
	errno = e;
}

int ckpt_xisa_dumping(void)
{
	return path[0] != 0;
}

void ckpt_xisa_dump_init(const char *to)
{
	const char *ms = getenv("CKPT_XISA_LANDMARK_MS");
	struct sigevent ev;
	struct sigaction sa;
	char *end;

	if (strlen(to) >= sizeof(path)) {
		fprintf(stderr, "ckpt-xisa: CKPT_XISA_DUMP is too long\n");
		_exit(70);
	}
	strcpy(path, to);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (read_meta()) {
		fprintf(stderr, "ckpt-xisa: %s: no landmarks for "
			"CKPT_XISA_DUMP (not built by ckpt cc?)\n", exe);
		_exit(70);
	}
	if (ms && *ms) {
		errno = 0;
		bound_ms = strtoul(ms, &end, 10);
		if (*end || errno || bound_ms < 1 || bound_ms > 86400000 ||
		    strspn(ms, "0123456789") != strlen(ms)) {
			fprintf(stderr, "ckpt-xisa: CKPT_XISA_LANDMARK_MS=%s is "
				"not a number of milliseconds (1-86400000)\n",
				ms);
			_exit(70);
		}
	}
	snprintf(bound_msg, sizeof(bound_msg), "no landmark reached within "
		 "%lu ms: not checkpointed, running on", bound_ms);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR2;
	if (timer_create(CLOCK_MONOTONIC, &ev, &bound)) {
		fprintf(stderr, "ckpt-xisa: can't create the landmark timer: "
			"%s\n", strerror(errno));
		_exit(70);
	}
	/* each handler keeps the other out: a trap while disarming, or the
	 * bound passing while the image is written, finds a settled state */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTRAP);
	sa.sa_sigaction = arm;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sa.sa_sigaction = trapped;
	sigaction(SIGTRAP, &sa, NULL);
}
