/*
 * sigcount: a handler of SIGUSR1 (installed by sigaction, with
 * SA_RESTART and SIGHUP in its mask) counts the signals, and SIGHUP is
 * ignored (signal). Rounds of work whose sums depend on the count; every
 * fifth round it says "wants signal" and waits until one more SIGUSR1
 * came (t-xisa.sh sends one, and a SIGHUP, on each such line). At the
 * end it prints what it finds of both actions. The output depends on
 * the signals only, not on when they came.
 * Usage: sigcount [ROUNDS [WORK]]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t count;
static int rounds = 30, work = 200000;

static void on_usr1(int sig)
{
	(void)sig;
	count++;
}

static long chunk(int r)
{
	unsigned long x = (unsigned long)r * 2654435761u + 12345;
	long s = 0;

	for (int i = 0; i < work; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		s += (long)(x >> 54);
	}
	return s;
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 1000000 };
	struct sigaction sa, now;
	long sum = 0;

	setvbuf(stdout, NULL, _IONBF, 0);	/* its lines are watched */
	if (argc > 1)
		rounds = atoi(argv[1]);
	if (argc > 2)
		work = atoi(argv[2]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	if (sigaction(SIGUSR1, &sa, NULL) || signal(SIGHUP, SIG_IGN) == SIG_ERR)
		return 1;
	for (int r = 0; r < rounds; r++) {
		if (r % 5 == 4) {
			int c = count;

			printf("round %d wants signal %d\n", r, c + 1);
			while (count <= c)
				nanosleep(&ms, NULL);
		}
		sum += chunk(r) * (count + 1);
		printf("round %d: count %d, sum %ld\n", r, (int)count, sum);
	}
	sigaction(SIGUSR1, NULL, &now);
	printf("usr1: handler %s, restart %d, hup masked %d\n",
	       now.sa_handler == on_usr1 ? "ours" : "other",
	       !!(now.sa_flags & SA_RESTART),
	       sigismember(&now.sa_mask, SIGHUP));
	sigaction(SIGHUP, NULL, &now);
	printf("hup: %s\n", now.sa_handler == SIG_IGN ? "ignored" : "not ignored");
	return 0;
}
