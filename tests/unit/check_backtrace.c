/*
 * check_backtrace: call stacks from images (elf/backtrace.h) and ckpt
 * inspect's output of them. A program compiled at test time (dynamic, and
 * static: the latter has no .eh_frame_hdr) calls main -> level1 -> level2
 * -> nanosleep; it is dumped by the real dumper (build/bin/ckpt attach,
 * relative to the repository top, where make check-unit runs), and the
 * image alone must give those frames in that order.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "elf/backtrace.h"
#include "tests/unit/testprog.h"
#include "image/image.h"
#include "plugins/pipeline.h"

#define CKPT_BIN	"build/bin/ckpt"
#define MAX_FRAMES	64

static char dir[64];
static pid_t child = -1;

static const char prog_src[] =
	"#include <stdio.h>\n"
	"#include <time.h>\n"
	"__attribute__((noinline)) void level2(void)\n"
	"{\n"
	"	struct timespec ts = { 1, 0 };\n"
	"	printf(\"ready\\n\");\n"
	"	fflush(stdout);\n"
	"	for (;;)\n"
	"		nanosleep(&ts, NULL);\n"
	"}\n"
	"__attribute__((noinline)) void level1(void)\n"
	"{\n"
	"	level2();\n"
	"}\n"
	"int main(void)\n"
	"{\n"
	"	level1();\n"
	"	return 0;\n"
	"}\n";

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_backtrace.XXXXXX");
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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "can't remove %s\n", dir);
}

static void run(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* Compile prog_src into dir/name with cc and flags; return its path. */
static void compile(const char *flags, const char *name, char *path,
		    size_t len)
{
	tp_compile(dir, name, prog_src, flags, path, len);
}

/* Start path; return once it said ready and went to sleep. */
static void spawn(const char *path)
{
	child = tp_spawn(path, 1);
}

static void dump(char *img, size_t len)
{
	char cmd[256];

	snprintf(img, len, "%s/img", dir);
	snprintf(cmd, sizeof(cmd), CKPT_BIN " attach -o '%s' %d", img,
		 (int)child);
	run(cmd);
}

/* The first frame at or after *i named name (or alt), or fail. */
static void expect_frame(const struct bt_frame *f, int n, int *i,
			 const char *name, const char *alt)
{
	for (; *i < n; (*i)++)
		if (!strcmp(f[*i].name, name) ||
		    (alt && !strcmp(f[*i].name, alt)))
			return;
	ck_abort_msg("no frame %s in the backtrace", name);
}

static void check_image_stack(const char *img_path, const char *exe)
{
	struct bt_frame f[MAX_FRAMES];
	struct bt_image src;
	struct image *img;
	int fd, n, i = 0;

	fd = pipeline_open_read(img_path);
	ck_assert_int_ge(fd, 0);
	img = img_read_named_fd(fd, img_path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_procs, 1);
	src = (struct bt_image){ .fd = fd, .page_size = img->hdr.page_size,
				 .p = &img->procs[0] };
	n = elf_backtrace(&src, &img->procs[0].threads[0], f, MAX_FRAMES);
	ck_assert_int_ge(n, 4);
	expect_frame(f, n, &i, "nanosleep", "clock_nanosleep");
	expect_frame(f, n, &i, "level2", NULL);
	ck_assert_str_eq(f[i].object, exe);
	expect_frame(f, n, &i, "level1", NULL);
	expect_frame(f, n, &i, "main", NULL);
	/* a return address points past the call, inside main */
	ck_assert_uint_gt(f[i].offset, 0);
	img_free(img);
	close(fd);
}

static void check_stack_of(const char *flags, const char *name)
{
	char exe[128], img[128];

	compile(flags, name, exe, sizeof(exe));
	spawn(exe);
	dump(img, sizeof(img));
	check_image_stack(img, exe);
}

START_TEST(test_dynamic)
{
	check_stack_of("", "dynamic");
}
END_TEST

/* no .eh_frame_hdr: the search table is built from .eh_frame */
START_TEST(test_static)
{
	check_stack_of("-static", "static");
}
END_TEST

START_TEST(test_inspect_output)
{
	char exe[128], img[128], cmd[512];

	compile("", "prog", exe, sizeof(exe));
	spawn(exe);
	dump(img, sizeof(img));
	snprintf(cmd, sizeof(cmd), CKPT_BIN " inspect --json '%s' | "
		 "python3 -c 'import json,sys; d=json.load(sys.stdin); "
		 "bt=d[\"processes\"][0][\"threads\"][0][\"backtrace\"]; "
		 "sys.exit(0 if [f[\"symbol\"] for f in bt].count(\"level2\")"
		 " == 1 else 1)'", img);
	run(cmd);
	snprintf(cmd, sizeof(cmd), CKPT_BIN " inspect '%s' | "
		 "grep -q '^  #[0-9]* 0x[0-9a-f]* level1+0x[0-9a-f]* (%s)$'",
		 img, exe);
	run(cmd);
}
END_TEST

static Suite *backtrace_suite(void)
{
	Suite *s = suite_create("backtrace");
	TCase *tc = tcase_create("image");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* cc -static takes seconds on a loaded machine */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dynamic);
	tcase_add_test(tc, test_static);
	tcase_add_test(tc, test_inspect_output);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backtrace_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
