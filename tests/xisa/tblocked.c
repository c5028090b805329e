/*
 * tblocked: two threads taking turns at a mutex while main waits for a
 * line on its standard input (in libc, at no landmark): the runtime's
 * checkpointer reaches its bound, and the threads it had stopped must
 * run on (main waits for them to count on after its line, then joins
 * them). Prints the number read.
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static volatile int stop;
static long seen_at_read;

static void *turns(void *arg)
{
	while (!stop) {
		pthread_mutex_lock(&mu);
		counter += (long)arg;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	char line[64];
	int n = 0;

	for (long k = 0; k < 2; k++)
		if (pthread_create(&t[k], NULL, turns, (void *)(k + 1)))
			return 1;
	for (long seen = 0; seen < 3;) {	/* both have had turns */
		pthread_mutex_lock(&mu);
		seen = counter;
		pthread_mutex_unlock(&mu);
	}
	for (int i = 0; i < 5; i++)
		printf("line %d\n", i);
	pthread_mutex_lock(&mu);
	seen_at_read = counter;
	pthread_mutex_unlock(&mu);
	if (fgets(line, sizeof(line), stdin))
		sscanf(line, "%d", &n);
	for (long c = 0; c <= seen_at_read + 100;) {	/* they run on */
		pthread_mutex_lock(&mu);
		c = counter;
		pthread_mutex_unlock(&mu);
	}
	stop = 1;
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	printf("read %d, the threads ran on\n", n);
	return 0;
}
