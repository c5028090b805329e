/*
 * util: the one logging module and a few I/O helpers shared by every
 * subsystem. Library code logs through pr_*() and never prints directly;
 * only main.c and cmd-*.c decide what reaches the user and how ckpt exits.
 */
#ifndef CKPT_UTIL_H
#define CKPT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define __must_check __attribute__((warn_unused_result))
#define __printf(a, b) __attribute__((format(printf, a, b)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses of ckpt and restore (sysexits(3) numbers), documented in
 * ckpt(1) and restore(1). */
enum ckpt_exit {
	EXIT_USAGE = 64,	/* bad command line */
	EXIT_BADIMAGE = 65,	/* image damaged, wrong version or ISA */
	EXIT_NOIMAGE = 66,	/* image cannot be opened */
	EXIT_NOTARGET = 69,	/* no such process, ckpt itself, untraceable */
	EXIT_FAILED = 70,	/* the dump or restore failed */
	EXIT_CANTCREATE = 73,	/* image cannot be created */
	EXIT_PIDTAKEN = 75,	/* a PID the image needs is in use */
	EXIT_FILECHANGED = 76,	/* a file of the image is not the same */
};

/* "PROG VERSION (image format N)" on stdout; returns 0 (--version of
 * ckpt and restore). */
int print_version(const char *prog, unsigned image_format);
/* This build's release, "0.4.0". */
const char *ckpt_version(void);

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages go to stderr prefixed with the program name. */
void log_init(const char *progname, int level);
int log_get_level(void);
const char *log_prog_name(void);
/* fn() before each message is printed (a progress line clears itself);
 * NULL: nothing. */
void log_on_message(void (*fn)(void));
/* Every message from now on as one JSON object a line: {"time" (seconds
 * since the epoch), "prog", "level" (error, warning, info, debug),
 * "message"}. */
void log_set_json(int on);
/* Every message (the whole line, newline included) to fn instead of
 * stderr (libckpt keeps them for its caller); NULL: stderr again. */
void log_set_sink(void (*fn)(int level, const char *line, void *arg),
		  void *arg);
void log_msg(int level, const char *fmt, ...) __printf(2, 3);
/* The line log_msg would print (with its newline) into buf, for a signal
 * handler to write(2) later: its length, 0 if level is not shown. */
size_t log_format(char *buf, size_t size, int level, const char *fmt, ...)
	__printf(4, 5);

#define pr_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
/* A debug line "stamp WHAT at MS ms" (CLOCK_MONOTONIC, the same for every
 * process of the host), for the time breakdown of a migration
 * (bench/migrate.sh with BENCH_LOG). */
void log_stamp(const char *fmt, ...) __printf(1, 2);
/* Like pr_err but appends ": strerror(errno)"; the format has no newline. */
void pr_perror(const char *fmt, ...) __printf(1, 2);

/* Loop over short reads/writes and EINTR. Return 0 or -1 (errno set);
 * read_full returns -1 with errno = EIO on a premature end of file. */
int read_full(int fd, void *buf, size_t len) __must_check;
int write_full(int fd, const void *buf, size_t len) __must_check;
int pread_full(int fd, void *buf, size_t len, off_t off) __must_check;
int pwrite_full(int fd, const void *buf, size_t len, off_t off) __must_check;

/* Read a whole small file (a /proc file) into a NUL-terminated buffer. */
char *read_file_str(const char *path, size_t *lenp);

#endif
