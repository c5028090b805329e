/*
 * elf/elfsym: symbols of loaded ELF objects, by name (NAME or
 * NAME@VERSION) and by address.
 *
 * Two levels. The object level (elfsym.c) opens one ELF object, from a
 * file descriptor or from a memory buffer (the vdso has no file), and
 * answers lookups given the object's load bias; it knows nothing of where
 * the object's mappings come from, so that `ckpt inspect` can use it on
 * an image's VMAs. The process level (elfproc.c) finds the objects of a
 * live process from /proc/PID/maps, computes their biases, and asks the
 * object level: no ptrace, the target is not stopped.
 */
#ifndef CKPT_ELFSYM_H
#define CKPT_ELFSYM_H

#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

struct elf_sym_result {
	uint64_t addr;		/* bias + st_value */
	uint64_t size;		/* st_size */
	char name[256];		/* NAME, or NAME@VERSION for a hidden version */
	char object[4096];	/* the mapping's path, or [vdso] */
	uint64_t offset;	/* address lookups: queried address - addr */
	int ifunc;		/* STT_GNU_IFUNC: addr is the resolver's */
};

/* ---- a live process ------------------------------------------------- */

/*
 * Resolve NAME or NAME@VERSION in process pid. Without a version the
 * default version is taken (as dlsym does); a symbol that only has hidden
 * versions is found too, as a last resort. Objects are searched in this
 * order: the main executable, the other objects from the highest address
 * down (ld.so maps them top-down in load order), then the vdso.
 * Returns 0, or -1 with errno ENOENT when no object defines it, ESRCH when
 * there is no such process, EACCES or EPERM when its maps can't be read;
 * logs the error.
 */
int elf_sym_lookup(pid_t pid, const char *name_at_version,
		   struct elf_sym_result *r) __must_check;

/* The same, without a message when the symbol is not there (ENOENT). */
int elf_sym_find(pid_t pid, const char *name_at_version,
		 struct elf_sym_result *r) __must_check;

/* The symbol (FUNC, OBJECT or IFUNC) that contains addr in process pid:
 * r->name, r->addr and r->offset = addr - r->addr. Same errors. */
int elf_sym_addr(pid_t pid, uint64_t addr,
		 struct elf_sym_result *r) __must_check;

/* The same, without a message when nothing is found. */
int elf_sym_at(pid_t pid, uint64_t addr,
	       struct elf_sym_result *r) __must_check;

/* For an indirect function r found by elf_sym_lookup in process pid:
 * the implementation its resolver chose, as ld.so stored it in the
 * defining object's IRELATIVE slot (what dlsym and gdb give). Nothing
 * runs in the process. -1 with errno ENOENT when the object has no such
 * slot (a static executable resolves its IFUNCs through its own
 * IRELATIVE relocations too, so that is rare), quietly. */
int elf_sym_ifunc_target(pid_t pid, const struct elf_sym_result *r,
			 uint64_t *impl) __must_check;

/* ---- one object ------------------------------------------------------ */

struct elf_obj;

/* Open the ELF object in fd (which stays the caller's: it may be closed
 * once elf_obj_close has been called) or in buf (copied). NULL with errno
 * ENOEXEC when it is not ELF. */
struct elf_obj *elf_obj_open_fd(int fd) __must_check;
struct elf_obj *elf_obj_open_mem(const void *buf, size_t len) __must_check;
void elf_obj_close(struct elf_obj *o);

/* The load bias of an object one of whose mappings starts at map_start
 * with file offset pgoff: map_start minus the page-aligned p_vaddr of the
 * PT_LOAD that begins at pgoff; 0 for ET_EXEC. -1 (ENOENT) when no
 * PT_LOAD begins at pgoff (a mapping split by mprotect: try another). */
int elf_obj_bias(const struct elf_obj *o, uint64_t map_start,
		 uint64_t pgoff, uint64_t *bias) __must_check;

/* Lookups in one object: the same rules as elf_sym_lookup and
 * elf_sym_addr; r->object is left alone. -1 with errno ENOENT when not
 * found, without logging. version may be NULL. */
int elf_obj_lookup(const struct elf_obj *o, uint64_t bias, const char *name,
		   const char *version, struct elf_sym_result *r) __must_check;
int elf_obj_addr(const struct elf_obj *o, uint64_t bias, uint64_t addr,
		 struct elf_sym_result *r) __must_check;

/* The link-time address (add the bias) of the slot that an IRELATIVE
 * relocation of the object fills with what the resolver at link-time
 * address resolver returns. -1 with errno ENOENT when there is none. */
int elf_obj_irelative(const struct elf_obj *o, uint64_t resolver,
		      uint64_t *slot) __must_check;

#endif
