/*
 * fpu.c - register state in flight: vector, x87, general, TLS, vdso.
 *
 * The main thread enters one asm block that loads distinct patterns into
 * the vector registers (zmm0-31 and k1-7 with AVX-512F, else ymm0-15 with
 * AVX, else xmm0-15), eight x87 registers and r12-r15, then loops: a burst
 * of `pause` in user mode, then a 1 ms nanosleep syscall (the syscall
 * preserves everything but rax, rcx, r11), until a flag in memory is set;
 * then it stores all those registers and C code compares them.  So at dump
 * time main is either running user code or sleeping in a syscall, with
 * live values in every register the restorer must bring back.
 *
 * A helper thread appends to D/count and computes a long double and a
 * double series with rounding mode FE_TOWARDZERO (results compared bit for
 * bit with the first pass).  When D/restored appears it snapshots main's
 * loop counter; after D/stop it waits (bounded) for main to loop again,
 * then sets the flag.  Both threads check their x87 control word, MXCSR,
 * a __thread variable and ARCH_GET_FS.  Main then checks the vdso clocks:
 * CLOCK_MONOTONIC has not gone back since before ready and agrees with
 * the raw system call, CLOCK_REALTIME, gettimeofday and time() work.
 */
#include <sys/syscall.h>
#include <sys/time.h>
#include <asm/prctl.h>
#include <fenv.h>
#include <pthread.h>
#include <stddef.h>

#include "workload.h"

struct fpctx {
	uint8_t vin[2048];
	uint8_t vout[2048];
	long double xin[8];
	long double xout[8];
	uint64_t gin[4];
	uint64_t gout[4];
	uint16_t kin[8];
	uint16_t kout[8];
	int flag;
	unsigned long spins;
	struct timespec ts;
} __attribute__((aligned(64)));

static struct fpctx ctx;
static __thread uint64_t tls_magic;

#define O(f)	[o_##f] "i"(offsetof(struct fpctx, f))
#define OFFS	O(vin), O(vout), O(xin), O(xout), O(gin), O(gout), O(kin), \
		O(kout), O(flag), O(spins), O(ts)

#define LOAD_GX							\
	"fldt %c[o_xin]+0(%[c])\n\t"				\
	"fldt %c[o_xin]+16(%[c])\n\t"				\
	"fldt %c[o_xin]+32(%[c])\n\t"				\
	"fldt %c[o_xin]+48(%[c])\n\t"				\
	"fldt %c[o_xin]+64(%[c])\n\t"				\
	"fldt %c[o_xin]+80(%[c])\n\t"				\
	"fldt %c[o_xin]+96(%[c])\n\t"				\
	"fldt %c[o_xin]+112(%[c])\n\t"				\
	"mov %c[o_gin]+0(%[c]), %%r12\n\t"			\
	"mov %c[o_gin]+8(%[c]), %%r13\n\t"			\
	"mov %c[o_gin]+16(%[c]), %%r14\n\t"			\
	"mov %c[o_gin]+24(%[c]), %%r15\n\t"

/* 20000 pauses, then nanosleep(ctx.ts), until ctx.flag != 0 */
#define SPIN								\
	"1: mov $20000, %%edx\n\t"					\
	"2: pause\n\t"							\
	"dec %%edx\n\t"							\
	"jnz 2b\n\t"							\
	"incq %c[o_spins](%[c])\n\t"					\
	"cmpl $0, %c[o_flag](%[c])\n\t"					\
	"jne 3f\n\t"							\
	"mov $" XSTR(SYS_nanosleep) ", %%eax\n\t"			\
	"lea %c[o_ts](%[c]), %%rdi\n\t"					\
	"xor %%esi, %%esi\n\t"						\
	"syscall\n\t"							\
	"jmp 1b\n"							\
	"3:\n\t"

#define STORE_GX						\
	"fstpt %c[o_xout]+112(%[c])\n\t"			\
	"fstpt %c[o_xout]+96(%[c])\n\t"				\
	"fstpt %c[o_xout]+80(%[c])\n\t"				\
	"fstpt %c[o_xout]+64(%[c])\n\t"				\
	"fstpt %c[o_xout]+48(%[c])\n\t"				\
	"fstpt %c[o_xout]+32(%[c])\n\t"				\
	"fstpt %c[o_xout]+16(%[c])\n\t"				\
	"fstpt %c[o_xout]+0(%[c])\n\t"				\
	"mov %%r12, %c[o_gout]+0(%[c])\n\t"			\
	"mov %%r13, %c[o_gout]+8(%[c])\n\t"			\
	"mov %%r14, %c[o_gout]+16(%[c])\n\t"			\
	"mov %%r15, %c[o_gout]+24(%[c])\n\t"

#define STR(x)	#x
#define XSTR(x)	STR(x)

#define CLOB_COMMON "memory", "cc", "rax", "rcx", "rdx", "rsi", "rdi", \
	"r11", "r12", "r13", "r14", "r15", "st", "st(1)", "st(2)", "st(3)", \
	"st(4)", "st(5)", "st(6)", "st(7)"
#define CLOB_X0_15 "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", \
	"xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", \
	"xmm15"
#define CLOB_X16_31 "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", \
	"xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", \
	"xmm29", "xmm30", "xmm31"

/* load/store 16 vector registers REG<B>..REG<B+15> at A + i * W */
#define VL(op, reg, n, i, w, a)						\
	op " " a #i "*" #w "(%[c]), %%" reg #n "\n\t"
#define VS(op, reg, n, i, w, a)						\
	op " %%" reg #n ", " a #i "*" #w "(%[c])\n\t"
#define V16(m, op, reg, w, a, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9,	\
	    b10, b11, b12, b13, b14, b15)				\
	m(op, reg, b0, 0, w, a) m(op, reg, b1, 1, w, a)			\
	m(op, reg, b2, 2, w, a) m(op, reg, b3, 3, w, a)			\
	m(op, reg, b4, 4, w, a) m(op, reg, b5, 5, w, a)			\
	m(op, reg, b6, 6, w, a) m(op, reg, b7, 7, w, a)			\
	m(op, reg, b8, 8, w, a) m(op, reg, b9, 9, w, a)			\
	m(op, reg, b10, 10, w, a) m(op, reg, b11, 11, w, a)		\
	m(op, reg, b12, 12, w, a) m(op, reg, b13, 13, w, a)		\
	m(op, reg, b14, 14, w, a) m(op, reg, b15, 15, w, a)
#define LO16	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
#define HI16	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, \
		30, 31
#define LOADV(op, reg, w, a, regs)	V16_(VL, op, reg, w, a, regs)
#define STOREV(op, reg, w, a, regs)	V16_(VS, op, reg, w, a, regs)
#define V16_(...)			V16(__VA_ARGS__)

static void spin_sse(void)
{
	asm volatile(LOADV("movdqu", "xmm", 16, "%c[o_vin]+", LO16)
		     LOAD_GX SPIN STORE_GX
		     STOREV("movdqu", "xmm", 16, "%c[o_vout]+", LO16)
		     : : [c] "b"(&ctx), OFFS
		     : CLOB_COMMON, CLOB_X0_15);
}

__attribute__((target("avx")))
static void spin_avx(void)
{
	asm volatile(LOADV("vmovdqu", "ymm", 32, "%c[o_vin]+", LO16)
		     LOAD_GX SPIN STORE_GX
		     STOREV("vmovdqu", "ymm", 32, "%c[o_vout]+", LO16)
		     "vzeroupper\n\t"
		     : : [c] "b"(&ctx), OFFS
		     : CLOB_COMMON, CLOB_X0_15);
}

__attribute__((target("avx512f")))
static void spin_avx512(void)
{
	asm volatile(LOADV("vmovdqu64", "zmm", 64, "%c[o_vin]+", LO16)
		     LOADV("vmovdqu64", "zmm", 64, "%c[o_vin]+1024+", HI16)
		     "kmovw %c[o_kin]+2(%[c]), %%k1\n\t"
		     "kmovw %c[o_kin]+4(%[c]), %%k2\n\t"
		     "kmovw %c[o_kin]+6(%[c]), %%k3\n\t"
		     "kmovw %c[o_kin]+8(%[c]), %%k4\n\t"
		     "kmovw %c[o_kin]+10(%[c]), %%k5\n\t"
		     "kmovw %c[o_kin]+12(%[c]), %%k6\n\t"
		     "kmovw %c[o_kin]+14(%[c]), %%k7\n\t"
		     LOAD_GX SPIN STORE_GX
		     STOREV("vmovdqu64", "zmm", 64, "%c[o_vout]+", LO16)
		     STOREV("vmovdqu64", "zmm", 64, "%c[o_vout]+1024+", HI16)
		     "kmovw %%k1, %c[o_kout]+2(%[c])\n\t"
		     "kmovw %%k2, %c[o_kout]+4(%[c])\n\t"
		     "kmovw %%k3, %c[o_kout]+6(%[c])\n\t"
		     "kmovw %%k4, %c[o_kout]+8(%[c])\n\t"
		     "kmovw %%k5, %c[o_kout]+10(%[c])\n\t"
		     "kmovw %%k6, %c[o_kout]+12(%[c])\n\t"
		     "kmovw %%k7, %c[o_kout]+14(%[c])\n\t"
		     "vzeroupper\n\t"
		     : : [c] "b"(&ctx), OFFS
		     : CLOB_COMMON, CLOB_X0_15, CLOB_X16_31, "k1", "k2", "k3",
		       "k4", "k5", "k6", "k7");
}

struct fpenv {
	uint16_t fcw;
	uint32_t mxcsr;
	uint64_t fsbase;
	void *tls_addr;
};

static void get_fpenv(struct fpenv *e)
{
	asm volatile("fnstcw %0" : "=m"(e->fcw));
	asm volatile("stmxcsr %0" : "=m"(e->mxcsr));
	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &e->fsbase))
		wl_fail("arch_prctl(ARCH_GET_FS): %s", strerror(errno));
	e->tls_addr = &tls_magic;
}

static void check_fpenv(const char *who, const struct fpenv *was,
			uint64_t magic)
{
	struct fpenv now;

	get_fpenv(&now);
	if (now.fcw != was->fcw)
		wl_fail("%s: x87 control word %#x, was %#x", who, now.fcw,
			was->fcw);
	/* bits 0-5 are sticky exception flags the series sets */
	if ((now.mxcsr & ~0x3fu) != (was->mxcsr & ~0x3fu))
		wl_fail("%s: MXCSR %#x, was %#x", who, now.mxcsr, was->mxcsr);
	if (fegetround() != FE_TOWARDZERO)
		wl_fail("%s: rounding mode %d, want FE_TOWARDZERO", who,
			fegetround());
	if (now.fsbase != was->fsbase)
		wl_fail("%s: FS base %#llx, was %#llx", who,
			(unsigned long long)now.fsbase,
			(unsigned long long)was->fsbase);
	if (now.tls_addr != was->tls_addr || tls_magic != magic)
		wl_fail("%s: __thread variable at %p = %#llx, was at %p = %#llx",
			who, now.tls_addr, (unsigned long long)tls_magic,
			was->tls_addr, (unsigned long long)magic);
}

/* Sums computed in the helper thread; `volatile` keeps them in memory. */
static void series(volatile long double *ld, volatile double *d)
{
	long double s = 0;
	double t = 0;
	int k;

	for (k = 1; k <= 20000; k++) {
		s += 1.0L / ((long double)k * k);
		t += __builtin_sqrt((double)k) / (k + 0.5);
	}
	*ld = s;
	*d = t;
}

static int main_looped(void *arg)
{
	return __atomic_load_n(&ctx.spins, __ATOMIC_RELAXED) >
	       *(unsigned long *)arg;
}

static void *helper(void *arg)
{
	volatile long double ld0, ld;
	volatile double d0, d;
	unsigned long n = 0, snap = 0;
	struct fpenv env;
	int fd, have_snap = 0;

	fesetround(FE_TOWARDZERO);
	tls_magic = 0x1111222233334444ULL;
	get_fpenv(&env);
	series(&ld0, &d0);
	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		series(&ld, &d);
		if (memcmp((void *)&ld, (void *)&ld0, 10) ||
		    memcmp((void *)&d, (void *)&d0, 8))
			wl_fail("series: %.25Lg %.17g, was %.25Lg %.17g", ld, d,
				ld0, d0);
		if (n == 5)
			wl_ready();
		if (n > 5 && !have_snap && wl_restored()) {
			snap = __atomic_load_n(&ctx.spins, __ATOMIC_RELAXED);
			have_snap = 1;
		}
		if (n > 5 && wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	if (!have_snap)
		wl_fail("D/stop appeared before D/restored");
	if (!wl_wait(main_looped, &snap, 30))
		wl_fail("main thread did not loop after restore in 30 s");
	check_fpenv("helper", &env, 0x1111222233334444ULL);
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	__atomic_store_n(&ctx.flag, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void fill_patterns(void)
{
	uint64_t s = 0xf00dfacecafebeefULL;
	int i;

	wl_fill(ctx.vin, sizeof(ctx.vin), 0xabcdef0123456789ULL);
	memset(ctx.vout, 0, sizeof(ctx.vout));
	for (i = 0; i < 8; i++)
		ctx.xin[i] = (long double)wl_xorshift64(&s) /
			     ((long double)i + 3.0L) * (i & 1 ? -1 : 1);
	memset(ctx.xout, 0, sizeof(ctx.xout));
	for (i = 0; i < 4; i++)
		ctx.gin[i] = wl_xorshift64(&s);
	for (i = 1; i < 8; i++)
		ctx.kin[i] = (uint16_t)wl_xorshift64(&s);
	ctx.ts.tv_nsec = 1000000;
}

static void check_clocks(uint64_t mono0)
{
	uint64_t a, v, b, v2;
	struct timeval tv;
	struct timespec ts;
	time_t t;

	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts))
		wl_fail("clock_gettime syscall: %s", strerror(errno));
	a = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	v = wl_now_ns(CLOCK_MONOTONIC);		/* through the vdso */
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	b = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (v < mono0)
		wl_fail("CLOCK_MONOTONIC went back: %llu < %llu before dump",
			(unsigned long long)v, (unsigned long long)mono0);
	if (v < a || v > b)
		wl_fail("vdso CLOCK_MONOTONIC %llu not between syscall values "
			"%llu and %llu", (unsigned long long)v,
			(unsigned long long)a, (unsigned long long)b);
	wl_sleep_ms(20);
	v2 = wl_now_ns(CLOCK_MONOTONIC);
	if (v2 <= v)
		wl_fail("vdso CLOCK_MONOTONIC does not advance");
	/* 1600000000 is September 2020: any sane clock is past it */
	if (wl_now_ns(CLOCK_REALTIME) < 1600000000ULL * 1000000000ULL)
		wl_fail("CLOCK_REALTIME is in the past");
	if (gettimeofday(&tv, NULL) || tv.tv_sec < 1600000000)
		wl_fail("gettimeofday is broken");
	t = time(NULL);
	if (t < 1600000000)
		wl_fail("time() is broken");
}

static void compare_regs(int kind)
{
	static const char *const vname[] = { "xmm", "ymm", "zmm" };
	int w = kind == 2 ? 64 : kind == 1 ? 32 : 16;
	int nreg = kind == 2 ? 32 : 16, i;

	for (i = 0; i < nreg; i++)
		if (memcmp(ctx.vin + i * w, ctx.vout + i * w, w))
			wl_fail("%s%d differs after restore", vname[kind], i);
	for (i = 0; i < 8; i++)
		if (memcmp(&ctx.xin[i], &ctx.xout[i], 10))
			wl_fail("x87 register st(%d) differs: %Lg, want %Lg",
				7 - i, ctx.xout[i], ctx.xin[i]);
	for (i = 0; i < 4; i++)
		if (ctx.gin[i] != ctx.gout[i])
			wl_fail("r%d differs after restore", 12 + i);
	if (kind == 2)
		for (i = 1; i < 8; i++)
			if (ctx.kin[i] != ctx.kout[i])
				wl_fail("k%d is %#x, want %#x", i,
					ctx.kout[i], ctx.kin[i]);
}

int main(void)
{
	struct fpenv env;
	pthread_t th;
	uint64_t mono0;
	int kind, err;

	wl_init();
	__builtin_cpu_init();
	kind = __builtin_cpu_supports("avx512f") ? 2 :
	       __builtin_cpu_supports("avx") ? 1 : 0;
	wl_info("fpu: using %s", kind == 2 ? "zmm0-31 k1-7" :
		kind == 1 ? "ymm0-15" : "xmm0-15");
	fill_patterns();
	fesetround(FE_TOWARDZERO);
	tls_magic = 0x5555666677778888ULL;
	get_fpenv(&env);
	mono0 = wl_now_ns(CLOCK_MONOTONIC);

	err = pthread_create(&th, NULL, helper, NULL);
	if (err)
		wl_fail("pthread_create: %s", strerror(err));
	if (kind == 2)
		spin_avx512();
	else if (kind == 1)
		spin_avx();
	else
		spin_sse();
	pthread_join(th, NULL);

	compare_regs(kind);
	check_fpenv("main", &env, 0x5555666677778888ULL);
	check_clocks(mono0);
	return 0;
}
