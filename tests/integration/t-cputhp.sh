# t-cputhp.sh - the last two states restored approximately (issue 12): a
# CPU timer expired and not fired yet at dump time, and the THP advice of
# a mapping restore filled with huge pages.  Sourced by run.sh.

ALL_TESTS+=(ptimers-cpu-tick ptimers-cpu-tick-refused)
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
