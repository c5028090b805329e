/*
 * stackptr: pointers to stack locals kept across calls: each level of a
 * recursion links a local struct to its caller's (a chain through the
 * stack), a global and a heap cell point to locals of main, and a local
 * array is filled through a pointer passed down. Built by ckpt cc and
 * moved to aarch64 mid-run by t-xisa.sh: every such pointer must point
 * to the same variable in the new frames. argv[2], if given, is a pause
 * after each line (microseconds), so that the test catches it running
 * at two thirds of its output on an idle machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct link {
	long v;
	struct link *up;
	long *acc;
};

static long *total;	/* main's local */

static long walk(const struct link *l)
{
	long s = 0;
	for (; l; l = l->up)
		s += l->v;
	return s;
}

static long down(struct link *up, int depth, long seed)
{
	struct link me = { seed % 97, up, up ? up->acc : NULL };
	long here[4], r = 0;

	for (int i = 0; i < 4; i++)
		here[i] = seed * (i + 1) % 1009;
	if (depth > 0)
		r = down(&me, depth - 1, seed * 31 + depth);
	else
		r = walk(&me);
	for (int i = 0; i < 4; i++)
		r += here[i];
	*me.acc += r % 1000;
	*total += 1;
	return r % 100003;
}

int main(int argc, char **argv)
{
	long acc = 0, sum = 0, n = 0;
	struct link root = { 1, NULL, &acc };
	long **cell = malloc(sizeof(*cell));
	int rounds = argc > 1 ? atoi(argv[1]) : 30;
	int pause = argc > 2 ? atoi(argv[2]) : 0;

	total = &n;
	*cell = &sum;
	for (int r = 1; r <= rounds; r++) {
		for (int k = 0; k < 200; k++)
			**cell += down(&root, 20 + k % 20, r * 1000 + k);
		printf("round %d: sum %ld acc %ld calls %ld\n", r, sum, acc, n);
		if (pause)
			usleep(pause);
	}
	return 0;
}
