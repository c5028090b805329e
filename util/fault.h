/*
 * fault: named points where a test makes the program die on the spot.
 *
 * CKPT_FAULT=NAME[:N] in the environment makes the N-th (default first)
 * pass through fault_point("NAME") kill the process with SIGKILL, as a
 * user's scheduler or the OOM killer would: the fault tests use it to
 * prove that every such moment leaves the target whole. NAME[:N]:stop
 * stops it (SIGSTOP) instead, for a test to look at the process in that
 * state (/proc/PID/status) and then let it go on with SIGCONT. Without
 * the variable a fault point costs one comparison.
 */
#ifndef CKPT_FAULT_H
#define CKPT_FAULT_H

void fault_point(const char *name);
/* No fault point kills this process any more (a helper forked from it
 * that must outlive it). */
void fault_off(void);

#endif
