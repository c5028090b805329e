/*
 * check_inject: ptrace control of a live target and the /proc readers
 * of util/proc.h.
 *
 * The target is a grandchild: the test forks a "parent" process that forks
 * the target and waits for it, so that the test is the target's tracer but
 * not its parent, as ckpt is. The parent reports how the target ended in
 * a shared page. Both die with their parent (PR_SET_PDEATHSIG), so a
 * failed test (fork mode: its process exits) leaves nothing behind.
 *
 * Nothing asserts on time: waits are for a condition with a generous
 * bound; "frozen" is checked as "no change over 50 ms", which holds
 * however loaded the machine is.
 */
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject.h"
#include "tests/unit/unit.h"
#include "util/proc.h"

#define NR_EXTRA_THREADS	4
#define WAIT_SECS		30

/* Shared between the test, the parent and the target (MAP_SHARED). */
struct shared {
	volatile unsigned long counter;		/* the target's main loop */
	volatile unsigned long tcount[NR_EXTRA_THREADS];
	volatile int ready;			/* threads started */
	volatile pid_t target;
	volatile int ended;			/* the parent reaped it */
	volatile int status;			/* its wait status */
	uint8_t code[16];	/* a copy of code, where it does not run */
};

static struct shared *sh;
static pid_t parent = -1;	/* the target's parent, our child */
static pid_t target = -1;

/* Same address in the target: it is a fork of us. */
static volatile uint64_t target_global = 0x1122334455667788ULL;

static void die_with_parent(void)
{
	pid_t pp = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != pp)
		_exit(99);
}

static void *spin_thread(void *arg)
{
	long i = (long)arg;

	for (;;)
		sh->tcount[i]++;
	return NULL;
}

static void target_main(int nthreads)
{
	pthread_t t;
	long i;

	die_with_parent();
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&t, NULL, spin_thread, (void *)i))
			_exit(98);
	sh->target = getpid();
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (;;)
		sh->counter++;
}

static void parent_main(int nthreads)
{
	int status;
	pid_t t;

	die_with_parent();
	t = fork();
	if (t < 0)
		_exit(97);
	if (t == 0)
		target_main(nthreads);
	while (waitpid(t, &status, 0) < 0)
		if (errno != EINTR)
			_exit(96);
	sh->status = status;
	sh->ended = 1;
	_exit(0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Poll *flag (10 ms steps) up to WAIT_SECS; returns whether it got set. */
static int wait_flag(volatile int *flag)
{
	int i;

	for (i = 0; i < WAIT_SECS * 100 && !*flag; i++)
		sleep_ms(10);
	return *flag;
}

/* Start a target with nthreads extra threads, running; sets target. */
static void start_target(int nthreads)
{
	parent = fork();
	ck_assert_int_ge(parent, 0);
	if (parent == 0)
		parent_main(nthreads);
	ck_assert_msg(wait_flag(&sh->ready), "target not ready after %d s",
		      WAIT_SECS);
	target = sh->target;
	ck_assert_int_gt(target, 0);
}

static void setup(void)
{
	log_init("check_inject", LOG_ERR);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	memset((void *)sh, 0, sizeof(*sh));
	parent = target = -1;
}

static void teardown(void)
{
	if (target > 0)
		kill(target, SIGKILL);
	if (parent > 0) {
		kill(parent, SIGKILL);
		waitpid(parent, NULL, 0);
	}
	munmap((void *)sh, sizeof(*sh));
}

/* Does the counter move within WAIT_SECS? */
static int counter_moves(volatile unsigned long *c)
{
	unsigned long v = *c;
	int i;

	for (i = 0; i < WAIT_SECS * 100; i++) {
		if (*c != v)
			return 1;
		sleep_ms(10);
	}
	return *c != v;
}

static int tracer_of(pid_t pid)
{
	char path[64], *s, *p;
	int t = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	s = read_file_str(path, NULL);
	ck_assert_ptr_nonnull(s);
	p = strstr(s, "\nTracerPid:");
	if (p)
		t = atoi(p + 11);
	free(s);
	return t;
}

/* A PID that no task (process or thread) uses now. */
static pid_t free_pid(void)
{
	char *s = read_file_str("/proc/sys/kernel/pid_max", NULL), path[64];
	pid_t p;

	ck_assert_ptr_nonnull(s);
	p = atoi(s);
	free(s);
	for (p = p - 1; p > 300; p--) {
		snprintf(path, sizeof(path), "/proc/%d", p);
		if (access(path, F_OK))
			return p;
	}
	ck_abort_msg("no free pid");
	return -1;
}

/* ---- seize and freeze ---------------------------------------------------- */

START_TEST(test_seize_one_thread)
{
	struct inject_proc *p = NULL;

	start_target(0);
	ck_assert_int_eq(inject_seize(target, &p), 0);
	ck_assert_int_eq(inject_pid(p), target);
	ck_assert_int_eq(inject_nr_threads(p), 1);
	ck_assert_int_eq(inject_tid(p, 0), target);
	ck_assert_int_eq(inject_leader(p), 0);
	ck_assert_int_eq(tracer_of(target), getpid());
	ck_assert_int_eq(inject_release(p, 0), 0);
}
END_TEST

START_TEST(test_seized_is_frozen)
{
	struct inject_proc *p = NULL;
	struct proc_stat st;
	unsigned long v;

	start_target(0);
	ck_assert(counter_moves(&sh->counter));
	ck_assert_int_eq(inject_seize(target, &p), 0);
	ck_assert_int_eq(proc_parse_stat(target, &st), 0);
	ck_assert_msg(st.state == 't', "seized target in state %c", st.state);
	v = sh->counter;
	sleep_ms(50);
	ck_assert_uint_eq(sh->counter, v);
	ck_assert_int_eq(inject_release(p, 0), 0);
}
END_TEST

START_TEST(test_seize_threads)
{
	struct inject_proc *p = NULL;
	unsigned long v[NR_EXTRA_THREADS + 1];
	int i, j, leader = 0;

	start_target(NR_EXTRA_THREADS);
	ck_assert_int_eq(inject_seize(target, &p), 0);
	ck_assert_int_eq(inject_nr_threads(p), NR_EXTRA_THREADS + 1);
	for (i = 0; i < inject_nr_threads(p); i++) {
		leader += inject_tid(p, i) == target;
		for (j = 0; j < i; j++)
			ck_assert_int_ne(inject_tid(p, i), inject_tid(p, j));
	}
	ck_assert_int_eq(leader, 1);
	ck_assert_int_eq(inject_tid(p, inject_leader(p)), target);
	/* every thread frozen, not only the leader */
	for (i = 0; i < NR_EXTRA_THREADS; i++)
		v[i] = sh->tcount[i];
	v[NR_EXTRA_THREADS] = sh->counter;
	sleep_ms(50);
	for (i = 0; i < NR_EXTRA_THREADS; i++)
		ck_assert_uint_eq(sh->tcount[i], v[i]);
	ck_assert_uint_eq(sh->counter, v[NR_EXTRA_THREADS]);
	ck_assert_int_eq(inject_release(p, 0), 0);
	for (i = 0; i < NR_EXTRA_THREADS; i++)
		ck_assert_msg(counter_moves(&sh->tcount[i]),
			      "thread %d still frozen after release", i);
}
END_TEST

START_TEST(test_seize_no_such_process)
{
	struct inject_proc *p = NULL;
	pid_t pid = free_pid();

	errno = 0;
	ck_assert_int_eq(inject_seize(pid, &p), -1);
	ck_assert_msg(errno == ESRCH, "seize of free pid %d: errno %d (%s), "
		      "want ESRCH", pid, errno, strerror(errno));
}
END_TEST

/* ---- remote calls and memory --------------------------------------------- */

START_TEST(test_remote_getpid)
{
	struct inject_proc *p = NULL;
	long ret = 0;

	start_target(0);
	ck_assert_int_eq(inject_seize(target, &p), 0);
	ck_assert_int_eq(inject_prepare(p), 0);
	ck_assert_uint_ne(inject_scratch(p), 0);
	ck_assert_uint_ge(inject_scratch_len(p), 4096);
	ck_assert_int_eq(inject_syscall(p, 0, &ret, SYS_getpid, 0, 0, 0, 0,
					0, 0), 0);
	ck_assert_int_eq(ret, target);
	ck_assert_int_eq(inject_syscall(p, 0, &ret, SYS_getppid, 0, 0, 0, 0,
					0, 0), 0);
	ck_assert_int_eq(ret, parent);
	/* an error comes back as a negative errno */
	ck_assert_int_eq(inject_syscall(p, 0, &ret, SYS_close, 12345, 0, 0,
					0, 0, 0), 0);
	ck_assert_int_eq(ret, -EBADF);
	ck_assert_int_eq(inject_release(p, 0), 0);
}
END_TEST

/*
 * Code found while the target ran (inject_find_code) is borrowed only if
 * each piece is still there, in executable memory: a forged hint (the
 * right bytes in a page that does not execute, or the wrong bytes) is
 * looked for again, and the calls work.
 */
START_TEST(test_found_code_checked)
{
	struct inject_proc *p = NULL;
	struct arch_gadgets g;
	long ret = 0;

	start_target(0);
	inject_find_code(target, &g);
	ck_assert_uint_ne(g.syscall_ret, 0);
	ck_assert_uint_ne(g.sigreturn, 0);
	/* the target is a fork of us: its code is where ours is */
	memcpy(sh->code, (const void *)(uintptr_t)g.syscall_ret,
	       sizeof(sh->code));
	if (_i == 1)
		g.syscall_ret = (uintptr_t)sh->code;
	else if (_i == 2)
		g.syscall_ret++;
	else if (_i == 3)
		g.sigreturn = (uintptr_t)sh->code;
	ck_assert_int_eq(inject_seize(target, &p), 0);
	inject_use_code(p, &g);
	ck_assert_int_eq(inject_prepare(p), 0);
	ck_assert_int_eq(inject_syscall(p, 0, &ret, SYS_getpid, 0, 0, 0, 0,
					0, 0), 0);
	ck_assert_int_eq(ret, target);
	ck_assert_int_eq(inject_unprepare(p), 0);
	ck_assert_int_eq(inject_release(p, 0), 0);
	ck_assert_msg(counter_moves(&sh->counter), "target stopped running");
	ck_assert_int_eq(sh->ended, 0);
}
END_TEST

START_TEST(test_read_write_memory)
{
	const uint64_t want = 0xa5a5f00dcafe1234ULL;
	struct inject_proc *p = NULL;
	uint64_t v = 0, addr = (uint64_t)&target_global;

	start_target(0);
	ck_assert_int_eq(inject_seize(target, &p), 0);
	ck_assert_int_eq(inject_read(p, addr, &v, sizeof(v)), 0);
	ck_assert_uint_eq(v, 0x1122334455667788ULL);
	ck_assert_int_eq(inject_write(p, addr, &want, sizeof(want)), 0);
	v = 0;
	ck_assert_int_eq(inject_read(p, addr, &v, sizeof(v)), 0);
	ck_assert_uint_eq(v, want);
	/* ours is untouched: not the same memory */
	ck_assert_uint_eq(target_global, 0x1122334455667788ULL);
	ck_assert_int_ne(inject_read(p, 0, &v, sizeof(v)), 0);
	ck_assert_int_eq(inject_release(p, 0), 0);
}
END_TEST

/* ---- release --------------------------------------------------------------- */

/* /proc/PID/maps and the signal mask of every thread, as text. */
static char *snapshot(pid_t pid)
{
	char path[64], *maps, *st, *out, *m;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = read_file_str(path, NULL);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	st = read_file_str(path, NULL);
	ck_assert_ptr_nonnull(maps);
	ck_assert_ptr_nonnull(st);
	m = strstr(st, "\nSigBlk:");
	ck_assert_ptr_nonnull(m);
	len = strlen(maps) + 32;
	out = malloc(len);
	ck_assert_ptr_nonnull(out);
	snprintf(out, len, "%s%.26s", maps, m);
	free(maps);
	free(st);
	return out;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Prepare adds one data page and no code; release takes it away again. */
START_TEST(test_prepare_adds_no_code)
{
	struct inject_proc *p = NULL;
	char *before, *during, *after;
	struct proc_stat st;
	long ret;

	start_target(0);
	ck_assert_int_eq(inject_seize(target, &p), 0);
	before = snapshot(target);
	ck_assert_int_eq(inject_prepare(p), 0);
	during = snapshot(target);
	/* one more mapping (or one grown into a neighbour), none executable */
	ck_assert_int_le(count_lines(during), count_lines(before) + 1);
	ck_assert_msg(strcmp(during, before), "no page mapped");
	ck_assert_int_eq(inject_syscall(p, 0, &ret, SYS_getpid, 0, 0, 0, 0,
					0, 0), 0);
	ck_assert_int_eq(ret, target);
	ck_assert_int_eq(inject_release(p, 0), 0);

	after = snapshot(target);
	ck_assert_msg(!strcmp(after, before), "maps or signal mask changed");
	ck_assert_msg(counter_moves(&sh->counter),
		      "target does not run after release");
	ck_assert_int_eq(proc_parse_stat(target, &st), 0);
	ck_assert_msg(st.state != 't' && st.state != 'T',
		      "released target in state %c", st.state);
	ck_assert_int_eq(tracer_of(target), 0);
	ck_assert_int_eq(sh->ended, 0);
	free(before);
	free(during);
	free(after);
}
END_TEST

/*
 * A tracer killed by SIGKILL in the middle of its work (CKPT_FAULT names
 * where) leaves the target running, untraced, with its maps and signal
 * masks as they were: the threads find their own way back.
 */
static void tracer_dies(const char *where)
{
	struct inject_proc *p = NULL;
	char *before, *after;
	pid_t tracer;
	long ret;
	int i, status;

	start_target(NR_EXTRA_THREADS);
	before = snapshot(target);
	tracer = fork();
	ck_assert_int_ge(tracer, 0);
	if (tracer == 0) {
		setenv("CKPT_FAULT", where, 1);
		if (inject_seize(target, &p) || inject_prepare(p))
			_exit(1);
		/* calls in the leader and in every other thread */
		for (i = 0; i < inject_nr_threads(p); i++)
			if (inject_syscall(p, i, &ret, SYS_getpid, 0, 0, 0, 0,
					   0, 0))
				_exit(2);
		raise(SIGKILL);
		_exit(3);
	}
	ck_assert_int_eq(waitpid(tracer, &status, 0), tracer);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "tracer status %#x, want killed", status);
	for (i = 0; i < WAIT_SECS * 100 && tracer_of(target); i++)
		sleep_ms(10);
	ck_assert_int_eq(tracer_of(target), 0);
	ck_assert_msg(counter_moves(&sh->counter), "target stopped running");
	for (i = 0; i < NR_EXTRA_THREADS; i++)
		ck_assert_msg(counter_moves(&sh->tcount[i]),
			      "thread %d stopped running", i);
	after = snapshot(target);
	ck_assert_msg(!strcmp(after, before), "maps or signal mask changed");
	ck_assert_int_eq(sh->ended, 0);
	free(before);
	free(after);
}

START_TEST(test_tracer_dies_between_calls)
{
	tracer_dies("none");	/* after the last call of the loop */
}
END_TEST

START_TEST(test_tracer_dies_in_leader_call)
{
	tracer_dies("call-entry:2");
}
END_TEST

START_TEST(test_tracer_dies_in_thread_call)
{
	tracer_dies("call-exit:4");
}
END_TEST

START_TEST(test_tracer_dies_after_prepare)
{
	tracer_dies("prepared");
}
END_TEST

START_TEST(test_release_kill)
{
	struct inject_proc *p = NULL;

	start_target(NR_EXTRA_THREADS);
	ck_assert_int_eq(inject_seize(target, &p), 0);
	ck_assert_int_eq(inject_prepare(p), 0);
	ck_assert_int_eq(inject_release(p, 1), 0);
	ck_assert_msg(wait_flag(&sh->ended), "killed target not reaped "
		      "by its parent after %d s", WAIT_SECS);
	ck_assert_msg(WIFSIGNALED(sh->status) &&
		      WTERMSIG(sh->status) == SIGKILL,
		      "target wait status %#x, want killed by SIGKILL",
		      sh->status);
	target = -1;
}
END_TEST

/* Killed by someone else while seized: release says so and reports it
 * to us, its tracer, so that its parent can reap it. */
START_TEST(test_release_killed_while_seized)
{
	struct inject_proc *p = NULL;

	start_target(NR_EXTRA_THREADS);
	ck_assert_int_eq(inject_seize(target, &p), 0);
	ck_assert_int_eq(kill(target, SIGKILL), 0);
	errno = 0;
	ck_assert_int_eq(inject_release(p, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_msg(wait_flag(&sh->ended), "killed target not reaped "
		      "by its parent after %d s", WAIT_SECS);
	ck_assert_msg(WIFSIGNALED(sh->status) &&
		      WTERMSIG(sh->status) == SIGKILL,
		      "target wait status %#x, want killed by SIGKILL",
		      sh->status);
	target = -1;
}
END_TEST

/* ---- /proc ------------------------------------------------------------- */

START_TEST(test_maps_self)
{
	struct proc_map *m = NULL;
	uint64_t local = (uint64_t)&m;
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	int n, i, stack = -1, vd = -1;

	n = proc_parse_maps(getpid(), &m);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(m[i].start, m[i].end);
		if (i)
			ck_assert_uint_le(m[i - 1].end, m[i].start);
		if (m[i].start <= local && local < m[i].end)
			stack = i;
		if (vdso && m[i].start <= vdso && vdso < m[i].end)
			vd = i;
	}
	ck_assert_int_ge(stack, 0);
	ck_assert_ptr_nonnull(m[stack].path);
	ck_assert_str_eq(m[stack].path, "[stack]");
	ck_assert_uint_eq(m[stack].prot, PROT_READ | PROT_WRITE);
	ck_assert_int_eq(m[stack].shared, 0);
	ck_assert(m[stack].vmflags & PROC_VMF_GROWSDOWN);
	if (vdso) {
		ck_assert_int_ge(vd, 0);
		ck_assert_ptr_nonnull(m[vd].path);
		ck_assert_str_eq(m[vd].path, "[vdso]");
		ck_assert(m[vd].prot & PROT_EXEC);
	}
	proc_free_maps(m, n);
}
END_TEST

START_TEST(test_maps_shared_and_flags)
{
	struct proc_map *m = NULL;
	long ps = sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 3 * ps, PROT_READ,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int n, i, found = 0;

	ck_assert_ptr_ne(a, MAP_FAILED);
	ck_assert_int_eq(madvise(a, 3 * ps, MADV_DONTFORK), 0);
	n = proc_parse_maps(getpid(), &m);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++) {
		if (m[i].start != (uint64_t)a)
			continue;
		found = 1;
		ck_assert_uint_eq(m[i].end, (uint64_t)a + 3 * ps);
		ck_assert_uint_eq(m[i].prot, PROT_READ);
		ck_assert_int_eq(m[i].shared, 1);
		ck_assert(m[i].vmflags & PROC_VMF_DONTFORK);
	}
	ck_assert(found);
	proc_free_maps(m, n);
	munmap(a, 3 * ps);
}
END_TEST

START_TEST(test_stat_self)
{
	struct proc_stat st;
	char *comm = read_file_str("/proc/self/comm", NULL);

	ck_assert_ptr_nonnull(comm);
	comm[strcspn(comm, "\n")] = '\0';
	ck_assert_int_eq(proc_parse_stat(getpid(), &st), 0);
	ck_assert_int_eq(st.ppid, getppid());
	ck_assert_int_eq(st.pgrp, getpgrp());
	ck_assert_int_eq(st.session, getsid(0));
	ck_assert_int_eq(st.state, 'R');
	ck_assert_str_eq(st.comm, comm);
	ck_assert_uint_le(st.start_code, (uint64_t)&free_pid);
	ck_assert_uint_gt(st.end_code, (uint64_t)&free_pid);
	ck_assert_uint_lt(st.arg_start, st.arg_end);
	free(comm);
}
END_TEST

/* comm with a space and a parenthesis: it ends at the last ')' */
START_TEST(test_stat_odd_comm)
{
	struct proc_stat st;

	ck_assert_int_eq(prctl(PR_SET_NAME, "a) b (c", 0, 0, 0), 0);
	ck_assert_int_eq(proc_parse_stat(getpid(), &st), 0);
	ck_assert_str_eq(st.comm, "a) b (c");
	ck_assert_int_eq(st.ppid, getppid());
}
END_TEST

static void *idle_thread(void *arg)
{
	volatile pid_t *tid = arg;

	*tid = syscall(SYS_gettid);
	pause();
	return NULL;
}

START_TEST(test_list_tasks_self)
{
	volatile pid_t tid = 0;
	pid_t *t = NULL;
	pthread_t th;
	int n, i, me = 0, other = 0;

	ck_assert_int_eq(pthread_create(&th, NULL, idle_thread,
					(void *)&tid), 0);
	for (i = 0; i < WAIT_SECS * 100 && !tid; i++)
		sleep_ms(10);
	ck_assert_int_ne(tid, 0);
	n = proc_list_tasks(getpid(), &t);
	ck_assert_int_ge(n, 2);
	for (i = 0; i < n; i++) {
		me += t[i] == getpid();
		other += t[i] == tid;
		if (i)
			ck_assert_int_lt(t[i - 1], t[i]);	/* sorted */
	}
	ck_assert_int_eq(me, 1);
	ck_assert_int_eq(other, 1);
	free(t);
}
END_TEST

static Suite *inject_suite(void)
{
	Suite *s = suite_create("inject");
	TCase *seize = unit_tcase(s, "seize", 120);
	TCase *call = unit_tcase(s, "remote", 120);
	TCase *rel = unit_tcase(s, "release", 120);
	TCase *proc = unit_tcase(s, "proc", 120);
	TCase *all[] = { seize, call, rel, proc };
	size_t i;

	tcase_add_test(seize, test_seize_one_thread);
	tcase_add_test(seize, test_seized_is_frozen);
	tcase_add_test(seize, test_seize_threads);
	tcase_add_test(seize, test_seize_no_such_process);
	tcase_add_test(call, test_remote_getpid);
	tcase_add_test(call, test_read_write_memory);
	tcase_add_loop_test(call, test_found_code_checked, 0, 4);
	tcase_add_test(rel, test_prepare_adds_no_code);
	tcase_add_test(rel, test_tracer_dies_between_calls);
	tcase_add_test(rel, test_tracer_dies_in_leader_call);
	tcase_add_test(rel, test_tracer_dies_in_thread_call);
	tcase_add_test(rel, test_tracer_dies_after_prepare);
	tcase_add_test(rel, test_release_kill);
	tcase_add_test(rel, test_release_killed_while_seized);
	tcase_add_test(proc, test_maps_self);
	tcase_add_test(proc, test_maps_shared_and_flags);
	tcase_add_test(proc, test_stat_self);
	tcase_add_test(proc, test_stat_odd_comm);
	tcase_add_test(proc, test_list_tasks_self);
	for (i = 0; i < ARRAY_SIZE(all); i++)
		tcase_add_checked_fixture(all[i], setup, teardown);
	return s;
}

CHECK_MAIN(inject_suite)
