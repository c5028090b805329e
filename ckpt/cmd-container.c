/*
 * ckpt container checkpoint [--kill] [--leave-exec] [--runc-root DIR]
 *                           [--runc PATH] ID IMAGE
 * ckpt container restore [--runc-root DIR] [--runc PATH]
 *                        [--console-socket PATH] ID IMAGE
 * ckpt container runtime [--runc PATH] RUNC-ARGS...
 * A runc container by its name: checkpoint finds its init through
 * `runc state` and runs `ckpt attach --tree` on it, after it made sure
 * that every process of the container descends from that init (or,
 * with --leave-exec, told attach to leave the others out); restore runs
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
#include "util/proc.h"
#include "util/util.h"

#define OPT_RUNC_ROOT	0x1d0
#define OPT_RUNC	0x1d1
#define OPT_LEAVE_EXEC	0x2d1
#define OPT_CONSOLE	0x311

/* attach's option, known by its address: the PID after it is ours */
static char leave_opt[] = "--leave";

struct container_opts {
	const char *root, *runc, *id, *image, *console;
	int kill, leave_exec;
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
		{ "leave-exec", no_argument, NULL, OPT_LEAVE_EXEC },
		{ "runc-root", required_argument, NULL, OPT_RUNC_ROOT },
		{ "runc", required_argument, NULL, OPT_RUNC },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE },
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
		else if (c == OPT_LEAVE_EXEC && ckpt)
			o->leave_exec = 1;
		else if (c == OPT_RUNC_ROOT)
			o->root = optarg;
		else if (c == OPT_RUNC)
			o->runc = optarg;
		else if (c == OPT_CONSOLE && !ckpt)
			o->console = optarg;
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

/*
 * The container's processes that do not descend from init (runc exec's)
 * would not be in the image: refused by name before anything is frozen,
 * or with --leave-exec added to args as "--leave PID" (attach leaves
 * them out of its namespace checks). *args is the argument vector.
 */
static int strays(const struct container_opts *o, pid_t init, char ***args,
		  int *n)
{
	pid_t *v = NULL;
	int i, nr, ret = EXIT_FAILED;
	char **a;

	if (runc_strays(o->runc, o->root, o->id, init, &v, &nr))
		return EXIT_FAILED;
	if (nr && !o->leave_exec) {
		runc_stray_err(o->id, v[0], init, "runc exec",
			       ", or give --leave-exec");
		goto out;
	}
	/* room for the PID and the NULL that follow */
	a = realloc(*args, (*n + 2 * nr + 2) * sizeof(*a));
	if (!a)
		goto out;
	*args = a;
	for (i = 0; i < nr; i++) {
		a[(*n)++] = leave_opt;
		a[*n] = NULL;
		if (asprintf(&a[*n], "%d", v[i]) < 0) {
			a[*n] = NULL;
			goto out;
		}
		++*n;
		pr_info("container %s: leaving %d out of the image", o->id,
			v[i]);
	}
	a[*n] = NULL;
	ret = 0;
out:
	free(v);
	return ret;
}

static int checkpoint(const struct container_opts *o)
{
	char status[32], pidstr[16];
	char **args = calloc(8, sizeof(*args));
	pid_t pid;
	int n = 0, st = EXIT_FAILED, i;

	if (!args || runc_state(o->runc, o->root, o->id, &pid, status,
				sizeof(status))) {
		st = EXIT_NOTARGET;
		goto out;
	}
	if (strcmp(status, "running") || pid <= 0) {
		pr_err("can't checkpoint container %s: it is %s, not running",
		       o->id, status);
		st = EXIT_NOTARGET;
		goto out;
	}
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	args[n++] = "attach";
	args[n++] = "--tree";
	args[n++] = "--freeze-cgroup";
	if (o->kill)
		args[n++] = "--kill";
	args[n++] = "-o";
	args[n++] = (char *)o->image;
	if (strays(o, pid, &args, &n))
		goto out;
	args[n++] = pidstr;
	args[n] = NULL;
	st = cmd_attach_entry.exec(n, args);
out:
	for (i = 0; args && i < n; i++)
		if (args[i] == leave_opt)
			free(args[i + 1]);	/* NULL after a failure */
	free(args);
	return st;
}

/* `ckpt restore --detach [--console-socket PATH] IMAGE`, this very
 * program: the new root's pid, or -1 and *st restore's exit status */
static pid_t restore_detached(const char *image, const char *console,
			      int *st)
{
	char *args[] = { "/proc/self/exe", "restore", "--detach",
			 "--console-socket", (char *)console, (char *)image,
			 NULL };
	char *out;
	long pid = -1;

	if (!console) {		/* no option */
		args[3] = (char *)image;
		args[4] = NULL;
	}

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
	new = restore_detached(o->image, o->console, &st);
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
	.usage = "checkpoint [--kill] [--leave-exec] [--runc-root DIR] "
		 "[--runc PATH] ID IMAGE | "
		 "restore [--runc-root DIR] [--runc PATH] "
		 "[--console-socket PATH] ID IMAGE | "
		 "runtime [--runc PATH] RUNC-ARGS...",
	.exec = exec_container,
};
