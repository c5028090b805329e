/*
 * workload.h - the protocol every integration-test workload follows.
 *
 * The runner (tests/integration/run.sh) starts a workload with its working
 * directory set to a fresh test directory D.  The workload sets up the state
 * it is about, then calls wl_ready(), which atomically creates D/ready
 * holding its PID (the runner takes the PID from there, never from $!).
 * It then keeps working until D/stop appears; the runner creates D/restored
 * once the restored process is known to be alive, so that a workload can
 * snapshot its progress then and require more progress before it accepts
 * D/stop.  On stop it verifies everything and exits 0, or prints one
 * "FAIL: ..." line on stderr and exits 1.
 *
 * Paths are kept absolute (wl_init() records the starting directory) so
 * that a workload may chdir, and so that a restore which gets the working
 * directory wrong is caught by the files workload, not by all of them.
 *
 * Only static inline functions and static data: each workload is one
 * translation unit.  Workloads hold only fds the restorer supports (regular
 * files, directories, /dev/null): every file here is opened and closed
 * again, except the count file which is kept open on purpose.
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* room left for "/name" so that wl_path() never truncates */
static char wl_dir[PATH_MAX - 256];

static inline void wl_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static inline void wl_fail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* one write: lines from several threads must not interleave */
	if (write(2, "FAIL: ", 6) < 0 || write(2, buf, n) < 0)
		_exit(1);
	exit(1);
}

/* Print an informational line on stderr (ends up in D/out.log). */
static inline void wl_info(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static inline void wl_info(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, n) < 0)
		return;
}

static inline void wl_init(void)
{
	if (!getcwd(wl_dir, sizeof(wl_dir)))
		wl_fail("getcwd: %s", strerror(errno));
}

/* Absolute path of NAME in the test directory, in BUF (PATH_MAX bytes). */
static inline const char *wl_path(char *buf, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", wl_dir, name) >= PATH_MAX)
		wl_fail("path too long: %s/%s", wl_dir, name);
	return buf;
}

static inline int wl_exists(const char *name)
{
	char p[PATH_MAX];

	return access(wl_path(p, name), F_OK) == 0;
}

static inline int wl_should_stop(void)
{
	return wl_exists("stop");
}

static inline int wl_restored(void)
{
	return wl_exists("restored");
}

/* Write LEN bytes of BUF to a new file NAME in the test directory. */
static inline void wl_write_file(const char *name, const void *buf, size_t len)
{
	char p[PATH_MAX];
	int fd;

	fd = open(wl_path(p, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0644);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	if (write(fd, buf, len) != (ssize_t)len)
		wl_fail("write %s: %s", p, strerror(errno));
	if (close(fd))
		wl_fail("close %s: %s", p, strerror(errno));
}

/* Create D/ready holding our PID, atomically (write ready.tmp, rename). */
static inline void wl_ready(void)
{
	char tmp[PATH_MAX], p[PATH_MAX], buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	wl_write_file("ready.tmp", buf, n);
	if (rename(wl_path(tmp, "ready.tmp"), wl_path(p, "ready")))
		wl_fail("rename %s: %s", tmp, strerror(errno));
}

/* Read fd to its end: exactly the len bytes of want, then end of file. */
static inline void wl_check_rest(int fd, const char *want, size_t len,
				 const char *what)
{
	char buf[256];
	ssize_t n, got = 0;

	if (len > sizeof(buf))
		wl_fail("%s: %zu bytes is too many to check", what, len);
	while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += n;
	if (n < 0)
		wl_fail("%s: %s", what, strerror(errno));
	if ((size_t)got != len || memcmp(buf, want, len))
		wl_fail("%s gave %zd bytes '%.*s', want '%s'", what, got,
			(int)got, buf, want);
}

/* Sleep MS milliseconds; a spurious EINTR (no handler ran) is a failure. */
static inline void wl_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (nanosleep(&ts, NULL))
		wl_fail("nanosleep: %s", strerror(errno));
}

static inline uint64_t wl_now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		wl_fail("clock_gettime(%d): %s", (int)clk, strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline pid_t wl_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * The count file: D/count, opened once with O_APPEND and kept open; each
 * call appends one line "N\n" with a single write().  The runner checks
 * the lines read 0, 1, 2, ... with no gap and no repeat.
 */
static inline int wl_count_open(void)
{
	char p[PATH_MAX];
	int fd;

	fd = open(wl_path(p, "count"), O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	return fd;
}

static inline void wl_count_write(int fd, unsigned long n)
{
	char buf[32];
	int len;

	len = snprintf(buf, sizeof(buf), "%lu\n", n);
	if (write(fd, buf, len) != len)
		wl_fail("write count %lu: %s", n, strerror(errno));
}

/*
 * The count loop's step: line *n of D/count, wl_ready() after the fifth;
 * 1 once D/stop is there (not before the sixth line, so that a restored
 * process always counts on a little).
 */
static inline int wl_count_step(int fd, unsigned long *n)
{
	wl_count_write(fd, (*n)++);
	if (*n == 5)
		wl_ready();
	return *n > 5 && wl_should_stop();
}

/*
 * The count loop of a workload that checks its state once: when it sees
 * D/restored, or at D/stop for the original, which never does. Returns
 * at D/stop.
 */
static inline void wl_count_checked(void (*check)(void))
{
	unsigned long n = 0;
	int fd = wl_count_open(), checked = 0;

	while (!wl_count_step(fd, &n)) {
		if (!checked && wl_restored()) {
			check();
			checked = 1;
		}
		wl_sleep_ms(20);
	}
	if (!checked)
		check();
}

/* Number of lines in D/count, read through a new fd. */
static inline unsigned long wl_count_lines(void)
{
	char p[PATH_MAX], buf[4096];
	unsigned long lines = 0;
	ssize_t n, i;
	int fd;

	fd = open(wl_path(p, "count"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	if (n < 0)
		wl_fail("read %s: %s", p, strerror(errno));
	close(fd);
	return lines;
}

/* One send(2) of buf on a nonblocking socket: 1 when all of it went, 0
 * when there was no room; anything else fails. */
static inline int wl_try_send(int fd, const void *buf, size_t len,
			      const char *what)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

	if (n == (ssize_t)len)
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	wl_fail("%s: send gave %zd (%s)", what, n, strerror(errno));
}

/* An int socket option, set or read; failing fails. */
static inline void wl_setint(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)))
		wl_fail("setsockopt %d/%d: %s", level, name, strerror(errno));
}

static inline int wl_getint(int fd, int level, int name)
{
	socklen_t l = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, name, &v, &l))
		wl_fail("getsockopt %d/%d: %s", level, name, strerror(errno));
	return v;
}

/* The state letter of PID in /proc/PID/stat (R S T Z ...), '-' if gone. */
static inline char wl_state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '-';
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] == ' ' ? p[2] : '?';
}

static inline uint64_t wl_xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* 64-bit FNV-1a over LEN bytes. */
static inline uint64_t wl_fnv64(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Fill LEN bytes (a multiple of 8) with the xorshift stream from SEED. */
static inline void wl_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t *w = buf, s = seed | 1;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = wl_xorshift64(&s);
}

/* Offset of the first 8-byte word differing from wl_fill(), or -1. */
static inline long wl_check_fill(const void *buf, size_t len, uint64_t seed)
{
	const uint64_t *w = buf;
	uint64_t s = seed | 1;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != wl_xorshift64(&s))
			return (long)(i * 8);
	return -1;
}

/* The bytes wl_fill() wrote before the dump, or a failure naming what */
static inline void wl_expect_fill(const char *what, const void *buf,
				  size_t len, uint64_t seed)
{
	long off = wl_check_fill(buf, len, seed);

	if (off >= 0)
		wl_fail("%s: data from before the dump differs at byte %ld",
			what, off);
}

/* shmat(), or a failure */
static inline void *wl_shmat(int id, int flags)
{
	void *p = shmat(id, NULL, flags);

	if (p == (void *)-1)
		wl_fail("shmat %d: %s", id, strerror(errno));
	return p;
}

/*
 * The line of /proc/self/smaps that starts with KEY ("VmFlags:",
 * "Locked:") in the entry of the mapping holding ADDR, into OUT (LEN
 * bytes); fails if there is no such mapping or line.
 */
static inline void wl_smaps_line(const void *addr, const char *key,
				 char *out, size_t len)
{
	unsigned long a = (unsigned long)addr, start, end;
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	int in = 0;

	if (!f)
		wl_fail("open smaps: %s", strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= a && a < end;
		if (in && !strncmp(line, key, strlen(key)))
			snprintf(out, len, "%.*s", (int)len - 1, line);
	}
	fclose(f);
	if (!out[0])
		wl_fail("no %s for %p in smaps", key, addr);
}

/*
 * Wait up to SECS seconds for COND(ARG) to hold, polling every 10 ms.
 * Returns 1 if it held.
 */
static inline int wl_wait(int (*cond)(void *), void *arg, int secs)
{
	long i;

	for (i = 0; i < secs * 100L; i++) {
		if (cond(arg))
			return 1;
		wl_sleep_ms(10);
	}
	return cond(arg);
}

#endif /* WORKLOAD_H */
