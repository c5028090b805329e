/*
 * check_dump: the /proc text parsers of the dumper (fdinfo in
 * ckpt/dump-kfds.c and ckpt/dump-locks.c; status, timers and mountinfo
 * in ckpt/dump-proctext.c), given the text as /proc would show it: what
 * each keeps, and the inputs that fuzz_proc found breaking them (each
 * case names its finding).
 */
#include <sys/sysmacros.h>
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "tests/unit/unit.h"

/* dump-locks.c's error path asks whether the target died: never here */
int dump_gone(const struct dump_ctx *c)
{
	(void)c;
	return 0;
}

static struct dump_tree tree;

static int kfd(uint32_t kind, const char *text, struct dump_file *df)
{
	memset(df, 0, sizeof(*df));
	df->pid = getpid();
	df->fd = 3;
	df->f.kind = kind;
	return dump_kfd_info(&tree, df, text);
}

START_TEST(test_eventfd)
{
	struct dump_file df;

	ck_assert_int_eq(kfd(IMG_FILE_EVENTFD, "pos:\t0\neventfd-count:"
			     "                7\neventfd-semaphore: 1\n",
			     &df), 0);
	ck_assert_uint_eq(df.f.efd.count, 7);
	ck_assert_uint_eq(df.f.efd.semaphore, 1);
	ck_assert_int_eq(kfd(IMG_FILE_EVENTFD, "pos:\t0\n", &df), -1);
}
END_TEST

/* fuzz_proc: an inotify fd that watches nothing gave qsort a NULL array
 * (undefined behaviour that UBSan reports) */
START_TEST(test_inotify_no_watch)
{
	struct dump_file df;

	ck_assert_int_eq(kfd(IMG_FILE_INOTIFY, "pos:\t0\nflags:\t02000000\n",
			     &df), 0);
	ck_assert_uint_eq(df.f.in.nr, 0);
	img_file_free(&df.f);
}
END_TEST

START_TEST(test_locks)
{
	struct img_fd f = { .fd = 4, .type = IMG_FD_FILE };
	struct dump_ctx c = { .pid = getpid() };

	ck_assert_int_eq(dump_locks_info(&c, &f, "pos:\t0\n"
		"lock:\t1: POSIX  ADVISORY  WRITE 12 fe:00:42 0 9\n"
		"lock:\t2: FLOCK  ADVISORY  READ 12 fe:00:42 0 EOF\n"
		"lock:\t3: LEASE  ACTIVE    WRITE 12 fe:00:42 0 EOF\n"), 0);
	ck_assert_uint_eq(c.proc.nr_locks, 3);
	ck_assert_uint_eq(c.proc.locks[0].kind, IMG_LOCK_POSIX);
	ck_assert_uint_eq(c.proc.locks[0].len, 10);
	ck_assert_int_eq(c.proc.locks[0].write, 1);
	ck_assert_uint_eq(c.proc.locks[1].kind, IMG_LOCK_FLOCK);
	ck_assert_uint_eq(c.proc.locks[2].kind, IMG_LOCK_LEASE);
	ck_assert_int_eq(c.proc.locks[2].write, 1);
	ck_assert_uint_eq(c.proc.locks[2].len, 0);
	/* a lease being broken is refused */
	ck_assert_int_eq(dump_locks_info(&c, &f, "pos:\t0\n"
		"lock:\t1: LEASE  BREAKING  UNLCK 12 fe:00:42 0 EOF\n"), -1);
	ck_assert_uint_eq(c.proc.nr_locks, 3);
	free(c.proc.locks);
}
END_TEST

START_TEST(test_status)
{
	struct img_proc p = { 0 };

	ck_assert_int_eq(dump_status_info("Name:\tx\nUmask:\t0022\n"
		"Uid:\t1\t2\t3\t2\nGid:\t4\t5\t6\t5\n"
		"Groups:\t7 8 \nNoNewPrivs:\t1\n", &p), 0);
	ck_assert_uint_eq(p.umask, 022);
	ck_assert_uint_eq(p.suid, 3);
	ck_assert_uint_eq(p.egid, 5);
	ck_assert_uint_eq(p.nr_groups, 2);
	ck_assert_uint_eq(p.groups[1], 8);
	ck_assert_int_eq(p.no_new_privs, 1);
	free(p.groups);
}
END_TEST

START_TEST(test_timers)
{
	struct img_pstate ps = { 0 };

	ck_assert_int_eq(dump_timers_info("ID: 5\nsignal: 10/00000000000000ff\n"
		"notify: signal/pid.9\nClockID: 1\n"
		"ID: 2\nsignal: 34/0000000000000000\n"
		"notify: signal/tid.9\nClockID: 0\n", 9, &ps), 0);
	ck_assert_uint_eq(ps.nr_timers, 2);
	ck_assert_int_eq(ps.timers[0].id, 2);
	ck_assert_uint_eq(ps.timers[0].tid, 9);
	ck_assert_uint_eq(ps.timers[1].sigval, 0xff);
	ck_assert_int_eq(dump_timers_info("ID: x\n", 9, &ps), -1);
	free(ps.timers);
}
END_TEST

START_TEST(test_mountinfo)
{
	char mnt[PATH_MAX];
	dev_t dev;

	ck_assert_int_eq(dump_mountinfo_line("36 35 98:3 /root /mnt rw - "
			 "ext3 /dev/root rw\n", &dev, mnt), 0);
	ck_assert_uint_eq(dev, makedev(98, 3));
	ck_assert_str_eq(mnt, "/mnt");
	ck_assert_int_eq(dump_mountinfo_line("36 35 98 /root\n", &dev, mnt),
			 -1);
}
END_TEST

static Suite *dump_suite(void)
{
	Suite *s = suite_create("dump");
	TCase *tc = unit_tcase(s, "fdinfo", 10);

	log_init("check_dump", LOG_ERR);
	tcase_add_test(tc, test_eventfd);
	tcase_add_test(tc, test_inotify_no_watch);
	tcase_add_test(tc, test_locks);
	tc = unit_tcase(s, "status", 10);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_timers);
	tcase_add_test(tc, test_mountinfo);
	return s;
}

CHECK_MAIN(dump_suite)
