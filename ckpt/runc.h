/*
 * runc.h: runc's view of a container for `ckpt container` (runc.c).
 */
#ifndef CKPT_RUNC_H
#define CKPT_RUNC_H

#include <sys/types.h>
#include <stddef.h>

#include "util/util.h"

/* argv run, its standard output returned (malloc'ed); NULL if it
 * could not run or did not exit 0; *status its exit status */
char *runc_capture(char *const argv[], int *status) __must_check;

/* argv run, waited for: its exit status (127: it could not run) */
int runc_run(char *const argv[]);

/* Where the value of "key" starts in js (compact or indented), or NULL */
const char *runc_json_value(const char *js, const char *key);

/* path written whole or not at all: a new file renamed over it */
int runc_replace_file(const char *path, const char *data) __must_check;

/* `RUNC --root ROOT state ID`: its init's pid (0 if none) and status
 * ("running", "stopped", ...) */
int runc_state(const char *runc, const char *root, const char *id,
	       pid_t *pid, char *status, size_t len) __must_check;

/* The processes of the container (`RUNC ps`) that are neither init
 * nor its descendants, as *n PIDs in *out (malloc'ed, or NULL) */
int runc_strays(const char *runc, const char *root, const char *id,
		pid_t init, pid_t **out, int *n) __must_check;

/* The one line that refuses to checkpoint container id for stray, one
 * of runc_strays() (by: what started it, "runc exec"; hint: what else
 * the user may do, after "end it first", or "") */
void runc_stray_err(const char *id, pid_t stray, pid_t init, const char *by,
		    const char *hint);

/* ROOT/ID/state.json made to name new as the container's init */
int runc_state_update(const char *root, const char *id, pid_t new)
	__must_check;

/* ckpt container runtime ...: an OCI runtime around runc (runtime.c) */
int container_runtime(int argc, char **argv);

#endif
