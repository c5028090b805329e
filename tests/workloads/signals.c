/*
 * signals.c - signal dispositions, mask, pending signals, sigaltstack.
 *
 * Set up before ready:
 *   SIGUSR1  handler, SA_ONSTACK | SA_SIGINFO, with a sigaltstack
 *   SIGUSR2  handler, blocked, and raised once: pending at dump time
 *   SIGTERM  SIG_IGN
 *   SIGHUP   handler with SA_RESTART and SIGINT, SIGQUIT in sa_mask
 * and every disposition (1..SIGRTMAX) and the blocked mask are recorded.
 * After D/stop: dispositions and mask are the same, SIGUSR2 (and nothing
 * else) is pending, the altstack is the same, raise(SIGUSR1) runs its
 * handler on the altstack with the right siginfo, and unblocking SIGUSR2
 * runs its handler exactly once.
 */
#include <signal.h>

#include "workload.h"

#define ALTSTACK_SIZE	(64 * 1024)
#define NSIG_MAX	65

static volatile sig_atomic_t usr1_runs, usr2_runs, hup_runs;
static volatile uintptr_t usr1_local;
static volatile int usr1_signo, usr1_code, usr1_pid;
static struct sigaction before[NSIG_MAX];
static int before_ret[NSIG_MAX];

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	volatile int local = 0;

	usr1_local = (uintptr_t)&local;
	usr1_signo = si->si_signo;
	usr1_code = si->si_code;
	usr1_pid = si->si_pid;
	usr1_runs++;
}

static void on_usr2(int sig)
{
	usr2_runs++;
}

static void on_hup(int sig)
{
	hup_runs++;
}

static void set(int sig, void (*h)(int), int flags, int m1, int m2)
{
	struct sigaction sa = { .sa_handler = h, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	if (m1)
		sigaddset(&sa.sa_mask, m1);
	if (m2)
		sigaddset(&sa.sa_mask, m2);
	if (sigaction(sig, &sa, NULL))
		wl_fail("sigaction(%d): %s", sig, strerror(errno));
}

static void record(struct sigaction *tab, int *ret)
{
	int sig;

	for (sig = 1; sig <= SIGRTMAX && sig < NSIG_MAX; sig++) {
		memset(&tab[sig], 0, sizeof(tab[sig]));
		ret[sig] = sigaction(sig, NULL, &tab[sig]);
	}
}

static void compare_dispositions(void)
{
	static struct sigaction now[NSIG_MAX];
	static int now_ret[NSIG_MAX];
	int sig, s;

	record(now, now_ret);
	for (sig = 1; sig <= SIGRTMAX && sig < NSIG_MAX; sig++) {
		if (now_ret[sig] != before_ret[sig])
			wl_fail("sigaction(%d) query returned %d, was %d",
				sig, now_ret[sig], before_ret[sig]);
		if (now_ret[sig])
			continue;
		if (now[sig].sa_handler != before[sig].sa_handler)
			wl_fail("signal %d: handler %p, was %p", sig,
				(void *)now[sig].sa_handler,
				(void *)before[sig].sa_handler);
		if (now[sig].sa_flags != before[sig].sa_flags)
			wl_fail("signal %d: sa_flags %#x, was %#x", sig,
				now[sig].sa_flags, before[sig].sa_flags);
		for (s = 1; s <= SIGRTMAX; s++)
			if (sigismember(&now[sig].sa_mask, s) !=
			    sigismember(&before[sig].sa_mask, s))
				wl_fail("signal %d: sa_mask bit %d changed",
					sig, s);
	}
}

static void compare_masks(const char *what, sigset_t *a, sigset_t *b)
{
	int s;

	for (s = 1; s <= SIGRTMAX; s++)
		if (sigismember(a, s) != sigismember(b, s))
			wl_fail("%s: signal %d is %s, was %s", what, s,
				sigismember(a, s) ? "in" : "not in",
				sigismember(b, s) ? "in" : "not in");
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1,
				.sa_flags = SA_ONSTACK | SA_SIGINFO };
	sigset_t block, mask_before, mask_now, pend, want_pend, empty;
	stack_t ss, ss_now;
	unsigned long n = 0;
	void *alt;
	int fd;

	wl_init();
	alt = malloc(ALTSTACK_SIZE);
	if (!alt)
		wl_fail("malloc: %s", strerror(errno));
	memset(alt, 0x5a, ALTSTACK_SIZE);
	ss.ss_sp = alt;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		wl_fail("sigaltstack: %s", strerror(errno));

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_fail("sigaction(SIGUSR1): %s", strerror(errno));
	set(SIGUSR2, on_usr2, 0, 0, 0);
	set(SIGTERM, SIG_IGN, 0, 0, 0);
	set(SIGHUP, on_hup, SA_RESTART, SIGINT, SIGQUIT);

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN + 2);
	if (sigprocmask(SIG_BLOCK, &block, NULL))
		wl_fail("sigprocmask: %s", strerror(errno));
	raise(SIGUSR2);
	sigemptyset(&want_pend);
	sigaddset(&want_pend, SIGUSR2);
	sigpending(&pend);
	compare_masks("pending before ready", &pend, &want_pend);
	if (usr2_runs)
		wl_fail("blocked SIGUSR2 was delivered");
	sigprocmask(SIG_SETMASK, NULL, &mask_before);
	record(before, before_ret);

	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}

	sigpending(&pend);
	compare_masks("pending signals", &pend, &want_pend);
	if (usr2_runs)
		wl_fail("SIGUSR2 handler ran while SIGUSR2 was blocked");
	sigprocmask(SIG_SETMASK, NULL, &mask_now);
	compare_masks("blocked mask", &mask_now, &mask_before);
	compare_dispositions();
	if (sigaction(SIGTERM, NULL, &sa) || sa.sa_handler != SIG_IGN)
		wl_fail("SIGTERM is no longer ignored");

	if (sigaltstack(NULL, &ss_now))
		wl_fail("sigaltstack query: %s", strerror(errno));
	if (ss_now.ss_sp != alt || ss_now.ss_size != ALTSTACK_SIZE ||
	    ss_now.ss_flags != 0)
		wl_fail("sigaltstack is sp %p size %zu flags %#x, was %p %d 0",
			ss_now.ss_sp, ss_now.ss_size, ss_now.ss_flags, alt,
			ALTSTACK_SIZE);

	raise(SIGUSR1);
	if (usr1_runs != 1)
		wl_fail("SIGUSR1 handler ran %d times, want 1", (int)usr1_runs);
	if (usr1_local < (uintptr_t)alt ||
	    usr1_local >= (uintptr_t)alt + ALTSTACK_SIZE)
		wl_fail("SIGUSR1 handler ran at %#lx, not on the altstack "
			"%p..+%#x", (unsigned long)usr1_local, alt,
			ALTSTACK_SIZE);
	if (usr1_signo != SIGUSR1 || usr1_code != SI_TKILL ||
	    usr1_pid != getpid())
		wl_fail("SIGUSR1 siginfo: signo %d code %d pid %d",
			usr1_signo, usr1_code, usr1_pid);

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	if (sigprocmask(SIG_UNBLOCK, &block, NULL))
		wl_fail("sigprocmask: %s", strerror(errno));
	wl_sleep_ms(50);
	if (usr2_runs != 1)
		wl_fail("SIGUSR2 handler ran %d times after unblocking, want 1",
			(int)usr2_runs);
	sigpending(&pend);
	sigemptyset(&empty);
	compare_masks("pending after unblocking SIGUSR2", &pend, &empty);
	if (hup_runs)
		wl_fail("SIGHUP handler ran");
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
