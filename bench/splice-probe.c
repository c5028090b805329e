/*
 * Where the time of a memory dump goes, and what a single copy would win
 * (issue 13 §1), without ptrace: the kernel's part of each way of moving
 * a child's memory into a file, measured side by side on the same memory
 * in one run, the order rotated between rounds, medians printed.
 *
 *   write   the child write(2)s its memory (64 MiB chunks) + fsync: the
 *           page-cache baseline of bench/run.sh
 *   pvr1M   the parent process_vm_readv()s 1 MiB chunks, CRC32C, write(2),
 *           + fsync: ckpt's path today (without its reader thread)
 *   pvr256K the same in 256 KiB chunks (a buffer that stays in L2)
 *   pvr+sfr pvr256K, with sync_file_range(SYNC_FILE_RANGE_WRITE) of each
 *           32 MiB written: the disk writes start while the copy goes on,
 *           leaving less to the fsync
 *   splice  the child vmsplice()s its memory into a pipe (F_SETPIPE_SZ
 *           PIPE_MIB), the parent splice()s the pipe to the file, then
 *           CRC32C of the file read back through mmap, + fsync: the single
 *           copy, with the CRC the image needs taken from the page cache
 *   splice0 the same without the CRC: the floor of the single copy
 *   spl+rd  splice, the CRC of each pipeful read back with pread(2) into a
 *           256 KiB buffer right after its splice (the bytes still in the
 *           CPU's cache)
 *
 * Each is timed twice: wall time, and the CPU time (user + system) of
 * both processes, which the load of a shared machine disturbs far less.
 *
 * The single copy here is optimistic: the child makes its own vmsplice
 * calls and runs beside the parent, where ckpt would make each one a
 * remote call (a ptrace round trip) in a frozen target.
 *
 *   splice-probe DIR [MIB [ROUNDS [PIPE_MIB]]]
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WCHUNK	(64UL << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = ~crc;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int ctl[2], ack[2], pp[2];
static char *mem;
static size_t size;
static char path[4096];

static void child_loop(void)
{
	char cmd;
	size_t off;
	ssize_t r;
	int fd;

	while (read(ctl[0], &cmd, 1) == 1) {
		if (cmd == 'w') {
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0)
				die(path);
			for (off = 0; off < size; off += r) {
				r = write(fd, mem + off, size - off < WCHUNK ?
					  size - off : WCHUNK);
				if (r <= 0)
					die("write");
			}
			if (fsync(fd) || close(fd))
				die("fsync");
		} else if (cmd == 's') {
			for (off = 0; off < size; off += r) {
				struct iovec v = { mem + off, size - off };

				r = vmsplice(pp[1], &v, 1, 0);
				if (r <= 0)
					die("vmsplice");
			}
		}
		if (write(ack[1], &cmd, 1) != 1)
			die("ack");
	}
	exit(0);
}

static void ask(char cmd)
{
	if (write(ctl[1], &cmd, 1) != 1)
		die("ctl");
}

static void wait_ack(void)
{
	char c;

	if (read(ack[0], &c, 1) != 1)
		die("ack");
}

static uint64_t do_write(void)
{
	uint64_t t = now_ns();

	ask('w');
	wait_ack();
	return now_ns() - t;
}

#define SFR_STEP	(32UL << 20)

static uint64_t do_pvr(pid_t pid, size_t chunk, int sfr, uint32_t *crcp)
{
	uint64_t t = now_ns();
	char *buf = malloc(chunk);
	uint32_t crc = 0;
	size_t off;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !buf)
		die(path);
	for (off = 0; off < size; off += chunk) {
		struct iovec l = { buf, chunk }, r = { mem + off, chunk };

		if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)chunk)
			die("process_vm_readv");
		crc = crc32c(crc, (uint8_t *)buf, chunk);
		if (write(fd, buf, chunk) != (ssize_t)chunk)
			die("write");
		if (sfr && (off + chunk) % SFR_STEP == 0 &&
		    sync_file_range(fd, off + chunk - SFR_STEP, SFR_STEP,
				    SYNC_FILE_RANGE_WRITE))
			die("sync_file_range");
	}
	if (fsync(fd) || close(fd))
		die("fsync");
	free(buf);
	*crcp = crc;
	return now_ns() - t;
}

static uint64_t do_splice(int want_crc, uint32_t *crcp)
{
	static char rb[256 << 10];
	uint64_t t = now_ns();
	loff_t off = 0, done = 0;
	uint32_t crc = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	ask('s');
	while ((size_t)off < size) {
		r = splice(pp[0], NULL, fd, &off, size - off, SPLICE_F_MOVE);
		if (r <= 0)
			die("splice");
		while (want_crc == 2 && off - done >= (loff_t)sizeof(rb)) {
			if (pread(fd, rb, sizeof(rb), done) != sizeof(rb))
				die("pread");
			crc = crc32c(crc, (uint8_t *)rb, sizeof(rb));
			done += sizeof(rb);
		}
	}
	wait_ack();
	if (want_crc == 1) {
		/* in pieces, as the image's records are */
		size_t k, piece = 64UL << 20;

		for (k = 0; k < size; k += piece) {
			void *p = mmap(NULL, piece, PROT_READ,
				       MAP_SHARED | MAP_POPULATE, fd, k);

			if (p == MAP_FAILED)
				die("mmap");
			crc = crc32c(crc, p, piece);
			munmap(p, piece);
		}
	}
	if (fsync(fd) || close(fd))
		die("fsync");
	*crcp = crc;
	return now_ns() - t;
}

/* CPU time of us and of the child pid so far (the child's in ticks). */
static uint64_t cpu_ns(pid_t pid)
{
	unsigned long long ut = 0, st = 0;
	struct rusage ru;
	char p[64], buf[1024], *q;
	uint64_t ns;
	FILE *f;

	getrusage(RUSAGE_SELF, &ru);
	ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (f && fgets(buf, sizeof(buf), f) && (q = strrchr(buf, ')')))
		sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		       "%llu %llu", &ut, &st);
	if (f)
		fclose(f);
	return ns + (ut + st) * (1000000000ULL / sysconf(_SC_CLK_TCK));
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define NM 7
static const char *const names[NM] = {
	"write", "pvr1M", "pvr256K", "splice", "splice0", "pvr+sfr", "spl+rd"
};

int main(int argc, char **argv)
{
	int mib = argc > 2 ? atoi(argv[2]) : 1024;
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	int pipe_mib = argc > 4 ? atoi(argv[4]) : 16;
	uint64_t t[NM][64], cpu[NM][64], c0, x = 88172645463325252ULL;
	uint32_t crc[NM] = { 0 };
	pid_t pid;
	size_t i;
	int r, k, m;

	if (argc < 2 || rounds < 1 || rounds > 64 || mib < 1) {
		fprintf(stderr, "usage: splice-probe DIR [MIB [ROUNDS [PIPE_MIB]]]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/splice-probe.tmp", argv[1]);
	size = (size_t)mib << 20;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	if (pipe(ctl) || pipe(ack) || pipe(pp))
		die("pipe");
	if (fcntl(pp[1], F_SETPIPE_SZ, pipe_mib << 20) < 0)
		perror("F_SETPIPE_SZ (the default size is used)");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		for (i = 0; i < size / 8; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			((uint64_t *)mem)[i] = x;
		}
		child_loop();
	}
	/* the parent's copy of the mapping is never touched: its pages
	 * stay unallocated; the child fills its own, then says so */
	ask('n');
	wait_ack();
	printf("splice-probe: %d MiB, %d rounds, pipe %d MiB (%d)\n", mib,
	       rounds, pipe_mib, fcntl(pp[1], F_GETPIPE_SZ) >> 20);
	printf("%-6s", "round");
	for (m = 0; m < NM; m++)
		printf(" %8s", names[m]);
	printf("\n");
	for (r = 0; r < rounds; r++) {
		printf("%-6d", r + 1);
		for (k = 0; k < NM; k++) {
			m = (k + r) % NM;
			unlink(path);
			sync();
			c0 = cpu_ns(pid);
			switch (m) {
			case 0: t[m][r] = do_write(); break;
			case 1: t[m][r] = do_pvr(pid, 1UL << 20, 0, &crc[m]); break;
			case 2: t[m][r] = do_pvr(pid, 256UL << 10, 0, &crc[m]); break;
			case 5: t[m][r] = do_pvr(pid, 256UL << 10, 1, &crc[m]); break;
			case 6: t[m][r] = do_splice(2, &crc[m]); break;
			case 3: t[m][r] = do_splice(1, &crc[m]); break;
			case 4: t[m][r] = do_splice(0, &crc[m]); break;
			}
			cpu[m][r] = cpu_ns(pid) - c0;
		}
		for (m = 0; m < NM; m++)
			printf(" %8.3f", t[m][r] / 1e9);
		printf("\n");
		fflush(stdout);
	}
	unlink(path);
	printf("%-6s", "median");
	for (m = 0; m < NM; m++) {
		qsort(t[m], rounds, sizeof(t[m][0]), cmp);
		qsort(cpu[m], rounds, sizeof(cpu[m][0]), cmp);
		printf(" %8.3f", t[m][rounds / 2] / 1e9);
	}
	printf("\n%-6s", "cpu");
	for (m = 0; m < NM; m++)
		printf(" %8.3f", cpu[m][rounds / 2] / 1e9);
	printf("\n(seconds: wall per round, its median, the median CPU time)"
	       "\nratio to write, wall:");
	for (m = 1; m < NM; m++)
		printf(" %s %.2f", names[m], (double)t[m][rounds / 2] /
		       t[0][rounds / 2]);
	printf("\nratio to write, cpu: ");
	for (m = 1; m < NM; m++)
		printf(" %s %.2f", names[m], (double)cpu[m][rounds / 2] /
		       cpu[0][rounds / 2]);
	printf("\n");
	if (crc[1] != crc[2] || crc[1] != crc[3] || crc[1] != crc[5] ||
	    crc[1] != crc[6])
		printf("CRC MISMATCH: %08x %08x %08x %08x %08x\n", crc[1],
		       crc[2], crc[3], crc[5], crc[6]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
