/*
 * leaky.c - leaks memory down a path its input chooses, for valgrind.
 *
 * Run under valgrind memcheck. Before D/ready it leaks one block of 123
 * bytes (state valgrind must keep across the dump) and keeps D/input
 * open on fd 5, unread. At D/stop it reads fd 5 (restore --fd 5=PATH
 * gives each run its own input) and takes the path the first word names:
 *
 *   list N SIZE   a list of N nodes of SIZE bytes whose head is lost:
 *                 1 block definitely lost, N - 1 indirectly
 *   blocks N SIZE N blocks of SIZE bytes, each lost
 *   none          frees all it allocates
 *
 * then exits 0. The test compares valgrind's "definitely lost" line with
 * what that path leaks.
 */
#include "workload.h"

struct node {
	struct node *next;
};

static void *must_malloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		wl_fail("malloc %zu failed", n);
	memset(p, 0x5a, n);
	return p;
}

/* Kept out of registers and the stack: a pointer left there would make
 * valgrind count the block as still reachable. */
static void *volatile sink;

static void leak_list(unsigned long n, size_t size)
{
	struct node *head = NULL, *x;
	unsigned long i;

	for (i = 0; i < n; i++) {
		x = must_malloc(size < sizeof(*x) ? sizeof(*x) : size);
		x->next = head;
		head = x;
	}
	sink = head;
	sink = NULL;
}

static void leak_blocks(unsigned long n, size_t size)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		sink = must_malloc(size);
	sink = NULL;
}

static void take_path(const char *in)
{
	unsigned long n = 0, size = 0;
	char word[16];

	if (sscanf(in, "%15s %lu %lu", word, &n, &size) < 1)
		wl_fail("no path in the input '%s'", in);
	if (!strcmp(word, "list") && n && size)
		leak_list(n, size);
	else if (!strcmp(word, "blocks") && n && size)
		leak_blocks(n, size);
	else if (!strcmp(word, "none"))
		free(must_malloc(4096));
	else
		wl_fail("unknown path '%s'", in);
	wl_info("took path %s", in);
}

int main(void)
{
	char path[PATH_MAX], in[256];
	unsigned long n = 0;
	ssize_t len;
	int fd;

	wl_init();
	fd = open(wl_path(path, "input"), O_RDONLY);
	if (fd < 0 || dup2(fd, 5) != 5)
		wl_fail("can't open D/input on fd 5: %s", strerror(errno));
	close(fd);
	leak_blocks(1, 123);
	fd = wl_count_open();
	while (!wl_count_step(fd, &n))
		wl_sleep_ms(20);
	len = read(5, in, sizeof(in) - 1);
	if (len < 0)
		wl_fail("read fd 5: %s", strerror(errno));
	in[len] = '\0';
	take_path(in);
	return 0;
}
