/*
 * The tree's namespaces of its own (NS records, image.h): each is made
 * again by its owner, in the child before that process makes its
 * children (child.c), so that they inherit it as they did. A UTS
 * namespace gets its hostname and domainname back; an IPC namespace its
 * sysctls and its System V objects (ipcns.c).
 *
 * restore --pidns puts the whole tree in a new PID namespace, where the
 * image's PIDs are free by construction. Its init (PID 1) is a helper of
 * restore's, made with CLONE_NEWPID, which makes the root with its image
 * PID and so is its parent: orphans go to the init of the namespace of
 * the parent that dies, restore's would go to this host's. The helper
 * dies with restore until the tree runs (then the kernel kills whatever
 * is in the namespace); from then on it reaps the tree's orphans and
 * exits, with the root's status, once nothing else is left in the
 * namespace (kill(-1, 0) from a namespace's init reaches every other
 * process in it). restore waits for it, not for the root.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/proc.h"

/* In the init of the new PID namespace: a copy of restore's mounts, none
 * of them shared with it, and a /proc of that namespace over /proc (as
 * unshare --mount-proc makes) */
static int make_mnt(void)
{
	return unshare(CLONE_NEWNS) ||
	       mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	       mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     NULL) ? -1 : 0;
}

/* In the namespace just made: its sysctls, in the image's order; *what
 * names the one that failed */
int restore_ns_sysctls(const struct img_ns *ns, const char **what)
{
	static char which[600];
	char path[300];
	uint32_t i;
	size_t n;
	int fd;

	for (i = 0; i < ns->nr_sysctls; i++) {
		snprintf(path, sizeof(path), "/proc/sys/%s",
			 ns->sysctls[i].name);
		snprintf(which, sizeof(which), "%s (sysctl %s = %s)",
			 img_ns_name(ns->kind), ns->sysctls[i].name,
			 ns->sysctls[i].value);
		*what = which;
		n = strlen(ns->sysctls[i].value);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, ns->sysctls[i].value, n) != (ssize_t)n) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

int restore_ns_make(const struct restore_run *run, pid_t pid,
		    const char **what)
{
	const struct image *img = run->img;
	const struct img_ns *uts = img_find_ns(img, IMG_NS_UTS, pid);
	const struct img_ns *ipc = img_find_ns(img, IMG_NS_IPC, pid);
	const struct img_ns *mnt = img_find_ns(img, IMG_NS_MNT, pid);
	int root = pid == img->procs[0].proc.pid, joined;

	*what = "process group";
	if (run->pidns.on && !run->pidns.root_init && !run->pty.on && root &&
	    setpgid(0, 0))
		return -1;
	*what = "cgroup";
	if (root && restore_cgroups_enter(run))
		return -1;
	*what = "time";
	if (restore_timens_make(run, pid))
		return -1;

	*what = "uts";
	if (uts && (unshare(CLONE_NEWUTS) ||
		    sethostname(uts->hostname, strlen(uts->hostname)) ||
		    setdomainname(uts->domainname, strlen(uts->domainname))))
		return -1;
	if (restore_join(run, IMG_NS_UTS, pid, &joined))
		return -1;
	*what = "ipc";
	if (restore_join(run, IMG_NS_IPC, pid, &joined))
		return -1;
	if (ipc && (unshare(CLONE_NEWIPC) || restore_ns_sysctls(ipc, what) ||
		    restore_ipcns_make(run, ipc, what)))
		return -1;
	*what = "mount";
	if (mnt && mnt->parent)
		return restore_mntns_make(run, mnt);
	if (mnt && (img->nr_mounts ? restore_mnt_make(run) : make_mnt()))
		return -1;
	return 0;
}

/* Each namespace's owner is a live process of the image; a mount one
 * with MOUNT records is the root's, one without its init's */
int restore_check_nss(const struct restore_run *run)
{
	const struct image *img = run->img;
	uint32_t i, k;

	for (i = 0; i < img->nr_nss; i++) {
		for (k = 0; k < img->nr_procs; k++)
			if (img->procs[k].proc.pid == (pid_t)img->nss[i].owner &&
			    !img->procs[k].proc.zombie)
				break;
		if (k == img->nr_procs) {
			pr_err("%s: the %s namespace %llu is made by %u, which is no live process of the image",
			       run->path, img_ns_name(img->nss[i].kind),
			       (unsigned long long)img->nss[i].id,
			       img->nss[i].owner);
			return -1;
		}
		if ((img->nss[i].kind == IMG_NS_NET ||
		     img->nss[i].kind == IMG_NS_CGROUP ||
		     img->nss[i].kind == IMG_NS_TIME) &&
		    (pid_t)img->nss[i].owner != img->procs[0].proc.pid) {
			pr_err("%s: the %s namespace is made by %u, not by the root",
			       run->path, img_ns_name(img->nss[i].kind),
			       img->nss[i].owner);
			return -1;
		}
		if (img->nss[i].kind == IMG_NS_MNT && !img->nss[i].parent &&
		    (img->nr_mounts ? (pid_t)img->nss[i].owner !=
				      img->procs[0].proc.pid :
				      img->nss[i].owner != 1)) {
			pr_err("%s: the mount namespace is made by %u, not by the %s",
			       run->path, img->nss[i].owner,
			       img->nr_mounts ? "root" : "init");
			return -1;
		}
	}
	return restore_userns_check(run) || restore_pidnest_check(run) ||
	       restore_mntns_check(run) ? -1 : 0;
}

/* --pidns: PID 1 is the init's; a /proc/PID path or a pidfd would name
 * a PID of this host's /proc, not of the namespace */
int restore_pidns_check(const struct restore_run *run)
{
	const struct image *img = run->img;
	const struct img_process *p;
	uint32_t i, k;

	if (img->procs[0].proc.ks.stop_sig && !run->pidns.root_init) {
		pr_err("%s: can't restore a stopped root into a new PID namespace",
		       run->path);
		return -1;
	}
	for (i = 0; i < img->nr_files; i++)
		if (img->files[i].kind == IMG_FILE_PIDFD) {
			pr_err("%s: can't restore into a new PID namespace: the image has a pidfd",
			       run->path);
			return -1;
		}
	for (i = 0; i < img->nr_procs; i++) {
		p = &img->procs[i];
		for (k = 0; k < p->nr_threads; k++)
			if (p->threads[k].tid == 1 && !run->pidns.root_init) {
				pr_err("%s: can't restore into a new PID namespace: the image has a PID 1 (there, its init's)",
				       run->path);
				return -1;
			}
		for (k = 0; k < p->nr_fds; k++)
			if (p->fds[k].path &&
			    !strncmp(p->fds[k].path, "/proc/", 6) &&
			    isdigit((unsigned char)p->fds[k].path[6])) {
				pr_err("%s: can't restore into a new PID namespace: process %d holds %s, a PID of this host's /proc",
				       run->path, p->proc.pid, p->fds[k].path);
				return -1;
			}
	}
	return 0;
}

int restore_pidns_own(struct restore_run *run)
{
	if (!img_find_ns(run->img, IMG_NS_PID, 1))
		return 0;
	/* --pty makes the root lead a session of restore's namespace */
	if (run->pty.on) {
		pr_err("%s: can't give a container's init a pty of its own",
		       run->path);
		return -1;
	}
	run->pidns.on = 1;
	run->pidns.root_init = 1;
	return 0;
}

pid_t restore_pidns_fork_init(struct restore_run *run)
{
	struct clone_args ca = { .flags = CLONE_NEWPID |
					  restore_userns_flag(run),
				 .exit_signal = SIGCHLD };
	char path[64];
	struct stat st;
	pid_t root = syscall(SYS_clone3, &ca, sizeof(ca));
	int saved;

	if (root <= 0)
		return root;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", root);
	if (stat(path, &st)) {
		saved = errno;
		kill(root, SIGKILL);
		while (waitpid(root, NULL, 0) < 0 && errno == EINTR)
			;
		errno = saved;
		return -1;
	}
	run->pidns.ino = st.st_ino;
	return root;
}

/* As wait_restored() in main.c: the exit status of a wait status */
static int exit_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The namespace's init: it waits for the tree to run, then reaps, and
 * exits with the root's status once no one else is left. */
static void __attribute__((noreturn)) init_main(int go, pid_t root)
{
	struct timespec tick = { 1, 0 };
	int st, code = 1;
	sigset_t set;
	pid_t pid;
	char c;

	/* restore's files (the guardian's pipe above all) are not ours */
	if (go > 3)
		syscall(SYS_close_range, 3, go - 1, 0);
	syscall(SYS_close_range, go + 1, ~0U, 0);
	prctl(PR_SET_NAME, "restore-init");
	if (read(go, &c, 1) != 1)
		_exit(1);	/* restore failed: the namespace goes */
	close(go);
	prctl(PR_SET_PDEATHSIG, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
			if (pid == root)
				code = exit_code(st);
		if (kill(-1, 0) && errno == ESRCH)
			_exit(code);
		sigtimedwait(&set, NULL, &tick);
	}
}

/* In the init: the root, its image PID pid; 0 in the root */
static pid_t fork_root(int go, pid_t pid)
{
	uint64_t tid = pid;
	struct clone_args ca = { .exit_signal = SIGCHLD,
				 .set_tid = (uint64_t)&tid,
				 .set_tid_size = 1 };
	pid_t root;

	/* restore, our parent, is outside: getppid() is 0 here */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		_exit(1);
	root = syscall(SYS_clone3, &ca, sizeof(ca));
	if (root == 0) {
		close(go);
		return 0;
	}
	if (root < 0)
		_exit(1);	/* the root never reports: restore says so */
	init_main(go, root);
}

pid_t restore_pidns_fork(struct restore_run *run, pid_t pid)
{
	struct clone_args ca = { .flags = CLONE_NEWPID |
					  restore_userns_flag(run),
				 .exit_signal = SIGCHLD };
	char path[64];
	struct stat st;
	pid_t init;
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	init = syscall(SYS_clone3, &ca, sizeof(ca));
	if (init == 0) {
		close(p[1]);
		return fork_root(p[0], pid);
	}
	close(p[0]);
	if (init < 0) {
		close(p[1]);
		return -1;
	}
	run->pidns.init = init;
	run->pidns.go = p[1];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
	if (stat(path, &st)) {
		restore_pidns_end(run);
		return -1;
	}
	run->pidns.ino = st.st_ino;
	return init;
}

void restore_pidns_release(struct restore_run *run)
{
	if (run->pidns.go < 0)
		return;
	if (write(run->pidns.go, "", 1) != 1)
		pr_warn("the init of the new PID namespace did not hear that the tree runs");
	close(run->pidns.go);
	run->pidns.go = -1;
}

void restore_pidns_end(struct restore_run *run)
{
	pid_t pid = run->pidns.init;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	run->pidns.init = 0;
}

int restore_pidns_wait(struct restore_run *run)
{
	int st;

	/* the terminal's ^C reaches the restored tree, not us */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(run->pidns.init, &st, 0) < 0)
		if (errno != EINTR) {
			pr_perror("can't wait for %d", run->pidns.init);
			return EXIT_FAILED;
		}
	return exit_code(st);
}

/*
 * Is host, a process of this host, in the new PID namespace (or one below
 * it) with PID pid there? Its NSpid line from restore's /proc: this
 * host's PID, the new namespace's, then one per level below; the
 * namespace at the second level is found by NS_GET_PARENT from its own.
 */
static int in_new_ns(const struct restore_run *run, pid_t host, pid_t pid)
{
	pid_t ids[IMG_MAX_PIDNS_DEPTH + 2];
	char path[64];
	struct stat st;
	int n, fd, up, ok = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", host);
	n = proc_status_ns_ids(path, "NSpid:", ids, ARRAY_SIZE(ids));
	if (n < 2 || ids[1] != pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", host);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && n-- > 2) {
		up = ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = up;
	}
	if (fd >= 0) {
		ok = !fstat(fd, &st) && st.st_ino == run->pidns.ino;
		close(fd);
	}
	return ok;
}

pid_t restore_host_pid(const struct restore_run *run, pid_t pid)
{
	struct dirent *de;
	pid_t host = -1, h;
	DIR *d;

	if (!run->pidns.on)
		return pid;
	d = opendir("/proc");
	while (d && host < 0 && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		h = atoi(de->d_name);
		if (in_new_ns(run, h, pid))
			host = h;
	}
	if (d)
		closedir(d);
	if (host < 0)
		pr_err("can't find process %d of the new PID namespace", pid);
	return host;
}
