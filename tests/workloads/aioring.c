/*
 * aioring.c - AIO contexts (io_setup) with nothing in flight.
 *
 * Three contexts are made, the middle one destroyed again (the kernel
 * finds a context by its slot, which the ring's header names: the slots
 * must come back as they were). On a, a write and a read of D/aiofile are
 * done and reaped, then a read of 50 bytes at 100 (data 0xabc) completes
 * and is left in the ring, not reaped. On b (a bigger ring), 37 reads are
 * done and reaped: its head and tail are 37 into the ring, which is
 * then made read-only (the kernel writes it through a mapping of its
 * own). A thread
 * makes a context of its own, c (in the slot freed, a free slot left
 * after b), reads 10 bytes at 300 (data 0xc0ffee) on it, not reaped,
 * and sleeps on.
 *
 * Checked once (after restore, or at D/stop without one): a's ring holds
 * the one event, which io_getevents returns exactly (its data, obj and
 * result, the bytes read), and so does c's; b's ring is read-only; then
 * new reads on all three
 * contexts, by their same ids, complete and are reaped; all are
 * destroyed.
 *
 * With "inflight" b also has a poll of a pipe that nobody writes: a
 * request in flight, which ckpt must refuse, naming the context.
 */
#include <linux/aio_abi.h>
#include <sys/mman.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "workload.h"

#define A_DATA	0xabcULL
#define B_DONE	37
#define C_DATA	0xc0ffeeULL

static aio_context_t a, b, c;
static struct iocb left, c_left;	/* the events left in a's, c's ring */
static char left_buf[50], c_buf[10];
static atomic_int c_made, the_end;
static unsigned char file[4096];
static int fd;

static void prep(struct iocb *cb, int op, void *buf, size_t len, off_t off,
		 uint64_t data)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = op;
	cb->aio_fildes = fd;
	cb->aio_buf = (uint64_t)(uintptr_t)buf;
	cb->aio_nbytes = len;
	cb->aio_offset = off;
	cb->aio_data = data;
}

/* cb submitted on ctx; with wait its event reaped and checked */
static void submit(aio_context_t ctx, struct iocb *cb, int wait, long res)
{
	struct timespec ts = { 30, 0 };
	struct io_event ev;
	struct iocb *l[1] = { cb };

	if (syscall(SYS_io_submit, ctx, 1, l) != 1)
		wl_fail("io_submit on %#lx: %s", (unsigned long)ctx,
			strerror(errno));
	if (!wait)
		return;
	if (syscall(SYS_io_getevents, ctx, 1, 1, &ev, &ts) != 1)
		wl_fail("io_getevents on %#lx: %s", (unsigned long)ctx,
			strerror(errno));
	if (ev.data != cb->aio_data || ev.obj != (uint64_t)(uintptr_t)cb ||
	    ev.res != res)
		wl_fail("event on %#lx: data %llx obj %llx res %lld, want %llx %p %ld",
			(unsigned long)ctx, (unsigned long long)ev.data,
			(unsigned long long)ev.obj, (long long)ev.res,
			(unsigned long long)cb->aio_data, (void *)cb, res);
}

/* The one event left in ctx's ring: cb's, of len bytes, which read
 * file's bytes at off. */
static void check_left(aio_context_t ctx, const struct iocb *cb, size_t len)
{
	struct timespec zero = { 0, 0 };
	struct io_event ev[2];
	long n;

	n = syscall(SYS_io_getevents, ctx, 0, 2, ev, &zero);
	if (n != 1)
		wl_fail("io_getevents on %#lx: %ld events (%s), want the one left",
			(unsigned long)ctx, n, n < 0 ? strerror(errno) : "-");
	if (ev[0].data != cb->aio_data ||
	    ev[0].obj != (uint64_t)(uintptr_t)cb ||
	    ev[0].res != (int64_t)len || ev[0].res2)
		wl_fail("the event left on %#lx: data %llx obj %llx res %lld %lld",
			(unsigned long)ctx, (unsigned long long)ev[0].data,
			(unsigned long long)ev[0].obj, (long long)ev[0].res,
			(long long)ev[0].res2);
	if (memcmp((void *)(uintptr_t)cb->aio_buf, file + cb->aio_offset, len))
		wl_fail("the read left on %#lx read wrong bytes",
			(unsigned long)ctx);
}

/* the ring's header: u32 id nr head tail (fs/aio.c: struct aio_ring) */
static const volatile unsigned *ring(aio_context_t ctx)
{
	return (const volatile unsigned *)ctx;
}

/* the thread's context, made while the main one waits */
static void *thread_main(void *arg)
{
	aio_context_t gap = 0;

	(void)arg;
	if (syscall(SYS_io_setup, 4, &gap) || syscall(SYS_io_setup, 16, &c) ||
	    syscall(SYS_io_destroy, gap))
		wl_fail("io_setup in the thread: %s", strerror(errno));
	prep(&c_left, IOCB_CMD_PREAD, c_buf, sizeof(c_buf), 300, C_DATA);
	submit(c, &c_left, 0, 0);
	atomic_store(&c_made, 1);
	while (!atomic_load(&the_end))
		wl_sleep_ms(20);
	return NULL;
}

static void setup(int inflight)
{
	static struct iocb cb, poll_cb;
	static char buf[64];
	aio_context_t gap = 0;
	char p[PATH_MAX];
	size_t i;
	int k, pfd[2];
	pthread_t th;

	for (i = 0; i < sizeof(file); i++)
		file[i] = i * 7 + 3;
	fd = open(wl_path(p, "aiofile"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	if (syscall(SYS_io_setup, 8, &a) || syscall(SYS_io_setup, 4, &gap) ||
	    syscall(SYS_io_setup, 200, &b) || syscall(SYS_io_destroy, gap))
		wl_fail("io_setup: %s", strerror(errno));
	prep(&cb, IOCB_CMD_PWRITE, file, sizeof(file), 0, 1);
	submit(a, &cb, 1, sizeof(file));
	prep(&cb, IOCB_CMD_PREAD, buf, sizeof(buf), 64, 2);
	submit(a, &cb, 1, sizeof(buf));
	if (memcmp(buf, file + 64, sizeof(buf)))
		wl_fail("the first read read wrong bytes");
	prep(&left, IOCB_CMD_PREAD, left_buf, sizeof(left_buf), 100, A_DATA);
	submit(a, &left, 0, 0);
	/* a read of a regular file is done within io_submit */
	if (ring(a)[3] - ring(a)[2] != 1)
		wl_fail("a's ring: head %u tail %u, want one event",
			ring(a)[2], ring(a)[3]);
	if (pthread_create(&th, NULL, thread_main, NULL))
		wl_fail("pthread_create failed");
	while (!atomic_load(&c_made))
		wl_sleep_ms(1);
	for (k = 0; k < B_DONE; k++) {
		prep(&cb, IOCB_CMD_PREAD, buf, 8, k, 100 + k);
		submit(b, &cb, 1, 8);
	}
	if (mprotect((void *)b, ((ring(b)[1] + 1) * 32 + 4095) & ~4095UL,
		     PROT_READ))
		wl_fail("mprotect of b's ring: %s", strerror(errno));
	if (!inflight)
		return;
	if (pipe(pfd))
		wl_fail("pipe: %s", strerror(errno));
	prep(&poll_cb, IOCB_CMD_POLL, NULL, 0, 0, 7);
	poll_cb.aio_fildes = pfd[0];
	poll_cb.aio_buf = POLLIN;
	submit(b, &poll_cb, 0, 0);
}

/* The protection of the mapping at addr, as /proc/self/maps shows it. */
static void check_prot(unsigned long addr, const char *want)
{
	char line[512], prot[8];
	unsigned long start;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		wl_fail("open /proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%*x %7s", &start, prot) == 2 &&
		    start == addr) {
			fclose(f);
			if (strcmp(prot, want))
				wl_fail("the ring at %#lx is %s, want %s",
					addr, prot, want);
			return;
		}
	wl_fail("no mapping at %#lx", addr);
}

static void check(void)
{
	struct iocb cb;
	char buf[16];

	if (ring(b)[2] != B_DONE || ring(b)[3] != B_DONE)
		wl_fail("b's ring: head %u tail %u, want %u", ring(b)[2],
			ring(b)[3], B_DONE);
	check_prot(b, "r--s");
	check_prot(a, "rw-s");
	check_left(a, &left, sizeof(left_buf));
	check_left(c, &c_left, sizeof(c_buf));
	prep(&cb, IOCB_CMD_PREAD, buf, sizeof(buf), 1000, 11);
	submit(a, &cb, 1, sizeof(buf));
	prep(&cb, IOCB_CMD_PREAD, buf, sizeof(buf), 3000, 13);
	submit(c, &cb, 1, sizeof(buf));
	prep(&cb, IOCB_CMD_PREAD, buf, sizeof(buf), 2000, 12);
	submit(b, &cb, 1, sizeof(buf));
	if (memcmp(buf, file + 2000, sizeof(buf)))
		wl_fail("a read after restore read wrong bytes");
	if (syscall(SYS_io_destroy, a) || syscall(SYS_io_destroy, b) ||
	    syscall(SYS_io_destroy, c))
		wl_fail("io_destroy: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	wl_init();
	setup(argc > 1 && !strcmp(argv[1], "inflight"));
	wl_count_checked(check);
	atomic_store(&the_end, 1);
	return 0;
}
