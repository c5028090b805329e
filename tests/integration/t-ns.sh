# t-ns.sh - namespaces: a tree in UTS and IPC namespaces of its own comes
# back in new ones with its hostname; namespaces restore does not make
# are refused by name; restore --pidns.  Sourced by run.sh.

ALL_TESTS+=(ns-uts ns-uts-tree ns-refuse-pid ns-refuse-net ns-refuse-time
	    ns-refuse-mnt ns-refuse-sysv ns-refuse-mqueue)
CKPT_ONLY+="ns-uts ns-uts-tree ns-refuse-pid ns-refuse-net ns-refuse-time "
CKPT_ONLY+="ns-refuse-mnt ns-refuse-sysv ns-refuse-mqueue "

# ns_uts_of PID: the hostname PID's UTS namespace has
ns_uts_of() {
	nsenter -t "$1" -u hostname 2>>"$D/errors.log"
}

# ns_check_own PID KIND: PID is in a KIND namespace that is not ours
ns_check_own() {
	[[ $(readlink "/proc/$1/ns/$2") != "$(readlink "/proc/self/ns/$2")" ]] ||
		fail "$1 is in our $2 namespace"
}

ns_check_uts() {
	ns_check_own "$PID" uts
	ns_check_own "$PID" ipc
	[[ $(ns_uts_of "$PID") == ckpt-ns-test ]] ||
		fail "hostname after restore: $(ns_uts_of "$PID")"
	[[ $(hostname) != ckpt-ns-test ]] || fail "our own hostname changed"
}

# A counter in UTS and IPC namespaces of its own (unshare without a
# fork: the counter is the top of both) with hostname ckpt-ns-test,
# dumped with --kill and restored: new namespaces, the hostname back.
t_ns-uts() {
	need "$WLB/counter"
	HOOK_RESTORED=ns_check_uts
	wl_test unshare -u -i "$BASH" -c \
		"hostname ckpt-ns-test && exec $WLB/counter"
}

# A shell loop and a counter under it in UTS and IPC namespaces the shell
# leads (nsloop.sh), under a reaper: the tree comes back in one new pair
# of namespaces, its hostname kept.
t_ns-uts-tree() {
	need "$WLB/reaper" "$WLB/counter"
	HOOK_RESTORED=ns_check_uts_tree
	reaper_tree_test unshare -u -i "$BASH" "$WLS/nsloop.sh" \
		"$WLB/counter" ckpt-ns-test
}

ns_check_uts_tree() {
	local k
	ns_check_uts
	for k in $(child_pids "$PID"); do
		[[ $(readlink "/proc/$k/ns/uts") == "$(readlink "/proc/$PID/ns/uts")" ]] ||
			fail "child $k is not in the uts namespace of $PID"
	done
}

# ns_refused RE CMD...: the counter run by CMD (unshare without a fork,
# so that it keeps its PID) is refused by name, "PID: RE", and runs on.
ns_refused() {
	local re=$1
	shift
	need "$WLB/counter"
	start_wl "$@"
	refused_by_name "$PID: $re" --tree
}

# a process whose children go to a PID namespace of its own
t_ns-refuse-pid() {
	ns_refused "it is in a pid_for_children namespace of its own .*: PID namespaces are not supported yet .*" \
		unshare -p "$WLB/counter"
}

t_ns-refuse-net() {
	ns_refused "it is in a net namespace of its own (net:.[0-9]*.): not supported yet" \
		unshare -n "$WLB/counter"
}

t_ns-refuse-time() {
	ns_refused "it is in a time namespace of its own .*" \
		unshare -T --monotonic 1000 "$WLB/counter"
}

# a mount namespace with a mount ckpt's lacks (one with the same mounts
# is dumped: see ns-uts, whose unshare... and t-inet-ext's ip netns exec)
t_ns-refuse-mnt() {
	ns_refused "it is in a mnt namespace of its own .*: not supported yet" \
		unshare -m --propagation private "$BASH" -c \
		"mount -t tmpfs ckpt-ns-test /mnt && exec $WLB/counter"
}

# an IPC namespace of the tree's own holding a System V object, or a
# POSIX message queue, would lose it
t_ns-refuse-sysv() {
	ns_refused "its ipc namespace ipc:\\[[0-9]*\\] holds System V shm objects, .*" \
		unshare -i "$BASH" -c "ipcmk -M 4096 >/dev/null && exec $WLB/counter"
}

t_ns-refuse-mqueue() {
	need "$WLB/mqmake"
	ns_refused "its ipc namespace ipc:\\[[0-9]*\\] holds POSIX message queues, which are not supported yet" \
		unshare -i "$BASH" -c "$WLB/mqmake /ckpt-ns-test && exec $WLB/counter"
}
