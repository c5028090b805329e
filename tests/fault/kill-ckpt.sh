#!/bin/bash
# kill-ckpt.sh - a ckpt killed with SIGKILL never harms its target.
#
#   bash tests/fault/kill-ckpt.sh [--runs N] [--points | --own-points]
#                                 [TARGET...]
#
# TARGETs: victim, victim-static (4 threads, 64 MiB, tests/workloads/
# victim.c), tree (tests/workloads/tree.c, dumped with --tree) and
# tcppair (a TCP connection over loopback carrying data both ways all the
# time, tests/workloads/tcppair.c: it must still carry them afterwards,
# whatever moment of its repair mode ckpt died in, and no call of its may
# have met repair mode: its threads were parked till the guardian was
# done; a point NAME+late holds the guardian up for a second too) and
# tcpout (the same with the other end in a child that is not dumped, so that the dump,
# --tcp-established, locks the network for it: the lock must go with a
# killed ckpt, unless the target is killed); default all five. For each target, N times (default 100), `ckpt attach` (every
# other run with --kill) is killed with SIGKILL after a random delay spread
# over the length of a whole dump (measured first, in the same run). Then:
#  - no process of the target is left stopped or traced;
#  - /proc/PID/maps and the fd list of every process are as before;
#  - the target, told to stop, passes its own checks and exits 0;
#  - an image that exists is complete (ckpt inspect reads it whole);
#    with --kill, a target that is gone has such an image.
# With --points, instead of random delays, ckpt is killed at each named
# fault point (CKPT_FAULT, util/fault.h) once per target: the windows that
# a random delay seldom hits; with --own-points, only those of the
# target's own (POINTS_TARGET: parking and repair mode for tcppair, tcpout).
#
# Prints one line per target with the counts, and last "N passed, N
# failed" (one per run). Exit status 0 only if every run passed. A failed
# run's directory is kept and named.
#
# Environment: B (build directory, default build).

# call 1 maps our page (its way back already unmaps it), the others
# run from the leader (2, 3) and then from each thread in turn
POINTS=(call-start:1 call-exit:1 mapped prepared call-regs:2 call-start:2
	call-entry:3 call-exit:4 call-regs:9 call-exit:12 unmapped memory:3
	commit committed killing)
# and for a target with TCP connections: its threads being parked (the
# second thread, then the leader), all parked, all of its connections in
# repair mode, out again with the threads stopped again
POINTS_tcppair=(park:1 park:2 parked repair unparked repair+late
		park:1+late)
POINTS_tcpout=(netlock park parked repair unparked repair+late)
DEFAULT=(victim victim-static tree tcppair tcpout)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gone() {
	local s
	s=$(state_of "$1")
	[[ $s == - || $s == Z || $s == X ]]
}

# every process of the target gone, or (any_gone) one of them
target_gone() {
	local p
	for p in $PIDS; do gone "$p" || return 1; done
}
any_gone() {
	local p
	for p in $PIDS; do gone "$p" && return 0; done
	return 1
}

# snapshot FILE PIDS...: maps and fd targets of each. The start of
# [stack] is left out: the program itself may grow its stack meanwhile
# (a signal handler at its deepest point); ckpt writes only inside it.
snapshot() {
	local f=$1 p
	shift
	: >"$f"
	for p; do
		echo "== $p" >>"$f"
		sed 's/^[0-9a-f]*-\([0-9a-f]* .*\[stack\]\)$/\1/' \
			"/proc/$p/maps" >>"$f" 2>/dev/null
		(cd "/proc/$p/fd" 2>/dev/null && for fd in *; do
			echo "$fd $(readlink "$fd")"; done) >>"$f"
	done
}

# start the target in a fresh D; sets D, JOB, PID, PIDS
start_target() {
	local t=$1 i
	D=$(mktemp -d /tmp/ckpt-fault.XXXXXX)
	case $t in
	tree) (cd "$D" && clean_exec "$WLB/reaper" "$WLB/tree") \
		>"$D/out.log" 2>&1 </dev/null & ;;
	tcpout) (cd "$D" && clean_exec "$WLB/tcppair" split) \
		>"$D/out.log" 2>&1 </dev/null & ;;
	*) (cd "$D" && clean_exec "$WLB/$t") >"$D/out.log" 2>&1 </dev/null & ;;
	esac
	JOB=$!
	for ((i = 0; i < 600; i++)); do
		[[ -s $D/ready ]] && break
		sleep 0.05
	done
	read -r PID <"$D/ready" 2>/dev/null || { WHY="no ready"; return 1; }
	# the tree has its children once it counts
	for ((i = 0; i < 600; i++)); do
		(($(wc -l <"$D/count" 2>/dev/null || echo 0) > 5)) && break
		sleep 0.05
	done
	PIDS=$(tree_pids "$PID")
	PEER=
	if [[ $t == tcpout ]]; then	# the child is the peer outside
		for i in $PIDS; do [[ $i == "$PID" ]] || PEER+=" $i"; done
		PIDS=$PID
	fi
}

attach_opts() {	# attach_opts TARGET KILL
	local o=(-o "$D/img")
	[[ $1 == tree ]] && o+=(--tree)
	[[ $1 == tcpout ]] && o+=(--tcp-established)
	(($2)) && o+=(--kill)
	echo "${o[@]}"
}

# the length of one whole dump of this target, in microseconds
measure() {
	local t=$1 t0 t1
	start_target "$t" || return 1
	t0=$(date +%s%6N)
	"$CKPT" attach $(attach_opts "$t" 0) "$PID" 2>>"$D/ckpt.log"
	t1=$(date +%s%6N)
	stop_target >/dev/null
	rm -rf "$D"
	echo $((t1 - t0))
}

count_lines() { wc -l <"$D/count" 2>/dev/null || echo 0; }

stop_target() {
	local i st seen
	touch "$D/restored"
	# D/stop once the target has looked for D/restored (victim fails a
	# D/stop it sees first): each looks once per line it adds to D/count,
	# and stops only just after adding one, so two lines from now
	seen=$(($(count_lines) + 2))
	for ((i = 0; i < 1500; i++)); do
		(($(count_lines) >= seen)) && break
		sleep 0.02
	done
	(($(count_lines) >= seen)) ||
		{ WHY="target stopped counting"; return 1; }
	touch "$D/stop"
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$JOB" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$JOB" 2>/dev/null; then
		kill -9 "$JOB" 2>/dev/null
		WHY="target did not end after D/stop"
		return 1
	fi
	wait "$JOB"
	st=$?
	((st == 0)) || { WHY="target exited $st: $(grep -h FAIL "$D/out.log" |
				       tail -n 1)"; return 1; }
}

check_released() {
	local p task st tracer
	for p in $PIDS; do
		for task in /proc/$p/task/*; do
			[[ -r $task/stat ]] || continue
			read -r st <"$task/stat"
			st=${st##*) }
			st=${st%% *}
			[[ $st == [tT] ]] && { WHY="${task#/proc/} left stopped"
					       return 1; }
			tracer=$(awk '/^TracerPid/ {print $2}' "$task/status")
			[[ $tracer == 0 ]] || { WHY="${task#/proc/} still traced"
						return 1; }
		done
	done
}

check_image() {
	[[ -e $D/img ]] || return 0
	"$CKPT" inspect "$D/img" >"$D/inspect.out" 2>&1 ||
		{ WHY="an image was left that does not read whole"; return 1; }
}

same_as_before() {
	snapshot "$D/after" $PIDS
	cmp -s "$D/before" "$D/after"
}

stopped_or_gone() {
	[[ $(state_of "$1") == [T-] ]]
}

# pids of the dump's guardian (ckpt/dump-guard.c): the ckpt processes
# other than $1 that hold a socket of the target's
guardians_of() {
	local ck=$1 socks s p fd l
	socks=" $(cd "/proc/$PID/fd" && for fd in *; do readlink "$fd"; done |
		  grep '^socket:' | tr '\n' ' ')"
	for s in /proc/[0-9]*/comm; do
		p=${s#/proc/}
		p=${p%/comm}
		[[ $p != "$ck" && $(cat "$s" 2>/dev/null) == ckpt ]] || continue
		for fd in /proc/$p/fd/*; do
			l=$(readlink "$fd" 2>/dev/null) || continue
			[[ $l == socket:* && $socks == *" $l "* ]] &&
				{ echo "$p"; break; }
		done
	done
}

# late_kill TARGET KILL POINT: ckpt killed at POINT with its guardian
# held up (SIGSTOP) for a second meanwhile: the tree, let go by the
# kernel at once, must not run into what the guardian is to undo
late_kill() {
	local ck g
	CKPT_FAULT=$3:stop "$CKPT" attach $(attach_opts "$1" "$2") "$PID" \
		2>>"$D/ckpt.log" &
	ck=$!
	wait_for 600 stopped_or_gone "$ck"
	g=$(guardians_of "$ck")
	if [[ $(state_of "$ck") != T || -z $g ]]; then
		WHY="ckpt did not reach $3 with a guardian"
		kill -9 "$ck" 2>/dev/null
		wait "$ck" 2>/dev/null
		return 1
	fi
	kill -STOP $g 2>/dev/null
	kill -9 "$ck"
	wait "$ck" 2>/dev/null
	sleep 1
	kill -CONT $g 2>/dev/null
	wait_for 100 all_gone $g
}

all_gone() {
	local p
	for p; do gone "$p" || return 1; done
}

# one run: kill ckpt after $3 microseconds, or at fault point $3 (a name)
one_run() {
	local t=$1 kill_mode=$2 when=$3 ck
	WHY=
	start_target "$t" || return 1
	snapshot "$D/before" $PIDS
	if [[ $when == [0-9]* ]]; then
		"$CKPT" attach $(attach_opts "$t" "$kill_mode") "$PID" \
			2>>"$D/ckpt.log" &
		ck=$!
		usleep "$when"
		kill -9 "$ck" 2>/dev/null
		wait "$ck" 2>/dev/null
	elif [[ $when == *+late ]]; then
		late_kill "$t" "$kill_mode" "${when%+late}" || return 1
	else
		CKPT_FAULT=$when "$CKPT" attach $(attach_opts "$t" "$kill_mode") \
			"$PID" 2>>"$D/ckpt.log"
		# the point must have been reached, not the dump failed before
		(($? == 137)) || { WHY="ckpt did not reach $when"; return 1; }
	fi
	# with --kill, once the image is committed ckpt may have sent the
	# SIGKILL: a target that then dies (it may take a moment) was killed
	if ((kill_mode)) && [[ -e $D/img ]] && wait_for 100 target_gone; then
		check_image || return 1
		wait "$JOB" 2>/dev/null
		[[ -z $PEER ]] || kill -9 $PEER 2>/dev/null
		# the lock stays for restore: ours to remove
		drop_locks
		return 0
	fi
	any_gone && { WHY="target (or part of it) died, image or not"
		      return 1; }
	check_released || return 1
	# the guardian removes the lock after it has let the threads go, a
	# moment after ckpt died (under load, not yet when they were free)
	wait_for 100 unlocked ||
		{ WHY="the network lock $(locks_of "$PID") was left"
		  drop_locks; return 1; }
	# a thread the guardian let go unmaps our page a moment later
	wait_for 50 same_as_before ||
		{ WHY="maps or fds changed: $(diff "$D/before" "$D/after" |
					     grep '^[<>]' | head -n 2)"
		  return 1; }
	check_image || return 1
	stop_target
}

# the nftables tables of the network locks of a dump of PID
locks_of() {
	nft list tables 2>/dev/null | awk -v p="ckpt_$1_" \
		'$2 == "inet" && index($3, p) == 1 { print $3 }'
}

unlocked() {
	[[ -z $(locks_of "$PID") ]]
}

drop_locks() {
	local l
	for l in $(locks_of "$PID"); do nft delete table inet "$l"; done
}

record() {	# record LABEL STATUS
	if (($2 == 0)); then
		PASSED=$((PASSED + 1))
		rm -rf "$D"
		return 0
	fi
	FAILED=$((FAILED + 1))
	echo "FAIL $1: $WHY (kept $D)"
	kill -9 $PIDS $PEER "$JOB" 2>/dev/null
	wait "$JOB" 2>/dev/null
	return 1
}

campaign() {	# campaign TARGET: random delays
	local t=$1 len i when ok=0 killed
	len=$(measure "$t") || { echo "FAIL $t: can't measure a dump"; \
				 FAILED=$((FAILED + 1)); return; }
	for ((i = 0; i < RUNS; i++)); do
		killed=$((i % 2))
		when=$(random_moment "$len")
		one_run "$t" "$killed" "$when"
		record "$t run $i (--kill $killed, after ${when}us)" $? &&
			ok=$((ok + 1))
	done
	echo "$t: $ok of $RUNS runs left the target whole" \
	     "(a whole dump takes ${len}us here)"
}

points() {	# points TARGET: each fault point, without and with --kill
	local t=$1 p k ok=0 n=0 own="POINTS_${1//-/_}[@]" all=("${POINTS[@]}")
	((OWN_POINTS)) && all=()
	for p in ${all[@]+"${all[@]}"} ${!own+"${!own}"}; do
		for k in 0 1; do
			# the kill itself happens with --kill only
			[[ $p == killing && $k == 0 ]] && continue
			n=$((n + 1))
			one_run "$t" "$k" "$p"
			record "$t at $p (--kill $k)" $? && ok=$((ok + 1))
		done
	done
	echo "$t: $ok of $n fault points left the target whole"
}

for t in "${TARGETS[@]}"; do
	[[ -x $WLB/$t || $t == tree || $t == tcpout ]] || { echo "FAIL $t: not built"; exit 1; }
	if ((USE_POINTS)); then
		points "$t"
	else
		campaign "$t"
	fi
done
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
