/*
 * check_restore: what restore_check_image() and restore_check_pids()
 * (restore/check.c) accept before any process is created. Images are built in memory, valid for this host
 * except for the one thing each test is about; refusals of the image
 * itself use a free PID, so that a missing check shows as a 0, not as a
 * "PID taken" that would hide it.
 */
#include <sys/syscall.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "restore/restore.h"
#include "tests/unit/unit.h"

#define MAX_THREADS	4

struct test_image {
	struct image img;
	struct img_process procs[2];
	struct img_thread threads[MAX_THREADS];
	uint64_t regs[MAX_THREADS][IMG_MAX_REGS];
	char root[64];
	struct restore_run run;
};

static struct test_image ti;

/* A PID below "below" that no task (process or thread) uses now:
 * /proc/N exists for thread ids too. */
static pid_t free_pid_below(pid_t below)
{
	char path[64];
	pid_t p;

	for (p = below - 1; p > 300; p--) {
		snprintf(path, sizeof(path), "/proc/%d", p);
		if (access(path, F_OK))
			return p;
	}
	ck_abort_msg("no free pid");
	return -1;
}

static pid_t free_pid(void)
{
	char *s = read_file_str("/proc/sys/kernel/pid_max", NULL);
	pid_t max;

	ck_assert_ptr_nonnull(s);
	max = atoi(s);
	free(s);
	return free_pid_below(max);
}

/* An image of one process with nr threads: pid, then free tids below */
static struct restore_run *build(pid_t pid, uint32_t nr)
{
	struct img_process *p = &ti.procs[0];
	uint32_t i;

	ck_assert_uint_le(nr, MAX_THREADS);
	memset(&ti, 0, sizeof(ti));
	ti.img.hdr.version = IMG_VERSION;
	ti.img.hdr.isa = arch_isa();
	ti.img.hdr.page_size = sysconf(_SC_PAGESIZE);
	ti.img.nr_procs = 1;
	ti.img.procs = ti.procs;
	strcpy(ti.root, "/");
	p->proc.pid = pid;
	p->proc.nr_threads = nr;
	p->proc.root = ti.root;
	p->nr_threads = nr;
	p->threads = ti.threads;
	for (i = 0; i < nr; i++) {
		ti.threads[i].tid = i ? free_pid_below(ti.threads[i - 1].tid) :
				    pid;
		ti.threads[i].regs_isa = arch_isa();
		ti.threads[i].nr_regs = arch_regs_nr_words();
		ti.threads[i].regs = ti.regs[i];
	}
	ti.run.img = &ti.img;
	ti.run.path = "test.img";
	ti.run.host.page_size = sysconf(_SC_PAGESIZE);
	ti.run.img_fd = -1;
	return &ti.run;
}

/* The exit status restore's main.c makes of the two checks. */
static int check(struct restore_run *run)
{
	if (restore_check_image(run))
		return EXIT_BADIMAGE;
	return restore_check_pids(run) ? EXIT_PIDTAKEN : 0;
}

static void setup(void)
{
	/* the refusals are expected: keep their messages out of the log */
	log_init("check_restore", -1);
}

/* ---- PIDs ---------------------------------------------------------------- */

START_TEST(test_free_pid_accepted)
{
	ck_assert_int_eq(check(build(free_pid(), 1)), 0);
}
END_TEST

START_TEST(test_own_pid_taken)
{
	ck_assert_int_eq(check(build(getpid(), 1)), EXIT_PIDTAKEN);
}
END_TEST

START_TEST(test_parent_pid_taken)
{
	ck_assert_int_eq(check(build(getppid(), 1)), EXIT_PIDTAKEN);
}
END_TEST

static volatile pid_t live_tid;

static void *idle_thread(void *arg)
{
	(void)arg;
	live_tid = syscall(SYS_gettid);
	pause();
	return NULL;
}

/* The pid is free but a thread id is in use: a thread of ours. */
START_TEST(test_tid_taken)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct restore_run *c;
	pthread_t th;
	int i;

	ck_assert_int_eq(pthread_create(&th, NULL, idle_thread, NULL), 0);
	for (i = 0; i < 3000 && !live_tid; i++)
		nanosleep(&ts, NULL);
	ck_assert_int_ne(live_tid, 0);
	ck_assert_int_ne(live_tid, getpid());
	c = build(free_pid(), 3);
	ck_assert_int_eq(check(c), 0);
	ti.threads[2].tid = live_tid;
	ck_assert_int_eq(check(c), EXIT_PIDTAKEN);
}
END_TEST

/* ---- what this restorer can't do ------------------------------------------ */

/* A second process: its own thread, free ids, parent given. */
static void add_child(pid_t ppid)
{
	static struct img_thread t;

	ti.procs[1] = ti.procs[0];
	ti.procs[1].proc.pid = free_pid_below(ti.threads[0].tid);
	ti.procs[1].proc.ppid = ppid;
	ti.procs[1].proc.nr_threads = 1;
	ti.procs[1].nr_threads = 1;
	t = ti.threads[0];
	t.tid = ti.procs[1].proc.pid;
	ti.procs[1].threads = &t;
	ti.img.nr_procs = 2;
}

START_TEST(test_tree)
{
	struct restore_run *c = build(free_pid(), 1);

	add_child(ti.procs[0].proc.pid);
	ck_assert_int_eq(check(c), 0);
}
END_TEST

START_TEST(test_tree_child_without_parent)
{
	struct restore_run *c = build(free_pid(), 1);

	add_child(free_pid_below(free_pid_below(ti.procs[0].proc.pid)));
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
}
END_TEST

START_TEST(test_tree_child_pid_taken)
{
	struct restore_run *c = build(free_pid(), 1);

	add_child(ti.procs[0].proc.pid);
	ti.procs[1].proc.pid = getpid();
	ti.procs[1].threads[0].tid = getpid();
	ck_assert_int_eq(check(c), EXIT_PIDTAKEN);
}
END_TEST

START_TEST(test_other_page_size)
{
	struct restore_run *c = build(free_pid(), 1);

	ti.img.hdr.page_size = c->host.page_size * 4;
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
	ti.img.hdr.page_size = c->host.page_size / 2;
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
}
END_TEST

START_TEST(test_other_root)
{
	struct restore_run *c = build(free_pid(), 1);

	strcpy(ti.root, "/srv/chroot");
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
	strcpy(ti.root, "//");
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
}
END_TEST

START_TEST(test_other_isa_regs)
{
	struct restore_run *c = build(free_pid(), 2);
	uint32_t other = arch_isa() == IMG_ISA_X86_64 ? IMG_ISA_AARCH64 :
			 IMG_ISA_X86_64;

	/* the second thread: every thread is checked, not only the first */
	ti.threads[1].regs_isa = other;
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
}
END_TEST

START_TEST(test_wrong_register_count)
{
	struct restore_run *c = build(free_pid(), 1);

	ti.threads[0].nr_regs = arch_regs_nr_words() + 1;
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
	ti.threads[0].nr_regs = arch_regs_nr_words() - 1;
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
}
END_TEST

START_TEST(test_xstate_too_big)
{
	struct restore_run *c = build(free_pid(), 1);

	ti.threads[0].xstate_len = arch_xstate_max();
	ck_assert_int_eq(check(c), 0);
	ti.threads[0].xstate_len = arch_xstate_max() + 1;
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
}
END_TEST

START_TEST(test_leader_not_first)
{
	struct restore_run *c = build(free_pid(), 2);

	ti.threads[0].tid = ti.threads[1].tid;
	ti.threads[1].tid = ti.procs[0].proc.pid;
	ck_assert_int_eq(check(c), EXIT_BADIMAGE);
}
END_TEST

static Suite *restore_suite(void)
{
	Suite *s = suite_create("restore");
	TCase *ids = unit_tcase(s, "ids", 60);
	TCase *img = unit_tcase(s, "image", 60);

	tcase_add_test(ids, test_free_pid_accepted);
	tcase_add_test(ids, test_own_pid_taken);
	tcase_add_test(ids, test_parent_pid_taken);
	tcase_add_test(ids, test_tid_taken);
	tcase_add_test(img, test_tree);
	tcase_add_test(img, test_tree_child_without_parent);
	tcase_add_test(img, test_tree_child_pid_taken);
	tcase_add_test(img, test_other_page_size);
	tcase_add_test(img, test_other_root);
	tcase_add_test(img, test_other_isa_regs);
	tcase_add_test(img, test_wrong_register_count);
	tcase_add_test(img, test_xstate_too_big);
	tcase_add_test(img, test_leader_not_first);
	tcase_add_checked_fixture(ids, setup, NULL);
	tcase_add_checked_fixture(img, setup, NULL);
	return s;
}

CHECK_MAIN(restore_suite)
