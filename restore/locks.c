/*
 * The file locks of a process (LOCK records), taken again in it by remote
 * system calls once its address space is in place (main.c): a POSIX
 * record lock belongs to the process that takes it and goes when it
 * closes any fd of the file, as restore's own opens and closes of mapped
 * files in the process do, so nothing may come after; an OFD or flock
 * lock belongs to the open file description (taken twice through two fds
 * of one, it is one lock), as a lease does; taking a lease also makes
 * the taker the file's SIGIO owner, which fown.c sets after. None waits:
 * a lock someone took since the dump fails the restore, naming it.
 */
#include <sys/file.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "restore/restore.h"

static int take(struct restore_proc *c, const struct img_lock *l, long *r)
{
	uint64_t at = inject_scratch(c->ip);
	struct flock fl = {
		.l_type = l->write ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = l->start,
		.l_len = l->len,
	};

	if (l->kind == IMG_LOCK_FLOCK)
		return inject_syscall(c->ip, 0, r, SYS_flock, l->fd,
				      (l->write ? LOCK_EX : LOCK_SH) | LOCK_NB,
				      0, 0, 0, 0);
	if (l->kind == IMG_LOCK_LEASE)
		return inject_syscall(c->ip, 0, r, SYS_fcntl, l->fd,
				      F_SETLEASE, l->write ? F_WRLCK : F_RDLCK,
				      0, 0, 0);
	if (inject_write(c->ip, at, &fl, sizeof(fl)))
		return -1;
	return inject_syscall(c->ip, 0, r, SYS_fcntl, l->fd,
			      l->kind == IMG_LOCK_POSIX ? F_SETLK :
			      F_OFD_SETLK, at, 0, 0, 0);
}

int restore_locks(struct restore_proc *c)
{
	static const char *const kinds[] = { "?", "POSIX", "OFD", "flock",
					     "lease" };
	const struct img_process *p = c->proc;
	uint32_t i;
	long r = 0;

	for (i = 0; i < p->nr_locks; i++) {
		const struct img_lock *l = &p->locks[i];

		if (!take(c, l, &r) && r == 0)
			continue;
		if (r < 0 && r > -4096)
			errno = -r;
		pr_err("can't take the %s %s lock of fd %d of %d (bytes %llu+%llu) again: %s",
		       kinds[l->kind], l->write ? "write" : "read", l->fd,
		       p->proc.pid, (unsigned long long)l->start,
		       (unsigned long long)l->len,
		       errno == EAGAIN || errno == EWOULDBLOCK ?
		       "another process holds a conflicting one" :
		       strerror(errno));
		return -1;
	}
	return 0;
}
