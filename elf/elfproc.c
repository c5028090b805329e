/*
 * elf/elfproc.c: symbols of a live process, from /proc/PID/maps and the
 * ELF objects behind its mappings. Read-only and without ptrace: the
 * target runs on.
 *
 * An object's file is opened through /proc/PID/map_files/START-END, which
 * reaches the very file mapped even when it was deleted or replaced since
 * (opening it needs CAP_SYS_ADMIN, or CAP_CHECKPOINT_RESTORE since Linux
 * 5.9); the path shown in maps is the fallback. The
 * vdso has no file: its image is read from the target's memory.
 */
#include <sys/stat.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf/elfsym.h"
#include "util/proc.h"

/* The mappings of a process, grouped into loaded objects. */
struct proc_objs {
	pid_t pid;
	struct proc_map *maps;
	int nr_maps;
	int *owner;		/* per mapping: its object, or -1 */
	int *first;		/* per object: its first mapping */
	int nr_objs;
};

static const char deleted_tag[] = " (deleted)";

static int is_vdso(const struct proc_map *m)
{
	return m->path && !strcmp(m->path, "[vdso]");
}

static int same_file(const struct proc_map *a, const struct proc_map *b)
{
	return a->path && b->path && a->dev == b->dev && a->ino == b->ino &&
	       !strcmp(a->path, b->path);
}

/* The object that mapping i continues, or -1: the latest object of the
 * same file. A mapping at file offset 0 starts a new one (the same file
 * loaded twice, by dlmopen). */
static int continued_obj(const struct proc_objs *po, int i)
{
	const struct proc_map *m = &po->maps[i];
	int k;

	if (m->pgoff == 0)
		return -1;
	for (k = po->nr_objs - 1; k >= 0; k--)
		if (same_file(&po->maps[po->first[k]], m))
			return k;
	return -1;
}

static void group_objs(struct proc_objs *po)
{
	const struct proc_map *m;
	int i, k;

	for (i = 0; i < po->nr_maps; i++) {
		m = &po->maps[i];
		po->owner[i] = -1;
		if (!m->path || (m->path[0] != '/' && !is_vdso(m)))
			continue;
		k = continued_obj(po, i);
		if (k < 0) {
			k = po->nr_objs++;
			po->first[k] = i;
		}
		po->owner[i] = k;
	}
}

static int load_objs(pid_t pid, struct proc_objs *po)
{
	int saved;

	memset(po, 0, sizeof(*po));
	po->pid = pid;
	po->nr_maps = proc_parse_maps(pid, &po->maps);
	if (po->nr_maps < 0) {
		/* /proc/PID itself is missing: no such process */
		saved = errno == ENOENT ? ESRCH : errno;
		errno = saved;
		pr_perror("can't read the maps of %d", pid);
		po->nr_maps = 0;
		return -1;
	}
	po->owner = calloc(po->nr_maps + 1, sizeof(int));
	po->first = calloc(po->nr_maps + 1, sizeof(int));
	if (!po->owner || !po->first) {
		pr_err("out of memory");
		errno = ENOMEM;
		return -1;
	}
	group_objs(po);
	return 0;
}

static void free_objs(struct proc_objs *po)
{
	proc_free_maps(po->maps, po->nr_maps);
	free(po->owner);
	free(po->first);
}

/* The target's memory: process_vm_readv, else /proc/PID/mem. */
static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	char path[64];
	int fd, ret;

	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = pread_full(fd, buf, len, (off_t)addr);
	close(fd);
	return ret;
}

static struct elf_obj *open_vdso(pid_t pid, const struct proc_map *m)
{
	size_t len = m->end - m->start;
	struct elf_obj *o = NULL;
	void *buf;

	buf = malloc(len);
	if (!buf)
		return NULL;
	if (!read_mem(pid, m->start, buf, len))
		o = elf_obj_open_mem(buf, len);
	free(buf);
	return o;
}

static int open_file(pid_t pid, const struct proc_map *m)
{
	char path[128];
	size_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%"
		 PRIx64, pid, m->start, m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	n = strlen(m->path);
	if (n > sizeof(deleted_tag) - 1 &&
	    !strcmp(m->path + n - (sizeof(deleted_tag) - 1), deleted_tag))
		return -1;	/* only map_files could reach it */
	return open(m->path, O_RDONLY | O_CLOEXEC);
}

/* Open object k and find its bias; NULL (logged at debug level) if it is
 * not ELF or can't be read. */
static struct elf_obj *open_obj(const struct proc_objs *po, int k,
				uint64_t *bias)
{
	const struct proc_map *m = &po->maps[po->first[k]];
	struct elf_obj *o;
	int i, fd;

	if (is_vdso(m)) {
		o = open_vdso(po->pid, m);
	} else {
		fd = open_file(po->pid, m);
		o = fd < 0 ? NULL : elf_obj_open_fd(fd);
		if (fd >= 0)
			close(fd);
	}
	if (!o) {
		pr_debug("skipping %s of %d: %s", m->path, po->pid,
			 strerror(errno));
		return NULL;
	}
	for (i = po->first[k]; i < po->nr_maps; i++)
		if (po->owner[i] == k &&
		    !elf_obj_bias(o, po->maps[i].start, po->maps[i].pgoff,
				  bias))
			return o;
	pr_debug("no mapping of %s in %d matches a PT_LOAD", m->path,
		 po->pid);
	elf_obj_close(o);
	return NULL;
}

/* The object that holds the main program's text (stat's start_code). */
static int exe_obj(const struct proc_objs *po)
{
	struct proc_stat st;
	int i;

	if (proc_parse_stat(po->pid, &st) || !st.start_code)
		return -1;
	for (i = 0; i < po->nr_maps; i++)
		if (po->maps[i].start <= st.start_code &&
		    st.start_code < po->maps[i].end)
			return po->owner[i];
	return -1;
}

/*
 * The order in which lookups try objects: the executable, the other
 * files from the highest first mapping down, the vdso last. ld.so maps
 * libraries top-down in load order, so this is close to the global
 * search order of dlsym(RTLD_DEFAULT) without reading the target's
 * link_map (a static executable has none).
 */
static int search_cmp(const struct proc_objs *po, int a, int b, int exe)
{
	const struct proc_map *ma = &po->maps[po->first[a]];
	const struct proc_map *mb = &po->maps[po->first[b]];

	if ((a == exe) != (b == exe))
		return a == exe ? -1 : 1;
	if (is_vdso(ma) != is_vdso(mb))
		return is_vdso(ma) ? 1 : -1;
	return ma->start > mb->start ? -1 : 1;
}

static int *search_order(const struct proc_objs *po)
{
	int *ord = malloc((po->nr_objs + 1) * sizeof(int));
	int exe = exe_obj(po), i, j, t;

	if (!ord)
		return NULL;
	for (i = 0; i < po->nr_objs; i++)
		ord[i] = i;
	/* insertion sort: a few dozen objects */
	for (i = 1; i < po->nr_objs; i++)
		for (j = i; j > 0 && search_cmp(po, ord[j - 1], ord[j],
						 exe) > 0; j--) {
			t = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = t;
		}
	return ord;
}

static void set_object(const struct proc_objs *po, int k,
		       struct elf_sym_result *r)
{
	snprintf(r->object, sizeof(r->object), "%s",
		 po->maps[po->first[k]].path);
}

/* Try each object in search order; 0 when one defines name@version. */
static int lookup_objs(const struct proc_objs *po, const char *name,
		       const char *version, struct elf_sym_result *r)
{
	int *ord = search_order(po), i, ret = -1;
	struct elf_obj *o;
	uint64_t bias;

	if (!ord) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < po->nr_objs && ret; i++) {
		o = open_obj(po, ord[i], &bias);
		if (!o)
			continue;
		ret = elf_obj_lookup(o, bias, name, version, r);
		if (!ret)
			set_object(po, ord[i], r);
		elf_obj_close(o);
	}
	free(ord);
	if (ret)
		errno = ENOENT;
	return ret;
}

static int sym_lookup(pid_t pid, const char *name_at_version,
		      struct elf_sym_result *r, int quiet)
{
	char name[256];
	const char *version = NULL, *at;
	struct proc_objs po;
	int ret = -1, saved;

	memset(r, 0, sizeof(*r));
	at = strchr(name_at_version, '@');
	if (at)
		version = at[1] == '@' ? at + 2 : at + 1;
	if ((at ? (size_t)(at - name_at_version) :
	     strlen(name_at_version)) >= sizeof(name)) {
		pr_err("symbol name too long: %s", name_at_version);
		errno = ENOENT;
		return -1;
	}
	memcpy(name, name_at_version, at ? (size_t)(at - name_at_version) :
	       strlen(name_at_version) + 1);
	if (at)
		name[at - name_at_version] = '\0';
	if (load_objs(pid, &po))
		goto out;
	ret = lookup_objs(&po, name, version, r);
	if (ret && !quiet) {
		saved = errno;
		pr_err("no symbol %s in %d", name_at_version, pid);
		errno = saved;
	}
out:
	saved = errno;
	free_objs(&po);
	errno = saved;
	return ret;
}

int elf_sym_lookup(pid_t pid, const char *name_at_version,
		   struct elf_sym_result *r)
{
	return sym_lookup(pid, name_at_version, r, 0);
}

int elf_sym_find(pid_t pid, const char *name_at_version,
		 struct elf_sym_result *r)
{
	return sym_lookup(pid, name_at_version, r, 1);
}

/* The object that addr falls in: its own mapping's, or, for the
 * anonymous rest of a .bss, that of the file mapping just before. */
static int addr_obj(const struct proc_objs *po, uint64_t addr)
{
	int i;

	for (i = 0; i < po->nr_maps; i++) {
		if (addr < po->maps[i].start || addr >= po->maps[i].end)
			continue;
		if (po->owner[i] < 0 && i > 0 && !po->maps[i].path &&
		    po->maps[i - 1].end == po->maps[i].start)
			return po->owner[i - 1];
		return po->owner[i];
	}
	return -1;
}

static int sym_addr(pid_t pid, uint64_t addr, struct elf_sym_result *r,
		    int quiet)
{
	struct elf_obj *o = NULL;
	struct proc_objs po;
	int k, ret = -1, saved;
	uint64_t bias;

	memset(r, 0, sizeof(*r));
	if (load_objs(pid, &po))
		goto out;
	k = addr_obj(&po, addr);
	if (k < 0) {
		if (!quiet)
			pr_err("no object at %#" PRIx64 " in %d", addr, pid);
		errno = ENOENT;
		goto out;
	}
	o = open_obj(&po, k, &bias);
	if (!o) {
		saved = errno;
		if (!quiet)
			pr_err("can't read %s of %d",
			       po.maps[po.first[k]].path, pid);
		errno = saved;
		goto out;
	}
	ret = elf_obj_addr(o, bias, addr, r);
	if (!ret)
		set_object(&po, k, r);
	else if (!quiet)
		pr_err("no symbol at %#" PRIx64 " in %s of %d", addr,
		       po.maps[po.first[k]].path, pid);
out:
	saved = errno;
	elf_obj_close(o);
	free_objs(&po);
	errno = saved;
	return ret;
}

int elf_sym_addr(pid_t pid, uint64_t addr, struct elf_sym_result *r)
{
	return sym_addr(pid, addr, r, 0);
}

int elf_sym_at(pid_t pid, uint64_t addr, struct elf_sym_result *r)
{
	return sym_addr(pid, addr, r, 1);
}

int elf_sym_ifunc_target(pid_t pid, const struct elf_sym_result *r,
			 uint64_t *impl)
{
	struct elf_obj *o = NULL;
	struct proc_objs po;
	uint64_t bias, slot;
	int k, ret = -1, saved;

	if (load_objs(pid, &po))
		return -1;
	k = addr_obj(&po, r->addr);
	if (k >= 0)
		o = open_obj(&po, k, &bias);
	/* both machines with IRELATIVE that we know have 8-byte slots */
	if (o && !elf_obj_irelative(o, r->addr - bias, &slot) &&
	    !read_mem(pid, bias + slot, impl, sizeof(*impl)))
		ret = 0;
	else
		errno = ENOENT;
	saved = errno;
	elf_obj_close(o);
	free_objs(&po);
	errno = saved;
	return ret;
}
