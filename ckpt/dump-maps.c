/*
 * The maps of a frozen process, in less frozen time. /proc/PID/smaps is
 * the only place the kernel shows a VMA's flags (VmFlags: madvise's
 * advice, mlock), and it walks every page table to count Rss and the
 * rest: some 100 ms of CPU for a GiB of resident memory, all of it time
 * the process is frozen. So the maps are taken at once from
 * /proc/PID/maps (no walk) and a thread reads smaps while the dump
 * gathers the rest of the state with remote system calls, which mostly
 * wait for the target to be scheduled; the flags are joined to the maps
 * before anything uses them (dump_collect_vmas and after).
 *
 * The process is frozen throughout, so both files show the same VMAs,
 * but for our scratch page (inject_prepare maps it between the two
 * reads, never beside another VMA: mapped while smaps is read, its mmap
 * would wait for the whole walk, which holds the lock mmap takes): a VMA
 * of the maps that smaps lacks means the address space changed under us
 * (another process sharing it), and the dump fails.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

struct dump_smaps {
	pthread_t th;
	pid_t pid;
	int threaded;		/* th runs read_smaps */
	struct proc_map *maps;
	int n, err;
};

extern const unsigned char ckpt_mmseq_bpf[], ckpt_mmseq_bpf_end[];
static struct dump_bpf mmseq_bpf = {
	.blob = ckpt_mmseq_bpf, .end = ckpt_mmseq_bpf_end,
	.name = "ckpt_mmseq",
};

/* The sequence count of pid's address space into *seq, even (no change
 * under way): 0, or -1 (no BPF, a kernel without the count, or odd). */
static int mm_seq(pid_t pid, uint32_t *seq)
{
	uint32_t *v;
	size_t n;
	int ret = -1;

	if (dump_bpf_load(&mmseq_bpf, NULL, 0))
		return -1;
	v = dump_bpf_iterate(&mmseq_bpf, pid, sizeof(*v), &n);
	if (v && n == 1 && !(v[0] & 1)) {
		*seq = v[0];
		ret = 0;
	}
	free(v);
	return ret;
}

void dump_maps_preread_free(struct dump_smaps_pre *p)
{
	if (p->n > 0)
		proc_free_maps(p->maps, p->n);
	memset(p, 0, sizeof(*p));
}

/*
 * --pre-copy, before each round after the first (dump-precopy.c): smaps
 * read while pid runs, the count read first. If the frozen process's
 * count is the same, no mapping and no flag of one changed since (the
 * kernel changes neither without the lock that bumps it): these flags
 * are taken, and the walk of every page table is not part of the frozen
 * time.
 */
void dump_maps_preread(pid_t pid, struct dump_smaps_pre *p)
{
	dump_maps_preread_free(p);
	if (mm_seq(pid, &p->seq))
		return;
	p->n = proc_parse_maps(pid, &p->maps);
	p->valid = p->n >= 0;
	if (!p->valid)
		memset(p, 0, sizeof(*p));
}

static void *read_smaps(void *arg)
{
	struct dump_smaps *s = arg;

	s->n = proc_parse_maps(s->pid, &s->maps);
	s->err = s->n < 0 ? errno : 0;
	return NULL;
}

int dump_maps_read(struct dump_ctx *c)
{
	struct dump_smaps_pre *pre = dump_pre_smaps(c);
	uint32_t seq;

	c->nr_maps = proc_parse_maps_only(c->pid, &c->maps);
	if (c->nr_maps < 0) {
		dump_perror(c, "can't read the maps of %d", c->pid);
		return -1;
	}
	/* before our page is mapped, which bumps the count */
	c->smaps_pre = pre && pre->valid && !mm_seq(c->pid, &seq) &&
		       seq == pre->seq ? pre : NULL;
	return 0;
}

int dump_maps_begin(struct dump_ctx *c)
{
	struct dump_smaps *s;
	sigset_t all, old;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->pid = c->pid;
	if (c->smaps_pre) {	/* read while it ran, nothing changed since */
		s->maps = c->smaps_pre->maps;
		s->n = c->smaps_pre->n;
		memset(c->smaps_pre, 0, sizeof(*c->smaps_pre));
		c->smaps_pre = NULL;
		c->smaps = s;
		pr_debug("%d: its maps' flags as read before the freeze", c->pid);
		return 0;
	}
	/* ckpt's signals (an interrupt) stay the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->th, NULL, read_smaps, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	s->threaded = !err;
	if (err)
		read_smaps(s);	/* no thread: read here */
	c->smaps = s;
	return 0;
}

/* Each map of c given the flags of smaps's VMA of its bounds; both lists
 * go up by address, so one walk does it. -1 if one has none. */
static int join_flags(struct dump_ctx *c, const struct dump_smaps *s)
{
	int i, j = 0;

	for (i = 0; i < c->nr_maps; i++) {
		struct proc_map *m = &c->maps[i];

		while (j < s->n && s->maps[j].start < m->start)
			j++;
		if (j == s->n || s->maps[j].start != m->start ||
		    s->maps[j].end != m->end) {
			pr_err("can't dump %d: its mapping %llx-%llx changed while it was frozen (is its memory shared with a process outside the dump?)",
			       c->pid, (unsigned long long)m->start,
			       (unsigned long long)m->end);
			return -1;
		}
		m->vmflags = s->maps[j].vmflags;
	}
	return 0;
}

int dump_maps_end(struct dump_ctx *c)
{
	struct dump_smaps *s = c->smaps;
	int ret = -1;

	if (!s)
		return -1;
	if (s->threaded)
		pthread_join(s->th, NULL);
	c->smaps = NULL;
	if (s->n < 0) {
		errno = s->err;
		dump_perror(c, "can't read the smaps of %d", c->pid);
		goto out;
	}
	if (join_flags(c, s))
		goto out;
	ret = 0;
out:
	proc_free_maps(s->maps, s->n > 0 ? s->n : 0);
	free(s);
	return ret;
}
