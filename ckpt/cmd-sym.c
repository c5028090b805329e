/*
 * ckpt sym PID NAME|0xADDR: a symbol's address in a live process, or the
 * symbol at an address. The process is not stopped or traced.
 *
 *   ckpt sym 4242 nanosleep     0x7f12a3456780 /usr/lib/.../libc.so.6
 *   ckpt sym 4242 memcpy        0x7f12a35b1a40 /usr/lib/.../libc.so.6 __memmove_avx_unaligned_erms
 *                               0x7f12a3476e70 /usr/lib/.../libc.so.6 ifunc
 *   ckpt sym 4242 0x7f12a3456793
 *                               nanosleep+0x13 /usr/lib/.../libc.so.6
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/cmd.h"
#include "elf/elfsym.h"
#include "util/util.h"

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = v;
	return 0;
}

/* 1 for "0x..." (a valid address in *addr), 0 for a name, -1 for a
 * malformed address. */
static int parse_addr(const char *s, uint64_t *addr)
{
	char *end;

	if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2))
		return 0;
	errno = 0;
	*addr = strtoull(s + 2, &end, 16);
	if (!s[2] || *end || errno)
		return -1;
	return 1;
}

static int exit_status(int err)
{
	switch (err) {
	case ESRCH:
	case EPERM:
	case EACCES:
		return EXIT_NOTARGET;
	default:
		return EXIT_FAILED;
	}
}

/* An indirect function: first the implementation its resolver chose in
 * this process, as dlsym and gdb give it, with its own name. */
static void print_chosen(pid_t pid, const struct elf_sym_result *r)
{
	struct elf_sym_result impl;
	uint64_t addr;

	if (elf_sym_ifunc_target(pid, r, &addr)) {
		pr_warn("%s: the implementation chosen by its resolver is "
			"not known", r->name);
		return;
	}
	if (elf_sym_at(pid, addr, &impl) || impl.offset)
		printf("0x%" PRIx64 " %s\n", addr, r->object);
	else
		printf("0x%" PRIx64 " %s %s\n", addr, impl.object,
		       impl.name);
}

static int exec_sym(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct elf_sym_result r;
	uint64_t addr = 0;
	int c, kind;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c != 'h')
			return cmd_usage(&cmd_sym_entry);
		printf("usage: ckpt sym %s\n", cmd_sym_entry.usage);
		return 0;
	}
	if (optind != argc - 2 || parse_pid(argv[optind], &pid) ||
	    !argv[optind + 1][0])
		return cmd_usage(&cmd_sym_entry);
	kind = parse_addr(argv[optind + 1], &addr);
	if (kind < 0)
		return cmd_usage(&cmd_sym_entry);
	if (kind) {
		if (elf_sym_addr(pid, addr, &r))
			return exit_status(errno);
		printf("%s+0x%" PRIx64 " %s\n", r.name, r.offset, r.object);
		return 0;
	}
	if (elf_sym_lookup(pid, argv[optind + 1], &r))
		return exit_status(errno);
	if (r.ifunc)
		print_chosen(pid, &r);
	printf("0x%" PRIx64 " %s%s\n", r.addr, r.object,
	       r.ifunc ? " ifunc" : "");
	return 0;
}

const struct cmd_entry cmd_sym_entry = {
	.name = "sym",
	.usage = "PID NAME[@VERSION] | PID 0xADDR",
	.exec = exec_sym,
};
