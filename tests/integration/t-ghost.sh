# t-ghost.sh - files that no path reaches: deleted files open or mapped,
# a file replaced by another of its name, a deleted cwd (the ghost
# workload); the size limit of such files (--ghost-limit), and that a
# restore leaves none of them behind under any name; memfd descriptors;
# O_PATH descriptors and /proc files; file locks and their holders.
# Sourced by run.sh.

ALL_TESTS+=(ghost ghost-exe ghost-limit ghost-restore-fail memfd paths
	    paths-outside locks lease)
CKPT_ONLY+="ghost-limit ghost-restore-fail paths-outside lease "

# Nothing in D named like restore's temporary names, nor like the ghosts.
no_ghost_names() {
	local f
	for f in "$D"/.ckpt-ghost*; do
		fail "$1 left ${f#"$D"/} in D"
	done
	for f in g1 g3 g4 gdir; do
		[[ -e $D/$f ]] && fail "$1 left $f in D"
	done
	return 0
}

# A program whose executable is deleted while it runs (an upgrade): its
# text and the exe link come back from the image.
t_ghost-exe() {
	need "$WLB/counter"
	cp "$WLB/counter" "$D/prog" || fail "can't copy the counter"
	start_wl "$D/prog"
	rm "$D/prog"
	HOOK_RESTORED=exe_is_ghost
	wl_test_started
}

exe_is_ghost() {
	[[ $(readlink "/proc/$PID/exe") == "$D/prog (deleted)" ]] ||
		fail "exe after restore: $(readlink "/proc/$PID/exe")"
	[[ -e $D/prog ]] && fail "the restore left D/prog"
	return 0
}

t_ghost() {
	need "$WLB/ghost"
	HOOK_RESTORED=no_ghost_names_restored
	wl_test "$WLB/ghost"
	no_ghost_names "the restore"
}

no_ghost_names_restored() {
	no_ghost_names "the restore"
}

# A deleted file with more data than --ghost-limit: the dump is refused,
# naming the process, the fd and the file; the target runs on.
t_ghost-limit() {
	need "$WLB/ghost" "$CKPT"
	start_wl "$WLB/ghost"
	refused_by_name "fd [0-9]* of $PID: $D/g1 (deleted) holds 16384 bytes, over the ghost limit of 8192 (--ghost-limit)" \
		--ghost-limit 8K
}

# A restore that fails after it made the ghosts (prctl refused, as in
# t_restore-fail-shm) leaves none of them in D under any name.
t_ghost-restore-fail() {
	need "$WLB/ghost" "$CKPT" "$RESTORE"
	start_wl "$WLB/ghost"
	wait_count_above 8 60 "$JOB"
	dump_kill
	no_subreaper
	expect_exit 70 "${NO_SUBREAPER[@]}" "$RESTORE" "$D/img"
	grep -q "can't become a child subreaper" "$D/cmd.err" ||
		fail "restore did not fail where expected: $(cat "$D/cmd.err")"
	no_ghost_names "the failed restore"
	gone "$PID" || fail "the failed restore left PID $PID behind"
}

# memfd descriptors with their names, sizes, seals, data and offsets, one
# inode with the mapping (tests/workloads/memfd.c checks them).
t_memfd() {
	need "$WLB/memfd"
	wl_test "$WLB/memfd"
}

# O_PATH descriptors (a symlink's too) and /proc files of the process
# itself (tests/workloads/paths.c checks them).
t_paths() {
	need "$WLB/paths"
	wl_test "$WLB/paths"
}

# A /proc file of a process outside the dump: refused, naming it.
t_paths-outside() {
	need "$WLB/paths" "$CKPT"
	start_wl "$WLB/paths" outside
	refused_by_name "fd [0-9]* of $PID: /proc/[0-9]*/status is a /proc file of process [0-9]*, which is not in the dump"
}

# POSIX, OFD and flock locks: after restore a new process trying a
# conflicting lock fails as before the dump (tests/workloads/locks.c), and
# the image lists them.
t_locks() {
	need "$WLB/locks"
	HOOK_DUMPED=locks_in_image
	wl_test "$WLB/locks"
}

locks_in_image() {
	inspect "$D/img"
	[[ $(grep -c "^lock fd " "$D/inspect.out") == 6 ]] ||
		fail "inspect shows $(grep -c "^lock fd " "$D/inspect.out")" \
		     "locks, want 6: $(grep "^lock" "$D/inspect.out")"
}

# A lease being broken (a child waits to open the file): refused, naming
# the fd. Leases that are not: t-fdkinds.sh's fown.
t_lease() {
	need "$WLB/locks" "$CKPT"
	start_wl "$WLB/locks" lease
	refused_by_name "fd [0-9]* of $PID: $D/e holds a lease being broken (BREAKING), which can't be restored exactly"
}
