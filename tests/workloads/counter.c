/*
 * counter.c - the basic workload: one thread appending a counter.
 *
 * Appends "N\n" to D/count every ~20 ms through one O_APPEND fd opened at
 * start (the runner checks 0..N with no gap or repeat, and that N grew
 * after restore).  Holds state in three places a restore must bring back:
 * a 4 MiB malloc'd block (mmap'd by glibc), a thousand small malloc'd
 * blocks (brk heap, linked through pointers) and an array on main's stack.
 * Also built -static as counter-static.
 *
 * Usage: counter [STATUS] - exit with STATUS instead of 0 when all is well
 * (lets the runner check that restore passes the exit status through).
 */
#include "workload.h"

#define BIG_SIZE	(4 << 20)
#define NSMALL		1000
#define SMALL_SIZE	1000
#define STACK_WORDS	4096

struct small {
	struct small *next;
	unsigned int idx;
	unsigned char data[SMALL_SIZE];
};

static uint32_t stack_word(unsigned int i)
{
	return (i * 2654435761u) ^ 0xdeadbeefu;
}

static struct small *make_smalls(void)
{
	struct small *head = NULL, *s;
	unsigned int i, j;

	for (i = 0; i < NSMALL; i++) {
		s = malloc(sizeof(*s));
		if (!s)
			wl_fail("malloc: %s", strerror(errno));
		s->idx = i;
		for (j = 0; j < SMALL_SIZE; j++)
			s->data[j] = (unsigned char)(i * 31 + j);
		s->next = head;
		head = s;
	}
	return head;
}

static void check_smalls(const struct small *s)
{
	unsigned int i = NSMALL, j;

	for (; s; s = s->next) {
		if (i == 0)
			wl_fail("small block list is too long");
		i--;
		if (s->idx != i)
			wl_fail("small block %u has index %u", i, s->idx);
		for (j = 0; j < SMALL_SIZE; j++)
			if (s->data[j] != (unsigned char)(i * 31 + j))
				wl_fail("small block %u byte %u differs", i, j);
	}
	if (i != 0)
		wl_fail("small block list lost %u blocks", i);
}

int main(int argc, char **argv)
{
	volatile uint32_t stack[STACK_WORDS];
	int status = argc > 1 ? atoi(argv[1]) : 0;
	unsigned long n = 0, lines;
	struct small *smalls;
	uint64_t big_sum;
	unsigned int i;
	void *big;
	int fd;

	wl_init();
	big = malloc(BIG_SIZE);
	if (!big)
		wl_fail("malloc: %s", strerror(errno));
	wl_fill(big, BIG_SIZE, 0x1234567887654321ULL);
	big_sum = wl_fnv64(big, BIG_SIZE);
	smalls = make_smalls();
	for (i = 0; i < STACK_WORDS; i++)
		stack[i] = stack_word(i);

	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}

	if (wl_fnv64(big, BIG_SIZE) != big_sum)
		wl_fail("4 MiB heap block checksum differs (first bad offset %ld)",
			wl_check_fill(big, BIG_SIZE, 0x1234567887654321ULL));
	check_smalls(smalls);
	for (i = 0; i < STACK_WORDS; i++)
		if (stack[i] != stack_word(i))
			wl_fail("stack word %u is %#x, want %#x", i,
				stack[i], stack_word(i));
	lines = wl_count_lines();
	if (lines != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			lines, n);
	if (close(fd))
		wl_fail("close count fd: %s", strerror(errno));
	return status;
}
