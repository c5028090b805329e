/*
 * keptstate.c - state that ckpt(1) says is kept and no other workload
 * checks (issue 12's audit): the robust futex list of each thread
 * (get_robust_list), the rseq registration of each thread (glibc's own
 * is turned off with GLIBC_TUNABLES, the program re-executing itself, so
 * that it registers its own area: registering it again must then answer
 * EBUSY, not succeed), the personality (ADDR_NO_RANDOMIZE |
 * UNAME26 here), the speculative store bypass control where prctl may
 * set it (disabled), the auxiliary vector (PR_GET_AUXV, Linux 6.4) and
 * the mm fields of /proc/self/stat (code, data, brk, stack, arguments
 * and environment). Checked at D/restored (the original: at D/stop).
 */
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/prctl.h>
#include <pthread.h>

#include "workload.h"

#ifndef PR_GET_AUXV
#define PR_GET_AUXV	0x41555856
#endif
#define TUNE		"glibc.pthread.rseq=0"
#define RSEQ_LEN	32
#define RSEQ_SIG	0x53053053	/* any: no critical section aborts */
#define PERS		(ADDR_NO_RANDOMIZE | UNAME26)

struct thread_state {
	char rseq[RSEQ_LEN] __attribute__((aligned(32)));
	long robust_head;
	size_t robust_len;
	int rseq_ok;		/* registered it */
};

static struct thread_state ts[2];
static char auxv[4096];
static long auxv_len;
static char mm[512];
static int spec = -1;		/* PR_GET_SPECULATION_CTRL, -1: none */
static pthread_t second;

/* /proc/self/stat's mm fields (26-28, 45-51) as one string */
static void mm_fields(char *out, size_t len)
{
	char buf[2048], *p, *save, *tok;
	FILE *f = fopen("/proc/self/stat", "r");
	int n = 3;
	size_t o = 0;

	if (!f || !fgets(buf, sizeof(buf), f))
		wl_fail("read /proc/self/stat: %s", strerror(errno));
	fclose(f);
	p = strrchr(buf, ')') + 2;
	for (tok = strtok_r(p, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save), n++)
		if ((n >= 26 && n <= 28) || (n >= 45 && n <= 51))
			o += snprintf(out + o, len - o, "%d:%s ", n, tok);
}

/* Register t's own rseq area and note its robust list */
static void thread_setup(struct thread_state *t)
{
	t->rseq_ok = !syscall(SYS_rseq, t->rseq, RSEQ_LEN, 0, RSEQ_SIG);
	if (!t->rseq_ok)
		wl_fail("rseq: %s (glibc's own registration not off?)",
			strerror(errno));
	if (syscall(SYS_get_robust_list, 0, &t->robust_head, &t->robust_len))
		wl_fail("get_robust_list: %s", strerror(errno));
}

static void thread_check(struct thread_state *t, const char *who)
{
	long head;
	size_t len;

	if (!syscall(SYS_rseq, t->rseq, RSEQ_LEN, 0, RSEQ_SIG) ||
	    errno != EBUSY)
		wl_fail("%s: rseq not registered as it was (%s)", who,
			strerror(errno));
	if (syscall(SYS_get_robust_list, 0, &head, &len) ||
	    head != t->robust_head || len != t->robust_len)
		wl_fail("%s: robust list %#lx (%zu), want %#lx (%zu)", who,
			head, len, t->robust_head, t->robust_len);
}

static volatile int second_ready, second_go;

static void *second_main(void *arg)
{
	(void)arg;
	thread_setup(&ts[1]);
	second_ready = 1;
	while (!second_go)
		wl_sleep_ms(10);
	thread_check(&ts[1], "second thread");
	return NULL;
}

static void check(void)
{
	char now[512], a[4096];
	long n;

	thread_check(&ts[0], "main thread");
	second_go = 1;
	pthread_join(second, NULL);
	if ((personality(0xffffffff) & 0xffffff) != PERS)
		wl_fail("personality %#x, want %#x", personality(0xffffffff),
			PERS);
	if (spec >= 0 &&
	    prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0) !=
	    spec)
		wl_fail("store bypass control %d, want %d",
			prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS,
			      0, 0, 0), spec);
	n = prctl(PR_GET_AUXV, a, sizeof(a), 0, 0);
	if (auxv_len > 0 && (n != auxv_len || memcmp(a, auxv, n)))
		wl_fail("auxv differs (%ld bytes, want %ld)", n, auxv_len);
	mm_fields(now, sizeof(now));
	if (strcmp(now, mm))
		wl_fail("mm fields %s, want %s", now, mm);
}

int main(int argc, char **argv)
{
	const char *tun = getenv("GLIBC_TUNABLES");

	(void)argc;
	if (!tun || strcmp(tun, TUNE)) {
		setenv("GLIBC_TUNABLES", TUNE, 1);
		execv("/proc/self/exe", argv);
		wl_fail("execv: %s", strerror(errno));
	}
	wl_init();
	if (personality(PERS) < 0)
		wl_fail("personality: %s", strerror(errno));
	thread_setup(&ts[0]);
	if (pthread_create(&second, NULL, second_main, NULL))
		wl_fail("pthread_create failed");
	while (!second_ready)
		wl_sleep_ms(10);
	if (prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0) &
	    PR_SPEC_PRCTL) {
		if (prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS,
			  PR_SPEC_DISABLE, 0, 0))
			wl_fail("PR_SET_SPECULATION_CTRL: %s", strerror(errno));
		spec = prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0,
			     0, 0);
	}
	auxv_len = prctl(PR_GET_AUXV, auxv, sizeof(auxv), 0, 0);
	mm_fields(mm, sizeof(mm));
	wl_info("store bypass control %d, auxv %ld bytes", spec, auxv_len);
	wl_count_checked(check);
	return 0;
}
