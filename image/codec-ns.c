/*
 * codec-ns: the NS record, a namespace of the tree that restore makes
 * again (see image.h): u32 kind owner; u64 id; str hostname domainname
 * (a UTS namespace's; absent, STR_NULL, for the other kinds); u32
 * nr_sysctls, then str name value for each; a USER namespace's only:
 * u32 nr_uid_map, then u32 inner outer count for each, the same for
 * gid_map, u32 setgroups_deny; a CGROUP namespace's only: u32 nr_cgns,
 * then str controllers root inner for each; a TIME namespace's only:
 * u64 mono_off_ns boot_off_ns (two's complement), u64 mono_ns boot_ns,
 * u32 time_children; a PID namespace's only: u64 parent; a MNT
 * namespace's below the root's only: u64 parent (not 0; absent, in
 * older images too, for the root's).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

const char *img_ns_name(uint32_t kind)
{
	static const char *const names[] = {
		[IMG_NS_UTS] = "uts",
		[IMG_NS_IPC] = "ipc",
		[IMG_NS_PID] = "pid",
		[IMG_NS_MNT] = "mnt",
		[IMG_NS_NET] = "net",
		[IMG_NS_USER] = "user",
		[IMG_NS_CGROUP] = "cgroup",
		[IMG_NS_TIME] = "time",
	};

	if (kind && kind <= IMG_NS_MAX)
		return names[kind];
	return "unknown";
}

/*
 * The sysctls of an IPC namespace (ipc/ipc_sysctl.c, ipc/mq_sysctl.c),
 * the limits before the defaults that must stay below them. Not the
 * *_next_id ones: those are restore's to set, for one object at a time.
 */
static const char *const ipc_sysctls[] = {
	"kernel/msgmax", "kernel/msgmnb", "kernel/msgmni", "kernel/sem",
	"kernel/shmall", "kernel/shmmax", "kernel/shmmni",
	"kernel/shm_rmid_forced", "fs/mqueue/queues_max",
	"fs/mqueue/msg_max", "fs/mqueue/msgsize_max",
	"fs/mqueue/msg_default", "fs/mqueue/msgsize_default",
};

const char *img_ns_sysctl(uint32_t kind, size_t i)
{
	if (kind != IMG_NS_IPC || i >= ARRAY_SIZE(ipc_sysctls))
		return NULL;
	return ipc_sysctls[i];
}

/* A network namespace's: any under net/ (dump-netsysctl.c compares
 * them all), a path of plain components that can't climb out */
static int net_sysctl_ok(const char *name)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:@/";

	return !strncmp(name, "net/", 4) && strlen(name) < 256 &&
	       strspn(name, ok) == strlen(name) && !strstr(name, "..") &&
	       !strstr(name, "//") && name[strlen(name) - 1] != '/';
}

int img_ns_sysctl_ok(uint32_t kind, const char *name)
{
	const char *s;
	size_t i;

	if (kind == IMG_NS_NET)
		return net_sysctl_ok(name);
	for (i = 0; (s = img_ns_sysctl(kind, i)); i++)
		if (!strcmp(s, name))
			return 1;
	return 0;
}

/* digits, with tabs or spaces between numbers (kernel/sem has four);
 * a network namespace's may be a word too (tcp_congestion_control) or
 * a key: printable, one line */
static int sysctl_value_ok(uint32_t kind, const char *v)
{
	size_t i;

	if (!v || !*v || strlen(v) > IMG_MAX_CG_VALUE)
		return 0;
	if (kind != IMG_NS_NET)
		return strspn(v, "0123456789-\t ") == strlen(v);
	for (i = 0; v[i]; i++)
		if ((v[i] < ' ' || v[i] > '~') && v[i] != '\t')
			return 0;
	return 1;
}

static void enc_idmap(struct enc *e, const struct img_idmap *map,
		      uint32_t n)
{
	uint32_t i;

	enc_cap(e, n, IMG_MAX_IDMAP, "too many id map lines");
	enc_u32(e, n);
	for (i = 0; i < n && i < IMG_MAX_IDMAP; i++) {
		enc_u32(e, map[i].inner);
		enc_u32(e, map[i].outer);
		enc_u32(e, map[i].count);
	}
}

static void enc_cgns(struct enc *e, const struct img_ns *ns)
{
	uint32_t i;

	enc_cap(e, ns->nr_cgns, IMG_MAX_CGROUPS, "too many cgroup hierarchies");
	enc_u32(e, ns->nr_cgns);
	for (i = 0; i < ns->nr_cgns && i < IMG_MAX_CGROUPS; i++) {
		enc_str(e, ns->cgns[i].controllers, 0,
			"cgroup namespace controllers missing");
		enc_str(e, ns->cgns[i].root, 0, "cgroup namespace root missing");
		enc_str(e, ns->cgns[i].inner, 0,
			"cgroup namespace inner path missing");
	}
}

static void enc_time(struct enc *e, const struct img_ns *ns)
{
	enc_u64(e, (uint64_t)ns->mono_off_ns);
	enc_u64(e, (uint64_t)ns->boot_off_ns);
	enc_u64(e, ns->mono_ns);
	enc_u64(e, ns->boot_ns);
	enc_u32(e, ns->time_children);
}

int img_enc_ns(struct enc *e, const struct img_ns *ns)
{
	int uts = ns->kind == IMG_NS_UTS;
	uint32_t i;

	enc_u32(e, ns->kind);
	enc_u32(e, ns->owner);
	enc_u64(e, ns->id);
	enc_str(e, ns->hostname, !uts, "hostname missing");
	enc_str(e, ns->domainname, !uts, "domainname missing");
	enc_cap(e, ns->nr_sysctls, IMG_MAX_CG_SETTINGS, "too many sysctls");
	enc_u32(e, ns->nr_sysctls);
	for (i = 0; i < ns->nr_sysctls && i < IMG_MAX_CG_SETTINGS; i++) {
		enc_str(e, ns->sysctls[i].name, 0, "sysctl name missing");
		enc_str(e, ns->sysctls[i].value, 0, "sysctl value missing");
	}
	if (ns->kind == IMG_NS_USER) {
		enc_idmap(e, ns->uid_map, ns->nr_uid_map);
		enc_idmap(e, ns->gid_map, ns->nr_gid_map);
		enc_u32(e, ns->setgroups_deny);
	}
	if (ns->kind == IMG_NS_CGROUP)
		enc_cgns(e, ns);
	if (ns->kind == IMG_NS_TIME)
		enc_time(e, ns);
	if (ns->kind == IMG_NS_PID ||
	    (ns->kind == IMG_NS_MNT && ns->parent))
		enc_u64(e, ns->parent);
	return e->err ? -1 : 0;
}

static int name_ok(const char *s)
{
	return s && strlen(s) <= IMG_MAX_HOSTNAME;
}

/* Lines of at least one id, none past 2^32 - 1 on either side (the
 * kernel checks that they do not overlap) */
static struct img_idmap *dec_idmap(struct dec *d, uint32_t *n,
				   const char *what)
{
	struct img_idmap *map = NULL, *m;
	uint32_t i;

	dec_u32(d, n);
	if (!dec_count_ok(d, *n, IMG_MAX_IDMAP, 12, what))
		return NULL;
	if (*n)
		map = dec_alloc(d, *n * sizeof(*map));
	for (i = 0; map && i < *n; i++) {
		m = &map[i];
		dec_u32(d, &m->inner);
		dec_u32(d, &m->outer);
		dec_u32(d, &m->count);
		dec_check(d, m->count && m->inner + (uint64_t)m->count <=
			  UINT32_MAX && m->outer + (uint64_t)m->count <=
			  UINT32_MAX, "user namespace: %s line %u bad", what,
			  i);
	}
	return map;
}

int64_t img_idmap_inner(const struct img_idmap *map, uint32_t n,
			uint32_t outer)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (outer >= map[i].outer &&
		    outer - map[i].outer < map[i].count)
			return map[i].inner + (outer - map[i].outer);
	return -1;
}

/* absolute, no empty, "." or ".." component (but "/" itself) */
static int cgns_path_ok(const char *p)
{
	return p && p[0] == '/' && img_path_comps_ok(p + 1);
}

static void dec_cgns(struct dec *d, struct img_ns *ns)
{
	struct img_cgns *c;
	uint32_t i;

	dec_u32(d, &ns->nr_cgns);
	if (!dec_count_ok(d, ns->nr_cgns, IMG_MAX_CGROUPS, 12,
			  "cgroup namespace roots"))
		return;
	if (ns->nr_cgns)
		ns->cgns = dec_alloc(d, ns->nr_cgns * sizeof(*ns->cgns));
	for (i = 0; ns->cgns && i < ns->nr_cgns; i++) {
		c = &ns->cgns[i];
		dec_str(d, &c->controllers, 0, "cgroup namespace controllers");
		dec_str(d, &c->root, 0, "cgroup namespace root");
		dec_str(d, &c->inner, 0, "cgroup namespace inner path");
		dec_check(d, !c->controllers || !strchr(c->controllers, '/'),
			  "cgroup namespace: controllers with a /");
		dec_check(d, !c->root || (cgns_path_ok(c->root) &&
					  cgns_path_ok(c->inner)),
			  "cgroup namespace: bad path %s or %s", c->root,
			  c->inner);
	}
}

/* a clock inside the namespace stays below what the kernel allows
 * (KTIME_SEC_MAX / 2 seconds), its offsets likewise either way */
#define TIME_NS_MAX	(INT64_MAX / 2)

static void dec_time(struct dec *d, struct img_ns *ns)
{
	uint64_t mo, bo;

	dec_u64(d, &mo);
	dec_u64(d, &bo);
	ns->mono_off_ns = (int64_t)mo;
	ns->boot_off_ns = (int64_t)bo;
	dec_u64(d, &ns->mono_ns);
	dec_u64(d, &ns->boot_ns);
	dec_u32(d, &ns->time_children);
	dec_check(d, ns->time_children <= 1,
		  "time namespace: bad time_children %u", ns->time_children);
	dec_check(d, ns->mono_ns < TIME_NS_MAX && ns->boot_ns < TIME_NS_MAX &&
		  ns->mono_off_ns < TIME_NS_MAX &&
		  ns->mono_off_ns > -TIME_NS_MAX &&
		  ns->boot_off_ns < TIME_NS_MAX &&
		  ns->boot_off_ns > -TIME_NS_MAX,
		  "time namespace: clock or offset out of range");
}

int img_dec_ns(struct dec *d, struct img_ns *ns)
{
	struct img_cg_setting *s;
	uint32_t i;

	dec_u32(d, &ns->kind);
	dec_u32(d, &ns->owner);
	dec_u64(d, &ns->id);
	dec_str(d, &ns->hostname, 1, "hostname");
	dec_str(d, &ns->domainname, 1, "domainname");
	dec_u32(d, &ns->nr_sysctls);
	if (!dec_count_ok(d, ns->nr_sysctls, IMG_MAX_CG_SETTINGS, 8,
			  "sysctls"))
		return -1;
	if (ns->nr_sysctls)
		ns->sysctls = dec_alloc(d, ns->nr_sysctls *
					sizeof(*ns->sysctls));
	for (i = 0; ns->sysctls && i < ns->nr_sysctls; i++) {
		s = &ns->sysctls[i];
		dec_str(d, &s->name, 0, "sysctl");
		dec_str(d, &s->value, 0, "sysctl value");
		dec_check(d, !s->name || img_ns_sysctl_ok(ns->kind, s->name),
			  "%s namespace: sysctl %s unknown",
			  img_ns_name(ns->kind), s->name);
		dec_check(d, !s->name || sysctl_value_ok(ns->kind, s->value),
			  "sysctl %s: bad value", s->name);
	}
	if (ns->kind == IMG_NS_USER) {
		ns->uid_map = dec_idmap(d, &ns->nr_uid_map, "uid_map");
		ns->gid_map = dec_idmap(d, &ns->nr_gid_map, "gid_map");
		dec_u32(d, &ns->setgroups_deny);
		dec_check(d, ns->setgroups_deny <= 1,
			  "user namespace: bad setgroups %u",
			  ns->setgroups_deny);
	}
	if (ns->kind == IMG_NS_CGROUP)
		dec_cgns(d, ns);
	if (ns->kind == IMG_NS_TIME)
		dec_time(d, ns);
	if (ns->kind == IMG_NS_PID)
		dec_u64(d, &ns->parent);
	if (ns->kind == IMG_NS_MNT && !d->failed && d->pos < d->len) {
		dec_u64(d, &ns->parent);
		dec_check(d, ns->parent && ns->parent != ns->id,
			  "mnt namespace %llu: parent %llu",
			  (unsigned long long)ns->id,
			  (unsigned long long)ns->parent);
	}
	/* only the kinds restore makes: the others are refused at dump; a
	 * PID namespace is the root's, which is its init (owner 1), or one
	 * below the tree's top one, whose parent is not itself */
	dec_check(d, ns->kind >= IMG_NS_UTS && ns->kind <= IMG_NS_MAX,
		  "namespace kind %u unknown", ns->kind);
	dec_check(d, ns->kind != IMG_NS_PID || ns->owner != 1 ||
		  !ns->parent, "pid namespace: the root's with a parent");
	dec_check(d, ns->kind != IMG_NS_PID || ns->parent != ns->id,
		  "pid namespace %llu: its own parent",
		  (unsigned long long)ns->id);
	dec_check(d, ns->owner > 0 && ns->owner <= INT32_MAX,
		  "%s namespace: bad owner %u", img_ns_name(ns->kind),
		  ns->owner);
	if (ns->kind == IMG_NS_UTS)
		dec_check(d, name_ok(ns->hostname) &&
			  name_ok(ns->domainname),
			  "uts namespace: hostname or domainname missing or longer than %d bytes",
			  IMG_MAX_HOSTNAME);
	else
		dec_check(d, !ns->hostname && !ns->domainname,
			  "%s namespace with a hostname",
			  img_ns_name(ns->kind));
	return dec_end(d);
}

void img_ns_free_cgns(struct img_ns *ns)
{
	uint32_t i;

	for (i = 0; ns->cgns && i < ns->nr_cgns; i++) {
		free(ns->cgns[i].controllers);
		free(ns->cgns[i].root);
		free(ns->cgns[i].inner);
	}
	free(ns->cgns);
	ns->cgns = NULL;
	ns->nr_cgns = 0;
}

void img_ns_free(struct img_ns *ns)
{
	uint32_t i;

	for (i = 0; ns->sysctls && i < ns->nr_sysctls; i++) {
		free(ns->sysctls[i].name);
		free(ns->sysctls[i].value);
	}
	free(ns->sysctls);
	ns->sysctls = NULL;
	free(ns->uid_map);
	free(ns->gid_map);
	ns->uid_map = ns->gid_map = NULL;
	ns->nr_uid_map = ns->nr_gid_map = 0;
	ns->nr_sysctls = 0;
	img_ns_free_cgns(ns);
	free(ns->hostname);
	free(ns->domainname);
	ns->hostname = ns->domainname = NULL;
}

const struct img_ns *img_find_ns(const struct image *img, uint32_t kind,
				 pid_t owner)
{
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == kind &&
		    img->nss[i].owner == (uint32_t)owner)
			return &img->nss[i];
	return NULL;
}
