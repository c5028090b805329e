# t-cow.sh - copy-on-write snapshot dumps (attach --cow): the tree is
# frozen for its state, each process makes a snapshot child that shares
# its memory copy-on-write, the tree runs on while the pages are read
# from the snapshots. The memory must come back as it was at the freeze
# (dirtier.c replays every write), the target must not notice (its own
# check after the dump), no wait of its sees the snapshot, and no
# snapshot is left behind, even by a ckpt killed mid-copy.
# Sourced by run.sh.

ALL_TESTS+=(cow cow-tree cow-wait cow-killed cow-cloned cow-madvise)
CKPT_ONLY+="cow cow-tree cow-wait cow-killed cow-cloned cow-madvise "

# cow_kids_of PID: the children of PID (every thread's), but those the
# test knows of (COW_KNOWN)
cow_kids_of() {
	local k
	for k in $(child_pids "$1"); do
		[[ " $COW_KNOWN " == *" $k "* ]] || echo "$k"
	done
}

# cow_no_snapshot PID...: no process but those known is a child of each
# PID: its snapshot is gone, zombie included.
cow_no_snapshot() {
	local p k
	for p in "$@"; do
		k=$(cow_kids_of "$p")
		[[ -z $k ]] || fail "$p has children $k after the dump" \
				    "($(cat /proc/$k/stat 2>/dev/null))"
	done
	return 0
}

# cow_dump_live [OPTION...]: attach --cow -v without --kill into D/img;
# the snapshots were made, the tree runs on, without them.
cow_dump_live() {
	expect_exit 0 "$CKPT" -v attach --cow "$@" -o "$D/img" "$PID"
	grep -q ": snapshot [0-9]" "$D/cmd.err" ||
		fail "no snapshot made: $(lastline "$D/cmd.err")"
	stopped "$PID" && fail "target left stopped (state $ST)"
	COW_KNOWN=$(echo $TREE_KIDS)
	cow_no_snapshot "$PID" $TREE_KIDS
}

# cow_run KIDS [OPTION...]: dirtier with KIDS children dumped live with
# --cow, one snapshot a process; the dumped tree then checks its memory
# and ends.
cow_run() {
	local kids=$1 n
	shift
	need "$WLB/dirtier" "$CKPT" "$RESTORE"
	start_wl "$WLB/dirtier" "$kids"
	wait_count_above 8 60 "$JOB"
	TREE_KIDS=$(child_pids "$PID")
	(($(wc -w <<<"$TREE_KIDS") == kids)) ||
		fail "dirtier $kids has children '$TREE_KIDS'"
	cow_dump_live "$@"
	n=$(grep -c ": snapshot [0-9]" "$D/cmd.err")
	((n == kids + 1)) || fail "$n snapshots for $((kids + 1)) processes"
	end_dumped_tree
}

# One process, two threads writing and one remapping: dumped live, the
# original checks its own memory at D/stop and exits 0, then the image
# restored checks it: every word as of the freeze.
t_cow() {
	cow_run 0
	speed_restore	# t-speed.sh's
}

# A tree of two processes, each writing: two snapshots.
t_cow-tree() {
	cow_run 1 --tree
	restore_tree_from "$(image_count_pos "$D/img")"
}

# A process whose threads wait for any child all the time (cowwait.c,
# __WALL): three dumps of it and its child, each with its snapshots; no
# wait of it reports a snapshot, no SIGCHLD comes (its own verdict at
# D/stop), and the image restores.
t_cow-wait() {
	local i
	need "$WLB/cowwait" "$CKPT" "$RESTORE"
	start_wl "$WLB/cowwait"
	wait_count_above 8 60 "$JOB"
	TREE_KIDS=$(child_pids "$PID")
	for i in 1 2 3; do
		cow_dump_live --tree
		wait_count_above $(($(count_lines) + 2)) 60 "$JOB"
	done
	end_dumped_tree
	restore_tree_from "$(image_count_pos "$D/img")"
}

# ckpt killed (SIGKILL) in the middle of reading a snapshot (CKPT_FAULT
# memory, where the process runs again and its snapshot is held): the
# process runs on, its snapshot is gone within a bounded wait (killed
# with ckpt, its zombie reaped by the process, made to by the guardian),
# no image, and the process's own check of its memory passes.
t_cow-killed() {
	local job snap end=$((SECONDS + 60))
	need "$WLB/dirtier" "$CKPT"
	TREE_KIDS=
	COW_KNOWN=
	start_wl "$WLB/dirtier"
	wait_count_above 8 60 "$JOB"
	(CKPT_FAULT=memory:20:stop spawn "$CKPT" attach --cow \
		-o "$D/img" "$PID") </dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	while ! stopped "$job" && ! job_done "$job" && ((SECONDS < end)); do
		nap
	done
	stopped "$job" ||
		fail "ckpt attach not stopped mid-copy: $(lastline "$D/cmd.err")"
	stopped "$PID" && fail "target not thawed mid-copy (state $ST)"
	snap=$(cow_kids_of "$PID")
	[[ -n $snap ]] || fail "no snapshot of $PID mid-copy"
	kill -9 "$job"
	wait_job "$job" 60 || fail "ckpt attach not gone after SIGKILL"
	end=$((SECONDS + 60))
	while [[ -n $(cow_kids_of "$PID") ]]; do
		((SECONDS < end)) || fail "snapshot $snap of $PID left:" \
			"$(cat "/proc/$snap/stat" 2>/dev/null)"
		nap
	done
	[[ -e $D/img ]] && fail "an image left by the killed ckpt"
	wait_count_above $(($(count_lines) + 3)) 60 "$JOB"
	end_dumped_tree
}

# ckpt killed (CKPT_FAULT cloned) the instant its clone3 returned in the
# process, before the snapshot is ours for good: released, the snapshot
# runs none of the process's code (no line of D/count twice, the
# process's own checks pass) but its own way out, exit_group(0): it is
# at most a zombie (the window ckpt(1) tells of), gone when the process
# ends.
t_cow-cloned() {
	local k end=$((SECONDS + 60))
	need "$WLB/dirtier" "$CKPT"
	TREE_KIDS=
	COW_KNOWN=
	start_wl "$WLB/dirtier"
	wait_count_above 8 60 "$JOB"
	CKPT_FAULT=cloned expect_exit 137 "$CKPT" attach --cow -o "$D/img" \
		"$PID"
	for k in $(cow_kids_of "$PID"); do
		until pstate "$k"; [[ $ST == [ZX-] ]]; do
			((SECONDS < end)) ||
				fail "snapshot $k of $PID runs: $(cat "/proc/$k/stat")"
			nap
		done
	done
	stopped "$PID" && fail "target left stopped (state $ST)"
	wait_count_above $(($(count_lines) + 3)) 60 "$JOB"
	end_dumped_tree
	check_count
}

# A process with a mapping under MADV_DONTFORK and one under
# MADV_WIPEONFORK (madvise.c), which its snapshot does not hold as it
# does: their pages are read while it is frozen. It checks every region
# (data, advice, locks) at D/stop, and so does its restore; --cow with
# --pre-copy is a usage error, in one line.
t_cow-madvise() {
	need "$WLB/madvise" "$CKPT" "$RESTORE"
	TREE_KIDS=
	start_wl "$WLB/madvise"
	wait_count_above 8 60 "$JOB"
	expect_exit 64 "$CKPT" attach --cow --pre-copy -o "$D/img" "$PID"
	one_line_err "attach --cow --pre-copy"
	no_image "attach --cow --pre-copy"
	cow_dump_live
	end_dumped_tree
	speed_restore	# t-speed.sh's
}
