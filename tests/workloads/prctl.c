/*
 * prctl.c - kernel state that prctl() and /proc set, which must come back
 * as it was: a child subreaper; THP disabled except where advised (or
 * wholly, on a kernel before 6.18); oom_score_adj 345; login uid 4321
 * when it was unset (setting an unset one takes no privilege); and per
 * thread, the main thread and a second one each with its own
 * parent-death signal (SIGUSR1, SIGUSR2), timer slack and MCE kill
 * policy (early, and the default). Each thread checks its own once
 * D/restored appears (at D/stop in the original).
 */
#include <sys/prctl.h>
#include <pthread.h>
#include <signal.h>

#include "workload.h"

#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED	(1 << 1)
#endif

struct want {
	const char *name;
	int pdeathsig;
	unsigned long slack;
	int mce;
};

static const struct want main_want = { "main", SIGUSR1, 123456,
				       PR_MCE_KILL_EARLY };
static const struct want thread_want = { "second", SIGUSR2, 654321,
					 PR_MCE_KILL_DEFAULT };
static volatile int check_now, thread_checked;
static int thp_want, loginuid_set;

static void set_thread(const struct want *w)
{
	if (prctl(PR_SET_PDEATHSIG, w->pdeathsig) ||
	    prctl(PR_SET_TIMERSLACK, w->slack) ||
	    (w->mce == PR_MCE_KILL_EARLY ?
	     prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0) :
	     prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0)))
		wl_fail("%s thread: prctl: %s", w->name, strerror(errno));
}

static void check_thread(const struct want *w)
{
	int sig = -1, mce;
	long slack;

	if (prctl(PR_GET_PDEATHSIG, &sig) || sig != w->pdeathsig)
		wl_fail("%s thread: parent-death signal %d, want %d", w->name,
			sig, w->pdeathsig);
	slack = prctl(PR_GET_TIMERSLACK);
	if (slack != (long)w->slack)
		wl_fail("%s thread: timer slack %ld, want %lu", w->name,
			slack, w->slack);
	mce = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	if (mce != w->mce)
		wl_fail("%s thread: MCE kill policy %d, want %d", w->name, mce,
			w->mce);
}

static void *second(void *arg)
{
	(void)arg;
	set_thread(&thread_want);
	while (!check_now)
		wl_sleep_ms(10);
	check_thread(&thread_want);
	thread_checked = 1;
	for (;;)
		wl_sleep_ms(100);
	return NULL;
}

static long read_number(const char *file)
{
	char buf[32];
	FILE *f = fopen(file, "r");
	long v;

	if (!f || !fgets(buf, sizeof(buf), f))
		wl_fail("read %s: %s", file, strerror(errno));
	fclose(f);
	v = strtol(buf, NULL, 10);
	return v;
}

static void write_number(const char *file, long v)
{
	FILE *f = fopen(file, "w");

	if (!f || fprintf(f, "%ld", v) < 0 || fclose(f))
		wl_fail("write %s: %s", file, strerror(errno));
}

static void set_process(void)
{
	int on = 0;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) ||
	    prctl(PR_GET_CHILD_SUBREAPER, &on) || on != 1)
		wl_fail("child subreaper: %s", strerror(errno));
	thp_want = 3;
	if (prctl(PR_SET_THP_DISABLE, 1, PR_THP_DISABLE_EXCEPT_ADVISED, 0, 0)) {
		thp_want = 1;
		if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
			wl_fail("PR_SET_THP_DISABLE: %s", strerror(errno));
	}
	write_number("/proc/self/oom_score_adj", 345);
	if (read_number("/proc/self/loginuid") == 4294967295L) {
		write_number("/proc/self/loginuid", 4321);
		loginuid_set = 1;
	}
}

static void check_process(void)
{
	int on = 0;
	long v;

	if (prctl(PR_GET_CHILD_SUBREAPER, &on) || on != 1)
		wl_fail("not a child subreaper any more");
	v = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (v != thp_want)
		wl_fail("THP disable %ld, want %d", v, thp_want);
	v = read_number("/proc/self/oom_score_adj");
	if (v != 345)
		wl_fail("oom_score_adj %ld, want 345", v);
	v = read_number("/proc/self/loginuid");
	if (loginuid_set && v != 4321)
		wl_fail("login uid %ld, want 4321", v);
	check_thread(&main_want);
	check_now = 1;
	while (!thread_checked)
		wl_sleep_ms(10);
}

int main(void)
{
	pthread_t th;

	wl_init();
	set_process();
	set_thread(&main_want);
	if (pthread_create(&th, NULL, second, NULL))
		wl_fail("pthread_create");
	wl_count_checked(check_process);
	return 0;
}
