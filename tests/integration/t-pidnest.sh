# t-pidnest.sh - nested PID namespaces: a tree with PID namespaces below
# its root's (unshare -fp inside, pidnest.sh; clone(CLONE_NEWPID),
# pidnestc.c) dumped with --tree --kill and restored with every
# process's PID at every level it had one, each namespace's init reaping
# its orphans; one shared with a process outside the tree, and a process
# with threads that unshared one, refused by name.  Sourced by run.sh.

ALL_TESTS+=(pidnest-host pidnest-deep pidnest-container pidnest-pidns
	    pidnest-threads pidnest-clone pidnest-none-yet pidnest-shared
	    pidnest-refuse-threads)
CKPT_ONLY+="pidnest-host pidnest-deep pidnest-container pidnest-pidns "
CKPT_ONLY+="pidnest-threads "
CKPT_ONLY+="pidnest-clone pidnest-none-yet pidnest-shared pidnest-refuse-threads "
PIDNEST_WL=()

# pidnest_levels ROOT DROP: a line per lasting process of ROOT's tree,
# sorted: its comm, then its NSpid line without its first DROP fields
# (this host's PID, which restore may change), and whether its children
# go to its own PID namespace or to one below; a line per other thread,
# its NSpid likewise. Left out: a sleep of the
# shells' loops, and a shell's fork before it execs (a bash whose parent
# is a bash: the level shells' parents are unshare's, or outside).
pidnest_levels() {
	local ps pid ppid comm args todo=("$1") p out=() l kids t
	local -A names=()
	ps=$(ps -e -o pid=,ppid=,comm=,args=)
	while read -r pid ppid comm args; do
		names[$pid]=$comm
	done <<<"$ps"
	while ((${#todo[@]})); do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		while read -r pid ppid comm args; do
			[[ $ppid == "$p" ]] && todo+=("$pid")
		done <<<"$ps"
		while read -r pid ppid comm args; do
			[[ $pid == "$p" ]] || continue
			[[ $comm == sleep && $args != pidnest-orphan-* ]] && continue
			[[ $comm == bash && $p != "$1" &&
			   ${names[$ppid]:-} == bash ]] && continue
			l=$(grep '^NSpid:' "/proc/$p/status" 2>/dev/null) || continue
			read -r -a l <<<"${l#NSpid:}"
			kids=own
			[[ $(readlink "/proc/$p/ns/pid_for_children") == \
			   "$(readlink "/proc/$p/ns/pid")" ]] || kids=below
			out+=("$comm ${l[*]:$2} children $kids")
			for t in /proc/"$p"/task/*; do
				[[ ${t##*/} == "$p" ]] && continue
				l=$(grep '^NSpid:' "$t/status" 2>/dev/null) ||
					continue
				read -r -a l <<<"${l#NSpid:}"
				out+=("thread of $comm ${l[*]:$2}")
			done
		done <<<"$ps"
	done
	printf '%s\n' "${out[@]}" | sort
}

# pidnest_track PID: PID and its descendants are killed when the test
# ends (a namespace's init that outlived its parent would be PID 1's
# too late for cleanup's scan, and keep its namespace alive)
pidnest_track() {
	local k
	track_pid "$1"
	for k in $(child_pids "$1"); do
		pidnest_track "$k"
	done
}

# pidnest_orphans_reaped: each pidnest-orphan sleep of the restored tree
# (in D) is a child of its namespace's init (PID 1 there), which reaps it once
# it is killed
pidnest_orphans_reaped() {
	local f p pp c n=0 end
	for f in /proc/[0-9]*/cmdline; do
		# argv[0], with builtins only: a fork per process is slow here
		c=
		read -r -d '' c 2>/dev/null <"$f"
		[[ $c == pidnest-orphan-* ]] || continue
		p=${f#/proc/}
		p=${p%/cmdline}
		# another test's (or one left by a failed one) is not ours
		[[ /proc/$p/cwd -ef $D ]] || continue
		pp=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")
		[[ $(grep '^NSpid:' "/proc/$pp/status") =~ [[:space:]]1$ ]] ||
			fail "orphan $p's parent $pp is no namespace's init"
		kill -KILL "$p"
		end=$((SECONDS + 60))
		while [[ -e /proc/$p ]]; do
			((SECONDS < end)) || fail "the init $pp did not reap orphan $p in 60 s (state $(stat_field "$p" 3))"
			nap
		done
		n=$((n + 1))
	done
	((n == PIDNEST_DEPTH)) ||
		fail "$n orphans in the restored tree, want $PIDNEST_DEPTH"
}

# pidnest_find RE JOB: the PID on this host of the process in D whose
# NSpid line matches RE; fails after 120 s or if JOB exits
pidnest_find() {
	local f end=$((SECONDS + 120))
	while :; do
		for f in /proc/[0-9]*; do
			# -ef: a builtin test, not a fork per process
			[[ $f/cwd -ef $D &&
			   $(grep '^NSpid:' "$f/status" 2>/dev/null) =~ $1 ]] ||
				continue
			echo "${f#/proc/}"
			return
		done
		job_done "$2" && { status "$2"; fail "$2 exited $JST:" \
			"$(lastline "$D/restore.log")"; }
		((SECONDS < end)) || fail "no process with NSpid $1 after 120 s"
		nap
	done
}

# pidnest_test DEPTH DROP AFTER [RESTORE OPTION...]: pidnest.sh with DEPTH
# levels below its root (or PIDNEST_WL, when set, with DEPTH levels;
# PIDNEST_CMD before it: the reaper, whose
# zombies the sandbox's PID 1 would not reap, or a container's) dumped
# with --tree --kill; inspect shows a namespace per level; restored: the
# same NSpid lines but for their first DROP fields, AFTER once restored
# (pidnest_levels: this host's level, which restore makes anew),
# the orphans reaped, the counter on, all ending at D/stop.
pidnest_test() {
	local depth=$1 drop=$2 drop_after=$3 before after n
	shift 3
	need "$WLB/counter" "$WLB/reaper" "$CKPT" "$RESTORE"
	PIDNEST_DEPTH=$depth
	((${#PIDNEST_WL[@]})) ||
		PIDNEST_WL=("$BASH" "$WLS/pidnest.sh" "$WLB/counter" "$depth")
	start_wl "${PIDNEST_CMD[@]}" "${PIDNEST_WL[@]}"
	wait_count_above 8 60 "$JOB"
	before=$(pidnest_levels "$PID" "$drop")
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the workload did not end after the kill"
	inspect "$D/img"
	n=$(grep -c "^ns pid [0-9]* owner [0-9]* parent [0-9]*\$" "$D/inspect.out")
	((n == depth)) || fail "inspect shows $n PID namespaces below the top one, want $depth"
	grep -q "^pidns [0-9]* ns [0-9]* pids 1 children 0\$" "$D/inspect.out" ||
		fail "inspect shows no init of a nested PID namespace"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; p = json.load(sys.stdin)["processes"]; sys.exit(not any(x.get("nspids") == [1] for x in p))' ||
		fail "inspect --json shows no init of a nested PID namespace"
	start_restore "$@"
	case $drop_after in
	0) wait_back ;;
	*) PID=$(pidnest_find "${PIDNEST_ROOT_RE//@PID@/$PID}" "$RJOB") ||
		exit 1
	   track_pid "$PID" ;;
	esac
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
	pidnest_track "$PID"
	after=$(pidnest_levels "$PID" "$drop_after")
	[[ $after == "$before" ]] ||
		fail "PIDs at the levels differ: before: $(tr '\n' ',' <<<"$before") after: $(tr '\n' ',' <<<"$after")"
	pidnest_orphans_reaped
	finish
}

# A host tree whose child runs unshare -fp: the namespace's init is the
# shell unshare forked, the counter and an orphan in it
t_pidnest-host() {
	PIDNEST_CMD=("$WLB/reaper")
	pidnest_test 1 0 0
}

# Two levels: the shell inside runs unshare -fp again
t_pidnest-deep() {
	PIDNEST_CMD=("$WLB/reaper")
	pidnest_test 2 0 0
}

# A container's init (its own PID namespace, the root) with a nested one
# inside: restored in a new namespace whose init it is, the one below in
# it with the PIDs it had at both levels
t_pidnest-container() {
	PIDNEST_CMD=(unshare -fp)
	PIDNEST_ROOT_RE='^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$'
	pidnest_test 1 1 1
}

# The host tree of pidnest-host restored with --pidns: its root keeps its
# PID in the new namespace, the one below as it was
t_pidnest-pidns() {
	PIDNEST_CMD=("$WLB/reaper")
	PIDNEST_ROOT_RE='^NSpid:[[:space:]]+[0-9]+[[:space:]]+@PID@$'
	pidnest_test 1 0 1 --pidns
}

# threads.c in the namespace below (pidnest.sh runs it as its counter):
# its threads keep their TIDs at both levels (it checks gettid() itself)
t_pidnest-threads() {
	need "$WLB/threads"
	PIDNEST_CMD=("$WLB/reaper")
	PIDNEST_WL=("$BASH" "$WLS/pidnest.sh" "$WLB/threads" 1)
	pidnest_test 1 0 0
}

# The init made by clone(CLONE_NEWPID) (pidnestc.c): its parent's
# children still go to its own namespace, and restore makes it so
t_pidnest-clone() {
	need "$WLB/pidnestc"
	PIDNEST_CMD=("$WLB/reaper")
	PIDNEST_WL=("$WLB/pidnestc" "$WLB/counter")
	pidnest_test 1 0 0
}

# pidnest_none_yet: PID's children would go to a PID namespace with no
# process yet (the kernel shows no pid_for_children), PID in ours
pidnest_none_yet() {
	[[ -e /proc/$PID/ns/pid ]] || fail "no process $PID"
	[[ $(readlink "/proc/$PID/ns/pid") == "$(readlink /proc/self/ns/pid)" ]] ||
		fail "$PID is not in our PID namespace"
	readlink "/proc/$PID/ns/pid_for_children" >/dev/null 2>&1 &&
		fail "$PID's children go to $(readlink "/proc/$PID/ns/pid_for_children")"
	return 0
}

pidnest_none_yet_dumped() {
	inspect "$D/img"
	grep -q "^pidns $PID ns 0 pids children 1\$" "$D/inspect.out" ||
		fail "inspect shows no PID namespace for the children of $PID"
}

# A counter that unshared a PID namespace and has not forked since
# (unshare -p, no -f): restore unshares one for it again, last
t_pidnest-none-yet() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl unshare -p "$WLB/counter"
	pidnest_none_yet
	HOOK_DUMPED=pidnest_none_yet_dumped
	HOOK_RESTORED=pidnest_none_yet
	wl_test_started
}

# A process with two threads that unshared a PID namespace and forked
# its init (restore would make its threads once it unshared it, which
# the kernel refuses): refused by name, the tree runs on
t_pidnest-refuse-threads() {
	need "$WLB/pidnestc" "$WLB/counter" "$CKPT"
	start_wl "$WLB/pidnestc" "$WLB/counter" threads
	refused_by_name "$PID: it has threads and makes its children in PID namespace pid:\\[[0-9]*\\], which is not supported yet" --tree
}

# A PID namespace below the root's that a process outside the tree is in
# too (nsenter -p: its sleep): refused by name, the tree runs on
t_pidnest-shared() {
	local init job end=$((SECONDS + 60))
	need "$WLB/counter" "$CKPT"
	PIDNEST_DEPTH=1
	start_wl "$BASH" "$WLS/pidnest.sh" "$WLB/counter" 1
	init=$(pidnest_find '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "$JOB") ||
		exit 1
	(spawn nsenter -t "$init" -p sleep 1000) </dev/null >>"$D/out.log" 2>&1 &
	job=$!
	track_job "$job"
	until [[ $(pgrep -x -P "$job" sleep) ]]; do
		((SECONDS < end)) || fail "nsenter's sleep not up after 60 s"
		nap
	done
	refused_by_name "[0-9]*: its pid namespace pid:\\[[0-9]*\\] is shared with [0-9]*, outside the tree" --tree
}
