/*
 * isort: the integer sort of the NAS benchmarks (IS) in small: keys from
 * NAS's linear congruential generator (randlc, in doubles), ranked by a
 * counting sort into heap arrays, ten iterations, each checked and
 * reported on a line. Built by ckpt cc and moved to aarch64 mid-run by
 * tests/integration/t-xisa.sh. Arguments: keys, iterations, a pause
 * after each line (microseconds, for the test to catch it mid-run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_KEY (1 << 11)

static double randlc(double *x, double a)
{
	const double r23 = 1.0 / 8388608.0, t23 = 8388608.0;
	const double r46 = r23 * r23, t46 = t23 * t23;
	double t1, t2, t3, t4, a1, a2, x1, x2, z;

	t1 = r23 * a;
	a1 = (int)t1;
	a2 = a - t23 * a1;
	t1 = r23 * *x;
	x1 = (int)t1;
	x2 = *x - t23 * x1;
	t1 = a1 * x2 + a2 * x1;
	t2 = (int)(r23 * t1);
	z = t1 - t23 * t2;
	t3 = t23 * z + a2 * x2;
	t4 = (int)(r46 * t3);
	*x = t3 - t46 * t4;
	return r46 * *x;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1 << 16;
	long iters = argc > 2 ? atol(argv[2]) : 10;
	int pause = argc > 3 ? atoi(argv[3]) : 0;
	int *key = malloc(n * sizeof(int));
	int *rank = malloc(n * sizeof(int));
	long *count = calloc(MAX_KEY, sizeof(long));
	double seed = 314159265.0, a = 1220703125.0;
	long i, it;

	for (i = 0; i < n; i++) {
		double x = randlc(&seed, a) + randlc(&seed, a) +
			   randlc(&seed, a) + randlc(&seed, a);
		key[i] = (int)(x * MAX_KEY / 4);
	}
	for (it = 1; it <= iters; it++) {
		long sum = 0, bad = 0;

		key[it % n] = (int)(it % MAX_KEY);
		key[(it + 10) % n] = MAX_KEY - 1 - (int)(it % MAX_KEY);
		for (i = 0; i < MAX_KEY; i++)
			count[i] = 0;
		for (i = 0; i < n; i++)
			count[key[i]]++;
		for (i = 1; i < MAX_KEY; i++)
			count[i] += count[i - 1];
		for (i = n - 1; i >= 0; i--)
			rank[--count[key[i]]] = key[i];
		for (i = 1; i < n; i++)
			bad += rank[i - 1] > rank[i];
		for (i = 0; i < n; i += n / 16)
			sum += rank[i] * (i + 1);
		printf("iteration %ld: unsorted %ld, sample %ld, median %d\n",
		       it, bad, sum, rank[n / 2]);
		if (pause)
			usleep(pause);
	}
	free(key);
	free(rank);
	free(count);
	printf("done\n");
	return 0;
}
