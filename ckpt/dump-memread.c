/*
 * Reading and writing a run of pages at once (issue 13 §1): a second
 * thread reads the next chunk from the target (process_vm_readv, the
 * first copy) while the dump's thread checksums and writes the last one
 * to the image (the second copy), so that on two CPUs the two copies
 * overlap. Two buffers of DUMP_MEM_CHUNK bytes go back and forth: the
 * dump's thread asks for chunks in order, slot 0, 1, 0, ..., and the
 * reader serves them in the same order. The reader only reads (no ptrace,
 * which is the dump thread's); every error is the dump thread's to say,
 * and it waits for the reader to finish with a buffer before it returns.
 *
 * The thread pays only with a CPU free for it: on this project's 2-CPU
 * machine under a load of 20, a dump of 1 GiB took a fifth more CPU
 * time with it than reading and writing in turn, and longer (README,
 * the measurements of issue 13 §1). So it is made when the load
 * average of the last minute leaves a whole CPU idle, or always with
 * CKPT_DUMP_READER=1, never with CKPT_DUMP_READER=0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/fault.h"

enum { SLOT_FREE, SLOT_WANTED, SLOT_READ };

struct dump_memread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dump_ctx *c;
	struct dump_mem_io *io;
	uint8_t *buf[2];
	struct {
		uint64_t addr;
		size_t len;
		int state, err;
	} slot[2];
	int ask, take;		/* the dump thread's next slots */
	int stop;
};

static void *reader(void *arg)
{
	struct dump_memread *r = arg;
	int k = 0, err;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stop && r->slot[k].state != SLOT_WANTED)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		err = dump_mem_read(r->c, r->io, r->slot[k].addr, r->buf[k],
				    r->slot[k].len) ? (errno ? errno : EIO) : 0;
		pthread_mutex_lock(&r->mu);
		r->slot[k].err = err;
		r->slot[k].state = SLOT_READ;
		pthread_cond_broadcast(&r->cv);
		k ^= 1;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static int reader_wanted(void)
{
	const char *env = getenv("CKPT_DUMP_READER");
	double load;
	long n;

	if (env && (!strcmp(env, "0") || !strcmp(env, "1")))
		return env[0] == '1';
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n >= 2 && getloadavg(&load, 1) == 1 && load + 1 <= n;
}

int dump_memread_start(struct dump_ctx *c, struct dump_mem_io *io)
{
	struct dump_memread *r;
	sigset_t all, old;
	int err;

	if (!reader_wanted())
		return 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->c = c;
	r->io = io;
	r->buf[0] = io->buf;
	r->buf[1] = malloc(DUMP_MEM_CHUNK);
	if (!r->buf[1]) {
		free(r);
		return -1;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	/* ckpt's signals (an interrupt) stay the dump thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&r->th, NULL, reader, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(r->buf[1]);
		free(r);
		return -1;
	}
	io->rd = r;
	return 0;
}

void dump_memread_stop(struct dump_mem_io *io)
{
	struct dump_memread *r = io->rd;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r->buf[1]);
	free(r);
	io->rd = NULL;
}

/* Ask for the chunk at *next (of the run that ends at end), if a slot is
 * free. */
static void ask(struct dump_memread *r, uint64_t *next, uint64_t end)
{
	size_t n = end - *next < DUMP_MEM_CHUNK ? end - *next : DUMP_MEM_CHUNK;

	if (*next >= end || r->slot[r->ask].state != SLOT_FREE)
		return;
	r->slot[r->ask].addr = *next;
	r->slot[r->ask].len = n;
	r->slot[r->ask].state = SLOT_WANTED;
	r->ask ^= 1;
	*next += n;
	pthread_cond_broadcast(&r->cv);
}

/* Every slot asked for read (or failed) and given back. */
static void drain(struct dump_memread *r)
{
	int k;

	for (k = 0; k < 2; k++) {
		while (r->slot[k].state == SLOT_WANTED)
			pthread_cond_wait(&r->cv, &r->mu);
		r->slot[k].state = SLOT_FREE;
	}
	r->take = r->ask;
}

/* The bytes of [addr, end) into the open PAGES record, read by the
 * reader two chunks ahead. */
int dump_memread_run(struct dump_ctx *c, struct dump_mem_io *io,
		     uint64_t addr, uint64_t end)
{
	struct dump_memread *r = io->rd;
	uint64_t next = addr, t0, t1;
	int k, ret = -1;

	io->rd_used = 1;
	pthread_mutex_lock(&r->mu);
	ask(r, &next, end);
	ask(r, &next, end);
	while (addr < end) {
		k = r->take;
		t0 = dump_mem_clock();
		while (r->slot[k].state != SLOT_READ)
			pthread_cond_wait(&r->cv, &r->mu);
		t1 = dump_mem_clock();
		if (r->slot[k].err) {
			errno = r->slot[k].err;
			dump_perror(c, "can't read memory of %d at %llx",
				    c->pid, (unsigned long long)addr);
			goto out;
		}
		pthread_mutex_unlock(&r->mu);
		fault_point("memory");
		if (dump_interrupted(c) ||
		    img_write_pages_data(c->w, r->buf[k], r->slot[k].len)) {
			pthread_mutex_lock(&r->mu);
			goto out;
		}
		pthread_mutex_lock(&r->mu);
		io->ns_read += t1 - t0;
		io->ns_write += dump_mem_clock() - t1;
		io->bytes += r->slot[k].len;
		addr += r->slot[k].len;
		r->slot[k].state = SLOT_FREE;
		r->take ^= 1;
		ask(r, &next, end);
	}
	ret = 0;
out:
	drain(r);
	pthread_mutex_unlock(&r->mu);
	return ret;
}
