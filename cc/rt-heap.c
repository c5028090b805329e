/*
 * The heap of ckpt cc programs (part of the runtime, cc/rt.c): the
 * landmark pass renames the program's calls of malloc, free, calloc,
 * realloc, strdup, strndup, aligned_alloc, posix_memalign, mmap and
 * munmap to the ckpt_xisa_ functions below. Their memory lies in
 * [XISA_HEAP_BASE, + XISA_HEAP_SIZE) and so does all of their state (the
 * struct heap at its base, the same on both ISAs): ckpt translate carries
 * that range as it is, and the program goes on allocating on the other
 * ISA where it left off. libc's own allocations stay in libc's heap,
 * which is not carried (nothing of the program points into it).
 *
 * Blocks are powers of two from 32 bytes, each with a 16-byte header,
 * kept on one free list per size; the heap grows by mapping more at its
 * top. mmap gives page runs from the upper half, never reused.
 */
#include <sys/mman.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/xisa-image.h"
#include "arch/xisa-rt.h"

#define HEAP_MAGIC	0x70616568617369ull	/* "isaheap" */
#define BLK_MAGIC	0x6b6c62u
#define NR_CLASSES	40
#define MIN_SHIFT	5
#define GROW		(1ul << 20)
#define PAGE		65536ul		/* the larger of both ISAs' pages */
#define MMAP_BASE	(XISA_HEAP_BASE + XISA_HEAP_SIZE / 2)

struct heap {
	uint64_t magic;
	uint64_t top;		/* end of the mapped malloc heap */
	uint64_t brk;		/* end of the blocks handed out */
	uint64_t mmap_next;	/* next run for mmap */
	uint32_t lock;
	uint32_t pad;
	uint64_t free[NR_CLASSES];
};

struct blk {
	uint32_t magic;
	uint32_t cls;
	uint64_t off;		/* aligned blocks: from the block's start */
};

#define H ((struct heap *)XISA_HEAP_BASE)

void *ckpt_xisa_malloc(size_t n);
void ckpt_xisa_free(void *p);
void *ckpt_xisa_calloc(size_t n, size_t m);
void *ckpt_xisa_realloc(void *p, size_t n);
char *ckpt_xisa_strdup(const char *s);
char *ckpt_xisa_strndup(const char *s, size_t n);
void *ckpt_xisa_aligned_alloc(size_t align, size_t n);
int ckpt_xisa_posix_memalign(void **out, size_t align, size_t n);
void *ckpt_xisa_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     long off);
int ckpt_xisa_munmap(void *addr, size_t len);

static int heap_ready;

/* The runtime mapped the heap a translated image carried */
void ckpt_xisa_heap_carried(void)
{
	heap_ready = H->magic == HEAP_MAGIC;
}

static int heap_init(void)
{
	void *p;

	if (heap_ready)
		return 0;
	p = mmap((void *)XISA_HEAP_BASE, GROW, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)XISA_HEAP_BASE) {
		if (p != MAP_FAILED)
			munmap(p, GROW);
		errno = ENOMEM;
		return -1;
	}
	H->magic = HEAP_MAGIC;
	H->top = XISA_HEAP_BASE + GROW;
	H->brk = XISA_HEAP_BASE + sizeof(struct heap);
	H->brk = (H->brk + 15) & ~15ull;
	H->mmap_next = MMAP_BASE;
	heap_ready = 1;
	return 0;
}

static void lock(void)
{
	while (__atomic_exchange_n(&H->lock, 1, __ATOMIC_ACQUIRE))
		;
}

static void unlock(void)
{
	__atomic_store_n(&H->lock, 0, __ATOMIC_RELEASE);
}

static int grow(uint64_t need)
{
	uint64_t len = (need - H->top + GROW - 1) & ~(GROW - 1);
	void *p;

	if (need > MMAP_BASE)
		return -1;
	p = mmap((void *)H->top, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)H->top) {
		if (p != MAP_FAILED)
			munmap(p, len);
		return -1;
	}
	H->top += len;
	return 0;
}

static struct blk *blk_get(size_t n)
{
	unsigned c = 0;
	uint64_t sz;
	struct blk *b;

	if (n > (1ull << (MIN_SHIFT + NR_CLASSES - 1)) - sizeof(*b))
		return NULL;
	while ((1ull << (MIN_SHIFT + c)) < n + sizeof(*b))
		c++;
	sz = 1ull << (MIN_SHIFT + c);
	if (H->free[c]) {
		b = (struct blk *)(uintptr_t)H->free[c];
		memcpy(&H->free[c], b + 1, 8);
	} else {
		if (H->brk + sz > H->top && grow(H->brk + sz))
			return NULL;
		b = (struct blk *)(uintptr_t)H->brk;
		H->brk += sz;
	}
	b->magic = BLK_MAGIC;
	b->cls = c;
	b->off = 0;
	return b;
}

static void *alloc(size_t n, size_t align)
{
	struct blk *b, *a;
	uintptr_t p;

	if (heap_init())
		return NULL;
	lock();
	b = blk_get(align > 16 ? n + align + sizeof(*b) : n);
	unlock();
	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	if (align <= 16)
		return b + 1;
	p = ((uintptr_t)(b + 2) + align - 1) & ~(uintptr_t)(align - 1);
	a = (struct blk *)p - 1;
	a->magic = BLK_MAGIC;
	a->cls = b->cls;
	a->off = (uintptr_t)a - (uintptr_t)b;
	return (void *)p;
}

static struct blk *blk_of(void *p)
{
	struct blk *b = (struct blk *)p - 1;

	return (struct blk *)((uintptr_t)b - b->off);
}

void *ckpt_xisa_malloc(size_t n)
{
	return alloc(n, 16);
}

void ckpt_xisa_free(void *p)
{
	struct blk *b;
	uint64_t next;

	if (!p)
		return;
	b = blk_of(p);
	if (b->magic != BLK_MAGIC)
		__builtin_trap();	/* not ours: as glibc would abort */
	lock();
	next = H->free[b->cls];
	memcpy(b + 1, &next, 8);
	H->free[b->cls] = (uintptr_t)b;
	unlock();
}

void *ckpt_xisa_calloc(size_t n, size_t m)
{
	void *p;

	if (m && n > SIZE_MAX / m) {
		errno = ENOMEM;
		return NULL;
	}
	p = alloc(n * m, 16);
	if (p)
		memset(p, 0, n * m);	/* freed blocks are reused */
	return p;
}

void *ckpt_xisa_realloc(void *p, size_t n)
{
	struct blk *b;
	size_t have;
	void *q;

	if (!p)
		return alloc(n, 16);
	b = blk_of(p);
	have = (1ull << (MIN_SHIFT + b->cls)) -
	       ((uintptr_t)p - (uintptr_t)b);
	if (n <= have)
		return p;
	q = alloc(n, 16);
	if (q) {
		memcpy(q, p, have);
		ckpt_xisa_free(p);
	}
	return q;
}

char *ckpt_xisa_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = alloc(len + 1, 16);

	if (d) {
		memcpy(d, s, len);
		d[len] = 0;
	}
	return d;
}

char *ckpt_xisa_strdup(const char *s)
{
	return ckpt_xisa_strndup(s, SIZE_MAX);
}

void *ckpt_xisa_aligned_alloc(size_t align, size_t n)
{
	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return alloc(n, align);
}

int ckpt_xisa_posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = alloc(n, align);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* Private anonymous memory only: a file or shared mapping could not be
 * carried to the other ISA. */
void *ckpt_xisa_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     long off)
{
	uint64_t at, n = (len + PAGE - 1) & ~(PAGE - 1);
	void *p;

	(void)addr;
	(void)off;
	if (!(flags & MAP_ANONYMOUS) || !(flags & MAP_PRIVATE) || fd != -1 ||
	    (flags & MAP_FIXED)) {
		errno = ENOTSUP;
		return MAP_FAILED;
	}
	if (!len || heap_init()) {
		errno = len ? ENOMEM : EINVAL;
		return MAP_FAILED;
	}
	lock();
	at = H->mmap_next;
	if (at + n > XISA_HEAP_BASE + XISA_HEAP_SIZE || at + n < at) {
		unlock();
		errno = ENOMEM;
		return MAP_FAILED;
	}
	p = mmap((void *)(uintptr_t)at, n, prot,
		 (flags & ~MAP_FIXED) | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == (void *)(uintptr_t)at)
		H->mmap_next = at + n;
	unlock();
	if (p != MAP_FAILED && p != (void *)(uintptr_t)at) {
		munmap(p, n);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return p;
}

int ckpt_xisa_munmap(void *addr, size_t len)
{
	return munmap(addr, len);
}
