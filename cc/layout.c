/*
 * The layout of the two builds: each function and global of the program
 * is a section of its own (.xisa.t.NAME, .xisa.d.NAME, made by the
 * landmark pass). Each gets the larger of its two sizes and alignments,
 * at the same offset, in two output sections at fixed addresses; the
 * linker script is the same for both ISAs and is INSERTed into the
 * default one, so libc is laid out as usual after it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>

#include "cc/cc-priv.h"

/* after libc, within reach of an aarch64 bl (128 MiB): the linker adds no
 * veneers, which would differ between the ISAs */
#define TEXT_BASE	0x4000000ull

struct sec {
	char *name;
	uint64_t size, align;
	int text;
};

static struct sec *find(struct vec *secs, const char *name)
{
	size_t k;

	for (k = 0; k < secs->n; k++) {
		struct sec *s = secs->p[k];

		if (!strcmp(s->name, name))
			return s;
	}
	return NULL;
}

static int read_sections(const char *obj, struct vec *secs)
{
	int fd = open(obj, O_RDONLY | O_CLOEXEC), ret = -1;
	Elf *e = NULL;
	Elf_Scn *scn = NULL;
	size_t shstr;

	if (fd < 0) {
		perror(obj);
		return -1;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_getshdrstrndx(e, &shstr))
		goto out;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		struct sec *s;

		if (!gelf_getshdr(scn, &sh))
			goto out;
		name = elf_strptr(e, shstr, sh.sh_name);
		if (!name || strncmp(name, ".xisa.", 6))
			continue;
		s = find(secs, name);
		if (!s) {
			s = calloc(1, sizeof(*s));
			s->name = strdup(name);
			s->text = !strncmp(name, ".xisa.t.", 8);
			vec_push(secs, s);
		}
		if (sh.sh_size > s->size)
			s->size = sh.sh_size;
		if (sh.sh_addralign > s->align)
			s->align = sh.sh_addralign;
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "ckpt cc: %s: %s\n", obj, elf_errmsg(-1));
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return a > 1 ? (v + a - 1) / a * a : v;
}

/* One output section of the kind given; returns its size. */
static uint64_t emit(FILE *f, struct vec *secs, int text, uint64_t base)
{
	uint64_t off = 0;
	size_t k;

	fprintf(f, "  %s 0x%llx : {\n", text ? ".xisa_text" : ".xisa_data",
		(unsigned long long)base);
	for (k = 0; k < secs->n; k++) {
		struct sec *s = secs->p[k];

		if (s->text != text)
			continue;
		off = align_up(off, s->align < 16 ? 16 : s->align);
		fprintf(f, "    . = 0x%llx; KEEP(*(%s))\n",
			(unsigned long long)off, s->name);
		off += s->size;
	}
	fprintf(f, "    . = 0x%llx;\n  }\n", (unsigned long long)off);
	return off;
}

int cc_layout(const char *const obj[CC_NR_ISA], const char *script)
{
	struct vec secs = { 0 };
	uint64_t text;
	FILE *f;
	int isa;

	for (isa = 0; isa < CC_NR_ISA; isa++)
		if (read_sections(obj[isa], &secs))
			return -1;
	f = fopen(script, "w");
	if (!f) {
		perror(script);
		return -1;
	}
	fprintf(f, "SECTIONS\n{\n");
	text = emit(f, &secs, 1, TEXT_BASE);
	emit(f, &secs, 0, align_up(TEXT_BASE + text, 0x10000));
	fprintf(f, "}\nINSERT AFTER .bss;\n");
	return fclose(f) ? -1 : 0;
}
