# t-ns.sh - namespaces: a tree in UTS and IPC namespaces of its own comes
# back in new ones with its hostname; namespaces restore does not make
# are refused by name; restore --pidns.  Sourced by run.sh.

ALL_TESTS+=(ns-uts ns-uts-tree ns-pidns-clones ns-pidns-tree ns-pidns-init ns-pidns-mountproc ns-refuse-pidns-joined ns-refuse-pidns-nested
	    ns-refuse-mnt ns-cgroup-memory)
CKPT_ONLY+="ns-uts ns-uts-tree ns-pidns-clones ns-pidns-tree ns-pidns-init ns-pidns-mountproc ns-refuse-pidns-joined ns-refuse-pidns-nested "
CKPT_ONLY+="ns-refuse-mnt ns-cgroup-memory "

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

# ckpt inspect shows both namespaces, owned by the counter
ns_check_inspect() {
	inspect "$D/img"
	grep -q "^ns uts [0-9]* owner $PID hostname ckpt-ns-test domainname " \
		"$D/inspect.out" || fail "inspect shows no uts namespace: $(head -n 3 "$D/inspect.out")"
	grep -q "^ns ipc [0-9]* owner $PID\$" "$D/inspect.out" ||
		fail "inspect shows no ipc namespace"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; n = json.load(sys.stdin)["namespaces"]; sys.exit(sorted(x["kind"] for x in n) != ["ipc", "uts"])' ||
		fail "inspect --json shows other namespaces"
}

# A counter in UTS and IPC namespaces of its own (unshare without a
# fork: the counter is the top of both) with hostname ckpt-ns-test,
# dumped with --kill and restored: new namespaces, the hostname back.
t_ns-uts() {
	need "$WLB/counter"
	HOOK_DUMPED=ns_check_inspect
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
	local k l
	ns_check_uts
	for k in $(child_pids "$PID"); do
		# a sleep of the loop may be gone already (load)
		l=$(readlink "/proc/$k/ns/uts") || continue
		[[ $l == "$(readlink "/proc/$PID/ns/uts")" ]] ||
			fail "child $k is not in the uts namespace of $PID"
	done
}

# ns_clones_up PID N: N processes of this host have PID as their last
# NSpid, each in a PID namespace of its own, with init restore's helper
ns_clones_up() {
	local f l n=0 nss=
	for f in /proc/[0-9]*/status; do
		l=$(grep '^NSpid:' "$f" 2>/dev/null) || continue
		[[ $l =~ [[:space:]]$1$ && $l =~ ^NSpid:[[:space:]]+[0-9]+[[:space:]]+[0-9]+$ ]] ||
			continue
		f=${f%/status}
		nss+="$(readlink "$f/ns/pid") "
		n=$((n + 1))
	done
	((n == $2)) || return 1
	(($(tr ' ' '\n' <<<"$nss" | sort -u | grep -c .) == $2)) ||
		fail "the clones share PID namespaces: $nss"
}

# One image restored three times at once with --pidns, each clone's
# output sent to a file of its own (--fd 1=): all three run with the
# image's PID as their own (pidclone.c checks getpid()), in three
# namespaces, and each restore exits with its clone's status, 0.
t_ns-pidns-clones() {
	local i end jobs=()
	need "$WLB/pidclone" "$CKPT" "$RESTORE"
	start_wl "$WLB/pidclone"
	expect_exit 0 "$CKPT" attach --kill -o "$D/img" "$PID"
	wait_job "$JOB" 30 || fail "the dumped process did not end"
	for i in 1 2 3; do
		: >"$D/clone$i.out"
		(spawn "$RESTORE" --pidns --fd 1="$D/clone$i.out" "$D/img") \
			</dev/null >>"$D/restore.log" 2>&1 &
		jobs+=($!)
		track_job $!
	done
	end=$((SECONDS + 60))
	until ns_clones_up "$PID" 3; do
		((SECONDS < end)) || fail "3 clones not up after 60 s: $(lastline "$D/restore.log")"
		nap
	done
	for i in 1 2 3; do
		wait_lines "$D/clone$i.out" 5 60 "${jobs[i - 1]}"
		grep -qv " $PID\$" "$D/clone$i.out" &&
			fail "clone $i wrote another PID: $(grep -v " $PID\$" "$D/clone$i.out" | head -n 1)"
	done
	touch "$D/stop"
	for i in 1 2 3; do
		wait_job "${jobs[i - 1]}" 60 || fail "clone $i still running after D/stop"
		((WST == 0)) || fail "clone $i exited $WST: $(lastline "$D/out.log")"
	done
}

# ns_host_pid PID: the PID, on this host, of the process whose PID in
# its own (child) namespace is PID; fails after 60 s
ns_host_pid() {
	local f l end=$((SECONDS + 60))
	while :; do
		for f in /proc/[0-9]*/status; do
			l=$(grep '^NSpid:' "$f" 2>/dev/null) || continue
			[[ $l =~ ^NSpid:[[:space:]]+([0-9]+)[[:space:]]+$1$ ]] &&
				{ echo "${BASH_REMATCH[1]}"; return; }
		done
		job_done "$RJOB" && { status "$RJOB"; fail "restore exited $JST:" \
			"$(lastline "$D/restore.log")"; }
		((SECONDS < end)) || fail "no process $1 in a new PID namespace"
		nap
	done
}

# A tree (tree.c: children, a grandchild, a group of its own) dumped and
# killed, restored with --pidns: its PIDs inside, parents and groups as
# they were, it counts on and ends at D/stop; restore exits with the
# root's status once the whole namespace is empty.
t_ns-pidns-tree() {
	need "$WLB/reaper" "$WLB/tree" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$WLB/tree"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	start_restore --pidns
	PID=$(ns_host_pid "$PID") || exit 1
	track_pid "$PID"
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
	finish
}

# ns_inner PID: PID's own PID in its PID namespace (its last NSpid)
ns_inner() {
	local l
	l=$(grep '^NSpid:' "/proc/$1/status" 2>/dev/null) || return 1
	echo "${l##*[[:space:]]}"
}

# ns_restored_init: PID, the restored root (restore's child), is the init
# of a PID namespace that is not ours, its counter has its PID of before
# inside, the hostname is back
ns_restored_init() {
	local k kids
	ns_check_uts
	[[ $(ns_inner "$PID") == 1 ]] || fail "restored root $PID is not PID 1 inside: $(grep NSpid "/proc/$PID/status")"
	kids=$(child_pids "$PID")
	for k in $kids; do
		[[ $(ns_inner "$k") == "$NS_KID" ]] && return
	done
	fail "no child of $PID is $NS_KID inside its namespace (children: $kids)"
}

# ns_init_in DIR: the host PID of the init of a PID namespace below ours
# whose cwd is DIR (the restored root); fails after 120 s (a loaded
# machine) or if restore exits
ns_init_in() {
	local f end=$((SECONDS + 120))
	while :; do
		for f in /proc/[0-9]*; do
			[[ $(readlink "$f/cwd" 2>/dev/null) == "$1" ]] &&
				[[ $(ns_inner "${f#/proc/}") == 1 ]] &&
				{ echo "${f#/proc/}"; return; }
		done
		job_done "$RJOB" && { status "$RJOB"; fail "restore exited $JST:" \
			"$(lastline "$D/restore.log")"; }
		((SECONDS < end)) || fail "no restored init in $1 after 120 s"
		nap
	done
}

# ns_pidns_test CMD...: CMD runs nsloop.sh as PID 1 of a PID namespace
# of its own, leading UTS and IPC ones, a counter under it: dumped with
# --tree --kill (the image holds the PIDs seen inside), restored without
# options: in a new PID namespace whose init the shell is again, the
# counter with its PID of before inside, the hostname back
# (ns_restored_init, then HOOK_RESTORED); it counts on and ends at D/stop.
ns_pidns_test() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$@" "$BASH" "$WLS/nsloop.sh" "$WLB/counter" ckpt-ns-test
	[[ $(ns_inner "$PID") == 1 ]] || fail "the shell is not PID 1 inside"
	read -r NS_KID <"$D/c/ready" || fail "no PID of the counter"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "unshare did not end after the kill"
	inspect "$D/img"
	grep -q "^ns pid [0-9]* owner 1\$" "$D/inspect.out" ||
		fail "inspect shows no pid namespace"
	grep -q "^process $NS_KID ppid 1 " "$D/inspect.out" ||
		fail "inspect shows no counter $NS_KID under PID 1"
	expect_exit 64 "$RESTORE" --pty "$D/img"
	one_line_err "restore --pty"
	start_restore
	PID=$(ns_init_in "$D") || exit 1
	track_pid "$PID"
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
	ns_restored_init
	[[ -z $HOOK_RESTORED ]] || "$HOOK_RESTORED"
	finish
}

# A small container's init as the host sees it (its /proc the host's)
t_ns-pidns-init() {
	ns_pidns_test unshare -p -f unshare -u -i
}

# the restored root has a mount namespace of its own whose /proc is that
# of its PID namespace (its PID 1 is the root)
ns_check_proc() {
	local want got
	ns_check_own "$PID" mnt
	want=$(readlink "/proc/$PID/ns/pid")
	got=$(nsenter -t "$PID" -m readlink /proc/1/ns/pid 2>>"$D/errors.log")
	[[ $got == "$want" ]] ||
		fail "/proc inside the restored container shows a PID 1 in $got, not in $want"
}

# The same with /proc mounted again inside (unshare --mount-proc): a
# mount namespace of the root's own, made again with a new /proc. A
# slave of ours, so that it keeps showing our mounts while others are
# made on this machine (ip netns add mounts under /run/netns).
t_ns-pidns-mountproc() {
	HOOK_RESTORED=ns_check_proc
	ns_pidns_test unshare -p -f "$BASH" -c \
		'read -r p _ </proc/self/stat && NSLOOP_PID=$p exec unshare -m --propagation slave --mount-proc -u -i "$@"' \
		nsloop
	grep -q "^ns mnt [0-9]* owner 1\$" "$D/inspect.out" ||
		fail "inspect shows no mnt namespace"
}

# ns_sleep_in NS: a "sleep 1000" is in the PID namespace NS
ns_sleep_in() {
	local f
	for f in /proc/[0-9]*; do
		[[ $(tr '\0' ' ' 2>/dev/null <"$f/cmdline") == "sleep 1000 " &&
		   $(readlink "$f/ns/pid") == "$1" ]] && return 0
	done
	return 1
}

# A container's init whose PID namespace a process outside the tree
# joined (nsenter -p: its sleep is in the namespace, its parent outside):
# refused by name, the container runs on
t_ns-refuse-pidns-joined() {
	local end=$((SECONDS + 60))
	need "$WLB/counter" "$CKPT"
	start_wl unshare -p -f unshare -u -i "$BASH" "$WLS/nsloop.sh" \
		"$WLB/counter" ckpt-ns-test
	(spawn nsenter -t "$PID" -p sleep 1000) </dev/null >>"$D/out.log" 2>&1 &
	track_job $!
	until ns_sleep_in "$(readlink "/proc/$PID/ns/pid")"; do
		((SECONDS < end)) || fail "nsenter's sleep not in the namespace after 60 s"
		nap
	done
	refused_by_name "$PID: its pid namespace pid:\\[[0-9]*\\] is shared with [0-9]*, outside the tree" --tree
}

# A container's init with a PID namespace below its own whose /proc is
# mounted again for it (a child unshare -p -f --mount-proc sleep; nested
# ones without are t-pidnest.sh's): refused by name, the container runs
# on
t_ns-refuse-pidns-nested() {
	need "$WLB/counter" "$CKPT"
	start_wl unshare -p -f "$BASH" -c \
		'read -r p _ </proc/self/stat; unshare -p -f --mount-proc --propagation slave sleep 1000 & NSLOOP_PID=$p exec unshare -u -i "$@"' \
		nsloop "$BASH" "$WLS/nsloop.sh" "$WLB/counter" ckpt-ns-test
	refused_by_name "[0-9]*: its pid namespace pid:\\[[0-9]*\\], below the root's, has a /proc of its own (unshare --mount-proc), which is not supported yet" --tree
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

# a mount namespace with a mount of a type restore does not make (one
# with a tmpfs is dumped: see t-mnt.sh)
t_ns-refuse-mnt() {
	ns_refused "its mount on /mnt is of type ramfs (ckpt-ns-test), which ckpt does not restore yet" \
		unshare -m --propagation private "$BASH" -c \
		"mount -t ramfs ckpt-ns-test /mnt && exec $WLB/counter"
}

# ns_cg_base: NS_CG_DIR (the memory hierarchy) and NS_CG_FILE (its limit)
ns_cg_base() {
	if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
		NS_CG_DIR=/sys/fs/cgroup NS_CG_FILE=memory.max
	else
		NS_CG_DIR=/sys/fs/cgroup/memory
		NS_CG_FILE=memory.limit_in_bytes
	fi
	NS_CG=$NS_CG_DIR/ckpt-ns-test-$BASHPID
}

ns_cg_dumped() {
	inspect "$D/img"
	grep -q "^cgroup [a-z,]*memory[a-z,]* ${NS_CG#"$NS_CG_DIR"} .*$NS_CG_FILE=$((64 << 20))" \
		"$D/inspect.out" || fail "inspect shows no memory cgroup"
	rmdir "$NS_CG" || fail "can't remove $NS_CG after the dump"
}

ns_cg_check() {
	local want
	want=$(sed -n "s|^[0-9]*:[^:]*memory[^:]*:||p; s|^0::||p" "/proc/$PID/cgroup" | head -n 1)
	[[ $want == "${NS_CG#"$NS_CG_DIR"}" ]] ||
		fail "restored in cgroup $(cat "/proc/$PID/cgroup" | tr '\n' ' ')"
	[[ $(cat "$NS_CG/$NS_CG_FILE") == $((64 << 20)) ]] ||
		fail "memory limit after restore: $(cat "$NS_CG/$NS_CG_FILE")"
}

# A counter in a memory cgroup of its own limited to 64 MiB, dumped and
# killed, its cgroup removed: restore makes it again with its limit and
# puts the counter in it.
t_ns-cgroup-memory() {
	need "$WLB/counter"
	ns_cg_base
	mkdir "$NS_CG" && echo $((64 << 20)) >"$NS_CG/$NS_CG_FILE" ||
		fail "can't make $NS_CG"
	HOOK_DUMPED=ns_cg_dumped
	HOOK_RESTORED=ns_cg_check
	wl_test "$BASH" -c "echo \$\$ >$NS_CG/cgroup.procs && exec $WLB/counter"
	rmdir "$NS_CG"
}

ALL_TESTS+=(ns-ipc-sysctl)
CKPT_ONLY+="ns-ipc-sysctl "

# ns_ipc_sysctls PID: the IPC namespace sysctls that ns-ipc-sysctl sets,
# as PID's namespace has them
ns_ipc_sysctls() {
	nsenter -t "$1" -i sh -c 'cat /proc/sys/kernel/msgmax \
		/proc/sys/kernel/sem /proc/sys/fs/mqueue/msg_max \
		/proc/sys/fs/mqueue/msg_default' 2>>"$D/errors.log" |
		tr -s '\t\n' '  '
}

ns_ipc_sysctl_dumped() {
	inspect "$D/img"
	grep -q '^ns-sysctl [0-9]* kernel/msgmax 12345$' "$D/inspect.out" ||
		fail "inspect shows no msgmax: $(grep sysctl "$D/inspect.out")"
}

ns_ipc_sysctl_check() {
	local got
	ns_check_own "$PID" ipc
	got=$(ns_ipc_sysctls "$PID")
	[[ $got == "12345 200 32000 16 64 40 30 " ]] ||
		fail "IPC sysctls after restore: '$got'"
	[[ $(cat /proc/sys/kernel/msgmax) != 12345 ]] ||
		fail "our own msgmax changed"
}

# A counter in an IPC namespace of its own whose limits were changed
# (message sizes, semaphores, POSIX queue sizes, msg_default above the
# default msg_max so that their order matters): restored in a new
# namespace with the same limits.
t_ns-ipc-sysctl() {
	need "$WLB/counter"
	HOOK_DUMPED=ns_ipc_sysctl_dumped
	HOOK_RESTORED=ns_ipc_sysctl_check
	wl_test unshare -i "$BASH" -c "
		echo 12345 >/proc/sys/kernel/msgmax &&
		printf '200\t32000\t16\t64' >/proc/sys/kernel/sem &&
		echo 40 >/proc/sys/fs/mqueue/msg_max &&
		echo 30 >/proc/sys/fs/mqueue/msg_default &&
		exec $WLB/counter"
}
