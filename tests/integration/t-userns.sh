# t-userns.sh - user namespaces: a container in a user namespace of its
# own (several id ranges, setgroups deny) comes back in a new one with
# the same maps, its other namespaces owned by it, its processes with
# the ids they had as seen inside; a counter in one of its own alone;
# rootless: nobody dumps and restores (--pidns) nobody's counter; a
# user namespace below the root's refused by name (a cgroup namespace
# in one: t-nsct.sh).  Sourced by run.sh.

ALL_TESTS+=(userns-container userns-rootless userns-plain userns-refuse-below
	    userns-tmpfs)
CKPT_ONLY+="userns-container userns-rootless userns-plain userns-refuse-below "
CKPT_ONLY+="userns-tmpfs "

# userns_launch: what start_wl runs. unshare -U -p -f makes the user and
# PID namespaces (unshare itself stays in the user one: the root's
# parent, which ckpt allows); this shell writes the maps once unshare
# made the namespace (several lines: no unshare option does that
# without newuidmap); PID 1 waits for them (the gid map, written last),
# then makes its mount (with /proc of its PID namespace), UTS and IPC
# namespaces, owned by the user one, and runs nsloop.sh, the counter
# under it as uid 1000, gid 5 inside (host 201000 and 300005), through
# D/uidctr.
userns_launch() {
	local u own
	unshare -U -p -f "$BASH" -c \
		'until [[ $(</proc/self/gid_map) ]]; do sleep 0.05; done
		 read -r p _ </proc/self/stat
		 NSLOOP_PID=$p exec unshare -m --propagation slave --mount-proc -u -i "$@"' \
		nsloop "$BASH" "$WLS/nsloop.sh" "$D/uidctr" ckpt-userns &
	u=$!
	userns_set_maps "$u"
	wait "$u"
}

# userns_set_maps PID: once PID made its user namespace, its maps: uid
# 0, 1-999 and 1000 inside are 0, 200001-200999 and 201000 here, gid 0
# and 1-999 are 0 and 300001-300999; setgroups deny
userns_set_maps() {
	local own
	own=$(readlink /proc/self/ns/user)
	until [[ $(readlink "/proc/$1/ns/user") != "$own" ]]; do
		sleep 0.05
	done
	# one write(2) each (the kernel takes a map once): cat, not printf
	echo deny >"/proc/$1/setgroups" &&
		cat >"/proc/$1/uid_map" <<<$'0 0 1\n1 200001 999\n1000 201000 1' &&
		cat >"/proc/$1/gid_map" <<<$'0 0 1\n1 300001 999' || exit 1
}

# userns_view PID KID: what a process inside PID's user namespace sees
# of it and of KID: the maps, setgroups, KID's ids and capabilities
userns_view() {
	local f
	for f in uid_map gid_map setgroups; do
		echo "$f: $(tr -s ' ' <"/proc/$1/$f")"
	done
	nsenter -t "$1" -U --preserve-credentials cat "/proc/$2/status" |
		grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+):'
}

# userns_owners PID: the user namespace that owns each of PID's pid,
# uts, ipc and mnt namespaces, one line each (NS_GET_USERNS)
userns_owners() {
	python3 - "$1" <<'EOF'
import fcntl, os, sys
for k in ("pid", "uts", "ipc", "mnt"):
    fd = os.open("/proc/%s/ns/%s" % (sys.argv[1], k), os.O_RDONLY)
    u = fcntl.ioctl(fd, 0xb701)  # NS_GET_USERNS
    print(k, os.fstat(u).st_ino)
EOF
}

# userns_kid PID: PID's child that is the counter
userns_kid() {
	local k
	for k in $(child_pids "$1"); do
		[[ $(readlink "/proc/$k/exe") == "$WLB/counter" ]] &&
			{ echo "$k"; return; }
	done
	fail "no child of $1 is the counter"
}

# userns_hold: a mount namespace of ours that nothing changes (a private
# copy, held by a sleep: USERNS_HOLD its PID), where the container, ckpt
# and restore run (CKPT and RESTORE_CMD, local to the caller, go through
# nsenter). Mounts that were there when the container took its copy are
# locked in it (a less privileged namespace) and stay when this host
# unmounts them (other tests come and go): ckpt would rightly see the
# container's mounts differ from its own.
userns_hold() {
	(spawn unshare -m --propagation private sleep 1000) </dev/null \
		>>"$D/out.log" 2>&1 &
	USERNS_HOLD=$!
	track_job "$USERNS_HOLD"
	until [[ $(readlink "/proc/$USERNS_HOLD/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]]; do
		job_done "$USERNS_HOLD" && fail "unshare -m failed"
		nap
	done
	printf '#!/bin/sh\nexec nsenter -t %d -m --wd=%q -- %q "$@"\n' \
		"$USERNS_HOLD" "$D" "$CKPT" >"$D/ckpt-in"
	chmod +x "$D/ckpt-in"
	CKPT=$D/ckpt-in
	RESTORE_CMD=(nsenter -t "$USERNS_HOLD" -m --wd="$D" -- "$RESTORE")
}

t_userns-container() {
	local before after kid own CKPT=$CKPT RESTORE_CMD=("${RESTORE_CMD[@]}")
	need "$WLB/counter" "$CKPT" "$RESTORE"
	userns_hold
	printf '#!/bin/sh\nchmod 1777 . && exec setpriv --reuid=1000 --regid=5 --keep-groups %q\n' \
		"$WLB/counter" >"$D/uidctr"
	# the counter, uid 201000 here, goes through D
	chmod +x "$D/uidctr" && chmod 755 "$D"
	start_wl nsenter -t "$USERNS_HOLD" -m --wd="$D" -- "$BASH" -c \
		"$(declare -f userns_launch userns_set_maps); WLS=$WLS D=$D userns_launch"
	ns_check_own "$PID" user
	kid=$(userns_kid "$PID")
	before=$(userns_view "$PID" "$kid")
	[[ $before == *"Uid:	1000	1000	1000"* ]] ||
		fail "the counter is not uid 1000 inside: $before"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "unshare did not end after the kill"
	inspect "$D/img"
	grep -q "^ns user [0-9]* owner 1 " "$D/inspect.out" ||
		fail "inspect shows no user namespace: $(grep '^ns' "$D/inspect.out")"
	start_restore
	PID=$(ns_init_in "$D") || exit 1
	track_pid "$PID"
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
	ns_check_own "$PID" user
	[[ $(ns_uts_of "$PID") == ckpt-userns ]] ||
		fail "hostname after restore: $(ns_uts_of "$PID")"
	kid=$(userns_kid "$PID")
	after=$(userns_view "$PID" "$kid")
	[[ $after == "$before" ]] ||
		fail "seen inside, before: $before; after: $after"
	own=$(stat -Lc %i "/proc/$PID/ns/user")
	userns_owners "$PID" >"$D/owners" || fail "can't read the owners"
	grep -qv " $own\$" "$D/owners" &&
		fail "a namespace not owned by the user one ($own): $(cat "$D/owners")"
	finish
}

# USERNS_NOBODY: how the rootless test runs a command as nobody, without
# capabilities (no user is made: nobody exists everywhere)
USERNS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

# Rootless: nobody's counter (under a shell of nobody's: ckpt compares
# the root with its parent, which it may only do for its own processes)
# is dumped by nobody with --kill and restored by nobody with --pidns,
# in a new user namespace (its uid mapped to itself) and PID namespace;
# it counts on as nobody, with no capability.
t_userns-rootless() {
	local CKPT=$CKPT RESTORE_CMD=("${USERNS_NOBODY[@]}" -- "$RESTORE")
	need "$WLB/counter" "$CKPT" "$RESTORE"
	"${USERNS_NOBODY[@]}" -- "$CKPT" check 2>/dev/null |
		grep -q '^ok unprivileged-user-namespaces$' ||
		skip "ckpt check: no unprivileged user namespaces here"
	# nobody writes D and, restored, reopens the counter's stdout
	chmod 1777 "$D" && touch "$D/out.log" && chmod 666 "$D/out.log"
	printf '#!/bin/sh\nexec %s -- %q "$@"\n' "${USERNS_NOBODY[*]}" \
		"$CKPT" >"$D/ckpt-nobody"
	chmod +x "$D/ckpt-nobody"
	start_wl "${USERNS_NOBODY[@]}" -- "$BASH" -c '"$1" & wait' sh \
		"$WLB/counter"
	[[ $(stat -c %u "/proc/$PID") == 65534 ]] || fail "the counter is not nobody's"
	wait_count_above 8 60 "$JOB"
	CKPT=$D/ckpt-nobody
	dump_kill
	wait_job "$JOB" 60 || fail "nobody's shell did not end after the kill"
	[[ $(stat -c %u "$D/img") == 65534 ]] || fail "the image is not nobody's"
	# without --pidns: one line saying what needs root
	expect_exit 70 "${USERNS_NOBODY[@]}" -- "$RESTORE" "$D/img"
	one_line_err "restore without --pidns"
	grep -q "CAP_CHECKPOINT_RESTORE (root), or restore --pidns" "$D/cmd.err" ||
		fail "restore without --pidns: $(cat "$D/cmd.err")"
	start_restore --pidns
	PID=$(ns_host_pid "$PID") || exit 1
	is_ours "$PID" || fail "process $PID in a new PID namespace is not ours"
	track_pid "$PID"
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
	ns_check_own "$PID" user
	ns_check_own "$PID" pid
	[[ $(tr -s ' ' <"/proc/$PID/uid_map") == " 65534 65534 1" ]] ||
		fail "uid_map of the restored counter: $(cat "/proc/$PID/uid_map")"
	grep -q "^Uid:	65534	65534	65534" "/proc/$PID/status" &&
		grep -q "^CapEff:	0*$" "/proc/$PID/status" ||
		fail "restored counter: $(grep -E '^(Uid|CapEff)' "/proc/$PID/status")"
	finish
}

userns_plain_dumped() {
	inspect "$D/img"
	grep -q "^ns user [0-9]* owner $PID setgroups deny\$" "$D/inspect.out" &&
		grep -q "^ns-uid-map [0-9]* 0 0 1\$" "$D/inspect.out" ||
		fail "inspect shows no user namespace: $(grep '^ns' "$D/inspect.out")"
}

userns_plain_restored() {
	ns_check_own "$PID" user
	[[ $(readlink "/proc/$PID/ns/pid") == "$(readlink /proc/self/ns/pid)" ]] ||
		fail "the restored counter is not in our PID namespace"
	[[ $(tr -s ' ' <"/proc/$PID/uid_map") == " 0 0 1" &&
	   $(<"/proc/$PID/setgroups") == deny ]] ||
		fail "restored maps: $(cat "/proc/$PID/uid_map" "/proc/$PID/setgroups")"
}

# A counter in a user namespace of its own, no other (unshare -U -r, which
# execs it: same PID), restored without options in a new one, with its
# PID of before in ours
t_userns-plain() {
	HOOK_DUMPED=userns_plain_dumped
	HOOK_RESTORED=userns_plain_restored
	need "$WLB/counter"
	wl_test unshare -U -r "$WLB/counter"
}

# A shell in a user namespace of its own, its counter in one below:
# refused by name, the shell and counter run on
t_userns-refuse-below() {
	local kid
	need "$WLB/counter" "$CKPT"
	start_wl unshare -U -r "$BASH" -c 'unshare -U -r "$1" & wait' sh \
		"$WLB/counter"
	kid=$PID
	read -r _ _ _ PID _ <"/proc/$kid/stat"
	[[ $(readlink "/proc/$PID/ns/user") != "$(readlink "/proc/$kid/ns/user")" ]] ||
		fail "the counter is in its shell's user namespace"
	refused_by_name "$kid: it is in a user namespace of its own (user:\\[[0-9]*\\]): a user namespace below the root's is not supported yet" --tree
}

userns_tmpfs_owner() {
	[[ $(nsenter -t "$PID" -U -m --preserve-credentials stat -c '%u %g' "$D/m/f") == "1000 5" &&
	   $(nsenter -t "$PID" -m stat -c '%u %g' "$D/m/f") == "201000 300005" &&
	   $(nsenter -t "$PID" -m cat "$D/m/f") == hi ]] ||
		fail "the tmpfs file: $(nsenter -t "$PID" -m stat -c '%u %g %s' "$D/m/f")"
	ns_check_own "$PID" user
	ns_check_own "$PID" mnt
}

# A counter in user and mount namespaces of its own (the maps of
# userns_set_maps) with a tmpfs mounted inside holding a file of uid
# 1000, gid 5 there: restored, the file is back, of the same owner seen
# inside (201000 and 300005 here)
t_userns-tmpfs() {
	need "$WLB/counter"
	mkdir "$D/m" || fail "no dir"
	start_wl "$BASH" -c "$(declare -f userns_set_maps)"'
		unshare -U -m --propagation private "$BASH" -c '\''
			until [[ $(</proc/self/gid_map) ]]; do sleep 0.05; done
			mount -t tmpfs t "$1/m" && echo hi >"$1/m/f" &&
				chown 1000:5 "$1/m/f" && exec "$2"'\'' sh "$1" "$2" &
		userns_set_maps $!
		wait' sh "$D" "$WLB/counter"
	HOOK_RESTORED=userns_tmpfs_owner
	wl_test_started
}
