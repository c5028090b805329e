/*
 * The root's time namespace (an NS record of kind time): the root
 * unshares CLONE_NEWTIME, which makes a namespace for its children to
 * come, writes its offsets before any process is in it, and enters it
 * itself (setns to its time_for_children) while it is still the only
 * thread; its children inherit it. The offsets are chosen so that the
 * namespace's CLOCK_MONOTONIC and CLOCK_BOOTTIME read what they read at
 * dump time and run on from there: to the tree, no time passed between
 * the dump and the restore (as with CRIU), and no clock of it goes back.
 * A namespace only for the root's children (time_children: unshare -T,
 * no child yet) has no process whose clocks ran: it gets the same
 * offsets as before, and the root stays in restore's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore/restore.h"

/* The offset that makes clk read inner now */
static int64_t offset_now(clockid_t clk, uint64_t inner)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)inner - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static int put_offset(char *buf, size_t len, const char *clk, int64_t off)
{
	int64_t sec = off / 1000000000, nsec = off % 1000000000;

	if (nsec < 0) {		/* the kernel wants 0 <= nsec < 1e9 */
		nsec += 1000000000;
		sec--;
	}
	return snprintf(buf, len, "%s %lld %lld\n", clk, (long long)sec,
			(long long)nsec);
}

void restore_timens_prepare(struct restore_run *run)
{
	const struct img_ns *ns = img_find_ns(run->img, IMG_NS_TIME,
					      run->img->procs[0].proc.pid);

	if (!ns)
		return;
	run->timens.mono_off = ns->time_children ? ns->mono_off_ns :
			       offset_now(CLOCK_MONOTONIC, ns->mono_ns);
	run->timens.boot_off = ns->time_children ? ns->boot_off_ns :
			       offset_now(CLOCK_BOOTTIME, ns->boot_ns);
}

int restore_timens_make(const struct restore_run *run, pid_t pid)
{
	const struct img_ns *ns = img_find_ns(run->img, IMG_NS_TIME, pid);
	char buf[128];
	int fd, n, ret;

	if (!ns)
		return 0;
	if (unshare(CLONE_NEWTIME))
		return -1;
	n = put_offset(buf, sizeof(buf), "monotonic", run->timens.mono_off);
	n += put_offset(buf + n, sizeof(buf) - n, "boottime",
			run->timens.boot_off);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, buf, n) == n ? 0 : -1;
	close(fd);
	if (ret || ns->time_children)
		return ret;
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWTIME);
	close(fd);
	return ret;
}
