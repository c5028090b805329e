# t-share.sh - what tasks share that restore would make separate (an fd
# table, a cwd/root/umask, an address space and its signal handlers
# between processes, a thread's own fd table) is refused, named, and the
# target runs on.  Sourced by run.sh.

ALL_TESTS+=(share-files share-files-out share-fs share-vm share-thread)
CKPT_ONLY+="share-files share-files-out share-fs share-vm share-thread "

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

# A child made with CLONE_FILES, in the tree and out of it.
t_share-files() {
	share_refused files \
		"it shares its fd table (CLONE_FILES) with [0-9]*" --tree
}

t_share-files-out() {
	share_refused files \
		"it shares its fd table (CLONE_FILES) with [0-9]*, out of the tree"
}

t_share-fs() {
	share_refused fs \
		"it shares its cwd, root and umask (CLONE_FS) with [0-9]*" --tree
}

# CLONE_VM | CLONE_SIGHAND: the address space is named first.
t_share-vm() {
	share_refused vm \
		"it shares its address space (CLONE_VM) with [0-9]*" --tree
}

# A thread that unshared its fd table.
t_share-thread() {
	share_refused thread \
		"thread [0-9]* does not share its fd table (CLONE_FILES) with it"
}
