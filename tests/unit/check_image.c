/*
 * check_image: the image format. CRC32C against its check value and the
 * hardware against the software path; a full image written, read back and
 * compared field by field (shared memory objects and the VMAs that map
 * them too); the file sink's visibility rules; and one refusal test per
 * kind of damage the reader must catch.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "image/image.h"
#include "tests/unit/imagetest.h"

/* The image of the round trip: two processes, every record type. */
static void write_full_image(struct img_writer *w)
{
	w_header(w);
	w_file(w, 1, IMG_FILE_PIPE, NULL);
	ck_assert_int_eq(img_write_file_data(w, 1, "in flight", 9), 0);
	ck_assert_int_eq(img_write_file_data(w, 1, "more", 4), 0);
	w_file(w, 4, IMG_FILE_FIFO, "/tmp/fifo");
	/* a datagram pair: "ab" "" "cd", the last in two pieces */
	w_unix(w, 5, SOCK_DGRAM, IMG_UNIX_CONNECTED, 6, "/tmp/d");
	w_chunk(w, 5, "ab", IMG_CHUNK_EOR);
	w_chunk(w, 5, "", IMG_CHUNK_EOR);
	w_chunk(w, 5, "c", 0);
	w_chunk(w, 5, "d", IMG_CHUNK_EOR);
	w_unix(w, 6, SOCK_DGRAM, IMG_UNIX_CONNECTED, 5, NULL);
	w_unix(w, 7, SOCK_STREAM, IMG_UNIX_LISTENING, 0, "@abstract");
	w_file(w, 8, IMG_FILE_REG, "/tmp/log");
	w_shm(w, 1, IMG_SHM_MEMFD, 3 * PS + 10);
	w_pages(w, 0, 1);
	w_pages(w, 2 * PS, 2);	/* the last page is partly past the size */
	w_shm(w, 2, IMG_SHM_SYSV, 2 * PS);
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
	w_shm_vma(w, 0x20000, 0x22000, PS, 0, 1);	/* private */
	w_pages(w, 0x21000, 1);		/* a copy-on-write page of its own */
	w_shm_vma(w, 0x30000, 0x32000, 0, IMG_VMA_SHARED | IMG_VMA_NOWRITE,
		  2);
	w_file_fd(w, 7, 4);
	w_file_fd(w, 8, 1);
	w_zombie(w, 250, 200, SIGSEGV | 0x80);
}

static void check_unix_files(const struct image *img)
{
	const struct img_file *f = img_find_file(img, 5);

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->kind, IMG_FILE_UNIX);
	ck_assert_str_eq(f->path, "/tmp/d");
	ck_assert_uint_eq(f->sk.type, SOCK_DGRAM);
	ck_assert_uint_eq(f->sk.state, IMG_UNIX_CONNECTED);
	ck_assert_uint_eq(f->sk.peer, 3406);
	ck_assert_uint_eq(f->sk.shutdown, IMG_SHUT_WR);
	ck_assert_uint_eq(f->sk.opts, IMG_UNIX_PASSCRED);
	ck_assert_uint_eq(f->sk.rcvbuf, 4608);
	ck_assert_uint_eq(f->sk.sndbuf, 8192);
	ck_assert_uint_eq(f->nr_chunks, 4);
	ck_assert_uint_eq(f->chunks[0].flags, IMG_CHUNK_EOR);
	ck_assert_mem_eq(f->chunks[0].data, "ab", 2);
	ck_assert_uint_eq(f->chunks[1].len, 0);
	ck_assert_uint_eq(f->chunks[1].flags, IMG_CHUNK_EOR);
	ck_assert_uint_eq(f->chunks[2].flags, 0);
	ck_assert_uint_eq(f->chunks[3].flags, IMG_CHUNK_EOR);
	f = img_find_file(img, 6);
	ck_assert_ptr_null(f->path);
	ck_assert_uint_eq(f->sk.peer, 3405);
	ck_assert_uint_eq(f->nr_chunks, 0);
	f = img_find_file(img, 7);
	ck_assert_str_eq(f->path, "@abstract");
	ck_assert_uint_eq(f->sk.state, IMG_UNIX_LISTENING);
	ck_assert_uint_eq(f->sk.backlog, 16);
}

static void check_files(const struct image *img)
{
	const struct img_file *f;
	const struct img_process *p = &img->procs[2];	/* pid 200 */

	ck_assert_uint_eq(img->nr_files, 6);
	f = img_find_file(img, 1);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->kind, IMG_FILE_PIPE);
	ck_assert_uint_eq(f->flags, O_WRONLY | O_NONBLOCK);
	ck_assert_uint_eq(f->ino, 3401);
	ck_assert_uint_eq(f->pipe_size, 65536);
	ck_assert_ptr_null(f->path);
	ck_assert_uint_eq(f->nr_chunks, 2);
	ck_assert_uint_eq(f->chunks[0].len, 9);
	ck_assert_mem_eq(f->chunks[0].data, "in flight", 9);
	ck_assert_mem_eq(f->chunks[1].data, "more", 4);
	f = img_find_file(img, 4);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path, "/tmp/fifo");
	ck_assert_uint_eq(f->nr_chunks, 0);
	ck_assert_ptr_null(img_find_file(img, 2));
	f = img_find_file(img, 8);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->kind, IMG_FILE_REG);
	ck_assert_str_eq(f->path, "/tmp/log");
	ck_assert_uint_eq(f->pos, 800 + (1ull << 40));
	check_unix_files(img);
	ck_assert_uint_eq(p->nr_fds, 2);
	ck_assert_uint_eq(p->fds[0].type, IMG_FD_FILE);
	ck_assert_uint_eq(p->fds[0].file, 4);
	ck_assert_uint_eq(p->fds[1].file, 1);
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
	ck_assert_uint_eq(p->proc.dumpable, 2);
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
	ck_assert_uint_eq(t->caps.inh, 0x400);
	ck_assert_uint_eq(t->caps.prm, 0x1420);
	ck_assert_uint_eq(t->caps.eff, 0x420);
	ck_assert_uint_eq(t->caps.bnd, 0x1fffeffffff);
	ck_assert_uint_eq(t->caps.amb, 0x400);
	ck_assert_uint_eq(t->caps.securebits, 0x1d);
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

static void check_shms(const struct image *img, int fd)
{
	const struct img_shm_object *o = &img->shms[0];

	ck_assert_uint_eq(img->nr_shms, 2);
	ck_assert_uint_eq(o->shm.id, 1);
	ck_assert_uint_eq(o->shm.kind, IMG_SHM_MEMFD);
	ck_assert_uint_eq(o->shm.size, 3 * PS + 10);
	ck_assert_uint_eq(o->shm.mode, 0640);
	ck_assert_uint_eq(o->shm.uid, 7);
	ck_assert_uint_eq(o->shm.seals, 0x9);
	ck_assert_str_eq(o->shm.name, "a memfd");
	ck_assert_uint_eq(o->nr_pages, 2);
	ck_assert_uint_eq(o->pages[1].addr, 2 * PS);
	ck_assert_uint_eq(o->pages[1].nr_pages, 2);
	check_page_data(fd, &o->pages[0]);
	check_page_data(fd, &o->pages[1]);
	o = &img->shms[1];
	ck_assert_uint_eq(o->shm.kind, IMG_SHM_SYSV);
	ck_assert_int_eq(o->shm.key, 0x1234);
	ck_assert_int_eq(o->shm.shmid, 65537);
	ck_assert_uint_eq(o->shm.flags, IMG_SHM_REMOVED);
	ck_assert_ptr_null(o->shm.name);
	ck_assert_uint_eq(o->nr_pages, 0);
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
	ck_assert_uint_eq(p->nr_vmas, 3);
	ck_assert_int_eq(p->has_sigacts, 0);
	check_page_data(fd, &p->pages[0]);
	ck_assert_uint_eq(p->vmas[0].shm, 0);
	ck_assert_uint_eq(p->vmas[1].shm, 1);
	ck_assert_uint_eq(p->vmas[1].pgoff, PS);
	ck_assert_uint_eq(p->vmas[2].shm, 2);
	ck_assert_uint_eq(p->vmas[2].flags, IMG_VMA_SHARED | IMG_VMA_NOWRITE);
	check_shms(img, fd);
	check_files(img);
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
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };
	uint8_t page[PS] = { 0 };

	ck_assert_ptr_nonnull(w);
	log_init("check_image", -1);
	ck_assert_int_eq(img_write_proc(w, &p), -1);	/* before header */
	ck_assert_int_eq(img_write_shm(w, &s), -1);
	w_header(w);
	ck_assert_int_eq(img_write_pages_begin(w, 0x1000, 1), -1);
	w_proc(w, 1, 1);
	ck_assert_int_eq(img_write_shm(w, &s), -1);	/* after a PROC */
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
	ck_assert_int_eq(img_write_shm(w, &s), -1);	/* inside PAGES */
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
	char want[64];

	/* a valid header of the next version: only the version check stops
	 * it */
	put_le32(buf + IMG_HDR_VERSION_OFF, IMG_VERSION + 1);
	fix_header_crc(buf);
	snprintf(want, sizeof(want), "format version %u, this build reads %u",
		 IMG_VERSION + 1, IMG_VERSION);
	expect_refused(buf, len, 0, want);
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

/* each rule of the capability sets, broken alone */
START_TEST(test_refuse_bad_caps)
{
	static const struct {
		struct img_caps caps;
		const char *want;
	} t[] = {
		{ { .prm = 0x20, .eff = 0x420 },
		  "thread 10: effective capabilities outside the permitted set" },
		{ { .prm = 0x420, .inh = 0x20, .amb = 0x400 },
		  "thread 10: ambient capabilities outside permitted and inheritable" },
		{ { .prm = 0x20, .inh = 0x400, .amb = 0x400 },
		  "thread 10: ambient capabilities outside permitted and inheritable" },
		{ { .securebits = 0x1000 }, "thread 10: unknown securebits" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		thread_caps = t[i].caps;
		commit_expect_refused(begin_proc(1), t[i].want);
	}
}
END_TEST

START_TEST(test_caps_limits_accepted)
{
	struct image *img;

	thread_caps = (struct img_caps){
		.inh = ~0ull, .prm = ~0ull, .eff = ~0ull, .bnd = ~0ull,
		.amb = ~0ull, .securebits = IMG_SECUREBITS_KNOWN,
	};
	proc_dumpable = 0;
	ck_assert_int_eq(img_writer_commit(begin_proc(1)), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[0].threads[0].caps.amb, ~0ull);
	ck_assert_uint_eq(img->procs[0].proc.dumpable, 0);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_bad_dumpable)
{
	proc_dumpable = 3;
	commit_expect_refused(begin_proc(1), "dumpable 3");
}
END_TEST

START_TEST(test_cap_names)
{
	ck_assert_str_eq(img_cap_name(0), "cap_chown");
	ck_assert_str_eq(img_cap_name(10), "cap_net_bind_service");
	ck_assert_str_eq(img_cap_name(40), "cap_checkpoint_restore");
	ck_assert_ptr_null(img_cap_name(41));
	ck_assert_ptr_null(img_cap_name(63));
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

/* files: an fd naming a missing file, ids out of order, data astray,
 * FILE after a PROC, bad kind, a FIFO without its path */
START_TEST(test_refuse_fd_missing_file)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_PIPE, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_file_fd(w, 3, 2);
	commit_expect_refused(w, "fd 3 names file 2, which the image lacks");
}
END_TEST

START_TEST(test_refuse_file_order)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 5, IMG_FILE_PIPE, NULL);
	w_file(w, 5, IMG_FILE_PIPE, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "file id 5 not above the one before");
}
END_TEST

START_TEST(test_refuse_file_data_astray)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_PIPE, NULL);
	w_file(w, 2, IMG_FILE_PIPE, NULL);
	ck_assert_int_eq(img_write_file_data(w, 1, "x", 1), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "FILE_DATA of file 1 not right after");
}
END_TEST

START_TEST(test_refuse_file_kinds)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, 77, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "file 1: bad kind 77");
	w = img_writer_open(path);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_FIFO, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "a path goes with a FIFO or regular file");
}
END_TEST

/* unix sockets: a bad type, state or name; a peer that is not a socket
 * of the image; boundaries in a stream; a message cut short; data in a
 * listening socket */
static void expect_unix_refused(uint32_t type, uint32_t state,
				uint32_t peer, const char *name,
				const char *data, uint32_t flags,
				const char *want)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_PIPE, NULL);
	w_unix(w, 2, type, state, peer, name);
	if (data)
		w_chunk(w, 2, data, flags);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, want);
}

START_TEST(test_refuse_unix)
{
	expect_unix_refused(7, IMG_UNIX_UNCONNECTED, 0, NULL, NULL, 0,
			    "file 2: bad socket type 7");
	expect_unix_refused(SOCK_STREAM, 9, 0, NULL, NULL, 0,
			    "file 2: bad socket state 9");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_UNCONNECTED, 2, NULL, NULL,
			    0, "a peer without a connection");
	expect_unix_refused(SOCK_DGRAM, IMG_UNIX_LISTENING, 0, "/x", NULL, 0,
			    "a listening socket must be");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_UNCONNECTED, 0, "@", NULL,
			    0, "bad socket name");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 1, NULL, NULL, 0,
			    "its peer 3401 is no socket of the image");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL, "x",
			    IMG_CHUNK_EOR, "a message boundary in a byte stream");
	expect_unix_refused(SOCK_SEQPACKET, IMG_UNIX_CONNECTED, 0, NULL, "x",
			    0, "its last message has no end");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_LISTENING, 0, "/x", "x", 0,
			    "data queued in a listening socket");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL, "", 0,
			    "file data of 0 bytes");
	expect_unix_refused(SOCK_DGRAM, IMG_UNIX_CONNECTED, 0, NULL, "x", 2,
			    "file data flags 0x2");
}
END_TEST

/* the writer keeps FILE records before the first PROC */
START_TEST(test_file_after_proc_refused_by_writer)
{
	struct img_writer *w = begin_proc(1);
	struct img_file f = { .id = 1, .kind = IMG_FILE_PIPE };

	ck_assert_int_eq(img_write_file(w, &f), -1);
	img_writer_abort(w);
}
END_TEST

/* ---- eventfd, epoll, signalfd, timerfd, inotify files ------------------- */

static struct img_epoll_watch ep_watches[] = {
	{ .file = 1, .tfd = 3, .events = 0x80000001u, .data = 0x1111 },
	{ .file = 3, .tfd = 4, .events = 0x40000004u, .data = 0x3333 },
	{ .file = 1, .tfd = 9, .events = 0x19, .data = ~0ull },
	{ .file = 5, .tfd = 12, .events = 1, .data = 5 },
};

static struct img_inotify_watch in_watches[] = {
	{ .wd = 1, .mask = 0x2, .dev = 0xfe00, .ino = 77, .path = "/tmp" },
	{ .wd = 4, .mask = 0x80000fff, .dev = 0xfe00, .ino = 78,
	  .path = "/etc/passwd" },
};

/* One file of each kind, ids 1..5, the epoll (4) watching the others. */
static void kfd_files(struct img_file f[5])
{
	memset(f, 0, 5 * sizeof(*f));
	f[0] = (struct img_file){ .id = 1, .kind = IMG_FILE_EVENTFD,
		.flags = O_RDWR | O_NONBLOCK, .dev = 16, .ino = 26,
		.efd = { .count = 0xfffffffffffffffeull, .semaphore = 1 } };
	f[1] = (struct img_file){ .id = 2, .kind = IMG_FILE_SIGNALFD,
		.flags = O_RDWR, .sfd.sigmask = 0x4200 };
	f[2] = (struct img_file){ .id = 3, .kind = IMG_FILE_TIMERFD,
		.flags = O_RDWR, .tfd = { .clockid = CLOCK_REALTIME,
		.flags = IMG_TFD_ABSTIME | IMG_TFD_CANCEL_ON_SET, .ticks = 12,
		.value_ns = 1700000000123456789ull,
		.interval_ns = 250000000 } };
	f[3] = (struct img_file){ .id = 4, .kind = IMG_FILE_EPOLL,
		.flags = O_RDWR, .ep = { ARRAY_SIZE(ep_watches), ep_watches } };
	f[4] = (struct img_file){ .id = 5, .kind = IMG_FILE_INOTIFY,
		.flags = O_RDONLY, .in = { ARRAY_SIZE(in_watches),
		in_watches } };
}

static void w_files(struct img_writer *w, const struct img_file *f, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(img_write_file(w, &f[i]), 0);
}

static struct img_writer *begin_files(const struct img_file *f, int n)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_files(w, f, n);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	return w;
}

static void check_kfd_watches(const struct img_file *f)
{
	uint32_t i;

	ck_assert_uint_eq(f[3].ep.nr, ARRAY_SIZE(ep_watches));
	for (i = 0; i < f[3].ep.nr; i++) {
		ck_assert_uint_eq(f[3].ep.w[i].file, ep_watches[i].file);
		ck_assert_int_eq(f[3].ep.w[i].tfd, ep_watches[i].tfd);
		ck_assert_uint_eq(f[3].ep.w[i].events, ep_watches[i].events);
		ck_assert_uint_eq(f[3].ep.w[i].data, ep_watches[i].data);
	}
	ck_assert_uint_eq(f[4].in.nr, ARRAY_SIZE(in_watches));
	for (i = 0; i < f[4].in.nr; i++) {
		ck_assert_int_eq(f[4].in.w[i].wd, in_watches[i].wd);
		ck_assert_uint_eq(f[4].in.w[i].mask, in_watches[i].mask);
		ck_assert_uint_eq(f[4].in.w[i].dev, in_watches[i].dev);
		ck_assert_uint_eq(f[4].in.w[i].ino, in_watches[i].ino);
		ck_assert_str_eq(f[4].in.w[i].path, in_watches[i].path);
	}
}

START_TEST(test_roundtrip_kfds)
{
	struct img_file in[5];
	const struct img_file *f;
	struct img_writer *w;
	struct image *img;
	int i;

	kfd_files(in);
	w = begin_files(in, 5);
	for (i = 0; i < 5; i++)
		w_file_fd(w, 3 + i, i + 1);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_files, 5);
	f = img->files;
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(f[i].kind, in[i].kind);
		ck_assert_uint_eq(f[i].flags, in[i].flags);
	}
	ck_assert_uint_eq(f[0].efd.count, 0xfffffffffffffffeull);
	ck_assert_uint_eq(f[0].efd.semaphore, 1);
	ck_assert_uint_eq(f[1].sfd.sigmask, 0x4200);
	ck_assert_uint_eq(f[2].tfd.clockid, CLOCK_REALTIME);
	ck_assert_uint_eq(f[2].tfd.flags, 3);
	ck_assert_uint_eq(f[2].tfd.ticks, 12);
	ck_assert_uint_eq(f[2].tfd.value_ns, 1700000000123456789ull);
	ck_assert_uint_eq(f[2].tfd.interval_ns, 250000000);
	check_kfd_watches(f);
	img_free(img);
}
END_TEST

/* One file of the set changed, the image refused with want. */
static void kfd_refused(void (*damage)(struct img_file *f), const char *want)
{
	struct img_file f[5];
	struct img_epoll_watch ew[ARRAY_SIZE(ep_watches)];
	struct img_inotify_watch iw[ARRAY_SIZE(in_watches)];

	kfd_files(f);
	memcpy(ew, ep_watches, sizeof(ew));
	memcpy(iw, in_watches, sizeof(iw));
	f[3].ep.w = ew;
	f[4].in.w = iw;
	damage(f);
	commit_expect_refused(begin_files(f, 5), want);
}

static void dmg_epoll_missing(struct img_file *f) { f[3].ep.w[1].file = 9; }
static void dmg_epoll_self(struct img_file *f) { f[3].ep.w[0].file = 4; }
static void dmg_epoll_twice(struct img_file *f) { f[3].ep.w[2].tfd = 3; }
static void dmg_epoll_fd(struct img_file *f) { f[3].ep.w[3].tfd = -2; }
static void dmg_efd_count(struct img_file *f) { f[0].efd.count = ~0ull; }
static void dmg_efd_sem(struct img_file *f) { f[0].efd.semaphore = 2; }
static void dmg_tfd_clock(struct img_file *f) { f[2].tfd.clockid = 3; }
static void dmg_tfd_flags(struct img_file *f) { f[2].tfd.flags = 4; }
static void dmg_tfd_abs(struct img_file *f)
{
	f[2].tfd.clockid = CLOCK_MONOTONIC;
}
static void dmg_tfd_cancel(struct img_file *f)
{
	f[2].tfd.flags = IMG_TFD_CANCEL_ON_SET;
}
static void dmg_in_order(struct img_file *f) { f[4].in.w[1].wd = 1; }
static void dmg_in_wd(struct img_file *f) { f[4].in.w[0].wd = 0; }
static void dmg_in_mask(struct img_file *f) { f[4].in.w[1].mask = 0; }
static void dmg_in_path(struct img_file *f) { f[4].in.w[0].path = "tmp"; }
static void dmg_pipe_size(struct img_file *f) { f[1].pipe_size = 4096; }

START_TEST(test_refuse_kfd_values)
{
	static const struct {
		void (*damage)(struct img_file *f);
		const char *want;
	} t[] = {
		{ dmg_epoll_missing, "epoll file 4 watches file 9, which the image lacks" },
		{ dmg_epoll_self, "file 4: watch of file 4" },
		{ dmg_epoll_twice, "epoll file 4 watches file 1 as fd 3 twice" },
		{ dmg_epoll_fd, "file 4: watch of fd -2" },
		{ dmg_efd_count, "file 1: eventfd count out of range" },
		{ dmg_efd_sem, "file 1: eventfd semaphore 2" },
		{ dmg_tfd_clock, "file 3: bad clock 3" },
		{ dmg_tfd_flags, "file 3: bad timer flags 0x4" },
		{ dmg_tfd_abs, "file 3: absolute time on clock 1" },
		{ dmg_tfd_cancel, "file 3: cancel on set without absolute time" },
		{ dmg_in_order, "file 5: watch 1 not above the one before" },
		{ dmg_in_wd, "file 5: watch 0 not above" },
		{ dmg_in_mask, "file 5: watch 4 with no events" },
		{ dmg_in_path, "file 5: watch 1 on a relative path" },
		{ dmg_pipe_size, "file 2: a pipe size on kind 6" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		kfd_refused(t[i].damage, t[i].want);
}
END_TEST

/* queued bytes belong to pipes: an eventfd has none */
START_TEST(test_refuse_kfd_file_data)
{
	struct img_file f[5];
	struct img_writer *w = img_writer_open(path);

	kfd_files(f);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_files(w, f, 1);
	ck_assert_int_eq(img_write_file_data(w, 1, "x", 1), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "FILE_DATA of file 1, which holds no bytes");
}
END_TEST

/* the encoder caps the number of watches like the decoder */
START_TEST(test_kfd_too_many_watches_not_written)
{
	struct img_file f[5];
	struct img_writer *w = img_writer_open(path);

	kfd_files(f);
	f[3].ep.nr = IMG_MAX_WATCHES + 1;
	ck_assert_ptr_nonnull(w);
	w_header(w);
	log_init("check_image", -1);
	ck_assert_int_eq(img_write_file(w, &f[3]), -1);
	img_writer_abort(w);
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

/* ---- refusals: shared memory objects ------------------------------------ */

/* An image with one SHM record s (made valid or damaged by the caller). */
static struct img_writer *begin_shm(const struct img_shm *s)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_shm(w, s), 0);
	return w;
}

static void shm_expect_refused(const struct img_shm *s, const char *want)
{
	struct img_writer *w = begin_shm(s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, want);
}

START_TEST(test_refuse_bad_shm_fields)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };

	s.kind = 9;
	shm_expect_refused(&s, "record 1 (SHM) at offset 128: bad shm kind 9");
	s.kind = IMG_SHM_ANON;
	s.id = 2;
	shm_expect_refused(&s, "shm object 1 has id 2");
	s.id = 1;
	s.size = 0;
	shm_expect_refused(&s, "empty shm object");
	s.size = 1ull << 60;
	shm_expect_refused(&s, "too large");
	s.size = PS;
	s.mode = 010000;
	shm_expect_refused(&s, "bad shm mode");
	s.mode = 0600;
	s.flags = IMG_SHM_REMOVED;
	shm_expect_refused(&s, "System V fields on a shm object of kind 1");
	s.flags = 0;
	s.kind = IMG_SHM_MEMFD;
	shm_expect_refused(&s, "memfd without a name");
	s.name = "x";
	s.seals = 0x40;
	shm_expect_refused(&s, "bad seals 0x40");
	s.kind = IMG_SHM_SYSV;
	s.seals = 0;
	shm_expect_refused(&s, "name on a shm object that is not a memfd");
	s.name = NULL;
	s.shmid = -1;
	shm_expect_refused(&s, "bad shmid -1");
}
END_TEST

START_TEST(test_refuse_shm_after_proc)
{
	struct img_writer *w = begin_proc(1);
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };
	struct enc e = { 0 };
	struct image *img;
	uint8_t *buf;
	size_t len;

	log_init("check_image", -1);
	ck_assert_int_eq(img_write_shm(w, &s), -1);	/* the writer refuses */
	img_writer_abort(w);
	w = begin_shm(&s);
	ck_assert_int_eq(img_writer_commit(w), -1);	/* and a lone SHM */
	/* the reader refuses it too */
	log_init("check_image", LOG_ERR);
	ck_assert_int_eq(img_enc_shm(&e, &s), 0);
	buf = small_image(&len);
	img = img_read_buf(buf, len, 0);
	ck_assert_ptr_nonnull(img);
	img_free(img);
	buf = splice_record(buf, &len, IMG_REC_SHM, e.buf, e.len);
	expect_refused(buf, len, 0, "(SHM) at offset");
	expect_refused(buf, len, 0, "SHM record after the first PROC");
	enc_free(&e);
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

START_TEST(test_refuse_shm_pages_outside)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = 2 * PS };
	struct img_writer *w = begin_shm(&s);

	w_pages(w, PS, 2);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "beyond the 8192 bytes of shm object 1");
}
END_TEST

START_TEST(test_refuse_shm_pages_unsorted)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = 8 * PS };
	struct img_writer *w = begin_shm(&s);

	w_pages(w, 4 * PS, 2);
	w_pages(w, PS, 4);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "pages at offset 0x1000 not after");
}
END_TEST

START_TEST(test_refuse_vma_unknown_shm)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x2000, 0, IMG_VMA_SHARED | IMG_VMA_ANON, 2);
	commit_expect_refused(w, "maps shm object 2, the image has 1");
}
END_TEST

START_TEST(test_refuse_vma_shm_kind_mismatch)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_SYSV, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x2000, 0, 0, 1);	/* System V is never private */
	commit_expect_refused(w, "flags 0 for shm object 1 of kind 3");
}
END_TEST

START_TEST(test_refuse_vma_past_sysv_segment)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_SYSV, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x3000, 0, IMG_VMA_SHARED, 1);
	commit_expect_refused(w, "offset 0 in shm object 1 of 4096 bytes");
}
END_TEST

START_TEST(test_refuse_shared_anon_without_shm)
{
	struct img_writer *w = begin_proc(1);

	w_shm_vma(w, 0x1000, 0x2000, 0, IMG_VMA_SHARED | IMG_VMA_ANON, 0);
	commit_expect_refused(w, "flags 0x3 without a shm object");
}
END_TEST

START_TEST(test_refuse_pages_in_shared_shm_vma)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x2000, 0, IMG_VMA_SHARED | IMG_VMA_ANON, 1);
	w_pages(w, 0x1000, 1);
	commit_expect_refused(w, "in a shared mapping of a shm object");
}
END_TEST

static Suite *image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *crc = image_tcase(s, "crc32c");
	TCase *rt = image_tcase(s, "roundtrip");
	TCase *dmg = image_tcase(s, "damage");
	TCase *sem = image_tcase(s, "semantics");

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
	add(sem, test_refuse_bad_caps);
	add(sem, test_caps_limits_accepted);
	add(sem, test_refuse_bad_dumpable);
	add(sem, test_cap_names);
	add(sem, test_refuse_duplicate_tid);
	add(sem, test_refuse_duplicate_fd);
	add(sem, test_refuse_bad_fd);
	add(sem, test_refuse_fd_missing_file);
	add(sem, test_refuse_file_order);
	add(sem, test_refuse_file_data_astray);
	add(sem, test_refuse_file_kinds);
	add(sem, test_refuse_unix);
	add(sem, test_file_after_proc_refused_by_writer);
	add(rt, test_roundtrip_kfds);
	add(sem, test_refuse_kfd_values);
	add(sem, test_refuse_kfd_file_data);
	add(sem, test_kfd_too_many_watches_not_written);
	add(sem, test_refuse_two_sigacts);
	add(sem, test_refuse_unaligned_vma);
	add(sem, test_refuse_high_vma);
	add(sem, test_refuse_no_process);
	add(sem, test_refuse_bad_shm_fields);
	add(sem, test_refuse_shm_after_proc);
	add(sem, test_refuse_shm_pages_outside);
	add(sem, test_refuse_shm_pages_unsorted);
	add(sem, test_refuse_vma_unknown_shm);
	add(sem, test_refuse_vma_shm_kind_mismatch);
	add(sem, test_refuse_vma_past_sysv_segment);
	add(sem, test_refuse_shared_anon_without_shm);
	add(sem, test_refuse_pages_in_shared_shm_vma);
	add(sem, test_exit_status_values);
	add(sem, test_refuse_zombie_bad_status);
	add(sem, test_refuse_zombie_bad_ids);
	add(sem, test_refuse_zombie_without_parent);
	add(sem, test_refuse_zombie_of_zombie);
	add(sem, test_refuse_child_of_zombie);
	add(sem, test_refuse_zombie_records);
	add(sem, test_refuse_zombie_root);
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
