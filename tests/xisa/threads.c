/*
 * threads: four pthreads summing their shares of a series, a line from
 * main every second round. ckpt attach --landmark refuses it (one thread
 * only yet): t-xisa.sh checks the refusal and that it runs on.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long sums[4];

static void *work(void *arg)
{
	long k = (long)arg;
	for (;;) {
		for (long i = k; i < 1000000; i += 4)
			sums[k] += i % 7;
		usleep(1000);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[4];
	for (long k = 0; k < 4; k++)
		pthread_create(&t[k], NULL, work, (void *)k);
	for (int r = 0; r < 600; r++) {
		printf("round %d\n", r);
		usleep(100000);
	}
	return 0;
}
