/*
 * confine: the commands that only parse an image (ckpt inspect, ckpt
 * convert) run the parsing under a seccomp filter (confine.c).
 */
#ifndef CKPT_CONFINE_H
#define CKPT_CONFINE_H

#include "util/util.h"

/*
 * Allow from now on only the calls of a parser: reading any open fd,
 * opening files read-only, writing to stdout, stderr and out_fd (-1:
 * none), memory without PROT_EXEC, exiting. Every other call fails with
 * EPERM. Returns 0, or -1 with one pr_err line (nothing installed).
 */
int confine_parser(int out_fd) __must_check;
/* The same for the child that decodes an image into out_fd (the
 * confine callback of pipeline_open_read_confined). */
int confine_decoder(int out_fd) __must_check;

/*
 * Run fn(arg) in a child confined as above, which dies with us: so that
 * what must follow the parsing unconfined (the rename of a durable file)
 * stays in the parent. Returns fn's value (an exit status), or
 * EXIT_FAILED if the child could not be made or was killed.
 */
int confine_fork(int out_fd, int (*fn)(void *arg), void *arg);

#endif
