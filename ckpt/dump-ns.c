/*
 * The namespaces of the tree. Each process's /proc/PID/ns/KIND is
 * compared with ckpt's own: the same namespace is left alone (restore
 * puts the tree in its own). A UTS or IPC namespace of the tree's own
 * becomes an NS record (image.h) owned by its topmost process, which
 * makes it again at restore; one the tree shares with a process outside
 * it, UTS, IPC or network, is recorded to be joined at restore
 * (dump-nsjoin.c); one with two topmost processes is refused. The
 * objects of an IPC one (System V, POSIX message queues) are read by
 * dump-ipcns.c. A root that is the init of its own PID namespace is
 * recorded too (check_pid), and the root's mount namespace with its
 * mounts (check_mnt, dump-mnt.c), and the root's network namespace with
 * its devices (check_net, dump-netdev.c), and the root's user namespace
 * with its maps (check_user, dump-userns.c), and the root's cgroup
 * namespace with its root cgroups (check_cgroup, dump-cgroup.c), and the
 * root's time namespace with its clocks (check_time, dump-timens.c).
 * Every other namespace of the tree's own (PID, user, cgroup, time) is
 * refused, naming the process. A mount namespace below the root's is
 * dump-mntns.c's, but one that shows the same mounts as ckpt's (what
 * `ip netns exec` makes: the same tree with /sys mounted again), which
 * is left alone.
 */
#include <sys/stat.h>
#include <sys/utsname.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

static const struct {
	const char *file;	/* in /proc/PID/ns */
	uint32_t kind;
	int flag;		/* for setns() */
} kinds[] = {
	{ "uts", IMG_NS_UTS, CLONE_NEWUTS },
	{ "ipc", IMG_NS_IPC, CLONE_NEWIPC },
	{ "pid", IMG_NS_PID, 0 },
	{ "pid_for_children", IMG_NS_PID, 0 },
	{ "mnt", IMG_NS_MNT, 0 },
	{ "net", IMG_NS_NET, CLONE_NEWNET },
	{ "user", IMG_NS_USER, 0 },
	{ "cgroup", IMG_NS_CGROUP, 0 },
	{ "time", IMG_NS_TIME, 0 },
	{ "time_for_children", IMG_NS_TIME, 0 },
};

/*
 * The inode of pid's namespace file, or 0 when the kernel has none. The
 * PID namespace for the children of a process that made one and has no
 * child in it yet has no file (no init: Linux 4.12's pidns_for_children
 * gives none): NONE_YET.
 */
#define NONE_YET	DUMP_NS_NONE_YET

static uint64_t ns_ino(pid_t pid, const char *file)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, file);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", file);
	if (!stat(path, &st))
		return st.st_ino;
	if (pid && errno == ENOENT && !strcmp(file, "pid_for_children") &&
	    ns_ino(pid, "pid"))
		return NONE_YET;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * What paths lead to in pid's mount namespace, as one string: its mounts'
 * "point fstype source device" sorted, the device left out for proc and
 * sysfs (a namespace of their own, same files). NULL if unreadable.
 */
static char *mount_view(pid_t pid)
{
	char path[64], **lines = NULL, *buf, *out = NULL, *l, *save = NULL;
	char point[4096], dev[32], fs[64], src[4096];
	size_t n = 0, i, len = 1;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	buf = read_file_str(path, NULL);
	if (!buf)
		return NULL;
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char **nl, *sep = strstr(l, " - ");

		if (!sep || sscanf(l, "%*s %*s %31s %*s %4095s", dev, point) != 2 ||
		    sscanf(sep, " - %63s %4095s", fs, src) != 2)
			continue;
		nl = realloc(lines, (n + 1) * sizeof(*lines));
		if (!nl)
			goto out;
		lines = nl;
		if (!strcmp(fs, "proc") || !strcmp(fs, "sysfs"))
			dev[0] = '\0';
		if (asprintf(&lines[n], "%s %s %s %s\n", point, fs, src,
			     dev) < 0)
			goto out;
		len += strlen(lines[n++]);
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	out = calloc(1, len);
	/* once each: a /proc mounted again over /proc (unshare
	 * --mount-proc) is the same one line */
	for (i = 0; out && i < n; i++)
		if (!i || strcmp(lines[i], lines[i - 1]))
			strcat(out, lines[i]);
out:
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(buf);
	return out;
}

static int same_mounts(pid_t pid)
{
	char *a = mount_view(pid), *b = mount_view(getpid());
	int same = a && b && !strcmp(a, b);

	free(a);
	free(b);
	return same;
}

static int refuse(pid_t pid, const char *file, uint64_t ino, const char *why)
{
	pr_err("can't dump %d: it is in a %s namespace of its own (%s:[%llu]): %s",
	       pid, file, file, (unsigned long long)ino, why);
	return -1;
}

/* A kind restore does not make: refused, unless equivalent to ckpt's */
static int check_other(pid_t pid, const char *file, uint64_t ino)
{
	if (!strcmp(file, "mnt") && same_mounts(pid))
		return 0;
	if (!strncmp(file, "pid", 3))
		return refuse(pid, file, ino, "PID namespaces are not supported yet (restore --pidns restores a tree into a new one)");
	return refuse(pid, file, ino, "not supported yet");
}

/* index of pid's parent in the tree, or -1 */
int dump_ns_parent(const struct dump_tree *t, int i)
{
	int j;

	for (j = 0; j < t->n; j++)
		if (t->procs[j].pid == t->procs[i].proc.proc.ppid)
			return j;
	return -1;
}

/* Is p one that the user asked to leave out (attach --leave)? */
static int left_out(const struct dump_tree *t, pid_t p)
{
	const struct dump_opts *o = t->procs[0].o;
	int i;

	for (i = 0; i < o->nr_leave; i++)
		if (o->leave[i] == p)
			return 1;
	return 0;
}

/* Another process than the tree's (and than skip, and than those left
 * out) in the namespace: its PID, or 0 */
static pid_t outside_member(const struct dump_tree *t, const char *file,
			    uint64_t ino, pid_t skip)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	pid_t p, found = 0;

	while (d && !found && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		p = atoi(de->d_name);
		if (p != getpid() && p != skip && !dump_tree_has(t, p) &&
		    !left_out(t, p) && ns_ino(p, file) == ino)
			found = p;
	}
	if (d)
		closedir(d);
	return found;
}

/* Run fn in the namespace of pid (setns there and back). */
static int in_ns(pid_t pid, int k, int (*fn)(void *), void *arg)
{
	char path[64];
	int self, there, ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kinds[k].file);
	there = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[k].file);
	self = open(path, O_RDONLY | O_CLOEXEC);
	if (there < 0 || self < 0 || setns(there, kinds[k].flag)) {
		pr_perror("can't enter the %s namespace of %d", kinds[k].file,
			  pid);
		goto out;
	}
	ret = fn(arg);
	if (setns(self, kinds[k].flag)) {
		pr_perror("can't return to ckpt's %s namespace", kinds[k].file);
		abort();	/* ckpt would go on in the tree's */
	}
out:
	if (there >= 0)
		close(there);
	if (self >= 0)
		close(self);
	return ret;
}

static int read_uts(void *arg)
{
	struct img_ns *ns = arg;
	struct utsname u;

	if (uname(&u))
		return -1;
	ns->hostname = strdup(u.nodename);
	ns->domainname = strdup(u.domainname);
	return ns->hostname && ns->domainname ? 0 : -1;
}

/* From inside it: the namespace's sysctls, each as the kernel shows it
 * (one that this kernel lacks is left out) */
static int read_sysctls(struct img_ns *ns)
{
	char path[128], *v;
	const char *name;
	size_t i, n;

	for (i = 0; img_ns_sysctl(ns->kind, i); i++)
		;
	ns->sysctls = calloc(i, sizeof(*ns->sysctls));
	if (!ns->sysctls)
		return -1;
	for (i = 0; (name = img_ns_sysctl(ns->kind, i)); i++) {
		snprintf(path, sizeof(path), "/proc/sys/%s", name);
		v = read_file_str(path, NULL);
		if (!v) {
			if (errno == ENOENT)
				continue;
			pr_perror("can't read %s of ipc:[%llu]", path,
				  (unsigned long long)ns->id);
			return -1;
		}
		n = strlen(v);
		while (n && v[n - 1] == '\n')
			v[--n] = '\0';
		ns->sysctls[ns->nr_sysctls].value = v;
		if (!(ns->sysctls[ns->nr_sysctls++].name = strdup(name)))
			return -1;
	}
	return 0;
}

static int check_ipc(void *ns)
{
	return read_sysctls(ns);
}

static int refuse_shared(pid_t pid, int k, uint64_t ino, pid_t out)
{
	pr_err("can't dump %d: its %s namespace %s:[%llu] is shared with %d, outside the tree",
	       pid, kinds[k].file, kinds[k].file, (unsigned long long)ino,
	       out);
	return -1;
}

/* A new NS record of the tree, zeroed but for these */
static struct img_ns *new_ns(struct dump_tree *t, int k, uint64_t ino,
			     pid_t owner)
{
	struct img_ns *ns = realloc(t->nss, (t->nr_nss + 1) * sizeof(*ns));

	if (!ns)
		return NULL;
	t->nss = ns;
	ns = &t->nss[t->nr_nss++];
	memset(ns, 0, sizeof(*ns));
	ns->kind = kinds[k].kind;
	ns->id = ino;
	ns->owner = owner;
	return ns;
}

/* The tree's namespace of kinds[k] that process i is at the top of;
 * fn, if any, reads what it holds from inside it. 1: not the tree's, a
 * UTS, IPC or network one shared with a process outside (joined) */
static int add_ns(struct dump_tree *t, int i, int k, uint64_t ino,
		  int (*fn)(void *))
{
	pid_t pid = t->procs[i].pid, out;
	struct img_ns *ns;
	uint32_t j;

	for (j = 0; j < t->nr_nss; j++)
		if (t->nss[j].kind == kinds[k].kind && t->nss[j].id == ino) {
			pr_err("can't dump %d: its %s namespace %s:[%llu] is also that of %u, and no ancestor of both in the tree is in it",
			       pid, kinds[k].file, kinds[k].file,
			       (unsigned long long)ino, t->nss[j].owner);
			return -1;
		}
	out = outside_member(t, kinds[k].file, ino, 0);
	if (out && kinds[k].flag)	/* one restore can join */
		return dump_ns_join(t, pid, kinds[k].kind, kinds[k].file,
				    ino) ? -1 : 1;
	if (out)
		return refuse_shared(pid, k, ino, out);
	ns = new_ns(t, k, ino, pid);
	if (!ns)
		return -1;
	return fn ? in_ns(pid, k, fn, ns) : 0;
}

/* Is the /proc that root sees one of its PID namespace, ino? (Its PID 1
 * is in that namespace; this host's /proc would show this host's init.) */
static int proc_of_pidns(pid_t root, uint64_t ino)
{
	char path[64], link[64], want[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/root/proc/1/ns/pid", root);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = '\0';
	snprintf(want, sizeof(want), "pid:[%llu]", (unsigned long long)ino);
	return !strcmp(link, want);
}

static const struct img_ns *find_ns(const struct dump_tree *t,
				    uint32_t kind)
{
	uint32_t j;

	for (j = 0; j < t->nr_nss; j++)
		if (t->nss[j].kind == kind)
			return &t->nss[j];
	return NULL;
}

/*
 * A mount namespace of the tree's own. One that shows ckpt's mounts
 * (check_other) has no record, except that the root of a container (the
 * init of its own PID namespace, check_pid) may have one whose /proc is
 * mounted again for that PID namespace (unshare --mount-proc): an NS
 * record of kind mount, whose owner makes a copy of restore's mount
 * namespace with a new /proc, of the new PID namespace. The root's own
 * with other mounts is an NS record with MOUNT records (dump-mnt.c). One
 * below the root's is an NS record with NSMOUNT records (dump-mntns.c).
 */
static int check_mnt(struct dump_tree *t, int i, int k, uint64_t *inos)
{
	const struct img_ns *pidns = find_ns(t, IMG_NS_PID);
	pid_t pid = t->procs[i].pid;

	if (inos[i] != inos[0])
		return same_mounts(pid) ? 0 : dump_mntns_add(t, i, inos);
	if (i)
		return 0;
	if (!same_mounts(pid)) {
		/* none: only ckpt's has mounts made since (a slave's) */
		if (dump_mnt_collect(t))
			return -1;
		if (t->mnt->n)
			return add_ns(t, 0, k, inos[0], NULL);
		dump_free_mounts(t);
	}
	if (!pidns || !proc_of_pidns(t->procs[0].pid, pidns->id))
		return 0;
	return add_ns(t, 0, k, inos[0], NULL);
}

/*
 * The PID namespaces. The root may be the init (PID 1) of one of its
 * own, a container's as the host sees it: the whole namespace must be
 * the tree (no process joined it from outside). It becomes an NS record
 * of the root; restore makes a new namespace whose init the root is,
 * and the image holds the PIDs as seen inside it (dump-pidns.c). The
 * namespaces below the root's (and pid_for_children ones) are
 * dump_pidns_nest()'s (dump-pidnest.c), once all are known.
 */
static int check_pid(struct dump_tree *t, int i, int k, uint64_t ino)
{
	pid_t root = t->procs[0].pid, pid = t->procs[i].pid;
	uint64_t top = ns_ino(root, "pid");

	if (ino != top)
		return 0;	/* below the root's: dump_pidns_nest() */
	if (i || strcmp(kinds[k].file, "pid"))
		return 0;
	if (dump_pidns_inner(root) != 1)
		return refuse(pid, "pid", ino, "it is not the init of its PID namespace, which is not supported yet");
	return add_ns(t, 0, k, ino, NULL);
}

/*
 * The network namespace of the root, when not ckpt's: an NS record of
 * the root, which restore makes again before it makes the tree's
 * sockets, with its devices and routes (dump-netdev.c, which ckpt
 * entered before reading the sockets). One below the root's is refused.
 */
static int check_net(struct dump_tree *t, int i, int k, uint64_t *inos)
{
	int ret;

	if (inos[i] != inos[0])
		return refuse(t->procs[i].pid, kinds[k].file, inos[i],
			      "a network namespace below the root's is not supported yet");
	if (i)
		return 0;
	ret = add_ns(t, 0, k, inos[0], NULL);
	if (ret)
		return ret < 0 ? -1 : 0;
	return dump_net_collect(t) ||
	       dump_net_sysctls(t->procs[0].pid, &t->nss[t->nr_nss - 1]) ?
	       -1 : 0;
}

/*
 * The user namespace of the root, when not ckpt's: an NS record of the
 * root with its uid and gid maps (as ckpt's namespace sees them) and
 * its setgroups, which restore makes first, all the other namespaces
 * then being its. The ids of the image stay as ckpt sees them; restore
 * maps them. Besides the tree, only the root's parent may be in it: the
 * process that made it and waits for the container (unshare -U, a
 * runtime). One below the root's is refused.
 */
static int check_user(struct dump_tree *t, int i, int k, uint64_t *inos)
{
	pid_t pid = t->procs[0].pid, out;
	struct img_ns *ns;

	if (inos[i] != inos[0])
		return refuse(t->procs[i].pid, kinds[k].file, inos[i],
			      "a user namespace below the root's is not supported yet");
	if (i)
		return 0;
	out = outside_member(t, kinds[k].file, inos[0],
			     t->procs[0].proc.proc.ppid);
	if (out)
		return refuse_shared(pid, k, inos[0], out);
	ns = new_ns(t, k, inos[0], pid);
	return ns ? dump_userns_read(pid, ns) : -1;
}

/* The tree's cgroups as its cgroup namespace shows them */
struct cg_inner {
	pid_t pid;
	char *text;
};

static int read_inner_cg(void *arg)
{
	struct cg_inner *in = arg;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cgroup", in->pid);
	in->text = read_file_str(path, NULL);
	if (!in->text)
		pr_perror("can't read %s in its cgroup namespace", path);
	return in->text ? 0 : -1;
}

/*
 * The cgroup namespace of the root, when not ckpt's: an NS record of the
 * root with its root cgroup in each hierarchy, which restore makes again
 * with the root in it. Besides the tree, only the root's parent may be
 * in it (unshare -C -f). One below the root's, or shared with another
 * process outside the tree, is refused.
 */
static int check_cgroup(struct dump_tree *t, int i, int k, uint64_t *inos)
{
	struct cg_inner in = { t->procs[0].pid, NULL };
	pid_t out;
	struct img_ns *ns;
	int ret;

	if (inos[i] != inos[0])
		return refuse(t->procs[i].pid, kinds[k].file, inos[i],
			      "a cgroup namespace below the root's is not supported yet");
	if (i)
		return 0;
	out = outside_member(t, kinds[k].file, inos[0],
			     t->procs[0].proc.proc.ppid);
	if (out)
		return refuse_shared(in.pid, k, inos[0], out);
	ns = new_ns(t, k, inos[0], in.pid);
	if (!ns || in_ns(in.pid, k, read_inner_cg, &in))
		return -1;
	ret = dump_cgns_read(in.pid, in.text, ns);
	free(in.text);
	return ret;
}

/*
 * The time namespace of the root, when not ckpt's: an NS record of the
 * root with its offsets and clocks, which restore makes again, the
 * clocks carrying on from the dump. Its time namespace for children must
 * be the same (that file), and only the root's parent may be in it
 * besides the tree (unshare -T -f). A root still in ckpt's whose
 * children would go to one of their own (unshare(CLONE_NEWTIME) and no
 * child yet: the tree is the root alone) is recorded too, with
 * time_children: restore makes it with the same offsets for the root's
 * children. Any other is refused.
 */
static int check_time(struct dump_tree *t, int i, int k, uint64_t *inos)
{
	pid_t pid = t->procs[i].pid, out;
	uint64_t mine = ns_ino(pid, "time");
	struct img_ns *ns;

	if (!strcmp(kinds[k].file, "time_for_children")) {
		if (inos[i] == mine)
			return 0;
		if (i || mine != ns_ino(0, "time"))
			return refuse(pid, kinds[k].file, inos[i], "a time namespace for its children other than its own is not supported yet");
		/* restore would make those it has in the new one */
		if (t->n > 1)
			return refuse(pid, kinds[k].file, inos[i], "its children to come go to a time namespace of their own and it has some in its own already, which is not supported yet");
	} else if (inos[i] != inos[0]) {
		return refuse(pid, kinds[k].file, inos[i],
			      "a time namespace below the root's is not supported yet");
	} else if (i) {
		return 0;
	}
	out = outside_member(t, "time", inos[0], t->procs[0].proc.proc.ppid);
	if (out)
		return refuse_shared(pid, k, inos[0], out);
	ns = new_ns(t, k, inos[0], pid);
	if (!ns)
		return -1;
	ns->time_children = mine != inos[0];
	return dump_timens_read(pid, ns);
}

static int check_kind(struct dump_tree *t, int k, uint64_t *inos)
{
	uint64_t own = ns_ino(0, kinds[k].file);
	int i, up, ret;

	/* ckpt is in the tree's network namespace (dump-netdev.c) */
	if (kinds[k].kind == IMG_NS_NET && dump_net_home(t))
		own = dump_net_home(t);
	for (i = 0; i < t->n; i++)
		inos[i] = t->procs[i].proc.proc.zombie ? own :
			  ns_ino(t->procs[i].pid, kinds[k].file);
	for (i = 0; i < t->n; i++) {
		if (!inos[i] || inos[i] == own)
			continue;
		if (kinds[k].kind == IMG_NS_PID ||
		    kinds[k].kind == IMG_NS_MNT) {
			if (kinds[k].kind == IMG_NS_PID ?
			    check_pid(t, i, k, inos[i]) :
			    check_mnt(t, i, k, inos))
				return -1;
			continue;
		}
		if (kinds[k].kind == IMG_NS_NET) {
			if (check_net(t, i, k, inos))
				return -1;
			continue;
		}
		if (kinds[k].kind == IMG_NS_USER) {
			if (check_user(t, i, k, inos))
				return -1;
			continue;
		}
		if (kinds[k].kind == IMG_NS_CGROUP ||
		    kinds[k].kind == IMG_NS_TIME) {
			if ((kinds[k].kind == IMG_NS_CGROUP ? check_cgroup :
			     check_time)(t, i, k, inos))
				return -1;
			continue;
		}
		if (!kinds[k].flag) {
			if (check_other(t->procs[i].pid, kinds[k].file,
					inos[i]))
				return -1;
			continue;
		}
		up = dump_ns_parent(t, i);
		if (up >= 0 && inos[up] == inos[i])
			continue;
		ret = add_ns(t, i, k, inos[i], kinds[k].kind == IMG_NS_IPC ?
			     check_ipc : read_uts);
		if (ret < 0)
			return -1;
		if (ret)
			continue;	/* joined: nothing of it is saved */
		if (kinds[k].kind == IMG_NS_IPC &&
		    dump_ipcns_collect(t, &t->nss[t->nr_nss - 1]))
			return -1;
	}
	return kinds[k].kind == IMG_NS_MNT && !strcmp(kinds[k].file, "mnt") ?
	       dump_mntns_check(t, inos) : 0;
}

int dump_in_ipcns(pid_t pid, int (*fn)(void *), void *arg)
{
	return in_ns(pid, 1, fn, arg);	/* kinds[1]: ipc */
}

int dump_tree_ns(struct dump_tree *t)
{
	uint64_t *inos = calloc(t->n, sizeof(*inos));
	size_t k;
	int ret = 0;

	if (!inos)
		return -1;
	for (k = 0; k < ARRAY_SIZE(kinds) && !ret; k++)
		ret = check_kind(t, k, inos);
	free(inos);
	return ret ? ret : dump_pidns_nest(t);
}

/* For dump-pidnest.c: the PID namespaces below the root's */
uint64_t dump_ns_ino(pid_t pid, const char *file)
{
	return ns_ino(pid, file);
}

pid_t dump_ns_outsider(const struct dump_tree *t, const char *file,
		       uint64_t ino)
{
	return outside_member(t, file, ino, 0);
}

struct img_ns *dump_ns_add_pid(struct dump_tree *t, uint64_t ino,
			       pid_t owner)
{
	return new_ns(t, 2, ino, owner);	/* kinds[2]: pid */
}

struct img_ns *dump_ns_add_mnt(struct dump_tree *t, uint64_t ino,
			       pid_t owner)
{
	return new_ns(t, 4, ino, owner);	/* kinds[4]: mnt */
}

int dump_ns_proc_of(pid_t pid, uint64_t ino)
{
	return proc_of_pidns(pid, ino);
}

int dump_write_nss(const struct dump_tree *t, struct img_writer *w)
{
	struct img_ns ns;
	uint32_t i;

	for (i = 0; i < t->nr_nss; i++) {
		/* a time namespace's clocks once all the timers were read */
		ns = t->nss[i];
		if (ns.kind == IMG_NS_TIME &&
		    dump_timens_clocks((pid_t)ns.owner, &ns))
			return -1;
		if (img_write_ns(w, &ns))
			return -1;
	}
	return 0;
}

void dump_free_nss(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_nss; i++) {
		free(t->nss[i].hostname);
		free(t->nss[i].domainname);
		img_ns_free_cgns(&t->nss[i]);
	}
	dump_free_userns(t);
	free(t->nss);
	t->nss = NULL;
	t->nr_nss = 0;
	dump_free_mounts(t);
	dump_free_mntns(t);
	dump_free_net(t);
	dump_free_sysvs(t);
	dump_free_nsjoins(t);
}
