/*
 * check_image: the image format. CRC32C against its check value and the
 * hardware against the software path; a full image written, read back and
 * compared field by field; the file sink's visibility rules; and one
 * refusal test per kind of damage the reader must catch.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "image/image.h"
#include "image/image-priv.h"

#define PS	4096u

static char dir[64];
static char path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/check_image.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/img.ckpt", dir);
	log_init("check_image", LOG_ERR);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int dir_entries(void)
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

static uint8_t *load(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc(st.st_size + PS);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read_full(fd, buf, st.st_size), 0);
	close(fd);
	*len = st.st_size;
	return buf;
}

/* ---- building blocks ---------------------------------------------------- */

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void w_header(struct img_writer *w)
{
	struct img_header h = {
		.isa = IMG_ISA_X86_64, .page_size = PS, .created = 1700000000,
	};

	strcpy(h.kernel, "6.1.0-test");
	ck_assert_int_eq(img_write_header(w, &h), 0);
}

static void w_proc_of(struct img_writer *w, int32_t pid, int32_t ppid,
		      uint32_t nr_threads)
{
	static uint64_t auxv[] = { 6, 4096, 25, 0x7ffd1000, 0, 0 };
	static uint32_t groups[] = { 24, 27, 1000 };
	struct img_proc p = {
		.pid = pid, .ppid = ppid, .pgid = pid, .sid = 1, .umask = 022,
		.personality = 0, .uid = 1000, .gid = 1000,
		.nr_threads = nr_threads, .exe = "/usr/bin/test",
		.cwd = "/home/u", .root = NULL,
		.mm = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 },
		.nr_auxv = 6, .auxv = auxv, .nr_rlimits = 3,
		.rlimits = { { 1, 2 }, { 3, ~0ull }, { ~0ull, ~0ull } },
		.euid = 1001, .suid = 1002, .egid = 1003, .sgid = 1004,
		.nr_groups = 3, .groups = groups,
		.itimers = { { 1, 2 }, { 3, 4 }, { 5, 6 } },
		.no_new_privs = 1,
	};

	strcpy(p.comm, "testproc");
	ck_assert_int_eq(img_write_proc(w, &p), 0);
}

static void w_proc(struct img_writer *w, int32_t pid, uint32_t nr_threads)
{
	w_proc_of(w, pid, 1, nr_threads);
}

static void w_zombie(struct img_writer *w, int32_t pid, int32_t ppid,
		     uint32_t status)
{
	struct img_proc p = {
		.pid = pid, .ppid = ppid, .pgid = 77, .sid = 1,
		.exit_status = status,
	};

	strcpy(p.comm, "undead");
	ck_assert_int_eq(img_write_zombie(w, &p), 0);
}

static void w_thread(struct img_writer *w, int32_t tid)
{
	uint64_t regs[27];
	uint8_t xs[512];
	struct img_siginfo si[2] = { { .shared = 1 }, { .shared = 0 } };
	struct img_thread t = {
		.tid = tid, .regs_isa = IMG_ISA_X86_64, .nr_regs = 27,
		.regs = regs, .xstate_len = sizeof(xs), .xstate = xs,
		.sigmask = 0x4002, .clear_tid = 0x7f00, .robust_list = 0x7f10,
		.robust_len = 24, .rseq = 0x7f20, .rseq_sig = 0x53053053,
		.rseq_len = 32, .ss_flags = 2, .ss_sp = 0x9000,
		.ss_size = 8192, .nr_siginfo = 2, .siginfo = si,
	};
	int i;

	for (i = 0; i < 27; i++)
		regs[i] = (uint64_t)tid << 32 | i;
	fill(xs, sizeof(xs), tid);
	fill(si[0].data, IMG_SIGINFO_SIZE, 1);
	fill(si[1].data, IMG_SIGINFO_SIZE, 2);
	ck_assert_int_eq(img_write_thread(w, &t), 0);
}

static void w_vma(struct img_writer *w, uint64_t start, uint64_t end,
		  const char *vpath)
{
	struct img_vma v = {
		.start = start, .end = end, .pgoff = 0x1000, .prot = 5,
		.flags = vpath ? IMG_VMA_FILE : IMG_VMA_ANON,
		.advice = IMG_ADV_DONTFORK, .dev = 0x801, .ino = 1234,
		.path = (char *)vpath,
	};

	ck_assert_int_eq(img_write_vma(w, &v), 0);
}

static void w_pages(struct img_writer *w, uint64_t addr, uint64_t n)
{
	uint8_t *b = malloc(n * PS);

	ck_assert_ptr_nonnull(b);
	fill(b, n * PS, (unsigned)(addr >> 12));
	ck_assert_int_eq(img_write_pages_begin(w, addr, n), 0);
	/* in two uneven pieces, the way a dumper may read them */
	ck_assert_int_eq(img_write_pages_data(w, b, 100), 0);
	ck_assert_int_eq(img_write_pages_data(w, b + 100, n * PS - 100), 0);
	ck_assert_int_eq(img_write_pages_end(w), 0);
	free(b);
}

static void w_fd(struct img_writer *w, int32_t fd, uint32_t type,
		 const char *fpath)
{
	struct img_fd f = {
		.fd = fd, .type = type, .flags = O_RDWR, .fdflags = 1,
		.pos = 77, .mode = 0100644, .dev = 5, .ino = 6, .size = 99,
		.path = (char *)fpath,
	};

	ck_assert_int_eq(img_write_fd(w, &f), 0);
}

static void w_sigacts(struct img_writer *w)
{
	struct img_sigact a[IMG_NSIG];
	int i;

	for (i = 0; i < IMG_NSIG; i++)
		a[i] = (struct img_sigact){ i, i + 100, i + 200, 1ull << i };
	ck_assert_int_eq(img_write_sigacts(w, a), 0);
}

/* The image of the round trip: two processes, every record type. */
static void write_full_image(struct img_writer *w)
{
	w_header(w);
	w_proc(w, 100, 2);
	w_thread(w, 100);
	w_vma(w, 0x400000, 0x403000, "/usr/bin/test");
	w_thread(w, 101);
	w_vma(w, 0x600000, 0x604000, NULL);
	w_vma(w, 0x7ffd0000, 0x7ffd2000, "[stack]");
	w_pages(w, 0x400000, 2);
	w_pages(w, 0x603000, 1);
	w_pages(w, 0x7ffd1000, 1);
	w_fd(w, 0, IMG_FD_TTY, NULL);
	w_fd(w, 1, IMG_FD_INHERIT, NULL);
	w_fd(w, 5, IMG_FD_REG, "/tmp/data");
	w_sigacts(w);
	w_zombie(w, 150, 100, 7 << 8);
	w_proc(w, 200, 1);
	w_thread(w, 200);
	w_vma(w, 0x10000, 0x11000, NULL);
	w_pages(w, 0x10000, 1);
	w_zombie(w, 250, 200, SIGSEGV | 0x80);
}

/* A small valid image: one process, one thread, one VMA, one page. */
static uint8_t *small_image(size_t *len)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, 0x1000, 0x2000, NULL);
	w_pages(w, 0x1000, 1);
	w_fd(w, 3, IMG_FD_REG, "/x");
	ck_assert_int_eq(img_writer_commit(w), 0);
	return load(path, len);
}

/*
 * Reads buf, which must be refused with exactly one line on stderr that
 * contains want.
 */
static void expect_refused(const void *buf, size_t len, uint32_t isa,
			   const char *want)
{
	char out[1024] = "";
	int fd, saved, lines = 0;
	struct image *img;
	ssize_t n;
	char *p;

	fd = memfd_create("stderr", 0);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	img = img_read_buf(buf, len, isa);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	close(fd);
	ck_assert_ptr_null(img);
	ck_assert_int_gt(n, 0);
	for (p = out; *p; p++)
		lines += *p == '\n';
	ck_assert_msg(lines == 1, "%d lines: %s", lines, out);
	ck_assert_msg(strstr(out, want), "wanted \"%s\", got: %s", want, out);
}

static void expect_file_refused(const char *want)
{
	size_t len;
	uint8_t *buf = load(path, &len);

	expect_refused(buf, len, IMG_ISA_X86_64, want);
	free(buf);
}

static void fix_header_crc(uint8_t *b)
{
	put_le32(b + IMG_HDR_CRC_OFF, img_crc32c(0, b, IMG_HDR_CRC_OFF));
}

/* ---- CRC32C ------------------------------------------------------------- */

START_TEST(test_crc_check_value)
{
	const char *s = "123456789";

	ck_assert_uint_eq(img_crc32c(0, s, 9), 0xE3069283u);
	ck_assert_uint_eq(img_crc32c_sw(0, s, 9), 0xE3069283u);
	ck_assert_uint_eq(img_crc32c(img_crc32c(0, s, 4), s + 4, 5),
			  0xE3069283u);
	ck_assert_uint_eq(img_crc32c_sw(img_crc32c_sw(0, s, 3), s + 3, 6),
			  0xE3069283u);
	ck_assert_uint_eq(img_crc32c(0, s, 0), 0);
}
END_TEST

START_TEST(test_crc_hw_matches_sw)
{
	static uint8_t buf[8192];
	size_t off, len;
	uint32_t hw;
	unsigned i;

	srandom(42);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = random();
	hw = 0;
	if (arch_crc32c(&hw, buf, 1) < 0)
		return;	/* no hardware CRC32C: nothing to compare */
	for (i = 0; i < 3000; i++) {
		off = random() % 16;
		len = i < 200 ? i : (size_t)random() % (sizeof(buf) - 16);
		hw = i;
		ck_assert_int_eq(arch_crc32c(&hw, buf + off, len), 0);
		ck_assert_uint_eq(hw, img_crc32c_sw(i, buf + off, len));
	}
}
END_TEST

/* ---- round trip --------------------------------------------------------- */

static void check_proc1(const struct img_process *p)
{
	ck_assert_int_eq(p->proc.pid, 100);
	ck_assert_int_eq(p->proc.ppid, 1);
	ck_assert_uint_eq(p->proc.umask, 022);
	ck_assert_uint_eq(p->proc.uid, 1000);
	ck_assert_str_eq(p->proc.comm, "testproc");
	ck_assert_str_eq(p->proc.exe, "/usr/bin/test");
	ck_assert_str_eq(p->proc.cwd, "/home/u");
	ck_assert_ptr_null(p->proc.root);
	ck_assert_uint_eq(p->proc.mm.start_code, 1);
	ck_assert_uint_eq(p->proc.mm.env_end, 11);
	ck_assert_uint_eq(p->proc.nr_auxv, 6);
	ck_assert_uint_eq(p->proc.auxv[3], 0x7ffd1000);
	ck_assert_uint_eq(p->proc.nr_rlimits, 3);
	ck_assert_uint_eq(p->proc.rlimits[1].max, ~0ull);
	ck_assert_uint_eq(p->proc.rlimits[0].cur, 1);
	ck_assert_uint_eq(p->proc.euid, 1001);
	ck_assert_uint_eq(p->proc.suid, 1002);
	ck_assert_uint_eq(p->proc.egid, 1003);
	ck_assert_uint_eq(p->proc.sgid, 1004);
	ck_assert_uint_eq(p->proc.nr_groups, 3);
	ck_assert_uint_eq(p->proc.groups[2], 1000);
	ck_assert_uint_eq(p->proc.itimers[0].interval_us, 1);
	ck_assert_uint_eq(p->proc.itimers[2].value_us, 6);
	ck_assert_uint_eq(p->proc.no_new_privs, 1);
	ck_assert_uint_eq(p->proc.nr_threads, 2);
	ck_assert_uint_eq(p->nr_threads, 2);
}

static void check_thread(const struct img_thread *t, int32_t tid)
{
	uint8_t xs[512], si[IMG_SIGINFO_SIZE];

	ck_assert_int_eq(t->tid, tid);
	ck_assert_uint_eq(t->regs_isa, IMG_ISA_X86_64);
	ck_assert_uint_eq(t->nr_regs, 27);
	ck_assert_uint_eq(t->regs[26], (uint64_t)tid << 32 | 26);
	ck_assert_uint_eq(t->xstate_len, 512);
	fill(xs, sizeof(xs), tid);
	ck_assert_mem_eq(t->xstate, xs, sizeof(xs));
	ck_assert_uint_eq(t->sigmask, 0x4002);
	ck_assert_uint_eq(t->robust_len, 24);
	ck_assert_uint_eq(t->rseq_sig, 0x53053053);
	ck_assert_uint_eq(t->rseq_len, 32);
	ck_assert_uint_eq(t->ss_size, 8192);
	ck_assert_uint_eq(t->nr_siginfo, 2);
	ck_assert_uint_eq(t->siginfo[0].shared, 1);
	ck_assert_uint_eq(t->siginfo[1].shared, 0);
	fill(si, sizeof(si), 2);
	ck_assert_mem_eq(t->siginfo[1].data, si, sizeof(si));
}

static void check_vmas(const struct img_process *p)
{
	ck_assert_uint_eq(p->nr_vmas, 3);
	ck_assert_uint_eq(p->vmas[0].start, 0x400000);
	ck_assert_uint_eq(p->vmas[0].end, 0x403000);
	ck_assert_str_eq(p->vmas[0].path, "/usr/bin/test");
	ck_assert_uint_eq(p->vmas[0].flags, IMG_VMA_FILE);
	ck_assert_uint_eq(p->vmas[0].prot, 5);
	ck_assert_uint_eq(p->vmas[0].pgoff, 0x1000);
	ck_assert_uint_eq(p->vmas[0].advice, IMG_ADV_DONTFORK);
	ck_assert_uint_eq(p->vmas[0].ino, 1234);
	ck_assert_ptr_null(p->vmas[1].path);
	ck_assert_str_eq(p->vmas[2].path, "[stack]");
}

static void check_page_data(int fd, const struct img_pages *pg)
{
	size_t n = pg->nr_pages * PS;
	uint8_t *got = malloc(n), *want = malloc(n);

	ck_assert_uint_eq(pg->data_off % 4096, 0);
	ck_assert_int_eq(pread_full(fd, got, n, pg->data_off), 0);
	fill(want, n, (unsigned)(pg->addr >> 12));
	ck_assert_mem_eq(got, want, n);
	free(got);
	free(want);
}

static void check_fds_sigacts(const struct img_process *p)
{
	ck_assert_uint_eq(p->nr_fds, 3);
	ck_assert_int_eq(p->fds[0].fd, 0);
	ck_assert_uint_eq(p->fds[0].type, IMG_FD_TTY);
	ck_assert_ptr_null(p->fds[0].path);
	ck_assert_int_eq(p->fds[2].fd, 5);
	ck_assert_str_eq(p->fds[2].path, "/tmp/data");
	ck_assert_uint_eq(p->fds[2].flags, O_RDWR);
	ck_assert_uint_eq(p->fds[2].pos, 77);
	ck_assert_uint_eq(p->fds[2].mode, 0100644);
	ck_assert_uint_eq(p->fds[2].size, 99);
	ck_assert_int_eq(p->has_sigacts, 1);
	ck_assert_uint_eq(p->sigacts[63].mask, 1ull << 63);
	ck_assert_uint_eq(p->sigacts[10].restorer, 210);
}

static void check_zombie(const struct img_process *p, int32_t pid,
			 int32_t ppid, uint32_t status)
{
	ck_assert_uint_eq(p->proc.zombie, 1);
	ck_assert_int_eq(p->proc.pid, pid);
	ck_assert_int_eq(p->proc.ppid, ppid);
	ck_assert_int_eq(p->proc.pgid, 77);
	ck_assert_int_eq(p->proc.sid, 1);
	ck_assert_uint_eq(p->proc.exit_status, status);
	ck_assert_str_eq(p->proc.comm, "undead");
	ck_assert_uint_eq(p->proc.nr_threads, 0);
	ck_assert_uint_eq(p->nr_threads, 0);
	ck_assert_uint_eq(p->nr_vmas, 0);
	ck_assert_uint_eq(p->nr_pages, 0);
	ck_assert_uint_eq(p->nr_fds, 0);
	ck_assert_int_eq(p->has_sigacts, 0);
	ck_assert_ptr_null(p->proc.exe);
}

START_TEST(test_roundtrip)
{
	struct img_writer *w = img_writer_open(path);
	const struct img_process *p;
	struct image *img;
	uint32_t i;
	int fd;

	ck_assert_ptr_nonnull(w);
	write_full_image(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->hdr.version, IMG_VERSION);
	ck_assert_uint_eq(img->hdr.page_size, PS);
	ck_assert_uint_eq(img->hdr.created, 1700000000);
	ck_assert_str_eq(img->hdr.kernel, "6.1.0-test");
	ck_assert_uint_eq(img->nr_procs, 4);
	p = &img->procs[0];
	ck_assert_uint_eq(p->proc.zombie, 0);
	check_proc1(p);
	check_thread(&p->threads[0], 100);
	check_thread(&p->threads[1], 101);
	check_vmas(p);
	check_fds_sigacts(p);
	ck_assert_uint_eq(p->nr_pages, 3);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < p->nr_pages; i++)
		check_page_data(fd, &p->pages[i]);
	check_zombie(&img->procs[1], 150, 100, 7 << 8);
	p = &img->procs[2];
	ck_assert_int_eq(p->proc.pid, 200);
	ck_assert_uint_eq(p->nr_threads, 1);
	ck_assert_uint_eq(p->nr_vmas, 1);
	ck_assert_uint_eq(p->nr_fds, 0);
	ck_assert_int_eq(p->has_sigacts, 0);
	check_page_data(fd, &p->pages[0]);
	check_zombie(&img->procs[3], 250, 200, SIGSEGV | 0x80);
	close(fd);
	img_free(img);
}
END_TEST

/* img_read_fd reads with pread: the file position does not matter */
START_TEST(test_read_fd_any_position)
{
	struct image *img;
	size_t len;
	uint8_t *buf = small_image(&len);
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lseek(fd, 1234, SEEK_SET), 1234);
	img = img_read_fd(fd, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->size, len);
	ck_assert_uint_eq(img->procs[0].pages[0].data_off % PS, 0);
	img_free(img);
	img = img_read_buf(buf, len, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[0].pages[0].data_off % PS, 0);
	ck_assert_uint_lt(img->procs[0].pages[0].data_off + PS, len);
	img_free(img);
	close(fd);
	free(buf);
}
END_TEST

/*
 * Page data larger than the sink's buffer goes straight to write(2), and
 * the reader checksums it in chunks: both paths, and a flipped byte deep
 * inside the data caught through img_read_file.
 */
START_TEST(test_large_pages)
{
	const uint64_t n = 600;
	struct img_writer *w = img_writer_open(path);
	uint8_t *b = malloc(n * PS), *got = malloc(n * PS), x;
	struct image *img;
	int fd;

	ck_assert_ptr_nonnull(w);
	fill(b, n * PS, 9);
	w_header(w);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, 0x100000, 0x100000 + n * PS, NULL);
	ck_assert_int_eq(img_write_pages_begin(w, 0x100000, n), 0);
	ck_assert_int_eq(img_write_pages_data(w, b, n * PS), 0);
	ck_assert_int_eq(img_write_pages_end(w), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread_full(fd, got, n * PS,
				    img->procs[0].pages[0].data_off), 0);
	ck_assert_mem_eq(got, b, n * PS);
	/* one byte in the last 256 KiB chunk */
	ck_assert_int_eq(pread_full(fd, &x, 1, img->size - 5000), 0);
	x ^= 4;
	ck_assert_int_eq(pwrite(fd, &x, 1, img->size - 5000), 1);
	close(fd);
	img_free(img);
	log_init("check_image", -1);
	ck_assert_ptr_null(img_read_file(path, 0));
	free(b);
	free(got);
}
END_TEST

/* ---- the file sink ------------------------------------------------------ */

START_TEST(test_file_mode_0600)
{
	struct img_writer *w;
	struct stat st;

	umask(0);
	w = img_writer_open(path);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 1, 1);
	w_thread(w, 1);
	ck_assert_int_eq(img_writer_commit(w), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(dir_entries(), 1);
}
END_TEST

START_TEST(test_nothing_at_path_before_commit)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	write_full_image(w);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_gt(img_writer_offset(w), 5 * PS);
	ck_assert_int_eq(img_writer_commit(w), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(dir_entries(), 1);
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	write_full_image(w);
	ck_assert_int_eq(dir_entries(), 1);	/* the temporary file */
	img_writer_abort(w);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

START_TEST(test_writer_call_order)
{
	struct img_writer *w = img_writer_open(path);
	struct img_proc p = { .pid = 1, .nr_threads = 1 };
	uint8_t page[PS] = { 0 };

	ck_assert_ptr_nonnull(w);
	log_init("check_image", -1);
	ck_assert_int_eq(img_write_proc(w, &p), -1);	/* before header */
	w_header(w);
	ck_assert_int_eq(img_write_pages_begin(w, 0x1000, 1), -1);
	w_proc(w, 1, 1);
	ck_assert_int_eq(img_write_pages_data(w, page, PS), -1);
	ck_assert_int_eq(img_write_pages_end(w), -1);
	ck_assert_int_eq(img_write_pages_begin(w, 0x1001, 1), -1);
	ck_assert_int_eq(img_write_pages_begin(w, 0x1000, 2), 0);
	ck_assert_int_eq(img_write_proc(w, &p), -1);	/* inside PAGES */
	ck_assert_int_eq(img_write_pages_data(w, page, PS), 0);
	ck_assert_int_eq(img_write_pages_end(w), -1);	/* a page short */
	ck_assert_int_eq(img_write_pages_data(w, page, PS + 1), -1);
	ck_assert_int_eq(img_write_pages_data(w, page, PS), 0);
	ck_assert_int_eq(img_write_pages_data(w, page, 1), -1);
	ck_assert_int_eq(img_write_pages_end(w), 0);
	ck_assert_int_eq(img_write_pages_begin(w, 0x4000, 1), 0);
	/* commit inside a PAGES record fails and removes everything */
	ck_assert_int_eq(img_writer_commit(w), -1);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

/* ---- refusals: damage --------------------------------------------------- */

START_TEST(test_refuse_every_truncation)
{
	size_t len, cut;
	uint8_t *buf = small_image(&len);
	struct image *img;

	img = img_read_buf(buf, len, 0);
	ck_assert_ptr_nonnull(img);
	img_free(img);
	expect_refused(buf, len - 1, 0, "truncated");
	expect_refused(buf, 100, 0, "truncated in header");
	log_init("check_image", -1);
	for (cut = 0; cut < len; cut++)
		ck_assert_msg(!img_read_buf(buf, cut, 0), "cut at %zu", cut);
	free(buf);
}
END_TEST

START_TEST(test_refuse_every_flipped_byte)
{
	size_t len, i;
	uint8_t *buf = small_image(&len);

	expect_refused(buf, 0, 0, "empty file");
	buf[200] ^= 1;
	expect_refused(buf, len, 0, "crc mismatch");
	buf[200] ^= 1;
	log_init("check_image", -1);
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		ck_assert_msg(!img_read_buf(buf, len, 0), "bit 0 at %zu", i);
		buf[i] ^= 0x81;
		ck_assert_msg(!img_read_buf(buf, len, 0), "bit 7 at %zu", i);
		buf[i] ^= 0x80;
	}
	free(buf);
}
END_TEST

START_TEST(test_refuse_bad_magic)
{
	size_t len;
	uint8_t *buf = small_image(&len);

	buf[3] = 'x';
	fix_header_crc(buf);
	expect_refused(buf, len, 0, "image: bad magic");
	free(buf);
}
END_TEST

START_TEST(test_refuse_other_version)
{
	size_t len;
	uint8_t *buf = small_image(&len);

	/* a valid header of version 2: only the version check stops it */
	put_le32(buf + IMG_HDR_VERSION_OFF, IMG_VERSION + 1);
	fix_header_crc(buf);
	expect_refused(buf, len, 0, "format version 2, this build reads 1");
	/* and with the CRC left alone, still refused as a version */
	put_le32(buf + IMG_HDR_VERSION_OFF, 9);
	expect_refused(buf, len, 0, "format version 9");
	free(buf);
}
END_TEST

START_TEST(test_refuse_other_isa)
{
	size_t len;
	uint8_t *buf = small_image(&len);
	struct image *img;

	expect_refused(buf, len, IMG_ISA_AARCH64,
		       "image is for x86_64, this is aarch64");
	img = img_read_buf(buf, len, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	img_free(img);
	free(buf);
}
END_TEST

START_TEST(test_refuse_trailing_garbage)
{
	size_t len;
	uint8_t *buf = small_image(&len);

	buf = realloc(buf, len + PS);
	memset(buf + len, 0, PS);
	expect_refused(buf, len + 1, 0, "1 bytes of garbage after the trailer");
	expect_refused(buf, len + PS, 0, "garbage after the trailer");
	free(buf);
}
END_TEST

START_TEST(test_refuse_corrupt_record_crc)
{
	size_t len;
	uint8_t *buf = small_image(&len);

	/* the first record's payload, past its 16-byte frame */
	buf[IMG_HEADER_SIZE + 16] ^= 0x40;
	expect_refused(buf, len, 0, "record 1 (PROC) at offset 128: crc "
		       "mismatch");
	free(buf);
}
END_TEST

/* ---- refusals: meaning (images with valid CRCs) ------------------------- */

static struct img_writer *begin_proc(uint32_t nr_threads)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, nr_threads);
	w_thread(w, 10);
	return w;
}

static void commit_expect_refused(struct img_writer *w, const char *want)
{
	ck_assert_int_eq(img_writer_commit(w), 0);
	expect_file_refused(want);
}

START_TEST(test_refuse_overlapping_vmas)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x1000, 0x3000, NULL);
	w_vma(w, 0x2000, 0x4000, NULL);
	commit_expect_refused(w, "record 4 (VMA) at offset");
}
END_TEST

START_TEST(test_refuse_unsorted_vmas)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x5000, 0x6000, NULL);
	w_vma(w, 0x1000, 0x2000, NULL);
	commit_expect_refused(w, "not after the one before");
}
END_TEST

START_TEST(test_refuse_pages_outside_vma)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x1000, 0x3000, NULL);
	w_vma(w, 0x3000, 0x5000, NULL);
	w_pages(w, 0x8000, 1);
	commit_expect_refused(w, "(PAGES) at offset");
}
END_TEST

START_TEST(test_refuse_pages_across_vmas)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x1000, 0x3000, NULL);
	w_vma(w, 0x3000, 0x5000, NULL);
	w_pages(w, 0x2000, 2);	/* adjacent VMAs: still two of them */
	commit_expect_refused(w, "not inside one vma");
}
END_TEST

START_TEST(test_refuse_overlapping_pages)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x1000, 0x9000, NULL);
	w_pages(w, 0x4000, 2);
	w_pages(w, 0x2000, 3);
	commit_expect_refused(w, "overlap those of record 5");
}
END_TEST

START_TEST(test_refuse_thread_count_mismatch)
{
	struct img_writer *w = begin_proc(2);

	commit_expect_refused(w, "1 THREAD records, its PROC says 2");
}
END_TEST

START_TEST(test_refuse_too_many_threads)
{
	struct img_writer *w = begin_proc(1);

	w_thread(w, 11);
	commit_expect_refused(w, "more THREAD records");
}
END_TEST

START_TEST(test_refuse_duplicate_tid)
{
	struct img_writer *w = begin_proc(2);

	w_thread(w, 10);
	commit_expect_refused(w, "thread 10 appears twice");
}
END_TEST

START_TEST(test_refuse_duplicate_fd)
{
	struct img_writer *w = begin_proc(1);

	w_fd(w, 4, IMG_FD_REG, "/a");
	w_fd(w, 4, IMG_FD_REG, "/b");
	commit_expect_refused(w, "fd 4 appears twice");
}
END_TEST

START_TEST(test_refuse_bad_fd)
{
	struct img_writer *w = begin_proc(1);

	w_fd(w, 3, 99, "/a");
	commit_expect_refused(w, "bad fd type 99");
}
END_TEST

START_TEST(test_refuse_two_sigacts)
{
	struct img_writer *w = begin_proc(1);

	w_sigacts(w);
	w_sigacts(w);
	commit_expect_refused(w, "second SIGACTS");
}
END_TEST

START_TEST(test_refuse_unaligned_vma)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x1000, 0x2800, NULL);
	commit_expect_refused(w, "end 0x2800 not page aligned");
}
END_TEST

START_TEST(test_refuse_high_vma)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x1000, 1ull << 57, NULL);
	commit_expect_refused(w, "too high");
}
END_TEST

START_TEST(test_refuse_no_process)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	/* the writer refuses a trailer before any PROC */
	log_init("check_image", -1);
	ck_assert_int_eq(img_writer_commit(w), -1);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

/* ---- refusals: zombies ------------------------------------------------- */

START_TEST(test_exit_status_values)
{
	static const uint32_t good[] = { 0, 7 << 8, 0xff00, SIGTERM, SIGKILL,
					 SIGSEGV | 0x80, 64, 64 | 0x80 };
	static const uint32_t bad[] = { 0x7f, 0x17f, 65, 0x80 | 65, 0x10000,
					0x700 | SIGTERM, 0x80, 0xffffffff };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		ck_assert_msg(img_exit_status_ok(good[i]), "%#x", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!img_exit_status_ok(bad[i]), "%#x", bad[i]);
}
END_TEST

START_TEST(test_refuse_zombie_bad_status)
{
	static const uint32_t bad[] = { 0x7f, 0x17f, 65, 0x10000,
					0x700 | SIGTERM, 0x80 };
	char want[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct img_writer *w = begin_proc(1);

		w_zombie(w, 11, 10, bad[i]);
		snprintf(want, sizeof(want), "zombie 11: bad exit status %#x",
			 bad[i]);
		commit_expect_refused(w, want);
	}
}
END_TEST

START_TEST(test_refuse_zombie_bad_ids)
{
	struct img_writer *w = begin_proc(1);
	struct img_proc z = { .pid = 11, .ppid = 10, .pgid = 0, .sid = 1 };

	ck_assert_int_eq(img_write_zombie(w, &z), 0);
	commit_expect_refused(w, "zombie 11: bad group 0 or session 1");
	w = begin_proc(1);
	w_zombie(w, 11, 0, 0);
	commit_expect_refused(w, "zombie 11: bad ppid 0");
	w = begin_proc(1);
	w_zombie(w, -5, 10, 0);
	commit_expect_refused(w, "bad pid -5");
}
END_TEST

START_TEST(test_refuse_zombie_without_parent)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 12, 0);
	commit_expect_refused(w, "zombie 11: its parent 12 is not a live "
			      "process before it");
	/* the parent after its zombie */
	w = begin_proc(1);
	w_zombie(w, 11, 12, 0);
	w_proc_of(w, 12, 10, 1);
	w_thread(w, 12);
	commit_expect_refused(w, "record 3 (ZOMBIE)");
}
END_TEST

START_TEST(test_refuse_zombie_of_zombie)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 10, 0);
	w_zombie(w, 12, 11, 0);
	commit_expect_refused(w, "zombie 12: its parent 11 is not a live "
			      "process");
}
END_TEST

START_TEST(test_refuse_child_of_zombie)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 10, 0);
	w_proc_of(w, 12, 11, 1);
	w_thread(w, 12);
	commit_expect_refused(w, "process 12 is a child of zombie 11");
	/* the child before the zombie */
	w = begin_proc(1);
	w_proc_of(w, 12, 11, 1);
	w_thread(w, 12);
	w_zombie(w, 11, 10, 0);
	commit_expect_refused(w, "process 12 is a child of zombie 11");
}
END_TEST

/* Nothing but its ZOMBIE record belongs to a zombie. */
START_TEST(test_refuse_zombie_records)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 10, 0);
	w_thread(w, 11);
	commit_expect_refused(w, "THREAD record after zombie 11, which has "
			      "none");
	w = begin_proc(1);
	w_zombie(w, 11, 10, 0);
	w_vma(w, 0x1000, 0x2000, NULL);
	commit_expect_refused(w, "VMA record after zombie 11");
	w = begin_proc(1);
	w_vma(w, 0x1000, 0x2000, NULL);
	w_zombie(w, 11, 10, 0);
	w_pages(w, 0x1000, 1);
	commit_expect_refused(w, "PAGES record after zombie 11");
	w = begin_proc(1);
	w_zombie(w, 11, 10, 0);
	w_fd(w, 3, IMG_FD_REG, "/x");
	commit_expect_refused(w, "FD record after zombie 11");
	w = begin_proc(1);
	w_zombie(w, 11, 10, 0);
	w_sigacts(w);
	commit_expect_refused(w, "SIGACTS record after zombie 11");
}
END_TEST

/* Appends one framed record to buf at *len; its index entry to idx. */
static void forge_record(uint8_t *buf, size_t *len, struct img_index_ent *idx,
			 uint32_t type, const void *payload, size_t plen)
{
	uint8_t *h = buf + *len;
	uint32_t crc;

	put_le32(h, type);
	put_le32(h + 4, 0);
	put_le64(h + 8, plen);
	memcpy(h + IMG_REC_HDR_SIZE, payload, plen);
	crc = img_crc32c(0, h, IMG_REC_HDR_SIZE + plen);
	put_le32(h + IMG_REC_HDR_SIZE + plen, crc);
	if (idx)
		*idx = (struct img_index_ent){ type, crc, *len, plen };
	*len += IMG_REC_HDR_SIZE + plen + IMG_REC_CRC_SIZE;
}

/*
 * The writer refuses a zombie as the first process, so that image is
 * forged: a real header, one ZOMBIE record, and a trailer that indexes it.
 */
START_TEST(test_refuse_zombie_root)
{
	struct img_proc z = { .pid = 11, .ppid = 10, .pgid = 11, .sid = 1 };
	uint8_t *buf, t[IMG_TRAILER_SIZE(1)], c[4];
	struct img_index_ent e;
	struct img_writer *w;
	struct enc enc = { 0 };
	size_t len;

	w = img_writer_open(path);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	log_init("check_image", -1);
	ck_assert_int_eq(img_write_zombie(w, &z), -1);
	log_init("check_image", LOG_ERR);
	img_writer_abort(w);
	buf = small_image(&len);
	ck_assert_int_eq(img_enc_zombie(&enc, &z), 0);
	len = IMG_HEADER_SIZE;
	forge_record(buf, &len, &e, IMG_REC_ZOMBIE, enc.buf, enc.len);
	put_le64(t, 1);
	put_le32(t + 8, e.type);
	put_le32(t + 12, e.crc);
	put_le64(t + 16, e.off);
	put_le64(t + 24, e.len);
	put_le32(c, e.crc);
	put_le32(t + 32, img_crc32c(0, c, sizeof(c)));
	forge_record(buf, &len, NULL, IMG_REC_TRAILER, t, sizeof(t));
	expect_refused(buf, len, 0, "record 1 (ZOMBIE) at offset 128: "
		       "zombie 11 is the first process");
	enc_free(&enc);
	free(buf);
}
END_TEST

static void add(TCase *tc, const TTest *t)
{
	tcase_add_test(tc, t);
}

static Suite *image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *crc = tcase_create("crc32c");
	TCase *rt = tcase_create("roundtrip");
	TCase *dmg = tcase_create("damage");
	TCase *sem = tcase_create("semantics");
	TCase *all[] = { crc, rt, dmg, sem };
	size_t i;

	add(crc, test_crc_check_value);
	add(crc, test_crc_hw_matches_sw);
	add(rt, test_roundtrip);
	add(rt, test_read_fd_any_position);
	add(rt, test_large_pages);
	add(rt, test_file_mode_0600);
	add(rt, test_nothing_at_path_before_commit);
	add(rt, test_abort_leaves_nothing);
	add(rt, test_writer_call_order);
	add(dmg, test_refuse_every_truncation);
	add(dmg, test_refuse_every_flipped_byte);
	add(dmg, test_refuse_bad_magic);
	add(dmg, test_refuse_other_version);
	add(dmg, test_refuse_other_isa);
	add(dmg, test_refuse_trailing_garbage);
	add(dmg, test_refuse_corrupt_record_crc);
	add(sem, test_refuse_overlapping_vmas);
	add(sem, test_refuse_unsorted_vmas);
	add(sem, test_refuse_pages_outside_vma);
	add(sem, test_refuse_pages_across_vmas);
	add(sem, test_refuse_overlapping_pages);
	add(sem, test_refuse_thread_count_mismatch);
	add(sem, test_refuse_too_many_threads);
	add(sem, test_refuse_duplicate_tid);
	add(sem, test_refuse_duplicate_fd);
	add(sem, test_refuse_bad_fd);
	add(sem, test_refuse_two_sigacts);
	add(sem, test_refuse_unaligned_vma);
	add(sem, test_refuse_high_vma);
	add(sem, test_refuse_no_process);
	add(sem, test_exit_status_values);
	add(sem, test_refuse_zombie_bad_status);
	add(sem, test_refuse_zombie_bad_ids);
	add(sem, test_refuse_zombie_without_parent);
	add(sem, test_refuse_zombie_of_zombie);
	add(sem, test_refuse_child_of_zombie);
	add(sem, test_refuse_zombie_records);
	add(sem, test_refuse_zombie_root);
	for (i = 0; i < ARRAY_SIZE(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 60);
		suite_add_tcase(s, all[i]);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(image_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
