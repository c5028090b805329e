/*
 * stack.c - a known call stack in two threads, for the tests of what is
 * read from an image's stacks: ckpt inspect's backtraces and the core
 * files of ckpt convert, opened by gdb (tests/integration/t-elf.sh).
 *
 * The main thread calls main -> level1 -> level2, which sleeps in
 * nanosleep, a second at a time, until D/stop; a second thread sits in
 * thread_fn -> pause. The functions are global and never inlined, and
 * level1 does something after its call, so that each keeps a frame of
 * its own. There is no count file: the runner waits until both threads
 * sleep, dumps, and looks at the frames. Also built -static as
 * stack-static (no .eh_frame_hdr: the unwinder must search .eh_frame).
 */
#include <pthread.h>

#include "workload.h"

void *thread_fn(void *arg);
void level1(void);
void level2(void);

__attribute__((noinline)) void *thread_fn(void *arg)
{
	for (;;)
		pause();
	return arg;
}

__attribute__((noinline)) void level2(void)
{
	struct timespec ts = { 1, 0 };

	wl_ready();
	while (!wl_should_stop())
		nanosleep(&ts, NULL);
}

__attribute__((noinline)) void level1(void)
{
	level2();
	/* no tail call: level1 keeps its frame */
	__asm__ volatile("");
}

int main(void)
{
	pthread_t t;

	wl_init();
	if (pthread_create(&t, NULL, thread_fn, NULL))
		wl_fail("pthread_create failed");
	level1();
	return 0;
}
