/*
 * ckpt check: which kernel features that ckpt relies on this host offers,
 * one line each: "ok NAME" or "no NAME: why", or with --json one object.
 * Exits 0 when every required feature is there.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/dump.h"
#include "image/image.h"
#include "util/json.h"
#include "util/util.h"

struct feature {
	const char *name;
	int required;
	int (*probe)(void);	/* 0 or -1 with errno */
};

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int probe_seize(void)
{
	pid_t pid = spawn_sleeper();
	int ret = -1, saved, status;

	if (pid < 0)
		return -1;
	if (!ptrace(PTRACE_SEIZE, pid, NULL, NULL) &&
	    !ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) &&
	    waitpid(pid, &status, __WALL) == pid &&
	    (status >> 16) == PTRACE_EVENT_STOP)
		ret = 0;
	saved = errno;
	reap(pid);
	errno = saved;
	return ret;
}

static int probe_vm_readv(void)
{
	char src[8] = "ckpt", dst[8] = "";
	struct iovec l = { dst, sizeof(dst) }, r = { src, sizeof(src) };

	if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != sizeof(src))
		return -1;
	return strcmp(dst, "ckpt") ? -1 : 0;
}

static int probe_clone3_set_tid(void)
{
	uint64_t tid = getpid();	/* taken: EEXIST proves support */
	struct clone_args ca;

	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)&tid;
	ca.set_tid_size = 1;
	if (syscall(SYS_clone3, &ca, sizeof(ca)) >= 0)
		return -1;	/* cannot happen: the pid is ours */
	return errno == EEXIST ? 0 : -1;
}

/* set_tid in a new PID namespace (restore --pidns: its init makes the
 * root there with its image PID): the init's own PID 1, taken, given to
 * its child must be EEXIST */
static int probe_set_tid_nested(void)
{
	struct clone_args ca;
	uint64_t tid = 1;
	int st;
	pid_t pid;

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWPID;
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		ca.flags = 0;
		ca.set_tid = (uint64_t)&tid;
		ca.set_tid_size = 1;
		if (syscall(SYS_clone3, &ca, sizeof(ca)) == 0)
			_exit(0);
		_exit(errno == EEXIST ? 0 : errno ? errno : EINVAL);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	errno = WEXITSTATUS(st);
	return errno ? -1 : 0;
}

/* unshare(flags) in a child of ours, which exits at once; nobody: as
 * root, the child becomes nobody first */
static int probe_unshare_as(int flags, int nobody)
{
	int st, err = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (nobody && !geteuid() && (setgroups(0, NULL) ||
					     setresgid(65534, 65534, 65534) ||
					     setresuid(65534, 65534, 65534)))
			_exit(errno);
		_exit(unshare(flags) ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	err = WEXITSTATUS(st);
	errno = err;
	return err ? -1 : 0;
}

static int probe_unshare(int flags)
{
	return probe_unshare_as(flags, 0);
}

static int probe_uts_ipc_ns(void)
{
	return probe_unshare(CLONE_NEWUTS | CLONE_NEWIPC);
}

static int probe_net_ns(void)
{
	return probe_unshare(CLONE_NEWNET);
}

static int probe_user_ns(void)
{
	return probe_unshare(CLONE_NEWUSER);
}

static int probe_cgroup_ns(void)
{
	return probe_unshare(CLONE_NEWCGROUP);
}

/* What restore does for a time namespace (restore/timens.c), in a child
 * of ours: unshare, offsets written, entered */
static int probe_time_ns(void)
{
	static const char offs[] = "monotonic 1 0\nboottime 1 0\n";
	int st, fd;
	pid_t pid = fork();

	if (pid == 0) {
		if (unshare(CLONE_NEWTIME))
			_exit(errno);
		fd = open("/proc/self/timens_offsets", O_WRONLY);
		if (fd < 0 || write(fd, offs, sizeof(offs) - 1) < 0)
			_exit(errno);
		fd = open("/proc/self/ns/time_for_children", O_RDONLY);
		_exit(fd < 0 || setns(fd, CLONE_NEWTIME) ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	errno = WEXITSTATUS(st);
	return errno ? -1 : 0;
}

/*
 * What rootless restore --pidns needs: a process without privilege (as
 * root: one that became nobody) makes a user namespace and a PID
 * namespace in it. Distributions can forbid it (kernel.
 * unprivileged_userns_clone, user.max_user_namespaces 0, AppArmor).
 */
static int probe_unpriv_user_ns(void)
{
	return probe_unshare_as(CLONE_NEWUSER | CLONE_NEWPID, 1);
}

/* a file system of that magic at path, else ENOENT */
static int probe_fs(const char *path, long magic)
{
	struct statfs sf;

	if (statfs(path, &sf))
		return -1;
	if (sf.f_type == magic)
		return 0;
	errno = ENOENT;
	return -1;
}

/* cgroup v2: at /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified
 * (hybrid); its freezer is cgroup.freeze (Linux 5.2) */
static int probe_cgroup_v2(void)
{
	return probe_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC) &&
	       probe_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC) ? -1 : 0;
}

static int probe_cgroup_v1(void)
{
	return probe_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC);
}

static int probe_freezer_v1(void)
{
	return probe_fs("/sys/fs/cgroup/freezer", CGROUP_SUPER_MAGIC) ||
	       access("/sys/fs/cgroup/freezer/tasks", F_OK) ? -1 : 0;
}

static int probe_mm_map(void)
{
	unsigned int size = 0;

	return prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0) ? -1 : 0;
}

static int probe_pagemap(void)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY), ret = -1;

	if (fd < 0)
		return -1;
	if (pread(fd, &e, 8, ((uintptr_t)&e / 4096) * 8) == 8 &&
	    (e >> 63))
		ret = 0;
	close(fd);
	return ret;
}

static int probe_uffd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* An fd on a shared mapping's object, as dump and restore of shared
 * memory open them (CAP_SYS_ADMIN). */
static int probe_map_files(void)
{
	char path[96];
	void *p;
	int fd;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)p, (unsigned long)p + 4096);
	fd = open(path, O_RDWR | O_CLOEXEC);
	munmap(p, 4096);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int probe_shm_next_id(void)
{
	return access("/proc/sys/kernel/shm_next_id", W_OK);
}

/* Is fd a and b of this process one open file description (trees)? */
static int probe_kcmp(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), ret = -1, d;

	if (fd < 0)
		return -1;
	d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d >= 0 && !syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd,
			       d))
		ret = 0;
	if (d >= 0)
		close(d);
	close(fd);
	return ret;
}

/* A copy of a frozen process's fd in ckpt (sockets, timerfds). */
static int probe_pidfd_getfd(void)
{
	int pfd = syscall(SYS_pidfd_open, getpid(), 0), fd;

	if (pfd < 0)
		return -1;
	fd = syscall(SYS_pidfd_getfd, pfd, 0, 0);
	close(pfd);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* What a unix socket is and where its peer is. */
static int probe_sock_diag(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Expirations a timerfd had not delivered, put back at restore (needs a
 * kernel with CONFIG_CHECKPOINT_RESTORE). */
static int probe_timerfd_ticks(void)
{
	uint64_t ticks = 1;	/* 0 is refused (EINVAL) */
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, _IOW('T', 0, uint64_t), &ticks);	/* SET_TICKS */
	close(fd);
	return ret ? -1 : 0;
}

/* TCP connections read and rebuilt in repair mode (CAP_NET_ADMIN). */
static int probe_tcp_repair(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1, ret;

	if (fd < 0)
		return -1;
	ret = setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on));
	close(fd);
	return ret;
}

/* What the kernel says of inet sockets (sock_diag's inet_diag: the
 * TCP listeners here), as ss(8) reads them. */
static int probe_inet_diag(void)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = 1u << TCP_LISTEN },
	};
	long buf[2048];
	const struct nlmsghdr *h = (const void *)buf;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG), ret = -1;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = send(fd, &req, sizeof(req), 0) == sizeof(req) ?
	    recv(fd, buf, sizeof(buf), 0) : -1;
	if (n >= (ssize_t)sizeof(*h) && h->nlmsg_type != NLMSG_ERROR)
		ret = 0;
	else if (n >= (ssize_t)(sizeof(*h) + sizeof(int)))
		errno = -((const struct nlmsgerr *)NLMSG_DATA(h))->error;
	close(fd);
	return ret;
}

/* Connections not accepted yet put back in a listener's queue by
 * restore: the kfunc bpf_sk_assign_tcp_reqsk (Linux 6.9), which the
 * kernel's BTF names (ckpt/dump-inet-accept.c). */
static int probe_accept_queue(void)
{
	if (dump_inet_accept_works())
		return 0;
	errno = ENOSYS;
	return -1;
}

/* AIO contexts: the BPF task iterator that sees their requests in
 * flight (ckpt/dump-aio.c) loads and runs. */
static int probe_aio(void)
{
	if (dump_aio_works())
		return 0;
	errno = EPERM;
	return -1;
}

/* What of a socket no call reads (IP_MULTICAST_IF's device by index,
 * TCP_MD5SIG keys, urgent data): ckpt/dump-sockx.c's iterator */
static int probe_sock_bpf(void)
{
	if (dump_sockx_bpf_works())
		return 0;
	errno = EPERM;
	return -1;
}

/* Semaphore undo values: ckpt/dump-semundo.c's iterator */
static int probe_semundo(void)
{
	if (dump_semundo_works())
		return 0;
	errno = EPERM;
	return -1;
}

/* The network lock of --tcp-established: a table of its own made and
 * removed again (CAP_NET_ADMIN, nf_tables). */
static int probe_nftables(void)
{
	char name[64], err[256];
	struct img_netlock l;

	snprintf(name, sizeof(name), IMG_NETLOCK_PREFIX "check_%d", getpid());
	img_netlock_begin(&l, name);
	if (img_netlock_run(&l, err, sizeof(err)) ||
	    img_netlock_remove(name, err, sizeof(err))) {
		errno = EPERM;
		pr_debug("nftables: %s", err);
		return -1;
	}
	return 0;
}

/* Datagrams put back from their senders' addresses (CAP_NET_RAW). */
static int probe_raw_socket(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static const struct feature features[] = {
	{ "ptrace-seize", 1, probe_seize },
	{ "process-vm-readv", 1, probe_vm_readv },
	{ "clone3-set-tid", 1, probe_clone3_set_tid },
	{ "prctl-mm-map", 1, probe_mm_map },
	{ "pagemap", 1, probe_pagemap },
	{ "map-files", 0, probe_map_files },
	{ "shm-next-id", 0, probe_shm_next_id },
	{ "userfaultfd", 0, probe_uffd },
	{ "kcmp", 1, probe_kcmp },
	{ "pidfd-getfd", 0, probe_pidfd_getfd },
	{ "sock-diag", 0, probe_sock_diag },
	{ "timerfd-set-ticks", 0, probe_timerfd_ticks },
	{ "tcp-repair", 0, probe_tcp_repair },
	{ "sock-diag-inet", 0, probe_inet_diag },
	{ "nftables", 0, probe_nftables },
	{ "raw-socket", 0, probe_raw_socket },
	{ "clone3-set-tid-nested", 0, probe_set_tid_nested },
	{ "uts-ipc-namespaces", 0, probe_uts_ipc_ns },
	{ "network-namespaces", 0, probe_net_ns },
	{ "user-namespaces", 0, probe_user_ns },
	{ "cgroup-namespaces", 0, probe_cgroup_ns },
	{ "time-namespaces", 0, probe_time_ns },
	{ "unprivileged-user-namespaces", 0, probe_unpriv_user_ns },
	{ "cgroup-v1", 0, probe_cgroup_v1 },
	{ "cgroup-v1-freezer", 0, probe_freezer_v1 },
	{ "cgroup-v2", 0, probe_cgroup_v2 },
	{ "tcp-accept-queue", 0, probe_accept_queue },
	{ "aio-contexts", 0, probe_aio },
	{ "socket-state-bpf", 0, probe_sock_bpf },
	{ "semaphore-undo-bpf", 0, probe_semundo },
};

static int check_json(void)
{
	int missing = 0, ok, err;
	size_t i;

	json_begin();
	json_key(1, "features");
	putchar('[');
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		ok = !features[i].probe();
		err = errno;
		if (i)
			putchar(',');
		putchar('{');
		json_kstr(1, "name", features[i].name);
		json_bool(0, "ok", ok);
		json_bool(0, "required", features[i].required);
		json_kstr(0, "why", ok ? NULL : strerror(err));
		putchar('}');
		missing += !ok && features[i].required;
	}
	putchar(']');
	json_bool(0, "ok", !missing);
	json_end();
	return missing ? EXIT_FAILED : 0;
}

static int exec_check(int argc, char **argv)
{
	size_t i;
	int missing = 0;

	if (argc == 2 && !strcmp(argv[1], "--json"))
		return check_json();
	if (argc != 1)
		return cmd_usage(&cmd_check_entry);
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		if (!features[i].probe()) {
			printf("ok %s\n", features[i].name);
			continue;
		}
		printf("no %s: %s%s\n", features[i].name, strerror(errno),
		       features[i].required ? "" : " (optional)");
		if (features[i].required)
			missing++;
	}
	return missing ? EXIT_FAILED : 0;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "[--json]",
	.exec = exec_check,
};
