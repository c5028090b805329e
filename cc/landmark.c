/*
 * The landmark pass of ckpt cc, on one module of one ISA (LLVM-C API).
 *
 * Landmarks are llvm.experimental.stackmap calls: at each function's
 * entry (once the arguments are stored to their slots), after each call
 * and at the head of each loop (the target of a back edge). Each one
 * lists every stack slot (alloca) of its function, so that the stack map
 * records where each slot lies in the frame of this ISA.
 *
 * A value that lives in a register across a landmark or a call would be
 * spilled by the register allocator to a slot the stack map does not
 * describe, so such values are demoted first to slots of their own: at a
 * landmark, and in a frame suspended in a call, everything live is in a
 * slot. That is what makes a frame translatable slot by slot.
 *
 * Each function and each global goes into a section of its own (named
 * after it), which the generated linker script places at the same address
 * for both ISAs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>

#include "cc/cc-priv.h"

struct fn_pass {
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMValueRef smap;	/* llvm.experimental.stackmap */
	LLVMTypeRef smap_ty;
	LLVMValueRef fn;
	struct vec lms;		/* LLVMValueRef: this function's landmarks */
	struct cc_module *out;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("ckpt cc");
		exit(1);
	}
	return p;
}

void vec_push(struct vec *v, void *item)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 16;
		v->p = xrealloc(v->p, v->cap * sizeof(void *));
	}
	v->p[v->n++] = item;
}

/* A call that is a landmark's reason: not an intrinsic, not inline asm. */
static int is_real_call(LLVMValueRef insn)
{
	LLVMValueRef callee;

	if (!LLVMIsACallInst(insn))
		return 0;
	callee = LLVMGetCalledValue(insn);
	if (LLVMIsAInlineAsm(callee))
		return 0;
	return !(LLVMIsAFunction(callee) && LLVMGetIntrinsicID(callee));
}

static LLVMValueRef first_non_phi(LLVMBasicBlockRef bb)
{
	LLVMValueRef i = LLVMGetFirstInstruction(bb);

	while (i && LLVMIsAPHINode(i))
		i = LLVMGetNextInstruction(i);
	return i;
}

static void add_landmark(struct fn_pass *p, LLVMValueRef before, int kind)
{
	LLVMValueRef args[2], call;
	LLVMContextRef ctx = LLVMGetModuleContext(p->mod);
	struct cc_landmark *lm = calloc(1, sizeof(*lm));

	lm->id = p->out->landmarks.n;
	lm->kind = kind;
	lm->fn = p->out->fns.n;
	vec_push(&p->out->landmarks, lm);
	args[0] = LLVMConstInt(LLVMInt64TypeInContext(ctx), lm->id, 0);
	args[1] = LLVMConstInt(LLVMInt32TypeInContext(ctx), 0, 0);
	LLVMPositionBuilderBefore(p->b, before);
	call = LLVMBuildCall2(p->b, p->smap_ty, p->smap, args, 2, "");
	vec_push(&p->lms, call);
}

/* Loop heads: targets of back edges, found by an iterative DFS. */
static void mark_loops(LLVMValueRef fn, struct vec *heads)
{
	unsigned nbb = LLVMCountBasicBlocks(fn), top = 0, i, k;
	LLVMBasicBlockRef *bbs = xrealloc(NULL, nbb * sizeof(*bbs));
	LLVMBasicBlockRef *stack = xrealloc(NULL, nbb * sizeof(*stack));
	unsigned *next = calloc(nbb, sizeof(*next));
	char *state = calloc(nbb, 1), *head = calloc(nbb, 1);

	LLVMGetBasicBlocks(fn, bbs);
#define IDX(bb) ({ unsigned j_ = 0; while (bbs[j_] != (bb)) j_++; j_; })
	stack[top++] = bbs[0];
	state[0] = 1;
	while (top) {
		LLVMBasicBlockRef bb = stack[top - 1];
		LLVMValueRef term = LLVMGetBasicBlockTerminator(bb);
		unsigned u = IDX(bb);

		if (!term || next[u] == LLVMGetNumSuccessors(term)) {
			state[u] = 2;
			top--;
			continue;
		}
		LLVMBasicBlockRef s = LLVMGetSuccessor(term, next[u]++);
		k = IDX(s);
		if (state[k] == 1)
			head[k] = 1;
		else if (!state[k]) {
			state[k] = 1;
			stack[top++] = s;
		}
	}
#undef IDX
	for (i = 0; i < nbb; i++)
		if (head[i])
			vec_push(heads, bbs[i]);
	free(bbs);
	free(stack);
	free(next);
	free(state);
	free(head);
}

/* The entry landmark goes after clang's stores of the arguments (and
 * of constants, such as main's return slot) to their slots. */
static LLVMValueRef entry_point(LLVMValueRef fn)
{
	LLVMValueRef i = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(fn));

	while (i && (LLVMIsAAllocaInst(i) ||
		     (LLVMIsAStoreInst(i) &&
		      LLVMIsAAllocaInst(LLVMGetOperand(i, 1)) &&
		      (LLVMIsAArgument(LLVMGetOperand(i, 0)) ||
		       LLVMIsAConstant(LLVMGetOperand(i, 0))))))
		i = LLVMGetNextInstruction(i);
	return i;
}

static void place_landmarks(struct fn_pass *p)
{
	struct vec heads = { 0 }, calls = { 0 };
	LLVMBasicBlockRef bb;
	LLVMValueRef i;
	size_t k;

	add_landmark(p, entry_point(p->fn), LM_ENTRY);
	for (bb = LLVMGetFirstBasicBlock(p->fn); bb;
	     bb = LLVMGetNextBasicBlock(bb))
		for (i = LLVMGetFirstInstruction(bb); i;
		     i = LLVMGetNextInstruction(i))
			if (is_real_call(i) && LLVMGetNextInstruction(i) &&
			    !LLVMIsAUnreachableInst(LLVMGetNextInstruction(i)))
				vec_push(&calls, i);
	for (k = 0; k < calls.n; k++)
		add_landmark(p, LLVMGetNextInstruction(calls.p[k]), LM_CALL);
	mark_loops(p->fn, &heads);
	for (k = 0; k < heads.n; k++)
		add_landmark(p, first_non_phi(heads.p[k]), LM_LOOP);
	free(heads.p);
	free(calls.p);
}

/* Is there a call (landmarks included) strictly between a and b? */
static int call_between(LLVMValueRef a, LLVMValueRef b)
{
	for (a = LLVMGetNextInstruction(a); a && a != b;
	     a = LLVMGetNextInstruction(a))
		if (LLVMIsACallInst(a))
			return 1;
	return 0;
}

static int needs_slot(LLVMValueRef v)
{
	LLVMBasicBlockRef bb = LLVMGetInstructionParent(v);
	LLVMUseRef u;

	for (u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
		LLVMValueRef user = LLVMGetUser(u);

		if (LLVMIsAPHINode(user) ||
		    LLVMGetInstructionParent(user) != bb ||
		    call_between(v, user))
			return 1;
	}
	return 0;
}

/* Store v to a new slot after its definition; every use loads it. */
static void demote(struct fn_pass *p, LLVMValueRef v)
{
	LLVMTypeRef ty = LLVMTypeOf(v);
	LLVMValueRef entry = LLVMGetFirstInstruction(
		LLVMGetEntryBasicBlock(p->fn));
	LLVMValueRef slot, at, ld;
	struct vec users = { 0 };
	LLVMUseRef u;
	size_t k;
	unsigned o;

	LLVMPositionBuilderBefore(p->b, entry);
	slot = LLVMBuildAlloca(p->b, ty, "xisa.slot");
	at = LLVMIsAPHINode(v) ? first_non_phi(LLVMGetInstructionParent(v))
			       : LLVMGetNextInstruction(v);
	for (u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u))
		vec_push(&users, LLVMGetUser(u));
	LLVMPositionBuilderBefore(p->b, at);
	LLVMBuildStore(p->b, v, slot);
	for (k = 0; k < users.n; k++) {
		LLVMValueRef user = users.p[k];

		if (k && users.p[k - 1] == user)
			continue;	/* one user, several operands */
		for (o = 0; o < (unsigned)LLVMGetNumOperands(user); o++) {
			if (LLVMGetOperand(user, o) != v)
				continue;
			if (LLVMIsAPHINode(user))
				LLVMPositionBuilderBefore(p->b,
					LLVMGetBasicBlockTerminator(
						LLVMGetIncomingBlock(user, o)));
			else
				LLVMPositionBuilderBefore(p->b, user);
			ld = LLVMBuildLoad2(p->b, ty, slot, "");
			LLVMSetOperand(user, o, ld);
		}
	}
	free(users.p);
}

static void demote_live_values(struct fn_pass *p)
{
	struct vec todo = { 0 };
	LLVMBasicBlockRef bb;
	LLVMValueRef i;
	size_t k;

	for (bb = LLVMGetFirstBasicBlock(p->fn); bb;
	     bb = LLVMGetNextBasicBlock(bb))
		for (i = LLVMGetFirstInstruction(bb); i;
		     i = LLVMGetNextInstruction(i))
			if (!LLVMIsAAllocaInst(i) &&
			    LLVMGetTypeKind(LLVMTypeOf(i)) !=
			    LLVMVoidTypeKind && needs_slot(i))
				vec_push(&todo, i);
	for (k = 0; k < todo.n; k++)
		demote(p, todo.p[k]);
	free(todo.p);
}

/* Move what precedes x in its block to a new block before it, which
 * branches to it and which its predecessors now branch to. */
static void split_before(struct fn_pass *p, LLVMValueRef x)
{
	LLVMBasicBlockRef bb = LLVMGetInstructionParent(x), head, pb;
	LLVMContextRef ctx = LLVMGetModuleContext(p->mod);
	LLVMValueRef i, next, term;
	unsigned k;

	if (LLVMGetFirstInstruction(bb) == x)
		return;
	head = LLVMInsertBasicBlockInContext(ctx, bb, "");
	LLVMPositionBuilderAtEnd(p->b, head);
	for (i = LLVMGetFirstInstruction(bb); i != x; i = next) {
		next = LLVMGetNextInstruction(i);
		LLVMInstructionRemoveFromParent(i);
		LLVMInsertIntoBuilder(p->b, i);
	}
	LLVMBuildBr(p->b, bb);
	for (pb = LLVMGetFirstBasicBlock(p->fn); pb;
	     pb = LLVMGetNextBasicBlock(pb)) {
		term = LLVMGetBasicBlockTerminator(pb);
		for (k = 0; pb != head && term &&
			    k < LLVMGetNumSuccessors(term); k++)
			if (LLVMGetSuccessor(term, k) == bb)
				LLVMSetSuccessor(term, k, head);
	}
}

/*
 * Each landmark in a block of its own, with nothing but a branch after
 * it. At -O0, instruction selection keeps constants and stack slot
 * addresses it needed in registers for the rest of the block (and the
 * register allocator spills them across a call to slots of its own,
 * which no stack map describes): resumed at a landmark in the middle of
 * a block, a translated frame would lack them. Values that now cross
 * blocks are IR values, which demote_live_values() puts in slots.
 */
static void isolate_landmarks(struct fn_pass *p)
{
	size_t k;

	for (k = 0; k < p->lms.n; k++) {
		LLVMValueRef lm = p->lms.p[k];

		split_before(p, lm);
		split_before(p, LLVMGetNextInstruction(lm));
	}
}

/* Give every landmark the full list of the function's slots. */
static int list_slots(struct fn_pass *p, LLVMTargetDataRef td)
{
	struct cc_fn *f = p->out->fns.p[p->out->fns.n - 1];
	LLVMValueRef i, *args;
	struct vec slots = { 0 };
	size_t k, s;

	for (i = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(p->fn)); i;
	     i = LLVMGetNextInstruction(i)) {
		if (!LLVMIsAAllocaInst(i))
			continue;
		if (!LLVMIsAConstantInt(LLVMGetOperand(i, 0)) ||
		    LLVMConstIntGetZExtValue(LLVMGetOperand(i, 0)) != 1) {
			fprintf(stderr, "ckpt cc: %s: variable-sized stack "
				"object not supported\n", f->name);
			return -1;
		}
		vec_push(&slots, i);
	}
	f->nr_slots = slots.n;
	f->slot_size = xrealloc(NULL, slots.n * sizeof(uint64_t));
	for (s = 0; s < slots.n; s++)
		f->slot_size[s] = LLVMABISizeOfType(td,
				LLVMGetAllocatedType(slots.p[s]));
	args = xrealloc(NULL, (slots.n + 2) * sizeof(*args));
	memcpy(args + 2, slots.p, slots.n * sizeof(*args));
	for (k = 0; k < p->lms.n; k++) {
		LLVMValueRef old = p->lms.p[k];

		args[0] = LLVMGetOperand(old, 0);
		args[1] = LLVMGetOperand(old, 1);
		LLVMPositionBuilderBefore(p->b, old);
		LLVMBuildCall2(p->b, p->smap_ty, p->smap, args,
			       slots.n + 2, "");
		LLVMInstructionEraseFromParent(old);
	}
	free(args);
	free(slots.p);
	return 0;
}

static int check_args(LLVMValueRef fn, const char *name)
{
	LLVMValueRef a, lm = entry_point(fn);
	LLVMUseRef u;

	for (a = LLVMGetFirstParam(fn); a; a = LLVMGetNextParam(a))
		for (u = LLVMGetFirstUse(a); u; u = LLVMGetNextUse(u)) {
			LLVMValueRef user = LLVMGetUser(u);

			if (LLVMIsAStoreInst(user) &&
			    LLVMGetInstructionParent(user) ==
			    LLVMGetInstructionParent(lm))
				continue;
			fprintf(stderr, "ckpt cc: %s: an argument is used "
				"beyond the entry (build with -O0)\n", name);
			return -1;
		}
	return 0;
}

static char *section_name(const char *prefix, const char *name)
{
	char *s = xrealloc(NULL, strlen(prefix) + strlen(name) + 1);

	strcpy(s, prefix);
	strcat(s, name);
	return s;
}

/* Thread-local variables stay in the TLS template (libc's are there
 * too, so their offsets may differ between the builds): PROG.xisa gives
 * each one's place in both, by name. */
static int place_globals(LLVMModuleRef mod, struct cc_module *out)
{
	LLVMValueRef g;
	size_t len;

	for (g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g)) {
		const char *name = LLVMGetValueName2(g, &len);
		char *sec;

		if (LLVMIsDeclaration(g) || !strncmp(name, "llvm.", 5))
			continue;
		if (LLVMIsThreadLocal(g)) {
			vec_push(&out->tls, strdup(name));
			continue;
		}
		sec = section_name(".xisa.d.", name);
		LLVMSetSection(g, sec);
		free(sec);
	}
	return 0;
}

/* The program's memory functions, to the runtime's carried heap; its
 * thread, mutex and condition functions, to the runtime's threads and
 * locks, which move with it (cc/rt-threads.c) */
static const char *const to_heap[] = {
	"malloc", "free", "calloc", "realloc", "strdup", "strndup",
	"aligned_alloc", "posix_memalign", "mmap", "munmap",
	"pthread_create", "pthread_join", "pthread_exit",
	"pthread_mutex_init", "pthread_mutex_destroy", "pthread_mutex_lock",
	"pthread_mutex_trylock", "pthread_mutex_unlock",
	"pthread_cond_init", "pthread_cond_destroy", "pthread_cond_wait",
	"pthread_cond_signal", "pthread_cond_broadcast",
};
/* thread functions whose objects or waits are libc's, not moved */
static const char *const libc_threads[] = {
	"pthread_self", "pthread_detach", "pthread_cancel", "pthread_kill",
	"pthread_tryjoin_np", "pthread_timedjoin_np", "pthread_once",
	"pthread_cond_timedwait", "pthread_mutex_timedlock",
	"pthread_rwlock_rdlock", "pthread_rwlock_wrlock",
	"pthread_rwlock_unlock", "pthread_barrier_wait", "pthread_spin_lock",
	"pthread_key_create", "pthread_setspecific", "pthread_getspecific",
	"sem_wait", "sem_post", "sem_timedwait",
};
/* libc functions that return memory of libc's malloc for the program to
 * free, or that would look at the carried heap as libc's */
static const char *const libc_heap[] = {
	"getline", "getdelim", "asprintf", "vasprintf", "open_memstream",
	"scandir", "wcsdup", "get_current_dir_name", "reallocarray",
	"valloc", "pvalloc", "memalign", "malloc_usable_size",
};

/* -1 (said why: the name, then why) if the module calls one of names */
static int calls_none(LLVMModuleRef mod, const char *const *names, size_t n,
		      const char *why)
{
	LLVMValueRef fn;
	size_t i;

	for (i = 0; i < n; i++) {
		fn = LLVMGetNamedFunction(mod, names[i]);
		if (fn && LLVMIsDeclaration(fn)) {
			fprintf(stderr, "ckpt cc: %s%s\n", names[i], why);
			return -1;
		}
	}
	return 0;
}

static int redirect_heap(LLVMModuleRef mod)
{
	LLVMValueRef fn;
	size_t i;
	char name[64];

	if (calls_none(mod, libc_heap, sizeof(libc_heap) / sizeof(*libc_heap),
		       " allocates from libc's heap, which is not carried: "
		       "not supported") ||
	    calls_none(mod, libc_threads,
		       sizeof(libc_threads) / sizeof(*libc_threads),
		       ": its state would be libc's, which is not carried: "
		       "not supported"))
		return -1;
	for (i = 0; i < sizeof(to_heap) / sizeof(*to_heap); i++) {
		fn = LLVMGetNamedFunction(mod, to_heap[i]);
		if (!fn || !LLVMIsDeclaration(fn))
			continue;
		snprintf(name, sizeof(name), "ckpt_xisa_%s", to_heap[i]);
		LLVMSetValueName2(fn, name, strlen(name));
	}
	return 0;
}

int cc_landmarks(LLVMModuleRef mod, struct cc_module *out)
{
	LLVMContextRef ctx = LLVMGetModuleContext(mod);
	LLVMTypeRef params[2] = { LLVMInt64TypeInContext(ctx),
				  LLVMInt32TypeInContext(ctx) };
	LLVMTargetDataRef td = LLVMGetModuleDataLayout(mod);
	struct fn_pass p = { .mod = mod };
	LLVMValueRef fn;
	int ret = 0;

	p.smap_ty = LLVMFunctionType(LLVMVoidTypeInContext(ctx), params, 2, 1);
	p.smap = LLVMGetNamedFunction(mod, "llvm.experimental.stackmap");
	if (!p.smap)
		p.smap = LLVMAddFunction(mod, "llvm.experimental.stackmap",
					 p.smap_ty);
	if (redirect_heap(mod))
		return -1;
	p.b = LLVMCreateBuilderInContext(ctx);
	p.out = out;
	for (fn = LLVMGetFirstFunction(mod); fn && !ret;
	     fn = LLVMGetNextFunction(fn)) {
		size_t len;
		const char *name = LLVMGetValueName2(fn, &len);
		struct cc_fn *f;
		char *sec;

		if (LLVMIsDeclaration(fn))
			continue;
		f = calloc(1, sizeof(*f));
		f->name = strdup(name);
		if (check_args(fn, name)) {
			ret = -1;
			break;
		}
		p.fn = fn;
		p.lms.n = 0;
		place_landmarks(&p);
		vec_push(&out->fns, f);
		isolate_landmarks(&p);
		demote_live_values(&p);
		ret = list_slots(&p, td);
		sec = section_name(".xisa.t.", name);
		LLVMSetSection(fn, sec);
		free(sec);
	}
	if (!ret)
		ret = place_globals(mod, out);
	free(p.lms.p);
	LLVMDisposeBuilder(p.b);
	return ret;
}
