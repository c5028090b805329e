# t-speed.sh - pre-copy (attach --pre-copy): memory copied while the
# process runs and writes it, then only what it wrote since while it is
# frozen. The memory must come back as it was at the freeze (dirtier.c
# replays every write), the target must not notice (its own check after
# the dump), and a process with a userfaultfd of its own is left alone.
# Sourced by run.sh.

ALL_TESTS+=(precopy precopy-kill precopy-tree precopy-uffd)
CKPT_ONLY+="precopy precopy-kill precopy-tree precopy-uffd "

# speed_untracked PID...: no userfaultfd of ours is left in each process,
# nor a range registered with one.
speed_untracked() {
	local p f
	for p in "$@"; do
		for f in /proc/$p/fd/*; do
			[[ $(readlink "$f") == *userfaultfd* ]] &&
				fail "$p holds a userfaultfd after the dump"
		done
		grep -q '^VmFlags:.* uw' "/proc/$p/smaps" &&
			fail "$p has memory still registered for write tracking"
	done
	return 0
}

# speed_dump_live [OPTION...]: attach --pre-copy -v without --kill into
# D/img; the rounds must have run, the tree runs on untracked.
speed_dump_live() {
	expect_exit 0 "$CKPT" -v attach --pre-copy "$@" -o "$D/img" "$PID"
	grep -q "pre-copy round 1" "$D/cmd.err" ||
		fail "no pre-copy round: $(lastline "$D/cmd.err")"
	stopped "$PID" && fail "target left stopped (state $ST)"
	speed_untracked "$PID" $TREE_KIDS
}

# speed_restore: D/img restored with D/count cut back to where the image
# has it; the flow of finish() (dirtier.c checks its memory at D/stop).
speed_restore() {
	truncate -s "$(image_count_pos "$D/img")" "$D/count"
	rm -f "$D/stop" "$D/restored"
	DUMP_COUNT=$(count_lines)
	start_restore
	wait_restored
	finish
}

# One process, two threads writing: dumped live, the original checks its
# own memory at D/stop and exits 0, then the image restored checks it.
t_precopy() {
	need "$WLB/dirtier" "$CKPT" "$RESTORE"
	TREE_KIDS=
	start_wl "$WLB/dirtier"
	wait_count_above 8 60 "$JOB"
	speed_dump_live
	end_dumped_tree
	speed_restore
}

# With --kill: the pages are written from ckpt's copy while the process
# is still frozen.
t_precopy-kill() {
	need "$WLB/dirtier"
	DUMP_OPTS=(--pre-copy)
	wl_test "$WLB/dirtier"
}

# A tree of three processes, each writing.
t_precopy-tree() {
	need "$WLB/dirtier" "$CKPT" "$RESTORE"
	start_wl "$WLB/dirtier" 2
	wait_count_above 8 60 "$JOB"
	TREE_KIDS=$(child_pids "$PID")
	[[ $(wc -w <<<"$TREE_KIDS") == 2 ]] ||
		fail "dirtier 2 has children '$TREE_KIDS'"
	speed_dump_live --tree
	end_dumped_tree
	restore_tree_from "$(image_count_pos "$D/img")"
}

# A process that has a userfaultfd of its own: no write tracking of ours
# in it; the dump then refuses its userfaultfd, in one line, and it runs
# on with its registration intact (uffdown.c checks it at D/stop).
t_precopy-uffd() {
	need "$WLB/uffdown" "$CKPT"
	start_wl "$WLB/uffdown"
	refused_by_name "fd [0-9]* of $PID: anon_inode:\\[userfaultfd\\] is not supported yet" \
		--pre-copy
}
