/*
 * The command table of ckpt: each command is one cmd-<verb>.c exporting a
 * struct cmd_entry.
 */
#ifndef CKPT_CMD_H
#define CKPT_CMD_H

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

/* Print "usage: ckpt NAME USAGE" to stderr; returns EXIT_USAGE. */
int cmd_usage(const struct cmd_entry *e);

#endif
