/*
 * A process holding SIZE MiB of anonymous memory, random (incompressible)
 * or compressible (text-like: a few distinct words, as logs and tables
 * are), then idle. Holds no fd but 0-2.
 *
 *   fill SIZE_MIB random|text READYFILE
 */
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fill_random(uint64_t *p, size_t words)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < words; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static void fill_text(char *p, size_t len)
{
	static const char *const words[] = {
		"checkpoint ", "restore ", "process ", "memory ", "page ",
		"thread ", "signal ", "image ", "12345 ", "\n",
	};
	uint64_t x = 88172645463325252ULL;
	size_t off = 0, n;

	while (off < len) {
		const char *w;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w = words[x % 10];
		n = strlen(w);
		if (n > len - off)
			n = len - off;
		memcpy(p + off, w, n);
		off += n;
	}
}

int main(int argc, char **argv)
{
	size_t size;
	char *mem;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: fill SIZE_MIB random|text READYFILE\n");
		return 2;
	}
	size = strtoull(argv[1], NULL, 0) << 20;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	if (!strcmp(argv[2], "random"))
		fill_random((uint64_t *)mem, size / 8);
	else
		fill_text(mem, size);
	f = fopen(argv[3], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", getpid());
	fclose(f);
	for (;;)
		pause();
}
