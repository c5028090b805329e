/*
 * unit.h: what every unit suite (tests/unit/check_*.c) shares: its main()
 * (CHECK_MAIN), test cases that always carry a timeout (unit_tcase), and
 * a fresh temporary directory per test (unit_tmpdir_setup/teardown, the
 * directory in dir). Header-only (static functions), for test files only.
 * It uses nothing of ckpt: check_dlsym, which tests a library of its own,
 * links no core library.
 */
#ifndef CKPT_UNIT_H
#define CKPT_UNIT_H

#include <sys/stat.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the test's temporary directory; not every suite has one */
static char dir[64] __attribute__((unused));

/*
 * A test case of s whose tests may each take secs seconds. Check's own
 * default (4 s) is too short for a loaded machine; each suite says what
 * its tests need instead, so that a test that hangs fails and is named.
 */
static inline TCase *unit_tcase(Suite *s, const char *name, double secs)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, secs);
	suite_add_tcase(s, tc);
	return tc;
}

/* The fixture: dir is /tmp/<program>.XXXXXX, new for each test. */
static inline void unit_tmpdir_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX",
		 program_invocation_short_name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline int unit_rm_one(const char *p, const struct stat *st,
			      int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(p))
		fprintf(stderr, "%s: can't remove %s: %s\n",
			program_invocation_short_name, p, strerror(errno));
	return 0;
}

/* dir and everything in it, subdirectories too (depth first). */
static inline void unit_tmpdir_teardown(void)
{
	if (dir[0])
		nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

/* Entries in dir, . and .. aside. */
static inline int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/*
 * Run every test of s, each in a process of its own (fork mode, whatever
 * CK_FORK says): a crash or a timeout fails that test alone, and no test
 * sees what another left in memory. EXIT_FAILURE if any failed.
 */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The main() of a suite: CHECK_MAIN(arch_suite) */
#define CHECK_MAIN(suite_fn)			\
	int main(void)				\
	{					\
		return unit_run(suite_fn());	\
	}

#endif
