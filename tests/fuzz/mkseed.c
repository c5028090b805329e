/*
 * mkseed: writes the fuzzer's seed images into the directory given, with
 * the real writer: a minimal image, one with every record type, and one
 * per family of records added since (shared memory, file table, ghosts,
 * sockets and ptys, mounts and file snapshots, AIO contexts); make fuzz adds real images (real-seeds.sh). Seeds
 * are generated at build time so that no binary file lives in git.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "image/image.h"

#define PS	4096u

static int header(struct img_writer *w)
{
	struct img_header h = { .isa = IMG_ISA_X86_64, .page_size = PS };

	strcpy(h.kernel, "6.1.0");
	strcpy(h.writer, "ckpt 0.4.0");
	return img_write_header(w, &h);
}

static int proc(struct img_writer *w, int32_t pid, uint32_t nr_threads)
{
	static uint64_t auxv[] = { 6, 4096, 0, 0 };
	struct img_proc p = {
		.pid = pid, .ppid = 1, .nr_threads = nr_threads,
		.exe = "/bin/sh", .cwd = "/", .nr_auxv = 4, .auxv = auxv,
		.nr_rlimits = 1, .rlimits = { { 8 << 20, ~0ull } },
	};

	strcpy(p.comm, "sh");
	return img_write_proc(w, &p);
}

static int thread_own(struct img_writer *w, int32_t tid,
		      const struct img_tshare *own)
{
	uint64_t regs[4] = { 1, 2, 3, 4 };
	uint8_t xs[16] = { 0x7f };
	struct img_siginfo si = { .shared = 1 };
	struct img_thread t = {
		.tid = tid, .regs_isa = IMG_ISA_X86_64, .nr_regs = 4,
		.regs = regs, .xstate_len = sizeof(xs), .xstate = xs,
		.nr_siginfo = 1, .siginfo = &si,
	};

	if (own)
		t.own = *own;
	return img_write_thread(w, &t);
}

static int thread(struct img_writer *w, int32_t tid)
{
	return thread_own(w, tid, NULL);
}

static int vma(struct img_writer *w, uint64_t start, uint64_t end,
	       const char *path)
{
	/* the stack's last page a guard region */
	struct img_range guard = { end - PS, end };
	struct img_vma v = { .start = start, .end = end, .prot = 3,
			     .flags = IMG_VMA_ANON, .path = (char *)path };

	if (path) {
		v.nr_guards = 1;
		v.guards = &guard;
	}
	return img_write_vma(w, &v);
}

static int pages(struct img_writer *w, uint64_t addr)
{
	static uint8_t page[PS] = { 1, 2, 3 };

	if (img_write_pages_begin(w, addr, 1) ||
	    img_write_pages_data(w, page, PS))
		return -1;
	return img_write_pages_end(w);
}

static int rich(struct img_writer *w)
{
	struct img_fd f = { .fd = 1, .type = IMG_FD_REG, .path = "/tmp/f" };
	struct img_sigact acts[IMG_NSIG] = { { .handler = 1 } };
	/* the second thread has its own cwd and fd table */
	struct img_tfd tfd = { .fd = 0, .src = 1, .fdflags = 1 };
	struct img_tshare own = {
		.own = IMG_SHARE_FS | IMG_SHARE_FILES, .umask = 077,
		.cwd = "/tmp", .nr_fds = 1, .fds = &tfd,
	};

	return header(w) || proc(w, 5, 2) || thread(w, 5) ||
	       thread_own(w, 6, &own) || vma(w, 0x1000, 0x3000, NULL) ||
	       vma(w, 0x5000, 0x6000, "[stack]") || pages(w, 0x2000) ||
	       img_write_fd(w, &f) || img_write_sigacts(w, acts) ||
	       proc(w, 7, 1) || thread(w, 7) || vma(w, 0x1000, 0x2000, NULL);
}

static int minimal(struct img_writer *w)
{
	return header(w) || proc(w, 1, 1) || thread(w, 1) ||
	       vma(w, 0x1000, 0x2000, NULL) || pages(w, 0x1000);
}

/* Shared memory objects, their pages, and the VMAs of two processes that
 * map them; an fd of the memfd. */
static int shared(struct img_writer *w)
{
	struct img_shm m = { .id = 1, .kind = IMG_SHM_MEMFD, .size = 2 * PS,
			     .mode = 0600, .seals = 1, .name = "seed" };
	struct img_shm y = { .id = 2, .kind = IMG_SHM_SYSV, .size = PS,
			     .key = 0x1234, .shmid = 3, .mode = 0600 };
	struct img_vma a = { .start = 0x1000, .end = 0x3000, .prot = 3,
			     .flags = IMG_VMA_SHARED, .shm = 1 };
	struct img_vma b = { .start = 0x8000, .end = 0x9000, .prot = 1,
			     .flags = IMG_VMA_SHARED | IMG_VMA_NOWRITE,
			     .shm = 2 };
	struct img_file f = { .id = 1, .kind = IMG_FILE_MEMFD,
			      .flags = O_RDWR, .pos = 3, .shm = 1 };
	struct img_fd fd = { .fd = 4, .type = IMG_FD_FILE, .file = 1 };

	return header(w) || img_write_file(w, &f) || img_write_shm(w, &m) ||
	       pages(w, PS) || img_write_shm(w, &y) || pages(w, 0) ||
	       proc(w, 5, 1) || thread(w, 5) || img_write_fd(w, &fd) ||
	       img_write_vma(w, &a) || img_write_vma(w, &b) ||
	       proc(w, 6, 1) || thread(w, 6) || img_write_vma(w, &a);
}

/* Files no path reaches: a regular file with a hole, open (locked, with
 * a SIGIO owner) and mapped, and a directory that is the cwd. */
static int ghosts(struct img_writer *w)
{
	struct img_file f = { .id = 1, .kind = IMG_FILE_GHOST,
			      .flags = O_RDWR, .pos = 9, .ghost = 1 };
	struct img_ghost g = { .id = 1, .mode = 0100600, .size = 3 * PS,
			       .dev = 8, .ino = 9, .path = "/tmp/seed" };
	struct img_ghost d = { .id = 2, .mode = 040700, .dev = 8, .ino = 10,
			       .path = "/tmp/dir" };
	struct img_fd fd = { .fd = 3, .type = IMG_FD_FILE, .file = 1 };
	struct img_lock l = { .fd = 3, .kind = IMG_LOCK_POSIX, .write = 1,
			      .start = 5, .len = 10 };
	struct img_fown o = { .fd = 3, .type = IMG_FOWN_PID, .pid = 5,
			      .sig = 40 };
	struct img_vma v = { .start = 0x1000, .end = 0x3000, .prot = 3,
			     .flags = IMG_VMA_SHARED | IMG_VMA_GHOST,
			     .dev = 8, .ino = 9 };
	struct img_proc p = { .pid = 5, .ppid = 1, .pgid = 5, .sid = 5,
			      .nr_threads = 1, .comm = "seed",
			      .cwd = "/tmp/dir (deleted)" };

	return header(w) || img_write_file(w, &f) || img_write_ghost(w, &g) ||
	       pages(w, 2 * PS) || img_write_ghost(w, &d) ||
	       img_write_proc(w, &p) || thread(w, 5) ||
	       img_write_fd(w, &fd) || img_write_lock(w, &l) ||
	       img_write_fown(w, &o) || img_write_vma(w, &v);
}

/* Two AIO contexts: one with an event not reaped, in the slot after a
 * free one, and an empty one, beside an anonymous mapping. */
static int aio(struct img_writer *w)
{
	static uint8_t r1[PS], r2[2 * PS];
	const uint32_t h1[4] = { 1, 127, 5, 6 }, h2[4] = { 0, 255, 0, 0 };
	struct img_aio a1 = { .ring = 0x10000, .max_reqs = 8, .nr_events = 127,
			      .prot = 3, .len = PS, .data = r1 };
	struct img_aio a2 = { .ring = 0x20000, .max_reqs = 100,
			      .nr_events = 255, .prot = 1, .len = 2 * PS,
			      .data = r2 };
	struct img_vma v = { .start = 0x1000, .end = 0x3000, .prot = 3,
			     .flags = IMG_VMA_ANON };

	memcpy(r1, h1, sizeof(h1));
	memset(r1 + 32 + 5 * 32, 0xa5, 32);	/* the event */
	memcpy(r2, h2, sizeof(h2));
	return header(w) || proc(w, 5, 1) || thread(w, 5) ||
	       img_write_aio(w, &a1) || img_write_aio(w, &a2) ||
	       img_write_vma(w, &v);
}

/* The file table: a pipe with bytes in flight, a datagram socket pair
 * with two messages (one end named with a NUL byte), an eventfd and an
 * epoll watching it, a shared regular file, pidfds of a process and of a
 * reaped one; two processes naming them and a zombie. */
static int files_fill(struct img_writer *w)
{
	struct img_epoll_watch ew = { .file = 5, .tfd = 6, .events = 1,
				      .data = 7 };
	struct img_file f[] = {
		{ .id = 1, .kind = IMG_FILE_PIPE, .ino = 10,
		  .pipe_size = 65536 },
		{ .id = 2, .kind = IMG_FILE_PIPE, .flags = 1, .ino = 10 },
		{ .id = 3, .kind = IMG_FILE_UNIX, .flags = 2, .ino = 20,
		  .path = "@seed\\0x",
		  .sk = { .type = 2, .state = IMG_UNIX_CONNECTED, .peer = 21,
			  .opts = IMG_UNIX_ESCAPED } },
		{ .id = 4, .kind = IMG_FILE_UNIX, .flags = 2, .ino = 21,
		  .sk = { .type = 2, .state = IMG_UNIX_CONNECTED, .peer = 20 } },
		{ .id = 5, .kind = IMG_FILE_EVENTFD, .flags = 2, .ino = 30,
		  .efd = { .count = 3 } },
		{ .id = 6, .kind = IMG_FILE_EPOLL, .flags = 2, .ino = 30,
		  .ep = { .nr = 1, .w = &ew } },
		{ .id = 7, .kind = IMG_FILE_REG, .flags = 1, .ino = 40,
		  .path = "/tmp/seed.log", .pos = 12 },
		{ .id = 8, .kind = IMG_FILE_PIDFD, .flags = 2, .ino = 50,
		  .pidfd = { .pid = 6 } },
		{ .id = 9, .kind = IMG_FILE_PIDFD, .flags = 2, .ino = 51,
		  .pidfd = { .status = 9 } },
	};
	struct img_proc z = { .pid = 7, .ppid = 5, .pgid = 5, .sid = 1,
			      .exit_status = 3 << 8, .comm = "z" };
	struct img_chunk ab = { .flags = IMG_CHUNK_EOR, .len = 2,
				.data = (uint8_t *)"ab" };
	struct img_chunk empty = { .flags = IMG_CHUNK_EOR };
	struct img_fd fd = { .type = IMG_FD_FILE };
	size_t i;

	if (header(w))
		return -1;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (img_write_file(w, &f[i]))
			return -1;
		if (f[i].id == 1 && img_write_file_data(w, 1, "bytes", 5))
			return -1;
		if (f[i].id == 3 &&
		    (img_write_file_chunk(w, 3, &ab) ||
		     img_write_file_chunk(w, 3, &empty)))
			return -1;
	}
	if (proc(w, 5, 1) || thread(w, 5))
		return -1;
	for (i = 1; i <= sizeof(f) / sizeof(f[0]); i++) {
		fd.fd = i + 2;
		fd.file = i;
		if (img_write_fd(w, &fd))
			return -1;
	}
	return proc(w, 6, 1) || thread(w, 6) || img_write_zombie(w, &z);
}

/* An established TCP pair over loopback with bytes in both queues. */
static void tcp_end(struct img_file *f, uint32_t id, uint32_t port,
		    uint32_t peer, uint32_t snd, uint32_t rcv)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };

	f->id = id;
	f->kind = IMG_FILE_TCP;
	f->flags = O_RDWR;
	f->ino = 50 + id;
	f->inet.family = AF_INET;
	f->inet.state = IMG_INET_ESTABLISHED;
	memcpy(f->inet.addr, lo, 4);
	memcpy(f->inet.peer_addr, lo, 4);
	f->inet.port = port;
	f->inet.peer_port = peer;
	f->inet.opt_mask = 1u << IMG_SO_RCVBUF | 1u << IMG_SO_SNDBUF |
			   1u << IMG_TCP_NODELAY;
	f->inet.opt[IMG_SO_RCVBUF] = 131072;
	f->inet.opt[IMG_SO_SNDBUF] = 16384;
	f->inet.opt[IMG_TCP_NODELAY] = 1;
	f->inet.tcp = (struct img_tcp){
		.snd_seq = snd, .rcv_seq = rcv, .sendq_len = 3,
		.unsent_len = 1, .recvq_len = 2,
		.opts = IMG_TCP_SACK | IMG_TCP_TSTAMP | IMG_TCP_WSCALE,
		.snd_wscale = 7, .rcv_wscale = 7, .mss = 65483,
		.timestamp = 12345, .snd_wl1 = rcv + 2, .snd_wnd = 65535,
		.max_window = 65535, .rcv_wnd = 65535, .rcv_wup = rcv + 2,
	};
}

static int tcp_chunks(struct img_writer *w, uint32_t id)
{
	struct img_chunk r = { .len = 2, .data = (uint8_t *)"rq" };
	struct img_chunk q = { .flags = IMG_CHUNK_SENDQ, .len = 3,
			       .data = (uint8_t *)"sq!" };

	return img_write_file_chunk(w, id, &r) ||
	       img_write_file_chunk(w, id, &q);
}

/* The sockets and ptys: a TCP pair, a UDP socket with a datagram and its
 * sender, a netlink socket, a pty master and its slave; a process with
 * a POSIX timer, a stop, a seccomp filter and a locked mapping. */
static int net(struct img_writer *w)
{
	static const uint8_t from[6] = { 127, 0, 0, 1, 0x13, 0x88 };
	static uint64_t bpf[] = { 0x6 | (0x7fff0000ull << 32) };
	struct img_seccomp_filter flt = { .len = 1, .insns = bpf };
	struct img_timer tm = { .id = 0, .clockid = 1, .signo = 14,
				.value_ns = 5000000, .interval_ns = 1000000 };
	struct img_file f[6];
	struct img_chunk ca = { .flags = IMG_CHUNK_ADDR, .len = 6,
				.data = (uint8_t *)from };
	struct img_chunk cd = { .flags = IMG_CHUNK_EOR, .len = 4,
				.data = (uint8_t *)"dgrm" };
	struct img_proc p = { .pid = 5, .ppid = 1, .pgid = 5, .sid = 5,
			      .nr_threads = 1, .comm = "net", .exe = "/bin/sh",
			      .cwd = "/", .ks = { .stop_sig = 19,
						  .wait = IMG_WAIT_STOPPED,
						  .loginuid = ~0u,
						  .nr_timers = 1,
						  .timers = &tm,
						  .exit_signal = 17 } };
	uint64_t regs[4] = { 1, 2, 3, 4 };
	struct img_thread t = {
		.tid = 5, .regs_isa = IMG_ISA_X86_64, .nr_regs = 4,
		.regs = regs, .seccomp = { .mode = IMG_SECCOMP_FILTER,
					   .nr_filters = 1, .filters = &flt },
	};
	struct img_vma v = { .start = 0x1000, .end = 0x3000, .prot = 3,
			     .flags = IMG_VMA_ANON | IMG_VMA_LOCKED };
	struct img_vma v2 = { .start = 0x4000, .end = 0x5000, .prot = 3,
			      .flags = IMG_VMA_ANON | IMG_VMA_LOCKED |
				       IMG_VMA_LOCKONFAULT };
	struct img_fd fd = { .type = IMG_FD_FILE };
	uint32_t i;

	memset(f, 0, sizeof(f));
	/* each has received one of the two bytes the other sent */
	tcp_end(&f[0], 1, 5000, 5001, 1000, 3000);
	tcp_end(&f[1], 2, 5001, 5000, 3001, 999);
	f[2] = (struct img_file){ .id = 3, .kind = IMG_FILE_UDP,
		.flags = O_RDWR, .ino = 60, .inet = { .family = AF_INET,
		.state = IMG_INET_UNCONNECTED, .port = 5002 } };
	f[3] = (struct img_file){ .id = 4, .kind = IMG_FILE_NETLINK,
		.flags = O_RDWR, .ino = 61, .nl = { .protocol = 0,
		.type = 3, .portid = 5, .groups = { 1 }, .opts = 1u << 3 } };
	f[4] = (struct img_file){ .id = 5, .kind = IMG_FILE_PTY_MASTER,
		.flags = O_RDWR, .ino = 62, .tty = { .index = 3,
		.flags = IMG_TTY_PACKET, .cflag = 0277, .lflag = 0105073,
		.ispeed = 15, .ospeed = 15, .rows = 24, .cols = 80,
		.sid = 5, .pgrp = 5 } };
	f[5] = (struct img_file){ .id = 6, .kind = IMG_FILE_PTY_SLAVE,
		.flags = O_RDWR, .ino = 63, .tty = { .index = 3 } };
	if (header(w))
		return -1;
	for (i = 0; i < 6; i++) {
		if (img_write_file(w, &f[i]))
			return -1;
		if (i < 2 && tcp_chunks(w, f[i].id))
			return -1;
		if (i == 2 && (img_write_file_chunk(w, 3, &ca) ||
			       img_write_file_chunk(w, 3, &cd)))
			return -1;
	}
	if (img_write_proc(w, &p) || img_write_thread(w, &t) ||
	    img_write_vma(w, &v) || pages(w, 0x1000) || img_write_vma(w, &v2))
		return -1;
	for (i = 0; i < 6; i++) {
		fd.fd = i + 3;
		fd.file = i + 1;
		if (img_write_fd(w, &fd))
			return -1;
	}
	return 0;
}

/* A pty pair in canonical mode with bytes both ways (a line, one VEOF
 * ended, one begun; output), a terminal outside the tree; a process on
 * all three. */
static int ttys(struct img_writer *w)
{
	struct img_tty t = { .index = 3, .lflag = 0x8a3b, .rows = 24,
			     .cols = 80, .sid = 5, .pgrp = 5 };
	struct img_file f[] = {
		{ .id = 1, .kind = IMG_FILE_PTY_MASTER, .flags = 2, .tty = t },
		{ .id = 2, .kind = IMG_FILE_PTY_SLAVE, .flags = 2,
		  .tty = { .index = 3 } },
		{ .id = 3, .kind = IMG_FILE_TTY, .flags = 2, .tty = t,
		  .path = "/dev/pts/9" },
	};
	struct img_chunk ch[] = {
		{ .flags = IMG_CHUNK_TTY_IN, .len = 3, .data = (uint8_t *)"ls\n" },
		{ .flags = IMG_CHUNK_TTY_IN | IMG_CHUNK_EOR, .len = 2,
		  .data = (uint8_t *)"ab" },
		{ .flags = IMG_CHUNK_TTY_IN, .len = 2, .data = (uint8_t *)"ha" },
		{ .len = 4, .data = (uint8_t *)"out\n" },
	};
	struct img_fd fd = { .type = IMG_FD_FILE };
	size_t i;

	f[0].tty.cc[VEOF] = 4;
	f[2].tty.index = 9;
	if (header(w) || img_write_file(w, &f[0]))
		return -1;
	for (i = 0; i < sizeof(ch) / sizeof(ch[0]); i++)
		if (img_write_file_chunk(w, 1, &ch[i]))
			return -1;
	if (img_write_file(w, &f[1]) || img_write_file(w, &f[2]) ||
	    proc(w, 5, 1) || thread(w, 5))
		return -1;
	for (i = 1; i <= 2; i++) {
		fd.fd = i + 2;
		fd.file = i;
		if (img_write_fd(w, &fd))
			return -1;
	}
	fd = (struct img_fd){ .fd = 0, .type = IMG_FD_TTY,
			      .path = "/dev/pts/9" };
	return img_write_fd(w, &fd);
}

static int seed(const char *dir, const char *name,
		int (*fill)(struct img_writer *))
{
	struct img_writer *w;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	w = img_writer_open(path);
	if (!w)
		return -1;
	if (fill(w)) {
		img_writer_abort(w);
		return -1;
	}
	return img_writer_commit(w);
}

/* A mount namespace (a pivoted root, a tmpfs and its files) and a file
 * snapshot held in the image (SNAPFILE, SNAPDATA). */
static int mounts(struct img_writer *w)
{
	struct img_ns ns = { .kind = IMG_NS_MNT, .owner = 10, .id = 5 };
	struct img_mount root = {
		.id = 1, .kind = IMG_MNT_ROOT, .flags = 0x200000, .dev = 0x26,
		.point = "/", .fstype = "ext4", .source = "/dev/vda",
		.options = "", .host = "/srv/box",
	}, tmp = {
		.id = 2, .kind = IMG_MNT_TMPFS, .flags = 0x200002, .dev = 0x27,
		.point = "/tmp", .fstype = "tmpfs", .source = "box",
		.options = "size=1024k",
	};
	struct img_mntfile top = { .mount = 2, .mode = S_IFDIR | 01777,
				   .path = "" },
		file = { .mount = 2, .mode = S_IFREG | 0640, .size = 100,
			 .offset = 10, .len = 5, .data = (uint8_t *)"hello",
			 .path = "a" },
		link = { .mount = 2, .mode = S_IFLNK | 0777, .path = "l",
			 .link = "/etc/passwd" };
	struct img_snapfile snap = { .flags = IMG_SNAP_INLINE,
				     .mode = S_IFREG | 0600, .data = 5,
				     .size = 100, .path = "/d/f" };

	return header(w) || img_write_ns(w, &ns) ||
	       img_write_mount(w, &root) || img_write_mount(w, &tmp) ||
	       img_write_mntfile(w, &top) || img_write_mntfile(w, &file) ||
	       img_write_mntfile(w, &link) || proc(w, 10, 1) ||
	       thread(w, 10) || img_write_snapfile(w, &snap) ||
	       img_write_snapdata(w, 5, 10, "abcd", 4);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseed DIR\n");
		return 2;
	}
	log_init("mkseed", LOG_WARN);
	if (seed(argv[1], "minimal.ckpt", minimal) ||
	    seed(argv[1], "rich.ckpt", rich) ||
	    seed(argv[1], "shared.ckpt", shared) ||
	    seed(argv[1], "files.ckpt", files_fill) ||
	    seed(argv[1], "ghosts.ckpt", ghosts) ||
	    seed(argv[1], "aio.ckpt", aio) ||
	    seed(argv[1], "net.ckpt", net) ||
	    seed(argv[1], "ttys.ckpt", ttys) ||
	    seed(argv[1], "mounts.ckpt", mounts))
		return 1;
	return 0;
}
