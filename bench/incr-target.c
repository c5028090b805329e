/*
 * The process of the incremental benchmark (bench/incr.sh): SIZE MiB of
 * incompressible anonymous memory and a ticker thread that wakes every
 * millisecond and records the largest gap between two wake-ups (the time
 * the process was frozen, as the process itself saw it).
 *
 *   incr-target SIZE_MIB WRITE_MIB DIR
 *
 * DIR/ready  once the memory is filled
 * SIGUSR1    rewrites WRITE_MIB MiB (the next ones, in turn), then writes
 *            DIR/wrote and forgets the largest gap so far
 * SIGUSR2    writes DIR/gap: the largest gap in ns since the last
 *            SIGUSR1 or SIGUSR2, and forgets it
 */
#include <sys/mman.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t want_write, want_gap;
static volatile uint64_t max_gap;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_write = 1;
	else
		want_gap = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *ticker(void *arg)
{
	struct timespec ms = { 0, 1000000 };
	uint64_t last = now_ns(), t;

	(void)arg;
	for (;;) {
		nanosleep(&ms, NULL);
		t = now_ns();
		if (t - last > max_gap)
			max_gap = t - last;
		last = t;
	}
	return NULL;
}

static void fill(uint64_t *p, size_t words, uint64_t x)
{
	size_t i;

	for (i = 0; i < words; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		exit(1);
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	size_t size, wsize, off = 0;
	struct sigaction sa;
	pthread_t th;
	char buf[64];
	uint8_t *p;

	if (argc != 4)
		return 2;
	size = strtoull(argv[1], NULL, 10) << 20;
	wsize = strtoull(argv[2], NULL, 10) << 20;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || wsize > size)
		return 1;
	fill((uint64_t *)p, size / 8, 0x9e3779b97f4a7c15ULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	if (pthread_create(&th, NULL, ticker, NULL))
		return 1;
	put(argv[3], "ready", "1\n");
	for (;;) {
		pause();
		if (want_write) {
			want_write = 0;
			if (off + wsize > size)
				off = 0;
			fill((uint64_t *)(p + off), wsize / 8, now_ns() | 1);
			off += wsize;
			max_gap = 0;
			put(argv[3], "wrote", "1\n");
		}
		if (want_gap) {
			want_gap = 0;
			snprintf(buf, sizeof(buf), "%llu\n",
				 (unsigned long long)max_gap);
			max_gap = 0;
			put(argv[3], "gap", buf);
		}
	}
}
