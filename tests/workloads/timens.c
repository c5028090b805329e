/*
 * timens.c - clocks in a time namespace (t-nsct.sh).
 *
 * Run in `unshare -T -f --monotonic MONO --boottime BOOT`: its
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME must read at least MONO and BOOT
 * seconds (this host's have run for less), and never less than before,
 * across a dump and restore too. Two timers on CLOCK_MONOTONIC run
 * meanwhile, armed at absolute times: a timerfd firing every 20 ms and a
 * POSIX timer far ahead. Neither may ever be early: the timerfd's
 * expirations so far never count one past the clock, and the POSIX
 * timer's time left always reaches its expiry. Counts lines as counter
 * does (with each line's clocks in D/clocks: "MONO_NS BOOT_NS").
 *
 * Usage: timens MONO BOOT [children]
 *
 * With "children" it makes a time namespace for its children itself
 * (unshare(CLONE_NEWTIME), offsets MONO and BOOT written), has none and
 * stays in its own: its clocks are then this host's.
 */
#include <sys/timerfd.h>
#include <sched.h>
#include <signal.h>

#include "workload.h"

#define TICK_NS		20000000ull		/* the timerfd's period */
#define FAR_NS		(100000ull * 1000000000ull)	/* the POSIX timer's */

static void to_ts(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000ull;
	ts->tv_nsec = ns % 1000000000ull;
}

int main(int argc, char **argv)
{
	uint64_t mono_min, boot_min, mono, boot, last_mono = 0, last_boot = 0;
	uint64_t first, fired = 0, got, far, left;
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec its = { { 0, 0 }, { 0, 0 } }, cur;
	unsigned long n = 0;
	char line[64], p[PATH_MAX];
	int fd, cfd, tfd, len;
	timer_t timer;

	if (argc < 3)
		wl_fail("usage: timens MONO BOOT");
	mono_min = strtoull(argv[1], NULL, 10) * 1000000000ull;
	boot_min = strtoull(argv[2], NULL, 10) * 1000000000ull;
	wl_init();
	if (argc > 3 && !strcmp(argv[3], "children")) {
		len = snprintf(line, sizeof(line), "monotonic %s 0\nboottime %s 0\n",
			       argv[1], argv[2]);
		if (unshare(CLONE_NEWTIME))
			wl_fail("unshare: %s", strerror(errno));
		fd = open("/proc/self/timens_offsets", O_WRONLY);
		if (fd < 0 || write(fd, line, len) != len)
			wl_fail("timens_offsets: %s", strerror(errno));
		close(fd);
		mono_min = boot_min = 0;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (tfd < 0)
		wl_fail("timerfd_create: %s", strerror(errno));
	first = wl_now_ns(CLOCK_MONOTONIC) + TICK_NS;
	to_ts(first, &its.it_value);
	to_ts(TICK_NS, &its.it_interval);
	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL))
		wl_fail("timerfd_settime: %s", strerror(errno));
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		wl_fail("timer_create: %s", strerror(errno));
	far = wl_now_ns(CLOCK_MONOTONIC) + FAR_NS;
	memset(&its, 0, sizeof(its));
	to_ts(far, &its.it_value);
	if (timer_settime(timer, TIMER_ABSTIME, &its, NULL))
		wl_fail("timer_settime: %s", strerror(errno));
	cfd = open(wl_path(p, "clocks"), O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (cfd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	fd = wl_count_open();
	for (;;) {
		if (read(tfd, &got, sizeof(got)) == sizeof(got))
			fired += got;
		else if (errno != EAGAIN)
			wl_fail("read timerfd: %s", strerror(errno));
		if (timer_gettime(timer, &cur))
			wl_fail("timer_gettime: %s", strerror(errno));
		left = cur.it_value.tv_sec * 1000000000ull + cur.it_value.tv_nsec;
		mono = wl_now_ns(CLOCK_MONOTONIC);
		boot = wl_now_ns(CLOCK_BOOTTIME);
		if (mono < mono_min || boot < boot_min)
			wl_fail("clocks %llu %llu below the namespace's offsets",
				(unsigned long long)mono,
				(unsigned long long)boot);
		if (mono < last_mono || boot < last_boot)
			wl_fail("clocks went back: %llu %llu after %llu %llu",
				(unsigned long long)mono,
				(unsigned long long)boot,
				(unsigned long long)last_mono,
				(unsigned long long)last_boot);
		if (fired && first + (fired - 1) * TICK_NS > mono)
			wl_fail("the timerfd fired %llu times by %llu, first at %llu: early",
				(unsigned long long)fired,
				(unsigned long long)mono,
				(unsigned long long)first);
		if (!left || mono + left < far)
			wl_fail("the POSIX timer ends at %llu, before %llu",
				(unsigned long long)(mono + left),
				(unsigned long long)far);
		last_mono = mono;
		last_boot = boot;
		len = snprintf(line, sizeof(line), "%llu %llu\n",
			       (unsigned long long)mono,
			       (unsigned long long)boot);
		if (write(cfd, line, len) != len)
			wl_fail("write clocks: %s", strerror(errno));
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	if (!fired)
		wl_fail("the timerfd never fired");
	return 0;
}
