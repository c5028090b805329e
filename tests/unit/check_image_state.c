/*
 * check_image_state: the kernel state at the end of PROC and THREAD
 * records (image/codec-task.c): written, read back field by field, and
 * each rule the reader enforces broken alone.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

/* The image of begin_proc(1), committed and read back. */
static struct image *read_back(void)
{
	struct image *img;

	ck_assert_int_eq(img_writer_commit(begin_proc(1)), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_procs, 1);
	return img;
}

START_TEST(test_pstate_roundtrip)
{
	struct image *img = read_back();
	const struct img_pstate *s = &img->procs[0].proc.ks;

	ck_assert_uint_eq(s->stop_sig, SIGTSTP);
	ck_assert_uint_eq(s->wait, IMG_WAIT_STOPPED);
	img_free(img);
}
END_TEST

START_TEST(test_continued_accepted)
{
	struct image *img;

	proc_state = (struct img_pstate){ .wait = IMG_WAIT_CONTINUED };
	img = read_back();
	ck_assert_uint_eq(img->procs[0].proc.ks.stop_sig, 0);
	ck_assert_uint_eq(img->procs[0].proc.ks.wait, IMG_WAIT_CONTINUED);
	img_free(img);
}
END_TEST

/* each rule of the process state, broken alone */
START_TEST(test_refuse_bad_pstate)
{
	static const struct {
		struct img_pstate s;
		const char *want;
	} t[] = {
		{ { .stop_sig = SIGKILL }, "stop signal 9" },
		{ { .stop_sig = SIGSTOP, .wait = 4 }, "bad wait flags 0x4" },
		{ { .wait = IMG_WAIT_STOPPED }, "a stop to report without a stop" },
		{ { .stop_sig = SIGSTOP, .wait = IMG_WAIT_CONTINUED },
		  "a SIGCONT to report while stopped" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		proc_state = t[i].s;
		commit_expect_refused(begin_proc(1), t[i].want);
	}
}
END_TEST

static Suite *image_state_suite(void)
{
	Suite *s = suite_create("image_state");
	TCase *rt = image_tcase(s, "roundtrip");
	TCase *sem = image_tcase(s, "semantics");

	add(rt, test_pstate_roundtrip);
	add(rt, test_continued_accepted);
	add(sem, test_refuse_bad_pstate);
	return s;
}

CHECK_MAIN(image_state_suite)
