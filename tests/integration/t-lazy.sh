# t-lazy.sh - restore --lazy: memory that arrives through userfaultfd
# while the process runs (restore/lazy.c). Sourced by run.sh.

ALL_TESTS+=(lazy-counter lazy-bigmem lazy-events)

t_lazy-counter() {
	need "$WLB/counter"
	RESTORE_CMD=("$RESTORE" --lazy)
	wl_test "$WLB/counter"
}

t_lazy-bigmem() {
	need "$WLB/bigmem"
	RESTORE_CMD=("$RESTORE" --lazy)
	wl_test "$WLB/bigmem"
}

# lazymem changes its memory (mremap, MADV_DONTNEED, munmap, fork) while
# no page is pulled in the background yet, then opens the gate
t_lazy-events() {
	need "$WLB/lazymem"
	RESTORE_CMD=(env "CKPT_LAZY_GATE=$D/gate" "$RESTORE" --lazy)
	wl_test "$WLB/lazymem" 256
}
