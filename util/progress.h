/*
 * util/progress: what a long dump or restore is doing, on standard error.
 * On a terminal one line that updates in place (phase, bytes written /
 * about how many in all, rate), shown once it has taken about a second and
 * erased when it ends; or, with --progress=json, one JSON object a line
 * for scripts ({"phase", "bytes", "total", "seconds"}), at every phase
 * and at most five times a second between.
 */
#ifndef CKPT_PROGRESS_H
#define CKPT_PROGRESS_H

#include <stdint.h>

enum progress_mode {
	PROGRESS_AUTO = 0,	/* the line when stderr is a terminal, not -q */
	PROGRESS_OFF,
	PROGRESS_TTY,
	PROGRESS_JSON,
};

/* "--progress[=tty|json|none]"'s argument (NULL: tty); -1 if unknown. */
int progress_parse(const char *arg);

/* Start a report in mode; PROGRESS_AUTO picks one. */
void progress_start(enum progress_mode mode);
void progress_phase(const char *phase);
/* A phase that counts its own bytes and total, from 0 (the rate too). */
void progress_restart(const char *phase, uint64_t total);
/* Is a report made (tty or json)? */
int progress_shown(void);
/* About how many bytes the whole will be; 0: not known. */
void progress_total(uint64_t total);
void progress_bytes(uint64_t done);
void progress_add(uint64_t more);	/* done += more */
/* The last report (phase "done" or "failed"); the line is erased. */
void progress_end(int ok);

#endif
