# t-tree.sh - process trees (attach --tree): parents, children, groups
# and sessions, a bash pipeline and make -j2 restored whole, zombies not
# yet reaped, a child killed in the middle of the dump, a subreaper's
# orphans (in a group whose leader is gone too).  Sourced by run.sh.

ALL_TESTS+=(tree bash-pipeline make zombie zombie-late tree-kill
	    subreaper-orphan subreaper-orphan-group subreaper-orphan-session
	    subreaper-orphan-split)
CKPT_ONLY+="tree bash-pipeline make zombie zombie-late tree-kill "
CKPT_ONLY+="subreaper-orphan-session subreaper-orphan-split "

# attach --tree: a parent, two children (one leading its own process
# group and blocked in wait4 for a grandchild the whole time) come back
# with their PIDs, parent links and groups, carry on, and the parent reaps
# both children, which exit 0, after D/stop. The tree is
# dumped without --kill and then ends by itself: a killed tree leaves its
# children as zombies of a PID 1 that, in this sandbox, never reaps them.
t_tree() {
	start_tree tree 2 8
	dump_tree_live
	end_dumped_tree
	restore_twice
}

# wait_lines FILE N SECS JOB: until FILE has more than N lines; fails if
# JOB ends first.
wait_lines() {
	local end=$((SECONDS + $3)) n
	while :; do
		n=$(wc -l <"$1" 2>/dev/null || echo 0)
		((n > $2)) && return 0
		if job_done "$4"; then
			status "$4"
			fail "${1##*/} has $n lines, job ended ($JST) before $(($2 + 1))"
		fi
		((SECONDS < end)) || fail "${1##*/} has $n lines after $3 s, want $(($2 + 1))"
		nap
	done
}

# check_seq FILE [N]: FILE holds 1, 2, 3, ... (exactly N lines if given).
check_seq() {
	local bad
	bad=$(awk '$0 != NR { print "line " NR " is \"" $0 "\""; exit }' "$1")
	[[ -z $bad ]] || fail "${1##*/}: $bad"
	[[ -z ${2-} ]] || (($(wc -l <"$1") == $2)) ||
		fail "${1##*/} has $(wc -l <"$1") lines, want $2"
}

# bash running seq | while read ...; done >> out, with bytes in flight
# in the pipe, dumped with --tree and killed (under a reaper: see
# reaper.c), restored: D/out goes on holding 1, 2, 3, ... with nothing
# lost or repeated, and the script exits 0 at D/stop.
t_bash-pipeline() {
	local n
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$BASH" "$WLS/pipeline.sh"
	wait_lines "$D/out" 300 60 "$JOB"
	[[ -n $(child_pids "$PID") ]] || fail "the pipeline has no children"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	n=$(wc -l <"$D/out")
	start_restore
	wait_back
	wait_lines "$D/out" $((n + 1000)) 120 "$RJOB"
	touch "$D/stop"
	wait_job "$RJOB" 120 || fail "pipeline still running 120 s after D/stop"
	((WST == 0)) || fail "restored pipeline exited $WST:" \
			     "$(lastline "$D/restore.log")"
	check_seq "$D/out"
}

# make -j2 of four slow rules (slow.mk): dumped with --tree while make,
# two shells and their sleeps run, killed, restored: make finishes with
# every rule's log holding 1..50 exactly once, through its jobserver
# pipe.
t_make() {
	local r
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" make -s -j2 -f "$WLS/slow.mk"
	wait_lines "$D/log.a" 5 60 "$JOB"
	[[ -n $(child_pids "$PID") ]] || fail "make has no children"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	[[ -e $D/log.all ]] && fail "make had finished before the dump"
	start_restore
	wait_back
	wait_job "$RJOB" 240 || fail "restored make still running after 240 s"
	((WST == 0)) || fail "restored make exited $WST:" \
			     "$(lastline "$D/restore.log")"
	for r in a b c d; do
		check_seq "$D/log.$r" 50
	done
	[[ $(<"$D/log.all") == done ]] || fail "log.all: $(<"$D/log.all")"
}

# sort_kids: ZOMBIES and LIVE, the children of PID by state, in PID order.
sort_kids() {
	local k
	ZOMBIES=()
	LIVE=()
	for k in $(child_pids "$PID" | sort -n); do
		track_pid "$k"
		pstate "$k"
		if [[ $ST == Z ]]; then
			ZOMBIES+=("$k")
		else
			LIVE+=("$k")
		fi
	done
}

# check_zombie KID STATUS: KID is a zombie child of PID whose wait status
# (field 52, exit_code) is STATUS.
check_zombie() {
	local f
	pstate "$1"
	[[ $ST == Z ]] || fail "zombie $1 is in state $ST after restore"
	f=$(stat_field "$1" 4)
	[[ $f == "$PID" ]] || fail "zombie $1 has parent $f, want $PID"
	f=$(stat_field "$1" 52)
	[[ $f == "$2" ]] || fail "zombie $1 has wait status $f, want $2"
}

# inspect_has REGEX WHAT: a line of D/inspect.out matches REGEX.
inspect_has() {
	grep -qE "$1" "$D/inspect.out" ||
		fail "ckpt inspect shows no $2:" \
		     "$(grep -E '^(process|zombie) ' "$D/inspect.out" |
			tr '\n' ';')"
}

# A parent with two unreaped zombies (exit 7, SIGTERM) and a live child,
# dumped without --kill; the tree ends, then is restored twice: the
# zombies must be back as zombies of the parent with their statuses, and
# the restored parent reaps them (tests/workloads/zombie.c).
ZA=
ZB=
zombies_back() {
	check_zombie "$ZA" 1792
	check_zombie "$ZB" 15
}

t_zombie() {
	local c sid
	need "$WLB/zombie" "$CKPT" "$RESTORE"
	start_wl "$WLB/zombie"
	wait_count_above 8 60 "$JOB"
	sort_kids
	((${#ZOMBIES[@]} == 2 && ${#LIVE[@]} == 1)) ||
		fail "zombies '${ZOMBIES[*]}' and live '${LIVE[*]}', want 2, 1"
	ZA=${ZOMBIES[0]}
	ZB=${ZOMBIES[1]}
	c=${LIVE[0]}
	TREE_KIDS=$(printf '%s\n' "$ZA" "$ZB" "$c")
	sid=$(stat_field "$PID" 6)
	dump_tree_live
	inspect_has "^zombie $ZA ppid $PID pgid $ZA sid $sid comm zombie status 0x700 exit 7\$" \
		    "zombie $ZA with exit 7"
	inspect_has "^zombie $ZB ppid $PID pgid $ZA sid $sid comm zombie status 0xf signal 15\$" \
		    "zombie $ZB killed by signal 15"
	inspect_has "^process $c ppid $PID " "live child $c"
	(($(grep -c '^zombie ' "$D/inspect.out") == 2)) ||
		fail "ckpt inspect shows other zombies than $ZA and $ZB"
	end_dumped_tree
	HOOK_RESTORED=zombies_back
	restore_twice
}

# zombie_late_round WHEN: the zombie workload with a child L that exits
# (code 9) as soon as D/exit-now appears, created WHEN: before ckpt
# starts, right after, or once the root is seen frozen. L is then dumped
# as a zombie or alive (it had not seen the file yet): both are right,
# each checked in the image, and after restore the parent must reap L
# with code 9 either way.
LATE=
late_back() {
	[[ -n $LATE ]] && check_zombie "$LATE" 2304
	zombies_back
}

zombie_late_round() {
	local cjob c l pgid sid pos end how
	start_wl "$WLB/zombie" late
	wait_count_above 8 60 "$JOB"
	sort_kids
	((${#ZOMBIES[@]} == 2 && ${#LIVE[@]} == 2)) ||
		fail "zombies '${ZOMBIES[*]}' and live '${LIVE[*]}', want 2, 2"
	ZA=${ZOMBIES[0]}
	ZB=${ZOMBIES[1]}
	c=${LIVE[0]}
	l=${LIVE[1]}
	TREE_KIDS=$(printf '%s\n' "$ZA" "$ZB" "$c" "$l")
	pgid=$(stat_field "$PID" 5)
	sid=$(stat_field "$PID" 6)
	[[ $1 == before ]] && touch "$D/exit-now"
	(spawn "$CKPT" attach --tree -o "$D/img" "$PID") </dev/null \
		>"$D/cmd.out" 2>"$D/cmd.err" &
	cjob=$!
	track_job "$cjob"
	if [[ $1 == frozen ]]; then
		# a small tree is dumped fast: this may see it only after
		end=$((SECONDS + 60))
		until stopped "$PID" || job_done "$cjob"; do
			((SECONDS < end)) || fail "ckpt neither froze $PID" \
						  "nor ended in 60 s"
		done
	fi
	touch "$D/exit-now"
	wait_job "$cjob" 60 || fail "ckpt attach --tree still running after" \
				    "60 s ($1)"
	cat "$D/cmd.err" >>"$D/errors.log"
	((WST == 0)) || fail "ckpt attach --tree exited $WST when L exited" \
			     "($1): $(lastline "$D/cmd.err")"
	inspect "$D/img"
	if grep -qx "zombie $l ppid $PID pgid $pgid sid $sid comm zombie status 0x900 exit 9" \
		"$D/inspect.out"; then
		LATE=$l
		how=zombie
	elif grep -q "^process $l ppid $PID " "$D/inspect.out"; then
		LATE=
		how=alive
	else
		fail "ckpt inspect shows L ($l) neither as a zombie with" \
		     "exit 9 nor alive ($1)"
	fi
	echo "zombie-late ($1): L was dumped $how" >>"$D/ckpt.log"
	(($(grep -cE "^(zombie|process) $l " "$D/inspect.out") == 1)) ||
		fail "ckpt inspect shows L ($l) twice"
	end_dumped_tree
	pos=$(image_count_pos "$D/img")
	HOOK_RESTORED=late_back
	restore_tree_from "$pos"
	HOOK_RESTORED=
	rm -f "$D"/{ready,count,count.c,restored,stop,exit-now,img}
	PID=
	JOB=
	RJOB=
}

t_zombie-late() {
	need "$WLB/zombie" "$CKPT" "$RESTORE"
	zombie_late_round before
	zombie_late_round start
	zombie_late_round frozen
}

# tree_kill_mid_dump WHERE: a tree whose 512 MiB are in the parent, in
# its child K, or in a sibling S dumped after K (WHERE); K is killed by
# SIGKILL while `ckpt attach --tree` writes the image (the temporary past
# 16 MiB, K frozen): before K is written, while it is, or after. ckpt must
# fail with one line naming K and leave no image; the parent, thawed, must
# see K's death (D/kid-died), count on and end well
# (tests/workloads/treedie.c). Only if ckpt had thawed K in the instant
# between our look and the kill was K not killed during the dump; that
# can't be while the temporary image, seen right after the kill, is still
# short of the 512 MiB (the thaw comes after the last byte). Otherwise the
# image must be complete, with K in it.
tree_kill_mid_dump() {
	local cjob end kid c f after
	start_wl "$WLB/treedie" "$1"
	wait_count_above 8 60 "$JOB"
	read -r kid <"$D/kid" || fail "no D/kid"
	track_pid "$kid"
	(spawn "$CKPT" attach --tree -o "$D/img" "$PID") </dev/null \
		>"$D/cmd.out" 2>"$D/cmd.err" &
	cjob=$!
	track_job "$cjob"
	end=$((SECONDS + 60))
	until stopped "$kid" && (($(tmp_image_size) > 16 << 20)); do
		job_done "$cjob" && fail "the dump ended before K could be" \
					 "killed ($1 big)"
		((SECONDS < end)) || fail "K not frozen and written 60 s into" \
					  "the dump ($1 big)"
		sleep 0.01
	done
	kill -KILL "$kid"
	after=$(tmp_image_size)
	wait_job "$cjob" 60 || fail "ckpt still running 60 s after K was" \
				    "killed ($1 big)"
	cat "$D/cmd.err" >>"$D/errors.log"
	if ((WST == 0)) && [[ ! -s $D/cmd.err ]] &&
	   ((after == 0 || after >= 512 << 20)); then
		inspect "$D/img"
		inspect_has "^process $kid ppid $PID " "K ($kid), thawed" \
			    "before it was killed ($1 big)"
		echo "tree-kill ($1 big): K was thawed before the kill" \
			>>"$D/ckpt.log"
		rm -f "$D/img" "$D/inspect.out"
	else
		((WST == 70)) || fail "ckpt exited $WST when K died ($1" \
				      "big), want 70: $(lastline "$D/cmd.err")"
		one_line_err "ckpt attach --tree when K died ($1 big)"
		grep -q "\<$kid died during the dump: no image written" \
			"$D/cmd.err" ||
			fail "ckpt's error does not say K ($kid) died ($1" \
			     "big): $(head -n 1 "$D/cmd.err")"
		for f in "$D"/img*; do
			fail "the failed dump left ${f##*/} behind ($1 big)"
		done
	fi
	stopped "$PID" && fail "parent left stopped (state $ST) ($1 big)"
	[[ $(tracer "$PID") == 0 ]] || fail "parent still traced ($1 big)"
	end=$((SECONDS + 60))
	until [[ -e $D/kid-died ]]; do
		job_done "$JOB" && fail "the parent ended before it saw K die:" \
				       "$(lastline "$D/out.log")"
		((SECONDS < end)) || fail "the parent did not see K die in 60 s"
		nap
	done
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 120 || fail "the tree still runs 120 s after D/stop"
	((WST == 0)) || fail "the tree exited $WST after the failed dump" \
			     "($1 big): $(lastline "$D/out.log")"
	check_count
	rm -f "$D"/{ready,count,kid,kid-died,sibling,stop}
	PID=
	JOB=
}

t_tree-kill() {
	need "$CKPT" "$WLB/treedie"
	tree_kill_mid_dump parent
	tree_kill_mid_dump child
	tree_kill_mid_dump sibling
}

# A child subreaper whose grandchild was orphaned and reparented to it,
# dumped with the tree (under a reaper, see reaper.c): after the
# restore the orphan's parent is the subreaper again, which reaps it
# (tests/workloads/orphan.c checks both).
t_subreaper-orphan() {
	need "$WLB/orphan"
	reaper_tree_test "$WLB/orphan" "$@"
}

# The same, the orphan in the group of its dead parent, which led it.
t_subreaper-orphan-group() {
	t_subreaper-orphan group
}

# An orphan in the session of its dead parent, and a leaderless group
# with members of two parents: refused, named, and the tree runs on.
t_subreaper-orphan-session() {
	need "$WLB/reaper" "$WLB/orphan" "$CKPT"
	start_wl "$WLB/reaper" "$WLB/orphan" session
	refused_by_name "[0-9]*: it is in a session neither its own nor its parent's: session [0-9]*, which is not supported" --tree
}

t_subreaper-orphan-split() {
	need "$WLB/reaper" "$WLB/orphan" "$CKPT"
	start_wl "$WLB/reaper" "$WLB/orphan" group-split
	refused_by_name "[0-9]*: its process group has no leader in the tree and members of other parents: group [0-9]*, which is not supported" --tree
}
