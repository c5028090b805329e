# t-fdkinds.sh - the rest of the file table (issue 11): valgrind restarted
# down different paths, pidfds, SIGIO owners, deleted FIFOs, leases, AIO
# rings, and what is refused by name. Sourced by run.sh.

ALL_TESTS+=(valgrind odd-refused fown fown-group pidfds deleted-fifo
	    procfiles)
CKPT_ONLY+="valgrind odd-refused fown-group pidfds procfiles "

# vg_round N INPUT DEF IND: D/img restored with fd 5 reading INPUT, run to
# its end; valgrind's report, written where the image's log ends, says
# DEF ("B bytes in N blocks") definitely and IND indirectly lost.
vg_round() {
	local n=$1 def=$3 ind=$4 got
	echo "$2" >"$D/in$n"
	rm -f "$D/stop" "$D/restored"
	truncate -s "$FD_POS" "$D/count"
	truncate -s "$VG_POS" "$D/vg.log"
	echo "== round $n" >>"$D/restore.log"
	start_restore --fd "5=$D/in$n"
	wait_restored
	grep -q '\[vdso\]' "/proc/$PID/maps" &&
		fail "round $n: a [vdso] the image had not"
	grep -q '\[vvar\]' "/proc/$PID/maps" ||
		fail "round $n: no [vvar] after restore"
	finish
	got=$(grep -c 'LEAK SUMMARY' "$D/vg.log")
	((got == 1)) || fail "round $n: $got leak reports in D/vg.log"
	grep -q "definitely lost: $def\$" "$D/vg.log" ||
		fail "round $n ($2): $(grep -m1 'definitely lost' "$D/vg.log"), want $def"
	grep -q "indirectly lost: $ind\$" "$D/vg.log" ||
		fail "round $n ($2): $(grep -m1 'indirectly lost' "$D/vg.log"), want $ind"
}

# valgrind memcheck running the leaky workload, dumped mid-run and
# restarted three times from one image, each with its own input on fd 5
# (restore --fd): each run takes its path and valgrind's leak report is
# that path's, with the 123 bytes leaked before the dump in each.
# valgrind keeps its fds at the top of its fd limit and unmaps the vdso
# while it keeps [vvar]. valgrind runs with its gdb server (--vgdb=yes,
# the default): it holds a FIFO in /tmp open and maps a file there, which
# each restored run removes as it exits; --snapshot-open keeps both, and
# each restore puts them back (without it the second restore can't open
# the FIFO: files named by a path must be there).
t_valgrind() {
	local vgdb
	need "$WLB/leaky" "$CKPT" "$RESTORE"
	command -v valgrind >/dev/null || fail "valgrind is missing (make deps)"
	echo "none" >"$D/input"
	start_wl valgrind --leak-check=full --log-file="$D/vg.log" \
		"$WLB/leaky"
	wait_count_above 8 60 "$JOB"
	grep -q '\[vdso\]' "/proc/$PID/maps" &&
		fail "valgrind kept the vdso: the test does not test that"
	vgdb=$(ls -l "/proc/$PID/fd" | grep -c "vgdb-pipe-from-vgdb-to-$PID")
	((vgdb == 1)) || fail "valgrind holds no vgdb FIFO: the test does" \
			      "not test that"
	DUMP_OPTS=(--snapshot-open)
	dump_kill
	FD_POS=$(image_count_pos "$D/img")
	VG_POS=$(stat -c %s "$D/vg.log")
	vg_round 1 "list 4 64" "187 bytes in 2 blocks" "192 bytes in 3 blocks"
	vg_round 2 "blocks 3 1000" "3,123 bytes in 4 blocks" \
		"0 bytes in 0 blocks"
	vg_round 3 "none" "123 bytes in 1 blocks" "0 bytes in 0 blocks"
}

# What ckpt can't bring back exactly is refused by name, and the program
# runs on: an io_uring, a userfaultfd, a pidfd of a process outside the
# tree (the test's shell). (AIO rings are kept: t-aio.sh; one with a
# request in flight is refused there.)
t_odd-refused() {
	local kind what
	need "$WLB/oddfds" "$CKPT"
	for kind in uring uffd pidfd; do
		rm -f "$D/ready" "$D/stop" "$D/count"
		case $kind in
		uring) what="fd 3 of PID: anon_inode:\\[io_uring\\] is not supported yet" ;;
		uffd) what="fd 3 of PID: anon_inode:\\[userfaultfd\\] is not supported yet" ;;
		pidfd) what="fd 3 of PID: a pidfd of [0-9]*, which is not a process of the dump (a thread or a process outside the tree), is not supported" ;;
		esac
		start_wl "$WLB/oddfds" "$kind"
		refused_by_name "${what/PID/$PID}"
	done
}

# SIGIO owners (a thread, the process), F_SETSIG signals, O_ASYNC and
# read and write leases (the fown workload): set again, and each signal
# reaches its thread or process with its fd after restore.
t_fown() {
	need "$WLB/fown"
	HOOK_DUMPED=fown_in_image
	wl_test "$WLB/fown"
}

# A SIGIO owner that is a process group of the tree, a child's (the
# fownpg workload, dumped with the tree): that group gets the signal
# after restore.
t_fown-group() {
	need "$WLB/reaper" "$WLB/fownpg" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$WLB/fownpg"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	rm -f "$D/kgot"
	start_restore
	wait_restored
	finish
}

fown_in_image() {
	inspect "$D/img"
	[[ $(grep -c "^fown fd " "$D/inspect.out") == 4 ]] ||
		fail "inspect shows $(grep -c "^fown fd " "$D/inspect.out")" \
		     "SIGIO owners, want 4: $(grep "^fown" "$D/inspect.out")"
	[[ $(grep -c "^lock fd .* lease " "$D/inspect.out") == 2 ]] ||
		fail "inspect shows no 2 leases: $(grep "^lock" "$D/inspect.out")"
}

# pidfds of the root's children (the pidfds workload, dumped with the
# tree): alive (from CLONE_PIDFD, dup()ed, and one PIDFD_NONBLOCK), a
# zombie and a reaped one each read as they did after restore.
t_pidfds() {
	need "$WLB/reaper" "$WLB/pidfds" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$WLB/pidfds"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	inspect "$D/img"
	[[ $(grep -c ": pidfd .* pid [0-9]" "$D/inspect.out") == 3 &&
	   $(grep -c ": pidfd .* reaped status 0x500" "$D/inspect.out") == 1 ]] ||
		fail "the image has not 3 pidfds of processes and 1 reaped:" \
		     "$(grep pidfd "$D/inspect.out")"
	start_restore
	wait_restored
	finish
}

# A FIFO opened, given bytes and deleted (the dfifo workload): made again
# in its directory, unlinked at once, its bytes delivered once; nothing
# left under a name.
t_deleted-fifo() {
	need "$WLB/dfifo"
	HOOK_DUMPED=fifo_is_ghost
	wl_test "$WLB/dfifo"
	local f
	for f in "$D"/.ckpt-ghost* "$D/f"; do
		[[ -e $f ]] && fail "the restore left ${f#"$D"/} in D"
	done
	return 0
}

fifo_is_ghost() {
	inspect "$D/img"
	grep -q "^ghost .* $D/f\$" "$D/inspect.out" ||
		fail "no ghost for D/f in the image: $(grep ghost "$D/inspect.out")"
}

# /proc files of a child in the tree and of the root's second thread (the
# procfiles workload, dumped with the tree): each is that process's or
# thread's again after restore, at its offset.
t_procfiles() {
	need "$WLB/procfiles"
	reaper_tree_test "$WLB/procfiles"
}
