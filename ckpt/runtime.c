/*
 * ckpt container runtime [--runc PATH] RUNC-ARGS...: an OCI runtime for
 * containerd's runc shim (Docker's `--add-runtime`), so that `docker
 * checkpoint create` and `docker start --checkpoint` checkpoint and
 * restore with ckpt. Every subcommand but three goes to runc as it came:
 *
 *  create/run   config.json of the bundle gets "rootfsPropagation":
 *               "rprivate" (unless it names one): Docker's data root is
 *               a shared mount, and the container's root a slave of it,
 *               a propagation ckpt does not restore; then runc.
 *  checkpoint   --image-path DIR [--work-path DIR] [--leave-running] ID:
 *               refused, naming it, if a process of the container is not
 *               its init's descendant (docker exec's); runc's state.json
 *               kept in DIR, the tree dumped into
 *               DIR/ckpt.img as `ckpt container checkpoint` does; the
 *               container killed unless --leave-running. containerd pauses
 *               the container first (runc pause): ckpt's freeze takes the
 *               frozen cgroup as it is and thaws it, so a container that
 *               runs on is paused again for containerd to resume.
 *  restore      --image-path DIR --detach [--pid-file F] [--bundle B]
 *               [--console-socket S] ID:
 *               runc's state.json put back, the tree restored detached
 *               (restore --pid-file: its standard streams are the shim's
 *               pipes, given to it on 0-2; a terminal's new master goes to
 *               S, the shim's, as runc sends it), the state brought up to date
 *               (runc.c) and the init's PID written to F. The shim is a
 *               child subreaper: the restored init, let go by restore,
 *               becomes its child.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/runc.h"
#include "util/json.h"
#include "util/util.h"

#define IMG_NAME	"ckpt.img"
#define STATE_NAME	"runc-state.json"

/* what the runtime was given: runc's global options, then a subcommand */
struct rt {
	const char *runc, *root;
	char **argv;		/* runc's command line, argv[0] the program */
	int cmd;		/* index of the subcommand in argv */
	int argc;
};

/* a's name without its dashes: runc (urfave/cli) takes -name for
 * --name, and go-runc passes some so (-no-subreaper) */
static const char *bare(const char *a)
{
	if (*a == '-')
		a++;
	return *a == '-' ? a + 1 : a;
}

/* runc's global options that take a value (runc --help) */
static int global_takes_value(const char *a)
{
	static const char *const names[] = { "root", "log", "log-format",
					     "criu", "rootless" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (*a == '-' && !strcmp(bare(a), names[i]))
			return 1;
	return 0;
}

/* argv[*i] is option NAME (no dashes) */
static int is_opt(char **argv, int i, const char *name)
{
	return argv[i][0] == '-' && !strcmp(bare(argv[i]), name);
}

/* argv[*i]'s value if it is option NAME (`-NAME VALUE`, `--NAME=VALUE`
 * ...; *i moved past it), else NULL */
static const char *opt_value(char **argv, int argc, int *i, const char *name)
{
	const char *a = bare(argv[*i]);
	size_t l = strlen(name);

	if (argv[*i][0] != '-' || strncmp(a, name, l))
		return NULL;
	if (a[l] == '=')
		return a + l + 1;
	if (a[l] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int exec_runc(const struct rt *r)
{
	r->argv[0] = (char *)r->runc;
	execvp(r->runc, r->argv);
	pr_perror("can't run %s", r->runc);
	return EXIT_NOTARGET;
}

/* path copied to dst, whole (runc.c's replace_file) */
static int copy_file(const char *src, const char *dst)
{
	char *data = read_file_str(src, NULL);
	int ret;

	if (!data) {
		pr_perror("can't read %s", src);
		return -1;
	}
	ret = runc_replace_file(dst, data);
	if (ret)
		pr_perror("can't write %s", dst);
	free(data);
	return ret;
}

/* BUNDLE/config.json with "rootfsPropagation": "rprivate" in "linux" */
static int private_root(const char *bundle)
{
	char path[PATH_MAX], *js, *out = NULL;
	const char *v;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	js = read_file_str(path, NULL);
	if (!js) {
		pr_perror("can't read %s", path);
		return -1;
	}
	v = runc_json_value(js, "linux");
	if (runc_json_value(js, "rootfsPropagation"))
		ret = 0;	/* the user's: a checkpoint refuses a slave */
	else if (v && *v == '{' &&
		 asprintf(&out, "%.*s\"rootfsPropagation\":\"rprivate\"%s%s",
			  (int)(v + 1 - js), js,
			  v[1 + strspn(v + 1, " \t\n")] == '}' ? "" : ",",
			  v + 1) >= 0)
		ret = runc_replace_file(path, out);
	if (ret)
		pr_err("can't make the root of the container private in %s",
		       path);
	free(js);
	free(out);
	return ret;
}

static int create(struct rt *r)
{
	const char *bundle = ".", *v;
	int i;

	for (i = r->cmd + 1; i < r->argc; i++)
		if ((v = opt_value(r->argv, r->argc, &i, "bundle")) ||
		    (v = opt_value(r->argv, r->argc, &i, "b")))
			bundle = v;
	if (private_root(bundle))
		return EXIT_FAILED;
	return exec_runc(r);
}

/* `runc pause ID` (or another subcommand): 0 if it did */
static int runc_do(const struct rt *r, const char *what, const char *id)
{
	char *argv[] = { (char *)r->runc, "--root", (char *)r->root,
			 (char *)what, (char *)id, NULL };
	int st;

	free(runc_capture(argv, &st));
	if (st)
		pr_err("%s %s %s failed", r->runc, what, id);
	return st;
}

static int refuse_opt(const char *cmd, const char *opt)
{
	pr_err("ckpt's runtime: %s %s is not supported", cmd, opt);
	return EXIT_USAGE;
}

/* A process of the container that is not its init's descendant (docker
 * exec's) would not be in the image: refused by name before anything is
 * frozen (containerd's pause is its own, undone by containerd) */
static int refuse_strays(const struct rt *r, const char *id, pid_t init)
{
	pid_t *v = NULL;
	int nr;

	if (runc_strays(r->runc, r->root, id, init, &v, &nr))
		return -1;
	if (nr)
		runc_stray_err(id, v[0], init, "docker exec", "");
	free(v);
	return nr ? -1 : 0;
}

static int checkpoint(struct rt *r)
{
	const char *dir = NULL, *id = NULL, *v;
	char path[PATH_MAX], img[PATH_MAX], status[32], pidstr[16];
	char *args[8];
	int i, n = 0, leave = 0, paused, ret;
	pid_t pid;

	for (i = r->cmd + 1; i < r->argc; i++) {
		if ((v = opt_value(r->argv, r->argc, &i, "image-path")))
			dir = v;
		else if (opt_value(r->argv, r->argc, &i, "work-path"))
			continue;
		else if (is_opt(r->argv, i, "leave-running"))
			leave = 1;
		else if (r->argv[i][0] == '-')
			return refuse_opt("checkpoint", r->argv[i]);
		else if (!id)
			id = r->argv[i];
		else
			return refuse_opt("checkpoint", r->argv[i]);
	}
	if (!dir || !id) {
		pr_err("ckpt's runtime: checkpoint needs --image-path DIR and the container's ID");
		return EXIT_USAGE;
	}
	if (runc_state(r->runc, r->root, id, &pid, status, sizeof(status)))
		return EXIT_NOTARGET;
	paused = !strcmp(status, "paused");
	if ((!paused && strcmp(status, "running")) || pid <= 0) {
		pr_err("can't checkpoint container %s: it is %s, not running",
		       id, status);
		return EXIT_NOTARGET;
	}
	if (refuse_strays(r, id, pid))
		return EXIT_FAILED;
	snprintf(path, sizeof(path), "%s/%s/state.json", r->root, id);
	snprintf(img, sizeof(img), "%s/" STATE_NAME, dir);
	if (copy_file(path, img))
		return EXIT_FAILED;
	snprintf(img, sizeof(img), "%s/" IMG_NAME, dir);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	args[n++] = "attach";
	args[n++] = "--tree";
	args[n++] = "--freeze-cgroup";
	if (!leave)
		args[n++] = "--kill";
	args[n++] = "-o";
	args[n++] = img;
	args[n++] = pidstr;
	args[n] = NULL;
	ret = cmd_attach_entry.exec(n, args);
	/* ckpt's freeze took the frozen cgroup as it was and thawed it:
	 * paused again, as containerd left it (it resumes it next; a
	 * container it finds running stays "paused" for Docker) */
	if (paused && (ret || leave) && runc_do(r, "pause", id) && !ret)
		ret = EXIT_FAILED;
	return ret;
}

/* F: the pid, as runc writes its --pid-file */
static int write_pid(const char *f, pid_t pid)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", pid);
	if (!runc_replace_file(f, num))
		return 0;
	pr_perror("can't write %s", f);
	return -1;
}

/* the tree of DIR/ckpt.img restored detached, its console's master (if
 * any) sent to console: the new init, or -1 and *st restore's exit
 * status */
static pid_t restore_tree(const char *dir, const char *id,
			  const char *console, int *st)
{
	char img[PATH_MAX], pf[PATH_MAX];
	char *args[] = { "/proc/self/exe", "restore", "--detach",
			 "--pid-file", pf, img, NULL, NULL, NULL };
	char *s;
	long pid = -1;

	if (console) {
		args[5] = "--console-socket";
		args[6] = (char *)console;
		args[7] = img;
	}
	snprintf(img, sizeof(img), "%s/" IMG_NAME, dir);
	snprintf(pf, sizeof(pf), "%s/restored.pid", dir);
	/* restore's standard output is ours, the shim's: for the tree */
	*st = runc_run(args);
	if (*st) {
		pr_err("can't restore container %s: restore %s exited %d (what it said went to the container's standard error)",
		       id, img, *st);
		return -1;
	}
	s = read_file_str(pf, NULL);
	if (s)
		pid = strtol(s, NULL, 10);
	free(s);
	unlink(pf);
	if (pid <= 0)
		pr_err("can't restore container %s: restore gave no PID", id);
	return pid > 0 ? pid : -1;
}

static int restore(struct rt *r)
{
	const char *dir = NULL, *id = NULL, *pidfile = NULL, *v;
	const char *console = NULL;
	char path[PATH_MAX], src[PATH_MAX];
	int i, detach = 0, st = EXIT_FAILED;
	pid_t pid;

	for (i = r->cmd + 1; i < r->argc; i++) {
		if ((v = opt_value(r->argv, r->argc, &i, "image-path")))
			dir = v;
		else if ((v = opt_value(r->argv, r->argc, &i, "pid-file")))
			pidfile = v;
		else if ((v = opt_value(r->argv, r->argc, &i,
					"console-socket")))
			console = v;
		else if (opt_value(r->argv, r->argc, &i, "work-path") ||
			 opt_value(r->argv, r->argc, &i, "bundle") ||
			 opt_value(r->argv, r->argc, &i, "b") ||
			 is_opt(r->argv, i, "no-subreaper") ||
			 is_opt(r->argv, i, "no-pivot"))
			continue;
		else if (is_opt(r->argv, i, "detach") ||
			 is_opt(r->argv, i, "d"))
			detach = 1;
		else if (r->argv[i][0] == '-')
			return refuse_opt("restore", r->argv[i]);
		else if (!id)
			id = r->argv[i];
		else
			return refuse_opt("restore", r->argv[i]);
	}
	if (!dir || !id || !detach) {
		pr_err("ckpt's runtime: restore needs --image-path DIR, --detach and the container's ID");
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s/%s", r->root, id);
	if (mkdir(r->root, 0700) && errno != EEXIST)
		pr_perror("can't make %s", r->root);
	if (mkdir(path, 0711)) {
		pr_perror("can't restore container %s: can't make %s", id,
			  path);
		return EXIT_FAILED;
	}
	snprintf(src, sizeof(src), "%s/" STATE_NAME, dir);
	snprintf(path, sizeof(path), "%s/%s/state.json", r->root, id);
	if (!copy_file(src, path)) {
		pid = restore_tree(dir, id, console, &st);
		if (pid > 0 && !runc_state_update(r->root, id, pid) &&
		    (!pidfile || !write_pid(pidfile, pid)))
			return 0;
		if (pid > 0) {	/* runc can't know it: it goes */
			kill(pid, SIGKILL);
			st = EXIT_FAILED;
		}
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", r->root, id);
	rmdir(path);
	return st;
}

/* restore's standard error is the container's: messages go only to
 * runc's --log then */
static int log_quiet;

/* a message as runc logs one with --log-format json, which containerd
 * reads back from --log FILE to say why the runtime failed (restore), or
 * from its standard error (checkpoint) */
static void log_to_file(int level, const char *line, void *arg)
{
	char msg[1024], esc[2048], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd = *(int *)arg;

	snprintf(msg, sizeof(msg), "%.*s", (int)strcspn(line, "\n"), line);
	json_escape(esc, sizeof(esc), msg);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		 gmtime_r(&now, &tm));
	dprintf(fd, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
		level == LOG_ERR ? "error" : level == LOG_WARN ? "warning" :
		"info", esc, when);
	if (!log_quiet)
		(void)!write(STDERR_FILENO, line, strlen(line));
}

int container_runtime(int argc, char **argv)
{
	static int log_fd = -1;
	struct rt r = { .runc = "runc", .root = "/run/runc" };
	const char *v, *log_path = NULL;
	int i;

	/* argv[0] "runtime"; then ours, then runc's */
	i = 1;
	if (i + 1 < argc && !strcmp(argv[i], "--runc"))
		r.runc = argv[++i], i++;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	r.argv = argv + i - 1;	/* argv[i - 1] becomes the program */
	r.argc = argc - i + 1;
	for (i = 1; i < r.argc && r.argv[i][0] == '-'; i++) {
		if ((v = opt_value(r.argv, r.argc, &i, "root")))
			r.root = v;
		else if ((v = opt_value(r.argv, r.argc, &i, "log")))
			log_path = v;
		else if (global_takes_value(r.argv[i]))
			i++;
	}
	r.cmd = i;
	/* runc's --log: where containerd looks for the error */
	if (log_path && (log_fd = open(log_path, O_WRONLY | O_APPEND |
				       O_CREAT | O_CLOEXEC, 0600)) >= 0)
		log_set_sink(log_to_file, &log_fd);
	if (i >= r.argc)
		return exec_runc(&r);
	if (!strcmp(r.argv[i], "create") || !strcmp(r.argv[i], "run"))
		return create(&r);
	if (!strcmp(r.argv[i], "checkpoint"))
		return checkpoint(&r);
	if (!strcmp(r.argv[i], "restore")) {
		log_quiet = log_fd >= 0;
		return restore(&r);
	}
	return exec_runc(&r);
}
