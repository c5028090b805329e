/*
 * Measuring helpers for bench/run.sh.
 *
 *   tool fill FILE SIZE_MIB plain|huge|pop|collapse
 *	The restore baselines: map SIZE of fresh anonymous memory and read
 *	FILE into it. plain: mmap, then read(2) in 64 MiB chunks, each page
 *	faulted by the copy. huge: a 2 MiB-aligned mapping with
 *	MADV_HUGEPAGE, MADV_POPULATE_WRITE, then read(2) in 64 MiB chunks.
 *	pop: what the restorer does, without ptrace: MADV_POPULATE_WRITE of
 *	4 KiB pages, then read(2). collapse: what the restorer does for
 *	memory without THP advice under THP "madvise" mode: a 2 MiB-aligned
 *	mapping, one byte written per 2 MiB, MADV_COLLAPSE, then read(2);
 *	the mapping's advice stays none.
 *	Prints "TOTAL_NS POPULATE_NS READ_NS TOUCH_NS", the last for a pass
 *	reading the filled memory afterwards (untimed in the total): what
 *	the method leaves owed at first access.
 *   tool time OUT CMD [ARG...]
 *	Runs CMD with its stdout in OUT; prints "ELAPSED_NS USER_US SYS_US"
 *	of the child and exits with its status.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define CHUNK	(64UL << 20)
#define HUGE	(2UL << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int fill(const char *path, size_t size, const char *how)
{
	uint64_t t0, t1, t2, t3, sum = 0;
	char *p, *base;
	size_t off;
	ssize_t r;
	int fd, huge = !strcmp(how, "huge") || !strcmp(how, "collapse");

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	t0 = now_ns();
	base = mmap(NULL, size + (huge ? HUGE : 0), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p = base;
	if (!strcmp(how, "collapse")) {
		p = (char *)(((uintptr_t)base + HUGE - 1) & ~(HUGE - 1));
		for (off = 0; off < size; off += HUGE)
			p[off] = 1;
		if (madvise(p, size, MADV_COLLAPSE)) {
			perror("madvise");
			return 1;
		}
	} else if (huge) {
		p = (char *)(((uintptr_t)base + HUGE - 1) & ~(HUGE - 1));
		if (madvise(p, size, MADV_HUGEPAGE) ||
		    madvise(p, size, MADV_POPULATE_WRITE)) {
			perror("madvise");
			return 1;
		}
	} else if (!strcmp(how, "pop") &&
		   madvise(p, size, MADV_POPULATE_WRITE)) {
		perror("madvise");
		return 1;
	}
	t1 = now_ns();
	for (off = 0; off < size; off += r) {
		r = read(fd, p + off, size - off < CHUNK ? size - off : CHUNK);
		if (r <= 0) {
			fprintf(stderr, "%s: short read at %zu\n", path, off);
			return 1;
		}
	}
	t2 = now_ns();
	for (off = 0; off < size; off += sizeof(uint64_t))
		sum += *(volatile uint64_t *)(p + off);
	t3 = now_ns();
	printf("%llu %llu %llu %llu\n", (unsigned long long)(t2 - t0),
	       (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
	       (unsigned long long)(t3 - t2));
	if (sum == 42)
		fprintf(stderr, "(an unlikely sum)\n");
	return 0;
}

static int timed(const char *out, char **argv)
{
	struct rusage ru;
	uint64_t t0, t1;
	int status, fd;
	pid_t pid;

	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(out);
		return 1;
	}
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		dup2(fd, 1);
		close(fd);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 1;
	}
	t1 = now_ns();
	printf("%llu %ld %ld\n", (unsigned long long)(t1 - t0),
	       ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
	       ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "fill"))
		return fill(argv[2], strtoull(argv[3], NULL, 0) << 20,
			    argv[4]);
	if (argc >= 4 && !strcmp(argv[1], "time"))
		return timed(argv[2], argv + 3);
	fprintf(stderr, "usage: tool fill FILE SIZE_MIB plain|huge|pop|collapse\n"
			"       tool time OUT CMD [ARG...]\n");
	return 2;
}
