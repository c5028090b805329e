# t-nsct.sh - cgroup and time namespaces of the tree's own: a tree in a
# cgroup namespace comes back in a new one rooted at the same cgroups,
# seeing the same /proc/self/cgroup; a tree in a time namespace comes
# back in a new one whose clocks carry on from the dump, its timers
# never early.  Sourced by run.sh.

ALL_TESTS+=(nsct-cgroup-v1 nsct-cgroup-root nsct-cgroup-v2 nsct-cgroup-userns
	    nsct-container nsct-container-root nsct-runc nsct-docker nsct-refuse-shared-cgroup
	    nsct-refuse-cgroup-gone nsct-time
	    nsct-time-userns nsct-time-tree nsct-time-children nsct-refuse-shared-time nsct-check)
CKPT_ONLY+="nsct-cgroup-v1 nsct-cgroup-root nsct-cgroup-v2 nsct-cgroup-userns nsct-time "
CKPT_ONLY+="nsct-time-userns nsct-time-tree "
CKPT_ONLY+="nsct-time-children nsct-refuse-shared-cgroup nsct-refuse-shared-time "
CKPT_ONLY+="nsct-check nsct-container nsct-container-root nsct-runc nsct-docker "
CKPT_ONLY+="nsct-refuse-cgroup-gone "

# nsct_cg_inner PID: PID's /proc/PID/cgroup as its cgroup namespace shows it
nsct_cg_inner() {
	nsenter -t "$1" -C cat "/proc/$1/cgroup" 2>>"$D/errors.log"
}

nsct_cg_dumped() {
	local root=${NSCT_CG#"$NSCT_HIER"}
	inspect "$D/img"
	grep -q "^ns cgroup [0-9]* owner $PID\$" "$D/inspect.out" ||
		fail "inspect shows no cgroup namespace: $(grep '^ns' "$D/inspect.out")"
	grep -q "^ns-cgroup [0-9]* .* root $root inner $NSCT_SUB\$" \
		"$D/inspect.out" ||
		fail "inspect shows no root $root: $(grep '^ns-cgroup' "$D/inspect.out")"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; n = [x for x in json.load(sys.stdin)["namespaces"] if x["kind"] == "cgroup"]; sys.exit(not any(r["root"] == sys.argv[1] for r in n[0]["roots"]))' "$root" ||
		fail "inspect --json shows no root $root"
	# restore makes them again
	[[ $NSCT_SUB == / ]] || rmdir "$NSCT_CG$NSCT_SUB" ||
		fail "can't remove $NSCT_CG$NSCT_SUB"
	rmdir "$NSCT_CG" || fail "can't remove $NSCT_CG after the dump"
}

nsct_cg_check() {
	local got
	ns_check_own "$PID" cgroup
	got=$(nsct_cg_inner "$PID")
	[[ $got == "$NSCT_INNER" ]] ||
		fail "inside, /proc/self/cgroup reads" $got "after restore, not" $NSCT_INNER
	grep -q "^[0-9]*:$NSCT_CTRL:$NSCT_ALT${NSCT_CG#"$NSCT_HIER"}${NSCT_SUB%/}\$" \
		"/proc/$PID/cgroup" ||
		fail "restored in cgroups" $(cat "/proc/$PID/cgroup")
}

# the usual cleanup, then the test's cgroups removed, those left (a
# failed test's)
nsct_cg_cleanup() {
	local d i
	cleanup
	for d in "${NSCT_DIRS[@]}"; do
		[[ $d == */ckpt-nsct-* ]] || continue
		# the killed processes may take a moment to leave it
		for i in {1..100}; do
			[[ -d $d ]] && ! rmdir "$d" 2>/dev/null || break
			nap
		done
	done
	return 0
}

# nsct_cg_test HIERARCHY CONTROLLERS SUB [ALT]: a counter in a cgroup
# namespace rooted at a cgroup the test makes in HIERARCHY (mounted
# there, CONTROLLERS as /proc/PID/cgroup names them), then moved to its
# child SUB ("/" for none) from inside; dumped --kill, both cgroups
# removed: restored in a new cgroup namespace where /proc/self/cgroup
# reads as before, in the same cgroups (restore --cgroup-root ALT: below
# ALT).
nsct_cg_test() {
	NSCT_HIER=$1 NSCT_CTRL=$2 NSCT_SUB=$3 NSCT_ALT=${4-}
	NSCT_CG=$NSCT_HIER/ckpt-nsct-$BASHPID
	need "$WLB/counter"
	NSCT_DIRS=("$NSCT_CG/sub" "$NSCT_CG" "$NSCT_HIER$NSCT_ALT/ckpt-nsct-$BASHPID/sub"
		   "$NSCT_HIER$NSCT_ALT/ckpt-nsct-$BASHPID" "$NSCT_HIER$NSCT_ALT")
	trap nsct_cg_cleanup EXIT
	mkdir -p "$NSCT_CG${NSCT_SUB%/}" || fail "can't make $NSCT_CG$NSCT_SUB"
	start_wl "$BASH" -c "echo \$\$ >$NSCT_CG/cgroup.procs &&
		exec unshare -C $BASH -c 'echo \$\$ >$NSCT_CG${NSCT_SUB%/}/cgroup.procs &&
		exec $WLB/counter'"
	NSCT_INNER=$(nsct_cg_inner "$PID")
	grep -q "^[0-9]*:$NSCT_CTRL:$NSCT_SUB\$" <<<"$NSCT_INNER" ||
		fail "inside, /proc/self/cgroup reads" $NSCT_INNER
	HOOK_DUMPED=nsct_cg_dumped
	HOOK_RESTORED=nsct_cg_check
	[[ -z $NSCT_ALT ]] || RESTORE_CMD=("$RESTORE" --cgroup-root "$NSCT_ALT")
	wl_test_started
	NSCT_CG=$NSCT_HIER$NSCT_ALT${NSCT_CG#"$NSCT_HIER"}
	[[ $NSCT_SUB == / ]] || rmdir "$NSCT_CG$NSCT_SUB"
	rmdir "$NSCT_CG"
	[[ -z $NSCT_ALT ]] || rmdir "$NSCT_HIER$NSCT_ALT"
}

# on a v1 hierarchy (memory), in a cgroup below the namespace's root
t_nsct-cgroup-v1() {
	[[ -d /sys/fs/cgroup/memory ]] || skip "no cgroup v1 memory hierarchy"
	nsct_cg_test /sys/fs/cgroup/memory memory /sub
}

# the same restored with --cgroup-root: the namespace's root and the
# counter's cgroup below it, inside reading as before
t_nsct-cgroup-root() {
	[[ -d /sys/fs/cgroup/memory ]] || skip "no cgroup v1 memory hierarchy"
	nsct_cg_test /sys/fs/cgroup/memory memory /sub /ckpt-nsct-alt-$BASHPID
}

# on the cgroup2 hierarchy (hybrid: the unified one), at the namespace's
# root
t_nsct-cgroup-v2() {
	if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
		nsct_cg_test /sys/fs/cgroup "" /
	elif [[ -d /sys/fs/cgroup/unified ]]; then
		nsct_cg_test /sys/fs/cgroup/unified "" /
	else
		skip "no cgroup2 hierarchy"
	fi
}

nsct_userns_check() {
	ns_check_own "$PID" user
	ns_check_own "$PID" cgroup
	[[ $(nsct_cg_inner "$PID") == "$NSCT_INNER" ]] ||
		fail "inside, /proc/self/cgroup reads" $(nsct_cg_inner "$PID")
}

# A counter in cgroup and user namespaces of its own (unshare -U -r -C),
# where ckpt's cgroups are the namespace's roots: restored in new ones,
# the cgroup one made by the root of the user one
t_nsct-cgroup-userns() {
	need "$WLB/counter"
	start_wl unshare -U -r -C "$WLB/counter"
	NSCT_INNER=$(nsct_cg_inner "$PID")
	HOOK_RESTORED=nsct_userns_check
	wl_test_started
}

nsct_need_timens() {
	[[ -e /proc/self/ns/time ]] || skip "no time namespaces (Linux 5.6)"
}

# nsct_offset PID CLOCK: the seconds of PID's time namespace offset
nsct_offset() {
	awk -v c="$2" '$1 == c { print $2 }' "/proc/$1/timens_offsets" \
		2>>"$D/errors.log"
}

nsct_time_dumped() {
	inspect "$D/img"
	grep -q "^ns time [0-9]* owner $PID monotonic [0-9]* boottime [0-9]* offsets 1000000000000000 2000000000000000\$" \
		"$D/inspect.out" ||
		fail "inspect shows no time namespace: $(grep '^ns' "$D/inspect.out")"
	# the time between dump and restore, which the clocks must not count
	sleep 2
}

nsct_time_check() {
	local mono boot
	ns_check_own "$PID" time
	mono=$(nsct_offset "$PID" monotonic)
	boot=$(nsct_offset "$PID" boottime)
	((mono <= 1000000 - 2 && boot <= 2000000 - 2)) ||
		fail "offsets $mono $boot after restore: the clocks counted the time the tree was not there"
}

# A program in a time namespace with both clocks offset and two timers
# running on CLOCK_MONOTONIC (a timerfd every 20 ms, a POSIX timer far
# ahead, both armed at absolute times), dumped --kill, restored 2 s
# later: its clocks never went back and carry on from the dump (its
# offsets shrank by the 2 s, at least), its timers never early (all
# checked by the program).
t_nsct-time() {
	nsct_need_timens
	need "$WLB/timens"
	HOOK_DUMPED=nsct_time_dumped
	HOOK_RESTORED=nsct_time_check
	wl_test unshare -T -f --monotonic 1000000 --boottime 2000000 \
		"$WLB/timens" 1000000 2000000
}

# The same in a user namespace of its own (unshare -U -r): the root
# makes the time namespace in it
t_nsct-time-userns() {
	nsct_need_timens
	need "$WLB/timens"
	HOOK_DUMPED=nsct_time_dumped
	HOOK_RESTORED=nsct_time_check
	wl_test unshare -U -r -T -f --monotonic 1000000 --boottime 2000000 \
		"$WLB/timens" 1000000 2000000
}

nsct_tree_check() {
	local p ns kids
	ns=$(readlink "/proc/$PID/ns/time")
	ns_check_own "$PID" time
	kids=$(child_pids "$PID")
	[[ $(wc -w <<<"$kids") == 2 ]] || fail "the root's children: $kids"
	for p in $kids; do
		[[ $(readlink "/proc/$p/ns/time") == "$ns" ]] ||
			fail "child $p is not in the root's time namespace $ns"
	done
	(($(nsct_offset "$PID" monotonic) <= 1000000 - 2)) ||
		fail "the clocks counted the time the tree was not there"
}

# A tree (tree.c: two children and a grandchild) in a time namespace of
# its own, dumped --tree --kill, restored 2 s later: every process in
# one new time namespace, whose clocks did not count the 2 s
t_nsct-time-tree() {
	nsct_need_timens
	need "$WLB/tree"
	DUMP_OPTS=(--tree)
	HOOK_DUMPED=nsct_time_dumped
	HOOK_RESTORED=nsct_tree_check
	start_wl unshare -T -f --monotonic 1000000 --boottime 2000000 \
		"$WLB/tree"
	wl_test_started
}

nsct_children_check() {
	[[ $(readlink "/proc/$PID/ns/time") == "$(readlink /proc/self/ns/time)" ]] ||
		fail "the restored counter is not in our time namespace"
	[[ $(readlink "/proc/$PID/ns/time_for_children") != "$(readlink /proc/self/ns/time)" ]] ||
		fail "the restored counter's children go to our time namespace"
	[[ $(nsct_offset "$PID" monotonic) == 1000 && $(nsct_offset "$PID" boottime) == 2000 ]] ||
		fail "offsets after restore:" $(cat "/proc/$PID/timens_offsets")
}

nsct_children_dumped() {
	inspect "$D/img"
	grep -q "^ns time [0-9]* owner $PID .* offsets 1000000000000 2000000000000 children-only\$" \
		"$D/inspect.out" ||
		fail "inspect shows no time namespace: $(grep '^ns' "$D/inspect.out")"
}

# A program that made a time namespace for its children and has none yet
# (unshare(CLONE_NEWTIME) itself, no setns): restored in ours with the
# same namespace to come, its offsets as they were
t_nsct-time-children() {
	nsct_need_timens
	need "$WLB/timens"
	HOOK_DUMPED=nsct_children_dumped
	HOOK_RESTORED=nsct_children_check
	wl_test "$WLB/timens" 1000 2000 children
}

# nsct_refused_shared KIND OPTION: a counter in a KIND namespace that
# unshare OPTION -f made, with a sleep of its shell's, outside the tree,
# in it too: refused, naming the namespace and the sleep; the counter
# runs on
nsct_refused_shared() {
	need "$WLB/counter" "$CKPT"
	start_wl unshare "$2" -f "$BASH" -c \
		'sleep 1000 & "$1"; st=$?; kill $!; exit $st' sh "$WLB/counter"
	refused_by_name "$PID: its $1 namespace $1:\\[[0-9]*\\] is shared with [0-9]*, outside the tree"
}

t_nsct-refuse-shared-cgroup() {
	nsct_refused_shared cgroup -C
}

t_nsct-refuse-shared-time() {
	nsct_need_timens
	nsct_refused_shared time -T
}

# ckpt check says whether restore can make both kinds
t_nsct-check() {
	nsct_need_timens
	need "$CKPT"
	"$CKPT" check >"$D/check.out" 2>>"$D/errors.log"
	grep -q '^ok cgroup-namespaces$' "$D/check.out" &&
		grep -q '^ok time-namespaces$' "$D/check.out" ||
		fail "ckpt check: $(grep namespaces "$D/check.out")"
}

nsct_container_check() {
	local m
	ns_check_own "$PID" cgroup
	[[ $(nsct_cg_inner "$PID") == "$NSCT_INNER" ]] ||
		fail "inside, /proc/self/cgroup reads" $(nsct_cg_inner "$PID")
	# its cgroup mounts show the namespace's roots, with it in them
	for m in cg2 cgm; do
		nsenter -t "$PID" -m cat "$D/$m/cgroup.procs" 2>>"$D/errors.log" |
			grep -qx "$PID" ||
			fail "its $m mount does not show its cgroup namespace's root"
	done
	grep -q "^[0-9]*:memory:$NSCT_ALT/$NSCT_CG\$" "/proc/$PID/cgroup" ||
		fail "restored in cgroups" $(cat "/proc/$PID/cgroup")
	# and read in its cgroup namespace as they did: root, flags, type,
	# source and options
	nsenter -t "$PID" -C cat "/proc/$PID/mountinfo" 2>>"$D/errors.log" |
		nsct_cgroup_lines >"$D/cgmounts.after"
	[[ -s $D/cgmounts.before ]] &&
		diff "$D/cgmounts.before" "$D/cgmounts.after" >>"$D/errors.log" ||
		fail "cgroup mounts differ after restore: $(diff "$D/cgmounts.before" "$D/cgmounts.after" | tr '\n' ' ')"
}

# nsct_cgroup_lines: the lines of a mountinfo on stdin of the test's
# cgroup and cgroup2 mounts (below D), from the root field on (no ids or
# device), sorted
nsct_cgroup_lines() {
	grep -E " $D/[^ ]* .* - cgroup2? " | cut -d' ' -f4- | sort
}

# nsct_container_test [ALT]: a container (PID, mount, UTS, IPC
# namespaces: nsloop.sh and a counter) in a cgroup namespace rooted at
# cgroups the test makes on the memory and the cgroup2 hierarchies, each
# mounted inside (cgroup, cgroup2; a source of their own, nosuid or
# nodev): restored in a new cgroup namespace at the same roots (restore
# --cgroup-root ALT: below ALT), where its /proc/self/cgroup and its
# cgroup mounts (their mountinfo lines whole, read in the namespace) read
# as before.
nsct_container_test() {
	local cg2=/sys/fs/cgroup/unified cgm=/sys/fs/cgroup/memory
	NSCT_ALT=${1-}
	[[ -d $cgm && -d $cg2 ]] ||
		skip "not the hybrid layout (cgroup v1 memory, cgroup2 unified)"
	NSCT_CG=ckpt-nsct-$BASHPID
	NSCT_DIRS=("$cg2/$NSCT_CG" "$cgm/$NSCT_CG")
	[[ -z $NSCT_ALT ]] ||
		NSCT_DIRS+=("$cg2$NSCT_ALT/$NSCT_CG" "$cgm$NSCT_ALT/$NSCT_CG"
			    "$cg2$NSCT_ALT" "$cgm$NSCT_ALT")
	trap nsct_cg_cleanup EXIT
	mkdir "$cg2/$NSCT_CG" "$cgm/$NSCT_CG" &&
		mkdir "$D/cg2" "$D/cgm" || fail "can't make cgroups $NSCT_CG"
	cat >"$D/nsct-ct.sh" <<'SH'
mount -t cgroup2 -o nosuid ckpt-cg2 "$PWD/cg2" &&
	mount -t cgroup -o memory,nodev ckpt-cgm "$PWD/cgm" &&
	grep -E " $PWD/[^ ]* .* - cgroup2? " /proc/self/mountinfo |
	cut -d' ' -f4- | sort >"$PWD/cgmounts.before" && exec "$@"
SH
	HOOK_RESTORED=nsct_container_check
	[[ -z $NSCT_ALT ]] || RESTORE_CMD=("$RESTORE" --cgroup-root "$NSCT_ALT")
	# inside, every cgroup is its namespace's root
	NSCT_INNER=$(sed 's|:[^:]*$|:/|' /proc/self/cgroup)
	ns_pidns_test "$BASH" -c 'echo $$ >"$1" && echo $$ >"$2" && shift 2 &&
		exec "$@"' sh "$cg2/$NSCT_CG/cgroup.procs" \
		"$cgm/$NSCT_CG/cgroup.procs" \
		unshare -C -p -f "$BASH" -c \
		'read -r p _ </proc/self/stat && NSLOOP_PID=$p exec unshare -m --propagation private --mount-proc -u -i "$@"' \
		nsloop "$BASH" "$D/nsct-ct.sh"
}

t_nsct-container() {
	nsct_container_test
}

# the same restored with --cgroup-root: the cgroup mounts show the
# namespace's new roots, reading as before inside
t_nsct-container-root() {
	nsct_container_test /ckpt-nsct-alt-$BASHPID
}

# A runc container with a cgroup namespace of its own (runc mounts its
# cgroups inside, rooted at the container's): checkpointed --kill,
# restored; inside, /proc/self/cgroup and the mounts (mountinfo's lines
# whole, its cgroup mounts' sources "cgroup" and "systemd" too) read as
# before, and runc state/ps/exec/kill work
t_nsct-runc() {
	rc_bundle '.linux.namespaces += [{type: "cgroup"}]'
	rc_start
	NSCT_INNER=$(nsct_cg_inner "$PID")
	mnt_info "$PID" | sort >"$D/mounts.before"
	rc_checkpoint
	inspect "$D/img"
	grep -q "^ns cgroup [0-9]* owner " "$D/inspect.out" ||
		fail "inspect shows no cgroup namespace"
	rc_restore
	ns_check_own "$PID" cgroup
	[[ $(nsct_cg_inner "$PID") == "$NSCT_INNER" ]] ||
		fail "inside, /proc/self/cgroup reads" $(nsct_cg_inner "$PID")
	mnt_info "$PID" | sort >"$D/mounts.after"
	diff "$D/mounts.before" "$D/mounts.after" >>"$D/errors.log" ||
		fail "mounts differ after restore: $(diff "$D/mounts.before" "$D/mounts.after" | tr '\n' ' ')"
	rc_check_runc
}

# A Docker container with a cgroup namespace of its own (--cgroupns
# private, what Docker gives every container on cgroup v2) checkpointed
# and restored by Docker: inside, docker exec reads /proc/self/cgroup as
# before, its cgroup mounts' mountinfo lines are as before, and the count
# carries on
t_nsct-docker() {
	local n before
	dk_daemon
	dk_run dk1 --cgroupns private
	[[ $(readlink "/proc/$PID/ns/cgroup") != "$(readlink /proc/self/ns/cgroup)" ]] ||
		fail "docker gave dk1 no cgroup namespace of its own"
	before=$(dk exec dk1 cat /proc/self/cgroup)
	mnt_info "$PID" | grep -E ' - cgroup2? ' | sort >"$D/cgmounts.before"
	[[ -s $D/cgmounts.before ]] || fail "dk1 has no cgroup mounts"
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" checkpoint create dk1 cp1
	wait_gone "$PID" 60 || fail "$PID still there 60 s after the checkpoint"
	dk_log_ok dk1
	n=$(wc -l <"$D/log.out")
	dk_start_checkpoint dk1 cp1
	ns_check_own "$PID" cgroup
	[[ $(dk exec dk1 cat /proc/self/cgroup) == "$before" ]] ||
		fail "inside, /proc/self/cgroup reads" $(dk exec dk1 cat /proc/self/cgroup)
	mnt_info "$PID" | grep -E ' - cgroup2? ' | sort >"$D/cgmounts.after"
	diff "$D/cgmounts.before" "$D/cgmounts.after" >>"$D/errors.log" ||
		fail "cgroup mounts differ after restore: $(diff "$D/cgmounts.before" "$D/cgmounts.after" | tr '\n' ' ')"
	dk_wait_count dk1 $((n + 5))
	dk_log_ok dk1
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" stop -t 1 dk1
	wait_gone "$PID" 60 || fail "$PID still there 60 s after docker stop"
}

# the test's own cgroup hierarchy unmounted (it goes with its last
# mount), then the usual cleanup
nsct_hier_cleanup() {
	umount -l "$D/h" 2>/dev/null
	cleanup
}

# A tree that mounted a cgroup hierarchy (a named v1 one the test makes)
# in its mount namespace: the mount is saved as a new cgroup mount;
# restored where no such hierarchy is mounted any more, restore refuses
# in one line naming the mount, rather than make a new hierarchy
t_nsct-refuse-cgroup-gone() {
	local name=ckpt-nsct-$BASHPID
	need "$WLB/counter" "$CKPT" "$RESTORE"
	mkdir "$D/h" "$D/x" || fail "can't make $D/h and $D/x"
	trap nsct_hier_cleanup EXIT
	mount -t cgroup -o "none,name=$name" "$name" "$D/h" ||
		skip "can't make a named cgroup v1 hierarchy"
	start_wl unshare -m --propagation private "$BASH" -c \
		"mount -t cgroup -o none,name=$name ckpt-src $D/x && exec $WLB/counter"
	wait_count_above 8 60 "$JOB"
	dump_kill
	inspect "$D/img"
	grep -q "^mount [0-9]* cgroup $D/x cgroup ckpt-src " "$D/inspect.out" ||
		fail "inspect shows no cgroup mount: $(grep '^mount' "$D/inspect.out")"
	umount "$D/h" || fail "can't unmount $D/h"
	expect_exit 70 "$RESTORE" "$D/img"
	one_line_err restore
	grep -q "can't restore the tree's cgroup mount on $D/x: no hierarchy with options name=$name is mounted here\$" \
		"$D/cmd.err" || fail "no error naming the mount: $(cat "$D/cmd.err")"
	! grep -q "name=$name" /proc/self/cgroup ||
		fail "the hierarchy $name is there again"
}
