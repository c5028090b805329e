/*
 * The time namespace of the tree (check_time, dump-ns.c): the offsets of
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME that /proc/ROOT/timens_offsets shows
 * (those of the root's namespace for its children, which is its own
 * once it is in it), and the two clocks as the tree reads them, read
 * again as the record is written, once every timer of the tree (POSIX
 * timers, timerfds and their expirations) was read: ckpt's clock plus
 * the offset (time_namespaces(7)). Restore's offsets make the clocks carry on from
 * these values, so that a timer armed at an inner time fires no earlier
 * than it would have.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt/dump-priv.h"

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* "monotonic SECS NSECS" or "1 SECS NSECS" (the clock's id), one line */
static int parse_offset(const char *l, struct img_ns *ns)
{
	char clock[32];
	long long sec;
	long nsec;
	int64_t *off;

	if (sscanf(l, "%31s %lld %ld", clock, &sec, &nsec) != 3 ||
	    nsec < 0 || nsec >= 1000000000 || sec > INT32_MAX * 1000ll ||
	    sec < -INT32_MAX * 1000ll)
		return -1;
	if (!strcmp(clock, "monotonic") || !strcmp(clock, "1"))
		off = &ns->mono_off_ns;
	else if (!strcmp(clock, "boottime") || !strcmp(clock, "7"))
		off = &ns->boot_off_ns;
	else
		return -1;
	*off = (int64_t)sec * 1000000000 + nsec;
	return 0;
}

int dump_timens_read(pid_t pid, struct img_ns *ns)
{
	char path[64], *buf, *l, *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", pid);
	buf = read_file_str(path, NULL);
	if (!buf) {
		pr_perror("can't read %s", path);
		return -1;
	}
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (parse_offset(l, ns)) {
			pr_err("can't parse %s: %.60s", path, l);
			free(buf);
			return -1;
		}
	free(buf);
	return dump_timens_clocks(pid, ns);
}

int dump_timens_clocks(pid_t pid, struct img_ns *ns)
{
	struct timespec mono, boot;

	if (clock_gettime(CLOCK_MONOTONIC, &mono) ||
	    clock_gettime(CLOCK_BOOTTIME, &boot)) {
		pr_perror("can't read the clocks");
		return -1;
	}
	if (ts_ns(&mono) + ns->mono_off_ns < 0 ||
	    ts_ns(&boot) + ns->boot_off_ns < 0) {
		pr_err("can't dump %d: its time namespace's clocks read below 0",
		       pid);
		return -1;
	}
	ns->mono_ns = ts_ns(&mono) + ns->mono_off_ns;
	ns->boot_ns = ts_ns(&boot) + ns->boot_off_ns;
	return 0;
}
