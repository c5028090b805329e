/*
 * mqmake.c - not a workload: creates the POSIX message queue NAME in the
 * caller's IPC namespace and exits, leaving it there (for t-ns.sh's
 * refusal of an IPC namespace that holds one).
 *
 * Usage: mqmake /NAME
 */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	mqd_t q;

	if (argc != 2) {
		fprintf(stderr, "usage: mqmake /NAME\n");
		return 64;
	}
	q = mq_open(argv[1], O_CREAT | O_RDWR, 0600, NULL);
	if (q == (mqd_t)-1) {
		perror("mqmake: mq_open");
		return 1;
	}
	return 0;
}
