# t-cputhp.sh - the last two states restored approximately (issue 12): a
# CPU timer expired and not fired yet at dump time, and the THP advice of
# a mapping restore filled with huge pages; and what the audit
# found kept but checked by no test.  Sourced by run.sh.

ALL_TESTS+=(ptimers-cpu-tick ptimers-cpu-tick-refused thp-advice kept-state)
CKPT_ONLY+="ptimers-cpu-tick-refused "

# A periodic timer on a thread's CPU clock, expired at dump time and not
# fired (its thread asleep), with an overrun count: after the restore it
# still reads 1 ns left and its count, and fires on its thread's first
# tick (tests/workloads/cputick.c checks it).
t_ptimers-cpu-tick() {
	need "$WLB/cputick"
	wl_test "$WLB/cputick"
}

# The same timer with another signal of its number queued besides, which
# restore's take of the timer's signal could dequeue instead: refused,
# naming the timer, and the target runs on.
t_ptimers-cpu-tick-refused() {
	need "$WLB/cputick" "$CKPT"
	start_wl "$WLB/cputick" queued
	refused_by_name "$PID: timer 0 is a CPU timer about to fire with an overrun count, and another signal of its number is queued: restore can't give it back"
	check_count
}

CPUTHP_THP=/sys/kernel/mm/transparent_hugepage/enabled

# cputhp_thp_back: THP's mode as the test found it (D/thp.old)
cputhp_thp_back() {
	[[ -s $D/thp.old ]] && cat "$D/thp.old" >"$CPUTHP_THP"
	return 0
}

# Anonymous memory without THP advice, which restore fills with huge
# pages under THP "madvise" mode, keeps no advice (not the
# MADV_NOHUGEPAGE restore once left), one with MADV_HUGEPAGE or
# MADV_NOHUGEPAGE keeps its own, and the first two have huge pages
# (tests/workloads/thpadv.c checks them). THP is set to "madvise" for
# the test if it is not, and put back.
t_thp-advice() {
	local mode
	need "$WLB/thpadv"
	[[ -w $CPUTHP_THP ]] || skip "$CPUTHP_THP is not writable"
	mode=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$CPUTHP_THP")
	if [[ $mode != madvise ]]; then
		[[ -n $mode ]] || skip "no THP mode in $CPUTHP_THP"
		echo "$mode" >"$D/thp.old"
		trap 'cputhp_thp_back; cleanup' EXIT
		echo madvise >"$CPUTHP_THP" ||
			skip "can't set THP to madvise"
	fi
	wl_test "$WLB/thpadv"
}

# What ckpt(1) says is kept and no other test checked (issue 12's
# audit): each thread's robust futex list and rseq registration, the
# personality, the store bypass control, the auxv and the mm fields
# (tests/workloads/keptstate.c checks them).
t_kept-state() {
	need "$WLB/keptstate"
	wl_test "$WLB/keptstate"
}
