/*
 * tls: thread-local counters live across landmarks: a __thread step
 * count, a _Thread_local generator state and accumulator, an array, and
 * a function's static __thread call count, each carried on from where it
 * was. Built by ckpt cc and moved between the ISAs mid-run by t-xisa.sh
 * (xisa-tls): the values must come through. argv[1] is the number of
 * lines, argv[2] a pause after each (microseconds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__thread unsigned long steps;
static _Thread_local unsigned seed = 12345;
_Thread_local double acc = 1.0;
static __thread int hist[8];

static unsigned next(void)
{
	static __thread unsigned calls;

	calls++;
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) ^ calls;
}

static void work(int n)
{
	for (int i = 0; i < n; i++) {
		unsigned r = next();

		steps++;
		hist[r % 8]++;
		acc = acc * 0.999 + (r % 1000) / 1000.0;
	}
}

int main(int argc, char **argv)
{
	int lines = argc > 1 ? atoi(argv[1]) : 100;
	int pause = argc > 2 ? atoi(argv[2]) : 0;

	for (int l = 0; l < lines; l++) {
		work(1000 + l);
		printf("%d %lu %u %.6f %d %d %d %d %d %d %d %d\n", l, steps, seed,
		       acc, hist[0], hist[1], hist[2], hist[3], hist[4],
		       hist[5], hist[6], hist[7]);
		if (pause)
			usleep(pause);
	}
	return 0;
}
