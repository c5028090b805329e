/*
 * shm.c - memory shared between a parent and its child: a MAP_SHARED
 * anonymous region (the parent makes part of it read-only, so that it
 * shows as two VMAs at two offsets), a memfd mapped shared (and privately
 * by the parent, with one page of its own), a System V segment with a key
 * (which the child also attaches read-only) and one removed with IPC_RMID
 * while both stay attached. The parent also has a shared anonymous region
 * of its own.
 *
 * With the argument "alone" there is no child: the one process maps each
 * object twice instead (a second view of the anonymous region by mremap,
 * the memfd shared and privately, the segment read-only too), for dumps of
 * a single process, killed (which leaves the keyed segment behind, unused)
 * and restored. After D/restored it writes through one view and must read
 * it through the other.
 *
 * Before the dump both fill the regions with patterns. Once D/restored
 * appears each side checks the patterns, writes a token of its own into
 * every region and waits for the other side's: a region that came back as
 * two copies never shows the other's token, and the workload fails. The
 * parent counts into D/count; after D/stop it waits for the child, which
 * must exit 0, removes the keyed segment (its key is in D/shm.key for the
 * runner's cleanup) and exits.
 */
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include "workload.h"

#define PS		4096
#define ANON_PAGES	16	/* 8-11 never touched: holes in the object */
#define RO_FIRST	12	/* the parent's read-only part */
#define MEMFD_PAGES	8
#define SYSV_SIZE	10000	/* not a whole number of pages */
#define SOLO_PAGES	4
#define TOKEN_PARENT	0x5041524e54000000ULL
#define TOKEN_CHILD	0x4348494c44000000ULL

struct regions {
	uint8_t *anon, *anon2, *memfd, *priv, *sysv, *sysv_ro, *gone, *solo;
	int key_id, gone_id;
	key_t key;
};

static struct regions R;

/* Slot 0 of a slot page is the parent's token, slot 1 the child's; the
 * slot pages (0 of each region, RO_FIRST and the memfd's last) hold no
 * pattern. */
static volatile uint64_t *slot(uint8_t *region, int page, int who)
{
	return (volatile uint64_t *)(region + page * PS) + who;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	return p;
}

static void map_memfd(void)
{
	int fd = memfd_create("ckpt-shm-test", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, MEMFD_PAGES * PS))
		wl_fail("memfd: %s", strerror(errno));
	R.memfd = mmap(NULL, MEMFD_PAGES * PS, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	R.priv = mmap(NULL, MEMFD_PAGES * PS, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE, fd, 0);
	if (R.memfd == MAP_FAILED || R.priv == MAP_FAILED)
		wl_fail("mmap memfd: %s", strerror(errno));
	/* only the mappings keep it: an open memfd fd is another feature */
	close(fd);
}

static void make_sysv(void)
{
	char buf[32];
	int n;

	R.key = 0x43500000 | (getpid() & 0xffff);
	R.key_id = shmget(R.key, SYSV_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	if (R.key_id < 0)
		wl_fail("shmget %#x: %s", R.key, strerror(errno));
	n = snprintf(buf, sizeof(buf), "%d\n", R.key);
	wl_write_file("shm.key", buf, n);
	R.sysv = wl_shmat(R.key_id, 0);
	R.gone_id = shmget(IPC_PRIVATE, 2 * PS, IPC_CREAT | 0600);
	if (R.gone_id < 0)
		wl_fail("shmget: %s", strerror(errno));
	R.gone = wl_shmat(R.gone_id, 0);
}

/* The contents before the dump, which must be there after the restore. */
static void fill_all(void)
{
	wl_fill(R.anon + PS, 7 * PS, 1);
	wl_fill(R.anon + (RO_FIRST + 1) * PS, (ANON_PAGES - RO_FIRST - 1) * PS,
		11);
	wl_fill(R.memfd + PS, 6 * PS, 2);
	wl_fill(R.sysv + PS, PS, 3);
	wl_fill(R.gone + PS, PS, 4);
	*slot(R.priv, 0, 2) = 0x7072697661746531ULL;	/* a private copy */
}

static void check_zero(const char *what, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			wl_fail("%s: byte %zu is %#x, want 0", what, i, p[i]);
}

static void check_all(int parent)
{
	wl_expect_fill("anon", R.anon + PS, 7 * PS, 1);
	check_zero("anon holes", R.anon + 8 * PS, 4 * PS);
	wl_expect_fill("anon (read-only part)", R.anon + (RO_FIRST + 1) * PS,
		       (ANON_PAGES - RO_FIRST - 1) * PS, 11);
	wl_expect_fill("memfd", R.memfd + PS, 6 * PS, 2);
	wl_expect_fill("sysv", R.sysv + PS, PS, 3);
	check_zero("sysv tail", R.sysv + 2 * PS, SYSV_SIZE - 2 * PS);
	wl_expect_fill("removed sysv", R.gone + PS, PS, 4);
	if (!parent) {
		wl_expect_fill("sysv read-only", R.sysv_ro + PS, PS, 3);
		return;
	}
	wl_expect_fill("solo", R.solo, SOLO_PAGES * PS, 5);
	wl_expect_fill("memfd (private mapping)", R.priv + PS, 6 * PS, 2);
	if (*slot(R.priv, 0, 2) != 0x7072697661746531ULL)
		wl_fail("memfd (private mapping): its own page was lost");
}

/* Every region where the other side writes, as this side sees it. */
static volatile uint64_t *seen(int i, int other)
{
	switch (i) {
	case 0:
		return slot(R.anon, 0, other);
	case 1:
		return slot(R.anon, RO_FIRST, other);
	case 2:
		return slot(R.memfd, 0, other);
	case 3:
		return slot(R.memfd, MEMFD_PAGES - 1, other);
	case 4:
		return slot(R.sysv, 0, other);
	default:
		return slot(R.gone, 0, other);
	}
}

static const char *const names[] = {
	"anon", "anon (read-only part)", "memfd", "memfd (last page)",
	"sysv", "removed sysv",
};

#define NR_SEEN	6

/* Our token everywhere the other side looks (not into our read-only
 * part: the child writes there, the parent reads). */
static void post(int who, uint64_t token)
{
	int i;

	for (i = 0; i < NR_SEEN; i++)
		if (!(i == 1 && who == 0))
			*seen(i, who) = token;
}

static int other_seen(void *arg)
{
	int who = *(int *)arg, other = !who, i;
	uint64_t want = other ? TOKEN_CHILD : TOKEN_PARENT;

	for (i = 0; i < NR_SEEN; i++) {
		if (i == 1 && other == 0)
			continue;
		if ((*seen(i, other) & ~0xffffffULL) != want)
			return 0;
	}
	return 1;
}

/* Which region did not show the other side's token. */
static void fail_unseen(int who)
{
	int other = !who, i;
	uint64_t want = other ? TOKEN_CHILD : TOKEN_PARENT;

	for (i = 0; i < NR_SEEN; i++)
		if (!(i == 1 && other == 0) &&
		    (*seen(i, other) & ~0xffffffULL) != want)
			wl_fail("%s: the %s's write after the restore never showed in the %s (%#llx): two copies, not one shared region",
				names[i], other ? "child" : "parent",
				who ? "child" : "parent",
				(unsigned long long)*seen(i, other));
}

/* After D/restored: the data is intact, then the exchange of tokens. */
static void after_restore(int who)
{
	check_all(who == 0);
	post(who, (who ? TOKEN_CHILD : TOKEN_PARENT) | (getpid() & 0xffffff));
}

static void finish_exchange(int who, int restored)
{
	if (!restored)
		return;
	if (!wl_wait(other_seen, &who, 60))
		fail_unseen(who);
	if (who == 0 && *slot(R.priv, MEMFD_PAGES - 1, 1) !=
	    *slot(R.memfd, MEMFD_PAGES - 1, 1))
		wl_fail("memfd (private mapping): an untouched page does not show the object's contents");
}

static void view_check(const char *what, uint8_t *a, uint8_t *b, int page)
{
	uint64_t token = TOKEN_PARENT | (wl_now_ns(CLOCK_MONOTONIC) & 0xffffff);

	*slot(a, page, 1) = token;
	if (*slot(b, page, 1) != token)
		wl_fail("%s: a write after the restore does not show in the other view (%#llx): two copies, not one object",
			what, (unsigned long long)*slot(b, page, 1));
}

/* One process, two views of each object. */
static void alone_after_restore(void)
{
	check_all(1);
	wl_expect_fill("sysv read-only", R.sysv_ro + PS, PS, 3);
	view_check("anon", R.anon, R.anon2, 0);
	view_check("memfd", R.memfd, R.priv, MEMFD_PAGES - 1);
	view_check("sysv", R.sysv, R.sysv_ro, 0);
}

static void child_checks(void)
{
	if (mprotect(R.sysv_ro, PS, PROT_READ | PROT_WRITE) == 0 ||
	    errno != EACCES)
		wl_fail("sysv read-only attachment: mprotect writable: %s",
			strerror(errno));
	if (*slot(R.sysv_ro, 0, 0) != *slot(R.sysv, 0, 0))
		wl_fail("sysv: two attachments of the child differ");
}

static int child(void)
{
	int restored = 0, who = 1;

	R.sysv_ro = wl_shmat(R.key_id, SHM_RDONLY);
	for (;;) {
		if (!restored && wl_restored()) {
			restored = 1;
			after_restore(who);
		}
		if (wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	finish_exchange(who, restored);
	if (restored)
		child_checks();
	return 0;
}

/* The segments as the kernel sees them after the restore. */
static void check_segments(int alone)
{
	struct shmid_ds ds;

	if (shmget(R.key, 0, 0) != R.key_id)
		wl_fail("sysv: key %#x has id %d, want %d", R.key,
			shmget(R.key, 0, 0), R.key_id);
	if (shmctl(R.key_id, IPC_STAT, &ds))
		wl_fail("sysv: IPC_STAT: %s", strerror(errno));
	if (ds.shm_segsz != SYSV_SIZE || (ds.shm_perm.mode & 0777) != 0640 ||
	    ds.shm_nattch != (alone ? 2u : 3u))
		wl_fail("sysv: size %zu mode %#o attached %lu", ds.shm_segsz,
			ds.shm_perm.mode, (unsigned long)ds.shm_nattch);
	if (shmctl(R.gone_id, IPC_STAT, &ds))
		wl_fail("removed sysv: IPC_STAT %d: %s", R.gone_id,
			strerror(errno));
	if (!(ds.shm_perm.mode & SHM_DEST) || ds.shm_nattch != (alone ? 1u : 2u))
		wl_fail("removed sysv: mode %#o attached %lu",
			ds.shm_perm.mode, (unsigned long)ds.shm_nattch);
}

static void reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child ended with status %#x", status);
}

static pid_t setup(int alone)
{
	pid_t pid = 0;

	R.anon = map_anon(ANON_PAGES * PS);
	map_memfd();
	make_sysv();
	fill_all();
	if (alone) {
		R.sysv_ro = wl_shmat(R.key_id, SHM_RDONLY);
		/* old size 0: a second mapping of the same shared pages */
		R.anon2 = mremap(R.anon, 0, PS, MREMAP_MAYMOVE);
		if (R.anon2 == MAP_FAILED)
			wl_fail("mremap: %s", strerror(errno));
	} else {
		pid = fork();
		if (pid < 0)
			wl_fail("fork: %s", strerror(errno));
		if (pid == 0)
			exit(child());
	}
	/* all attached (fork attaches the child too): now removable */
	if (shmctl(R.gone_id, IPC_RMID, NULL))
		wl_fail("IPC_RMID: %s", strerror(errno));
	if (mprotect(R.anon + RO_FIRST * PS, (ANON_PAGES - RO_FIRST) * PS,
		     PROT_READ))
		wl_fail("mprotect: %s", strerror(errno));
	R.solo = map_anon(SOLO_PAGES * PS);
	wl_fill(R.solo, SOLO_PAGES * PS, 5);
	return pid;
}

int main(int argc, char **argv)
{
	int restored = 0, who = 0, fd;
	int alone = argc > 1 && !strcmp(argv[1], "alone");
	unsigned long n = 0;
	pid_t pid;

	wl_init();
	pid = setup(alone);
	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		if (n == 5)
			wl_ready();
		if (!restored && wl_restored()) {
			restored = 1;
			check_segments(alone);
			if (alone)
				alone_after_restore();
			else
				after_restore(who);
		}
		if (n > 5 && wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	if (!alone) {
		finish_exchange(who, restored);
		reap(pid);
	} else if (restored) {
		child_checks();
	}
	if (shmctl(R.key_id, IPC_RMID, NULL))
		wl_fail("IPC_RMID %d: %s", R.key_id, strerror(errno));
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
