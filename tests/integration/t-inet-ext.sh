# t-inet-ext.sh - TCP connections whose peer is outside the dumped tree
# (ckpt attach --tcp-established): two network namespaces joined by a
# veth pair (10.233.N.1 and .2, made and removed by each test), a client
# streaming to a server with every byte checked (tests/workloads/
# tcpstream.c), either side dumped with --kill, restored seconds later in
# its namespace or in a third one that carries the same address; python3
# -m http.server serving curl --limit-rate; the network lock (an nftables
# table, looked at with nft) gone after every way a dump or restore can
# end; and the refusal without the option.  Sourced by run.sh.
#
# CKPT_TCPEXT_SIZE sets the bytes streamed (default 256 MiB; each test
# takes 10-20 s here): the client paces itself to about a quarter of them
# a second. The fault and refusal tests stream 8 MiB.

ALL_TESTS+=(tcpext-server tcpext-client tcpext-both tcpext-migrate
	    tcpext-http tcpext-faults tcpext-refused tcpext-close tcpext-run)
CKPT_ONLY+="tcpext-server tcpext-client tcpext-both tcpext-migrate "
CKPT_ONLY+="tcpext-http tcpext-faults tcpext-refused tcpext-close "
CKPT_ONLY+="tcpext-run "

TCPEXT_SIZE=${CKPT_TCPEXT_SIZE:-$((256 << 20))}
TCPEXT_PORT=5000

# netns_up: NSA (ADDR_A and ADDR6_A on VA) and NSB (ADDR_B, ADDR6_B on
# VB) joined by a veth pair, removed (with NSC, if a test made it) when
# the test ends.
netns_up() {
	local id=$BASHPID
	need "$WLB/tcpstream"
	command -v ip >/dev/null || fail "ip (iproute2) not found"
	command -v nft >/dev/null || fail "nft (nftables) not found"
	NSA=ckpt-ext-a$id NSB=ckpt-ext-b$id NSC=ckpt-ext-c$id
	VA=cxa$id VB=cxb$id
	ADDR_A=10.233.$((id % 250 + 1)).1 ADDR_B=10.233.$((id % 250 + 1)).2
	ADDR6_A=fd00:233:$((id % 250 + 1))::1 ADDR6_B=fd00:233:$((id % 250 + 1))::2
	trap 'cleanup; netns_down' EXIT
	ip netns add "$NSA" && ip netns add "$NSB" &&
	ip link add "$VA" type veth peer name "$VB" &&
	ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" &&
	ns_addr "$NSA" "$VA" "$ADDR_A" && ns_addr "$NSB" "$VB" "$ADDR_B" &&
	ip -n "$NSA" addr add "$ADDR6_A/64" dev "$VA" nodad &&
	ip -n "$NSB" addr add "$ADDR6_B/64" dev "$VB" nodad ||
		fail "can't make the test's network namespaces"
}

ns_addr() {
	ip -n "$1" addr add "$3/24" dev "$2" && ip -n "$1" link set "$2" up &&
	ip -n "$1" link set lo up
}

netns_down() {
	local ns
	for ns in "$NSA" "$NSB" "$NSC"; do
		[[ -e /run/netns/$ns ]] && ip netns del "$ns"
	done
	return 0
}

# locks NS: the ckpt_ tables of namespace NS, one per line
locks() {
	ip netns exec "$1" nft list tables 2>>"$D/errors.log" |
		grep -o 'inet ckpt_[0-9_]*'
}

no_lock() {
	[[ -z $(locks "$1") ]] || fail "$2: the network lock is still there:" \
				       "$(locks "$1")"
}

# wait_no_lock NS WHAT: the lock goes within 30 s
wait_no_lock() {
	local end=$((SECONDS + 30))
	while [[ -n $(locks "$1") ]]; do
		((SECONDS < end)) || no_lock "$1" "$2"
		nap
	done
}

# wait_file NAME JOB: D/NAME exists (a line with its newline); JOB must
# not end first
wait_file() {
	local end=$((SECONDS + 60)) line
	until [[ -f $D/$1 ]] && read -r line <"$D/$1"; do
		job_done "$2" && fail "the stream ended before $1:" \
				      "$(lastline "$D/out.log")"
		((SECONDS < end)) || fail "no $1 after 60 s"
		nap
	done
}

# stream_start [SIZE]: the server in NSA (SJOB, SPID), the client in NSB
# (CJOB, CPID; run by the command STREAM_UNDER, if set), up to half the
# stream; over IPv6 when STREAM_ADDR is ADDR6_A
STREAM_UNDER=()
stream_start() {
	local addr=${STREAM_ADDR:-$ADDR_A}
	rm -f "$D"/{server.pid,client.pid,half,finish}
	(spawn ip netns exec "$NSA" "$WLB/tcpstream" server "$addr" \
		"$TCPEXT_PORT") </dev/null >>"$D/out.log" 2>&1 &
	SJOB=$!
	track_job "$SJOB"
	wait_file server.pid "$SJOB"
	SPID=$(<"$D/server.pid")
	track_pid "$SPID"
	(spawn ip netns exec "$NSB" "${STREAM_UNDER[@]}" "$WLB/tcpstream" \
		client "$addr" "$TCPEXT_PORT" "${1:-$TCPEXT_SIZE}") \
		</dev/null >>"$D/out.log" 2>&1 &
	CJOB=$!
	track_job "$CJOB"
	wait_file client.pid "$CJOB"
	CPID=$(<"$D/client.pid")
	track_pid "$CPID"
	wait_file half "$CJOB"
}

# ext_dump NS PID [OPTION...]: ckpt attach --kill --tcp-established in
# NS; PID gone, its job reaped, the lock in NS
ext_dump() {
	local ns=$1 pid=$2
	shift 2
	expect_exit 0 ip netns exec "$ns" "$CKPT" attach --kill \
		--tcp-established "$@" -o "$D/img" "$pid"
	wait_gone "$pid" 30 || fail "$pid still there after the dump"
	[[ -n $(locks "$ns") ]] ||
		fail "no network lock in $ns after the dump"
}

# ext_restore NS: restore D/img in NS (RJOB)
ext_restore() {
	(spawn ip netns exec "$1" "$RESTORE" "$D/img") </dev/null \
		>>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
}

# stream_end JOB...: D/finish; each JOB (the restore of a dumped side
# among them) exits 0, both sides having checked every byte
stream_end() {
	local j
	touch "$D/finish"
	for j in "$@"; do
		wait_job "$j" 120 || fail "the stream did not end 120 s after" \
					  "the restore ($(diag))"
		((WST == 0)) || fail "a side of the stream exited $WST:" \
				     "$(grep -h FAIL "$D/out.log" "$D/restore.log" |
					tail -n 1)"
	done
	grep -q "^server: $TCPEXT_SIZE bytes right" "$D/out.log" &&
	grep -q "^client: $TCPEXT_SIZE bytes sent and checked" "$D/out.log" ||
		fail "the stream did not end right: $(tail -n 2 "$D/out.log")"
}

# The server dumped in mid-stream, away for seconds while its peer
# retransmits into the lock, restored in its namespace: the stream
# completes byte-exact and the lock is gone.
t_tcpext-server() {
	netns_up
	stream_start
	ext_dump "$NSA" "$SPID"
	wait_job "$SJOB" 30 || fail "can't reap the dumped server"
	inspect "$D/img"
	grep -Eq "^file [0-9]+: tcp .* established .*, peer outside, lock \
ckpt_[0-9_]+, " "$D/inspect.out" || fail "inspect shows no connection with a" \
					 "lock: $(grep tcp "$D/inspect.out")"
	sleep 3
	ext_restore "$NSA"
	PID=$SPID wait_back
	wait_no_lock "$NSA" "after the restore"
	stream_end "$CJOB" "$RJOB"
}

# The same with the client dumped, over IPv6: its send queue comes back.
t_tcpext-client() {
	netns_up
	STREAM_ADDR=$ADDR6_A stream_start
	ext_dump "$NSB" "$CPID"
	wait_job "$CJOB" 30 || fail "can't reap the dumped client"
	ip netns exec "$NSB" nft list ruleset | grep -q "ip6 saddr $ADDR6_A " ||
		fail "the lock has no IPv6 rule: $(ip netns exec "$NSB" nft list ruleset)"
	sleep 3
	ext_restore "$NSB"
	PID=$CPID wait_back
	wait_no_lock "$NSB" "after the restore"
	stream_end "$SJOB" "$RJOB"
}

# Both ends in one tree (a server and its client child in NSA, under a
# reaper: see reaper.c): the option changes nothing, no lock is taken,
# the pair comes back.
t_tcpext-both() {
	need "$WLB/reaper"
	netns_up
	rm -f "$D"/{server.pid,client.pid,half,finish}
	(spawn ip netns exec "$NSA" "$WLB/reaper" "$WLB/tcpstream" both \
		"$ADDR_A" "$TCPEXT_PORT" "$TCPEXT_SIZE") </dev/null \
		>>"$D/out.log" 2>&1 &
	SJOB=$!
	track_job "$SJOB"
	wait_file server.pid "$SJOB"
	SPID=$(<"$D/server.pid")
	track_pid "$SPID"
	wait_file half "$SJOB"
	CPID=$(<"$D/client.pid")
	track_pid "$CPID"
	expect_exit 0 ip netns exec "$NSA" "$CKPT" attach --kill --tree \
		--tcp-established -o "$D/img" "$SPID"
	no_lock "$NSA" "a dump without a peer outside"
	wait_job "$SJOB" 30 || fail "the reaper did not end after the kill"
	sleep 1
	ext_restore "$NSA"
	PID=$SPID wait_back
	stream_end "$RJOB"
}

# Migration: the server's address moves to a third namespace (the veth
# end with it) while the server is away, once restore --lock-network has
# locked it there (else the peer's retransmissions would meet a reset);
# restored there, the stream completes.
t_tcpext-migrate() {
	netns_up
	stream_start
	ext_dump "$NSA" "$SPID"
	wait_job "$SJOB" 30 || fail "can't reap the dumped server"
	ip netns add "$NSC" || fail "can't make $NSC"
	expect_exit 0 ip netns exec "$NSC" "$RESTORE" --lock-network "$D/img"
	[[ -n $(locks "$NSC") ]] || fail "restore --lock-network took no lock"
	gone "$SPID" || fail "restore --lock-network restored $SPID"
	ip -n "$NSA" link set "$VA" netns "$NSC" &&
	ns_addr "$NSC" "$VA" "$ADDR_A" || fail "can't move $VA to $NSC"
	sleep 2
	ext_restore "$NSC"
	PID=$SPID wait_back
	no_lock "$NSC" "after the restore"
	stream_end "$CJOB" "$RJOB"
}

# python3 -m http.server serving 8 MiB to curl --limit-rate 1M, dumped
# mid-transfer (with 2 MiB or more still to send) and restored: curl's
# file is the original.
t_tcpext-http() {
	local py end size
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	command -v curl >/dev/null || fail "curl not found"
	netns_up
	# socket buffers of 256 KiB at most, in these namespaces only: the
	# file must not fit in them, or the server would be done before curl
	ip netns exec "$NSA" sysctl -qw net.ipv4.tcp_wmem="4096 16384 262144" &&
	ip netns exec "$NSB" sysctl -qw net.ipv4.tcp_rmem="4096 65536 262144" ||
		fail "can't set the namespaces' TCP buffer sizes"
	mkdir "$D/www" && head -c $((16 << 20)) /dev/urandom >"$D/www/big" ||
		fail "can't make the file to serve"
	(spawn ip netns exec "$NSA" "$py" -m http.server --bind "$ADDR_A" \
		--directory "$D/www" 8000) </dev/null >>"$D/out.log" 2>&1 &
	SJOB=$!
	SPID=$SJOB
	track_job "$SJOB"
	track_pid "$SPID"
	end=$((SECONDS + 60))
	until ip netns exec "$NSB" curl -sf -o /dev/null \
		"http://$ADDR_A:8000/" 2>/dev/null; do
		job_done "$SJOB" && fail "http.server ended:" \
					  "$(lastline "$D/out.log")"
		((SECONDS < end)) || fail "http.server not up after 60 s"
		sleep 0.2
	done
	(spawn ip netns exec "$NSB" curl -sSf --limit-rate 1M -o "$D/got" \
		"http://$ADDR_A:8000/big") </dev/null >>"$D/out.log" 2>&1 &
	CJOB=$!
	track_job "$CJOB"
	end=$((SECONDS + 60))
	while size=$(stat -c %s "$D/got" 2>/dev/null || echo 0);
	      ((size < (2 << 20))); do
		job_done "$CJOB" && fail "curl ended early:" \
					  "$(lastline "$D/out.log")"
		((SECONDS < end)) || fail "curl got $size bytes in 60 s"
		nap
	done
	ext_dump "$NSA" "$SPID"
	wait_job "$SJOB" 30 || fail "can't reap the dumped server"
	size=$(stat -c %s "$D/got")
	# not all of it: how far it got depends on how long the dump took
	((size < (16 << 20))) || fail "curl had $size bytes at the dump:" \
				      "the transfer was not in its middle"
	sleep 2
	ext_restore "$NSA"
	PID=$SPID wait_back
	wait_no_lock "$NSA" "after the restore"
	wait_job "$CJOB" 120 || fail "curl still running 120 s after restore"
	((WST == 0)) || fail "curl exited $WST: $(lastline "$D/out.log")"
	cmp -s "$D/www/big" "$D/got" ||
		fail "curl's file differs from the one served:" \
		     "$(cmp "$D/www/big" "$D/got" 2>&1)"
	kill "$SPID"
	wait_job "$RJOB" 60 || fail "the restored http.server did not end"
}

# ckpt_stopped_at FAULT NS PID OPTION...: ckpt attach OPTION... PID in
# NS, stopped at fault point FAULT (CJPID is its PID, AJOB its job); the
# lock is there then
ckpt_stopped_at() {
	local fault=$1 ns=$2 pid=$3 end=$((SECONDS + 60))
	shift 3
	(CKPT_FAULT=$fault:stop spawn ip netns exec "$ns" "$CKPT" attach \
		"$@" -o "$D/img" "$pid") </dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	AJOB=$!
	track_job "$AJOB"
	until stopped "$AJOB"; do
		job_done "$AJOB" && fail "ckpt ended before $fault:" \
					 "$(lastline "$D/cmd.err")"
		((SECONDS < end)) || fail "ckpt not stopped at $fault after 60 s"
		nap
	done
	[[ -n $(locks "$ns") ]] || fail "no lock at fault point $fault"
}

# The server runs on, not stopped, and the stream completes: the peer
# never saw a reset.
runs_on() {
	stopped "$SPID" && fail "$1: the server was left stopped"
	stream_end "$SJOB" "$CJOB"
}

# The lock is gone after a dump without --kill (the tree runs on), after
# SIGTERM during a dump, after a dump refused after the lock was taken,
# after a failed restore, and after a restore killed outright (its
# guardian removes it); each connection lives on or dies, never stuck.
t_tcpext-faults() {
	need "$CKPT" "$RESTORE"
	netns_up
	TCPEXT_SIZE=$((8 << 20))
	# attach without --kill
	stream_start
	expect_exit 0 ip netns exec "$NSA" "$CKPT" attach --tcp-established \
		-o "$D/img" "$SPID"
	no_lock "$NSA" "attach without --kill"
	runs_on "attach without --kill"
	rm -f "$D/img"
	# SIGTERM while the lock holds
	stream_start
	ckpt_stopped_at netlock "$NSA" "$SPID" --kill --tcp-established
	kill -TERM "$AJOB"
	kill -CONT "$AJOB"
	wait_job "$AJOB" 60 || fail "ckpt still running 60 s after SIGTERM"
	((WST != 0)) || fail "ckpt exited 0 after SIGTERM"
	no_lock "$NSA" "SIGTERM during the dump"
	no_image "an interrupted dump"
	runs_on "SIGTERM during the dump"
	# refused once the lock holds
	stream_start
	refused_with_lock
	# a restore that fails (prctl refused, after the image was read)
	stream_start
	ext_dump "$NSA" "$SPID"
	wait_job "$SJOB" 30 || fail "can't reap the dumped server"
	no_subreaper
	expect_exit 70 ip netns exec "$NSA" "${NO_SUBREAPER[@]}" "$RESTORE" \
		"$D/img"
	no_lock "$NSA" "a failed restore"
	gone "$SPID" || fail "a failed restore left $SPID"
	kill -KILL "$CPID" 2>/dev/null
	wait_job "$CJOB" 30
	# a restore killed outright
	TCPEXT_PORT=5001
	stream_start
	ext_dump "$NSA" "$SPID"
	wait_job "$SJOB" 30 || fail "can't reap the dumped server"
	CKPT_FAULT=restore-made expect_exit 137 ip netns exec "$NSA" \
		"$RESTORE" "$D/img"
	wait_no_lock "$NSA" "a restore killed outright"
	gone "$SPID" || fail "a killed restore left $SPID"
	kill -KILL "$CPID" 2>/dev/null
	wait_job "$CJOB" 30
}

# The server, given an fd of /proc/1/status (which ckpt refuses once the
# files are read) by a python3 that then execs it, is refused after the
# lock was taken: the lock goes, the stream completes.
refused_with_lock() {
	local py
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	kill -KILL "$CPID" "$SPID" 2>/dev/null
	wait_job "$CJOB" 30
	wait_job "$SJOB" 30
	rm -f "$D"/{server.pid,client.pid,half,finish}
	(spawn ip netns exec "$NSA" "$py" -c '
import os, socket, sys
os.set_inheritable(os.open("/proc/1/status", os.O_RDONLY), True)
os.execv(sys.argv[1], sys.argv[1:])' "$WLB/tcpstream" server "$ADDR_A" \
		"$TCPEXT_PORT") </dev/null >>"$D/out.log" 2>&1 &
	SJOB=$!
	track_job "$SJOB"
	wait_file server.pid "$SJOB"
	SPID=$(<"$D/server.pid")
	(spawn ip netns exec "$NSB" "$WLB/tcpstream" client "$ADDR_A" \
		"$TCPEXT_PORT" "$TCPEXT_SIZE") </dev/null >>"$D/out.log" 2>&1 &
	CJOB=$!
	track_job "$CJOB"
	wait_file half "$CJOB"
	ckpt_stopped_at netlock "$NSA" "$SPID" --kill --tcp-established
	kill -CONT "$AJOB"
	wait_job "$AJOB" 60 || fail "the refused ckpt still running"
	((WST == 70)) || fail "ckpt exited $WST, want 70 (refused):" \
			      "$(lastline "$D/cmd.err")"
	grep -q "/proc/1/status is a /proc file of process 1" "$D/cmd.err" ||
		fail "refused for another reason: $(lastline "$D/cmd.err")"
	no_lock "$NSA" "a refused dump"
	no_image "a refused dump"
	runs_on "a refused dump"
}

# Without --tcp-established the dump is refused naming the process, the
# fd and the 4-tuple; the stream goes on untouched.
t_tcpext-refused() {
	local re
	need "$CKPT"
	netns_up
	TCPEXT_SIZE=$((8 << 20))
	stream_start
	expect_exit 70 ip netns exec "$NSA" "$CKPT" attach --kill \
		-o "$D/img" "$SPID"
	one_line_err "attach --kill"
	re="^ckpt: can't dump fd [0-9]+ of $SPID: socket:\[[0-9]+\] is a TCP"
	re+=" connection to ${ADDR_B//./\\.}:[0-9]+ from"
	re+=" ${ADDR_A//./\\.}:$TCPEXT_PORT, whose other end is not in the"
	re+=" tree; only TCP connections within the tree are kept without"
	re+=" --tcp-established\$"
	grep -Eq "$re" "$D/cmd.err" ||
		fail "no error naming it: $(cat "$D/cmd.err")"
	no_lock "$NSA" "a dump refused without --tcp-established"
	no_image "a refused dump"
	runs_on "a refused dump"
}

# ckpt run --tcp-established: the client of a stream (16 MiB) under
# ckpt run, checkpointed twice in mid-stream; each checkpoint holds the
# connection to the server outside the job, the lock goes as soon as the
# job runs on, and the stream completes byte-exact.
t_tcpext-run() {
	local i img
	need "$CKPT"
	netns_up
	TCPEXT_SIZE=$((16 << 20))
	STREAM_UNDER=("$CKPT" run -D "$D/run" --tcp-established --)
	stream_start
	for i in 1 2; do
		expect_exit 0 "$CKPT" dump "$D/run"
		img=$(cat "$D/cmd.out")
		[[ -f $img ]] || fail "checkpoint $i: no image '$img'"
		no_lock "$NSB" "checkpoint $i of ckpt run"
		inspect "$img"
		grep -q "^file [0-9]*: tcp .* established .*peer outside" \
			"$D/inspect.out" ||
			fail "checkpoint $i holds no connection to the server:" \
			     "$(grep tcp "$D/inspect.out")"
	done
	stream_end "$CJOB" "$SJOB"
}

# lo_netns: a network namespace NSA with its loopback up alone, removed
# when the test ends
lo_netns() {
	NSA=ckpt-ext-l$BASHPID NSB=ckpt-ext-l$BASHPID-b NSC=ckpt-ext-l$BASHPID-c
	command -v ip >/dev/null || fail "ip (iproute2) not found"
	command -v nft >/dev/null || fail "nft (nftables) not found"
	trap 'cleanup; netns_down' EXIT
	ip netns add "$NSA" && ip -n "$NSA" link set lo up ||
		fail "can't make the test's network namespace"
}

# TCP connections being closed whose peer is outside the tree, over IPv4
# and IPv6, on the loopback of a namespace (tests/workloads/tcpclose.c
# ext): the tree holds an end in every closing state (FIN_WAIT1,
# FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING) and in ESTABLISHED, queues
# full, a process outside the tree the other ends. Dumped with --kill
# --tcp-established, restored: each end is in the state it was and
# delivers every byte once, then its end of file, on both sides; the
# lock is gone.
tcpext_close_image() {
	local st n
	inspect "$D/img"
	for st in established:2 fin-wait1:2 fin-wait2:6 close-wait:2 \
		  last-ack:2 closing:2; do
		n=$(grep -c "^file [0-9]*: tcp .* ${st%:*} .*peer outside" \
			"$D/inspect.out")
		[[ $n == "${st#*:}" ]] ||
			fail "inspect shows $n TCP sockets ${st%:*} with their" \
			     "peer outside, want ${st#*:}:" \
			     "$(grep tcp "$D/inspect.out")"
	done
}

t_tcpext-close() {
	need "$WLB/tcpclose" "$CKPT" "$RESTORE"
	lo_netns
	start_wl ip netns exec "$NSA" "$WLB/tcpclose" ext
	track_pid "$(<"$D/outside.pid")"
	wait_count_above 8 60 "$JOB"
	ext_dump "$NSA" "$PID"
	wait_job "$JOB" 30 || fail "can't reap the dumped workload"
	DUMP_COUNT=$(count_lines)
	tcpext_close_image
	sleep 1
	RESTORE_CMD=(ip netns exec "$NSA" "$RESTORE")
	start_restore
	wait_restored
	wait_no_lock "$NSA" "after the restore"
	finish
	[[ -f $D/outside.done ]] ||
		fail "the ends outside the tree did not finish:" \
		     "$(grep -h FAIL "$D/out.log" | tail -n 1)"
}
