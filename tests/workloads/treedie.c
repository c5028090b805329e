/*
 * treedie.c - a parent and a child K, one of them holding 512 MiB of a
 * pseudo-random pattern (the argument says which: "parent" or "child"),
 * so that a dump of the tree takes a while; the runner kills K with
 * SIGKILL in the middle of it and the dump must fail. With "sibling",
 * the 512 MiB are in a second child S, born after K and so dumped after
 * it: K dies when it has been written whole. S writes D/sibling once its
 * memory is filled, then waits for SIGTERM, which the parent sends at
 * D/stop, requiring that S dies of it.
 *
 * K writes its PID to D/kid once its memory is filled, before the parent
 * is ready. The parent counts into D/count and polls for K's end with
 * waitpid(WNOHANG); once K is gone it requires that SIGKILL ended it,
 * writes D/kid-died and counts on. At D/stop it requires that K died and
 * that its own memory is intact.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

#define SIZE	(512UL << 20)
#define SEED	0x5eed0fdeadbeefULL

static void *fill_big(void)
{
	void *mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		wl_fail("mmap 512 MiB: %s", strerror(errno));
	wl_fill(mem, SIZE, SEED);
	return mem;
}

static void kid(int big)
{
	char buf[32];
	int n;

	if (big)
		fill_big();
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	wl_write_file("kid.tmp", buf, n);
	if (rename("kid.tmp", "kid"))
		wl_fail("rename kid: %s", strerror(errno));
	for (;;)
		pause();
}

static pid_t sibling(void)
{
	pid_t s = fork();

	if (s < 0)
		wl_fail("fork: %s", strerror(errno));
	if (s)
		return s;
	fill_big();
	wl_write_file("sibling", "", 0);
	for (;;)
		pause();
}

static void end_sibling(pid_t s)
{
	int st;

	if (kill(s, SIGTERM) || waitpid(s, &st, 0) != s)
		wl_fail("can't end S (%d): %s", s, strerror(errno));
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
		wl_fail("S ended with wait status %#x, want SIGTERM", st);
}

static int kid_ready(void *arg)
{
	return wl_exists("kid") && (!arg || wl_exists("sibling"));
}

/* 1 once K has ended (SIGKILL, or a failure), 0 while it runs. */
static int kid_ended(pid_t k)
{
	int st;
	pid_t r = waitpid(k, &st, WNOHANG);

	if (r == 0)
		return 0;
	if (r != k)
		wl_fail("waitpid K (%d): %s", k, strerror(errno));
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		wl_fail("K ended with wait status %#x, want SIGKILL", st);
	wl_write_file("kid-died", "9\n", 2);
	return 1;
}

int main(int argc, char **argv)
{
	const char *where = argc > 1 ? argv[1] : "child";
	int big_parent = !strcmp(where, "parent");
	unsigned long n = 0;
	pid_t s = 0;
	int fd, ended = 0;
	void *mem = NULL;
	long bad;
	pid_t k;

	wl_init();
	if (chdir(wl_dir))
		wl_fail("chdir: %s", strerror(errno));
	k = fork();
	if (k < 0)
		wl_fail("fork: %s", strerror(errno));
	if (k == 0)
		kid(!strcmp(where, "child"));
	if (!strcmp(where, "sibling"))
		s = sibling();
	if (big_parent)
		mem = fill_big();
	if (!wl_wait(kid_ready, s ? &s : NULL, 120))
		wl_fail("K did not write D/kid, or S D/sibling");
	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		if (n == 5)
			wl_ready();
		if (!ended)
			ended = kid_ended(k);
		if (n > 5 && wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	if (!ended)
		wl_fail("K (%d) is still alive at D/stop", k);
	if (s)
		end_sibling(s);
	if (mem) {
		bad = wl_check_fill(mem, SIZE, SEED);
		if (bad >= 0)
			wl_fail("512 MiB differ at offset %#lx", bad);
	}
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
