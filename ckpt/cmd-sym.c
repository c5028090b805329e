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
#include "util/json.h"
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

/* What the resolver of an indirect function r chose in pid: its address,
 * and its name when the object's symbol tables have it (impl->name
 * empty otherwise). 0, or -1 when the slot is not known. */
static int chosen(pid_t pid, const struct elf_sym_result *r, uint64_t *addr,
		  struct elf_sym_result *impl)
{
	if (elf_sym_ifunc_target(pid, r, addr)) {
		pr_warn("%s: the implementation chosen by its resolver is "
			"not known", r->name);
		return -1;
	}
	if (elf_sym_at(pid, *addr, impl) || impl->offset)
		impl->name[0] = '\0';
	return 0;
}

static void print_name(pid_t pid, const struct elf_sym_result *r)
{
	struct elf_sym_result impl;
	uint64_t addr;

	/* first the implementation, as dlsym and gdb give it */
	if (r->ifunc && !chosen(pid, r, &addr, &impl))
		printf("0x%" PRIx64 " %s%s%s\n", addr, r->object,
		       impl.name[0] ? " " : "", impl.name);
	printf("0x%" PRIx64 " %s%s\n", r->addr, r->object,
	       r->ifunc ? " ifunc" : "");
}

static void json_name(pid_t pid, const char *asked,
		      const struct elf_sym_result *r)
{
	struct elf_sym_result impl;
	uint64_t addr;

	json_begin();
	json_i64(1, "pid", pid);
	json_kstr(0, "name", asked);
	json_hex(0, "addr", r->addr);
	json_kstr(0, "object", r->object);
	json_bool(0, "ifunc", r->ifunc);
	if (r->ifunc && !chosen(pid, r, &addr, &impl)) {
		json_key(0, "chosen");
		putchar('{');
		json_hex(1, "addr", addr);
		json_kstr(0, "name", impl.name[0] ? impl.name : NULL);
		putchar('}');
	}
	json_end();
}

static void json_addr(pid_t pid, uint64_t addr,
		      const struct elf_sym_result *r)
{
	json_begin();
	json_i64(1, "pid", pid);
	json_hex(0, "addr", addr);
	json_kstr(0, "symbol", r->name);
	json_u64(0, "offset", r->offset);
	json_kstr(0, "object", r->object);
	json_end();
}

static int exec_sym(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct elf_sym_result r;
	uint64_t addr = 0;
	int c, kind, json = 0;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
			continue;
		}
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
		if (json)
			json_addr(pid, addr, &r);
		else
			printf("%s+0x%" PRIx64 " %s\n", r.name, r.offset,
			       r.object);
		return 0;
	}
	if (elf_sym_lookup(pid, argv[optind + 1], &r))
		return exit_status(errno);
	if (json)
		json_name(pid, argv[optind + 1], &r);
	else
		print_name(pid, &r);
	return 0;
}

const struct cmd_entry cmd_sym_entry = {
	.name = "sym",
	.usage = "[--json] PID NAME[@VERSION] | [--json] PID 0xADDR",
	.exec = exec_sym,
};
