/*
 * check_image_incr: incremental images (codec-incr.c, chain.c): a child's
 * PARENT_PAGES resolved into the parent's runs (with src and data_off
 * that read the parent's bytes), a chain of three, and the refusals: a
 * parent whose id is not the child's parent_id, a missing parent,
 * PARENT_PAGES in an image without a parent, IDENT not first.
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

static int open_ro(const char *p, void *arg)
{
	(void)arg;
	return open(p, O_RDONLY | O_CLOEXEC);
}

/* An image at name in dir: id, parent (id, path), pages [from, to) of
 * seed, the rest of the VMA's 8 pages its parent's. */
static void w_image(const char *name, uint64_t id, uint64_t parent_id,
		    const char *parent, unsigned from, unsigned to,
		    unsigned seed)
{
	struct img_ident ident = { id, parent_id, (char *)parent };
	uint8_t b[NPAGES * PS];
	char p[256];
	struct img_writer *w;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	w = img_writer_open(p);
	ck_assert_ptr_nonnull(w);
	fill(b, sizeof(b), seed);
	w_header(w);
	ck_assert_int_eq(img_write_ident(w, &ident), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, BASE, BASE + NPAGES * PS, NULL);
	if (parent_id && from)
		ck_assert_int_eq(img_write_parent_pages(w, BASE, from), 0);
	ck_assert_int_eq(img_write_pages_begin(w, BASE + from * PS,
					       to - from), 0);
	ck_assert_int_eq(img_write_pages_data(w, b + from * PS,
					      (to - from) * PS), 0);
	ck_assert_int_eq(img_write_pages_end(w), 0);
	if (parent_id && to < NPAGES)
		ck_assert_int_eq(img_write_parent_pages(w, BASE + to * PS,
							NPAGES - to), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
}

static struct image *read_chain(const char *name)
{
	struct image *img;
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	img = img_read_file(p, 0);
	if (img && img_read_chain(img, p, open_ro, NULL)) {
		img_free(img);
		return NULL;
	}
	return img;
}

/* Page i of the resolved image (own, its file) holds fill(seed)'s
 * page i. */
static void page_is(const struct image *img, int own, unsigned i,
		    unsigned seed)
{
	const struct img_process *p = &img->procs[0];
	uint8_t want[NPAGES * PS], got[PS];
	uint64_t addr = BASE + i * PS;
	uint32_t k;

	fill(want, sizeof(want), seed);
	for (k = 0; k < p->nr_pages; k++) {
		const struct img_pages *pg = &p->pages[k];

		if (addr < pg->addr || addr >= pg->addr + pg->nr_pages * PS)
			continue;
		ck_assert_int_eq(pread_full(img_chain_fd(img, pg, own), got,
					    PS, pg->data_off + addr - pg->addr),
				 0);
		ck_assert_mem_eq(got, want + i * PS, PS);
		return;
	}
	ck_abort_msg("page %u not in the image", i);
}

START_TEST(test_chain_of_three)
{
	struct image *img;
	char p[256];
	unsigned i;
	int own;

	w_image("full.ckpt", 5, 0, NULL, 0, NPAGES, 1);
	w_image("c1.ckpt", 6, 5, "full.ckpt", 2, 4, 2);
	w_image("c2.ckpt", 7, 6, "c1.ckpt", 3, 5, 3);
	img = read_chain("c2.ckpt");
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_chain, 2);
	snprintf(p, sizeof(p), "%s/c2.ckpt", dir);
	own = open(p, O_RDONLY);
	ck_assert_int_ge(own, 0);
	for (i = 0; i < NPAGES; i++)
		page_is(img, own, i, i == 2 ? 2 : i >= 3 && i < 5 ? 3 : 1);
	close(own);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_foreign_parent)
{
	w_image("full.ckpt", 5, 0, NULL, 0, NPAGES, 1);
	w_image("c1.ckpt", 6, 9, "full.ckpt", 2, 4, 2);
	ck_assert_ptr_null(read_chain("c1.ckpt"));
}
END_TEST

START_TEST(test_refuse_missing_parent)
{
	w_image("c1.ckpt", 6, 5, "full.ckpt", 2, 4, 2);
	ck_assert_ptr_null(read_chain("c1.ckpt"));
}
END_TEST

START_TEST(test_refuse_parent_pages_without_parent)
{
	struct img_ident ident = { 5, 0, NULL };
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_ident(w, &ident), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, BASE, BASE + NPAGES * PS, NULL);
	ck_assert_int_eq(img_write_parent_pages(w, BASE, 1), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	ck_assert_ptr_null(img_read_file(path, 0));
}
END_TEST

static Suite *image_incr_suite(void)
{
	Suite *s = suite_create("image-incr");
	TCase *tc = image_tcase(s, "chain");

	add(tc, test_chain_of_three);
	add(tc, test_refuse_foreign_parent);
	add(tc, test_refuse_missing_parent);
	add(tc, test_refuse_parent_pages_without_parent);
	return s;
}

CHECK_MAIN(image_incr_suite)
