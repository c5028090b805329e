/*
 * semundo.c - a process with a System V semaphore undo value: it takes
 * one unit of a private semaphore with SEM_UNDO (which the kernel gives
 * back when it exits) and counts. ckpt must refuse it by name: no call
 * reads undo values. On D/stop it checks its semaphore and removes it.
 */
#include <sys/ipc.h>
#include <sys/sem.h>

#include "workload.h"

int main(void)
{
	struct sembuf op = { .sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO };
	unsigned long n = 0;
	int id, fd;

	wl_init();
	id = semget(IPC_PRIVATE, 1, 0600);
	if (id < 0 || semctl(id, 0, SETVAL, 2) || semop(id, &op, 1))
		wl_fail("semaphore: %s", strerror(errno));
	fd = wl_count_open();
	while (!wl_count_step(fd, &n))
		wl_sleep_ms(20);
	if (semctl(id, 0, GETVAL) != 1)
		wl_fail("the semaphore is %d, want 1", semctl(id, 0, GETVAL));
	semctl(id, 0, IPC_RMID);
	return 0;
}
