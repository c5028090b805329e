/*
 * Our data page in a seized target, and what the handle tells its users.
 *
 * inject_prepare maps one private anonymous page in the target: scratch
 * memory for the arguments of remote calls. It adds no code: calls run
 * from the target's own code (syscall.c), found here by scanning its
 * executable mappings, and nothing of its text is ever changed. The page
 * goes at an address chosen in advance (MAP_FIXED_NOREPLACE in a hole of
 * the frozen address space), so that the way back of the very call that
 * maps it can already unmap it: a target whose tracer dies at any moment
 * keeps neither our page nor a changed thread.
 *
 * Fallbacks, each leaving a window (told with -v): without "pop; ret"
 * code to borrow, or without room in the main stack for the ways back,
 * the page stays behind after a death of ours; without "syscall; ret" or
 * a sigreturn trampoline, a thread released during a call is not put
 * back.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject/inject-priv.h"
#include "util/fault.h"

#define SCAN_CHUNK	(64 * 1024)
#define SCAN_OVERLAP	16	/* longer than any pattern we look for */
#define SLOT_GAP	(8 * 1024)	/* below a way back, for a signal */
#define STACK_MARGIN	(64 * 1024)	/* between the slots and any sp */
#define HOLE_LOW	0x10000000ULL	/* lowest address for our page */
#define HOLE_HIGH	(1ULL << 47)	/* below every ISA's user space top */

static int have_all(const struct arch_gadgets *g)
{
	return g->syscall_ret && g->sigreturn && g->pop_nr && g->pop_arg0 &&
	       g->pop_arg1 && g->any_syscall;
}

/* Scan one executable mapping until every gadget is known. */
static void scan_map(struct inject_proc *p, const struct proc_map *m,
		     uint8_t *buf)
{
	uint64_t at = m->start;

	while (at < m->end && !have_all(&p->g)) {
		size_t n = m->end - at < SCAN_CHUNK ? m->end - at : SCAN_CHUNK;

		/* a page we cannot read ends the mapping's scan */
		if (inject_read(p, at, buf, n))
			return;
		arch_find_gadgets(buf, n, at, &p->g);
		if (at + n >= m->end)
			return;
		at += n - SCAN_OVERLAP;
	}
}

static uint64_t slot_step(const struct inject_proc *p)
{
	return (arch_way_back_size(p->xlen) + 63) / 64 * 64 + SLOT_GAP;
}

/*
 * The ways back go into the low end of the main thread's stack mapping
 * when no thread's stack pointer is anywhere near it: the stack grew past
 * there once and shrank back (or never used it), and nothing reads memory
 * that far below a stack pointer. They must outlive our page.
 */
static void choose_slots(struct inject_proc *p, const struct proc_map *m)
{
	uint64_t at = m->start + SLOT_GAP, step = slot_step(p);
	uint64_t end = at + 2 * step + STACK_MARGIN;
	int i;

	if (end > m->end || (m->prot & (PROT_READ | PROT_WRITE)) !=
	    (PROT_READ | PROT_WRITE))
		return;
	for (i = 0; i < p->nr_threads; i++) {
		uint64_t sp = arch_regs_sp(&p->threads[i].regs);

		if (sp >= m->start && sp < end)
			return;
	}
	p->slot_base = at;
	p->slot_step = step;
}

/* The highest hole (below the maps that follow the executable, with a
 * page of space on both sides) that takes our page, and the ways back
 * after it when the stack has no room for them (plan() adds them then:
 * a region placed for the page alone would overlap what is above). */
static void choose_hole(struct inject_proc *p, const struct proc_map *maps,
			int n, long page)
{
	uint64_t len = p->region_len, need;
	int i;

	if (!p->slot_base)
		len += (2 * slot_step(p) + page - 1) / page * page;
	need = len + 2 * page;
	for (i = n - 1; i > 0; i--) {
		if (maps[i].start > HOLE_HIGH ||
		    maps[i].start < HOLE_LOW + need ||
		    maps[i].start - maps[i - 1].end < need)
			continue;
		p->region = maps[i].start - page - len;
		return;
	}
}

/* Code we may borrow: executable and readable ([vsyscall] is emulated:
 * its bytes do not run). */
static int borrowable(const struct proc_map *m)
{
	return (m->prot & (PROT_EXEC | PROT_READ)) ==
	       (PROT_EXEC | PROT_READ) &&
	       !(m->path && !strcmp(m->path, "[vsyscall]"));
}

/* The fields of struct arch_gadgets, in its order. */
static uint64_t *piece(struct arch_gadgets *g, int i)
{
	uint64_t *all[] = { &g->syscall_ret, &g->sigreturn, &g->pop_nr,
			    &g->pop_arg0, &g->pop_arg1, &g->any_syscall };

	return i < (int)(sizeof(all) / sizeof(all[0])) ? all[i] : NULL;
}

/* Is the piece of code found at a still there, in borrowable code? Its
 * bytes are read again and must be found right at a. */
static int still_there(struct inject_proc *p, const struct proc_map *maps,
		       int n, int k, uint64_t a)
{
	struct arch_gadgets fresh = { 0 };
	uint8_t buf[SCAN_OVERLAP];
	size_t len;
	int i;

	for (i = 0; i < n; i++)
		if (a >= maps[i].start && a < maps[i].end)
			break;
	if (i == n || !borrowable(&maps[i]))
		return 0;
	len = maps[i].end - a < sizeof(buf) ? maps[i].end - a : sizeof(buf);
	if (inject_read(p, a, buf, len))
		return 0;
	arch_find_gadgets(buf, len, a, &fresh);
	return *piece(&fresh, k) == a;
}

/* The code found before the seize (inject_find_code), if all of it is
 * still where it was: no scan of the text while the target is frozen. */
static int hint_holds(struct inject_proc *p, const struct proc_map *maps,
		      int n)
{
	int k;

	if (!have_all(&p->hint))
		return 0;
	for (k = 0; piece(&p->hint, k); k++)
		if (!still_there(p, maps, n, k, *piece(&p->hint, k)))
			return 0;
	p->g = p->hint;
	return 1;
}

static void scan_code(struct inject_proc *p, const struct proc_map *maps,
		      int n, uint8_t *buf)
{
	int i;

	for (i = 0; i < n; i++)
		if (borrowable(&maps[i]))
			scan_map(p, &maps[i], buf);
}

static int scan(struct inject_proc *p, long page)
{
	struct proc_map *maps;
	uint8_t *buf = malloc(SCAN_CHUNK);
	int n, i;

	/* not smaps: its walk of the page tables is frozen time */
	n = buf ? proc_parse_maps_only(p->pid, &maps) : -1;
	if (n < 0) {
		free(buf);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (maps[i].path && !strcmp(maps[i].path, "[stack]"))
			choose_slots(p, &maps[i]);
	if (!hint_holds(p, maps, n))
		scan_code(p, maps, n, buf);
	choose_hole(p, maps, n, page);
	proc_free_maps(maps, n);
	free(buf);
	return 0;
}

void inject_find_code(pid_t pid, struct arch_gadgets *g)
{
	struct inject_proc p = { .pid = pid };
	struct proc_map *maps;
	uint8_t *buf = malloc(SCAN_CHUNK);
	int n = buf ? proc_parse_maps_only(pid, &maps) : -1;

	memset(g, 0, sizeof(*g));
	if (n >= 0) {
		scan_code(&p, maps, n, buf);
		proc_free_maps(maps, n);
		*g = p.g;
	}
	free(buf);
}

void inject_use_code(struct inject_proc *p, const struct arch_gadgets *g)
{
	p->hint = *g;
}

static int xstate_len(struct inject_proc *p)
{
	size_t len = arch_xstate_max();
	void *buf = malloc(len);
	int ret = -1;

	if (buf && !arch_get_xstate(p->threads[p->anchor].tid, buf, &len)) {
		p->xlen = len;
		ret = 0;
	}
	free(buf);
	return ret;
}

/* What the target offers decides how safe the calls are; see the top. */
static int plan(struct inject_proc *p, long page)
{
	struct arch_gadgets *g = &p->g;

	if (!g->syscall_ret && !g->any_syscall) {
		pr_err("%d has no system call instruction to borrow", p->pid);
		errno = ENOEXEC;
		return -1;
	}
	if (!g->syscall_ret || !g->sigreturn) {
		pr_debug("%d: no code to borrow for a way back", p->pid);
		p->slot_base = 0;
		return 0;
	}
	p->unmap = p->slot_base && p->region && g->pop_nr && g->pop_arg0 &&
		   g->pop_arg1;
	if (!p->unmap)
		pr_debug("%d: our page would outlive a death of ours", p->pid);
	if (!p->slot_base) {
		/* the ways back in the region itself, after the scratch */
		p->slots_in_region = 1;
		p->slot_step = slot_step(p);
		p->region_len += (2 * p->slot_step + page - 1) / page * page;
	}
	return 0;
}

static int map_region(struct inject_proc *p, long page)
{
	const uint64_t fixed[6] = { p->region, p->region_len,
				    PROT_READ | PROT_WRITE,
				    (p->shared ? MAP_SHARED : MAP_PRIVATE) |
				    MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
				    (uint64_t)-1, 0 };
	uint64_t args[6];
	long ret;

	memcpy(args, fixed, sizeof(args));
	if (!p->region)
		args[3] &= ~(uint64_t)MAP_FIXED_NOREPLACE;
	/* its way back unmaps the page already: slot 0 is outside it */
	if (p->slot_base && !p->slots_in_region &&
	    inject_write_way_back(p, p->anchor, 0))
		return -1;
	if (p->slots_in_region)
		p->slot_base = 0;	/* the mmap itself has no way back */
	if (inject_call(p, p->anchor, &ret, SYS_mmap, args))
		return -1;
	if (ret < 0 && ret > -4096) {
		errno = -ret;
		return -1;
	}
	p->region = ret;
	fault_point("mapped");
	if (p->slots_in_region) {
		p->slot_base = p->region + page + SLOT_GAP;
		if (inject_write_way_back(p, p->anchor, 0))
			return -1;
	}
	p->scratch = p->region;
	p->scratch_len = page;
	return 0;
}

int inject_prepare(struct inject_proc *p)
{
	long page = sysconf(_SC_PAGESIZE);

	if (p->prepared || p->adopted)
		return 0;
	p->anchor = inject_leader(p);
	p->other = -1;
	p->region_len = page;
	if (xstate_len(p) || scan(p, page) || plan(p, page))
		return -1;
	if (map_region(p, page)) {
		if (p->region && inject_unprepare(p))
			pr_debug("%d: can't unmap our page", p->pid);
		p->region = 0;
		return -1;
	}
	p->prepared = 1;
	fault_point("prepared");
	return 0;
}

/*
 * The last call is made by the anchor, whose way back unmaps the page
 * once more (harmless: nothing is mapped there then); then it is parked.
 */
int inject_unprepare(struct inject_proc *p)
{
	const uint64_t args[6] = { p->region, p->region_len, 0, 0, 0, 0 };
	int ret = 0;
	long r;

	if (p->adopted || !p->region)
		return 0;
	if (p->other >= 0 && inject_park(&p->threads[p->other]))
		ret = -1;
	p->other = -1;
	if (inject_call(p, p->anchor, &r, SYS_munmap, args) || r < 0)
		ret = -1;
	fault_point("unmapped");
	if (inject_park(&p->threads[p->anchor]))
		ret = -1;
	p->prepared = 0;
	p->region = 0;
	p->scratch = 0;
	p->scratch_len = 0;
	return ret;
}

pid_t inject_pid(const struct inject_proc *p)
{
	return p->pid;
}

int inject_nr_threads(const struct inject_proc *p)
{
	return p->nr_threads;
}

pid_t inject_tid(const struct inject_proc *p, int ti)
{
	return p->threads[ti].tid;
}

int inject_leader(const struct inject_proc *p)
{
	int i;

	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].tid == p->pid)
			return i;
	return 0;
}

const struct arch_regs *inject_regs(const struct inject_proc *p, int ti)
{
	return &p->threads[ti].regs;
}

uint64_t inject_sigmask(const struct inject_proc *p, int ti)
{
	return p->threads[ti].sigmask;
}

int inject_group_stop(const struct inject_proc *p)
{
	int i;

	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].group_stop)
			return p->threads[i].group_stop;
	return 0;
}

uint64_t inject_scratch(const struct inject_proc *p)
{
	return p->scratch;
}

uint64_t inject_scratch_len(const struct inject_proc *p)
{
	return p->scratch_len;
}
