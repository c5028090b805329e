/*
 * Credentials of the restored process: groups, ids, the five capability
 * sets and the securebits of each thread, then the process's dumpable
 * flag. All are set by remote system calls made in each thread itself,
 * because credentials are per thread in the kernel (a raw setresuid() or
 * capset() changes only the calling thread: the libc that makes them
 * process-wide is not involved).
 *
 * Every thread starts with restore's own credentials (a restorer child
 * is root with restore's capabilities). What restore cannot give, it
 * refused in check.c before any process was created.
 *
 * The order, per thread, follows from the rules of capabilities(7),
 * capset(2) and prctl(2):
 *
 *  1. capset(own permitted, own permitted, image inheritable): while
 *     CAP_SETPCAP is effective a thread may add to its inheritable set any
 *     capability of its bounding set, and the image's inheritable set may
 *     hold one that its bounding set lost later: so before step 2.
 *  2. PR_CAPBSET_DROP of each capability the image's bounding set lacks:
 *     needs CAP_SETPCAP, which only lasts until step 8.
 *  3. PR_SET_KEEPCAPS 1: a setresuid() that leaves no user id 0 clears
 *     the permitted and effective sets otherwise ("Effect of user ID
 *     changes on capabilities"). It clears the ambient set regardless,
 *     which is why the ambient raises come after the ids.
 *  4. setgroups, setresgid, setresuid (they need CAP_SETGID, CAP_SETUID).
 *  5. capset(image permitted, image effective, image inheritable), with
 *     CAP_SETPCAP kept in permitted and effective if step 7 needs it:
 *     capset() can only take capabilities out of the permitted set.
 *  6. PR_CAP_AMBIENT_RAISE of each ambient capability: needs it in the
 *     permitted and inheritable sets (step 5) and
 *     SECBIT_NO_CAP_AMBIENT_RAISE still clear (step 7 may set it).
 *  7. PR_SET_SECUREBITS with the image's bits: needs CAP_SETPCAP
 *     effective. The kernel checks the locks against the bits before the
 *     call, so bits and their *_LOCKED flags go in one call; it also
 *     clears SECBIT_KEEP_CAPS from step 3 if the image did not have it.
 *  8. capset() once more without CAP_SETPCAP, if the image lacked it.
 *
 * Then, once for the process, PR_SET_DUMPABLE: last, because any change
 * of credentials above (commit_creds()) resets the flag to
 * fs.suid_dumpable.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

#define BIT(n)	(1ULL << (n))

/* One capset() in thread ti, sets as the kernel's version 3 takes them. */
static int set_cap_sets(struct restore_proc *c, int ti, uint64_t prm,
			uint64_t eff, uint64_t inh)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ eff >> 32, prm >> 32, inh >> 32 },
	};
	uint8_t buf[sizeof(h) + sizeof(d)];

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), d, sizeof(d));
	if (inject_write(c->ip, inject_scratch(c->ip), buf, sizeof(buf)))
		return -1;
	return rcall(c, ti, "set the capabilities", NULL, SYS_capset,
		     inject_scratch(c->ip), inject_scratch(c->ip) + sizeof(h), 0, 0, 0, 0);
}

/* Each bit of mask, one prctl() at a time (steps 2 and 6). */
static int prctl_each(struct restore_proc *c, int ti, const char *what,
		      uint64_t mask, long opt, long sub)
{
	unsigned int cap;

	for (cap = 0; cap < 64; cap++) {
		if (!(mask & BIT(cap)))
			continue;
		if (sub ? rcall(c, ti, what, NULL, SYS_prctl, opt, sub, cap,
				0, 0, 0) :
		    rcall(c, ti, what, NULL, SYS_prctl, opt, cap, 0, 0, 0, 0))
			return -1;
	}
	return 0;
}

static int set_ids(struct restore_proc *c, int ti)
{
	const struct img_proc *p = &c->proc->proc;
	size_t glen = p->nr_groups * sizeof(uint32_t);
	uint32_t ids[6], *groups;
	int keep, ret = -1;

	if (glen > inject_scratch_len(c->ip)) {
		pr_err("%s: %u supplementary groups are more than restore can set",
		       c->run->path, p->nr_groups);
		return -1;
	}
	groups = malloc(glen + 1);
	if (!groups)
		return -1;
	/* as its user namespace sees them (userns.c) */
	restore_userns_ids(c->run, p, ids, groups, &keep);
	if (glen && !keep &&
	    inject_write(c->ip, inject_scratch(c->ip), groups, glen))
		goto out;
	if ((!keep && rcall(c, ti, "set the groups", NULL, SYS_setgroups,
			    p->nr_groups, inject_scratch(c->ip), 0, 0, 0, 0)) ||
	    rcall(c, ti, "set the group ids", NULL, SYS_setresgid, ids[3],
		  ids[4], ids[5], 0, 0, 0) ||
	    rcall(c, ti, "set the user ids", NULL, SYS_setresuid, ids[0],
		  ids[1], ids[2], 0, 0, 0))
		goto out;
	ret = 0;
out:
	free(groups);
	return ret;
}

static int needs_ids(const struct img_proc *p)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (getresuid(&r, &e, &s) || getresgid(&gr, &ge, &gs))
		return 1;
	/* the same ids as ours (root restoring root): keep our groups too */
	return p->uid != r || p->euid != e || p->suid != s ||
	       p->gid != gr || p->egid != ge || p->sgid != gs;
}

/* Steps 7 and 8: securebits, then the sets without CAP_SETPCAP. */
static int set_securebits(struct restore_proc *c, int ti,
			  const struct img_caps *want, uint64_t extra)
{
	if (restore_sets_securebits(restore_start_caps(c->run), want)) {
		if (rcall(c, ti, "set the securebits", NULL, SYS_prctl,
			  PR_SET_SECUREBITS, want->securebits, 0, 0, 0, 0))
			return -1;
	} else if (rcall(c, ti, "set keepcaps", NULL, SYS_prctl,
			 PR_SET_KEEPCAPS,
			 !!(want->securebits & SECBIT_KEEP_CAPS), 0, 0, 0, 0)) {
		return -1;
	}
	if (extra)
		return set_cap_sets(c, ti, want->prm, want->eff, want->inh);
	return 0;
}

/* Steps 1 to 8 above, in thread ti. */
static int set_thread_creds(struct restore_proc *c, int ti, int ids)
{
	const struct img_caps *own = restore_start_caps(c->run);
	const struct img_caps *want = &c->proc->threads[ti].caps;
	uint64_t extra = 0;

	if (set_cap_sets(c, ti, own->prm, own->prm, want->inh) ||
	    prctl_each(c, ti, "drop from the bounding set",
		       own->bnd & ~want->bnd, PR_CAPBSET_DROP, 0) ||
	    rcall(c, ti, "set keepcaps", NULL, SYS_prctl, PR_SET_KEEPCAPS, 1,
		  0, 0, 0, 0) ||
	    (ids && set_ids(c, ti)))
		return -1;
	/* CAP_SETPCAP a while longer, for PR_SET_SECUREBITS */
	if (restore_sets_securebits(own, want))
		extra = BIT(CAP_SETPCAP) & ~want->prm;
	if (set_cap_sets(c, ti, want->prm | extra, want->eff | extra,
			 want->inh) ||
	    prctl_each(c, ti, "raise an ambient capability", want->amb,
		       PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE))
		return -1;
	return set_securebits(c, ti, want, extra);
}

/*
 * PR_SET_DUMPABLE takes 0 or 1. 2 (SUID_DUMP_ROOT) only the kernel sets,
 * from fs.suid_dumpable on a change of credentials: if this host did not
 * do the same, 0 is the nearest that gives no more away (no core dump,
 * ptrace and /proc files for root only, as with 2).
 */
static int set_dumpable(struct restore_proc *c)
{
	uint32_t want = c->proc->proc.dumpable;
	long now;

	if (want == 2) {
		if (rcall(c, 0, "read the dumpable flag", &now, SYS_prctl,
			  PR_GET_DUMPABLE, 0, 0, 0, 0, 0))
			return -1;
		if (now == 2)
			return 0;
		pr_warn("%s: process %d was dumpable 2 (fs.suid_dumpable); it comes back with 0",
			c->run->path, c->proc->proc.pid);
		want = 0;
	}
	return rcall(c, 0, "set the dumpable flag", NULL, SYS_prctl,
		     PR_SET_DUMPABLE, want, 0, 0, 0, 0);
}

int restore_creds(struct restore_proc *c)
{
	int ids = needs_ids(&c->proc->proc);
	uint32_t i;

	for (i = 0; i < c->proc->nr_threads; i++)
		if (set_thread_creds(c, i, ids))
			return -1;
	return set_dumpable(c);
}
