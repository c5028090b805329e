/*
 * restore [--detach] [-v] IMAGE: the standalone restorer. It checks the
 * whole image before creating anything, rebuilds the process, and either
 * waits for it (exiting with its status) or leaves it running (--detach,
 * printing its PID).
 *
 * While the tree is being built, restore is a child subreaper: if it
 * fails, the processes it made are killed and their orphans and zombies
 * come back to it to be reaped, rather than to an init that may never
 * reap them. Once the tree runs, orphans go to init as they would have.
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/pipeline.h"
#include "plugins/stageopt.h"
#include "restore/restore.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: restore [-v | -q] [--detach] [--key KEYFILE] [--auth KEYFILE] IMAGE\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

/*
 * The options into c (the image and the stages' parameters) and *detach,
 * the log level set: 0, or the exit status. The parameters point into a
 * static: they serve until restore exits.
 */
static int parse_args(int argc, char **argv, struct restore_ctx *c,
		      int *detach)
{
	static const struct option own[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct stage_opts so;
	int opt, i, level = LOG_WARN;

	log_init("restore", level);	/* for the messages of stageopt.c */
	stage_opts_init(&so, STAGE_OPT_KEY | STAGE_OPT_AUTH, own);
	while ((opt = getopt_long(argc, argv, "dk:a:vqh", so.longopts,
				  NULL)) != -1) {
		if (opt == 'd')
			*detach = 1;
		else if (opt == 'v')
			level++;
		else if (opt == 'q')
			level = LOG_ERR;
		else if (opt == 'h')
			exit(usage(stdout));
		else if (stage_opts_parse(&so, opt, optarg))
			return usage(stderr);
	}
	if (optind != argc - 1)
		return usage(stderr);
	for (i = 0; i < so.nr_params; i++)
		c->params[c->nr_params++] = so.params[i];
	c->path = argv[optind];
	log_init("restore", level);
	return 0;
}

static int load_image(struct restore_ctx *c)
{
	/* a compressed or piped image comes back as a memfd of the plain one */
	c->img_fd = pipeline_open_read_with(c->path, c->params, c->nr_params);
	if (c->img_fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	c->img = img_read_named_fd(c->img_fd, c->path, arch_isa());
	if (!c->img)
		return EXIT_BADIMAGE;
	return restore_check(c);
}

/* Seize a waiting child and make it the process of the image. */
static int rebuild_one(struct restore_ctx *c)
{
	if (inject_adopt(c->child, c->tramp, c->tramp + c->page_size,
			 c->tramp_len - c->page_size, &c->ip)) {
		pr_perror("can't seize the new process %d", c->child);
		return -1;
	}
	return restore_mm(c) || restore_task(c) ? -1 : 0;
}

/* Every process rebuilt before any runs; then all are let go. A zombie is
 * already what it must be: its parent made it and did not reap it. */
static int rebuild(struct restore_ctx *c, struct restore_ctx *all, int n)
{
	int i, ret = 0;

	for (i = 0; i < n; i++)
		if (!all[i].proc->proc.zombie && rebuild_one(&all[i]))
			return -1;
	if (restore_shm_finish(c))
		return -1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 0))
		pr_warn("can't stop being a child subreaper: %s",
			strerror(errno));
	for (i = 0; i < n; i++) {
		if (all[i].proc->proc.zombie)
			continue;
		if (inject_detach_all(all[i].ip)) {
			pr_perror("can't let %d go", all[i].child);
			ret = -1;
		}
		all[i].ip = NULL;
	}
	return ret;
}

/* One context per process of the image, sharing the image. */
static struct restore_ctx *split(struct restore_ctx *c)
{
	struct restore_ctx *all = calloc(c->img->nr_procs, sizeof(*all));
	uint32_t i;

	if (!all) {
		pr_err("out of memory");
		return NULL;
	}
	for (i = 0; i < c->img->nr_procs; i++) {
		all[i] = *c;
		all[i].proc = &c->img->procs[i];
	}
	return all;
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

int main(int argc, char **argv)
{
	struct restore_ctx c = { .img_fd = -1 }, *all = NULL;
	pid_t root;
	int n, i;
	int detach = 0, ret;

	ret = parse_args(argc, argv, &c, &detach);
	if (ret)
		return ret;
	c.page_size = sysconf(_SC_PAGESIZE);
	ret = load_image(&c);
	if (ret)
		goto out;
	ret = restore_shm_create(&c);
	if (ret)
		goto out;
	ret = EXIT_FAILED;
	all = split(&c);
	if (!all)
		goto err_shm;
	n = c.img->nr_procs;
	if (reset_sigchld())
		goto out;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		pr_perror("can't become a child subreaper");
		goto out;
	}
	ret = restore_create_tree(all, n);
	if (ret)
		goto err_shm;
	if (rebuild(&c, all, n)) {
		for (i = 0; i < n; i++)
			inject_release(all[i].ip, 1);
		restore_kill_tree(all, n);
		ret = EXIT_FAILED;
		goto err_shm;
	}
	root = all[0].child;
	close(c.img_fd);
	c.img_fd = -1;
	img_free(c.img);
	c.img = NULL;
	if (detach) {
		printf("%d\n", root);
		ret = 0;
	} else {
		ret = wait_restored(root);
	}
	goto out;
err_shm:
	restore_shm_abort(&c);
out:
	free(all);
	if (c.img_fd >= 0)
		close(c.img_fd);
	img_free(c.img);
	return ret;
}
