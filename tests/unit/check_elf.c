/*
 * check_elf: symbols of a live process (elf/elfsym.h). The target is a
 * forked child of the test, which has the same mappings as the test: what
 * the test's own dynamic linker says (dlsym, dlvsym, &function) is the
 * truth that elf_sym_lookup must find by reading the child's maps and ELF
 * files. A static executable and a deleted shared object are compiled
 * with cc at test time, so that git holds no binaries.
 *
 * Aliases: libc defines nanosleep and __nanosleep at one address; the
 * reverse lookup reports the name with the fewest leading underscores
 * (the public one), and the tests hold it to that.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "elf/elfsym.h"
#include "tests/unit/unit.h"
#include "util/proc.h"

static pid_t child = -1;

/* In the test binary's .symtab (built with -g, not stripped). The array
 * is large so that most of it lies in the anonymous part of .bss, past
 * the last page of the file's mapping. */
#define NR_DATA	(64 * 1024)
int elftest_marker(void);
int elftest_data[NR_DATA];

__attribute__((noinline)) int elftest_marker(void)
{
	return elftest_data[0] + 42;
}

static void die_with_parent(void)
{
	pid_t pp = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != pp)
		_exit(99);
}

static void sleep_forever(void)
{
	struct timespec ts = { 1, 0 };

	for (;;)
		nanosleep(&ts, NULL);
}

/* A child that sleeps: same mappings as ours. */
static void start_sleeper(void)
{
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		die_with_parent();
		sleep_forever();
	}
}

static void setup(void)
{
	unit_tmpdir_setup();
	log_init("check_elf", LOG_ERR);
	child = -1;
}

static void teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	unit_tmpdir_teardown();
}

static uint64_t addr_of(void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static uint64_t lookup(const char *name, struct elf_sym_result *r)
{
	int ret = elf_sym_lookup(child, name, r);

	ck_assert_msg(ret == 0, "%s not found: %s", name, strerror(errno));
	return r->addr;
}

START_TEST(test_dynamic_libc)
{
	struct elf_sym_result r;

	start_sleeper();
	ck_assert_uint_eq(lookup("nanosleep", &r),
			  addr_of(dlsym(RTLD_DEFAULT, "nanosleep")));
	ck_assert_ptr_nonnull(strstr(r.object, "libc"));
	ck_assert_int_eq(r.ifunc, 0);
	ck_assert_uint_gt(r.size, 0);
}
END_TEST

START_TEST(test_versions)
{
	struct elf_sym_result r;
	uint64_t def, old;

	start_sleeper();
	def = addr_of(dlvsym(RTLD_DEFAULT, "pthread_cond_wait",
			     "GLIBC_2.3.2"));
	old = addr_of(dlvsym(RTLD_DEFAULT, "pthread_cond_wait",
			     "GLIBC_2.2.5"));
	ck_assert_uint_ne(def, 0);
	ck_assert_uint_ne(old, 0);
	ck_assert_uint_ne(def, old);
	ck_assert_uint_eq(lookup("pthread_cond_wait", &r), def);
	ck_assert_uint_eq(lookup("pthread_cond_wait@GLIBC_2.3.2", &r), def);
	ck_assert_uint_eq(lookup("pthread_cond_wait@@GLIBC_2.3.2", &r), def);
	ck_assert_uint_eq(lookup("pthread_cond_wait@GLIBC_2.2.5", &r), old);
	/* and back: the old one is named with its version */
	ck_assert_int_eq(elf_sym_addr(child, old, &r), 0);
	ck_assert_str_eq(r.name, "pthread_cond_wait@GLIBC_2.2.5");
	ck_assert_uint_eq(r.offset, 0);
	log_init("check_elf", -1);
	errno = 0;
	ck_assert_int_eq(elf_sym_lookup(child, "pthread_cond_wait@NOPE_1.0",
					&r), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_reverse)
{
	uint64_t base = addr_of(dlsym(RTLD_DEFAULT, "nanosleep"));
	struct elf_sym_result r;

	start_sleeper();
	ck_assert_int_eq(elf_sym_addr(child, base + 5, &r), 0);
	ck_assert_str_eq(r.name, "nanosleep");	/* not __nanosleep */
	ck_assert_uint_eq(r.offset, 5);
	ck_assert_uint_eq(r.addr, base);
	ck_assert_ptr_nonnull(strstr(r.object, "libc"));
}
END_TEST

START_TEST(test_ifunc)
{
	struct elf_sym_result r, back;
	uint64_t impl;

	start_sleeper();
	/* an IFUNC of glibc's that ASan does not interpose, as it does
	 * memcpy (which its runtime then defines first) */
	lookup("wmemset", &r);
	ck_assert_int_eq(r.ifunc, 1);
	ck_assert_ptr_nonnull(strstr(r.object, "libc"));
	/* the resolver, not what dlsym returns (the chosen variant) */
	ck_assert_uint_ne(r.addr, addr_of(dlsym(RTLD_DEFAULT, "wmemset")));
	ck_assert_int_eq(elf_sym_addr(child, r.addr, &back), 0);
	ck_assert_str_eq(back.name, "wmemset");
	ck_assert_int_eq(back.ifunc, 1);
	/* what the resolver chose: what dlsym gives */
	ck_assert_int_eq(elf_sym_ifunc_target(child, &r, &impl), 0);
	ck_assert_uint_eq(impl, addr_of(dlsym(RTLD_DEFAULT, "wmemset")));
}
END_TEST

static void self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
}

START_TEST(test_main_program)
{
	struct elf_sym_result r;
	char exe[4096];

	self_exe(exe, sizeof(exe));
	start_sleeper();
	ck_assert_uint_eq(lookup("elftest_marker", &r),
			  addr_of(elftest_marker));
	ck_assert_str_eq(r.object, exe);
	ck_assert_int_eq(elf_sym_addr(child, addr_of(elftest_marker) + 1,
				      &r), 0);
	ck_assert_str_eq(r.name, "elftest_marker");
	ck_assert_uint_eq(r.offset, 1);
	/* data too, in .bss */
	ck_assert_int_eq(elf_sym_addr(child, addr_of(&elftest_data[3]), &r),
			 0);
	ck_assert_str_eq(r.name, "elftest_data");
	ck_assert_uint_eq(r.offset, 3 * sizeof(int));
	ck_assert_int_eq(elf_sym_addr(child,
				      addr_of(&elftest_data[NR_DATA - 1]),
				      &r), 0);
	ck_assert_str_eq(r.name, "elftest_data");
	ck_assert_str_eq(r.object, exe);
}
END_TEST

/* [start, end) of the child's [vdso] */
static void vdso_range(uint64_t *start, uint64_t *end)
{
	struct proc_map *m;
	int n, i;

	n = proc_parse_maps(child, &m);
	ck_assert_int_gt(n, 0);
	*start = *end = 0;
	for (i = 0; i < n; i++)
		if (m[i].path && !strcmp(m[i].path, "[vdso]")) {
			*start = m[i].start;
			*end = m[i].end;
		}
	proc_free_maps(m, n);
	ck_assert_uint_ne(*start, 0);
}

START_TEST(test_vdso)
{
	struct elf_sym_result r, back;
	uint64_t start, end;

	start_sleeper();
	vdso_range(&start, &end);
	lookup("__vdso_clock_gettime", &r);
	ck_assert_str_eq(r.object, "[vdso]");
	ck_assert_uint_ge(r.addr, start);
	ck_assert_uint_lt(r.addr, end);
	ck_assert_int_eq(elf_sym_addr(child, r.addr + 2, &back), 0);
	ck_assert_str_eq(back.object, "[vdso]");
	ck_assert_uint_eq(back.addr, r.addr);
	ck_assert_uint_eq(back.offset, 2);
	/* the vdso's own alias, versioned LINUX_2.6 */
	ck_assert_uint_eq(lookup("clock_gettime@LINUX_2.6", &r), back.addr);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* cc ARGS -o dir/out dir/src.c, where src.c holds text. */
static void compile(const char *text, const char *args, const char *out)
{
	char src[128], cmd[512];

	snprintf(src, sizeof(src), "%s/src.c", dir);
	write_file(src, text);
	snprintf(cmd, sizeof(cmd), "cc %s -o %s/%s %s", args, dir, out, src);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* Start a child running path with stdout to a pipe; read one line. */
static void spawn_reporting(const char *path, char *line, size_t len)
{
	int fds[2];
	FILE *f;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		die_with_parent();
		dup2(fds[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, len, f));
	fclose(f);
}

static const char static_src[] =
	"#include <stdio.h>\n"
	"#include <time.h>\n"
	"int main(void)\n"
	"{\n"
	"	struct timespec ts = { 1, 0 };\n"
	"	printf(\"%p %p\\n\", (void *)main, (void *)nanosleep);\n"
	"	fflush(stdout);\n"
	"	for (;;)\n"
	"		nanosleep(&ts, NULL);\n"
	"}\n";

START_TEST(test_static_exe)
{
	struct elf_sym_result r;
	char path[128], line[128];
	void *main_p, *ns_p;

	compile(static_src, "-static -O1 -g", "static");
	snprintf(path, sizeof(path), "%s/static", dir);
	spawn_reporting(path, line, sizeof(line));
	ck_assert_int_eq(sscanf(line, "%p %p", &main_p, &ns_p), 2);
	ck_assert_uint_eq(lookup("main", &r), addr_of(main_p));
	ck_assert_str_eq(r.object, path);
	ck_assert_uint_eq(lookup("nanosleep", &r), addr_of(ns_p));
	ck_assert_int_eq(elf_sym_addr(child, addr_of(main_p) + 3, &r), 0);
	ck_assert_str_eq(r.name, "main");
	ck_assert_uint_eq(r.offset, 3);
	ck_assert_int_eq(elf_sym_addr(child, addr_of(ns_p) + 1, &r), 0);
	ck_assert_str_eq(r.name, "nanosleep");
}
END_TEST

static const char lib_src[] =
	"int deleted_marker(void);\n"
	"int deleted_marker(void)\n"
	"{\n"
	"	return 42;\n"
	"}\n";

/* The child dlopens lib, reports deleted_marker's address, sleeps. */
static void start_dlopener(const char *lib, uint64_t *addr)
{
	int fds[2];
	void *h, *f;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		die_with_parent();
		h = dlopen(lib, RTLD_NOW);
		f = h ? dlsym(h, "deleted_marker") : NULL;
		if (write(fds[1], &f, sizeof(f)) != sizeof(f))
			_exit(98);
		sleep_forever();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &f, sizeof(f)), sizeof(f));
	close(fds[0]);
	ck_assert_ptr_nonnull(f);
	*addr = addr_of(f);
}

START_TEST(test_deleted_object)
{
	struct elf_sym_result r;
	char lib[128];
	uint64_t addr;

	compile(lib_src, "-shared -fPIC -O1", "libdeleted.so");
	snprintf(lib, sizeof(lib), "%s/libdeleted.so", dir);
	start_dlopener(lib, &addr);
	ck_assert_int_eq(unlink(lib), 0);
	ck_assert_uint_eq(lookup("deleted_marker", &r), addr);
	ck_assert_ptr_nonnull(strstr(r.object, "(deleted)"));
	ck_assert_int_eq(elf_sym_addr(child, addr + 1, &r), 0);
	ck_assert_str_eq(r.name, "deleted_marker");
	ck_assert_uint_eq(r.offset, 1);
}
END_TEST

START_TEST(test_not_found)
{
	struct elf_sym_result r;

	start_sleeper();
	log_init("check_elf", -1);
	errno = 0;
	ck_assert_int_eq(elf_sym_lookup(child, "no_such_symbol_xyz", &r), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* page 0 is in no object */
	errno = 0;
	ck_assert_int_eq(elf_sym_addr(child, 16, &r), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_no_process)
{
	struct elf_sym_result r;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	log_init("check_elf", -1);
	errno = 0;
	ck_assert_int_eq(elf_sym_lookup(pid, "nanosleep", &r), -1);
	ck_assert_msg(errno == ESRCH || errno == ENOENT, "errno %d", errno);
	ck_assert_int_eq(elf_sym_addr(pid, 0x1000, &r), -1);
	ck_assert_msg(errno == ESRCH || errno == ENOENT, "errno %d", errno);
}
END_TEST

/* The object level alone, as an image-based user would use it. */
START_TEST(test_object_level)
{
	static const char junk[64] = "not an ELF object";
	struct elf_sym_result r;
	struct elf_obj *o;
	uint64_t bias;
	int fd;

	errno = 0;
	ck_assert_ptr_null(elf_obj_open_mem(junk, sizeof(junk)));
	ck_assert_int_eq(errno, ENOEXEC);
	fd = open("/proc/self/exe", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	o = elf_obj_open_fd(fd);
	close(fd);
	ck_assert_ptr_nonnull(o);
	/* bias 0: the link-time value */
	ck_assert_int_eq(elf_obj_lookup(o, 0, "elftest_marker", NULL, &r), 0);
	bias = addr_of(elftest_marker) - r.addr;
	ck_assert_int_eq(elf_obj_lookup(o, bias, "elftest_marker", NULL, &r),
			 0);
	ck_assert_uint_eq(r.addr, addr_of(elftest_marker));
	ck_assert_int_eq(elf_obj_addr(o, bias, r.addr + 2, &r), 0);
	ck_assert_str_eq(r.name, "elftest_marker");
	ck_assert_uint_eq(r.offset, 2);
	errno = 0;
	ck_assert_int_eq(elf_obj_lookup(o, bias, "nope_xyz", NULL, &r), -1);
	ck_assert_int_eq(errno, ENOENT);
	elf_obj_close(o);
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *live = unit_tcase(s, "live", 30);
	/* cc -static takes seconds on a loaded machine */
	TCase *built = unit_tcase(s, "built", 120);
	TCase *obj = unit_tcase(s, "object", 30);
	TCase *all[] = { live, built, obj };
	size_t i;

	tcase_add_test(live, test_dynamic_libc);
	tcase_add_test(live, test_versions);
	tcase_add_test(live, test_reverse);
	tcase_add_test(live, test_ifunc);
	tcase_add_test(live, test_main_program);
	tcase_add_test(live, test_vdso);
	tcase_add_test(live, test_not_found);
	tcase_add_test(live, test_no_process);
	tcase_add_test(built, test_static_exe);
	tcase_add_test(built, test_deleted_object);
	tcase_add_test(obj, test_object_level);
	for (i = 0; i < ARRAY_SIZE(all); i++)
		tcase_add_checked_fixture(all[i], setup, teardown);
	return s;
}

CHECK_MAIN(elf_suite)
