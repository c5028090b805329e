/*
 * The process the benchmark checkpoints: SIZE bytes of incompressible
 * anonymous memory (xorshift64), then idle. It holds no fd but 0-2 while
 * it idles, as ckpt refuses pipes and sockets elsewhere.
 *
 *   target SIZE_MIB DIR [BASE]
 *
 * DIR/ready  written once the memory is filled: "CHECKSUM NSEC", as sum.
 * SIGUSR1    writes DIR/sum: "CHECKSUM NSEC" (the pass over the memory and
 *            how long it took, which shows what a restore left owed).
 * SIGUSR2    the dump baseline: writes the memory to BASE (DIR/base.img) with
 *            write(2) in 64 MiB chunks and fsync(2), as the image writer
 *            commits, then DIR/wrote: "NSEC FSYNC_NSEC CPU_NSEC", the last
 *            the CPU time (user + system) the write and fsync took: a
 *            figure the load of a shared machine disturbs less than the
 *            wall time.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	(64UL << 20)

static volatile sig_atomic_t want_sum, want_write;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_sum = 1;
	else
		want_write = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t checksum(const uint64_t *p, size_t n)
{
	uint64_t h[4] = { 1, 2, 3, 4 };
	size_t i;

	/* four lanes so the multiply chains overlap */
	for (i = 0; i + 4 <= n; i += 4) {
		h[0] = (h[0] ^ p[i]) * 0x100000001b3ULL;
		h[1] = (h[1] ^ p[i + 1]) * 0x100000001b3ULL;
		h[2] = (h[2] ^ p[i + 2]) * 0x100000001b3ULL;
		h[3] = (h[3] ^ p[i + 3]) * 0x100000001b3ULL;
	}
	return h[0] ^ (h[1] << 1) ^ (h[2] << 2) ^ (h[3] << 3);
}

/* Write text to dir/name by way of a temporary file, so readers see all. */
static void put_file(const char *dir, const char *name, const char *text)
{
	char tmp[4096], path[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(tmp);
		exit(1);
	}
	close(fd);
	if (rename(tmp, path)) {
		perror(path);
		exit(1);
	}
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	       1000000000ULL +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static void write_baseline(const char *dir, const char *path,
			   const char *mem, size_t size)
{
	char text[96];
	uint64_t t0, t1, t2, c0 = cpu_ns();
	size_t off;
	ssize_t r;
	int fd;

	t0 = now_ns();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	for (off = 0; off < size; off += r) {
		r = write(fd, mem + off, size - off < CHUNK ? size - off : CHUNK);
		if (r <= 0) {
			perror(path);
			exit(1);
		}
	}
	t1 = now_ns();
	if (fsync(fd) || close(fd)) {
		perror(path);
		exit(1);
	}
	t2 = now_ns();
	snprintf(text, sizeof(text), "%llu %llu %llu\n",
		 (unsigned long long)(t2 - t0), (unsigned long long)(t2 - t1),
		 (unsigned long long)(cpu_ns() - c0));
	put_file(dir, "wrote", text);
}

int main(int argc, char **argv)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	struct sigaction sa;
	uint64_t *mem, x = 0x9e3779b97f4a7c15ULL, t0;
	size_t size, n, i;
	char text[64];
	char base[4096];
	const char *dir;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: target SIZE_MIB DIR [BASE]\n");
		return 2;
	}
	size = strtoull(argv[1], NULL, 0) << 20;
	dir = argv[2];
	snprintf(base, sizeof(base), "%s", argc == 4 ? argv[3] : "");
	if (!base[0])
		snprintf(base, sizeof(base), "%s/base.img", dir);
	n = size / sizeof(*mem);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mem[i] = x;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	t0 = now_ns();
	x = checksum(mem, n);
	snprintf(text, sizeof(text), "%016llx %llu\n", (unsigned long long)x,
		 (unsigned long long)(now_ns() - t0));
	put_file(dir, "ready", text);
	for (;;) {
		/* polled, not pause(): no lost wake-up, whatever a restore
		 * does with the interrupted system call */
		nanosleep(&nap, NULL);
		if (want_write) {
			want_write = 0;
			write_baseline(dir, base, (const char *)mem, size);
		}
		if (want_sum) {
			want_sum = 0;
			t0 = now_ns();
			x = checksum(mem, n);
			snprintf(text, sizeof(text), "%016llx %llu\n",
				 (unsigned long long)x,
				 (unsigned long long)(now_ns() - t0));
			put_file(dir, "sum", text);
		}
	}
}
