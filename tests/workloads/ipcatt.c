/*
 * ipcatt.c - System V segments that a parent and its child keep attached
 * in an IPC namespace of their own (run it in `unshare -i`):
 *  - a keyed segment K (SHM_LOCK, owner 1000:1001, mode 0640), attached
 *    by the parent before the fork so that both have it: read-write,
 *    its page 2 then made read-only (mprotect) and its page 4 unmapped;
 *    and once more read-only (SHM_RDONLY) elsewhere;
 *  - a private segment G of two pages, attached by both, then removed
 *    (IPC_RMID) while attached.
 * Both note the attach counts (shm_nattch) of both, twice what they were
 * before the fork; the ids go in D/ipcatt.ids ("K G").
 *
 * When D/restored appears each side checks the bytes from before the
 * dump, the segments as IPC_STAT shows them (ids, key, owner, mode, lock,
 * removal, attach counts as noted) and its mappings (protections, the
 * hole), then writes a token of its own into both segments and waits for
 * the other side's: a segment that came back as two copies fails. At
 * D/stop the child detaches G and exits; the parent then finds G still
 * there with one attachment (its own), detaches it and finds it gone.
 */
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include "workload.h"

#define PS		4096
#define KEY		0x4350ab01
#define K_SIZE		(6 * PS + 100)	/* seven pages, the last partly */
#define K_RO_PAGE	2
#define K_HOLE		4
#define G_SIZE		(2 * PS)
#define TOKEN_PARENT	0x5041524e54000000ULL
#define TOKEN_CHILD	0x4348494c44000000ULL

static int kid, gid_;
static uint8_t *k, *k_ro, *g;
static unsigned long nattch_k, nattch_g;

static void stat_seg(int id, struct shmid_ds *ds)
{
	if (shmctl(id, IPC_STAT, ds))
		wl_fail("IPC_STAT %d: %s", id, strerror(errno));
}

/* Slot 0 of page 0 is the parent's token, slot 1 the child's. */
static volatile uint64_t *slot(uint8_t *seg, int who)
{
	return (volatile uint64_t *)seg + who;
}

static void make_k(void)
{
	struct shmid_ds ds;

	kid = shmget(KEY, K_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (kid < 0)
		wl_fail("shmget: %s", strerror(errno));
	stat_seg(kid, &ds);
	ds.shm_perm.uid = 1000;
	ds.shm_perm.gid = 1001;
	ds.shm_perm.mode = 0640;
	if (shmctl(kid, IPC_SET, &ds) || shmctl(kid, SHM_LOCK, NULL))
		wl_fail("IPC_SET, SHM_LOCK: %s", strerror(errno));
	k = wl_shmat(kid, 0);
	wl_fill(k + PS, K_SIZE - PS, 1);
	if (mprotect(k + K_RO_PAGE * PS, PS, PROT_READ) ||
	    munmap(k + K_HOLE * PS, PS))
		wl_fail("mprotect, munmap: %s", strerror(errno));
	k_ro = wl_shmat(kid, SHM_RDONLY);
}

static void make_g(void)
{
	gid_ = shmget(IPC_PRIVATE, G_SIZE, IPC_CREAT | 0600);
	if (gid_ < 0)
		wl_fail("shmget: %s", strerror(errno));
	g = wl_shmat(gid_, 0);
	wl_fill(g + PS, PS, 2);
}

/* The line of /proc/self/maps for addr: its protections in perms, or
 * 0 when nothing is mapped there */
static int maps_perms(const void *addr, char perms[5])
{
	unsigned long a = (unsigned long)addr, s, e;
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		wl_fail("/proc/self/maps: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx %4s", &s, &e, perms) == 3 &&
			a >= s && a < e;
	fclose(f);
	return found;
}

static void check_maps(void)
{
	char perms[5];

	if (!maps_perms(k, perms) || strcmp(perms, "rw-s"))
		wl_fail("K page 0: mapped %s, want rw-s", perms);
	if (!maps_perms(k + K_RO_PAGE * PS, perms) || strcmp(perms, "r--s"))
		wl_fail("K page %d: mapped %s, want r--s", K_RO_PAGE, perms);
	if (maps_perms(k + K_HOLE * PS, perms))
		wl_fail("K page %d is mapped (%s), want a hole", K_HOLE,
			perms);
	if (!maps_perms(k + (K_HOLE + 1) * PS, perms) || strcmp(perms, "rw-s"))
		wl_fail("K page %d: mapped %s, want rw-s", K_HOLE + 1, perms);
	if (mprotect(k_ro, PS, PROT_READ | PROT_WRITE) == 0 ||
	    errno != EACCES)
		wl_fail("K read-only attachment: mprotect writable: %s",
			strerror(errno));
}

/* What both sides see after the restore. */
static void after_restore(int who)
{
	struct shmid_ds ds;

	wl_expect_fill("K", k + PS, K_RO_PAGE * PS - PS, 1);
	wl_expect_fill("K read-only view", k_ro + PS, K_SIZE - PS, 1);
	wl_expect_fill("G", g + PS, PS, 2);
	check_maps();
	if (shmget(KEY, 0, 0) != kid)
		wl_fail("K: key %#x has id %d, want %d", KEY,
			shmget(KEY, 0, 0), kid);
	stat_seg(kid, &ds);
	if (ds.shm_segsz != K_SIZE || (ds.shm_perm.mode & 0777) != 0640 ||
	    ds.shm_perm.uid != 1000 || ds.shm_perm.gid != 1001 ||
	    !(ds.shm_perm.mode & SHM_LOCKED) || ds.shm_nattch != nattch_k)
		wl_fail("K: size %zu mode %#o owner %u:%u attached %lu, want %lu",
			ds.shm_segsz, ds.shm_perm.mode, ds.shm_perm.uid,
			ds.shm_perm.gid, (unsigned long)ds.shm_nattch,
			nattch_k);
	stat_seg(gid_, &ds);
	if (!(ds.shm_perm.mode & SHM_DEST) || ds.shm_nattch != nattch_g)
		wl_fail("G: mode %#o attached %lu, want removed and %lu",
			ds.shm_perm.mode, (unsigned long)ds.shm_nattch,
			nattch_g);
	*slot(k, who) = (who ? TOKEN_CHILD : TOKEN_PARENT) | getpid();
	*slot(g, who) = (who ? TOKEN_CHILD : TOKEN_PARENT) | getpid();
}

static int other_seen(void *arg)
{
	int other = !*(int *)arg;
	uint64_t want = other ? TOKEN_CHILD : TOKEN_PARENT;

	return (*slot(k, other) & ~0xffffffULL) == want &&
	       (*slot(g, other) & ~0xffffffULL) == want &&
	       *slot(k_ro, other) == *slot(k, other);
}

static void exchange(int who)
{
	if (!wl_wait(other_seen, &who, 60))
		wl_fail("the %s's writes after the restore never showed in the %s (K %#llx G %#llx): two copies, not one segment",
			who ? "parent" : "child", who ? "child" : "parent",
			(unsigned long long)*slot(k, !who),
			(unsigned long long)*slot(g, !who));
}

static int child(void)
{
	int restored = 0, who = 1;

	for (; !wl_should_stop(); wl_sleep_ms(20))
		if (!restored && wl_restored()) {
			after_restore(who);
			restored = 1;
		}
	if (restored)
		exchange(who);
	if (shmdt(g))
		wl_fail("child: shmdt G: %s", strerror(errno));
	return 0;
}

/* The child gone (its attachment of G with it), G must go with the
 * parent's detach. */
static void last_detach(pid_t pid)
{
	struct shmid_ds ds;
	int status;

	if (waitpid(pid, &status, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child ended with status %#x", status);
	stat_seg(gid_, &ds);
	if (ds.shm_nattch != 1)
		wl_fail("G: attached %lu after the child ended, want 1",
			(unsigned long)ds.shm_nattch);
	if (shmdt(g))
		wl_fail("shmdt G: %s", strerror(errno));
	if (shmctl(gid_, IPC_STAT, &ds) == 0 || errno != EINVAL)
		wl_fail("G: still there after its last detach (%s)",
			strerror(errno));
}

static pid_t setup(void)
{
	struct shmid_ds ds;
	char buf[32];
	pid_t pid;
	int n;

	make_k();
	make_g();
	/* fork attaches the child to all of them too */
	stat_seg(kid, &ds);
	nattch_k = 2 * ds.shm_nattch;
	stat_seg(gid_, &ds);
	nattch_g = 2 * ds.shm_nattch;
	pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0)
		exit(child());
	/* both attached: removable now */
	if (shmctl(gid_, IPC_RMID, NULL))
		wl_fail("IPC_RMID: %s", strerror(errno));
	stat_seg(kid, &ds);
	if (ds.shm_nattch != nattch_k)
		wl_fail("K: attached %lu after the fork, want %lu",
			(unsigned long)ds.shm_nattch, nattch_k);
	n = snprintf(buf, sizeof(buf), "%d %d\n", kid, gid_);
	wl_write_file("ipcatt.ids", buf, n);
	return pid;
}

int main(void)
{
	int restored = 0, fd;
	unsigned long n = 0;
	pid_t pid;

	wl_init();
	pid = setup();
	fd = wl_count_open();
	for (; !wl_count_step(fd, &n); wl_sleep_ms(20))
		if (!restored && wl_restored()) {
			after_restore(0);
			restored = 1;
		}
	if (restored)
		exchange(0);
	last_detach(pid);
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
