/*
 * restore [--detach | --pty] [-v] IMAGE: the standalone restorer. It
 * checks the whole image before creating anything, rebuilds the process,
 * and either waits for it (exiting with its status), or leaves it running
 * (--detach, printing its PID), or gives it a pty of its own and bridges
 * it to its own terminal until it ends (--pty, pty.c).
 *
 * While the tree is being built, restore is a child subreaper: if it
 * fails, the processes it made are killed and their orphans and zombies
 * come back to it to be reaped, rather than to an init that may never
 * reap them. Once the tree runs, orphans go to init as they would have.
 *
 * The functions of restore/ return 0 or -1 and say what failed; the exit
 * status of restore(1) is chosen here only, by the stage that failed:
 * prepare() (the image and its checks), then build() (everything made).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "image/image.h"
#include "plugins/pipeline.h"
#include "plugins/stageopt.h"
#include "restore/restore.h"
#include "util/fault.h"
#include "util/json.h"
#include "util/notify.h"
#include "util/progress.h"

#define DETACH_JSON	2	/* with 1: --detach --json */
#define OPT_PID_FILE	0x200
#define OPT_DROP_BOUNDING	0x270
#define OPT_TRUST_PAGES	0x290
#define OPT_FOLLOW	0x300
#define OPT_CONSOLE	0x310

/* --detach --pid-file: where the root's PID goes instead of stdout (so
 * that the tree's standard output, restore's own, stays the tree's) */
static const char *pid_file;

static int usage(FILE *f)
{
	fprintf(f, "usage: restore [-v | -q] [--version] [--progress[=json|tty|none]] [--detach [--json | --pid-file FILE] | --pty] [--console-socket PATH] [--lazy [--trust-pages]] [--pidns] [--cgroup-root DIR] [--lock-network] [--fd N=PATH[:FLAGS]]... [--key KEYFILE] [--auth KEYFILE] [--no-validate] [--drop-bounding] [--join-ns uts|ipc|net=PATH]... [--plugin PATH[=ARG]]... IMAGE\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

/* --follow=IMGFD,WAKEFD (ckpt serve --restore): two fds above 2, open,
 * distinct; the image is plain, it came through serve's own stream */
static int follow_opt(struct restore_run *c, const char *arg)
{
	int a, b, n = -1;

	/* close-on-exec, as restore's own fds are: never the tree's */
	if (sscanf(arg, "%d,%d%n", &a, &b, &n) != 2 || arg[n] || a < 3 ||
	    b < 3 || a == b || fcntl(a, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(b, F_SETFD, FD_CLOEXEC) < 0) {
		pr_err("--follow=%s: two open fds above 2 expected", arg);
		return -1;
	}
	c->follow_fd = a;
	c->follow_wake = b;
	return 0;
}

/* An image followed: wait for serve's wake-up, the size now in it (see
 * img_read_follow); 'e': the image is whole. */
static int follow_more(void *arg, uint64_t *size)
{
	struct restore_run *run = arg;
	char buf[512];
	struct stat st;
	ssize_t n;

	do
		n = read(run->follow_wake, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n < 0)
			pr_perror("%s: can't wait for the image", run->path);
		else
			pr_err("%s: the image stopped coming", run->path);
		return -1;
	}
	if (fstat(run->img_fd, &st)) {
		pr_perror("can't stat %s", run->path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return memchr(buf, 'e', (size_t)n) ? 1 : 0;
}

/*
 * The options into c (the image and the stages' parameters) and *detach,
 * the log level set: 0, or the exit status. The parameters point into a
 * static: they serve until restore exits.
 */
static int parse_args(int argc, char **argv, struct restore_run *c,
		      int *detach)
{
	static const struct option own[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "lock-network", no_argument, NULL, 'L' },
		{ "fd", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "json", no_argument, NULL, 'J' },
		{ "progress", optional_argument, NULL, 'P' },
		{ "pty", no_argument, NULL, 'T' },
		{ "lazy", no_argument, NULL, 'Z' },
		{ "pidns", no_argument, NULL, 'N' },
		{ "cgroup-root", required_argument, NULL, 'C' },
		{ "plugin", required_argument, NULL, 'X' },
		{ "no-validate", no_argument, NULL, 'n' },
		{ "drop-bounding", no_argument, NULL, OPT_DROP_BOUNDING },
		{ "pid-file", required_argument, NULL, OPT_PID_FILE },
		{ "trust-pages", no_argument, NULL, OPT_TRUST_PAGES },
		{ "join-ns", required_argument, NULL, 0x220 },
		{ "follow", required_argument, NULL, OPT_FOLLOW },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE },
		{ NULL, 0, NULL, 0 },
	};
	static struct stage_opts so;
	int opt, i, level = LOG_WARN, json = 0;

	log_init("restore", level);	/* for the messages of stageopt.c */
	stage_opts_init(&so, STAGE_OPT_KEY | STAGE_OPT_AUTH, own);
	while ((opt = getopt_long(argc, argv, "dk:a:vqh", so.longopts,
				  NULL)) != -1) {
		if (opt == 'd')
			*detach = 1;
		else if (opt == 'L')
			c->lock_only = 1;
		else if (opt == 'T')
			c->pty.on = 1;
		else if (opt == 'Z')
			c->lazy = 1;
		else if (opt == 'N')
			c->pidns.on = 1;
		else if (opt == 'C' && (optarg[0] != '/' || !optarg[1] ||
					strstr(optarg, "..")))
			return usage(stderr);
		else if (opt == 'C')
			c->cg.root = optarg;
		else if (opt == 'n')
			c->no_validate = 1;
		else if (opt == OPT_DROP_BOUNDING)
			c->drop_bounding = 1;
		else if (opt == OPT_PID_FILE)
			pid_file = optarg;
		else if (opt == OPT_CONSOLE)
			c->console.path = optarg;
		else if (opt == OPT_TRUST_PAGES)
			c->trust_pages = 1;
		else if (opt == OPT_FOLLOW && follow_opt(c, optarg))
			return usage(stderr);
		else if (opt == OPT_FOLLOW)
			continue;
		else if (opt == 0x220 && restore_join_opt(c, optarg))
			return EXIT_USAGE;
		else if (opt == 0x220)
			continue;
		else if (opt == 'X' && app_set_add(&c->apps, optarg))
			return EXIT_USAGE;
		else if (opt == 'X')
			continue;
		else if (opt == 'v')
			level++;
		else if (opt == 'q')
			level = LOG_ERR;
		else if (opt == 'h')
			exit(usage(stdout));
		else if (opt == 'V')
			exit(print_version("restore", IMG_VERSION));
		else if (opt == 'J')
			json = 1;
		else if (opt == 'P')
			c->progress = progress_parse(optarg);
		else if (opt == 'F' ? restore_fd_opt_parse(c, optarg) :
			 stage_opts_parse(&so, opt, optarg))
			return usage(stderr);
	}
	/* --json says what was restored: only when restore does not stay */
	if (optind != argc - 1 || (json && !*detach) || c->progress < 0 ||
	    (pid_file && (!*detach || json)) ||
	    (*detach && c->pty.on) || (c->pty.on && c->pidns.on) ||
	    (c->trust_pages && !c->lazy) || (c->console.path && c->pty.on) ||
	    (c->follow_fd >= 0 && (so.nr_params || c->pty.on)))
		return usage(stderr);
	*detach |= json ? DETACH_JSON : 0;
	for (i = 0; i < so.nr_params; i++)
		c->params[c->nr_params++] = so.params[i];
	c->path = argv[optind];
	log_init("restore", level);
	return 0;
}

/* The host, then the image, opened and checked against it: before
 * anything is made, so that what fails costs nothing. An exit status. */
static int prepare(struct restore_run *run)
{
	int st;

	if (restore_host_init(&run->host))
		return EXIT_FAILED;
	/* a compressed or piped image comes back as a memfd of the plain one */
	/* --lazy from a server: its pages stay there until asked for */
	run->img_fd = run->follow_fd >= 0 ? run->follow_fd :
		      run->lazy && !strncmp(run->path, "tcp://", 6) ?
		      restore_remote_open(run) :
		      pipeline_open_read_with(run->path, run->params,
					      run->nr_params);
	run->follow_fd = -1;	/* img_fd's now */
	if (run->img_fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	if (run->follow_wake >= 0) {	/* a migration's: off its downtime */
		restore_guard_early(run);
		restore_oom_min_early(run);
	}
	/* --lazy: a page record's CRC when it is fetched (lazy.c) */
	run->img = run->follow_wake >= 0 ?
		   img_read_follow(run->img_fd, run->path, arch_isa(),
				   run->lazy ? IMG_READ_DEFER_PAGES : 0,
				   follow_more, run) :
		   img_read_named_fd_flags(run->img_fd, run->path, arch_isa(),
					   run->lazy ? IMG_READ_DEFER_PAGES : 0);
	if (run->follow_wake >= 0)
		close(run->follow_wake);
	run->follow_wake = -1;
	if (!run->img || restore_open_chain(run) || restore_lazy_check(run) ||
	    restore_check_image(run) || restore_check_nss(run))
		return EXIT_BADIMAGE;
	if (restore_pidns_own(run) || restore_fd_opts_check(run) ||
	    restore_pty_check(run))
		return EXIT_USAGE;
	st = restore_console_check(run);
	if (st)
		return st;
	if (restore_join_open(run) || restore_userns_rootless(run))
		return EXIT_FAILED;
	/* in a new PID namespace, every PID is free */
	if (run->pidns.on ? restore_pidns_check(run) :
	    restore_check_pids(run) || restore_check_groups(run))
		return EXIT_PIDTAKEN;
	st = restore_snapshot_check(run);
	if (st)
		return st;
	if (restore_validate_files(run))
		return EXIT_FILECHANGED;
	st = restore_snapshot_put(run);
	if (st)
		return st;
	if (restore_check_caps(run) || restore_check_oom_min(run) ||
	    restore_cgroups_make(run))
		return EXIT_FAILED;
	restore_timens_prepare(run);	/* before any timer is armed */
	if (restore_app_event(run, CKPT_APP_BEFORE_CREATE, 0))
		return EXIT_FAILED;
	/* before anything is made (netlock.c), in the tree's network
	 * namespace when it has one (netdev.c) */
	if (!run->lock_only && restore_net_make(run))
		return EXIT_FAILED;
	return restore_netlock_take(run->img) ? EXIT_FAILED : 0;
}

/* One entry per process of the image, each pointing at the run. */
static int new_procs(struct restore_run *run)
{
	uint32_t i, n = run->img->nr_procs;

	run->procs = calloc(n, sizeof(*run->procs));
	if (!run->procs) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		run->procs[i].run = run;
		run->procs[i].proc = &run->img->procs[i];
	}
	return 0;
}

/* Seize a waiting child and make it the process of the image. */
static int rebuild_one(struct restore_proc *c)
{
	const struct restore_host *h = &c->run->host;

	if (inject_adopt(c->child, c->tramp, c->tramp + h->page_size,
			 h->tramp_len - h->page_size, &c->ip)) {
		pr_perror("can't seize the new process %d", c->child);
		return -1;
	}
	/* stopped by its own kill (child.c): a SIGCONT from elsewhere since
	 * would leave it running, and a stop from elsewhere stopped */
	if (!inject_group_stop(c->ip) != !c->proc->proc.ks.stop_sig) {
		pr_err("process %d was %s by someone while being restored",
		       c->child, c->proc->proc.ks.stop_sig ? "continued" :
		       "stopped");
		return -1;
	}
	return restore_mm(c) || restore_aio(c) || restore_locks(c) ||
	       restore_task(c) ? -1 : 0;
}

/* Every process rebuilt before any runs; then all are let go. A zombie is
 * already what it must be: its parent made it and did not reap it. */
static int rebuild(struct restore_run *run)
{
	struct restore_proc *procs = run->procs;
	uint32_t i, n = run->img->nr_procs;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (!procs[i].proc->proc.zombie && rebuild_one(&procs[i]))
			return -1;
		fault_point("restore-rebuilt");
	}
	if (restore_shm_finish(run) ||
	    restore_app_event(run, CKPT_APP_BEFORE_RUN, procs[0].child))
		return -1;
	/* the line is gone before the tree writes to the terminal */
	progress_end(1);
	/* from the first let go to the last, the guardian holds the tree */
	restore_guard_tree(run);
	if (prctl(PR_SET_CHILD_SUBREAPER, 0))
		pr_warn("can't stop being a child subreaper: %s",
			strerror(errno));
	for (i = 0; i < n; i++) {
		if (procs[i].proc->proc.zombie)
			continue;
		if (inject_detach_all(procs[i].ip)) {
			pr_perror("can't let %d go", procs[i].child);
			ret = -1;
		}
		procs[i].ip = NULL;
		fault_point("restore-let-go");
	}
	return ret;
}

static int wait_restored(pid_t pid)
{
	int status;

	/* the terminal's ^C reaches the restored process, not us */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("can't wait for %d", pid);
			return EXIT_FAILED;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/*
 * The SIGCHLD of a zombie that a restored parent recreates must be
 * discarded while that parent still runs our code: the original's was
 * delivered before the dump, or is pending in the image and queued again.
 * A signal with SIG_DFL, unblocked, is dropped when sent; both are
 * inherited by the processes we make (and SIG_IGN would make the kernel
 * reap the zombies at once, and break our own waitpid of the root).
 */
static int reset_sigchld(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR ||
	    sigprocmask(SIG_UNBLOCK, &set, NULL)) {
		pr_perror("can't reset SIGCHLD");
		return -1;
	}
	return 0;
}

/* The shared memory objects, then the tree, rebuilt and let go. A tree
 * that fails is killed; what else is left, run_free() releases. */
static int build(struct restore_run *run)
{
	uint32_t i;

	if (restore_guard_start(run) || restore_shm_create(run) ||
	    restore_ghosts_create(run) || new_procs(run) || reset_sigchld())
		return -1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		pr_perror("can't become a child subreaper");
		return -1;
	}
	fault_point("restore-made");
	if (restore_create_tree(run))
		return -1;
	fault_point("restore-created");
	if (rebuild(run)) {
		for (i = 0; i < run->img->nr_procs; i++)
			inject_release(run->procs[i].ip, 1);
		restore_kill_tree(run);
		return -1;
	}
	restore_pidns_release(run);
	run->cg.ran = 1;
	return 0;
}

/* On every path, failed or not: a System V segment made and not handed
 * over to the tree outlives restore, so it is removed here (a no-op once
 * restore_shm_finish() has run). */
static void run_free(struct restore_run *run)
{
	/* a failed restore lets the connections go (a no-op once inet.c
	 * has removed the lock) */
	if (run->img && !run->lock_only && restore_netlock_drop(run->img))
		pr_err("the TCP connections of the image stay cut off");
	restore_lazy_abort(run);
	restore_remote_close(run);
	restore_shm_abort(run);
	restore_cgroups_close(run, !run->cg.ran);
	restore_ghosts_close(run);
	restore_pidfds_close(run);
	restore_guard_done(run);
	free(run->procs);
	run->procs = NULL;
	if (run->img_fd >= 0)
		close(run->img_fd);
	run->img_fd = -1;
	img_free(run->img);
	run->img = NULL;
}

/* restore --detach --json: the image and the processes made, root
 * first, zombies included. */
static void print_json(const struct restore_run *run)
{
	uint32_t i;

	json_begin();
	json_kstr(1, "image", run->path);
	json_i64(0, "pid", run->procs[0].child);
	json_key(0, "pids");
	putchar('[');
	for (i = 0; i < run->img->nr_procs; i++)
		printf("%s%d", i ? "," : "", run->img->procs[i].proc.pid);
	putchar(']');
	json_end();
}

/* The bytes of page data the image holds: what the report counts. */
static uint64_t page_bytes(const struct restore_run *run)
{
	uint64_t sum = 0;
	uint32_t i, k;

	for (i = 0; i < run->img->nr_procs; i++)
		for (k = 0; k < run->img->procs[i].nr_pages; k++)
			sum += run->img->procs[i].pages[k].nr_pages *
			       run->img->hdr.page_size;
	return sum;
}

/* --pid-file: root's PID in path, written whole (a new file renamed over
 * it); the tree runs on whatever happens */
static int write_pid_file(const char *path, pid_t root)
{
	char tmp[PATH_MAX], num[16];
	int fd, ret = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.restore-new", path) >=
	    sizeof(tmp))
		errno = ENAMETOOLONG;
	else if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			    0644)) >= 0) {
		snprintf(num, sizeof(num), "%d", root);
		ret = write_full(fd, num, strlen(num));
		if (close(fd) || ret || rename(tmp, path))
			ret = -1;
		if (ret)
			unlink(tmp);
	}
	if (ret)
		pr_perror("%d runs, but its PID can't be written to %s", root,
			  path);
	return ret ? EXIT_FAILED : 0;
}

/* All that follows the options; restore's exit status (restore(1)). */
static int run_restore(struct restore_run *run, int detach)
{
	pid_t root;
	int ret;

	progress_start(run->progress);
	progress_phase("reading");
	log_stamp("restore: starts");
	ret = prepare(run);
	log_stamp("restore: image read");
	if (ret || run->lock_only) {
		progress_end(!ret);
		return ret;
	}
	progress_restart("restoring", page_bytes(run));
	if (build(run)) {
		progress_end(0);
		return run->pid_taken ? EXIT_PIDTAKEN : EXIT_FAILED;
	}
	root = run->procs[0].child;
	log_stamp("restore: %d runs", root);
	(void)!restore_app_event(run, CKPT_APP_RUNNING, root);	/* said */
	/* ckpt run --notify: the job told (it may not listen) */
	if (run->img->notify_path)
		notify_job(run->img->notify_path, "restored",
			   run->img->notify_seconds);
	if (detach & DETACH_JSON)
		print_json(run);
	/* --lazy: every page in place (here, or by the pager) */
	if (detach ? restore_lazy_pager(run) : restore_lazy_wait(run)) {
		run_free(run);
		return EXIT_FAILED;
	}
	run_free(run);	/* nothing of it is needed while the tree runs */
	/* the tree runs on whatever happens here: a failure is only said */
	if (restore_drop_caps())
		pr_warn("restore keeps its capabilities while %d runs", root);
	log_stamp("restore: handed over");
	if (detach && pid_file)
		return write_pid_file(pid_file, root);
	if (detach) {
		if (!(detach & DETACH_JSON))
			printf("%d\n", root);
		return 0;
	}
	if (run->pidns.on && !run->pidns.root_init)
		return restore_pidns_wait(run);
	return run->pty.on ? restore_pty_bridge(run, root) :
		wait_restored(root);
}

int main(int argc, char **argv)
{
	struct restore_run c = { .img_fd = -1, .guard_fd = -1, .guard_ack = -1,
				 .follow_fd = -1, .follow_wake = -1,
				 .pty = { .m = -1, .s = -1 },
				 .console = { .sk = -1 },
				 .pidns = { .go = -1 },
				 .userns = { .go = { -1, -1 } } };
	int detach = 0, ret;

	ret = parse_args(argc, argv, &c, &detach);
	if (ret)
		return ret;
	img_crc32c_accel(arch_crc32c);
	ret = run_restore(&c, detach);
	run_free(&c);
	restore_pty_close(&c);
	restore_console_close(&c);
	free(c.fd_opts);
	app_set_free(&c.apps);
	return ret;
}
