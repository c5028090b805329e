/*
 * ckpt-cc: the compiler driver behind `ckpt cc -o PROG SOURCE...`.
 *
 * For x86_64 and for aarch64 it compiles the sources to bitcode with
 * clang (-O0, frame pointers, no PIC, no stack protector: see
 * ckpt-cc(1) for why), links them into one module, runs the landmark
 * pass, and compiles that to an object. The two objects' sections are
 * then laid out together (layout.c) so that every function and global has
 * one address in both executables, which are linked -static with the
 * runtime (cc/rt.c). meta.c writes PROG.xisa from the two executables.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Linker.h>

#include "cc/cc-priv.h"

static const char *const triple[CC_NR_ISA] = {
	"x86_64-linux-gnu", "aarch64-linux-gnu",
};
static const char *const isa_name[CC_NR_ISA] = { "x86_64", "aarch64" };
static const char *const linker[CC_NR_ISA] = {
	"gcc", "aarch64-linux-gnu-gcc",
};

struct job {
	const char *out;
	int nsrc;
	char **src;
	int nflags;
	char **flags;		/* given to clang as they are (-I, -D, ...) */
	int nlibs;
	char **libs;		/* -l and -L, given to the linker */
	char tmp[64];
	char rtdir[PATH_MAX];
	struct cc_module mod[CC_NR_ISA];
};

static int run(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		execvp(argv[0], argv);
		fprintf(stderr, "ckpt cc: can't run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	fprintf(stderr, "ckpt cc: %s failed\n", argv[0]);
	return -1;
}

/* A file of the temporary directory: PREFIX.ISA[.N]SUFFIX */
static char *path(const struct job *j, const char *prefix, int isa, int n,
		  const char *suffix)
{
	char *p;

	if (asprintf(&p, "%s/%s.%s.%d%s", j->tmp, prefix, isa_name[isa], n,
		     suffix) < 0)
		exit(1);
	return p;
}

static int to_bitcode(struct job *j, int isa, int n, const char *bc)
{
	char tgt[64];
	char **argv = calloc(32 + j->nflags, sizeof(char *));
	int k = 0, i, ret;

	snprintf(tgt, sizeof(tgt), "--target=%s", triple[isa]);
	argv[k++] = "clang";
	argv[k++] = tgt;
	argv[k++] = "-O0";
	argv[k++] = "-fno-pic";
	argv[k++] = "-fno-pie";
	argv[k++] = "-fno-omit-frame-pointer";
	argv[k++] = "-fno-stack-protector";
	argv[k++] = "-fno-common";
	argv[k++] = "-ffp-contract=off";	/* no FMA on one ISA only */
	/* a leaf's frame below the x86_64 stack pointer would not be one
	 * when a translated stack is resumed: sp is set from its size */
	if (isa == CC_X86_64)
		argv[k++] = "-mno-red-zone";
	argv[k++] = "-emit-llvm";
	argv[k++] = "-c";
	for (i = 0; i < j->nflags; i++)
		argv[k++] = j->flags[i];
	argv[k++] = j->src[n];
	argv[k++] = "-o";
	argv[k++] = (char *)bc;
	argv[k] = NULL;
	ret = run(argv);
	free(argv);
	return ret;
}

static LLVMModuleRef load(LLVMContextRef ctx, const char *bc)
{
	LLVMMemoryBufferRef buf;
	LLVMModuleRef m = NULL;
	char *msg = NULL;

	if (LLVMCreateMemoryBufferWithContentsOfFile(bc, &buf, &msg)) {
		fprintf(stderr, "ckpt cc: %s: %s\n", bc, msg);
		LLVMDisposeMessage(msg);
		return NULL;
	}
	if (LLVMParseBitcodeInContext2(ctx, buf, &m))
		fprintf(stderr, "ckpt cc: %s: not bitcode\n", bc);
	LLVMDisposeMemoryBuffer(buf);
	return m;
}

/* Sources to one module with landmarks, compiled to an object. */
static int build_object(struct job *j, int isa, const char *obj)
{
	LLVMContextRef ctx = LLVMContextCreate();
	LLVMModuleRef mod = NULL, m;
	char tgt[64], *bc, *all = path(j, "all", isa, 0, ".bc");
	int n, ret = -1;

	for (n = 0; n < j->nsrc; n++) {
		bc = path(j, "src", isa, n, ".bc");
		if (to_bitcode(j, isa, n, bc) || !(m = load(ctx, bc))) {
			free(bc);
			goto out;
		}
		unlink(bc);
		free(bc);
		if (!mod)
			mod = m;
		else if (LLVMLinkModules2(mod, m))
			goto out;
	}
	if (cc_landmarks(mod, &j->mod[isa]))
		goto out;
	if (LLVMWriteBitcodeToFile(mod, all))
		goto out;
	snprintf(tgt, sizeof(tgt), "--target=%s", triple[isa]);
	ret = run((char *[]){ "clang", tgt, "-O0", "-fno-pic", "-c", all,
			      "-o", (char *)obj, NULL });
	if (!getenv("CKPT_CC_KEEP"))
		unlink(all);
out:
	if (mod)
		LLVMDisposeModule(mod);
	LLVMContextDispose(ctx);
	free(all);
	return ret;
}

static int link_exe(struct job *j, int isa, const char *obj,
		    const char *script, const char *exe)
{
	char rt[PATH_MAX + 32], ld[PATH_MAX + 8];
	char **argv = calloc(16 + j->nlibs, sizeof(char *));
	int k = 0, i, ret;

	snprintf(rt, sizeof(rt), "%s/rt.%s.o", j->rtdir, isa_name[isa]);
	snprintf(ld, sizeof(ld), "-Wl,-T,%s", script);
	argv[k++] = (char *)linker[isa];
	argv[k++] = "-static";
	argv[k++] = "-no-pie";
	argv[k++] = "-Wl,--build-id=sha1";	/* checked by translate */
	argv[k++] = "-o";
	argv[k++] = (char *)exe;
	argv[k++] = (char *)obj;
	argv[k++] = rt;
	argv[k++] = ld;
	for (i = 0; i < j->nlibs; i++)
		argv[k++] = j->libs[i];
	argv[k++] = "-lm";	/* the math of clang's builtins */
	argv[k] = NULL;
	ret = run(argv);
	free(argv);
	return ret;
}

/* The runtime objects lie in ../lib/ckpt-cc beside this program. */
static int find_rt(struct job *j)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n < 0)
		return -1;
	self[n] = 0;
	slash = strrchr(self, '/');
	*slash = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	if (strlen(self) + 16 > sizeof(j->rtdir))
		return -1;
	strcpy(j->rtdir, self);
	strcat(j->rtdir, "/lib/ckpt-cc");
	if (getenv("CKPT_CC_RT"))
		snprintf(j->rtdir, sizeof(j->rtdir), "%s",
			 getenv("CKPT_CC_RT"));
	return 0;
}

static int build(struct job *j)
{
	char *obj[CC_NR_ISA], *exe[CC_NR_ISA], *meta, *script;
	int isa, ret = -1;

	script = path(j, "layout", 0, 0, ".ld");
	for (isa = 0; isa < CC_NR_ISA; isa++) {
		obj[isa] = path(j, "prog", isa, 0, ".o");
		if (asprintf(&exe[isa], "%s.%s", j->out, isa_name[isa]) < 0)
			exit(1);
	}
	if (asprintf(&meta, "%s.xisa", j->out) < 0)
		exit(1);
	for (isa = 0; isa < CC_NR_ISA; isa++)
		if (build_object(j, isa, obj[isa]))
			goto out;
	if (cc_layout((const char *const *)obj, script))
		goto out;
	for (isa = 0; isa < CC_NR_ISA; isa++)
		if (link_exe(j, isa, obj[isa], script, exe[isa]))
			goto out;
	ret = cc_meta((const char *const *)exe, j->mod, meta);
out:
	for (isa = 0; isa < CC_NR_ISA; isa++) {
		unlink(obj[isa]);
		free(obj[isa]);
		free(exe[isa]);
	}
	if (!getenv("CKPT_CC_KEEP"))
		unlink(script);
	free(script);
	free(meta);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: ckpt cc -o PROG [CFLAGS...] SOURCE.c...\n");
	exit(64);
}

int main(int argc, char **argv)
{
	struct job j = { 0 };
	int i, ret;

	j.src = calloc(argc, sizeof(char *));
	j.flags = calloc(argc, sizeof(char *));
	j.libs = calloc(argc, sizeof(char *));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			j.out = argv[++i];
		else if (!strncmp(argv[i], "-l", 2) ||
			 !strncmp(argv[i], "-L", 2))
			j.libs[j.nlibs++] = argv[i];
		else if (argv[i][0] == '-')
			j.flags[j.nflags++] = argv[i];
		else
			j.src[j.nsrc++] = argv[i];
	}
	if (!j.out || !j.nsrc)
		usage();
	if (find_rt(&j))
		return 1;
	snprintf(j.tmp, sizeof(j.tmp), "/tmp/ckpt-cc.XXXXXX");
	if (!mkdtemp(j.tmp)) {
		perror("ckpt cc: mkdtemp");
		return 1;
	}
	ret = build(&j);
	rmdir(j.tmp);
	return ret ? 1 : 0;
}
