# t-ipcatt.sh - System V segments that the tree keeps attached in an IPC
# namespace of its own: made again in the new namespace (SYSV records)
# and attached again by each process where it had them (SHM objects
# flagged ipcns).  And a runc container holding a process that `runc
# exec` started, which is not in the tree of its init: refused, or left
# out with --leave-exec (t-runc.sh's helpers).  Sourced by run.sh.

ALL_TESTS+=(ipcatt-tree ipcatt-live ipcatt-sysvns runc-exec-refused
	    runc-exec-left)
CKPT_ONLY+="ipcatt-tree ipcatt-live ipcatt-sysvns runc-exec-refused "
CKPT_ONLY+="runc-exec-left "

# ipcatt_dumped: the image names both segments of the ipcatt workload
# once, as SHM objects without pages whose bytes their SYSV records hold
ipcatt_dumped() {
	local ids re
	read -r -a ids <"$D/ipcatt.ids"
	inspect "$D/img"
	for re in "^sysv shm ${ids[0]} key 0x4350ab01 .* mode 0640 uid 1000 gid 1001 .* size 24676 data [0-9]* locked\$" \
		"^sysv shm ${ids[1]} key 0 .* size 8192 data [0-9]*\$" \
		"^shm [0-9]* sysv size 24676 mode 0640 pages 0 key 0x4350ab01 shmid ${ids[0]} ipcns\$" \
		"^shm [0-9]* sysv size 8192 mode 0600 pages 0 key 0 shmid ${ids[1]} removed ipcns\$"; do
		grep -q "$re" "$D/inspect.out" ||
			fail "inspect shows no line like $re: $(grep '^s[hy]' "$D/inspect.out")"
	done
	[[ $(grep -c '^shm ' "$D/inspect.out") == 2 ]] ||
		fail "inspect shows other shm objects: $(grep '^shm' "$D/inspect.out")"
}

# ipcatt_restored: both processes back, in a namespace of their own, none
# of the segments in ours
ipcatt_restored() {
	check_tree_back
	ns_check_own "$PID" ipc
	grep -qi "0x4350ab01" /proc/sysvipc/shm &&
		fail "segment K came back in our namespace"
	return 0
}

# A parent and its child of an IPC namespace of their own (unshare -i),
# under a reaper (the killed child must be reaped before restore), share
# a keyed segment attached in pieces (one read-only by mprotect, one
# unmapped) and read-only once more, and a removed one: dumped --tree
# --kill, restored; each finds its attachments and the segments as they
# were, sees the other's writes, and the removed segment goes with the
# last detach (tests/workloads/ipcatt.c).
t_ipcatt-tree() {
	need "$WLB/reaper" "$WLB/ipcatt" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" unshare -i "$WLB/ipcatt"
	wait_count_above 8 60 "$JOB"
	TREE_KIDS=$(child_pids "$PID")
	[[ $(wc -w <<<"$TREE_KIDS") == 1 ]] ||
		fail "ipcatt has children '$TREE_KIDS', want 1"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	ipcatt_dumped
	start_restore
	wait_restored
	ipcatt_restored
	finish
}

# The same tree dumped without --kill: it runs on and ends by itself
# (its checks of the segments at the end pass: reading them changed
# nothing), then the image is restored twice, each time in a new
# namespace of its own.
t_ipcatt-live() {
	need "$WLB/ipcatt" "$CKPT" "$RESTORE"
	start_wl unshare -i "$WLB/ipcatt"
	wait_count_above 8 60 "$JOB"
	TREE_KIDS=$(child_pids "$PID")
	dump_tree_live
	ipcatt_dumped
	end_dumped_tree
	HOOK_RESTORED=ipcatt_restored
	restore_twice
}

# The sysvns workload with its sparse, locked segment left attached, in
# an IPC namespace of its own with its queues and semaphores: dumped
# --kill and restored; it finds the segment attached once, its hole
# still a hole.
t_ipcatt-sysvns() {
	need "$WLB/sysvns"
	HOOK_RESTORED=ipcns_sysv_check
	wl_test unshare -i "$WLB/sysvns" attached
}

# ipcatt_exec: a runc container (rc_start) and a `runc exec -d sleep`
# in it, EXEC_PID
ipcatt_exec() {
	rc_bundle .
	rc_start
	rc_runc exec -d --pid-file "$D/exec.pid" "$RC_ID" sleep 1000 ||
		fail "runc exec -d failed: $(lastline "$D/errors.log")"
	EXEC_PID=$(<"$D/exec.pid")
	track_pid "$EXEC_PID"
	alive "$EXEC_PID" || fail "the exec'd sleep $EXEC_PID is not running"
}

# A process that runc exec started in the container, not a descendant of
# its init: checkpoint refuses by name before it freezes or kills
# anything; the container and that process run on, runc says running
t_runc-exec-refused() {
	local n
	ipcatt_exec
	expect_exit 70 "$CKPT" container checkpoint --kill --runc-root "$RC_ROOT" \
		"$RC_ID" "$D/img"
	one_line_err "container checkpoint"
	grep -q "^ckpt: can't checkpoint container $RC_ID: its process $EXEC_PID (sleep) does not descend from its init $PID (runc exec started it?) and would not be in the image: end it first, or give --leave-exec\$" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	[[ ! -e $D/img ]] || fail "an image was written"
	n=$(mnt_count "$PID")
	mnt_wait_count "$PID" $((n + 5))
	alive "$EXEC_PID" || fail "the exec'd sleep $EXEC_PID is gone"
	[[ $(rc_runc state "$RC_ID" | jq -r .status) == running ]] ||
		fail "runc does not say running after the refusal"
	[[ $(awk '/^TracerPid:/ { print $2 }' "/proc/$PID/status") == 0 ]] ||
		fail "the container's init is traced"
	rc_thawed
}

# With --leave-exec the checkpoint leaves that process out: --kill ends
# it with the container (the kernel kills a PID namespace's processes
# when its init dies); the restored container carries on without it,
# and runc's commands work on it
t_runc-exec-left() {
	ipcatt_exec
	expect_exit 0 "$CKPT" container checkpoint --kill --leave-exec \
		--runc-root "$RC_ROOT" "$RC_ID" "$D/img"
	wait_gone "$PID" 60 || fail "$PID still there 60 s after"
	wait_gone "$EXEC_PID" 60 || fail "the exec'd sleep $EXEC_PID outlived the container"
	rc_restore
	rc_runc ps "$RC_ID" | grep -q "sleep 1000" &&
		fail "the exec'd sleep is back: $(rc_runc ps "$RC_ID")"
	rc_check_runc
}
