/*
 * memory.c - the kinds of mapping a process has, each with a pattern.
 *
 *   brk	1 MiB grown with sbrk()
 *   anon	2 MiB MAP_PRIVATE | MAP_ANONYMOUS
 *   fpriv	MAP_PRIVATE mapping of D/fpriv.dat, some pages changed in
 *		memory only: after restore memory shows the changes, the file
 *		on disk does not
 *   fshared	MAP_SHARED mapping of D/fshared.dat: after restore memory
 *		and file agree, and a new write through the mapping reaches
 *		the file (pread on a separate fd after msync)
 *   ro		anonymous, filled then mprotect(PROT_READ): still
 *		readable, /proc/self/maps says r--p
 *   guard	three pages, the middle one PROT_NONE: outer pages intact,
 *		maps says ---p, and touching it still faults
 * The mappings are closed over their fds (only the count fd stays open).
 */
#include <sys/mman.h>
#include <setjmp.h>
#include <signal.h>

#include "workload.h"

#define PG		4096
#define BRK_SIZE	(1 << 20)
#define ANON_SIZE	(2 << 20)
#define FILE_SIZE	(64 * 1024)
#define RO_SIZE		(64 * 1024)

static char *brk_p, *anon, *fpriv, *fshared, *ro, *guard;
static sigjmp_buf segv_jmp;
static volatile sig_atomic_t segv_seen;

static const int fpriv_dirty[] = { 0, 5, 15 };

static void make_file(const char *name, uint64_t seed)
{
	char *buf = malloc(FILE_SIZE);

	if (!buf)
		wl_fail("malloc: %s", strerror(errno));
	wl_fill(buf, FILE_SIZE, seed);
	wl_write_file(name, buf, FILE_SIZE);
	free(buf);
}

static char *map_file(const char *name, int flags)
{
	char p[PATH_MAX];
	void *m;
	int fd;

	fd = open(wl_path(p, name), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	m = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (m == MAP_FAILED)
		wl_fail("mmap %s: %s", p, strerror(errno));
	close(fd);
	return m;
}

static char *map_anon(size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	return m;
}

static void read_file(const char *name, char *buf, size_t len, off_t off)
{
	char p[PATH_MAX];
	int fd;

	fd = open(wl_path(p, name), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	if (pread(fd, buf, len, off) != (ssize_t)len)
		wl_fail("pread %s: %s", p, strerror(errno));
	close(fd);
}

static void check(const char *what, const void *m, size_t len, uint64_t seed)
{
	long off = wl_check_fill(m, len, seed);

	if (off >= 0)
		wl_fail("%s: pattern differs at offset %#lx", what, off);
}

/* The permissions /proc/self/maps shows for the mapping holding ADDR. */
static void maps_perms(const void *addr, char perms[5])
{
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		wl_fail("open /proc/self/maps: %s", strerror(errno));
	strcpy(perms, "????");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
		    a >= lo && a < hi)
			break;
		else
			strcpy(perms, "????");
	fclose(f);
}

static void want_perms(const char *what, const void *addr, const char *want)
{
	char perms[5];

	maps_perms(addr, perms);
	if (strcmp(perms, want))
		wl_fail("%s: /proc/self/maps says %s, want %s", what, perms,
			want);
}

static void on_segv(int sig)
{
	segv_seen = 1;
	siglongjmp(segv_jmp, 1);
}

static void check_guard_faults(void)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;

	sigaction(SIGSEGV, &sa, &old);
	segv_seen = 0;
	if (!sigsetjmp(segv_jmp, 1))
		(void)*(volatile char *)(guard + PG);
	sigaction(SIGSEGV, &old, NULL);
	if (!segv_seen)
		wl_fail("guard page is readable");
}

static void setup(void)
{
	int i;

	brk_p = sbrk(BRK_SIZE);
	if (brk_p == (void *)-1)
		wl_fail("sbrk: %s", strerror(errno));
	wl_fill(brk_p, BRK_SIZE, 1);

	anon = map_anon(ANON_SIZE);
	wl_fill(anon, ANON_SIZE, 2);

	make_file("fpriv.dat", 3);
	fpriv = map_file("fpriv.dat", MAP_PRIVATE);
	for (i = 0; i < 3; i++)
		wl_fill(fpriv + fpriv_dirty[i] * PG, PG, 100 + i);

	make_file("fshared.dat", 4);
	fshared = map_file("fshared.dat", MAP_SHARED);
	wl_fill(fshared, FILE_SIZE, 5);
	if (msync(fshared, FILE_SIZE, MS_SYNC))
		wl_fail("msync: %s", strerror(errno));

	ro = map_anon(RO_SIZE);
	wl_fill(ro, RO_SIZE, 6);
	if (mprotect(ro, RO_SIZE, PROT_READ))
		wl_fail("mprotect: %s", strerror(errno));

	guard = map_anon(3 * PG);
	wl_fill(guard, PG, 7);
	wl_fill(guard + 2 * PG, PG, 8);
	if (mprotect(guard + PG, PG, PROT_NONE))
		wl_fail("mprotect: %s", strerror(errno));
}

static void verify(void)
{
	char *buf = malloc(FILE_SIZE);
	int i, j, dirty;

	if (!buf)
		wl_fail("malloc: %s", strerror(errno));
	check("brk", brk_p, BRK_SIZE, 1);
	want_perms("brk", brk_p, "rw-p");
	check("anon", anon, ANON_SIZE, 2);
	want_perms("anon", anon, "rw-p");

	/* private file mapping: changed pages from memory, others the file */
	read_file("fpriv.dat", buf, FILE_SIZE, 0);
	check("fpriv.dat on disk", buf, FILE_SIZE, 3);
	for (i = 0; i < FILE_SIZE / PG; i++) {
		for (dirty = -1, j = 0; j < 3; j++)
			if (fpriv_dirty[j] == i)
				dirty = j;
		if (dirty >= 0)
			check("fpriv changed page", fpriv + i * PG, PG,
			      100 + dirty);
		else if (memcmp(fpriv + i * PG, buf + i * PG, PG))
			wl_fail("fpriv page %d differs from the file", i);
	}
	want_perms("fpriv", fpriv, "rw-p");

	/* shared file mapping: memory is the file, and writes reach it */
	check("fshared", fshared, FILE_SIZE, 5);
	read_file("fshared.dat", buf, FILE_SIZE, 0);
	check("fshared.dat on disk", buf, FILE_SIZE, 5);
	want_perms("fshared", fshared, "rw-s");
	wl_fill(fshared + 3 * PG, PG, 9);
	if (msync(fshared, FILE_SIZE, MS_SYNC))
		wl_fail("msync: %s", strerror(errno));
	read_file("fshared.dat", buf, PG, 3 * PG);
	check("fshared.dat after a write through the mapping", buf, PG, 9);

	check("ro", ro, RO_SIZE, 6);
	want_perms("ro", ro, "r--p");

	check("guard low page", guard, PG, 7);
	check("guard high page", guard + 2 * PG, PG, 8);
	want_perms("guard low page", guard, "rw-p");
	want_perms("guard page", guard + PG, "---p");
	want_perms("guard high page", guard + 2 * PG, "rw-p");
	check_guard_faults();
	free(buf);
}

int main(void)
{
	unsigned long n = 0;
	int fd;

	wl_init();
	setup();
	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	verify();
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
