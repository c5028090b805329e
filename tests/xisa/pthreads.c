/*
 * pthreads: four workers computing rounds of a series, each adding its
 * share to a total under a mutex; the last of a round prints it (and
 * pauses, holding the mutex, so that others wait for it) and wakes the
 * others, who wait on a condition variable for the next round. main
 * joins the four (one ends by pthread_exit) and prints what each
 * returned (malloc'd). Each worker counts its rounds in a thread-local
 * variable too, and says -1 if the count is not its rounds. The output
 * does not depend on the scheduling.
 * Usage: pthreads [ROUNDS [WORK [PAUSE_MS]]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NW 4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t next = PTHREAD_COND_INITIALIZER;
static long total;
static int arrived, round_no, rounds = 40, work = 20000, pause_ms = 20;
static __thread int mine_rounds;

static long chunk(int r, long k)
{
	unsigned long x = (unsigned long)r * 7919 + (unsigned long)k * 104729 + 1;
	long s = 0;

	for (int i = 0; i < work; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		s += (long)(x % 1000);
	}
	return s;
}

static void *worker(void *arg)
{
	long k = (long)arg, mine = 0, *res;

	for (int r = 0; r < rounds; r++) {
		long c = chunk(r, k);

		mine += c;
		mine_rounds++;
		pthread_mutex_lock(&mu);
		total += c;
		if (++arrived == NW) {
			struct timespec ts = { 0, pause_ms * 1000000L };

			printf("round %d: %ld\n", r, total);
			nanosleep(&ts, NULL);
			total = 0;
			arrived = 0;
			round_no++;
			pthread_cond_broadcast(&next);
		} else {
			while (round_no == r)
				pthread_cond_wait(&next, &mu);
		}
		pthread_mutex_unlock(&mu);
	}
	res = malloc(sizeof(*res));
	*res = mine_rounds == rounds ? mine : -1;
	if (k == NW - 1)
		pthread_exit(res);
	return res;
}

int main(int argc, char **argv)
{
	pthread_t t[NW];
	long all = 0;

	if (argc > 1)
		rounds = atoi(argv[1]);
	if (argc > 2)
		work = atoi(argv[2]);
	if (argc > 3)
		pause_ms = atoi(argv[3]);
	for (long k = 0; k < NW; k++)
		if (pthread_create(&t[k], NULL, worker, (void *)k))
			return 1;
	for (int k = 0; k < NW; k++) {
		void *res;

		if (pthread_join(t[k], &res))
			return 1;
		printf("worker %d: %ld\n", k, *(long *)res);
		all += *(long *)res;
		free(res);
	}
	printf("all: %ld\n", all);
	return 0;
}
