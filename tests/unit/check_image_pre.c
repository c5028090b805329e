/*
 * check_image_pre: pre-copy records (codec-pre.c): PRE_PAGES runs of a
 * process resolved into the pieces of its PRECOPY rounds' PAGES that
 * hold them (read whole or with IMG_READ_DEFER_PAGES, a piece then
 * checked by img_pages_check), and the refusals: a PRE_PAGES run its
 * round does not hold, PRECOPY after another record. The same runs
 * named by PRE_RUNS records, and their refusals. And the reader's
 * window over a file (its many small records).
 */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

#define BASE	0x100000ULL
#define NPAGES	8

/* Pages [from, from + n) of fill(seed) as PAGES records. */
static void pre_data(struct img_writer *w, unsigned from, unsigned n,
		     unsigned seed)
{
	uint8_t b[NPAGES * PS];

	fill(b, sizeof(b), seed);
	ck_assert_int_eq(img_write_pages_begin(w, BASE + from * PS, n), 0);
	ck_assert_int_eq(img_write_pages_data(w, b + from * PS, n * PS), 0);
	ck_assert_int_eq(img_write_pages_end(w), 0);
}

/* Round 0: the 8 pages of seed 1; round 1: pages 2-3 of seed 2. At the
 * freeze: 0-1 as round 0, 2-3 as round 1 (or round last1), page 4 of
 * seed 3 in the process's own PAGES, 5-7 as round 0; named by PRE_PAGES
 * records, or with runs, by two PRE_RUNS records (0-3, then 5-7). */
static void w_pre_as(unsigned last1, int runs)
{
	const struct img_pre_run v[] = {
		{ BASE, 2, 0 }, { BASE + 2 * PS, 2, last1 },
		{ BASE + 5 * PS, 3, 0 },
	};

	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_precopy(w, 10, 0), 0);
	pre_data(w, 0, NPAGES, 1);
	ck_assert_int_eq(img_write_precopy(w, 10, 1), 0);
	pre_data(w, 2, 2, 2);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, BASE, BASE + NPAGES * PS, NULL);
	if (runs) {
		ck_assert_int_eq(img_write_pre_runs(w, v, 2), 0);
		pre_data(w, 4, 1, 3);
		ck_assert_int_eq(img_write_pre_runs(w, v + 2, 1), 0);
	} else {
		ck_assert_int_eq(img_write_pre_pages(w, BASE, 2, 0), 0);
		ck_assert_int_eq(img_write_pre_pages(w, BASE + 2 * PS, 2,
						     last1), 0);
		pre_data(w, 4, 1, 3);
		ck_assert_int_eq(img_write_pre_pages(w, BASE + 5 * PS, 3, 0),
				 0);
	}
	ck_assert_int_eq(img_writer_commit(w), 0);
}

static void w_pre(unsigned last1)
{
	w_pre_as(last1, 0);
}

/* Page i of the image in fd holds fill(seed)'s page i, and its run
 * passes img_pages_check when the reader left it unchecked. */
static void page_is(const struct image *img, int fd, unsigned i,
		    unsigned seed)
{
	const struct img_process *p = &img->procs[0];
	uint8_t want[NPAGES * PS], got[PS], rec[IMG_PAGES_REC_MAX(PS)];
	uint64_t addr = BASE + i * PS;
	uint32_t k;

	fill(want, sizeof(want), seed);
	for (k = 0; k < p->nr_pages; k++) {
		const struct img_pages *pg = &p->pages[k];

		if (addr < pg->addr || addr >= pg->addr + pg->nr_pages * PS)
			continue;
		ck_assert_uint_eq(pg->src, 0);
		ck_assert_int_eq(pread_full(fd, got, PS,
					    pg->data_off + addr - pg->addr), 0);
		ck_assert_mem_eq(got, want + i * PS, PS);
		if (pg->unchecked)
			ck_assert_int_eq(img_pages_check(fd, "img", pg, PS,
							 rec), 0);
		return;
	}
	ck_abort_msg("page %u not in the image", i);
}

/* With rounds rounds, every page as w_pre writes it (or, with one
 * round, all of seed 1) */
static void check_pages_n(unsigned flags, unsigned rounds)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct image *img;
	unsigned i;

	ck_assert_int_ge(fd, 0);
	img = img_read_named_fd_flags(fd, "img", 0, flags);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_pres, rounds);
	for (i = 0; i < NPAGES; i++)
		page_is(img, fd, i, rounds == 1 ? 1 : i == 2 || i == 3 ? 2 :
			i == 4 ? 3 : 1);
	img_free(img);
	close(fd);
}

static void check_pages(unsigned flags)
{
	check_pages_n(flags, 2);
}

START_TEST(test_pre_resolved)
{
	w_pre(1);
	check_pages(0);
	check_pages(IMG_READ_DEFER_PAGES);
}
END_TEST

/* Round 0 holds all of it, so a run named by round 0 reads round 0's */
START_TEST(test_pre_older_round)
{
	int fd;
	struct image *img;
	uint8_t want[NPAGES * PS], got[PS];

	w_pre(0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	img = img_read_named_fd_flags(fd, "img", 0, 0);
	ck_assert_ptr_nonnull(img);
	fill(want, sizeof(want), 1);
	ck_assert_uint_eq(img->procs[0].pages[1].addr, BASE + 2 * PS);
	ck_assert_int_eq(pread_full(fd, got, PS,
				    img->procs[0].pages[1].data_off), 0);
	ck_assert_mem_eq(got, want + 2 * PS, PS);
	img_free(img);
	close(fd);
}
END_TEST

START_TEST(test_refuse_missing_round)
{
	w_pre(2);
	ck_assert_ptr_null(img_read_file(path, 0));
}
END_TEST

/* PRE_RUNS: the same pages as PRE_PAGES name them, read the same way */
START_TEST(test_pre_runs)
{
	struct image *a, *b;
	uint32_t k;

	w_pre_as(1, 0);
	a = img_read_file(path, 0);
	ck_assert_ptr_nonnull(a);
	w_pre_as(1, 1);
	check_pages(0);
	check_pages(IMG_READ_DEFER_PAGES);
	b = img_read_file(path, 0);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(a->procs[0].nr_pages, b->procs[0].nr_pages);
	for (k = 0; k < a->procs[0].nr_pages; k++) {
		ck_assert_uint_eq(a->procs[0].pages[k].addr,
				  b->procs[0].pages[k].addr);
		ck_assert_uint_eq(a->procs[0].pages[k].nr_pages,
				  b->procs[0].pages[k].nr_pages);
	}
	img_free(a);
	img_free(b);
	w_pre_as(2, 1);		/* a round that was never sent */
	ck_assert_ptr_null(img_read_file(path, 0));
}
END_TEST

/* Round 0 sent as two PAGES records (pages 0-3 and 4-7): a run of pages
 * 2-5 is two pieces, read from both, and the pages after it move up. */
START_TEST(test_pre_run_two_pieces)
{
	const struct img_pre_run v[] = { { BASE, 2, 0 }, { BASE + 2 * PS, 4, 0 },
					 { BASE + 6 * PS, 2, 0 } };
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_precopy(w, 10, 0), 0);
	pre_data(w, 0, 4, 1);
	pre_data(w, 4, 4, 1);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, BASE, BASE + NPAGES * PS, NULL);
	ck_assert_int_eq(img_write_pre_runs(w, v, 3), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	check_pages_n(0, 1);
	check_pages_n(IMG_READ_DEFER_PAGES, 1);
}
END_TEST

/* The writer names 1 to IMG_PRE_RUNS_MAX runs a record, each a range a
 * PAGES record could hold. */
START_TEST(test_pre_runs_writer_refuses)
{
	static struct img_pre_run v[IMG_PRE_RUNS_MAX + 1];
	struct img_writer *w = img_writer_open(path);
	uint32_t i;

	for (i = 0; i <= IMG_PRE_RUNS_MAX; i++)
		v[i] = (struct img_pre_run){ BASE + 2 * i * PS, 1, 0 };
	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, 1);
	ck_assert_int_eq(img_write_pre_runs(w, v, 0), -1);
	ck_assert_int_eq(img_write_pre_runs(w, v, IMG_PRE_RUNS_MAX + 1), -1);
	v[1].addr++;
	ck_assert_int_eq(img_write_pre_runs(w, v, 2), -1);
	v[1].addr--;
	v[1].nr_pages = 0;
	ck_assert_int_eq(img_write_pre_runs(w, v, 2), -1);
	img_writer_abort(w);
}
END_TEST

/* A PRE_RUNS record whose count says other than its payload, or none. */
START_TEST(test_pre_runs_refused)
{
	uint8_t p[4 + 2 * 20] = { 0 }, *buf;
	size_t len;

	w_pre_as(1, 1);
	put_le32(p, 2);
	put_le64(p + 4, BASE + 6 * PS);
	put_le64(p + 12, 1);
	put_le64(p + 24, BASE + 7 * PS);
	put_le64(p + 32, 1);
	buf = load(path, &len);
	buf = splice_record(buf, &len, IMG_REC_PRE_RUNS, p, 4 + 20);
	expect_refused(buf, len, 0, "payload too short for 2 runs");
	free(buf);
	buf = load(path, &len);
	buf = splice_record(buf, &len, IMG_REC_PRE_RUNS, p, 4 + 2 * 20 - 1);
	expect_refused(buf, len, 0, "payload too short");
	free(buf);
	put_le32(p, 1);
	buf = load(path, &len);
	buf = splice_record(buf, &len, IMG_REC_PRE_RUNS, p, 4 + 2 * 20);
	expect_refused(buf, len, 0, "bytes of junk");
	free(buf);
	put_le32(p, 0);
	buf = load(path, &len);
	buf = splice_record(buf, &len, IMG_REC_PRE_RUNS, p, 4);
	expect_refused(buf, len, 0, "no runs");
	free(buf);
}
END_TEST

/* round 1 holds pages 2-3 only */
START_TEST(test_refuse_not_held)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_precopy(w, 10, 1), 0);
	pre_data(w, 2, 2, 2);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, BASE, BASE + NPAGES * PS, NULL);
	ck_assert_int_eq(img_write_pre_pages(w, BASE + 2 * PS, 3, 1), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	ck_assert_ptr_null(img_read_file(path, 0));
}
END_TEST

START_TEST(test_refuse_late_precopy)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, 1);
	ck_assert_int_eq(img_write_precopy(w, 10, 0), -1);
	img_writer_abort(w);
}
END_TEST

/*
 * From a file, small reads go through a window of 64 KiB (reader.c):
 * with a first VMA path of k bytes, every shift of the records against
 * its end (a record's CRC straddling it among them) reads the same as
 * the image in memory.
 */
START_TEST(test_window_shifts)
{
	struct image *a, *b;
	char name[256];
	uint8_t *buf;
	size_t len;
	unsigned k, i;
	int fd;

	for (k = 0; k < 48; k++) {
		struct img_writer *w = img_writer_open(path);

		ck_assert_ptr_nonnull(w);
		w_header(w);
		w_proc(w, 10, 1);
		w_thread(w, 10);
		for (i = 0; i < 700; i++) {
			snprintf(name, sizeof(name), "/%0*u",
				 (int)(1 + (i * 7 + (i ? 0 : k)) % 200), i);
			w_vma(w, BASE + i * 2 * PS, BASE + (i * 2 + 1) * PS,
			      name);
		}
		ck_assert_int_eq(img_writer_commit(w), 0);
		fd = open(path, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		a = img_read_named_fd_flags(fd, "img", 0, 0);
		close(fd);
		buf = load(path, &len);
		b = img_read_buf(buf, len, 0);
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(a->procs[0].nr_vmas, 700);
		ck_assert_uint_eq(b->procs[0].nr_vmas, 700);
		for (i = 0; i < 700; i++)
			ck_assert_str_eq(a->procs[0].vmas[i].path,
					 b->procs[0].vmas[i].path);
		img_free(a);
		img_free(b);
		free(buf);
	}
}
END_TEST

/* img_read_follow: the image written out to a second file a few bytes
 * at a time, as serve writes a migration's frames, more() adding the
 * next piece. */
struct grow {
	const uint8_t *img;
	size_t len, at, step, stop;	/* stop: the stream ends there */
	int fd, calls;
};

static int grow_more(void *arg, uint64_t *size)
{
	struct grow *g = arg;
	size_t n = g->step;

	g->calls++;
	*size = g->at;
	if (g->at == g->len)
		return 1;	/* all in already */
	if (n > g->stop - g->at)
		n = g->stop - g->at;
	if (!n)
		return -1;	/* it stopped coming */
	ck_assert_int_eq(write(g->fd, g->img + g->at, n), (ssize_t)n);
	g->at += n;
	*size = g->at;
	return g->at == g->len;
}

/* The followed image of w_pre(1) read from its first stop bytes, in
 * pieces of step: NULL when the stream ends early */
static struct image *follow(size_t first, size_t step, size_t stop,
			    unsigned flags, int *calls)
{
	char grown[160];
	struct grow g = { .step = step };
	struct image *img;

	w_pre(1);
	g.img = load(path, &g.len);
	g.stop = stop ? stop : g.len;
	snprintf(grown, sizeof(grown), "%s.grown", path);
	g.fd = open(grown, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(g.fd, 0);
	if (first > g.len)
		first = g.len;
	ck_assert_int_eq(write(g.fd, g.img, first), (ssize_t)first);
	g.at = first;
	img = img_read_follow(g.fd, "img", 0, flags, grow_more, &g);
	*calls = g.calls;
	close(g.fd);
	free((void *)g.img);
	return img;
}

START_TEST(test_follow)
{
	static const size_t steps[] = { 7, 4093, 4096, 100000 };
	struct image *img;
	unsigned i, d;
	int calls;

	for (d = 0; d < 2; d++)
		for (i = 0; i < 4; i++) {
			img = follow(0, steps[i], 0,
				     d ? IMG_READ_DEFER_PAGES : 0, &calls);
			ck_assert_ptr_nonnull(img);
			ck_assert_int_gt(calls, 0);
			ck_assert_uint_eq(img->nr_pres, 2);
			ck_assert_uint_eq(img->procs[0].nr_pages, 4);
			img_free(img);
		}
	/* all there at the start: more() still asked whether it ends */
	img = follow(1u << 30, 1, 0, 0, &calls);
	ck_assert_ptr_nonnull(img);
	img_free(img);
}
END_TEST

/* a stream that stops short anywhere is refused, a damaged one too */
START_TEST(test_follow_cut)
{
	size_t len, at;
	uint8_t *b;
	int calls;

	w_pre(1);
	b = load(path, &len);
	free(b);
	for (at = 1; at < len; at += at < 300 ? 1 : len / 61)
		ck_assert_ptr_null(follow(0, 4096, at, 0, &calls));
	ck_assert_ptr_null(follow(0, 4096, len - 1, 0, &calls));
}
END_TEST

static Suite *image_pre_suite(void)
{
	Suite *s = suite_create("image-pre");
	TCase *tc = image_tcase(s, "pre");

	add(tc, test_pre_resolved);
	add(tc, test_pre_older_round);
	add(tc, test_refuse_missing_round);
	add(tc, test_pre_runs);
	add(tc, test_pre_run_two_pieces);
	add(tc, test_pre_runs_writer_refuses);
	add(tc, test_pre_runs_refused);
	add(tc, test_refuse_not_held);
	add(tc, test_refuse_late_precopy);
	add(tc, test_window_shifts);
	add(tc, test_follow);
	add(tc, test_follow_cut);
	return s;
}

CHECK_MAIN(image_pre_suite)
