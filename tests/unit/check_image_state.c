/*
 * check_image_state: the kernel state at the end of PROC and THREAD
 * records (image/codec-task.c): written, read back field by field, and
 * each rule the reader enforces broken alone.
 */
#include <check.h>
#include <fcntl.h>
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
	ck_assert_uint_eq(s->subreaper, 1);
	ck_assert_uint_eq(s->thp_disable, 3);
	ck_assert_int_eq(s->oom_score_adj, -17);
	ck_assert_uint_eq(s->oom_min_known, 1);
	ck_assert_int_eq(s->oom_score_adj_min, -100);
	ck_assert_uint_eq(s->loginuid, 4321);
	ck_assert_uint_eq(s->membarrier, IMG_MEMBARRIER_GLOBAL |
			  IMG_MEMBARRIER_PRIVATE | IMG_MEMBARRIER_RSEQ);
	img_free(img);
}
END_TEST

START_TEST(test_tstate_roundtrip)
{
	struct image *img = read_back();
	const struct img_tstate *t = &img->procs[0].threads[0].ks;

	ck_assert_uint_eq(t->pdeathsig, SIGUSR1);
	ck_assert_uint_eq(t->mce_kill, 1);
	ck_assert_uint_eq(t->timer_slack_ns, 50000);
	ck_assert_uint_eq(t->spec[0], 0x3);
	ck_assert_uint_eq(t->spec[1], 0x9);
	ck_assert_uint_eq(t->spec[2], 0);
	ck_assert_uint_eq(t->default_slack_ns, 222222);
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
		{ { .subreaper = 2 }, "child subreaper 2" },
		{ { .thp_disable = 2 }, "THP disable 2" },
		{ { .oom_score_adj = 1001 }, "oom_score_adj 1001" },
		{ { .oom_score_adj = -1001 }, "oom_score_adj -1001" },
		{ { .exit_signal = SIGKILL }, "exit signal 9" },
		{ { .exit_signal = 65 }, "exit signal 65" },
		/* a command, not a registration */
		{ { .membarrier = 0x8 }, "membarrier registrations 0x8" },
		{ { .memory_merge = 2 }, "memory merge 2" },
		{ { .oom_min_known = 2 }, "oom_score_adj minimum known 2" },
		{ { .oom_min_known = 1, .oom_score_adj_min = -1001 },
		  "oom_score_adj minimum -1001" },
		{ { .oom_score_adj_min = 5 }, "oom_score_adj minimum 5" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		proc_state = t[i].s;
		commit_expect_refused(begin_proc(1), t[i].want);
	}
}
END_TEST

/* each rule of a thread's state, broken alone */
START_TEST(test_refuse_bad_tstate)
{
	static const struct {
		struct img_tstate s;
		const char *want;
	} t[] = {
		{ { .pdeathsig = 65 }, "parent-death signal 65" },
		{ { .mce_kill = 3 }, "MCE kill policy 3" },
		{ { .spec = { 0, 0, 0x20 } }, "speculation control 0x20" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		thread_state = t[i].s;
		commit_expect_refused(begin_proc(1), t[i].want);
	}
}
END_TEST

static struct img_timer timers[2] = {
	{ .id = 3, .clockid = 1, .notify = IMG_SIGEV_SIGNAL, .signo = 34,
	  .sigval = 0x55aa00001234, .value_ns = 5000, .interval_ns = 9000,
	  .overrun = 2, .pending = 1, .pend_overrun = 5 },
	{ .id = 8, .clockid = -2, .notify = IMG_SIGEV_THREAD_ID,
	  .signo = 35, .tid = 10, .owner = 10, .value_ns = 77 },
};

START_TEST(test_timers_roundtrip)
{
	struct image *img;
	const struct img_pstate *s;

	proc_state.nr_timers = 2;
	proc_state.timers = timers;
	img = read_back();
	s = &img->procs[0].proc.ks;
	ck_assert_uint_eq(s->nr_timers, 2);
	ck_assert_int_eq(s->timers[0].id, 3);
	ck_assert_uint_eq(s->timers[0].sigval, 0x55aa00001234);
	ck_assert_uint_eq(s->timers[0].value_ns, 5000);
	ck_assert_uint_eq(s->timers[0].interval_ns, 9000);
	ck_assert_uint_eq(s->timers[0].overrun, 2);
	ck_assert_uint_eq(s->timers[0].pending, 1);
	ck_assert_uint_eq(s->timers[0].pend_overrun, 5);
	ck_assert_uint_eq(s->timers[1].pend_overrun, 0);
	ck_assert_int_eq(s->timers[1].clockid, -2);
	ck_assert_uint_eq(s->timers[1].notify, IMG_SIGEV_THREAD_ID);
	ck_assert_int_eq(s->timers[1].tid, 10);
	ck_assert_int_eq(s->timers[1].owner, 10);
	img_free(img);
}
END_TEST

/* each rule of a timer, broken alone in the second of two */
START_TEST(test_refuse_bad_timers)
{
	static const struct {
		struct img_timer t;
		const char *want;
	} t[] = {
		{ { .id = 3, .signo = 1 }, "timer 3 after timer 3" },
		{ { .id = 9, .clockid = 2, .signo = 1 }, "timer 9: clock 2" },
		{ { .id = 9, .clockid = -1, .signo = 1 }, "timer 9: clock -1" },
		{ { .id = 9, .notify = 3, .signo = 1 }, "timer 9: notify 3" },
		{ { .id = 9, .notify = 5, .signo = 1, .tid = 10 },
		  "timer 9: notify 5" },
		{ { .id = 9 }, "timer 9: signal 0" },
		{ { .id = 9, .signo = 1, .tid = 10 }, "timer 9: thread 10" },
		{ { .id = 9, .signo = 1, .owner = 10 }, "timer 9: owner 10" },
		{ { .id = 9, .clockid = -2, .signo = 1 }, "timer 9: owner 0" },
		{ { .id = 9, .notify = IMG_SIGEV_NONE, .pending = 1 },
		  "timer 9: pending 1" },
		{ { .id = 9, .signo = 1, .value_ns = 1ull << 62 },
		  "timer 9: time out of range" },
		{ { .id = 9, .signo = 1, .value_ns = 5, .pend_overrun = 3 },
		  "timer 9: overrun 3 pending" },
		{ { .id = 9, .signo = 1, .pending = 1, .pend_overrun = 3 },
		  "timer 9: overrun 3 pending" },
		{ { .id = 9, .signo = 1, .pending = 1, .abs = 1 },
		  "timer 9: absolute 1" },
		{ { .id = 9, .notify = IMG_SIGEV_THREAD_ID, .signo = 1,
		    .tid = 11 }, "timer 9 names a thread it has not" },
		{ { .id = 9, .clockid = -11 * 8 - 2, .signo = 1 },
		  "timer 9 names a thread it has not" },
		{ { .id = 9, .clockid = -11 * 8 - 6, .signo = 1 },
		  "timer 9 names a thread it has not" },
	};
	struct img_timer two[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		two[0] = timers[0];
		two[1] = t[i].t;
		proc_state.nr_timers = 2;
		proc_state.timers = two;
		commit_expect_refused(begin_proc(1), t[i].want);
	}
}
END_TEST

/* w committed: read back (want NULL), or refused with want (NULL back) */
static struct image *commit_or_refused(struct img_writer *w,
				       const char *want)
{
	struct image *img;

	if (want) {
		commit_expect_refused(w, want);
		return NULL;
	}
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	return img;
}

/* A VMA with these flags and n guard regions g, read back, or refused
 * with want. */
static void vma_with(uint32_t flags, struct img_range *g, uint32_t n,
		     const char *want)
{
	struct img_writer *w = begin_proc(1);
	struct img_vma v = {
		.start = 0x10000, .end = 0x20000, .prot = 3,
		.flags = IMG_VMA_ANON | flags, .nr_guards = n, .guards = g,
	};
	struct image *img;
	uint32_t i;

	ck_assert_int_eq(img_write_vma(w, &v), 0);
	img = commit_or_refused(w, want);
	if (!img)
		return;
	ck_assert_uint_eq(img->procs[0].vmas[0].flags, IMG_VMA_ANON | flags);
	ck_assert_uint_eq(img->procs[0].vmas[0].nr_guards, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(img->procs[0].vmas[0].guards[i].start,
				  g[i].start);
		ck_assert_uint_eq(img->procs[0].vmas[0].guards[i].end,
				  g[i].end);
	}
	img_free(img);
}

/* A VMA with these flags, read back: 0, or -1 refused with want. */
static void vma_flags(uint32_t flags, const char *want)
{
	vma_with(flags, NULL, 0, want);
}

START_TEST(test_vma_droppable_guards)
{
	struct img_range ok[2] = { { 0x11000, 0x13000 }, { 0x15000, 0x16000 } };
	struct img_range odd[1] = { { 0x11000, 0x11800 } };
	struct img_range out[1] = { { 0x1f000, 0x21000 } };
	struct img_range touch[2] = { { 0x11000, 0x13000 },
				      { 0x13000, 0x14000 } };
	struct img_range empty[1] = { { 0x11000, 0x11000 } };

	vma_flags(IMG_VMA_DROPPABLE, NULL);
	vma_flags(IMG_VMA_DROPPABLE | IMG_VMA_SHARED,
		  "droppable memory not private anonymous");
	vma_with(0, ok, 2, NULL);
	vma_with(0, odd, 1, "guard region 0x11000-0x11800 not page aligned");
	vma_with(0, out, 1, "guard region 0x1f000-0x21000 out of place");
	vma_with(0, touch, 2, "guard region 0x13000-0x14000 out of place");
	vma_with(0, empty, 1, "guard region 0x11000-0x11000 out of place");
}
END_TEST

START_TEST(test_vma_locks)
{
	vma_flags(IMG_VMA_LOCKED, NULL);
	vma_flags(IMG_VMA_LOCKED | IMG_VMA_LOCKONFAULT, NULL);
	vma_flags(IMG_VMA_LOCKONFAULT, "MLOCK_ONFAULT without mlock");
	vma_flags(1u << 13, "bad flags 0x2002");
}
END_TEST

/* A live child and a zombie with their exit signals, read back. */
START_TEST(test_exit_signals)
{
	struct img_writer *w = img_writer_open(path);
	struct img_proc z = {
		.pid = 12, .ppid = 10, .pgid = 10, .sid = 1,
		.exit_status = 5 << 8, .ks = { .exit_signal = 0 },
	};
	struct image *img;

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	proc_state = (struct img_pstate){ .exit_signal = SIGUSR1 };
	w_proc_of(w, 11, 10, 1);
	w_thread(w, 11);
	ck_assert_int_eq(img_write_zombie(w, &z), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[1].proc.ks.exit_signal, SIGUSR1);
	ck_assert_uint_eq(img->procs[2].proc.ks.exit_signal, 0);
	img_free(img);
	w = img_writer_open(path);
	w_header(w);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	z.ks.exit_signal = SIGSTOP;
	ck_assert_int_eq(img_write_zombie(w, &z), 0);
	commit_expect_refused(w, "zombie 12: exit signal 19");
}
END_TEST

/* ---- seccomp (image/codec-seccomp.c) ----------------------------------- */

static uint64_t bpf_a[] = { 0x20ull << 0 | 0, 0x6ull | 0x7fff0000ull << 32 };
static uint64_t bpf_b[] = { 0x6ull | 0x50001ull << 32 };
static uint64_t bpf_big[IMG_MAX_BPF];
static struct img_seccomp_filter filters[9] = {
	{ .flags = 0, .len = 2, .insns = bpf_a },
	{ .flags = IMG_SECCOMP_LOG, .len = 1, .insns = bpf_b },
};

static void set_seccomp(uint32_t mode, uint32_t n)
{
	thread_seccomp = (struct img_seccomp){ mode, n, filters };
}

START_TEST(test_seccomp_roundtrip)
{
	const struct img_seccomp *s;
	struct image *img;

	set_seccomp(IMG_SECCOMP_FILTER, 2);
	img = read_back();
	s = &img->procs[0].threads[0].seccomp;
	ck_assert_uint_eq(s->mode, IMG_SECCOMP_FILTER);
	ck_assert_uint_eq(s->nr_filters, 2);
	ck_assert_uint_eq(s->filters[0].flags, 0);
	ck_assert_uint_eq(s->filters[0].len, 2);
	ck_assert_mem_eq(s->filters[0].insns, bpf_a, sizeof(bpf_a));
	ck_assert_uint_eq(s->filters[1].flags, IMG_SECCOMP_LOG);
	ck_assert_uint_eq(s->filters[1].len, 1);
	ck_assert_uint_eq(s->filters[1].insns[0], bpf_b[0]);
	ck_assert_uint_eq(img_seccomp_common(s, s), 2);
	img_free(img);
	/* installed apart: alike, never common */
	filters[1].flags |= IMG_SECCOMP_OWN;
	img = read_back();
	s = &img->procs[0].threads[0].seccomp;
	ck_assert_uint_eq(s->filters[1].flags,
			  IMG_SECCOMP_LOG | IMG_SECCOMP_OWN);
	ck_assert_uint_eq(img_seccomp_common(s, s), 1);
	img_free(img);
	filters[1].flags &= ~IMG_SECCOMP_OWN;
	set_seccomp(IMG_SECCOMP_STRICT, 0);
	img = read_back();
	ck_assert_uint_eq(img->procs[0].threads[0].seccomp.mode,
			  IMG_SECCOMP_STRICT);
	img_free(img);
}
END_TEST

/* the filters two chains share: as far as they are alike, flags too */
START_TEST(test_seccomp_common)
{
	struct img_seccomp_filter f[3] = { filters[0], filters[1],
					   filters[1] };
	struct img_seccomp a = { IMG_SECCOMP_FILTER, 2, filters };
	struct img_seccomp b = { IMG_SECCOMP_FILTER, 3, f };
	struct img_seccomp none = { 0, 0, NULL };

	ck_assert_uint_eq(img_seccomp_common(&a, &b), 2);
	f[1].flags = 0;
	ck_assert_uint_eq(img_seccomp_common(&a, &b), 1);
	f[0].len = 1;
	ck_assert_uint_eq(img_seccomp_common(&a, &b), 0);
	ck_assert_uint_eq(img_seccomp_common(&a, &none), 0);
}
END_TEST

/* each rule of a thread's seccomp state, broken alone */
START_TEST(test_refuse_bad_seccomp)
{
	static const struct {
		uint32_t mode, n, flags, len;
		const char *want;
	} t[] = {
		{ 3, 0, 0, 2, "seccomp mode 3" },
		{ IMG_SECCOMP_FILTER, 0, 0, 2, "0 seccomp filters in mode 2" },
		{ IMG_SECCOMP_STRICT, 1, 0, 2, "1 seccomp filters in mode 1" },
		{ IMG_SECCOMP_FILTER, 1, 0x4, 2, "seccomp flags 0x4" },
		{ IMG_SECCOMP_FILTER, 1, 0, 0, "empty seccomp filter" },
		/* 8 x (4096 + 4): past the kernel's 32768 for a chain */
		{ IMG_SECCOMP_FILTER, 8, 0, IMG_MAX_BPF,
		  "seccomp filters of 32800 instructions" },
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		for (j = 0; j < ARRAY_SIZE(filters); j++)
			filters[j] = (struct img_seccomp_filter){
				t[i].flags, t[i].len, bpf_big };
		set_seccomp(t[i].mode, t[i].n);
		commit_expect_refused(begin_proc(1), t[i].want);
	}
}
END_TEST

static struct img_tfd own_fds[2] = {
	{ .fd = 0, .src = 3, .fdflags = FD_CLOEXEC }, { .fd = 50, .src = 3 },
};
static const struct img_tshare own_both = {
	.own = IMG_SHARE_FS | IMG_SHARE_FILES, .umask = 077,
	.cwd = "/tmp", .nr_fds = 2, .fds = own_fds,
};

/* Process 10 with threads 10 and 11, own one of them, and fd 3. */
static struct img_writer *begin_own(const struct img_tshare *own,
				    int first)
{
	static const struct img_tshare none;
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, 2);
	thread_own = first ? *own : none;
	w_thread(w, 10);
	thread_own = first ? none : *own;
	w_thread(w, 11);
	thread_own = none;
	w_fd(w, 3, IMG_FD_REG, "/x");
	return w;
}

START_TEST(test_tshare_roundtrip)
{
	struct image *img;
	const struct img_tshare *o;

	ck_assert_int_eq(img_writer_commit(begin_own(&own_both, 0)), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[0].threads[0].own.own, 0);
	o = &img->procs[0].threads[1].own;
	ck_assert_uint_eq(o->own, IMG_SHARE_FS | IMG_SHARE_FILES);
	ck_assert_uint_eq(o->umask, 077);
	ck_assert_str_eq(o->cwd, "/tmp");
	ck_assert_uint_eq(o->nr_fds, 2);
	ck_assert_int_eq(o->fds[0].fd, 0);
	ck_assert_int_eq(o->fds[0].src, 3);
	ck_assert_uint_eq(o->fds[0].fdflags, FD_CLOEXEC);
	ck_assert_int_eq(o->fds[1].fd, 50);
	ck_assert_uint_eq(o->fds[1].fdflags, 0);
	img_free(img);
}
END_TEST

/* each rule of what a thread owns, broken alone */
START_TEST(test_refuse_bad_tshare)
{
	static struct img_tfd swapped[2] = { { .fd = 5, .src = 3 },
					     { .fd = 4, .src = 3 } };
	static struct img_tfd flags[1] = { { .fd = 5, .src = 3,
					     .fdflags = 2 } };
	static struct img_tfd stray[1] = { { .fd = 5, .src = 9 } };
	static const struct {
		struct img_tshare o;
		const char *want;
	} t[] = {
		{ { .own = 4 }, "thread owns 0x4" },
		{ { .own = IMG_SHARE_FS, .cwd = "/", .umask = 01000 },
		  "thread umask 01000" },
		{ { .own = IMG_SHARE_FS },
		  "thread cwd without a cwd of its own, or none with it" },
		{ { .own = IMG_SHARE_FS, .cwd = "tmp" },
		  "thread cwd not absolute" },
		{ { .nr_fds = 1, .fds = stray },
		  "fds of a thread without a table of its own" },
		{ { .own = IMG_SHARE_FILES, .nr_fds = 2, .fds = swapped },
		  "thread fds out of order" },
		{ { .own = IMG_SHARE_FILES, .nr_fds = 1, .fds = flags },
		  "thread fd flags 0x2" },
		{ { .own = IMG_SHARE_FILES, .nr_fds = 1, .fds = stray },
		  "thread 11: its fd 5 is fd 9 of the process, which has none" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		commit_expect_refused(begin_own(&t[i].o, 0), t[i].want);
	commit_expect_refused(begin_own(&own_both, 1),
			      "process 10: its first thread owns 0x3");
}
END_TEST

/* Process 10, its child 11 sharing share with it and with fds 3 of
 * its own (and 10 too when same), and 11's child 12 when grandchild. */
static void share_tree(uint32_t share, int same, int grandchild,
		       const char *want)
{
	struct img_writer *w = img_writer_open(path);
	struct image *img;

	ck_assert_ptr_nonnull(w);
	w_header(w);
	proc_state = (struct img_pstate){ 0 };
	w_proc(w, 10, 1);
	w_thread(w, 10);
	if (same)
		w_fd(w, 3, IMG_FD_REG, "/x");
	proc_state = (struct img_pstate){ .share = share };
	w_proc_of(w, 11, 10, 1);
	w_thread(w, 11);
	w_fd(w, 3, IMG_FD_REG, "/x");
	proc_state = (struct img_pstate){ 0 };
	if (grandchild) {
		w_proc_of(w, 12, 11, 1);
		w_thread(w, 12);
	}
	img = commit_or_refused(w, want);
	if (!img)
		return;
	ck_assert_uint_eq(img->procs[1].proc.ks.share, share);
	img_free(img);
}

/* The root shares nothing with a parent; a child sharing its parent's fd
 * table has its fds and no children. */
START_TEST(test_refuse_bad_share)
{
	proc_state = (struct img_pstate){ .share = 4 };
	commit_expect_refused(begin_proc(1), "shares 0x4");
	proc_state = (struct img_pstate){ .share = IMG_SHARE_FS };
	commit_expect_refused(begin_proc(1),
			      "process 10 shares with its parent 1, which is not before it");
	share_tree(IMG_SHARE_FS | IMG_SHARE_FILES, 1, 0, NULL);
	share_tree(IMG_SHARE_FS, 0, 1, NULL);
	share_tree(IMG_SHARE_FILES, 0, 0,
		   "process 11 shares the fd table of 10, yet has other fds or leads a session");
	share_tree(IMG_SHARE_FILES, 1, 1,
		   "process 12 is a child of 11, which shares its parent's fd table");
}
END_TEST

static Suite *image_state_suite(void)
{
	Suite *s = suite_create("image_state");
	TCase *rt = image_tcase(s, "roundtrip");
	TCase *sem = image_tcase(s, "semantics");

	add(rt, test_pstate_roundtrip);
	add(rt, test_tstate_roundtrip);
	add(rt, test_continued_accepted);
	add(rt, test_timers_roundtrip);
	add(sem, test_refuse_bad_pstate);
	add(sem, test_refuse_bad_tstate);
	add(sem, test_refuse_bad_timers);
	add(sem, test_vma_locks);
	add(sem, test_vma_droppable_guards);
	add(sem, test_exit_signals);
	add(rt, test_seccomp_roundtrip);
	add(rt, test_seccomp_common);
	add(sem, test_refuse_bad_seccomp);
	add(rt, test_tshare_roundtrip);
	add(sem, test_refuse_bad_tshare);
	add(sem, test_refuse_bad_share);
	return s;
}

CHECK_MAIN(image_state_suite)
