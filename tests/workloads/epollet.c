/*
 * epollet.c - one epoll whose ready list the restore must keep, not
 * recompute (t-epoll.sh). Five pipes, each with bytes in it:
 *   A  edge-triggered, its edge already reported (taken by a wait);
 *   B  edge-triggered, its edge pending (bytes written after the add);
 *   C  edge-triggered EPOLLONESHOT, armed, its edge pending;
 *   D  edge-triggered EPOLLONESHOT, reported once: disarmed;
 *   E  level-triggered;
 *   F  edge-triggered EPOLLEXCLUSIVE, its edge already reported.
 * Nothing waits on the epoll until D/restored (or D/stop without a
 * restore), then: the first wait reports B, C and E, and only them; the
 * second E alone; new bytes in A or F are reported once (a new edge),
 * new bytes in C and D never (disarmed), and B stays quiet.
 *
 * With "nested", a second epoll watches this one, edge-triggered, its
 * edge taken: this one is ready (E), so that watch is refused by name.
 */
#include <sys/epoll.h>

#include "workload.h"

enum { A, B, C, D, E, F, N };

static int ep, p[N][2];

static void put(int i)
{
	if (write(p[i][1], "x", 1) != 1)
		wl_fail("write pipe %c: %s", 'A' + i, strerror(errno));
}

static void add(int i, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = i };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, p[i][0], &ev))
		wl_fail("epoll_ctl add %c: %s", 'A' + i, strerror(errno));
}

/* One wait of timeout 0: the pipes it reports, as a string ("BCE"). */
static const char *ready(void)
{
	static char s[N + 1];
	struct epoll_event ev[N + 1];
	int n, i;

	n = epoll_wait(ep, ev, N + 1, 0);
	if (n < 0)
		wl_fail("epoll_wait: %s", strerror(errno));
	memset(s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		if (ev[i].data.u32 >= N || ev[i].events != EPOLLIN)
			wl_fail("epoll_wait gave data %u events %x",
				ev[i].data.u32, ev[i].events);
		s[ev[i].data.u32] = 'A' + ev[i].data.u32;
	}
	for (i = n = 0; i < N; i++)
		if (s[i])
			s[n++] = s[i];
	s[n] = 0;
	return s;
}

static void expect(const char *want, const char *when)
{
	const char *got = ready();

	if (strcmp(got, want))
		wl_fail("%s: epoll_wait reported '%s', want '%s'", when, got,
			want);
}

static void check(void)
{
	expect("BCE", "first wait");
	expect("E", "second wait");
	put(A);
	expect("AE", "after a new byte in A");
	expect("E", "after A's new edge");
	put(F);
	expect("EF", "after a new byte in F");
	put(C);
	put(D);
	expect("E", "after new bytes in the disarmed C and D");
	wl_info("epoll edges as before the dump");
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int i, outer;

	wl_init();
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		wl_fail("epoll_create1: %s", strerror(errno));
	for (i = 0; i < N; i++)
		if (pipe2(p[i], O_NONBLOCK | O_CLOEXEC))
			wl_fail("pipe2: %s", strerror(errno));
	put(A);
	add(A, EPOLLIN | EPOLLET);
	put(F);
	add(F, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE);
	expect("AF", "A's and F's edges");
	put(D);
	add(D, EPOLLIN | EPOLLET | EPOLLONESHOT);
	expect("D", "D's edge");
	add(B, EPOLLIN | EPOLLET);
	add(C, EPOLLIN | EPOLLET | EPOLLONESHOT);
	put(B);
	put(C);
	put(E);
	add(E, EPOLLIN);
	if (argc > 1 && !strcmp(argv[1], "nested")) {
		outer = epoll_create1(EPOLL_CLOEXEC);
		if (outer < 0 || epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev))
			wl_fail("outer epoll: %s", strerror(errno));
		if (epoll_wait(outer, &ev, 1, 0) != 1)
			wl_fail("the outer epoll reported nothing");
	}
	wl_count_checked(check);
	return 0;
}
