/*
 * migmem.c - a process to migrate (ckpt migrate): it counts and keeps
 * writing its own memory, and checks it.
 *
 *   migmem SIZE_MIB RATE_MIB_S [tree]
 *
 * Every 10 ms a tick: one line of D/count (wl_count_step), RATE/100 MiB
 * of pages rewritten (page p holds the words of pattern(p, gen[p]); gen
 * counts its rewrites) and 1 MiB of pages checked, in turn. The largest
 * gap between two ticks seen since D/ready (the downtime of a dump or
 * migration, as the process saw it) goes to D/gap in microseconds
 * whenever it grows, and when it ended to D/gap-at (CLOCK_MONOTONIC
 * milliseconds, as the stamps of ckpt -v -v). At D/stop every page is
 * checked, "migmem: SIZE MiB checked after N ticks" said on stderr,
 * exit 0; a wrong word fails.
 * With "tree", a child reads the number of each tick from a pipe and
 * requires them in order, none lost or repeated; at D/stop the parent
 * closes the pipe and requires the child's exit 0.
 */
#include <sys/wait.h>
#include <sys/mman.h>

#include "workload.h"

#define PAGE		4096UL
#define WORDS		(PAGE / 8)
#define TICK_MS		10

static uint64_t *mem;
static uint32_t *gen;
static size_t npages;

static uint64_t pattern(size_t p, uint32_t g, size_t w)
{
	uint64_t x = (p + 1) * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)g << 32 | w);

	x ^= x >> 31;
	return x * 0xbf58476d1ce4e5b9ULL;
}

static void fill_page(size_t p)
{
	size_t w;

	for (w = 0; w < WORDS; w++)
		mem[p * WORDS + w] = pattern(p, gen[p], w);
}

static void check_page(size_t p)
{
	size_t w;

	for (w = 0; w < WORDS; w++)
		if (mem[p * WORDS + w] != pattern(p, gen[p], w))
			wl_fail("page %zu word %zu (generation %u) is %#llx, want %#llx",
				p, w, gen[p],
				(unsigned long long)mem[p * WORDS + w],
				(unsigned long long)pattern(p, gen[p], w));
}

/* D/gap: the largest gap in microseconds; D/gap-at: when it ended, in
 * CLOCK_MONOTONIC milliseconds (as ckpt -v -v stamps its steps) */
static void note_gap(uint64_t gap, uint64_t at, uint64_t *max)
{
	char buf[32];
	int n;

	if (gap <= *max)
		return;
	*max = gap;
	n = snprintf(buf, sizeof(buf), "%llu\n",
		     (unsigned long long)(gap / 1000));
	wl_write_file("gap", buf, n);
	n = snprintf(buf, sizeof(buf), "%.3f\n", at / 1e6);
	wl_write_file("gap-at", buf, n);
}

/* The child of "tree": every tick's number, in order, until EOF. */
static void child(int in)
{
	unsigned long v, want = 1;	/* n after its first count line */
	ssize_t r;

	while ((r = read(in, &v, sizeof(v))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r != sizeof(v))
			wl_fail("child: read %zd: %s", r, strerror(errno));
		if (v != want)
			wl_fail("child: tick %lu after %lu", v, want - 1);
		want++;
	}
	wl_info("migmem child: %lu ticks in order", want - 1);
	exit(0);
}

static int start_child(pid_t *pid)
{
	int p[2];

	if (pipe(p))
		wl_fail("pipe: %s", strerror(errno));
	*pid = fork();
	if (*pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!*pid) {
		close(p[1]);
		child(p[0]);
	}
	close(p[0]);
	return p[1];
}

static void end_child(int out, pid_t pid)
{
	int status;

	close(out);
	if (waitpid(pid, &status, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child ended with status %#x", status);
}

int main(int argc, char **argv)
{
	size_t size, per_tick, wp = 0, cp = 0, i;
	uint64_t last, now, max = 0, seed = 88172645463325252ULL;
	unsigned long n = 0;
	int fd, out = -1;
	pid_t kid = -1;

	if (argc != 3 && (argc != 4 || strcmp(argv[3], "tree")))
		wl_fail("usage: migmem SIZE_MIB RATE_MIB_S [tree]");
	wl_init();
	size = strtoul(argv[1], NULL, 10) << 20;
	per_tick = (strtoul(argv[2], NULL, 10) << 20) / PAGE / (1000 / TICK_MS);
	npages = size / PAGE;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, sizeof(*gen));
	if (mem == MAP_FAILED || !gen || !npages)
		wl_fail("can't have %zu bytes", size);
	for (i = 0; i < npages; i++)
		fill_page(i);
	if (argc == 4)
		out = start_child(&kid);
	fd = wl_count_open();
	last = wl_now_ns(CLOCK_MONOTONIC);
	while (!wl_count_step(fd, &n)) {
		if (out >= 0 && write(out, &n, sizeof(n)) != sizeof(n))
			wl_fail("write to the child: %s", strerror(errno));
		for (i = 0; i < per_tick; i++) {
			/* mostly in turn, one in four anywhere */
			size_t p = (i & 3) ? wp++ % npages :
				   wl_xorshift64(&seed) % npages;

			gen[p]++;
			fill_page(p);
		}
		for (i = 0; i < (1UL << 20) / PAGE; i++)
			check_page(cp++ % npages);
		wl_sleep_ms(TICK_MS);
		now = wl_now_ns(CLOCK_MONOTONIC);
		if (n > 5)
			note_gap(now - last, now, &max);
		last = now;
	}
	if (out >= 0)
		end_child(out, kid);
	for (i = 0; i < npages; i++)
		check_page(i);
	wl_info("migmem: %zu MiB checked after %lu ticks", size >> 20, n);
	return 0;
}
