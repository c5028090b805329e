/*
 * imagetest.h: what the image suites (check_image, check_image_objects)
 * share: a temporary directory per test, record writers that fill every
 * field with a known pattern, a small valid image, and the checks that an
 * image is refused with one line naming the damage. Header-only (static
 * inline functions), for test files only.
 */
#ifndef CKPT_IMAGETEST_H
#define CKPT_IMAGETEST_H

#include <sys/mman.h>
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "tests/unit/unit.h"

#define PS	4096u

/* the image path in the test's temporary directory */
static char path[128];

/* The fixture: a fresh directory per test, named after the program. */
static inline void setup(void)
{
	unit_tmpdir_setup();
	snprintf(path, sizeof(path), "%s/img.ckpt", dir);
	log_init(program_invocation_short_name, LOG_ERR);
}

static inline uint8_t *load(const char *p, size_t *len)
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

static inline void fill(uint8_t *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static inline void w_header(struct img_writer *w)
{
	struct img_header h = {
		.isa = IMG_ISA_X86_64, .page_size = PS, .created = 1700000000,
	};

	strcpy(h.kernel, "6.1.0-test");
	strcpy(h.writer, "ckpt 0.4.0-test");
	ck_assert_int_eq(img_write_header(w, &h), 0);
}

/* what w_proc_of() and w_thread() write; a test may damage them first */
static uint32_t proc_dumpable = 2;
/* the PID namespace levels of the next PROC written (check_image_pidnest) */
static struct img_pidlv proc_pidlv;
static struct img_pstate proc_state = {
	.stop_sig = 20, .wait = IMG_WAIT_STOPPED,	/* SIGTSTP */
	.subreaper = 1, .thp_disable = 3, .oom_score_adj = -17,
	.oom_min_known = 1, .oom_score_adj_min = -100,
	.loginuid = 4321,
	.membarrier = IMG_MEMBARRIER_GLOBAL | IMG_MEMBARRIER_PRIVATE |
		      IMG_MEMBARRIER_RSEQ,
};
static struct img_tstate thread_state = {
	.pdeathsig = 10, .mce_kill = 1, .timer_slack_ns = 50000,
	.default_slack_ns = 222222,
	.spec = { 0x3, 0x9, 0 },
};
static struct img_seccomp thread_seccomp;	/* none */
static struct img_tshare thread_own;		/* none */
static struct img_caps thread_caps = {
	.inh = 0x400, .prm = 0x1420, .eff = 0x420, .bnd = 0x1fffeffffff,
	.amb = 0x400, .securebits = 0x1d,
};

static inline void w_proc_of(struct img_writer *w, int32_t pid, int32_t ppid,
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
		.no_new_privs = 1, .dumpable = proc_dumpable,
		.ks = proc_state, .pidlv = proc_pidlv,
	};

	strcpy(p.comm, "testproc");
	ck_assert_int_eq(img_write_proc(w, &p), 0);
}

static inline void w_proc(struct img_writer *w, int32_t pid,
			  uint32_t nr_threads)
{
	w_proc_of(w, pid, 1, nr_threads);
}

static inline void w_zombie(struct img_writer *w, int32_t pid, int32_t ppid,
			    uint32_t status)
{
	struct img_proc p = {
		.pid = pid, .ppid = ppid, .pgid = 77, .sid = 1,
		.exit_status = status,
	};

	strcpy(p.comm, "undead");
	ck_assert_int_eq(img_write_zombie(w, &p), 0);
}

static inline void w_thread(struct img_writer *w, int32_t tid)
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
		.caps = thread_caps, .ks = thread_state,
		.seccomp = thread_seccomp, .own = thread_own,
	};
	int i;

	for (i = 0; i < 27; i++)
		regs[i] = (uint64_t)tid << 32 | i;
	fill(xs, sizeof(xs), tid);
	fill(si[0].data, IMG_SIGINFO_SIZE, 1);
	fill(si[1].data, IMG_SIGINFO_SIZE, 2);
	ck_assert_int_eq(img_write_thread(w, &t), 0);
}

static inline void w_vma(struct img_writer *w, uint64_t start, uint64_t end,
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

static inline void w_pages(struct img_writer *w, uint64_t addr, uint64_t n)
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

static inline void w_fd(struct img_writer *w, int32_t fd, uint32_t type,
			const char *fpath)
{
	struct img_fd f = {
		.fd = fd, .type = type, .flags = O_RDWR, .fdflags = 1,
		.pos = 77, .mode = 0100644, .dev = 5, .ino = 6, .size = 99,
		.path = (char *)fpath,
	};

	ck_assert_int_eq(img_write_fd(w, &f), 0);
}

static inline void w_sigacts(struct img_writer *w)
{
	struct img_sigact a[IMG_NSIG];
	int i;

	for (i = 0; i < IMG_NSIG; i++)
		a[i] = (struct img_sigact){ i, i + 100, i + 200, 1ull << i };
	ck_assert_int_eq(img_write_sigacts(w, a), 0);
}

static inline void w_file(struct img_writer *w, uint32_t id, uint32_t kind,
			  const char *fpath)
{
	struct img_file f = {
		.id = id, .kind = kind, .flags = O_WRONLY | O_NONBLOCK,
		.dev = 12, .ino = 3400 + id, .path = (char *)fpath,
		.pipe_size = 65536, .pos = 100ull * id + (1ull << 40),
	};

	ck_assert_int_eq(img_write_file(w, &f), 0);
}

/* A unix socket; peer is the id of its peer's file (inode 3400 + id). */
static inline void w_unix(struct img_writer *w, uint32_t id, uint32_t type,
			  uint32_t state, uint32_t peer, const char *name)
{
	struct img_file f = {
		.id = id, .kind = IMG_FILE_UNIX, .flags = O_RDWR,
		.dev = 9, .ino = 3400 + id, .path = (char *)name,
		.sk = { .type = type, .state = state,
			.peer = peer ? 3400 + peer : 0,
			.shutdown = IMG_SHUT_WR, .opts = IMG_UNIX_PASSCRED,
			.rcvbuf = 4608, .sndbuf = 8192,
			.backlog = state == IMG_UNIX_LISTENING ? 16 : 0 },
	};

	ck_assert_int_eq(img_write_file(w, &f), 0);
}

static inline void w_chunk(struct img_writer *w, uint32_t id, const char *data,
			   uint32_t flags)
{
	struct img_chunk ch = { .flags = flags, .len = strlen(data),
				.data = (uint8_t *)data };

	ck_assert_int_eq(img_write_file_chunk(w, id, &ch), 0);
}

static inline void w_file_fd(struct img_writer *w, int32_t fd, uint32_t file)
{
	struct img_fd f = { .fd = fd, .type = IMG_FD_FILE, .file = file };

	ck_assert_int_eq(img_write_fd(w, &f), 0);
}

static inline void w_shm(struct img_writer *w, uint32_t id, uint32_t kind,
			 uint64_t size)
{
	struct img_shm s = {
		.id = id, .kind = kind, .size = size, .mode = 0640,
		.uid = 7, .gid = 8,
	};

	if (kind == IMG_SHM_MEMFD) {
		s.name = "a memfd";
		s.seals = 0x9;
	}
	if (kind == IMG_SHM_SYSV) {
		s.key = 0x1234;
		s.shmid = 65537;
		s.flags = IMG_SHM_REMOVED;
	}
	ck_assert_int_eq(img_write_shm(w, &s), 0);
}

static inline void w_shm_vma(struct img_writer *w, uint64_t start, uint64_t end,
			     uint64_t pgoff, uint32_t flags, uint32_t shm)
{
	struct img_vma v = {
		.start = start, .end = end, .pgoff = pgoff, .prot = 3,
		.flags = flags, .shm = shm,
	};

	ck_assert_int_eq(img_write_vma(w, &v), 0);
}


/* ---- images to refuse, and the refusal checked -------------------------- */

/* A small valid image: one process, one thread, one VMA, one page. */
static inline uint8_t *small_image(size_t *len)
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
static inline void expect_refused(const void *buf, size_t len, uint32_t isa,
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

static inline void expect_file_refused(const char *want)
{
	size_t len;
	uint8_t *buf = load(path, &len);

	expect_refused(buf, len, IMG_ISA_X86_64, want);
	free(buf);
}

static inline void fix_header_crc(uint8_t *b)
{
	put_le32(b + IMG_HDR_CRC_OFF, img_crc32c(0, b, IMG_HDR_CRC_OFF));
}

/* An image begun with one process: its PROC says nr_threads, one THREAD. */
static inline struct img_writer *begin_proc(uint32_t nr_threads)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_proc(w, 10, nr_threads);
	w_thread(w, 10);
	return w;
}

/* Commits w, which the writer accepts and the reader must refuse. */
static inline void commit_expect_refused(struct img_writer *w,
					 const char *want)
{
	ck_assert_int_eq(img_writer_commit(w), 0);
	expect_file_refused(want);
}

/* ---- forged images: what the writer will not write ---------------------- */

/*
 * buf with one more record of type and payload put just before the
 * trailer, and the trailer rebuilt to index it: how an image the writer
 * refuses to produce is made. Returns the new buffer, its length in *len.
 */
static inline uint8_t *splice_record(uint8_t *buf, size_t *len, uint32_t type,
				     const void *payload, size_t plen)
{
	uint64_t off = IMG_HEADER_SIZE, n = 0, i, toff;
	size_t rec = IMG_REC_HDR_SIZE + plen + IMG_REC_CRC_SIZE, tlen;
	uint8_t *out, *p, c[4];
	uint32_t crc, chain = 0;

	while (get_le32(buf + off) != IMG_REC_TRAILER) {
		off += IMG_REC_HDR_SIZE + get_le64(buf + off + 8) +
		       IMG_REC_CRC_SIZE;
		n++;
	}
	toff = off;
	tlen = IMG_TRAILER_SIZE(n + 1);
	out = calloc(1, toff + rec + IMG_REC_HDR_SIZE + tlen +
		     IMG_REC_CRC_SIZE);
	ck_assert_ptr_nonnull(out);
	memcpy(out, buf, toff);
	p = out + toff;
	put_le32(p, type);
	put_le64(p + 8, plen);
	memcpy(p + IMG_REC_HDR_SIZE, payload, plen);
	crc = img_crc32c(0, p, IMG_REC_HDR_SIZE + plen);
	put_le32(p + IMG_REC_HDR_SIZE + plen, crc);
	/* the old index, one entry more, the chain over every CRC */
	p = out + toff + rec;
	put_le32(p, IMG_REC_TRAILER);
	put_le64(p + 8, tlen);
	put_le64(p + IMG_REC_HDR_SIZE, n + 1);
	memcpy(p + IMG_REC_HDR_SIZE + 8, buf + toff + IMG_REC_HDR_SIZE + 8,
	       n * IMG_TRAILER_ENTRY);
	put_le32(p + IMG_REC_HDR_SIZE + 8 + n * IMG_TRAILER_ENTRY, type);
	put_le32(p + IMG_REC_HDR_SIZE + 8 + n * IMG_TRAILER_ENTRY + 4, crc);
	put_le64(p + IMG_REC_HDR_SIZE + 8 + n * IMG_TRAILER_ENTRY + 8, toff);
	put_le64(p + IMG_REC_HDR_SIZE + 8 + n * IMG_TRAILER_ENTRY + 16, plen);
	for (i = 0; i <= n; i++) {
		memcpy(c, p + IMG_REC_HDR_SIZE + 8 + i * IMG_TRAILER_ENTRY + 4,
		       4);
		chain = img_crc32c(chain, c, 4);
	}
	put_le32(p + IMG_REC_HDR_SIZE + tlen - 4, chain);
	put_le32(p + IMG_REC_HDR_SIZE + tlen,
		 img_crc32c(0, p, IMG_REC_HDR_SIZE + tlen));
	*len = toff + rec + IMG_REC_HDR_SIZE + tlen + IMG_REC_CRC_SIZE;
	free(buf);
	return out;
}

/* Appends one framed record to buf at *len; its index entry to idx. */
static inline void forge_record(uint8_t *buf, size_t *len,
				struct img_index_ent *idx,
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

/* ---- suites ------------------------------------------------------------- */

/* A test case of s whose tests each run in a fresh temporary directory. */
static inline TCase *image_tcase(Suite *s, const char *name)
{
	TCase *tc = unit_tcase(s, name, 60);

	tcase_add_checked_fixture(tc, setup, unit_tmpdir_teardown);
	return tc;
}

static inline void add(TCase *tc, const TTest *t)
{
	tcase_add_test(tc, t);
}

#endif
