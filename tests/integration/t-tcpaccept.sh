# t-tcpaccept.sh - TCP connections a listener has not accepted yet
# (tests/workloads/tcpaccept.c: three clients connected, their messages
# sent and unread, none accepted): dumped with --kill, they go back in
# the restored listener's queue (restore/inet-accept.c), which accepts
# them in order, each message exact, and the clients get their echoes;
# with the clients in the tree, or outside it (--tcp-established,
# IPv4 and IPv6); refused without --kill with the connections left in
# place; the network lock gone after a restore that fails.  Each test
# runs in a network namespace of its own (restore puts a TC program on
# its lo).  Sourced by run.sh.

ALL_TESTS+=(tcpaccept-tree tcpaccept-out tcpaccept-out6 tcpaccept-refused
	    tcpaccept-lock)
CKPT_ONLY+="tcpaccept-tree tcpaccept-out tcpaccept-out6 "
CKPT_ONLY+="tcpaccept-refused tcpaccept-lock "

# tacc_ns: a network namespace for the test (TACC_NS), lo up, removed
# when the test ends; skipped where restore could not put connections
# back (no bpf_sk_assign_tcp_reqsk: Linux 6.9)
tacc_ns() {
	need "$WLB/tcpaccept" "$CKPT" "$RESTORE"
	command -v ip >/dev/null || fail "ip (iproute2) not found"
	command -v nsenter >/dev/null || fail "nsenter (util-linux) not found"
	"$CKPT" check 2>/dev/null | grep -qx 'ok tcp-accept-queue' ||
		skip "the kernel can't put connections in a listener's queue"
	TACC_NS=netaccept-$BASHPID
	trap 'cleanup; tacc_ns_down' EXIT
	ip netns add "$TACC_NS" && ip -n "$TACC_NS" link set lo up ||
		fail "can't make network namespace $TACC_NS"
	RESTORE_CMD=(nsenter --net="/run/netns/$TACC_NS" "$RESTORE")
	# ckpt dumps a tree of its own network namespace only
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %q "$@"\n' \
		"$TACC_NS" "$CKPT" >"$D/ckpt-in-ns"
	chmod +x "$D/ckpt-in-ns"
	CKPT=$D/ckpt-in-ns
}

tacc_ns_down() {
	[[ -e /run/netns/$TACC_NS ]] && ip netns del "$TACC_NS"
	return 0
}

# tacc_start CMD...: CMD in the namespace, until the server's clients
# are queued and it counts
tacc_start() {
	start_wl nsenter --net="/run/netns/$TACC_NS" "$@"
	wait_count_above 8 60 "$JOB"
}

# tacc_queued N: inspect shows N connections not accepted yet
tacc_queued() {
	local n
	inspect "$D/img"
	n=$(grep -c "^file [0-9]*: tcp .* recvq 40000 bytes.*, not accepted yet by file [0-9]*," \
		"$D/inspect.out")
	[[ $n == "$1" ]] || fail "inspect shows $n connections not accepted" \
		"yet, want $1: $(grep tcp "$D/inspect.out")"
}

# tacc_locks: the ckpt_ tables of the namespace, one per line
tacc_locks() {
	ip netns exec "$TACC_NS" nft list tables 2>/dev/null |
		grep -o 'ckpt_[a-z0-9_]*'
}

# tacc_restore: restore in the namespace; the server accepts its clients
# (they say so, each in D/client-N.ok), carries on and ends at D/stop
tacc_restore() {
	start_restore
	wait_restored
	finish
	[[ -z $(tacc_locks) ]] || fail "a network lock is left: $(tacc_locks)"
}

# The clients in the tree, dumped with the server (under a reaper, which
# takes the killed clients away before their PIDs are restored).
t_tcpaccept-tree() {
	tacc_ns
	need "$WLB/reaper"
	tacc_start "$WLB/reaper" "$WLB/tcpaccept" tree
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	tacc_queued 3
	tacc_restore
}

# The clients outside the dumped tree (the server alone): their
# connections behind the network lock until restore has them back.
tacc_out() {
	tacc_ns
	tacc_start "$WLB/tcpaccept" out "$@"
	DUMP_OPTS=(--tcp-established)
	dump_kill
	tacc_queued 3
	[[ -n $(tacc_locks) ]] || fail "no network lock after the dump"
	tacc_restore
}

t_tcpaccept-out() {
	tacc_out
}

t_tcpaccept-out6() {
	tacc_out 6
}

# Without --kill the connections are not taken from the listener: the
# dump is refused naming it and why; so is one with --kill whose clients
# are outside without --tcp-established. The server runs on, and its
# connections are all still there: it accepts them and ends well.
t_tcpaccept-refused() {
	tacc_ns
	tacc_start "$WLB/tcpaccept" out
	expect_exit 70 "$CKPT" attach --tcp-established -o "$D/img" "$PID"
	one_line_err "attach without --kill"
	grep -q "listening on 127.0.0.1:[0-9]*, with 3 connections not yet accepted, which ckpt takes from it only with --kill$" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	expect_exit 70 "$CKPT" attach --kill -o "$D/img" "$PID"
	grep -q "with a connection not yet accepted that can't be kept: .*whose other end is not in the tree" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	no_image "a refused dump"
	stopped "$PID" && fail "target left stopped (state $ST)"
	RJOB=$JOB
	DUMP_COUNT=$(count_lines)
	# finish wants more than 6 lines past DUMP_COUNT: no restore here
	# takes time between, so wait for them
	wait_count_above $((DUMP_COUNT + 7)) 60 "$JOB"
	finish
}

# A restore that fails (net.ipv4.tcp_syncookies 0 in its namespace: the
# kernel would not take the connections) says why in one line and
# removes the network lock; the image restores once the setting is back.
t_tcpaccept-lock() {
	tacc_ns
	tacc_start "$WLB/tcpaccept" out
	DUMP_OPTS=(--tcp-established)
	dump_kill
	ip netns exec "$TACC_NS" sysctl -qw net.ipv4.tcp_syncookies=0 ||
		fail "can't set tcp_syncookies in $TACC_NS"
	expect_exit 70 "${RESTORE_CMD[@]}" "$D/img"
	grep -q "tcp_syncookies is 0" "$D/cmd.err" ||
		fail "restore does not say why: $(cat "$D/cmd.err")"
	[[ -z $(tacc_locks) ]] || fail "a failed restore left the lock: $(tacc_locks)"
	gone "$PID" || fail "a failed restore left PID $PID"
	ip netns exec "$TACC_NS" sysctl -qw net.ipv4.tcp_syncookies=1
	tacc_restore
}
