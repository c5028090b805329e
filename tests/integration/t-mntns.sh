# t-mntns.sh - mount namespaces below the root's: a tree whose processes
# ran unshare -m and changed their mounts comes back with each process in
# a namespace with the mounts it had (tmpfs with its files, binds, proc,
# unmounts, read-only remounts), those that shared one sharing it again;
# what restore cannot make again is refused by name.  Sourced by run.sh.

ALL_TESTS+=(mntns-tree mntns-container mntns-refuse-peer mntns-refuse-devpts mntns-refuse-join mntns-refuse-fd)
CKPT_ONLY+="mntns-tree mntns-container mntns-refuse-peer mntns-refuse-devpts mntns-refuse-join mntns-refuse-fd "

# mntns_view PID: PID's mounts below D as it sees them (mnt_info:
# no ids, no device numbers; peer groups as G: restore makes new ones),
# sorted
mntns_view() {
	mnt_info "$1" "$D" | sed -E 's/(shared|master):[0-9]+/\1:G/g' | sort
}

# mntns_in PID CMD...: CMD in PID's mount namespace
mntns_in() {
	local pid=$1
	shift
	nsenter -t "$pid" -m "$@" 2>>"$D/errors.log"
}

# mntns_pids: MNT_A (the root's child, in a namespace of its own), MNT_K
# (its counter) and MNT_C (its child in a namespace below A's)
mntns_pids() {
	local k
	MNT_A=
	for k in $(child_pids "$PID"); do
		[[ $(cat "/proc/$k/comm" 2>/dev/null) == bash ]] && MNT_A+=$k
	done
	[[ -n $MNT_A ]] || fail "the root has no bash child: $(child_pids "$PID")"
	MNT_K= MNT_C=
	for k in $(child_pids "$MNT_A"); do
		case $(cat "/proc/$k/comm" 2>/dev/null) in
		counter) MNT_K=$k ;;
		bash) MNT_C=$k ;;
		esac
	done
	[[ -n $MNT_K && -n $MNT_C ]] || fail "A has no counter and no bash child: $(child_pids "$MNT_A")"
	# killed if the test fails (they would wait for D/stop)
	track_pid "$MNT_A"
	track_pid "$MNT_K"
	track_pid "$MNT_C"
}

mntns_save() {
	local p
	mntns_pids
	for p in "$PID" "$MNT_A" "$MNT_K" "$MNT_C"; do
		mntns_view "$p" >"$D/view.$p"
	done
	[[ -s $D/view.$MNT_A && -s $D/view.$MNT_C && ! -s $D/view.$PID ]] ||
		fail "the workload made no mounts below D"
	grep -q "^/ $D/m .* master:G - tmpfs ckpt-mntns " "$D/view.$MNT_C" ||
		fail "C's D/m is no slave: $(cat "$D/view.$MNT_C")"
	grep -q "^/ $D/s2 [^ ]* shared:G - tmpfs" "$D/view.$MNT_A" &&
		grep -q "^/ $D/s2 [^ ]* - tmpfs" "$D/view.$MNT_C" ||
		fail "D/s2 is not shared in A and private in C"
	mntns_in "$MNT_A" cat "$D/m/n" >"$D/n.a"
	mntns_in "$MNT_C" cat "$D/m/x/n" >"$D/n.c"
}

mntns_check_inspect() {
	inspect "$D/img"
	grep -q "^ns mnt [0-9]* owner $MNT_A parent [0-9]*\$" "$D/inspect.out" ||
		fail "inspect shows no mnt namespace of $MNT_A: $(grep '^ns' "$D/inspect.out")"
	grep -q "^nsmount [0-9]* ns [0-9]* tmpfs $D/m tmpfs ckpt-mntns flags relatime options size=4096k,mode=750 propagation shared files 6 " \
		"$D/inspect.out" || fail "inspect shows no tmpfs of A: $(grep ^nsmount "$D/inspect.out" | head -n 1)"
	grep -q "^nsmount [0-9]* ns [0-9]* copy $D/m/b .* gone" "$D/inspect.out" ||
		fail "inspect shows no unmounted bind of C"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; j = json.load(sys.stdin); m = j["nsmounts"]; n = [x for x in j["namespaces"] if x["kind"] == "mnt"]; sys.exit(len(n) != 2 or any(not x["parent"] for x in n) or sorted(set(x["ns"] for x in m)) != sorted(x["id"] for x in n) or not any(x["gone"] and x["kind"] == "copy" for x in m))' ||
		fail "inspect --json shows other mount namespaces or mounts"
}

# mntns_ns PID: its mount namespace
mntns_ns() {
	readlink "/proc/$1/ns/mnt"
}

mntns_check() {
	local p n a k
	mntns_check_inspect
	for p in "$PID" "$MNT_A" "$MNT_K" "$MNT_C"; do
		mntns_view "$p" >"$D/after.$p"
		diff "$D/view.$p" "$D/after.$p" >>"$D/errors.log" ||
			fail "the mounts of $p differ after restore: $(diff "$D/view.$p" "$D/after.$p" | head -n 3 | tr '\n' ' ')"
	done
	[[ $(mntns_ns "$PID") == "$(readlink /proc/self/ns/mnt)" ]] ||
		fail "the root is not in our mount namespace"
	[[ $(mntns_ns "$MNT_A") == "$(mntns_ns "$MNT_K")" ]] ||
		fail "A and its counter do not share a mount namespace"
	[[ $(mntns_ns "$MNT_A") != "$(mntns_ns "$PID")" &&
	   $(mntns_ns "$MNT_C") != "$(mntns_ns "$MNT_A")" &&
	   $(mntns_ns "$MNT_C") != "$(mntns_ns "$PID")" ]] ||
		fail "A or C is not in a mount namespace of its own"
	[[ $(mntns_in "$MNT_A" cat "$D/m/b/f") == bound ]] ||
		fail "A's bind lost"
	mntns_in "$MNT_A" touch "$D/m/b/new" && fail "A's bind is writable"
	mntns_in "$MNT_C" touch "$D/m/new" && fail "C's tmpfs copy is writable"
	[[ -e $D/m/n ]] && fail "A's tmpfs leaked into our mount namespace"
	# C's D/m is a slave of A's again: what A mounts there reaches C
	mntns_in "$MNT_A" mount -t tmpfs ckpt-mntns-late "$D/m/x" ||
		fail "A can't mount on D/m/x"
	mntns_in "$MNT_C" grep -q " $D/m/x .* - tmpfs ckpt-mntns-late " /proc/self/mountinfo ||
		fail "A's mount did not reach C: $(mntns_in "$MNT_C" grep "$D/m" /proc/self/mountinfo)"
	# the loops carry on from what they had counted
	n=$(mntns_in "$MNT_A" cat "$D/m/n")
	((n >= $(cat "$D/n.a"))) || fail "A's count went back from $(cat "$D/n.a") to $n"
	wait_in_count "$MNT_A" "$D/m/n" $((n + 3))
	n=$(mntns_in "$MNT_C" cat "$D/m/x/n")
	((n >= $(cat "$D/n.c"))) || fail "C's count went back from $(cat "$D/n.c") to $n"
	wait_in_count "$MNT_C" "$D/m/x/n" $((n + 3))
	# A's fd 7, which its counter shares, reopened by A in its
	# namespace: the log of its tmpfs, one description (one offset)
	[[ $(stat -L -c %d:%i "/proc/$MNT_A/fd/7") == $(mntns_in "$MNT_A" stat -c %d:%i "$D/m/log") ]] ||
		fail "A's fd 7 is not the log of its tmpfs"
	n=$(mntns_in "$MNT_A" tail -n 1 "$D/m/log")
	wait_in_count "$MNT_A" "$D/m/n" $((n + 3))
	mntns_in "$MNT_A" awk 'NR != $1 { exit 1 }' "$D/m/log" ||
		fail "A's log has a gap or a repeat"
	# A wrote since restore: the counter's offset, read after A's,
	# has moved with it (apart, it would be the dump's)
	a=$(awk '/^pos:/ { print $2 }' "/proc/$MNT_A/fdinfo/7")
	k=$(awk '/^pos:/ { print $2 }' "/proc/$MNT_K/fdinfo/7")
	((k >= a)) || fail "A and its counter do not share fd 7's offset: $a, $k"
	# C's fd 6, reopened by C in its namespace, is its tmpfs's log
	[[ $(stat -L -c %d:%i "/proc/$MNT_C/fd/6") == $(mntns_in "$MNT_C" stat -c %d:%i "$D/m/x/log") ]] ||
		fail "C's fd 6 is not the log of its tmpfs"
	n=$(mntns_in "$MNT_C" tail -n 1 "$D/m/x/log")
	wait_in_count "$MNT_C" "$D/m/x/n" $((n + 3))
	[[ $(mntns_in "$MNT_C" tail -n 1 "$D/m/x/log") -gt $n ]] ||
		fail "C does not write on through fd 6"
	mntns_in "$MNT_C" awk 'NR != $1 { exit 1 }' "$D/m/x/log" ||
		fail "C's log has a gap or a repeat"
}

# wait_in_count PID FILE N: FILE, in PID's mount namespace, counts to N
wait_in_count() {
	local end=$((SECONDS + 60)) n
	while :; do
		n=$(mntns_in "$1" cat "$2")
		((n >= $3)) && return
		((SECONDS < end)) || fail "$2 of $1 stuck at $n (want $3)"
		nap
	done
}

# A shell tree (mntns.sh): the root in our mount namespace, its child A
# in one of its own with a shared tmpfs, a read-only bind and proc, A's
# counter sharing it, and C below A's, a slave of it, with the bind and
# proc unmounted, a tmpfs of its own and A's tmpfs read-only; dumped with
# --tree --kill and restored: each process sees the same mounts, the
# tmpfs files counted on, the sharing as before, and a mount A makes in
# its tmpfs reaches C's copy.
t_mntns-tree() {
	HOOK_RUNNING=mntns_save
	HOOK_RESTORED=mntns_check
	reaper_tree_test "$BASH" "$WLS/mntns.sh" "$WLB/counter"
}

# mntns_refused MODE RE: mntns.sh in MODE is refused by name (RE)
mntns_refused() {
	need "$WLB/reaper" "$WLB/counter" "$CKPT"
	start_wl "$WLB/reaper" "$BASH" "$WLS/mntns.sh" "$WLB/counter" "$1"
	refused_by_name "$2" --tree
}

# A's tmpfs is shared and C's copy of it (unshare -m --propagation
# unchanged) is its peer: restore would make them no peers
t_mntns-refuse-peer() {
	mntns_refused peer "[0-9]*: its mount on $D/m (tmpfs ckpt-mntns) in a mount namespace below the root's has propagation shared:[0-9]*, which is not supported yet (private, unbindable, shared with no peer or a slave of its parent namespace's copy)"
}

# a devpts instance mounted in A's namespace
t_mntns-refuse-devpts() {
	mntns_refused devpts "[0-9]*: its mount on $D/m/p in a mount namespace below the root's is of type devpts (ckpt-mntns-pts), which ckpt does not restore there yet"
}

# a process whose parent is not in A's namespace enters it (nsenter -m)
t_mntns-refuse-join() {
	mntns_refused join "[0-9]*: its mount namespace mnt:\[[0-9]*\] is also that of [0-9]*, and no ancestor of both in the tree is in it (setns), which is not supported yet"
}

# mntns_nested_of PID: the child of PID in a mount namespace other than
# its own, once there
mntns_nested_of() {
	local k end=$((SECONDS + 60))
	while :; do
		for k in $(child_pids "$1"); do
			[[ $(mntns_ns "$k" 2>/dev/null) != "$(mntns_ns "$1")" ]] &&
				{ echo "$k"; return; }
		done
		((SECONDS < end)) || fail "no child of $1 in a mount namespace of its own"
		nap
	done
}

# In a busybox container with its root pivoted (t-mnt.sh's mnt_root),
# a shell runs unshare -m, mounts a tmpfs on /mnt and counts in it,
# binds /tmp/www read-only on /srv and unmounts /proc; the container is
# dumped with --tree --kill and restored: the container and the nested
# shell see the same mounts as before, and the shell counts on.
t_mntns-container() {
	local r=$D/root n pid end
	need "$CKPT" "$RESTORE" /usr/bin/busybox
	MNT_PORT=$((20000 + RANDOM % 20000))
	mnt_root "$r"
	mkdir -p "$r/mnt" "$r/srv" || fail "no dirs"
	sed -i '/^exec 3>>/i\
unshare -m sh -c "mount -t tmpfs -o size=1m,mode=700 ckpt-nested /mnt \&\& echo 0 >/mnt/n \&\& mount --bind /tmp/www /srv \&\& mount -o remount,bind,ro /srv \&\& umount /proc \&\& while [ ! -e /stop ]; do read n </mnt/n; echo \\$((n + 1)) >/mnt/n; sleep 0.1; done" \&' \
		"$r/init.sh"
	mnt_pivot_start "$r" "--mount --uts --ipc"
	mnt_wait_count "$PID" 8
	pid=$(mntns_nested_of "$PID")
	track_pid "$pid"
	mnt_info "$PID" | sort >"$D/view.init"
	mnt_info "$pid" | sort >"$D/view.nested"
	grep -q " /mnt .* tmpfs ckpt-nested " "$D/view.nested" ||
		fail "the nested shell has no tmpfs: $(cat "$D/view.nested")"
	mnt_pivot_dump
	inspect "$D/img"
	grep -q "^ns mnt [0-9]* owner [0-9]* parent [0-9]*\$" "$D/inspect.out" ||
		fail "inspect shows no nested mount namespace"
	mnt_pivot_restore "$r"
	# host PIDs: the container is in a new PID namespace
	pid=$(mntns_nested_of "$PID")
	track_pid "$pid"
	mnt_info "$PID" | sort >"$D/after.init"
	mnt_info "$pid" | sort >"$D/after.nested"
	diff "$D/view.init" "$D/after.init" >>"$D/errors.log" ||
		fail "the container's mounts differ after restore: $(diff "$D/view.init" "$D/after.init" | tr '\n' ' ')"
	diff "$D/view.nested" "$D/after.nested" >>"$D/errors.log" ||
		fail "the nested shell's mounts differ after restore: $(diff "$D/view.nested" "$D/after.nested" | tr '\n' ' ')"
	[[ $(mntns_ns "$pid") != "$(mntns_ns "$PID")" ]] ||
		fail "the nested shell is in the container's mount namespace"
	n=$(cat "/proc/$pid/root/mnt/n")
	end=$((SECONDS + 60))
	until (($(cat "/proc/$pid/root/mnt/n") > n + 3)); do
		((SECONDS < end)) || fail "the nested shell's count stuck at $n"
		nap
	done
	[[ $(cat "/proc/$pid/root/srv/index.html") == served ]] ||
		fail "the nested bind lost"
	[[ ! -e /proc/$PID/root/mnt/n ]] || fail "the nested tmpfs is in the container's namespace"
	touch "$r/stop"
	wait_job "$RJOB" 120 || fail "restore still running 120 s after /stop"
	((WST == 0)) || fail "restore exited $WST: $(lastline "$D/restore.log")"
}

# A holds a file of its own tmpfs open, shared with C, in another
# namespace: restore opens it in the root's view, which lacks that tmpfs
t_mntns-refuse-fd() {
	mntns_refused fd "[0-9]*: its fd 5 $D/m/n is shared with another process and on a mount of its mount namespace below the root's that the root's lacks, which is not supported yet"
}
