# t-epoll.sh - an epoll's ready list, kept at restore rather than
# recomputed (tests/workloads/epollet.c): an edge-triggered watch whose
# edge was reported before the dump is not reported again, a pending
# edge is reported once, EPOLLONESHOT watches stay armed or disarmed.
# Without BPF that list can't be read: the watch it matters for is
# refused by name. Sourced by run.sh.

ALL_TESTS+=(epoll-edges epoll-nested-refused epoll-edges-nobpf)
CKPT_ONLY+="epoll-nested-refused epoll-edges-nobpf "

# The workload checks its waits after restore; the image marks the two
# watches whose edge was reported (IMG_EPOLL_REPORTED, bit 27 of the
# events inspect shows), pipes A and F (data 0 and 5).
t_epoll-edges() {
	need "$WLB/epollet"
	HOOK_DUMPED=epoll_reported_in_image
	wl_test "$WLB/epollet"
}

epoll_reported_in_image() {
	local w marked=
	"$CKPT" inspect --json "$D/img" >"$D/inspect.json" ||
		fail "inspect --json failed"
	for w in $(jq -r '.. | objects | select(has("events")) |
			  "\(.events),\(.data)"' "$D/inspect.json"); do
		((${w%,*} & 0x08000000)) && marked+="${w#*,}"$'\n'
	done
	marked=$(sort <<<"$marked" | tr '\n' ' ')
	[[ $marked == " 0x0 0x5 " ]] ||
		fail "watches marked reported in the image (data):" \
		     "'$marked', want pipes A's and F's, 0x0 0x5"
}

# An epoll watching the workload's epoll, edge-triggered, its edge taken
# while that epoll stays ready: restore would make it ready again as it
# fills it, a new edge; refused by name, the workload runs on.
t_epoll-nested-refused() {
	need "$WLB/epollet" "$CKPT"
	start_wl "$WLB/epollet" nested
	refused_by_name "epoll fd [0-9]* of $PID: its edge-triggered watch of fd [0-9]* is on an epoll that is ready, its edge reported already: that epoll becomes ready again as restore fills it"
}

# Without CAP_BPF the ready list can't be read: the edge-triggered watch
# on a ready pipe is refused, saying why; the workload runs on and its
# checks pass at D/stop.
t_epoll-edges-nobpf() {
	need "$WLB/epollet" "$CKPT"
	start_wl "$WLB/epollet"
	refused_without_bpf "epoll fd [0-9]* of $PID: its edge-triggered watch of fd [0-9]* is on a file that is ready, and whether that was reported already can't be seen (BPF: Operation not permitted)"
}
