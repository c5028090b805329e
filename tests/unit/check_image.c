/*
 * check_image: the image format itself. CRC32C against its check value,
 * the hardware against the software path and the hook that installs it; a
 * full image written, read back and compared field by field (every record
 * type, FILE, SHM and ZOMBIE too); the file sink's visibility rules and the
 * writer's call order; one refusal test per kind of damage the reader must
 * catch; and the meaning of PROC, THREAD (capabilities included), VMA,
 * PAGES, FD and SIGACTS. The image-level objects have their own suite,
 * check_image_objects.
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
#include <unistd.h>

#include "arch/arch.h"
#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

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

/* img_crc32c through the hook, arch_crc32c installed, against img_crc32c
 * with none, on random buffers of odd lengths at odd offsets; a hook that
 * returns -1 falls back to the same software result. */
static int accel_calls, accel_fails;

static int counted_crc32c(uint32_t *crc, const void *buf, size_t len)
{
	accel_calls++;
	return accel_fails ? -1 : arch_crc32c(crc, buf, len);
}

START_TEST(test_crc_accel_hook)
{
	static uint8_t buf[8192];
	uint32_t seed, sw, hw;
	size_t off, len;
	int i;

	seed = 0;
	if (arch_crc32c(&seed, buf, 1) < 0)
		return;	/* no hardware CRC32C: nothing to compare */
	srandom(7);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = random();
	for (i = 0; i < 2000; i++) {
		off = 1 + 2 * (random() % 8);
		len = 1 + 2 * (random() % (sizeof(buf) / 2 - 9));
		seed = random();
		img_crc32c_accel(NULL);
		sw = img_crc32c(seed, buf + off, len);
		accel_fails = i % 4 == 0;
		img_crc32c_accel(counted_crc32c);
		hw = img_crc32c(seed, buf + off, len);
		ck_assert_msg(hw == sw, "off %zu len %zu: accel %#x sw %#x",
			      off, len, hw, sw);
	}
	img_crc32c_accel(NULL);
	ck_assert_int_eq(accel_calls, 2000);
}
END_TEST

/* ---- round trip --------------------------------------------------------- */

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
	ck_assert_str_eq(img->hdr.writer, "ckpt 0.4.0-test");
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

/* An image at path of one process whose VMA at 0x100000 holds the n
 * pages of b, written as one run */
static void w_one_run(const uint8_t *b, uint64_t n)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_vma(w, 0x100000, 0x100000 + n * PS, NULL);
	ck_assert_int_eq(img_write_pages_begin(w, 0x100000, n), 0);
	ck_assert_int_eq(img_write_pages_data(w, b, n * PS), 0);
	ck_assert_int_eq(img_write_pages_end(w), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
}

/*
 * Page data larger than the sink's buffer goes straight to write(2), and
 * the reader checksums it in chunks: both paths, and a flipped byte deep
 * inside the data caught through img_read_file.
 */
START_TEST(test_large_pages)
{
	const uint64_t n = 600;
	uint8_t *b = malloc(n * PS), *got = malloc(n * PS), x;
	struct image *img;
	int fd;

	fill(b, n * PS, 9);
	w_one_run(b, n);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	/* split at the 2 MiB boundary of the address: 256 + 344 pages */
	ck_assert_uint_eq(img->procs[0].nr_pages, 2);
	ck_assert_uint_eq(img->procs[0].pages[0].nr_pages, 256);
	ck_assert_uint_eq(img->procs[0].pages[1].addr, IMG_PAGES_SPLIT);
	ck_assert_int_eq(pread_full(fd, got, 256 * PS,
				    img->procs[0].pages[0].data_off), 0);
	ck_assert_int_eq(pread_full(fd, got + 256 * PS, 344 * PS,
				    img->procs[0].pages[1].data_off), 0);
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

/*
 * IMG_READ_DEFER_PAGES: a flipped byte in a process's page data passes
 * the read and is caught by img_pages_check() of its record only; the
 * other record checks out, and its data is where the check put it.
 */
START_TEST(test_deferred_pages)
{
	const uint64_t n = 600;
	uint8_t *b = malloc(n * PS), *rec = malloc(IMG_PAGES_REC_MAX(PS)), x;
	struct img_pages *pg;
	struct image *img;
	int fd;

	fill(b, n * PS, 5);
	w_one_run(b, n);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	img = img_read_named_fd_flags(fd, "img", 0, IMG_READ_DEFER_PAGES);
	ck_assert_ptr_nonnull(img);
	pg = img->procs[0].pages;
	ck_assert_uint_eq(pg[1].unchecked, 1);
	ck_assert_int_eq(pread_full(fd, &x, 1, pg[1].data_off + 7777), 0);
	x ^= 1;
	ck_assert_int_eq(pwrite(fd, &x, 1, pg[1].data_off + 7777), 1);
	log_init("check_image", -1);
	ck_assert_int_eq(img_pages_check(fd, "img", &pg[1], PS, rec), -1);
	ck_assert_int_eq(img_pages_check(fd, "img", &pg[0], PS, rec), 0);
	ck_assert_mem_eq(rec + (pg[0].data_off - pg[0].rec_off), b, 256 * PS);
	img_free(img);
	/* without the flag, the reader refuses it whole */
	ck_assert_ptr_null(img_read_named_fd_flags(fd, "img", 0, 0));
	close(fd);
	free(b);
	free(rec);
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
	/* the temporary has no name (O_TMPFILE) until commit */
	ck_assert_int_eq(dir_entries(), 0);
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

/* The writer field: printable text, terminated, zeros after it. */
START_TEST(test_refuse_bad_writer)
{
	size_t len;
	uint8_t *buf = small_image(&len);

	buf[IMG_HDR_WRITER_OFF + 2] = '\n';
	fix_header_crc(buf);
	expect_refused(buf, len, 0, "writer in header not printable");
	memset(buf + IMG_HDR_WRITER_OFF, 'x', IMG_HDR_WRITER_LEN);
	fix_header_crc(buf);
	expect_refused(buf, len, 0, "writer in header not terminated");
	memset(buf + IMG_HDR_WRITER_OFF, 0, IMG_HDR_WRITER_LEN);
	buf[IMG_HDR_CRC_OFF - 1] = 'x';
	fix_header_crc(buf);
	expect_refused(buf, len, 0, "non-zero byte 123 after the writer");
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

static Suite *image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *crc = image_tcase(s, "crc32c");
	TCase *rt = image_tcase(s, "roundtrip");
	TCase *dmg = image_tcase(s, "damage");
	TCase *sem = image_tcase(s, "semantics");

	add(crc, test_crc_check_value);
	add(crc, test_crc_hw_matches_sw);
	add(crc, test_crc_accel_hook);
	add(rt, test_roundtrip);
	add(rt, test_read_fd_any_position);
	add(rt, test_large_pages);
	add(rt, test_deferred_pages);
	add(rt, test_file_mode_0600);
	add(rt, test_nothing_at_path_before_commit);
	add(rt, test_abort_leaves_nothing);
	add(rt, test_writer_call_order);
	add(dmg, test_refuse_every_truncation);
	add(dmg, test_refuse_every_flipped_byte);
	add(dmg, test_refuse_bad_magic);
	add(dmg, test_refuse_other_version);
	add(dmg, test_refuse_bad_writer);
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
	add(sem, test_refuse_two_sigacts);
	add(sem, test_refuse_unaligned_vma);
	add(sem, test_refuse_high_vma);
	add(sem, test_refuse_no_process);
	return s;
}

CHECK_MAIN(image_suite)
