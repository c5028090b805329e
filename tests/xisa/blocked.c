/*
 * blocked: a few lines, then a read of standard input that blocks until
 * a line comes, then lines computed from it. t-xisa.sh checkpoints it
 * with its runtime (CKPT_XISA_DUMP, SIGUSR2) while it is blocked: no
 * landmark is reached within the bound, the checkpoint fails with one
 * line, and the program runs on untouched once its line comes.
 */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	char buf[64];
	long s = 0, k;

	for (int i = 0; i < 5; i++)
		printf("before %d\n", i);
	if (!fgets(buf, sizeof(buf), stdin))
		return 1;
	k = atol(buf);
	for (int i = 0; i < 20; i++) {
		s += i * k;
		printf("after %d %ld\n", i, s);
	}
	return 0;
}
