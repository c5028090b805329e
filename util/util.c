/*
 * util: logging to stderr and the short-I/O loops every subsystem needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/json.h"
#include "util/util.h"
#include "util/version.h"

static const char *log_prog = "ckpt";
static int log_level = LOG_WARN;
static void (*log_before)(void);
static void (*log_sink)(int level, const char *line, void *arg);
static void *log_sink_arg;
static int log_json;

const char *ckpt_version(void)
{
	return CKPT_VERSION;
}

int print_version(const char *prog, unsigned image_format)
{
	printf("%s %s (image format %u)\n", prog, CKPT_VERSION, image_format);
	return 0;
}

void log_init(const char *progname, int level)
{
	log_prog = progname;
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

const char *log_prog_name(void)
{
	return log_prog;
}

void log_on_message(void (*fn)(void))
{
	log_before = fn;
}

void log_set_sink(void (*fn)(int level, const char *line, void *arg),
		  void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

void log_set_json(int on)
{
	log_json = on;
}

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* The message msg (already with its strerror) as one JSON line. */
static size_t log_json_line(char *buf, size_t size, int level,
			    const char *msg)
{
	char esc[1024 * 2];
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_escape(esc, sizeof(esc), msg);
	n = snprintf(buf, size, "{\"time\":%lld.%03ld,\"prog\":\"%s\","
		     "\"level\":\"%s\",\"message\":\"%s\"}\n",
		     (long long)ts.tv_sec, ts.tv_nsec / 1000000, log_prog,
		     level_names[level < 0 ? 0 : level > LOG_DEBUG ?
				 LOG_DEBUG : level], esc);
	if (n < 0)
		return 0;
	if ((size_t)n >= size) {	/* never a line cut in the middle */
		n = snprintf(buf, size, "{\"prog\":\"%s\",\"message\":"
			     "\"(too long)\"}\n", log_prog);
		return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
	}
	return (size_t)n;
}

/* "prog: message[: strerror]\n" into buf; its length. */
static size_t log_vformat(char *buf, size_t size, int level,
			  const char *fmt, va_list ap, int err)
{
	char msg[1024], whole[1280];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	/* strip one trailing newline so every message ends the same way */
	if (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (log_json) {
		if (err >= 0)
			snprintf(whole, sizeof(whole), "%s: %s", msg,
				 strerror(err));
		return log_json_line(buf, size, level,
				     err >= 0 ? whole : msg);
	}
	if (err >= 0)
		n = snprintf(buf, size, "%s: %s: %s\n", log_prog, msg,
			     strerror(err));
	else
		n = snprintf(buf, size, "%s: %s\n", log_prog, msg);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

static void log_vmsg(int level, const char *fmt, va_list ap, int err)
{
	char buf[4096];

	if (level > log_level)
		return;
	if (log_vformat(buf, sizeof(buf), level, fmt, ap, err)) {
		if (log_sink) {
			log_sink(level, buf, log_sink_arg);
			return;
		}
		if (log_before)
			log_before();
		fputs(buf, stderr);
	}
}

size_t log_format(char *buf, size_t size, int level, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (level > log_level || !size)
		return 0;
	va_start(ap, fmt);
	n = log_vformat(buf, size, level, fmt, ap, -1);
	va_end(ap);
	return n;
}

void log_msg(int level, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap, -1);
	va_end(ap);
	errno = saved;
}

void log_stamp(const char *fmt, ...)
{
	struct timespec ts;
	char what[256];
	va_list ap;

	if (log_level < LOG_DEBUG)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_msg(LOG_DEBUG, "stamp %s at %.3f ms", what,
		ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

void pr_perror(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

char *read_file_str(const char *path, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = NULL, *nb;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		nb = realloc(buf, cap + 1);
		if (!nb)
			goto err;
		buf = nb;
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto err;
		if (n == 0)
			break;
		len += n;
		if (len == cap)
			cap *= 2;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
err:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}
