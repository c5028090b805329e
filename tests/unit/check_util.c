/*
 * check_util: the durable write of util/durable.c, on files in a fresh
 * directory. A committed file has its data and mode 0600 whatever the
 * umask, replaces the one before it, and leaves no temporary; an abort,
 * or a commit that fails, leaves nothing new and the old file as it was.
 * Relative to a directory descriptor the temporary can be hidden and
 * locked (as ckpt serve's are); a signal handler's removal works. And
 * log_format: the log line that a signal handler of ckpt serve writes.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "util/durable.h"

static char dir[64], path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/check_util.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	log_init("check_util", LOG_ERR);
}

/* Remove every entry, dot files too, then the directory. */
static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p))
			rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Entries in dir, and the name of the last one other than skip. */
static int entries(const char *skip, char *name, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (name && (!skip || strcmp(e->d_name, skip)))
			snprintf(name, len, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

static void put(const char *p, const char *text)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_full(fd, text, strlen(text)), 0);
	close(fd);
}

static void assert_holds(const char *p, const char *text)
{
	char buf[64] = "";
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	ck_assert_str_eq(buf, text);
}

START_TEST(test_commit)
{
	struct durable d;
	struct stat st;
	char name[256];

	put(path, "old");
	umask(0277);	/* openat alone would make it 0400 */
	ck_assert_int_eq(durable_open(&d, AT_FDCWD, path, 0), 0);
	/* nameless (O_TMPFILE, tmpfs has it) until commit: a writer killed
	 * meanwhile leaves nothing */
	ck_assert_int_eq(entries("file", name, sizeof(name)), 1);
	ck_assert_int_eq(write_full(d.fd, "new", 3), 0);
	assert_holds(path, "old");
	ck_assert_int_eq(durable_commit(&d), 0);
	assert_holds(path, "new");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(entries(NULL, NULL, 0), 1);
	durable_abort(&d);	/* nothing left to do */
	assert_holds(path, "new");
}
END_TEST

START_TEST(test_abort)
{
	struct durable d;

	put(path, "old");
	ck_assert_int_eq(durable_open(&d, AT_FDCWD, path, 0), 0);
	ck_assert_int_eq(write_full(d.fd, "new", 3), 0);
	durable_abort(&d);
	assert_holds(path, "old");
	ck_assert_int_eq(entries(NULL, NULL, 0), 1);
}
END_TEST

/* A rename that fails (the target is a directory with an entry): the
 * temporary goes, the target stays. */
START_TEST(test_failed_commit)
{
	struct durable d;
	char inner[256];

	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/x", path);
	put(inner, "x");
	ck_assert_int_eq(durable_open(&d, AT_FDCWD, path, 0), 0);
	ck_assert_int_eq(durable_commit(&d), -1);
	ck_assert_int_ne(errno, 0);
	ck_assert_int_eq(entries(NULL, NULL, 0), 1);
	assert_holds(inner, "x");
	ck_assert_int_eq(unlink(inner), 0);
}
END_TEST

START_TEST(test_missing_dir)
{
	struct durable d;
	char p[256];

	snprintf(p, sizeof(p), "%s/none/file", dir);
	ck_assert_int_eq(durable_open(&d, AT_FDCWD, p, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	durable_abort(&d);
}
END_TEST

/* As ckpt serve: ".NAME.tmp.XXXXXX" relative to its directory, locked
 * while it lives, removed by the signal handler's call. */
START_TEST(test_hidden_locked)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct durable d;
	char name[256], p[512];
	int fd;

	ck_assert_int_ge(dirfd, 0);
	ck_assert_int_eq(durable_open(&d, dirfd, "img", DURABLE_HIDDEN |
				      DURABLE_LOCK), 0);
	ck_assert_int_eq(entries(NULL, name, sizeof(name)), 1);
	ck_assert_msg(!strncmp(name, ".img.tmp.", 9) && strlen(name) == 15,
		      "%s", name);
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	close(fd);
	durable_unlink_tmp(&d);
	ck_assert_int_eq(entries(NULL, NULL, 0), 0);
	durable_abort(&d);
	ck_assert_int_eq(durable_open(&d, dirfd, "img", DURABLE_HIDDEN), 0);
	ck_assert_int_eq(write_full(d.fd, "img", 3), 0);
	ck_assert_int_eq(durable_commit(&d), 0);
	snprintf(p, sizeof(p), "%s/img", dir);
	assert_holds(p, "img");
	ck_assert_int_eq(entries(NULL, NULL, 0), 1);
	close(dirfd);
}
END_TEST

/* As log_msg prints it, newline included; nothing for a hidden level;
 * cut to the buffer, still terminated. */
START_TEST(test_log_format)
{
	char buf[64];

	log_init("check_util", LOG_WARN);
	ck_assert_uint_eq(log_format(buf, sizeof(buf), LOG_WARN, "%s cut\n",
				     "peer"), strlen("check_util: peer cut\n"));
	ck_assert_str_eq(buf, "check_util: peer cut\n");
	ck_assert_uint_eq(log_format(buf, sizeof(buf), LOG_INFO, "x"), 0);
	ck_assert_uint_eq(log_format(buf, 8, LOG_ERR, "long message"), 7);
	ck_assert_str_eq(buf, "check_u");
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = unit_tcase(s, "durable", 30);
	TCase *log = unit_tcase(s, "log", 30);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_commit);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_failed_commit);
	tcase_add_test(tc, test_missing_dir);
	tcase_add_test(tc, test_hidden_locked);
	tcase_add_test(log, test_log_format);
	return s;
}

CHECK_MAIN(util_suite)
