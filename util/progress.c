/*
 * util/progress: the report of a long dump or restore on standard error
 * (progress.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/progress.h"
#include "util/json.h"
#include "util/util.h"

#define SHOW_AFTER	1.0	/* seconds before the terminal line appears,
				 * unless $CKPT_PROGRESS_AFTER says */
#define EVERY		0.2	/* seconds between two updates */

static struct {
	enum progress_mode mode;
	const char *phase;
	uint64_t done, total;
	double start, last, after;
	int shown;		/* the terminal line is on screen */
} pg = { .mode = PROGRESS_OFF };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int progress_parse(const char *arg)
{
	if (!arg || !strcmp(arg, "tty"))
		return PROGRESS_TTY;
	if (!strcmp(arg, "json"))
		return PROGRESS_JSON;
	if (!strcmp(arg, "none"))
		return PROGRESS_OFF;
	return -1;
}

/* A message is about to be printed: take the line off the screen; the
 * next update draws it again below the message. */
static void clear_line(void)
{
	if (pg.shown) {
		fputs("\r\033[K", stderr);
		pg.shown = 0;
	}
}

/* $CKPT_PROGRESS_AFTER: 0 to 3600 seconds; else SHOW_AFTER */
static double show_after(void)
{
	const char *s = getenv("CKPT_PROGRESS_AFTER");
	char *end;
	double v;

	if (!s || !*s)
		return SHOW_AFTER;
	v = strtod(s, &end);
	return *end || !(v >= 0 && v <= 3600) ? SHOW_AFTER : v;
}

void progress_start(enum progress_mode mode)
{
	/* the line only on a terminal, and never with -q */
	if (mode == PROGRESS_AUTO ||
	    (mode == PROGRESS_TTY && (!isatty(STDERR_FILENO) ||
				      log_get_level() <= LOG_ERR)))
		mode = isatty(STDERR_FILENO) && log_get_level() > LOG_ERR ?
		       PROGRESS_TTY : PROGRESS_OFF;
	memset(&pg, 0, sizeof(pg));
	pg.mode = mode;
	pg.phase = "starting";
	pg.start = now();
	pg.after = show_after();
	if (mode == PROGRESS_TTY)
		log_on_message(clear_line);
}

int progress_shown(void)
{
	return pg.mode != PROGRESS_OFF;
}

/* 1.5 GiB, 12.0 MiB, 512 KiB, 17 B */
static void human(char *buf, size_t len, double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB",
					     "TiB" };
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void report_json(double t)
{
	json_set_out(stderr);
	json_begin();
	json_kstr(1, "phase", pg.phase);
	json_u64(0, "bytes", pg.done);
	if (pg.total)
		json_u64(0, "total", pg.total);
	else
		json_kstr(0, "total", NULL);
	json_f64(0, "seconds", t - pg.start);
	json_end();
	json_set_out(NULL);
}

static void report_tty(double t)
{
	char done[32], total[32], rate[32];
	double secs = t - pg.start;

	if (secs < pg.after)
		return;
	human(done, sizeof(done), (double)pg.done);
	human(total, sizeof(total), (double)pg.total);
	human(rate, sizeof(rate), secs > 0 ? pg.done / secs : 0);
	fprintf(stderr, "\r\033[K%s: %s %s%s%s, %s/s", log_prog_name(),
		pg.phase, done, pg.total ? " of about " : "",
		pg.total ? total : "", rate);
	fflush(stderr);
	pg.shown = 1;
}

static void report(int force)
{
	double t = now();

	if (pg.mode != PROGRESS_TTY && pg.mode != PROGRESS_JSON)
		return;
	if (!force && t - pg.last < EVERY)
		return;
	pg.last = t;
	if (pg.mode == PROGRESS_JSON)
		report_json(t);
	else
		report_tty(t);
}

void progress_phase(const char *phase)
{
	pg.phase = phase;
	report(1);
}

void progress_restart(const char *phase, uint64_t total)
{
	report(1);	/* where the phase before ended */
	pg.done = 0;
	pg.total = total;
	pg.start = now();
	progress_phase(phase);
}

void progress_total(uint64_t total)
{
	pg.total = total;
}

void progress_bytes(uint64_t done)
{
	pg.done = done;
	report(0);
}

void progress_add(uint64_t more)
{
	progress_bytes(pg.done + more);
}

void progress_end(int ok)
{
	if (pg.mode == PROGRESS_JSON) {
		pg.phase = ok ? "done" : "failed";
		report(1);
	} else if (pg.mode == PROGRESS_TTY) {
		clear_line();
		fflush(stderr);
		log_on_message(NULL);
	}
	pg.mode = PROGRESS_OFF;
}
