/*
 * /proc readers shared by the dumper, the restorer, the injector and elf/:
 * a process's mappings (smaps, with the VmFlags that madvise can set
 * back), its stat line (the mm fields PR_SET_MM_MAP wants) and its
 * threads. They only read files, so they sit in util/, below every
 * subsystem that asks /proc about a process.
 */
#ifndef CKPT_PROC_H
#define CKPT_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

struct proc_map {
	uint64_t start, end, pgoff;
	uint32_t prot;		/* PROT_* */
	int shared;
	uint64_t dev, ino;
	char *path;		/* NULL for anonymous */
	uint32_t vmflags;	/* PROC_VMF_* from smaps VmFlags */
};

#define PROC_VMF_DONTFORK	(1u << 0)	/* dc */
#define PROC_VMF_DONTDUMP	(1u << 1)	/* dd */
#define PROC_VMF_HUGEPAGE	(1u << 2)	/* hg */
#define PROC_VMF_NOHUGEPAGE	(1u << 3)	/* nh */
#define PROC_VMF_WIPEONFORK	(1u << 4)	/* wf */
#define PROC_VMF_RANDOM		(1u << 5)	/* rr */
#define PROC_VMF_SEQUENTIAL	(1u << 6)	/* sr */
#define PROC_VMF_MERGEABLE	(1u << 7)	/* mg */
#define PROC_VMF_GROWSDOWN	(1u << 8)	/* gd */
#define PROC_VMF_IO		(1u << 9)	/* io, pf: device memory */
#define PROC_VMF_MAYWRITE	(1u << 10)	/* mw: may become writable */
#define PROC_VMF_LOCKED		(1u << 11)	/* lo: mlock() */
#define PROC_VMF_LOCKONFAULT	(1u << 12)	/* lf: MLOCK_ONFAULT */
#define PROC_VMF_DROPPABLE	(1u << 13)	/* dp: MAP_DROPPABLE */
#define PROC_VMF_UFFD_WP	(1u << 14)	/* uw: a userfaultfd's write protection */

/* /proc/PID/smaps, with VmFlags. Returns the count or -1. */
int proc_parse_maps(pid_t pid, struct proc_map **out) __must_check;
/* /proc/PID/maps: the same without VmFlags (vmflags 0), and without
 * the walk of the page tables that smaps makes (some 100 ms a GiB). */
int proc_parse_maps_only(pid_t pid, struct proc_map **out) __must_check;
void proc_free_maps(struct proc_map *m, int n);
/* The same from the text of an smaps file (cut up in place): what
 * proc_parse_maps reads, and what the fuzzer feeds. */
int proc_parse_maps_buf(char *buf, struct proc_map **out) __must_check;

struct proc_stat {
	char state;
	char comm[16];
	unsigned int flags;	/* field 9: the kernel's PF_* */
	pid_t ppid, pgrp, session;
	int tty_nr;
	pid_t tpgid;		/* field 8: its terminal's foreground group */
	/* mm fields, fields 26-28 and 45-51 */
	uint64_t start_code, end_code, start_stack;
	uint64_t start_data, end_data, start_brk;
	uint64_t arg_start, arg_end, env_start, env_end;
	/* field 52: the wait status of a zombie (0 unless we may ptrace it) */
	int exit_code;
	int exit_signal;	/* field 38: sent to the parent at exit */
};

int proc_parse_stat(pid_t pid, struct proc_stat *st) __must_check;
/* The same from the text of a stat file. */
int proc_parse_stat_buf(const char *buf, struct proc_stat *st) __must_check;

/* From /proc/PID/smaps_rollup: the bytes of anonymous memory, resident
 * or swapped ("Anonymous:" + "Swap:"), what a dump writes of a process
 * about. 0, or -1 with errno (EINVAL: a line is malformed). */
int proc_anon_bytes(pid_t pid, uint64_t *bytes) __must_check;
int proc_anon_bytes_buf(const char *buf, uint64_t *bytes) __must_check;
/* The last id of the line key ("NSpid:", "NSpgid:", "NSsid:") of the
 * status file path (/proc/PID/status or /proc/PID/task/TID/status): what
 * the process's own PID namespace calls it (0: outside of it), or -1. */
pid_t proc_status_ns_id(const char *path, const char *key);
/* All the ids of that line (NSpid, NSpgid, NSsid), outermost first: how
 * many were stored (at most max), or -1 without the line */
int proc_status_ns_ids(const char *path, const char *key, pid_t *ids,
		       int max);
/* Thread ids from /proc/PID/task. Returns the count or -1. */
int proc_list_tasks(pid_t pid, pid_t **out) __must_check;

#endif
