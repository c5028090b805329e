# t-aio.sh - AIO contexts (io_setup): rings with events completed and not
# reaped, at several places in their rings, in slots with a free one
# between, come back exactly (tests/workloads/aioring.c); a context with
# a request in flight is refused, naming it. Sourced by run.sh.

ALL_TESTS+=(aio aio-inflight aio-nobpf)
CKPT_ONLY+="aio-inflight aio-nobpf "

# The event left in a ring is returned once, by the same context ids;
# new requests work on both contexts; the image holds two AIO records.
t_aio() {
	need "$WLB/aioring"
	HOOK_DUMPED=aio_in_image
	wl_test "$WLB/aioring"
}

aio_in_image() {
	inspect "$D/img"
	[[ $(grep -c "^aio ring " "$D/inspect.out") == 3 ]] ||
		fail "inspect shows $(grep -c "^aio ring " "$D/inspect.out")" \
		     "AIO rings, want 3: $(grep "^aio" "$D/inspect.out")"
}

# A poll of a pipe nobody writes stays in flight: refused by name, and
# the workload carries on untouched (its checks pass at D/stop).
t_aio-inflight() {
	need "$WLB/aioring" "$CKPT"
	start_wl "$WLB/aioring" inflight
	refused_by_name "AIO context [0-9a-f]* of $PID: 1 requests in flight"
}

# Without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN ckpt can't see the
# requests in flight: an AIO ring is refused, saying why, and the
# workload carries on untouched.
t_aio-nobpf() {
	need "$WLB/aioring" "$CKPT"
	start_wl "$WLB/aioring"
	refused_without_bpf "mapping [0-9a-f]*-[0-9a-f]* of $PID: an AIO ring (io_setup) whose requests in flight can't be seen (BPF: Operation not permitted)"
}
