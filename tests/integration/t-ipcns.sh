# t-ipcns.sh - IPC namespaces of the tree's own: their System V objects
# come back in the new namespace with their ids, keys, owners and
# contents; what is not kept is refused by name.  Sourced by run.sh.

ALL_TESTS+=(ipcns-sysv ipcns-live ipcns-refuse-attached ipcns-mqfd
	    ipcns-mqfd-live ipcns-refuse-mqfd ipcns-join-net
	    ipcns-join-gone ipcns-join-uts-ipc semundo-refused)
CKPT_ONLY+="ipcns-sysv ipcns-live ipcns-refuse-attached ipcns-mqfd "
CKPT_ONLY+="ipcns-mqfd-live ipcns-refuse-mqfd ipcns-join-net "
CKPT_ONLY+="ipcns-join-gone ipcns-join-uts-ipc semundo-refused "

# ipcns_ids PID: the System V ids PID's IPC namespace lists, in order
ipcns_ids() {
	nsenter -t "$1" -i sh -c 'for k in msg sem shm; do
		awk "NR > 1 { print \"$k\", \$2 }" /proc/sysvipc/$k; done' \
		2>>"$D/errors.log" | sort | tr '\n' ' '
}

ipcns_sysv_dumped() {
	local ids
	read -r -a ids <"$D/sysv.ids"
	inspect "$D/img"
	grep -q "^sysv msg ${ids[0]} key 0x4350aa01 ns [0-9]* mode 0620 uid 1000 gid 1001 cuid 1234 cgid 2345 size 3000 messages 5\$" \
		"$D/inspect.out" || fail "inspect shows no queue: $(grep ^sysv "$D/inspect.out")"
	grep -q "^sysv sem ${ids[2]} key 0x4350aa02 .* size 5 values 5\$" \
		"$D/inspect.out" || fail "inspect shows no semaphores"
	grep -q "^sysv shm ${ids[3]} key 0x4350aa03 .* size 12388 data 8292 locked\$" \
		"$D/inspect.out" || fail "inspect shows no segment, or its hole: $(grep '^sysv shm' "$D/inspect.out")"
	grep -q "^sysv mqueue 0 key 0 ns [0-9]* mode 0604 uid 1003 gid 1004 cuid 0 cgid 0 size 100 name /ckpt-ipcns maxmsg 7 messages 5\$" \
		"$D/inspect.out" || fail "inspect shows no POSIX queue: $(grep '^sysv mq' "$D/inspect.out")"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; s = json.load(sys.stdin)["sysv"]; sys.exit(sorted(x["kind"] for x in s) != ["mqueue", "msg", "msg", "sem", "shm"])' ||
		fail "inspect --json shows other System V objects"
}

ipcns_sysv_check() {
	local ids want
	read -r -a ids <"$D/sysv.ids"
	want=$(printf '%s\n' "msg ${ids[0]}" "msg ${ids[1]}" "sem ${ids[2]}" \
		"shm ${ids[3]}" | sort | tr '\n' ' ')
	ns_check_own "$PID" ipc
	[[ $(ipcns_ids "$PID") == "$want" ]] ||
		fail "ids after restore: $(ipcns_ids "$PID"), want $want"
	grep -qi "0x4350aa0" /proc/sysvipc/msg /proc/sysvipc/sem \
		/proc/sysvipc/shm && fail "an object came back in our namespace"
	return 0
}

# A workload in an IPC namespace of its own with queues, semaphores and a
# segment, none attached, dumped --kill: restored in a new namespace where
# it finds each with its id, key, owner, creator and contents.
t_ipcns-sysv() {
	need "$WLB/sysvns"
	HOOK_DUMPED=ipcns_sysv_dumped
	HOOK_RESTORED=ipcns_sysv_check
	wl_test unshare -i "$WLB/sysvns"
}

# The same workload dumped without --kill: reading its objects left them
# as they were (the queues' messages, in order; the segment's bytes),
# which it checks as it runs on.
t_ipcns-live() {
	ipcns_live
}

# ipcns_live [MODE]: sysvns MODE dumped without --kill, running on
ipcns_live() {
	need "$WLB/sysvns"
	start_wl unshare -i "$WLB/sysvns" "$@"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" attach --tree -o "$D/img" "$PID"
	DUMP_COUNT=$(count_lines)
	# it ran on: finish wants more than 6 lines past the dump, and
	# counts 4 itself
	wait_count_above $((DUMP_COUNT + 3)) 60 "$JOB"
	RJOB=$JOB
	finish
}

# A segment the tree has attached in an IPC namespace that a process
# outside the tree is in too (a sleep the workload's shell left behind):
# the namespace is joined at restore, not made, so the segment is not
# the tree's to keep: refused by name (one kept in a namespace of the
# tree's own is in t-ipcatt.sh)
t_ipcns-refuse-attached() {
	need "$WLB/sysvns"
	start_wl unshare -i "$BASH" -c "(sleep 600 </dev/null >/dev/null 2>&1 &
		echo \$! >$D/outside.pid); exec $WLB/sysvns attached"
	track_pid "$(<"$D/outside.pid")"
	refused_by_name "$PID: System V segment [0-9]* that it attached is in ipc:\[[0-9]*\], which processes outside the tree share, which is not supported yet" --tree
}

ipcns_mqfd_dumped() {
	ipcns_sysv_dumped
	grep -q "^file [0-9]*: mqueue ino [0-9]* flags 04002 /ckpt-ipcns\$" \
		"$D/inspect.out" ||
		fail "inspect shows no queue fd: $(grep ^file "$D/inspect.out")"
}

# The workload holding an fd of its POSIX message queue (read and
# written, O_NONBLOCK), dumped --kill: restored, the fd is of the queue
# its name opens in the new namespace, with its flags, and carries a
# message both ways (sysvns checks it after the queue's messages)
t_ipcns-mqfd() {
	need "$WLB/sysvns"
	HOOK_DUMPED=ipcns_mqfd_dumped
	HOOK_RESTORED=ipcns_sysv_check
	wl_test unshare -i "$WLB/sysvns" mqfd
}

# The same dumped without --kill: it runs on with its fd and queue as
# they were
t_ipcns-mqfd-live() {
	ipcns_live mqfd
}

# An fd of a POSIX message queue that was unlinked since: its name opens
# nothing, refused by name
t_ipcns-refuse-mqfd() {
	need "$WLB/sysvns"
	start_wl unshare -i "$WLB/sysvns" mqfd-unlinked
	refused_by_name "fd 3 of $PID: /ckpt-ipcns (deleted) is a POSIX message queue that was unlinked (mq_unlink), which is not supported yet" --tree
}


# ---- namespaces shared with processes outside the tree: joined ----------

# ipcns_join_up: IPCNS_NET, a network namespace of ours (ip netns add),
# and a process outside the tree in it
ipcns_join_up() {
	IPCNS_NET=ipcns-join-$BASHPID
	trap 'cleanup; ip netns del "$IPCNS_NET" 2>/dev/null' EXIT
	ip netns add "$IPCNS_NET" || fail "can't add network namespace $IPCNS_NET"
	(spawn nsenter --net="/run/netns/$IPCNS_NET" sleep 600) </dev/null >/dev/null 2>&1 &
	track_job $!
}

# ipcns_ns_of PID KIND: the inode of PID's KIND namespace
ipcns_ns_of() {
	stat -L -c %i "/proc/$1/ns/$2" 2>>"$D/errors.log"
}

ipcns_join_dumped() {
	inspect "$D/img"
	grep -q "^nsjoin net [0-9]* owner $PID path /run/netns/$IPCNS_NET\$" \
		"$D/inspect.out" || fail "inspect shows no network namespace to join: $(grep ^ns "$D/inspect.out")"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; j = json.load(sys.stdin)["nsjoins"]; sys.exit(len(j) != 1 or j[0]["kind"] != "net" or j[0]["path"] != sys.argv[1])' \
		"/run/netns/$IPCNS_NET" || fail "inspect --json shows no network namespace to join"
	grep -q "^ns net \|^netdev " "$D/inspect.out" &&
		fail "the shared network namespace was saved to be made again"
	return 0
}

ipcns_join_check() {
	[[ $(ipcns_ns_of "$PID" net) == "$(stat -L -c %i "/run/netns/$IPCNS_NET")" ]] ||
		fail "restored in network namespace $(readlink "/proc/$PID/ns/net"), not $IPCNS_NET's"
}

# A counter in a network namespace that `ip netns add` made and another
# process is in too: dumped --kill, restored in that same namespace
# (joined through /run/netns/NAME), not in a new one. nsenter, not ip
# netns exec: that makes a mount namespace ckpt does not restore.
t_ipcns-join-net() {
	need "$WLB/counter"
	ipcns_join_up
	HOOK_DUMPED=ipcns_join_dumped
	HOOK_RESTORED=ipcns_join_check
	wl_test nsenter --net="/run/netns/$IPCNS_NET" "$WLB/counter"
}

# The namespace to join is gone at restore: one line, exit 70, nothing
# runs
t_ipcns-join-gone() {
	need "$WLB/counter"
	ipcns_join_up
	start_wl nsenter --net="/run/netns/$IPCNS_NET" "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	dump_kill
	ip netns del "$IPCNS_NET" || fail "can't delete $IPCNS_NET"
	expect_exit 70 "$RESTORE" "$D/img"
	one_line_err "restore"
	grep -q "can't join the net namespace at /run/netns/$IPCNS_NET: No such file or directory\$" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	gone "$PID" || fail "$PID runs after a failed restore"
}

# UTS and IPC namespaces that a process outside the tree is in too (a
# sleep the workload's shell left behind), not mounted anywhere: restore
# without --join-ns says what to give; with it, joins them.
t_ipcns-join-uts-ipc() {
	local out
	need "$WLB/counter"
	start_wl unshare -u -i "$BASH" -c "(sleep 600 </dev/null >/dev/null 2>&1 &
		echo \$! >$D/outside.pid); exec $WLB/counter"
	wait_count_above 8 60 "$JOB"
	out=$(<"$D/outside.pid")
	track_pid "$out"
	dump_kill
	expect_exit 70 "$RESTORE" "$D/img"
	one_line_err "restore"
	grep -q "the uts namespace uts:\[[0-9]*\] of $PID was shared with processes outside the tree: give restore --join-ns uts=PATH\$" \
		"$D/cmd.err" || fail "no error saying what to give: $(cat "$D/cmd.err")"
	start_restore --join-ns "uts=/proc/$out/ns/uts" \
		--join-ns "ipc=/proc/$out/ns/ipc"
	wait_restored
	[[ $(ipcns_ns_of "$PID" uts) == "$(ipcns_ns_of "$out" uts)" &&
	   $(ipcns_ns_of "$PID" ipc) == "$(ipcns_ns_of "$out" ipc)" ]] ||
		fail "restored in other uts or ipc namespaces than $out's"
	finish
}

# A process holding a semaphore undo value (SEM_UNDO, which the kernel
# applies when it exits and no call reads): refused by name, seen with
# BPF (ckpt/bpf/semundo.bpf.c); it runs on, its semaphore as it was.
t_semundo-refused() {
	need "$WLB/semundo"
	start_wl "$WLB/semundo"
	refused_by_name "$PID: thread $PID has System V semaphore undo values (semop with SEM_UNDO), which no call reads back"
}
