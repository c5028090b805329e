# t-lazy.sh - restore --lazy: memory that arrives through userfaultfd
# while the process runs (restore/lazy.c). Sourced by run.sh.

ALL_TESTS+=(lazy-counter lazy-bigmem)

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
