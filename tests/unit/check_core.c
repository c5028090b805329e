/*
 * check_core: ckpt convert, end to end. A program with two threads
 * (main -> level1 -> level2 sleeping, and a pthread in thread_fn ->
 * pause) is compiled at test time, dynamic and -static, dumped by the
 * real `build/bin/ckpt attach`, killed, converted to a core, and opened
 * with gdb in batch mode: both threads and their backtraces must be
 * there. The tests run from the top of the tree, where build/bin/ckpt is
 * ($CKPT_BIN overrides it).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/testprog.h"
#include "util/util.h"

#define GDB_OUT_MAX	(256 * 1024)

static char dir[64];
static pid_t child = -1;

static const char prog_src[] =
	"#include <pthread.h>\n"
	"#include <stdio.h>\n"
	"#include <time.h>\n"
	"#include <unistd.h>\n"
	"void *thread_fn(void *arg);\n"
	"void level1(void);\n"
	"void level2(void);\n"
	"__attribute__((noinline)) void *thread_fn(void *arg)\n"
	"{\n"
	"	for (;;)\n"
	"		pause();\n"
	"	return arg;\n"
	"}\n"
	"__attribute__((noinline)) void level2(void)\n"
	"{\n"
	"	struct timespec ts = { 1, 0 };\n"
	"	for (;;)\n"
	"		nanosleep(&ts, NULL);\n"
	"}\n"
	"__attribute__((noinline)) void level1(void)\n"
	"{\n"
	"	level2();\n"
	"	__asm__ volatile(\"\");\n"
	"}\n"
	"int main(void)\n"
	"{\n"
	"	pthread_t t;\n"
	"	if (pthread_create(&t, NULL, thread_fn, NULL))\n"
	"		return 1;\n"
	"	printf(\"ready\\n\");\n"
	"	fflush(stdout);\n"
	"	level1();\n"
	"	return 0;\n"
	"}\n";

static void setup(void)
{
	strcpy(dir, "/tmp/check_core.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	child = -1;
}

static void teardown(void)
{
	char cmd[128];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "check_core: can't remove %s\n", dir);
}

/* Run a shell command; its exit status, or -1. */
static __printf(1, 2) int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* $CKPT_BIN for a build in another directory (make B=...) */
static const char *ckpt(void)
{
	const char *p = getenv("CKPT_BIN");

	return p && *p ? p : "build/bin/ckpt";
}

static void compile(const char *args, char *prog, size_t len)
{
	char flags[256];

	snprintf(flags, sizeof(flags), "-pthread %s", args);
	tp_compile(dir, "prog", prog_src, flags, prog, len);
}

/* Start prog and wait for its "ready" and both threads asleep. */
static void spawn(const char *prog)
{
	child = tp_spawn(prog, 2);
}

/* Dump the child, kill it, convert the image to dir/core. */
static void dump_and_convert(char *core, size_t len)
{
	char img[128], pid[16];

	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(core, len, "%s/core", dir);
	snprintf(pid, sizeof(pid), "%d", child);
	ck_assert_int_eq(run("%s attach -o %s %s", ckpt(), img, pid), 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = -1;
	ck_assert_int_eq(run("%s convert %s %s", ckpt(), img, core), 0);
}

static char *gdb_output(const char *prog, const char *core)
{
	char cmd[512], *out = calloc(1, GDB_OUT_MAX);
	size_t n = 0, r;
	FILE *p;

	ck_assert_ptr_nonnull(out);
	snprintf(cmd, sizeof(cmd), "gdb -batch -nx -ex 'info threads' "
		 "-ex 'thread apply all bt' %s %s 2>&1", prog, core);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((r = fread(out + n, 1, GDB_OUT_MAX - 1 - n, p)) > 0)
		n += r;
	pclose(p);
	return out;
}

static void check_core(const char *cc_args)
{
	char prog[128], core[128], *out;
	struct stat st;

	compile(cc_args, prog, sizeof(prog));
	spawn(prog);
	dump_and_convert(core, sizeof(core));
	ck_assert_int_eq(stat(core, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	out = gdb_output(prog, core);
	ck_assert_msg(strstr(out, " in level2 (") &&
		      strstr(out, " in level1 (") &&
		      strstr(out, " in main (") &&
		      strstr(out, " in thread_fn ("),
		      "a frame is missing:\n%s", out);
	ck_assert_msg(strstr(out, "\nThread 1 (") &&
		      strstr(out, "\nThread 2 (") &&
		      !strstr(out, "\nThread 3 ("),
		      "not two threads:\n%s", out);
	free(out);
}

START_TEST(test_dynamic)
{
	check_core("");
}
END_TEST

START_TEST(test_static)
{
	check_core("-static");
}
END_TEST

/* Exit statuses, and no core left behind when it can't be written. */
START_TEST(test_errors)
{
	char prog[128], core[128], img[128], bad[128];
	const char *c = ckpt();
	int fd;

	ck_assert_int_eq(run("%s convert 2>/dev/null", c), 64);
	snprintf(bad, sizeof(bad), "%s/bad", dir);
	fd = open(bad, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not an image, not at all", 24), 24);
	close(fd);
	ck_assert_int_eq(run("%s convert %s %s/c 2>/dev/null", c, bad, dir),
			 65);
	ck_assert_int_eq(run("%s convert %s/none %s/c 2>/dev/null", c, dir,
			     dir), 66);
	compile("", prog, sizeof(prog));
	spawn(prog);
	dump_and_convert(core, sizeof(core));
	snprintf(img, sizeof(img), "%s/img", dir);
	ck_assert_int_eq(run("%s convert %s %s/no/core 2>/dev/null", c, img,
			     dir), 73);
	/* only prog, prog.c, bad, img and core: no temporary file */
	ck_assert_int_eq(run("test $(ls %s | wc -l) -eq 5", dir), 0);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("convert");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* cc -static and gdb take seconds on a loaded machine */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dynamic);
	tcase_add_test(tc, test_static);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(core_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
