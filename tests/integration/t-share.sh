# t-share.sh - what tasks share: an fd table or a cwd/root/umask between
# a parent and its child, a thread's own fd table or cwd, restored and
# checked by the workload (tests/workloads/share.c); what restore would
# make separate (an address space and its signal handlers between
# processes, a cwd shared by two children and not their parent, a file
# open in a thread's own table alone, a table shared out of the tree or
# with a child that has children) refused, named, and the target runs
# on.  Sourced by run.sh.

ALL_TESTS+=(share-files share-files-out share-files-kids share-fs
	    share-fs-sibling share-vm share-vfork share-vfork-exec share-thread share-thread-fs
	    share-thread-open)
CKPT_ONLY+="share-files-out share-files-kids share-fs-sibling share-vm "
CKPT_ONLY+="share-vfork share-vfork-exec "
CKPT_ONLY+="share-thread-open "

# share_refused MODE RE [OPTION...]: tests/workloads/share.c in MODE,
# attached with OPTION..., is refused: "can't dump PID: RE, which is
# not supported".
share_refused() {
	local mode=$1 re=$2
	shift 2
	need "$WLB/share" "$CKPT"
	start_wl "$WLB/share" "$mode"
	refused_by_name "$PID: $re, which is not supported" "$@"
	check_count
}

# A child made with CLONE_FILES, dumped with the tree (under a reaper):
# the two share one fd table again.
t_share-files() {
	need "$WLB/share"
	reaper_tree_test "$WLB/share" files
}

# The same child out of the tree, and one with a child of its own.
t_share-files-out() {
	share_refused files-out \
		"it shares its fd table (CLONE_FILES) with [0-9]*, out of the tree"
}

t_share-files-kids() {
	need "$WLB/share" "$CKPT"
	start_wl "$WLB/share" files-kids
	refused_by_name "[0-9]*: it shares its parent's fd table (CLONE_FILES) and has children, which is not supported" \
		--tree
	check_count
}

# A child made with CLONE_FS, dumped with the tree (under a reaper: the
# killed child's zombie must go before its PID is restored): the two
# share one cwd and umask again.
t_share-fs() {
	need "$WLB/share"
	reaper_tree_test "$WLB/share" fs
}

# Two children sharing a cwd that their parent has not.
t_share-fs-sibling() {
	need "$WLB/share" "$CKPT"
	start_wl "$WLB/share" fs-sibling
	refused_by_name "[0-9]*: it shares its cwd, root and umask (CLONE_FS) with [0-9]*, not through a parent, which is not supported" \
		--tree
	check_count
}

# CLONE_VM | CLONE_SIGHAND: the address space is named first.
t_share-vm() {
	share_refused vm \
		"it shares its address space (CLONE_VM) with [0-9]*" --tree
}

# A vfork() child that has not called execve() yet and its parent, which
# waits in vfork(): one address space, refused before the parent is
# frozen, which would never stop (under a reaper, which reaps them once
# the workload ends).
t_share-vfork() {
	need "$WLB/reaper" "$WLB/share" "$CKPT"
	start_wl "$WLB/reaper" "$WLB/share" vfork
	refused_by_name "[0-9]*: it waits in vfork() for a child that shares its address space (CLONE_VM), which is not supported" \
		--tree
	check_count
}

# A child H that waits in vfork() most of the time, its vfork() child
# calling execve() 200 ms after: each dump waits for the execve() rather
# than refuse (three dumps that leave it running, all of which would
# have to fall in the gaps otherwise), then one with --kill; restored,
# H carries on with its rounds (the workload checks).
dumps_live() {
	local i
	for i in 1 2 3; do
		expect_exit 0 "$CKPT" attach --tree -o "$D/img" "$PID"
	done
}

t_share-vfork-exec() {
	HOOK_RUNNING=dumps_live
	reaper_tree_test "$WLB/share" vfork-exec
}

# A thread that unshared its fd table, closed one and moved another.
t_share-thread() {
	need "$WLB/share"
	wl_test "$WLB/share" thread
}

# A thread that unshared its cwd and umask and changed them.
t_share-thread-fs() {
	need "$WLB/share"
	wl_test "$WLB/share" thread-fs
}

# A thread with a file open in its own table only.
t_share-thread-open() {
	share_refused thread-open \
		"thread [0-9]* has fd [0-9]* open in its own fd table only"
}
