/*
 * The command table of ckpt: each command is one cmd-<verb>.c exporting a
 * struct cmd_entry.
 */
#ifndef CKPT_CMD_H
#define CKPT_CMD_H

#include <signal.h>
#include <stdint.h>

struct cmd_entry {
	const char *name;
	const char *usage;	/* after "ckpt NAME " */
	int (*exec)(int argc, char **argv);	/* returns the exit status */
};

extern const struct cmd_entry cmd_attach_entry;
extern const struct cmd_entry cmd_restore_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_inspect_entry;
extern const struct cmd_entry cmd_keygen_entry;
extern const struct cmd_entry cmd_sym_entry;
extern const struct cmd_entry cmd_convert_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_dump_entry;
extern const struct cmd_entry cmd_coord_entry;
extern const struct cmd_entry cmd_job_entry;
extern const struct cmd_entry cmd_cc_entry;
extern const struct cmd_entry cmd_translate_entry;
extern const struct cmd_entry cmd_migrate_entry;
extern const struct cmd_entry cmd_container_entry;

/* SIGINT, SIGTERM and SIGHUP set cmd_stop_signal (without SA_RESTART,
 * so that a wait in progress returns and sees it); SIGPIPE is ignored. */
extern volatile sig_atomic_t cmd_stop_signal;
void cmd_catch_stop_signals(void);

/* A size in bytes, with an optional suffix K, M or G (powers of 1024):
 * 0, or -1 if s is no such size. */
int cmd_parse_size(const char *s, uint64_t *out);

/* Print "usage: ckpt NAME USAGE" to stderr; returns EXIT_USAGE. */
int cmd_usage(const struct cmd_entry *e);

#endif
