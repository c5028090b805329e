/*
 * nqueens: every placement of N queens (argv[1], default 10), three
 * rounds, by a recursive search (a frame per row) that keeps a pointer to
 * main's board in each frame; a line every 100 solutions, each followed
 * by a pause of argv[2] microseconds (default none: with one, a small N
 * still runs long enough to be caught mid-run, and costs little under
 * qemu). The program of tests/integration/t-xisa.sh, built by ckpt cc
 * and moved from x86_64 to aarch64 mid-run: its output must be that of
 * an uninterrupted run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long solutions;
static int N = 10;
static int pause_us;

static int safe(const int *col, int row, int c)
{
	for (int r = 0; r < row; r++) {
		int d = col[r] - c;
		if (d == 0 || d == row - r || d == r - row)
			return 0;
	}
	return 1;
}

static long place(int *col, int row)
{
	long found = 0;
	if (row == N) {
		solutions++;
		if (solutions % 100 == 0) {
			printf("%ld: %d %d %d\n", solutions, col[0], col[1], col[2]);
			if (pause_us)
				usleep(pause_us);
		}
		return 1;
	}
	for (int c = 0; c < N; c++) {
		if (safe(col, row, c)) {
			col[row] = c;
			found += place(col, row + 1);
		}
	}
	return found;
}

int main(int argc, char **argv)
{
	int col[32];
	if (argc > 1)
		N = atoi(argv[1]);
	if (argc > 2)
		pause_us = atoi(argv[2]);
	for (int k = 0; k < 3; k++)
		printf("round %d: %ld\n", k, place(col, 0));
	printf("total %ld\n", solutions);
	return 0;
}
