/*
 * ckpt cc's internals: the landmark pass (landmark.c), the layout of the
 * two builds (layout.c) and the metadata (meta.c).
 */
#ifndef CKPT_CC_PRIV_H
#define CKPT_CC_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <llvm-c/Core.h>

struct vec {
	void **p;
	size_t n, cap;
};

void vec_push(struct vec *v, void *item);

enum { LM_ENTRY = 'E', LM_CALL = 'C', LM_LOOP = 'L' };

struct cc_landmark {
	uint64_t id;
	int kind;
	size_t fn;		/* index in cc_module.fns */
};

struct cc_fn {
	char *name;
	size_t nr_slots;
	uint64_t *slot_size;
};

/* What the pass made of one ISA's module */
struct cc_module {
	struct vec fns;		/* struct cc_fn * */
	struct vec landmarks;	/* struct cc_landmark *, by id */
	struct vec tls;		/* char *: the thread-local variables */
};

int cc_landmarks(LLVMModuleRef mod, struct cc_module *out);

/* The two ISAs, in this order everywhere */
enum { CC_X86_64, CC_AARCH64, CC_NR_ISA };

/* Place every .xisa.* section of both objects; write the linker script */
int cc_layout(const char *const obj[CC_NR_ISA], const char *script);

/* Read both executables' stack maps and code; write the metadata */
int cc_meta(const char *const exe[CC_NR_ISA],
	    const struct cc_module mod[CC_NR_ISA], const char *out);

#endif
