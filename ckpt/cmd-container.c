/*
 * ckpt container checkpoint [--kill] [--runc-root DIR] [--runc PATH] ID IMAGE
 * ckpt container restore [--runc-root DIR] [--runc PATH] ID IMAGE
 * ckpt container runtime [--runc PATH] RUNC-ARGS...
 * A runc container by its name: checkpoint finds its init through
 * `runc state` and runs `ckpt attach --tree` on it; restore runs
 * `ckpt restore --detach` and then tells runc the init's new PID
 * (runc.c), so that runc state, ps, kill and exec go on working.
 * runtime is an OCI runtime for Docker and containerd (runtime.c).
 */
#include <sys/wait.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/runc.h"
#include "util/util.h"

#define OPT_RUNC_ROOT	0x1d0
#define OPT_RUNC	0x1d1

struct container_opts {
	const char *root, *runc, *id, *image;
	int kill;
};

/* a runc container ID: a file name of runc's root */
static int id_ok(const char *id)
{
	return *id && !strchr(id, '/') && strcmp(id, ".") && strcmp(id, "..");
}

static int parse(int argc, char **argv, struct container_opts *o, int ckpt)
{
	static const struct option longopts[] = {
		{ "kill", no_argument, NULL, 'k' },
		{ "runc-root", required_argument, NULL, OPT_RUNC_ROOT },
		{ "runc", required_argument, NULL, OPT_RUNC },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->root = "/run/runc";
	o->runc = "runc";
	optind = 1;
	while ((c = getopt_long(argc, argv, "+kh", longopts, NULL)) != -1) {
		if (c == 'k' && ckpt)
			o->kill = 1;
		else if (c == OPT_RUNC_ROOT)
			o->root = optarg;
		else if (c == OPT_RUNC)
			o->runc = optarg;
		else if (c == 'h')
			return printf("usage: ckpt container %s\n",
				      cmd_container_entry.usage) < 0;
		else
			return cmd_usage(&cmd_container_entry);
	}
	if (optind != argc - 2 || !id_ok(argv[optind]))
		return cmd_usage(&cmd_container_entry);
	o->id = argv[optind];
	o->image = argv[optind + 1];
	return -1;	/* go on */
}

static int checkpoint(const struct container_opts *o)
{
	char status[32], pidstr[16];
	char *args[8];
	pid_t pid;
	int n = 0;

	if (runc_state(o->runc, o->root, o->id, &pid, status, sizeof(status)))
		return EXIT_NOTARGET;
	if (strcmp(status, "running") || pid <= 0) {
		pr_err("can't checkpoint container %s: it is %s, not running",
		       o->id, status);
		return EXIT_NOTARGET;
	}
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	args[n++] = "attach";
	args[n++] = "--tree";
	args[n++] = "--freeze-cgroup";
	if (o->kill)
		args[n++] = "--kill";
	args[n++] = "-o";
	args[n++] = (char *)o->image;
	args[n++] = pidstr;
	args[n] = NULL;
	return cmd_attach_entry.exec(n, args);
}

/* `ckpt restore --detach IMAGE`, this very program: the new root's pid,
 * or -1 and *st restore's exit status */
static pid_t restore_detached(const char *image, int *st)
{
	char *args[] = { "/proc/self/exe", "restore", "--detach",
			 (char *)image, NULL };
	char *out;
	long pid = -1;

	out = runc_capture(args, st);
	if (out)
		pid = strtol(out, NULL, 10);
	free(out);
	return pid > 0 ? pid : -1;
}

static int restore(const struct container_opts *o)
{
	char status[32];
	pid_t pid, new;
	int st = EXIT_FAILED;

	if (runc_state(o->runc, o->root, o->id, &pid, status, sizeof(status)))
		return EXIT_NOTARGET;
	if (strcmp(status, "stopped")) {
		pr_err("can't restore container %s: runc says it is %s; restore needs it stopped (checkpointed with --kill, or killed) and not deleted",
		       o->id, status);
		return EXIT_FAILED;
	}
	new = restore_detached(o->image, &st);
	if (new < 0 && st && st != 127)
		return st;	/* restore said why */
	if (new < 0) {
		pr_err("can't restore container %s from %s", o->id, o->image);
		return EXIT_FAILED;
	}
	if (runc_state_update(o->root, o->id, new) ||
	    runc_state(o->runc, o->root, o->id, &pid, status, sizeof(status)))
		return EXIT_FAILED;
	if (pid != new || strcmp(status, "running")) {
		pr_err("container %s restored as %d, but runc says %s %d",
		       o->id, new, status, pid);
		return EXIT_FAILED;
	}
	printf("%d\n", new);
	return 0;
}

static int exec_container(int argc, char **argv)
{
	struct container_opts o = { 0 };
	int st, ckpt;

	if (argc < 2)
		return cmd_usage(&cmd_container_entry);
	if (!strcmp(argv[1], "runtime"))
		return container_runtime(argc - 1, argv + 1);
	ckpt = !strcmp(argv[1], "checkpoint");
	if (!ckpt && strcmp(argv[1], "restore"))
		return cmd_usage(&cmd_container_entry);
	st = parse(argc - 1, argv + 1, &o, ckpt);
	if (st >= 0)
		return st;
	return ckpt ? checkpoint(&o) : restore(&o);
}

const struct cmd_entry cmd_container_entry = {
	.name = "container",
	.usage = "checkpoint [--kill] [--runc-root DIR] [--runc PATH] ID IMAGE | "
		 "restore [--runc-root DIR] [--runc PATH] ID IMAGE | "
		 "runtime [--runc PATH] RUNC-ARGS...",
	.exec = exec_container,
};
