#!/bin/bash
# kill-restore.sh - a restore killed with SIGKILL leaves no half-restored
# process and no System V segment behind.
#
#   bash tests/fault/kill-restore.sh [--runs N] [--points] [TARGET...]
#
# TARGETs: victim (4 threads, 64 MiB), tree (three processes), shm (a
# parent and a child sharing System V segments, anonymous and memfd
# memory) and ghost (deleted files and a deleted cwd, which restore makes
# under a name and unlinks at once); default all four. Each is dumped once with --kill; then, N
# times (default 100), `restore --detach` of that image is killed with
# SIGKILL after a random delay spread over the length of a whole restore
# (measured first, in the same run), or with --points at each named fault
# point (CKPT_FAULT). Afterwards, once things settle:
#  - either no process of the image is left (gone, or a zombie) and no
#    System V segment has the image's key, or restore got to the end and
#    every process runs, passes its own checks and ends cleanly;
#  - never some processes of the tree running without the others;
#  - no name left in the target's directory that was not there before
#    (a ghost's, made by restore: its guardian removes it).
# Everything runs under tests/workloads/reaper (a child subreaper): PID 1
# of the test machines never reaps orphans.
#
# Prints one line per target with the counts and last "N passed, N
# failed". Exit status 0 only if every run passed.
#
# Environment: B (build directory, default build).

POINTS=(restore-made restore-created restore-rebuilt restore-let-go)
# and for the ghost files: under their old name (g1), a temporary one (g2,
# whose name is taken) and a directory (the cwd), before the unlink
POINTS_ghost=(ghost-named:1 ghost-named:2 ghost-named:5)
DEFAULT=(victim tree shm ghost)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMG_PIDS=

have_ready() { [[ -s $D/ready ]]; }
counts() { (($(wc -l <"$D/count" 2>/dev/null || echo 0) > 8)); }

# How many of the image's processes run (not gone, not zombies)?
running() {
	local p n=0 s
	for p in $IMG_PIDS; do
		s=$(state_of "$p")
		[[ $s == - || $s == Z ]] || n=$((n + 1))
	done
	echo "$n"
}
none_running() { (($(running) == 0)); }
all_running() { (($(running) == $(wc -w <<<"$IMG_PIDS"))); }
settled() { none_running || all_running; }

# dump the target once, with --kill, into D/img; sets IMG_PIDS
make_image() {
	local t=$1
	D=$(mktemp -d /tmp/ckpt-rfault.XXXXXX)
	(cd "$D" && clean_exec "$WLB/reaper" "$WLB/$t") \
		>"$D/out.log" 2>&1 </dev/null &
	wait_for 600 have_ready || { WHY="$t not ready"; return 1; }
	wait_for 600 counts || { WHY="$t does not count"; return 1; }
	IMG_PIDS=$(tree_pids "$(<"$D/ready")")
	"$CKPT" attach --tree --kill -o "$D/img" "$(<"$D/ready")" \
		2>"$D/dump.log" || { WHY="dump failed: $(<"$D/dump.log")"
				     return 1; }
	wait
	# the keyed segment --kill leaves behind would be taken over
	[[ -s $D/shm.key ]] && ipcrm -M "$(<"$D/shm.key")" 2>/dev/null
	names >"$D.names"
	return 0
}

# the names in D but those of the runs themselves
names() {
	ls -A "$D" | grep -v -x -E 'rpid|restore\.(log|out)|stop|restored|img'
}

no_new_name() {
	names | cmp -s - "$D.names"
}

no_key() {	# is no segment with the image's key left (the guardian acts)?
	[[ -s $D/shm.key ]] || return 0
	awk -v k="$(<"$D/shm.key")" 'NR > 1 && $1 == k { f = 1 }
		END { exit f }' /proc/sysvipc/shm
}

# the restored tree carries on and ends cleanly; then it is gone
finish_tree() {
	touch "$D/restored"
	sleep 0.3
	touch "$D/stop"
	wait_for 600 none_running || { WHY="restored tree does not end"
				       return 1; }
	! grep -q FAIL "$D/restore.log" ||
		{ WHY="restored: $(grep FAIL "$D/restore.log" | head -n 1)"
		  return 1; }
}

cleanup_run() {
	local p
	for p in $IMG_PIDS; do kill -9 "$p" 2>/dev/null; done
	wait_for 300 none_running
	[[ -s $D/shm.key ]] && ipcrm -M "$(<"$D/shm.key")" 2>/dev/null
	rm -f "$D/stop" "$D/restored"
	wait
}

# restore --detach IMG under the reaper, its PID written to D/rpid first
start_restore() {	# start_restore [ENV=VALUE]; sets RJOB
	rm -f "$D/rpid"
	(cd "$D" && clean_exec env "$@" "$WLB/reaper" sh -c \
		'echo $$ >"$0/rpid" && exec "$1" --detach "$0/img"' \
		"$D" "$RESTORE") >"$D/restore.out" 2>>"$D/restore.log" &
	RJOB=$!
	wait_for 600 test -s "$D/rpid"
}

restore_gone() {
	local s
	s=$(state_of "$(<"$D/rpid")")
	[[ $s == - || $s == Z ]]
}

# one restore, killed after $1 microseconds or at fault point $1
one_run() {
	local when=$1
	WHY=
	rm -f "$D/stop" "$D/restored"
	: >"$D/restore.log"
	if [[ $when == [0-9]* ]]; then
		start_restore
		usleep "$when"
		kill -9 "$(<"$D/rpid")" 2>/dev/null
	else
		start_restore CKPT_FAULT="$when"
	fi
	# restore first ends (killed or done), then its guardian acts
	wait_for 600 restore_gone || { WHY="restore does not end"
				       cleanup_run; return 1; }
	wait_for 300 settled ||
		{ WHY="half restored: $(running) of $(wc -w <<<"$IMG_PIDS") run"
		  cleanup_run; return 1; }
	if all_running; then
		[[ $when == [0-9]* ]] ||
			{ WHY="restore got past $when"; cleanup_run; return 1; }
		finish_tree || { cleanup_run; return 1; }
	elif ! wait_for 100 no_key; then
		WHY="System V segment with the image's key left behind"
		cleanup_run
		return 1
	elif ! wait_for 100 no_new_name; then
		WHY="left in D: $(names | comm -13 "$D.names" - | head -n 3)"
		cleanup_run
		return 1
	fi
	cleanup_run
	return 0
}

measure() {	# microseconds of one whole restore --detach
	local t0 t1
	t0=$(date +%s%6N)
	start_restore
	wait_for 600 restore_gone && all_running || return 1
	t1=$(date +%s%6N)
	cleanup_run
	echo $((t1 - t0))
}

record() {	# record LABEL STATUS
	if (($2 == 0)); then
		PASSED=$((PASSED + 1))
		return 0
	fi
	FAILED=$((FAILED + 1))
	echo "FAIL $1: $WHY"
	return 1
}

for t in "${TARGETS[@]}"; do
	if ! make_image "$t"; then
		echo "FAIL $t: $WHY (kept $D)"
		FAILED=$((FAILED + 1))
		continue
	fi
	ok=0
	n=0
	if ((USE_POINTS)); then
		own="POINTS_$t[@]"
		for p in "${POINTS[@]}" ${!own+"${!own}"}; do
			n=$((n + 1))
			one_run "$p"
			record "$t at $p" $? && ok=$((ok + 1))
		done
	else
		len=$(measure) || { echo "FAIL $t: can't measure a restore"
				    FAILED=$((FAILED + 1)); continue; }
		for ((i = 0; i < RUNS; i++)); do
			n=$((n + 1))
			when=$(random_moment "$len")
			one_run "$when"
			record "$t run $i (after ${when}us)" $? &&
				ok=$((ok + 1))
		done
	fi
	echo "$t: $ok of $n killed restores left all or nothing"
	((ok == n)) && rm -rf "$D" "$D.names" || echo "kept $D"
done
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
