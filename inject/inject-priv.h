/*
 * inject internals shared between its files.
 */
#ifndef CKPT_INJECT_PRIV_H
#define CKPT_INJECT_PRIV_H

#include "inject/inject.h"
/* seizing lists /proc/PID/task, the syscall finder reads the maps */
#include "util/proc.h"

/* Wait for any ptrace stop of tid; -1 with ESRCH if it is gone. */
int inject_wait_stop(pid_t tid, int *statusp) __must_check;

#endif
