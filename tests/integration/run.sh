#!/bin/bash
# run.sh - integration tests: real processes through dump, kill, restore.
#
#   bash tests/integration/run.sh [--no-ckpt] [TEST...]
#
# Runs every test (or the named ones) and prints "PASS name" or
# "FAIL name: reason" (with the tail of that test's logs) per test, then
# exactly "N passed, N failed" as the last line (CI parses it).  Exit
# status 0 only if nothing failed.  Must run as root, from anywhere.
#
# A workload test (the zdtm model, see tests/workloads/workload.h):
# start the workload in a fresh directory D (mktemp -d), take its PID from
# D/ready, let its D/count grow, `ckpt attach --kill -o D/img PID`, reap
# it, `restore D/img` in the background, wait for the PID to be back and
# D/count to grow past its length at dump time, create D/restored, let it
# grow more, create D/stop; the restore command must then exit 0 (the
# workload's own verdict) and D/count must read 0, 1, ..., N: a restored
# process that lost or replayed work leaves a gap or a repeat.
#
# Every wait is for a condition with a generous bound (the test machines
# are shared and loaded: nothing here asserts on time).  Each test runs
# in a subshell whose EXIT trap SIGKILLs whatever it started; D is removed
# on success and kept (and printed) on failure.
#
# --no-ckpt runs the workload tests without dump and restore, to check the
# workloads and this script themselves; tests that need ckpt are skipped.
#
# Environment: B (build directory, default build).

set -u
shopt -s nullglob

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
CKPT=$B/bin/ckpt
RESTORE=$B/bin/restore
WLB=$B/tests/workloads
WLS=$TOP/tests/workloads

ALL_TESTS=(counter counter-static threads threads-static python perl bash
	   syscalls signals fpu memory bigmem sparse files tty ckpt-restore
	   exit-status detach bad-args bad-image sigterm target-dies
	   thread-churn dump-twice restore-again creds caps timers seccomp
	   compress pipe sym plugin-chunks serve serve-faults encrypt
	   replicate replicate-tcp serve-clients tree run-tree run run-restore
	   run-forward pipes bash-pipeline make ext-null run-interval run-fail
	   shm shm-alone sockets sockets-tcp kfds kfds-single zombie
	   zombie-late tree-kill sockets-backlog kfd-outside check serve-sweep
	   serve-tamper inet inet-kill tcp-close udp redis inet-refused
	   netlink)
# tests that make no sense without ckpt
CKPT_ONLY=" ckpt-restore exit-status detach bad-args bad-image sigterm "
CKPT_ONLY+="target-dies dump-twice restore-again seccomp compress pipe "
CKPT_ONLY+="plugin-chunks "
CKPT_ONLY+="encrypt replicate replicate-tcp "
CKPT_ONLY+="serve serve-faults serve-clients serve-tamper "
CKPT_ONLY+="tree run-tree pipes bash-pipeline make ext-null shm "
CKPT_ONLY+="sockets sockets-tcp sockets-backlog kfds zombie zombie-late tree-kill "
CKPT_ONLY+="kfd-outside check serve-sweep "
CKPT_ONLY+="inet inet-kill tcp-close redis inet-refused netlink "
CKPT_ONLY+="run run-restore run-forward run-interval run-fail "

NO_CKPT=0
RESTORE_CMD=("$RESTORE")
DUMP_OPTS=()
RESTORE_TTY=0	# run restore under script(1), logging to D/tty2.log

# ---- per-test state (each test runs in its own subshell) -----------------

D=		# the test directory
JOB=		# the job that started the workload (our child)
PID=		# the workload's PID, from D/ready
RJOB=		# the restore job
WST=		# exit status from the last wait_job
JST=		# exit status from the last status
ST=		# state letter from the last pstate
DUMP_COUNT=0	# lines in D/count when the dump ended
JOBS_STARTED=()
PIDS_SEEN=()

fail() {
	printf '%s\n' "$*" >"$D/reason"
	exit 1
}

nap() {
	sleep 0.05
}

track_job() {
	JOBS_STARTED+=("$1")
}

track_pid() {
	PIDS_SEEN+=("$1")
}

# Is PID one of ours?  Its cwd is under D, or it carries our environment
# marker; a PID reused by an unrelated process is left alone.
is_ours() {
	local cwd env
	cwd=$(readlink "/proc/$1/cwd" 2>/dev/null)
	[[ $cwd == "$D" || $cwd == "$D"/* ]] && return 0
	env=$(tr '\0' '\n' 2>/dev/null <"/proc/$1/environ")
	[[ $env == *"CKPT_TEST_DIR=$D"* ]]
}

cleanup() {
	local p
	for p in "${PIDS_SEEN[@]}"; do
		[[ -e /proc/$p ]] && is_ours "$p" && kill -KILL "$p" 2>/dev/null
	done
	for p in "${JOBS_STARTED[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${JOBS_STARTED[@]}"; do
		wait "$p" 2>/dev/null
	done
	# a restored process may outlive restore: kill by marker again
	for p in "${PIDS_SEEN[@]}"; do
		[[ -e /proc/$p ]] && is_ours "$p" && kill -KILL "$p" 2>/dev/null
	done
	# a System V segment outlives its processes (the shm workload's key)
	[[ -s $D/shm.key ]] && ipcrm -M "$(<"$D/shm.key")" 2>/dev/null
	return 0
}

# pstate PID: ST = its state letter (R S D T t Z ...), or - if gone.
pstate() {
	local s
	ST=-
	read -r s 2>/dev/null <"/proc/$1/stat" || return 0
	s=${s##*) }
	ST=${s%% *}
}

stopped() {
	pstate "$1"
	[[ $ST == [tT] ]]
}

# Gone, or a zombie (its parent may be a PID 1 that never reaps).
gone() {
	pstate "$1"
	[[ $ST == [-ZX] ]]
}

alive() {
	! gone "$1"
}

tracer() {
	local k v
	while read -r k v; do
		[[ $k == TracerPid: ]] && { echo "$v"; return; }
	done <"/proc/$1/status" 2>/dev/null
	echo 0
}

job_done() {
	! kill -0 "$1" 2>/dev/null || gone "$1"
}

# status JOB: reap JOB (which has ended), JST = its status, or "?" if it
# is not our child (a detached restored process).  Not in $(...): a
# subshell can't wait for our children.
status() {
	local p
	JST="?"
	for p in "${JOBS_STARTED[@]}"; do
		if [[ $p == "$1" ]]; then
			wait "$1"
			JST=$?
			return
		fi
	done
}

# wait_job JOB SECS: reap JOB within SECS, WST = its status; 1 on timeout.
wait_job() {
	local end=$((SECONDS + $2))
	while ! job_done "$1"; do
		((SECONDS < end)) || return 1
		nap
	done
	wait "$1"
	WST=$?
	return 0
}

wait_gone() {
	local end=$((SECONDS + $2))
	while ! gone "$1"; do
		((SECONDS < end)) || return 1
		nap
	done
}

# diag: what the workload PID is doing, for failure messages.
diag() {
	local comm= sc=
	[[ -n $PID ]] || return 0
	pstate "$PID"
	[[ $ST == - ]] && { echo "PID $PID is gone"; return 0; }
	read -r comm <"/proc/$PID/comm" 2>/dev/null
	read -r sc _ <"/proc/$PID/syscall" 2>/dev/null
	echo "PID $PID $comm state $ST syscall $sc"
}

lastline() {
	[[ -s $1 ]] && tail -n 1 "$1"
}

count_lines() {
	if [[ -e $D/count ]]; then
		wc -l <"$D/count"
	else
		echo 0
	fi
}

# wait_count_above N SECS WATCH: until D/count has more than N lines; the
# job WATCH ending first is a failure.
wait_count_above() {
	local end=$((SECONDS + $2)) c
	while c=$(count_lines); ((c <= $1)); do
		if job_done "$3"; then
			status "$3"
			fail "process exited (status $JST) while" \
			     "waiting for" \
			     "D/count to pass $1 lines (has $c):" \
			     "$(grep -h FAIL "$D/out.log" 2>/dev/null | tail -n 1)"
		fi
		((SECONDS < end)) ||
			fail "D/count stuck at $c lines (waited $2 s for more" \
			     "than $1; $(diag))"
		nap
	done
}

# D/count must read 0, 1, ..., N-1: no gap, no repeat, no garbage.
check_count() {
	local err
	err=$(awk '$0 != NR - 1 {
		printf "D/count line %d is \"%s\", want %d", NR, $0, NR - 1
		exit 1 }' "$D/count") || fail "$err"
}

need() {
	local f
	for f; do
		[[ -x $f ]] || fail "$f is missing (make check-integration" \
				    "builds it)"
	done
}

# ---- the workload flow ---------------------------------------------------

# spawn CMD...: in a subshell, exec CMD in D with only fds 0-2 open (the
# runner may inherit pipes, e.g. make's jobserver, and a workload holding
# one could not be dumped) and our marker in its environment.
spawn() {
	local f n
	for f in /proc/$BASHPID/fd/*; do
		n=${f##*/}
		((n > 2)) && eval "exec $n>&-" 2>/dev/null
	done
	cd "$D" && CKPT_TEST_DIR=$D exec "$@"
}

# start_wl CMD...: start CMD in D, wait for D/ready, set JOB and PID.
start_wl() {
	local end=$((SECONDS + 60)) line
	(spawn "$@") </dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	wait_ready "$end"
}

wait_ready() {
	local line
	while :; do
		# a line with its newline: the file is complete
		if [[ -f $D/ready ]] && read -r line <"$D/ready" &&
		   [[ $line =~ ^[0-9]+$ ]]; then
			PID=$line
			track_pid "$PID"
			return
		fi
		if job_done "$JOB"; then
			status "$JOB"
			fail "workload exited (status $JST) before" \
			     "it was ready:" \
			     "$(lastline "$D/out.log")"
		fi
		((SECONDS < $1)) || fail "workload not ready after 60 s"
		nap
	done
}

# ckpt attach --kill; then PID must be gone and the image there.
dump_kill() {
	local cjob
	(spawn "$CKPT" attach --kill "${DUMP_OPTS[@]}" -o "$D/img" "$PID") \
		</dev/null >>"$D/ckpt.log" 2>&1 &
	cjob=$!
	track_job "$cjob"
	wait_job "$cjob" 300 || fail "ckpt attach --kill still running" \
				     "after 300 s"
	((WST == 0)) || fail "ckpt attach --kill exited $WST:" \
			     "$(lastline "$D/ckpt.log")"
	wait_gone "$PID" 30 ||
		fail "PID $PID still there (state $ST) 30 s after" \
		     "ckpt attach --kill"
	if [[ $JOB == "$PID" ]]; then
		wait_job "$JOB" 30 || fail "can't reap the killed workload"
		((WST > 128)) || fail "the dumped workload exited $WST" \
				      "instead of being killed:" \
				      "$(lastline "$D/out.log")"
	fi
	[[ -e $D/img ]] || fail "ckpt attach exited 0 but wrote no D/img"
	DUMP_COUNT=$(count_lines)
}

# start_restore [OPTION...]: restore D/img in the background (RJOB).
start_restore() {
	local argv=("${RESTORE_CMD[@]}" "$@" "$D/img") cmd
	if ((RESTORE_TTY)); then
		printf -v cmd '%q ' "${argv[@]}"
		argv=(script -qfec "$cmd" "$D/tty2.log")
	fi
	(spawn "${argv[@]}") </dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
}

# The restored PID must be back and D/count must grow past DUMP_COUNT.
wait_restored() {
	local end=$((SECONDS + 60))
	while gone "$PID"; do
		if job_done "$RJOB"; then
			status "$RJOB"
			fail "restore exited $JST and PID $PID" \
			     "did not come back:" \
			     "$(lastline "$D/restore.log")"
		fi
		((SECONDS < end)) || fail "PID $PID not back 60 s after restore:" \
					  "$(lastline "$D/restore.log")"
		nap
	done
	# loading a big image may take a while on a loaded machine
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
}

# D/restored, more progress, D/stop; the workload's verdict via RJOB.
finish() {
	local c
	touch "$D/restored"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$RJOB"
	touch "$D/stop"
	wait_job "$RJOB" 180 || fail "still running 180 s after D/stop ($(diag))"
	((WST == 0)) || fail "exited $WST after D/stop:" \
			     "$(grep -h FAIL "$D/out.log" | tail -n 1)"
	wait_gone "$PID" 30 || fail "PID $PID still there after its restore" \
				    "exited"
	check_count
	c=$(count_lines)
	((c > DUMP_COUNT + 6)) || fail "D/count did not grow after restore"
}

# The whole flow for a workload started with CMD...; HOOK_DUMPED and
# HOOK_RESTORED, if set, name functions run after the dump and once the
# restored process is up.
HOOK_DUMPED=
HOOK_RESTORED=
wl_test() {
	start_wl "$@"
	wl_test_started
}

wl_test_started() {
	wait_count_above 8 60 "$JOB"
	if ((NO_CKPT)); then
		RJOB=$JOB
	else
		need "$CKPT" "$RESTORE"
		dump_kill
		[[ -n $HOOK_DUMPED ]] && $HOOK_DUMPED
		start_restore
		wait_restored
	fi
	[[ -n $HOOK_RESTORED ]] && $HOOK_RESTORED
	finish
}

# ---- tests ---------------------------------------------------------------

t_counter() {
	need "$WLB/counter"
	wl_test "$WLB/counter"
}

t_counter-static() {
	need "$WLB/counter-static"
	wl_test "$WLB/counter-static"
}

# /proc/PID/task must list exactly the TIDs the workload wrote to D/tids.
check_tids() {
	local want have
	want=$(sort -n "$D/tids" | tr '\n' ' ')
	have=$(ls "/proc/$PID/task" | sort -n | tr '\n' ' ')
	[[ $want == "$have" ]] ||
		fail "threads are $have; before the dump they were $want"
}

t_threads() {
	need "$WLB/threads"
	HOOK_RESTORED=check_tids
	wl_test "$WLB/threads"
}

t_threads-static() {
	need "$WLB/threads-static"
	HOOK_RESTORED=check_tids
	wl_test "$WLB/threads-static"
}

t_python() {
	local py
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	wl_test "$py" "$WLS/counter.py"
}

t_perl() {
	local pl
	pl=$(command -v perl) || fail "perl not found"
	wl_test "$pl" "$WLS/counter.pl"
}

t_bash() {
	wl_test "$BASH" "$WLS/counter.sh"
}

t_syscalls() {
	need "$WLB/syscalls"
	wl_test "$WLB/syscalls"
}

t_signals() {
	need "$WLB/signals"
	wl_test "$WLB/signals"
}

t_fpu() {
	need "$WLB/fpu"
	wl_test "$WLB/fpu"
}

t_memory() {
	need "$WLB/memory"
	wl_test "$WLB/memory"
}

t_bigmem() {
	need "$WLB/bigmem"
	wl_test "$WLB/bigmem"
}

check_small_image() {
	local size
	size=$(du -sb "$D/img" | cut -f1)
	((size < 8 * 1024 * 1024)) ||
		fail "image of 1 MiB touched in 8 GiB mapped is $size bytes"
}

t_sparse() {
	need "$WLB/sparse"
	HOOK_DUMPED=check_small_image
	wl_test "$WLB/sparse"
}

t_files() {
	need "$WLB/files"
	wl_test "$WLB/files"
}

t_tty() {
	local cmd
	need "$WLB/tty"
	command -v script >/dev/null || fail "script (util-linux) not found"
	printf -v cmd '%q' "$WLB/tty"
	RESTORE_TTY=1
	wl_test script -qfec "$cmd" "$D/tty1.log"
	grep -q tty-ok "$D/tty2.log" 2>/dev/null ||
		{ ((NO_CKPT)) && grep -q tty-ok "$D/tty1.log"; } ||
		fail "\"tty-ok\" is not in the restored terminal's log"
}

t_ckpt-restore() {
	need "$WLB/counter"
	RESTORE_CMD=("$CKPT" restore)
	wl_test "$WLB/counter"
}

# restore passes the status through: exit 7, then killed by SIGTERM (143)
t_exit-status() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$WLB/counter" 7
	wait_count_above 8 60 "$JOB"
	dump_kill
	start_restore
	wait_restored
	touch "$D/stop"
	wait_job "$RJOB" 60 || fail "restore still running 60 s after D/stop"
	((WST == 7)) || fail "restore exited $WST, the workload exited 7"
	wait_gone "$PID" 30 || fail "PID $PID still there after restore exited"

	rm -f "$D/stop"
	DUMP_COUNT=$(count_lines)	# progress is counted from here now
	start_restore
	wait_restored
	kill -TERM "$PID"
	wait_job "$RJOB" 60 || fail "restore still running 60 s after the" \
				    "restored process got SIGTERM"
	((WST == 143)) ||
		fail "restore exited $WST, the workload was killed by SIGTERM"
}

t_detach() {
	local out
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	dump_kill
	expect_exit 0 "$RESTORE" --detach "$D/img"
	read -r out <"$D/cmd.out"
	[[ $out == "$PID" ]] ||
		fail "restore --detach printed \"$out\", want $PID"
	alive "$PID" || fail "PID $PID not running after restore --detach"
	RJOB=$PID	# not our child: wait_count_above only polls it
	wait_count_above $((DUMP_COUNT + 3)) 60 "$PID"
	touch "$D/restored"
	wait_count_above $((DUMP_COUNT + 6)) 60 "$PID"
	touch "$D/stop"
	wait_gone "$PID" 60 || fail "detached PID $PID still running 60 s" \
				    "after D/stop"
	check_count
}

# ids of PID: the Uid, Gid and Groups lines of /proc/PID/status
ids_of() {
	grep -E '^(Uid|Gid|Groups):' "/proc/$1/status" | tr -s '\t ' ' '
}

check_ids() {
	local now
	now=$(ids_of "$PID")
	[[ $now == "$IDS_BEFORE" ]] ||
		fail "ids after restore: $(echo $now); before: $(echo $IDS_BEFORE)"
}

# A process of another user comes back with its own ids, not restore's.
t_creds() {
	need "$WLB/counter" "$(command -v setpriv)"
	chmod 0777 "$D"
	start_wl setpriv --reuid=65534 --regid=65534 --groups=65533,65534 \
		"$WLB/counter"
	IDS_BEFORE=$(ids_of "$PID")
	[[ $IDS_BEFORE == *65534* ]] || fail "setpriv did not take: $IDS_BEFORE"
	HOOK_RESTORED=check_ids
	wl_test_started
}

# Capabilities, securebits and the dumpable flag come back thread by
# thread (tests/workloads/caps.c checks them); ckpt inspect shows them;
# a restore that lacks one of the capabilities refuses, naming it.
t_caps() {
	need "$WLB/caps" "$(command -v setpriv)"
	chmod 0777 "$D"
	start_wl "$WLB/caps"
	HOOK_DUMPED=check_caps_image
	wl_test_started
}

check_caps_image() {
	local n py
	expect_exit 0 "$CKPT" inspect "$D/img"
	grep -Eq "^process $PID .* dumpable 0\$" "$D/cmd.out" ||
		fail "inspect: not dumpable 0: $(grep ^process "$D/cmd.out")"
	n=$(grep -Ec "^caps [0-9]+ inh 0x400 prm 0x420 eff 0x420 bnd 0x[0-9a-f]+ amb 0x400 securebits 0x1d\$" "$D/cmd.out")
	((n == 1)) || fail "inspect: $n threads with the main thread's caps:" \
			   "$(grep ^caps "$D/cmd.out")"
	grep -Eq "^caps [0-9]+ inh 0x400 prm 0x420 eff 0x20 " "$D/cmd.out" ||
		fail "inspect: no thread with only cap_kill effective"
	expect_exit 0 "$CKPT" inspect --json "$D/img"
	py='import json,sys
t=json.load(sys.stdin)["processes"][0]["threads"]
s=sorted((x["cap_effective"],x["cap_ambient"],x["securebits"]) for x in t)
sys.exit(s!=[("0x20","0x400","0x1d"),("0x420","0x400","0x1d")])'
	python3 -c "$py" <"$D/cmd.out" ||
		fail "inspect --json: caps $(grep -o '"cap_[a-z]*":"[^"]*"' \
					     "$D/cmd.out" | tr '\n' ' ')"
	expect_exit 70 setpriv --bounding-set=-net_bind_service "$RESTORE" \
		"$D/img"
	one_line_err
	grep -q "process $PID .*cap_net_bind_service" "$D/cmd.err" ||
		fail "the refusal does not name the capability: $(cat "$D/cmd.err")"
	gone "$PID" || fail "a refused restore left PID $PID behind"
}

t_timers() {
	need "$WLB/timers"
	wl_test "$WLB/timers"
}

# A process under seccomp is refused, named as such, and left running.
t_seccomp() {
	local c f
	need "$WLB/seccomp" "$CKPT"
	start_wl "$WLB/seccomp"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q seccomp "$D/cmd.err" ||
		fail "the refusal does not say why: $(cat "$D/cmd.err")"
	refused_runs_on
	check_count
}

# --compress: a zstd stream that restore takes as it is; damaged or cut
# short, it is refused before any process exists.
t_compress() {
	local magic size
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--compress=5)
	dump_kill
	DUMP_OPTS=()
	magic=$(od -An -tx1 -N4 "$D/img" | tr -d ' ')
	[[ $magic == 28b52ffd ]] || fail "not a zstd stream: starts $magic"
	size=$(stat -c %s "$D/img")
	cp "$D/img" "$D/cut"
	truncate -s $((size / 2)) "$D/cut"
	expect_exit 65 "$RESTORE" "$D/cut"
	grep -q truncated "$D/cmd.err" || fail "cut stream: $(cat "$D/cmd.err")"
	cp "$D/img" "$D/flip"
	flip_byte "$D/flip" $((size / 2))
	expect_exit 65 "$RESTORE" "$D/flip"
	gone "$PID" || fail "a refused image left PID $PID behind"
	start_restore
	wait_restored
	finish
}

# --encrypt: only the right key opens the image; a cut or altered stream,
# a wrong key, no key, a key others can read: all refused, no process.
t_encrypt() {
	local size
	need "$WLB/counter" "$CKPT" "$RESTORE"
	expect_exit 0 "$CKPT" keygen "$D/key"
	[[ $(stat -c %a "$D/key") == 600 ]] || fail "key file is not 0600"
	expect_exit 73 "$CKPT" keygen "$D/key"
	expect_exit 0 "$CKPT" keygen "$D/other"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--compress --encrypt "$D/key")
	dump_kill
	DUMP_OPTS=()
	[[ $(head -c 8 "$D/img") == CKPTENC1 ]] || fail "not an encrypted image"
	grep -q CKPTIMG "$D/img" && fail "plain image bytes in the encrypted one"
	expect_exit 65 "$RESTORE" "$D/img"
	grep -q "give the key" "$D/cmd.err" || fail "no key: $(cat "$D/cmd.err")"
	expect_exit 65 "$RESTORE" --key "$D/other" "$D/img"
	grep -q "wrong key" "$D/cmd.err" || fail "wrong key: $(cat "$D/cmd.err")"
	size=$(stat -c %s "$D/img")
	cp "$D/img" "$D/cut"
	truncate -s $((size - 100)) "$D/cut"
	expect_exit 65 "$RESTORE" --key "$D/key" "$D/cut"
	cp "$D/img" "$D/flip"
	flip_byte "$D/flip" $((size / 2))
	expect_exit 65 "$RESTORE" --key "$D/key" "$D/flip"
	cp "$D/key" "$D/open" && chmod 0644 "$D/open"
	expect_exit 65 "$RESTORE" --key "$D/open" "$D/img"
	grep -q "open to others" "$D/cmd.err" ||
		fail "readable key: $(cat "$D/cmd.err")"
	gone "$PID" || fail "a refused image left PID $PID behind"
	expect_exit 0 "$CKPT" inspect --key "$D/key" "$D/img"
	grep -q "^process $PID" "$D/cmd.out" || fail "inspect --key: no process"
	RESTORE_CMD=("$RESTORE" --key "$D/key")
	start_restore
	RESTORE_CMD=("$RESTORE")
	wait_restored
	finish
}

# -o -: the image goes to standard output; restore - reads standard input.
t_pipe() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	(spawn "$CKPT" attach --kill --compress -o - "$PID") </dev/null \
		>"$D/stream" 2>>"$D/ckpt.log" ||
		fail "ckpt attach -o - failed: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
	(spawn "$RESTORE" -) <"$D/stream" >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
}

# chunks://: the example plugin, found through CKPT_PLUGIN_PATH by ckpt and
# by restore, spreads the compressed image over 4 files of mode 0600 (and
# leaves no temporaries); restore reads them back in order.
t_plugin-chunks() {
	local spec="chunks://4,4k:$D/img" i f mode
	need "$WLB/counter" "$CKPT" "$RESTORE" "$B/plugins/chunks.so"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	(export CKPT_PLUGIN_PATH=$B/plugins
	 spawn "$CKPT" attach --kill --compress -o "$spec" "$PID") \
		</dev/null >>"$D/ckpt.log" 2>&1 ||
		fail "ckpt attach -o $spec failed: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
	f=("$D"/img*)
	((${#f[@]} == 4)) || fail "want img.0-3, have: ${f[*]##*/}"
	for i in 0 1 2 3; do
		[[ -f $D/img.$i ]] || fail "no img.$i: ${f[*]##*/}"
		mode=$(stat -c %a "$D/img.$i")
		[[ $mode == 600 ]] || fail "img.$i has mode $mode, not 600"
	done
	(export CKPT_PLUGIN_PATH=$B/plugins; spawn "$RESTORE" "$spec") \
		</dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
}

# start_server: ckpt serve on a free port of 127.0.0.1 for D/srv with the
# key D/key; SJOB, PORT, URL. A port in use (exit 69): the next one.
start_server() {
	local try end
	mkdir -p "$D/srv"
	[[ -e $D/key ]] || expect_exit 0 "$CKPT" keygen "$D/key"
	for try in 1 2 3 4 5 6 7 8; do
		PORT=$((20000 + RANDOM % 20000))
		(spawn "$CKPT" serve --listen "127.0.0.1:$PORT" -D "$D/srv" \
			--auth "$D/key") </dev/null >>"$D/serve.log" 2>&1 &
		SJOB=$!
		track_job "$SJOB"
		end=$((SECONDS + 10))
		until grep -q "serving .* on 127.0.0.1:$PORT" "$D/serve.log"; do
			job_done "$SJOB" && break
			((SECONDS < end)) || fail "ckpt serve not up after 10 s"
			nap
		done
		if job_done "$SJOB"; then
			wait_job "$SJOB" 5
			((WST == 69)) || fail "ckpt serve exited $WST:" \
					      "$(lastline "$D/serve.log")"
			continue
		fi
		URL=tcp://127.0.0.1:$PORT
		return
	done
	fail "no free port for ckpt serve"
}

# stop_server: SIGTERM; it must exit 0 within 10 s.
stop_server() {
	kill -TERM "$SJOB"
	wait_job "$SJOB" 10 || fail "ckpt serve still running 10 s after SIGTERM"
	((WST == 0)) || fail "ckpt serve exited $WST after SIGTERM:" \
			     "$(lastline "$D/serve.log")"
}

# Nothing in D/srv but the images named, no temporaries.
srv_holds() {
	local have want
	have=$(cd "$D/srv" && ls -A | tr '\n' ' ')
	want="$* "
	[[ $have == "${want# }" ]] || fail "D/srv holds '$have', want '$*'"
}

# ckpt serve under its seccomp filter: attach -o tcp:// stores D/srv/job
# (mode 0600, no temporaries); restore --auth fetches it back.
t_serve() {
	local mode
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_server
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	(spawn "$CKPT" attach --kill --compress -o "$URL/job" --auth "$D/key" \
		"$PID") </dev/null >>"$D/ckpt.log" 2>&1 ||
		fail "ckpt attach -o $URL/job failed: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
	srv_holds job
	mode=$(stat -c %a "$D/srv/job")
	[[ $mode == 600 ]] || fail "D/srv/job has mode $mode, not 600"
	grep -q "put job: ok" "$D/serve.log" || fail "no log line for the put"
	(spawn "$RESTORE" --auth "$D/key" "$URL/job") </dev/null \
		>>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
	grep -q "get job: ok" "$D/serve.log" || fail "no log line for the get"
	stop_server
}

# Refusals: a wrong key (target runs on), bad names, a missing image; a
# client killed mid-stream leaves nothing; the server serves on.
# Several clients at once: two big dumps stream to the receiver together
# (each started before the other ends), and both images arrive whole.
t_serve-clients() {
	local j1 j2 p1 end
	need "$WLB/bigmem" "$CKPT"
	start_server
	start_wl "$WLB/bigmem"
	wait_count_above 8 60 "$JOB"
	p1=$PID
	mkdir -p "$D/two"
	D=$D/two start_wl_in "$WLB/bigmem"
	(spawn "$CKPT" attach -o "$URL/one" --auth "$D/key" "$p1") </dev/null \
		>>"$D/ckpt.log" 2>&1 &
	j1=$!
	track_job "$j1"
	end=$((SECONDS + 60))
	until (($(srv_tmp_size one) > 0)); do
		job_done "$j1" && fail "the first dump ended before the second began"
		((SECONDS < end)) || fail "the first dump never reached the receiver"
		sleep 0.01
	done
	(spawn "$CKPT" attach -o "$URL/two" --auth "$D/key" "$PID2") \
		</dev/null >>"$D/ckpt.log" 2>&1 &
	j2=$!
	track_job "$j2"
	until (($(srv_tmp_size two) > 0)) || [[ -e $D/srv/two ]]; do
		job_done "$j2" && break
		sleep 0.01
	done
	job_done "$j1" && fail "the first dump was over before the second" \
			       "reached the receiver: not concurrent"
	wait_job "$j1" 300 || fail "first dump still running"
	((WST == 0)) || fail "first dump exited $WST: $(lastline "$D/ckpt.log")"
	wait_job "$j2" 300 || fail "second dump still running"
	((WST == 0)) || fail "second dump exited $WST: $(lastline "$D/ckpt.log")"
	srv_holds one two
	expect_exit 0 "$CKPT" inspect "$D/srv/one"
	expect_exit 0 "$CKPT" inspect "$D/srv/two"
	kill -9 "$p1" "$PID2"
	stop_server
}

# start_wl_in CMD...: start a second workload in D (set by the caller),
# its PID in PID2
start_wl_in() {
	local end=$((SECONDS + 60)) line
	(spawn "$@") </dev/null >>"$D/out.log" 2>&1 &
	track_job $!
	until [[ -f $D/ready ]] && read -r line <"$D/ready" &&
	      [[ $line =~ ^[0-9]+$ ]]; do
		((SECONDS < end)) || fail "second workload not ready"
		nap
	done
	PID2=$line
	track_pid "$PID2"
}

# ckpt serve removes, as it starts, the temporaries that receivers killed
# by SIGKILL left in its directory, naming each, but not one that a live
# receiver (here: flock(1) standing in for it) holds locked.
t_serve-sweep() {
	local end
	need "$CKPT"
	mkdir -p "$D/srv"
	echo stale >"$D/srv/.old.tmp.abc123"
	echo image >"$D/srv/kept"
	(spawn flock -x "$D/srv/.live.tmp.def456" sleep 600) </dev/null \
		>>"$D/errors.log" 2>&1 &
	track_job $!
	end=$((SECONDS + 30))
	until [[ -e $D/srv/.live.tmp.def456 ]] &&
	      ! flock -nx "$D/srv/.live.tmp.def456" true; do
		((SECONDS < end)) || fail "flock(1) holds no lock after 30 s"
		nap
	done
	start_server
	[[ -e $D/srv/.old.tmp.abc123 ]] && fail "the stale temporary is still there"
	grep -q "removed $D/srv/.old.tmp.abc123" "$D/serve.log" ||
		fail "serve did not say what it removed: $(cat "$D/serve.log")"
	[[ -e $D/srv/.live.tmp.def456 ]] || fail "a locked temporary was removed"
	[[ $(<"$D/srv/kept") == image ]] || fail "an image was touched"
}

t_serve-faults() {
	local cjob end name
	need "$WLB/counter" "$WLB/bigmem" "$CKPT" "$RESTORE"
	start_server
	expect_exit 0 "$CKPT" keygen "$D/other"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 73 "$CKPT" attach -o "$URL/job" --auth "$D/other" "$PID"
	one_line_err "wrong key"
	grep -q "wrong --auth key" "$D/cmd.err" ||
		fail "wrong key: $(cat "$D/cmd.err")"
	grep -q "refused: client failed authentication" "$D/serve.log" ||
		fail "no log line for the wrong key"
	expect_exit 73 "$CKPT" attach -o "$URL/job" "$PID"
	grep -q -- "--auth" "$D/cmd.err" || fail "no key: $(cat "$D/cmd.err")"
	for name in ../x a/b .hidden; do
		expect_exit 73 "$CKPT" attach -o "$URL/$name" --auth "$D/key" \
			"$PID"
		one_line_err "name $name"
		grep -q "bad image name" "$D/cmd.err" ||
			fail "name $name: $(cat "$D/cmd.err")"
	done
	[[ -e $D/x || -e $D/srv/a ]] && fail "a bad name reached the disk"
	srv_holds
	expect_exit 66 "$RESTORE" --auth "$D/key" "$URL/none"
	grep -q "no such image" "$D/cmd.err" ||
		fail "missing image: $(cat "$D/cmd.err")"
	alive "$PID" || fail "the refused dumps hurt PID $PID"
	stopped "$PID" && fail "the refused dumps left PID $PID stopped"
	kill -KILL "$PID"
	wait_job "$JOB" 30 || fail "can't reap the counter"
	rm -f "$D/ready" "$D/count"
	# a client SIGKILLed while it streams bigmem
	start_wl "$WLB/bigmem"
	wait_count_above 8 60 "$JOB"
	(spawn "$CKPT" attach -o "$URL/big" --auth "$D/key" "$PID") \
		</dev/null >>"$D/ckpt.log" 2>&1 &
	cjob=$!
	track_job "$cjob"
	end=$((SECONDS + 60))
	until [[ -n $(find "$D/srv" -name '.big.tmp.*' -size +16M) ]]; do
		job_done "$cjob" && fail "the dump ended before it was killed"
		((SECONDS < end)) || fail "no 16 MiB temporary after 60 s"
		sleep 0.01
	done
	kill -KILL "$cjob"
	wait_job "$cjob" 30 || fail "can't reap the killed ckpt"
	end=$((SECONDS + 10))
	until grep -q "put big: failed" "$D/serve.log"; do
		((SECONDS < end)) || fail "server did not see the client go"
		nap
	done
	srv_holds
	kill -KILL "$PID"
	wait_job "$JOB" 30 || fail "can't reap bigmem"
	rm -f "$D/ready" "$D/count"
	# still serving
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" attach -o "$URL/again" --auth "$D/key" "$PID"
	srv_holds again
	kill -KILL "$PID"
	wait_job "$JOB" 30 || fail "can't reap the counter"
	stop_server
	srv_holds again
}

# start_proxy MODE [DIR OFFSET]: tests/integration/proxy.py between the
# clients and the server of start_server (replacing the last proxy), as
# PURL: pass, flip the byte at OFFSET of DIR (c2s or s2c), or cut there.
start_proxy() {
	local end=$((SECONDS + 30))
	if [[ -n ${PXJOB:-} ]]; then
		kill -KILL "$PXJOB"
		wait "$PXJOB" 2>/dev/null
	fi
	rm -f "$D/proxy.port"
	(spawn python3 "$TOP/tests/integration/proxy.py" "$D/proxy.port" \
		"$PORT" "$@") </dev/null >>"$D/proxy.log" 2>&1 &
	PXJOB=$!
	track_job "$PXJOB"
	until [[ -s $D/proxy.port ]]; do
		job_done "$PXJOB" && fail "proxy.py exited: $(lastline "$D/proxy.log")"
		((SECONDS < end)) || fail "proxy.py not up after 30 s"
		nap
	done
	PURL=tcp://127.0.0.1:$(<"$D/proxy.port")
}

# tamper_put MODE NAME WHAT: a dump through a proxy that changes (flip)
# or cuts (cut) the client's stream 64 KiB in, well past the handshake,
# fails with one line naming WHAT; the server logs it, keeps nothing, and
# the target runs on.
tamper_put() {
	start_proxy "$1" c2s 65536
	expect_exit 70 "$CKPT" attach -o "$PURL/$2" --auth "$D/key" "$PID"
	one_line_err "$1 c2s"
	grep -q "$3" "$D/cmd.err" || fail "$1 c2s: $(cat "$D/cmd.err")"
	end=$((SECONDS + 30))
	until grep -q "put $2: failed" "$D/serve.log"; do
		((SECONDS < end)) || fail "$1 c2s: the server logged no failure"
		nap
	done
	srv_holds
	alive "$PID" || fail "$1 c2s: the dump hurt PID $PID"
	stopped "$PID" && fail "$1 c2s: the dump left PID $PID stopped"
}

# tamper_get MODE WHAT: restore through a proxy that changes or cuts the
# server's stream refuses the image (65) with one line naming WHAT, and
# creates no process.
tamper_get() {
	start_proxy "$1" s2c 65536
	expect_exit 65 "$RESTORE" --auth "$D/key" "$PURL/job"
	one_line_err "$1 s2c"
	grep -q "$2" "$D/cmd.err" || fail "$1 s2c: $(cat "$D/cmd.err")"
	alive "$PID" && fail "$1 s2c: PID $PID was restored"
	return 0
}

# A man in the middle (tests/integration/proxy.py) changes one byte of
# the image, or cuts the connection, after the handshake, in either
# direction: nothing is stored, nothing restored. Through an honest proxy
# the image goes there and back whole.
t_serve-tamper() {
	local end
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_server
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	tamper_put flip bad "integrity check"
	grep -q "put bad: failed: integrity check failed" "$D/serve.log" ||
		fail "the server did not name the integrity failure"
	tamper_put cut cut "connection closed\|connection reset"
	start_proxy pass
	(spawn "$CKPT" attach --kill -o "$PURL/job" --auth "$D/key" "$PID") \
		</dev/null >>"$D/ckpt.log" 2>&1 ||
		fail "attach through an honest proxy: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
	srv_holds job
	tamper_get flip "integrity check"
	tamper_get cut "connection closed\|connection reset"
	grep -q "put job: ok" "$D/serve.log" || fail "no log line for the put"
	start_proxy pass
	(spawn "$RESTORE" --auth "$D/key" "$PURL/job") </dev/null \
		>>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
	stop_server
}

# Several -o: a copy on a full disk (a 256 KiB tmpfs) is dropped; with
# --quorum 1 the other copy is written, with the default (all) the dump
# fails, the target runs on and no copy is visible anywhere.
t_replicate() {
	local f
	need "$WLB/counter" "$CKPT" "$RESTORE"
	mkdir -p "$D/full"
	mount -t tmpfs -o size=256k tmpfs "$D/full" ||
		fail "can't mount a small tmpfs"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/none" -o "$D/full/none" "$PID"
	expect_exit 0 "$CKPT" attach --quorum 1 -o "$D/img" -o "$D/full/img" \
		"$PID"
	umount_full() { umount "$D/full"; }
	for f in "$D"/none* "$D"/full/*; do
		umount_full
		fail "a failed copy left ${f#$D/} behind"
	done
	umount_full || fail "can't unmount the tmpfs"
	stopped "$PID" && fail "target left stopped (state $ST)"
	[[ -s $D/img ]] || fail "the copy with room was not written"
	# the counter runs on; dump again with --kill and restore the copy
	dump_kill
	start_restore
	wait_restored
	finish
}

# A receiver dies in the middle of the stream: --quorum 1 of a tcp copy
# and a file copy still writes the file; --quorum 2 fails, nothing visible.
t_replicate-tcp() {
	local cjob end q f
	need "$WLB/bigmem" "$CKPT"
	start_server
	start_wl "$WLB/bigmem"
	wait_count_above 8 60 "$JOB"
	for q in 1 2; do
		# a receiver killed by SIGKILL cannot remove its temporary
		rm -f "$D/srv"/.job*.tmp.*
		(spawn "$CKPT" attach --quorum $q -o "$URL/job$q" \
			-o "$D/local$q" --auth "$D/key" "$PID") </dev/null \
			>"$D/cmd.out" 2>"$D/cmd.err" &
		cjob=$!
		track_job "$cjob"
		end=$((SECONDS + 120))
		until (($(srv_tmp_size "job$q") > 16 << 20)); do
			job_done "$cjob" && fail "the dump ended before the" \
						 "receiver could be killed"
			((SECONDS < end)) || fail "no data at the receiver"
			sleep 0.01
		done
		pkill -KILL -P "$SJOB"	# the receiver's connection process
		wait_job "$cjob" 120 || fail "ckpt still running after the kill"
		if ((q == 1)); then
			((WST == 0)) || fail "quorum 1: ckpt exited $WST:" \
					     "$(tail -n 1 "$D/cmd.err")"
			[[ -s $D/local1 ]] || fail "quorum 1: no file copy"
		else
			((WST == 70)) || fail "quorum 2: ckpt exited $WST"
			[[ -e $D/local2 ]] && fail "quorum 2: the file copy is visible"
			for f in "$D"/local2.tmp.*; do	# nullglob
				fail "quorum 2: ${f#$D/} is left"
			done
		fi
		[[ -e $D/srv/job$q ]] && fail "the killed receiver shows job$q"
		stopped "$PID" && fail "target left stopped (state $ST)"
	done
	touch "$D/stop"
	wait_job "$JOB" 120 || fail "bigmem still running after D/stop"
	((WST == 0)) || fail "bigmem exited $WST: $(lastline "$D/out.log")"
	stop_server
}

# srv_tmp_size NAME: bytes in the receiver's temporary for NAME, or 0
srv_tmp_size() {
	local f
	for f in "$D/srv/.$1".tmp.*; do
		stat -c %s "$f" 2>/dev/null && return
	done
	echo 0
}

# ---- ckpt run ------------------------------------------------------------

# start_run [OPTION...]: the counter under `ckpt run -D D/run OPTION...`;
# JOB is the supervisor, PID the counter (its child).
start_run() {
	start_wl "$CKPT" run -D "$D/run" "$@" -- "$WLB/counter"
	[[ $JOB != "$PID" ]] || fail "ckpt run did not fork: the job is $JOB"
	wait_count_above 8 60 "$JOB"
}

# run_dump: `ckpt dump D/run` exits 0 and prints the image, RUN_IMG.
RUN_IMG=
run_dump() {
	expect_exit 0 "$CKPT" dump "$D/run"
	RUN_IMG=$(cat "$D/cmd.out")
	[[ $RUN_IMG == "$D"/run/*.ckpt && -f $RUN_IMG ]] ||
		fail "ckpt dump printed '$RUN_IMG', not an image of D/run"
	alive "$PID" || fail "the checkpoint killed the job"
}

latest_is() {
	[[ $(readlink "$D/run/latest") == "${1##*/}" ]]
}

# Three checkpoints on demand, one on SIGUSR1, --keep 2; then the job
# ends by itself and ckpt run passes its status on.
t_run() {
	local i imgs end
	need "$CKPT" "$WLB/counter"
	start_run --keep 2
	for i in 1 2 3; do
		run_dump
		latest_is "$RUN_IMG" ||
			fail "D/run/latest is $(readlink "$D/run/latest")" \
			     "after dump $i made ${RUN_IMG##*/}"
	done
	imgs=("$D"/run/*.ckpt)
	((${#imgs[@]} == 2)) || fail "${#imgs[@]} images kept, want 2"
	kill -USR1 "$JOB"
	end=$((SECONDS + 120))
	until latest_is 0004.ckpt; do
		((SECONDS < end)) || fail "no 4th image 120 s after SIGUSR1"
		nap
	done
	imgs=("$D"/run/*.ckpt)
	((${#imgs[@]} == 2)) || fail "${#imgs[@]} images kept, want 2"
	[[ ! -e $D/run/0002.ckpt ]] || fail "0002.ckpt not removed"
	touch "$D/stop"
	wait_job "$JOB" 180 || fail "ckpt run still running 180 s after" \
				    "D/stop ($(diag))"
	((WST == 0)) || fail "ckpt run exited $WST after D/stop:" \
			     "$(lastline "$D/out.log")"
	check_count
	[[ ! -e $D/run/control ]] || fail "D/run/control left behind"
}

# A job with children: each checkpoint holds the whole tree.
t_run-tree() {
	local n
	need "$CKPT" "$WLB/tree"
	start_wl "$CKPT" run -D "$D/run" -- "$WLB/tree"
	wait_count_above 8 60 "$JOB"
	run_dump
	"$CKPT" inspect "$RUN_IMG" >"$D/inspect.out" ||
		fail "ckpt inspect of the checkpoint failed"
	n=$(grep -c '^process ' "$D/inspect.out")
	((n == 4)) || fail "the checkpoint holds $n processes, want 4"
	n=$(grep -c "^process [0-9]* ppid $PID " "$D/inspect.out")
	((n == 2)) || fail "inspect shows $n children of $PID, want 2"
	touch "$D/stop"
	wait_job "$JOB" 180 || fail "ckpt run still running 180 s after D/stop"
	((WST == 0)) || fail "ckpt run exited $WST after D/stop:" \
			     "$(lastline "$D/out.log")"
}

# A checkpoint, then the job is killed (and ckpt run ends); ckpt restore
# D/run brings back the newest image.  D/count is cut back to its size at
# the dump (as in t_dump-twice).
t_run-restore() {
	local c pos
	need "$CKPT" "$RESTORE" "$WLB/counter"
	start_run
	run_dump
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	# the job first: its parent, the supervisor, must reap it (killed
	# first, it would leave the job a zombie of a PID 1 that may never
	# reap, its PID taken); then the supervisor goes too
	kill -KILL "$PID"
	wait_job "$JOB" 60 || fail "ckpt run still running after its job" \
				   "was killed"
	((WST == 137)) || fail "ckpt run exited $WST after its job was" \
			       "killed, want 137"
	wait_gone "$PID" 30 || fail "the killed job $PID is still there"
	check_count
	pos=$(image_count_pos "$RUN_IMG")
	((pos > 0)) || fail "count fd at $pos in ${RUN_IMG##*/}"
	truncate -s "$pos" "$D/count"
	DUMP_COUNT=$(count_lines)
	(spawn "$CKPT" restore "$D/run") </dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
}

# --interval 1 --keep 2 --compress --encrypt: periodic checkpoints, the
# two newest kept, each compressed and encrypted; `ckpt restore --key
# KEY DIR` brings the newest back, restore without the key refuses it.
t_run-interval() {
	local end=$((SECONDS + 120)) line pos imgs
	need "$CKPT" "$RESTORE" "$WLB/counter"
	expect_exit 0 "$CKPT" keygen "$D/key"
	expect_exit 64 "$CKPT" run --encrypt "$D/nokey" -- "$WLB/counter"
	grep -q "can't read key file" "$D/cmd.err" ||
		fail "missing key: $(cat "$D/cmd.err")"
	start_run --interval 1 --keep 2 --compress --encrypt "$D/key"
	until [[ -e $D/run/0003.ckpt ]]; do
		((SECONDS < end)) || fail "no third checkpoint after 120 s:" \
					  "$(lastline "$D/out.log")"
		job_done "$JOB" && fail "ckpt run ended: $(lastline "$D/out.log")"
		nap
	done
	kill -KILL "$PID"
	wait_job "$JOB" 60 || fail "ckpt run still running after its job died"
	imgs=("$D"/run/*.ckpt)
	((${#imgs[@]} == 2)) || fail "${#imgs[@]} images kept: ${imgs[*]##*/}"
	RUN_IMG=$D/run/$(readlink "$D/run/latest")
	[[ $RUN_IMG == "${imgs[1]}" ]] || fail "latest is not the newest image"
	[[ $(head -c 8 "$RUN_IMG") == CKPTENC1 ]] || fail "not encrypted"
	expect_exit 65 "$CKPT" restore "$D/run"
	line=$("$CKPT" inspect --key "$D/key" "$RUN_IMG" |
	       grep -m1 "^fd .* $D/count\$") || fail "inspect --key: no count fd"
	pos=${line#* pos }
	truncate -s "${pos%% *}" "$D/count"
	DUMP_COUNT=$(count_lines)
	(spawn "$CKPT" restore --key "$D/key" "$D/run") </dev/null \
		>>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
}

# start_listener: a TCP listener outside every tree, its port in PORT.
start_listener() {
	PORT=
	python3 -c 'import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
time.sleep(600)' >"$D/port" 2>>"$D/errors.log" &
	track_job $!
	until [[ $PORT =~ ^[0-9]+$ ]]; do
		nap
		read -r PORT <"$D/port"
	done
}

# A checkpoint that fails (the job has meanwhile connected to a TCP
# listener outside) is reported by `ckpt dump` (exit 70, naming the fd),
# leaves `latest` on the previous image and nothing half-written, and
# the job runs on and ends normally.
t_run-fail() {
	local left end=$((SECONDS + 60))
	need "$CKPT"
	start_listener
	printf '%s\n' 'd=$PWD n=0' \
		'exec 3>>"$d/count" || exit 1' \
		'while :; do' \
		'	echo "$n" >&3' \
		'	((n++))' \
		'	((n == 5)) && echo "$$" >"$d/ready"' \
		'	if [[ -e $d/connect && ! -e $d/connected ]]; then' \
		'		exec 5<>"/dev/tcp/127.0.0.1/$PORT" || exit 1' \
		'		: >"$d/connected"' \
		'	fi' \
		'	((n > 5)) && [[ -e $d/stop ]] && break' \
		'	for ((j = 0; j < 3000; j++)); do :; done' \
		'done' >"$D/job.sh"
	start_wl env PORT="$PORT" "$CKPT" run -D "$D/run" -- "$BASH" "$D/job.sh"
	wait_count_above 8 60 "$JOB"
	run_dump
	touch "$D/connect"
	until [[ -e $D/connected ]]; do
		((SECONDS < end)) || fail "the job did not connect"
		nap
	done
	expect_exit 70 "$CKPT" dump "$D/run"
	grep -q "fd 5 of $PID: socket:" "$D/cmd.err" "$D/out.log" ||
		fail "the failure does not name fd 5: $(cat "$D/cmd.err")"
	latest_is 0001.ckpt || fail "latest is $(readlink "$D/run/latest")"
	left=$(ls -A "$D/run" | tr '\n' ' ')
	[[ $left == "0001.ckpt control latest " ]] ||
		fail "run directory after the failed checkpoint: $left"
	stopped "$PID" && fail "the job was left stopped"
	wait_count_above $(($(count_lines) + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 120 || fail "ckpt run still running after D/stop"
	((WST == 0)) || fail "ckpt run exited $WST: $(lastline "$D/out.log")"
}

# SIGTERM to ckpt run goes to the job, which has no handler: ckpt run
# exits 128 + 15.
t_run-forward() {
	need "$CKPT" "$WLB/counter"
	start_run
	kill -TERM "$JOB"
	wait_job "$JOB" 60 || fail "ckpt run still running 60 s after SIGTERM"
	((WST == 143)) || fail "ckpt run exited $WST after SIGTERM, want 143:" \
			       "$(lastline "$D/out.log")"
	wait_gone "$PID" 30 || fail "the job $PID survived the SIGTERM"
}

# start_tree WL N MIN: start workload WL, wait until its count passes MIN,
# and require N children (TREE_KIDS).
start_tree() {
	need "$WLB/$1" "$CKPT" "$RESTORE"
	start_wl "$WLB/$1"
	wait_count_above "$3" 60 "$JOB"
	TREE_KIDS=$(child_pids "$PID")
	[[ $(wc -w <<<"$TREE_KIDS") == "$2" ]] ||
		fail "$1 has children '$TREE_KIDS', want $2"
}

# dump_tree_live: attach --tree without --kill into D/img (the tree runs
# on), and its ckpt inspect in D/inspect.out.
dump_tree_live() {
	expect_exit 0 "$CKPT" attach --tree -o "$D/img" "$PID"
	stopped "$PID" && fail "root left stopped (state $ST)"
	inspect "$D/img"
}

# end_dumped_tree: D/stop; the dumped tree ends by itself (a killed tree
# would leave its children as zombies of a PID 1 that, in this sandbox,
# never reaps them) with status 0, and its children are gone.
end_dumped_tree() {
	local k
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "the dumped tree did not end after D/stop"
	((WST == 0)) || fail "the dumped tree exited $WST:" \
			     "$(grep -h FAIL "$D/out.log" | tail -n 1)"
	for k in $TREE_KIDS; do
		wait_gone "$k" 30 || fail "child $k still there"
	done
}

# restore_twice [FILE POS]...: D/img restored twice, the first restored
# tree ending in between; D/count (and each FILE) cut back to where the
# image has it each time. HOOK_RESTORED runs once a tree is back,
# HOOK_ENDED once it has ended.
HOOK_ENDED=
restore_twice() {
	local pos round
	pos=$(image_count_pos "$D/img")
	for round in 1 2; do
		echo "== round $round" >>"$D/restore.log"
		restore_tree_from "$pos" "$@"
	done
}

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

# Pipes and a FIFO between parent and child, full at dump time: every
# record comes exactly once after restore (the workload counts them), the
# bytes of a pipe whose writer is gone come before its end of file, and
# the fds of the restored tree are the pipes they were (one description
# under two fds in the parent). Restored twice from one image.
t_pipes() {
	local spos
	start_tree pipes 1 30
	FDS_BEFORE=$(canon_fds "$PID" $TREE_KIDS)
	dump_tree_live
	grep -Eq '^file [0-9]+: pipe .* [1-9][0-9]{3,} bytes queued' "$D/inspect.out" ||
		fail "inspect shows no pipe with bytes queued: $(cat "$D/inspect.out")"
	end_dumped_tree
	spos=$(grep -m1 "^file [0-9]*: reg .* $D/shared\$" "$D/inspect.out") ||
		fail "inspect shows no shared file D/shared"
	spos=${spos#* pos }
	HOOK_RESTORED=check_pipe_fds
	restore_twice "$D/shared" "${spos%% *}"
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

# The restored root is back (restore has not failed).
wait_back() {
	local end=$((SECONDS + 120))
	while gone "$PID"; do
		job_done "$RJOB" && { status "$RJOB"; fail "restore exited $JST:" \
			"$(lastline "$D/restore.log")"; }
		((SECONDS < end)) || fail "PID $PID not back after restore"
		nap
	done
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
# every rule's log holding 1..100 exactly once, through its jobserver
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
		check_seq "$D/log.$r" 100
	done
	[[ $(<"$D/log.all") == done ]] || fail "log.all: $(<"$D/log.all")"
}

# A TCP connection to a process outside (fd 5 of a bash counter): the
# dump is refused naming it, exit 70, the target left running; with
# --ext-null it is dumped with a warning naming it, and restored as
# /dev/null with a warning from restore.
t_ext-null() {
	need "$CKPT" "$RESTORE"
	start_listener
	start_wl "$BASH" -c 'exec 5<>"/dev/tcp/127.0.0.1/$1" && exec "$BASH" "$2"' \
		ext "$PORT" "$WLS/counter.sh"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd 5 of $PID: socket:\[[0-9]*\]" "$D/cmd.err" ||
		fail "no error naming fd 5: $(cat "$D/cmd.err")"
	[[ -e $D/img ]] && fail "a refused dump left D/img"
	stopped "$PID" && fail "target left stopped (state $ST)"
	DUMP_OPTS=(--ext-null)
	dump_kill
	grep -q "fd 5 of $PID: socket:.*/dev/null after restore" "$D/ckpt.log" ||
		fail "no warning from ckpt: $(lastline "$D/ckpt.log")"
	start_restore
	wait_restored
	[[ $(readlink "/proc/$PID/fd/5") == /dev/null ]] ||
		fail "fd 5 after restore: $(readlink "/proc/$PID/fd/5")"
	grep -q "fd 5 of $PID was socket:.*/dev/null instead" "$D/restore.log" ||
		fail "no warning from restore: $(lastline "$D/restore.log")"
	finish
}

# attach --tree of a parent and a child that share a MAP_SHARED anonymous
# region, a memfd and two System V segments (tests/workloads/shm.c): the
# image holds each object once, named by the VMAs of both processes, and
# after the restore the workload checks that the data is intact and that
# each side sees the other's writes. As in t_tree the dumped tree ends by
# itself (removing its keyed segment), and the image is restored twice.
t_shm() {
	start_tree shm 1 8
	dump_tree_live
	check_shm_image
	end_dumped_tree
	HOOK_ENDED=sysv_key_gone
	restore_twice
}

# One process with each object mapped twice, dumped with --kill (which
# leaves its keyed System V segment behind, unattached: restore takes it
# over) and restored; the workload checks that both views are one object.
t_shm-alone() {
	need "$WLB/shm"
	wl_test "$WLB/shm" alone
	sysv_key_gone
}

# The objects of the shm workload, each once: two anonymous (one of them
# the parent's alone), the memfd by name, two System V segments (one
# removed); the parent's VMAs name all five, the child's all but one.
check_shm_image() {
	local kinds per_proc
	"$CKPT" inspect "$D/img" >"$D/inspect.out" 2>>"$D/errors.log" ||
		fail "ckpt inspect of the image failed"
	kinds=$(awk '/^shm /{print $3}' "$D/inspect.out" | sort | tr '\n' ' ')
	[[ $kinds == "anon anon memfd sysv sysv " ]] ||
		fail "shm objects in the image: '$kinds'"
	grep -q '^shm .* memfd .* name ckpt-shm-test$' "$D/inspect.out" ||
		fail "the memfd lost its name: $(grep memfd "$D/inspect.out")"
	grep -q '^shm .* sysv .* removed$' "$D/inspect.out" ||
		fail "no removed System V segment in the image"
	# per process, how many distinct objects its VMAs name
	per_proc=$(awk '/^process /{p = $2} /^vma .* shm [0-9]/{
		for (i = 1; i < NF; i++) if ($i == "shm") seen[p " " $(i + 1)] = 1 }
		END { for (k in seen) { split(k, a, " "); n[a[1]]++ }
		      for (q in n) print n[q] }' "$D/inspect.out" | sort |
		tr '\n' ' ')
	[[ $per_proc == "4 5 " ]] ||
		fail "objects named per process: '$per_proc', want '4 5 '"
}

sysv_key_gone() {
	local key
	key=$(printf '0x%08x' "$(<"$D/shm.key")")
	grep -qi "^ *$(<"$D/shm.key") " /proc/sysvipc/shm &&
		fail "System V segment $key left behind"
	return 0
}

# canon_fds PID...: the fd tables of the processes, pipe inodes renamed
# pipe1, pipe2, ... in order of appearance: which fds are the same pipe
# shows, whatever its inode number.
canon_fds() {
	local p f l n=0
	declare -A seen=()
	for p; do
		for f in $(ls "/proc/$p/fd" | sort -n); do
			l=$(readlink "/proc/$p/fd/$f")
			if [[ $l == pipe:* ]]; then
				[[ -n ${seen[$l]-} ]] || seen[$l]=pipe$((++n))
				l=${seen[$l]}
			fi
			echo "$p $f $l"
		done
	done
}

# The tree's fds after restore are those it had, the same fds on one
# pipe as before.
check_pipe_fds() {
	local now
	now=$(canon_fds "$PID" $TREE_KIDS)
	[[ $now == "$FDS_BEFORE" ]] ||
		fail "fds after restore: $(echo $now); before: $(echo $FDS_BEFORE)"
}

# Unix sockets of every kind between parent and child, queues full both
# ways at dump time: every record and message comes exactly once after
# restore (the workload counts them), a shut down stream gives its bytes
# and then end of file, names and options come back, and the fds of the
# restored tree are sockets connected to each other as they were.
# Restored twice from one image.
t_sockets() {
	local kind
	start_tree sockets 1 30
	dump_tree_live
	for kind in stream dgram seqpacket; do
		grep -Eq "^file [0-9]+: unix .* $kind connected .* [1-9][0-9]+ bytes queued" \
			"$D/inspect.out" ||
			fail "inspect shows no $kind socket with bytes queued:" \
			     "$(grep unix "$D/inspect.out")"
	done
	grep -q "stream listening .*srv.sock" "$D/inspect.out" ||
		fail "inspect shows no listener: $(grep unix "$D/inspect.out")"
	end_dumped_tree
	HOOK_RESTORED=check_socket_fds
	restore_twice
}

# sock_of PID FD: the inode of the socket on fd FD of PID
sock_of() {
	local l
	l=$(readlink "/proc/$1/fd/$2")
	[[ $l =~ ^socket:\[([0-9]+)\]$ ]] ||
		fail "fd $2 of $1 is $l, not a socket"
	echo "${BASH_REMATCH[1]}"
}

# peer_of INO: the peer's inode as sock_diag (ss) tells it
peer_of() {
	ss -xaH | awk -v i="$1" '$6 == i { print $8; exit }'
}

# connected PID1 FD1 PID2 FD2: the two fds are the ends of one connection
connected() {
	local a b
	a=$(sock_of "$1" "$2") b=$(sock_of "$3" "$4")
	[[ $(peer_of "$a") == "$b" && $(peer_of "$b") == "$a" ]] ||
		fail "fd $2 of $1 (socket $a, peer $(peer_of "$a")) and" \
		     "fd $4 of $3 (socket $b, peer $(peer_of "$b")) are not connected"
}

# See tests/workloads/sockets.c for the fds.
check_socket_fds() {
	local k=$TREE_KIDS lis
	connected "$PID" 3 "$k" 4
	connected "$PID" 5 "$k" 6
	connected "$PID" 7 "$k" 8
	connected "$PID" 9 "$k" 10
	connected "$PID" 11 "$PID" 12
	connected "$PID" 15 "$k" 3
	lis=$(sock_of "$PID" 13)
	ss -xlH | awk -v i="$lis" '$6 == i { print $5 }' |
		grep -qx "$D/srv.sock" ||
		fail "fd 13 of $PID is not listening on $D/srv.sock"
}

# A tree holding a TCP connection is refused (exit 70) with the fd and
# what it is named, and left running.
# A unix listener with a connection it has not accepted (python3 holds
# both the listener and the client): refused by name, exit 70, the
# target running on; with --ext-null the listener is dumped as what it
# was and comes back as /dev/null, named by ckpt and by restore, and the
# client as a socket whose peer has gone.
t_sockets-backlog() {
	local py lfd cfd
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT" "$RESTORE"
	start_wl "$py" -c '
import runpy, socket, sys
l = socket.socket(socket.AF_UNIX)
l.bind("srv.sock")
l.listen(4)
c = socket.socket(socket.AF_UNIX)
c.connect("srv.sock")
runpy.run_path(sys.argv[1], run_name="__main__")' "$WLS/counter.py"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd [0-9]* of $PID: socket:\[[0-9]*\] .*connections not yet accepted" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "attach of a listener with a backlog"
	no_image "a refused dump"
	stopped "$PID" && fail "target left stopped (state $ST)"
	lfd=$(sed -n 's/^ckpt: can.t dump fd \([0-9]*\) .*/\1/p' "$D/cmd.err")
	cfd=$(fd_table "$PID" | awk -v l="$lfd" '/socket:/ && $1 != l { print $1 }')
	[[ -n $lfd && -n $cfd ]] || fail "listener on '$lfd', client on '$cfd'"
	DUMP_OPTS=(--ext-null)
	dump_kill
	grep -q "fd $lfd of $PID: socket:.*/dev/null after restore" "$D/ckpt.log" ||
		fail "ckpt did not name the listener: $(cat "$D/ckpt.log")"
	start_restore
	wait_restored
	[[ $(readlink "/proc/$PID/fd/$lfd") == /dev/null ]] ||
		fail "listener fd $lfd after restore: $(readlink "/proc/$PID/fd/$lfd")"
	[[ $(readlink "/proc/$PID/fd/$cfd") == socket:* ]] ||
		fail "client fd $cfd after restore: $(readlink "/proc/$PID/fd/$cfd")"
	grep -q "fd $lfd of $PID was socket:.*/dev/null instead" "$D/restore.log" ||
		fail "restore did not name the listener: $(cat "$D/restore.log")"
	finish
}

# An eventfd the dumped process shares with its parent, which is not
# dumped: refused by name (the restored process would get a copy of its
# own, silently cut off), exit 70, the process running on.
t_kfd-outside() {
	local py
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT"
	start_wl "$py" -c '
import os, subprocess, sys
e = os.eventfd(5)
sys.exit(subprocess.Popen([sys.executable, sys.argv[1]],
			  pass_fds=[e]).wait())' "$WLS/counter.py"
	wait_count_above 8 60 "$JOB"
	[[ $JOB != "$PID" ]] || fail "the counter is not a child of python"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd [0-9]* of $PID: anon_inode:\[eventfd\] is shared with fd [0-9]* of [0-9]*, outside the tree" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "attach of an eventfd shared outside"
	refused_runs_on
}

# ckpt check: exit 0 here (every required feature is on this host), one
# "ok NAME" or "no NAME: why" line per feature, and the features those
# that ckpt(1) lists, in its order.
t_check() {
	local names doc
	need "$CKPT"
	expect_exit 0 "$CKPT" check
	grep -Ev '^(ok [a-z0-9-]+|no [a-z0-9-]+: .+)$' "$D/cmd.out" &&
		fail "ckpt check printed lines of another form"
	names=$(awk '{ sub(":", "", $2); print $2 }' "$D/cmd.out")
	doc=$(awk '/^\.Ss ckpt check/ { on = 1; next } /^\.Ss / { on = 0 }
		   on && /^\.It [a-z0-9-]+$/ { print $2 }' "$TOP/man/ckpt.1")
	[[ -n $names && $names == "$doc" ]] ||
		fail "ckpt check lists $(echo $names); ckpt(1) $(echo $doc)"
}

t_sockets-tcp() {
	local py port c
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT"
	(spawn "$py" -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open("port.tmp", "w").write("%d\n" % s.getsockname()[1])
import os; os.rename("port.tmp", "port")
c, _ = s.accept()
time.sleep(600)') </dev/null >>"$D/out.log" 2>&1 &
	track_job $!
	wait_for_file "$D/port"
	read -r port <"$D/port"
	start_wl "$py" -c '
import os, socket, time
s = socket.create_connection(("127.0.0.1", '"$port"'))
os.dup2(s.fileno(), 5)
s.close()
f = open("count", "a", buffering=1)
n = 0
while not os.path.exists("stop"):
    f.write("%d\n" % n); n += 1
    if n == 5:
        open("ready.tmp", "w").write("%d\n" % os.getpid())
        os.rename("ready.tmp", "ready")
    time.sleep(0.01)'
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach --tree -o "$D/img" "$PID"
	grep -q "can't dump fd 5 of $PID: socket:\[[0-9]*\] is a TCP connection to 127.0.0.1:$port" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "attach of a TCP connection"
	refused_runs_on
}

# TCP sockets of every kind between parent and child, queues full both
# ways at dump time (tests/workloads/inet.c): listeners (IPv4, dual-stack,
# IPv6 only) that take new connections after restore, a bound and an
# unbound socket with their options, two connections whose records all
# come once and in order, a half-closed one; inspect shows each state and
# the queued bytes. The tree is dumped live, ends, and is restored twice.
t_inet() {
	local st
	start_tree inet 1 30
	dump_tree_live
	for st in listening unconnected established fin-wait2 close-wait; do
		grep -q "^file [0-9]*: tcp .* $st " "$D/inspect.out" ||
			fail "inspect shows no TCP socket $st:" \
			     "$(grep tcp "$D/inspect.out")"
	done
	grep -Eq "^file [0-9]+: tcp .* sendq [1-9][0-9]{4,} " "$D/inspect.out" &&
	grep -Eq "^file [0-9]+: tcp .* recvq [1-9][0-9]{4,} " "$D/inspect.out" ||
		fail "inspect shows no TCP queues of 10000 bytes or more:" \
		     "$(grep tcp "$D/inspect.out")"
	end_dumped_tree
	restore_twice
}

# One process holding both ends of two TCP connections (one with
# megabytes queued each way, one idle) and their listener, dumped with
# --kill: the connections go without a FIN or a reset (an idle one closed
# as usual would leave a TIME-WAIT), the restored process reads every byte
# once and in order, both connections carry on and the listener takes a
# new one.
t_inet-kill() {
	local py port tw
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT" "$RESTORE"
	start_wl "$py" -c '
import os, runpy, socket, sys
pat = bytes(range(251)) * 100000
def fill(a):
    a.setblocking(False)
    n = 0
    try:
        while n < len(pat) - 65536:
            n += a.send(memoryview(pat)[n:n + 65536])
    except BlockingIOError:
        return n
def take(a, n, what):
    a.setblocking(True)
    got = bytearray()
    while len(got) < n:
        b = a.recv(n - len(got))
        if not b:
            sys.exit("FAIL: %s: end of file after %d bytes" % (what, len(got)))
        got += b
    if bytes(got) != pat[:n]:
        sys.exit("FAIL: %s: the bytes differ" % what)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0))
l.listen(4)
open("port.tmp", "w").write("%d\n" % l.getsockname()[1])
os.rename("port.tmp", "port")
c = socket.create_connection(l.getsockname())
s = l.accept()[0]
n1, n2 = fill(c), fill(s)
c2 = socket.create_connection(l.getsockname())
s2 = l.accept()[0]
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
except SystemExit as e:
    if e.code:
        raise
take(s, n1, "client to server")
take(c, n2, "server to client")
c.sendall(b"ping")
if s.recv(4) != b"ping":
    sys.exit("FAIL: no ping")
s2.sendall(b"idle")
if c2.recv(4) != b"idle":
    sys.exit("FAIL: the idle connection is gone")
d = socket.create_connection(l.getsockname())
l.accept()[0].sendall(b"new")
if d.recv(3) != b"new":
    sys.exit("FAIL: the listener took no new connection")
print("%d and %d bytes" % (n1, n2), file=sys.stderr)' "$WLS/counter.py"
	read -r port <"$D/port"
	wait_count_above 8 60 "$JOB"
	dump_kill
	tw=$(ss -tanH state time-wait "( sport = :$port or dport = :$port )")
	[[ -z $tw ]] || fail "the killed connection left TIME-WAIT: $tw"
	start_restore
	wait_restored
	finish
	grep -Eq "^[1-9][0-9]{5,} and [1-9][0-9]{5,} bytes$" "$D/out.log" ||
		fail "less than 100000 bytes queued each way:" \
		     "$(tail -n 1 "$D/out.log")"
}

# TCP connections being closed, over IPv4 and IPv6, queues full (see
# tests/workloads/tcpclose.c): inspect shows every closing state in the
# image, and after --kill and restore each end is in the state it was and
# delivers every byte once, then its end of file.
tcp_close_states() {
	local st n
	inspect "$D/img"
	for st in fin-wait1:2 fin-wait2:4 last-ack:2 closing:2; do
		n=$(grep -c "^file [0-9]*: tcp .* ${st%:*} " "$D/inspect.out")
		[[ $n == "${st#*:}" ]] ||
			fail "inspect shows $n TCP sockets ${st%:*}, want" \
			     "${st#*:}: $(grep tcp "$D/inspect.out")"
	done
}

t_tcp-close() {
	need "$WLB/tcpclose"
	HOOK_DUMPED=tcp_close_states
	wl_test "$WLB/tcpclose"
}

# UDP sockets, IPv4 and IPv6, bound and connected, with datagrams queued
# (tests/workloads/udp.c): after --kill and restore each datagram comes
# once, in order, with its sender's address and port (a v4-mapped one, one
# whose socket has closed, one the kernel chose); a stream of numbered
# datagrams running through the dump loses none and doubles none.
udp_queued() {
	inspect "$D/img"
	[[ $(grep -c "^file [0-9]*: udp .* [1-9][0-9]* bytes queued" \
		"$D/inspect.out") -ge 3 ]] ||
		fail "inspect shows fewer than 3 UDP sockets with datagrams:" \
		     "$(grep udp "$D/inspect.out")"
}

t_udp() {
	need "$WLB/udp"
	HOOK_DUMPED=udp_queued
	wl_test "$WLB/udp"
}

# redis-server with 20,000 keys and a redis-cli connected to it, both
# children of one bash, which counts and INCRs a key through the client
# as it goes: the tree is dumped live, ends (SHUTDOWN), and is restored
# twice; each time the same client carries on (its INCRs go on from where
# they were), DBSIZE and values are right, and a new client connects.
t_redis() {
	local port
	need "$CKPT" "$RESTORE"
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
		fail "redis-server or redis-cli is missing (make deps)"
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
		fail "no free port"
	mkfifo "$D/nap"
	start_wl bash -c '
fail() { echo "FAIL: $*" >&2; exit 1; }
port=$1
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
	--dir "$PWD" --logfile "$PWD/redis.log" &
srv=$!
for i in $(seq 100); do
	[[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && break
	sleep 0.1
done
for i in $(seq 0 19999); do echo "SET k$i v$i"; done |
	redis-cli -p "$port" --pipe >/dev/null || fail "SET"
coproc CLI { exec redis-cli -p "$port"; }
exec 3>>count 4<>nap
ask() {
	echo "$1" >&"${CLI[1]}"
	read -r -t 60 REPLY <&"${CLI[0]}" || fail "no reply to $1"
}
n=0
while :; do
	echo "$n" >&3
	n=$((n + 1))
	ask "INCR counter"
	[[ $REPLY == "$n" ]] || fail "INCR gave $REPLY, want $n"
	((n == 5)) && { echo $$ >ready.tmp; mv ready.tmp ready; }
	((n > 5)) && [[ -e stop ]] && break
	read -r -t 0.02 -u 4
done
ask DBSIZE
[[ $REPLY == 20001 ]] || fail "DBSIZE $REPLY"
ask "GET k12345"
[[ $REPLY == v12345 ]] || fail "GET k12345 gave $REPLY"
[[ $(redis-cli -p "$port" GET k19999) == v19999 ]] || fail "a new client"
redis-cli -p "$port" SHUTDOWN NOSAVE
wait "$srv"
exec {CLI[1]}>&-
wait' bash "$port"
	TREE_KIDS=$(child_pids "$PID")
	[[ $(wc -w <<<"$TREE_KIDS") == 2 ]] ||
		fail "bash has children '$TREE_KIDS', want redis-server and redis-cli"
	wait_count_above 30 60 "$JOB"
	dump_tree_live
	grep -q "^file [0-9]*: tcp .* listening 127.0.0.1:$port " "$D/inspect.out" &&
	grep -q "^file [0-9]*: tcp .* established 127.0.0.1:$port " "$D/inspect.out" ||
		fail "inspect shows no redis listener or connection:" \
		     "$(grep tcp "$D/inspect.out")"
	end_dumped_tree
	restore_twice
}

# What restore could not give back is refused by name (exit 70), each
# time in a new process left running: a TCP listener with a connection
# not yet accepted (its client in the same process), a TCP connection
# reset by its peer (CLOSE), a raw socket.
t_inet-refused() {
	local py mode why
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT"
	for mode in pending closed raw; do
		case $mode in
		pending) why="a TCP socket listening on 127\.0\.0\.1:[0-9]*, with 1 connections not yet accepted" ;;
		closed) why="a TCP socket on [^,]*, already closed" ;;
		raw) why="an IPv4 socket of another protocol than TCP or UDP" ;;
		esac
		rm -f "$D"/{ready,count,stop}
		start_wl "$py" -c '
import runpy, socket, sys
mode = sys.argv.pop(1)
if mode != "raw":
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(4)
    c = socket.create_connection(l.getsockname())
if mode == "closed":
    s = l.accept()[0]
    c.send(b"x")
    s.close()
    try:
        c.recv(1)
    except ConnectionResetError:
        pass
    l.close()
if mode == "raw":
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
runpy.run_path(sys.argv[1], run_name="__main__")' "$mode" "$WLS/counter.py"
		wait_count_above 8 60 "$JOB"
		expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
		grep -q "^ckpt: can't dump fd [0-9]* of $PID: socket:\[[0-9]*\] is $why, which is not supported$" \
			"$D/cmd.err" ||
			fail "the refusal ($mode) does not say why: $(cat "$D/cmd.err")"
		one_line_err "attach ($mode)"
		refused_runs_on
	done
}

# Netlink sockets (tests/workloads/netlink.c), routing and generic, bound
# or not: after --kill and restore each has its port id (the PID for the
# first), its groups (above 32 too), flags and buffer size again, and the
# routing one answers a dump of the links.
netlink_image() {
	inspect "$D/img"
	grep -q "^file [0-9]*: netlink .* protocol 0 port $PID groups 0x180000011 " \
		"$D/inspect.out" ||
		fail "inspect shows no routing socket on port $PID:" \
		     "$(grep netlink "$D/inspect.out")"
}

t_netlink() {
	need "$WLB/netlink"
	HOOK_DUMPED=netlink_image
	wl_test "$WLB/netlink"
}

wait_for_file() {
	local end=$((SECONDS + 60))
	until [[ -s $1 ]]; do
		((SECONDS < end)) || fail "$1 not there after 60 s"
		nap
	done
}

# stat_field PID N: field N (from 1) of /proc/PID/stat, or - if gone.
stat_field() {
	local s f
	read -r s 2>/dev/null <"/proc/$1/stat" || { echo -; return; }
	s=${s##*) }
	read -ra f <<<"$s"
	echo "${f[$(($2 - 3))]}"
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

# inspect IMAGE: ckpt inspect into D/inspect.out
inspect() {
	"$CKPT" inspect "$1" >"$D/inspect.out" 2>>"$D/errors.log" ||
		fail "ckpt inspect ${1##*/} failed: $(lastline "$D/errors.log")"
}

# inspect_has REGEX WHAT: a line of D/inspect.out matches REGEX.
inspect_has() {
	grep -qE "$1" "$D/inspect.out" ||
		fail "ckpt inspect shows no $2:" \
		     "$(grep -E '^(process|zombie) ' "$D/inspect.out" |
			tr '\n' ';')"
}

# restore_tree_from POS: restore D/img with D/count cut to POS bytes; the
# tree must come back with the children TREE_KIDS. Hook: HOOK_RESTORED.
restore_tree_from() {
	local k
	rm -f "$D/stop" "$D/restored"
	truncate -s "$1" "$D/count"
	shift
	while (($# >= 2)); do
		truncate -s "$2" "$1"
		shift 2
	done
	DUMP_COUNT=$(count_lines)
	start_restore
	wait_restored
	check_tree_back
	[[ -n $HOOK_RESTORED ]] && $HOOK_RESTORED
	finish
	for k in $TREE_KIDS; do
		wait_gone "$k" 30 || fail "child $k stays after the restored" \
					  "tree ended"
	done
	[[ -n $HOOK_ENDED ]] && $HOOK_ENDED
	return 0
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

# child_pids PID: the children of PID. Builtins only: a fork or two per
# process of the system made it slow enough, on a loaded machine, to miss
# children born while it ran.
child_pids() {
	local f s p
	for f in /proc/[0-9]*/stat; do
		read -r s 2>/dev/null <"$f" || continue
		p=${s%% *}
		s=${s##*) }	# the fields after comm: state ppid ...
		s=${s#* }
		[[ ${s%% *} == "$1" ]] && echo "$p"
	done
}

check_tree_back() {
	local k have
	have=$(child_pids "$PID" | sort | tr '\n' ' ')
	[[ $have == "$(sort <<<"$TREE_KIDS" | tr '\n' ' ')" ]] ||
		fail "children after restore: $have; before: $TREE_KIDS"
	for k in $TREE_KIDS; do
		stopped "$k" && fail "child $k left stopped"
	done
}

# eventfd, timerfd, signalfd, inotify and an epoll watching them, shared
# by a parent and its child: kfds.c checks counts, expirations, signals,
# watch descriptors and epoll data after restore; inspect must show what
# was pending at dump time, and the child's eventfds must be the parent's
# (one open file description each). Restored twice from one image.
t_kfds() {
	start_tree kfds 1 30
	dump_tree_live
	check_kfds_inspect
	end_dumped_tree
	HOOK_RESTORED=kfds_back
	restore_twice
}

kfds_back() {
	check_kfds_shared
	kill -USR1 "$PID"
}

check_kfds_inspect() {
	local out=$D/inspect.out re
	"$CKPT" inspect "$D/img" >"$out" 2>&1 ||
		fail "inspect failed: $(lastline "$out")"
	for re in ': eventfd flags [0-7]+ count [1-9][0-9]{3,}$' \
		  ': eventfd flags [0-7]+ count 3 semaphore$' \
		  ': signalfd flags [0-7]+ sigmask 0x200$' \
		  ': signalfd flags [0-7]+ sigmask 0x800$' \
		  ': timerfd flags [0-7]+ clock 1 in [0-9]+ ns interval 20000000 ns' \
		  ': timerfd flags [0-7]+ clock 0 at [0-9]+ ns interval 1000000000 ns ticks [0-9]{4,}$' \
		  ': epoll flags [0-7]+ watches 5$' \
		  "^  watch wd 2 mask 0x2 $D/watched\$"; do
		grep -Eq "$re" "$out" ||
			fail "inspect shows no line like '$re': $(cat "$out")"
	done
}

eventfd_ids() {
	local f
	for f in /proc/$1/fdinfo/*; do
		sed -n 's/^eventfd-id: *//p' "$f"
	done | sort -n | tr '\n' ' '
}

check_kfds_shared() {
	local p c
	p=$(eventfd_ids "$PID") c=$(eventfd_ids "$TREE_KIDS")
	[[ $(wc -w <<<"$p") == 2 && $p == "$c" ]] ||
		fail "eventfd ids: parent '$p', child '$c'"
}

# The same in one process (no child: it feeds the eventfd and the pipe
# itself), through ckpt attach --kill and restore.
t_kfds-single() {
	need "$WLB/kfds"
	HOOK_RESTORED=kfds_usr1
	wl_test "$WLB/kfds" single
}

kfds_usr1() {
	kill -USR1 "$PID"
}

# fd_table PID: "fd -> target" lines, sorted
fd_table() {
	local f
	for f in /proc/$1/fd/*; do
		printf '%s -> %s\n' "${f##*/}" "$(readlink "$f")"
	done | sort -n
}

# A restored process holds exactly the fds it had (nothing of restore's
# leaks in) and can be checkpointed and restored again.
t_restore-again() {
	local before after
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	before=$(fd_table "$PID")
	dump_kill
	start_restore
	wait_restored
	after=$(fd_table "$PID")
	[[ $before == "$after" ]] ||
		fail "fds after restore: $(echo $after); before: $(echo $before)"
	local first=$RJOB
	JOB=$RJOB	# the restored process is restore's child, not ours
	dump_kill_again "$first"
	start_restore
	wait_restored
	finish
}

# ckpt attach --kill of a restored process; its restore exits 137.
dump_kill_again() {
	(spawn "$CKPT" attach --kill -o "$D/img" "$PID") </dev/null \
		>>"$D/ckpt.log" 2>&1
	(($? == 0)) || fail "second ckpt attach --kill failed:" \
			    "$(lastline "$D/ckpt.log")"
	wait_job "$1" 60 || fail "first restore still running after the kill"
	((WST == 137)) || fail "first restore exited $WST, want 137"
	wait_gone "$PID" 30 || fail "PID $PID still there after the second dump"
	DUMP_COUNT=$(count_lines)
}

# ckpt sym on a live workload, which it must not stop: nanosleep's address
# (first word 0x...), that address + 1 back as nanosleep+0x1 (or an alias
# of it at the same address), and the errors.
t_sym() {
	local addr out c
	need "$CKPT" "$WLB/counter"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" sym "$PID" nanosleep
	read -r addr _ <"$D/cmd.out"
	[[ $addr =~ ^0x[0-9a-f]+$ ]] || fail "sym nanosleep: $(cat "$D/cmd.out")"
	expect_exit 0 "$CKPT" sym "$PID" "$(printf '0x%x' $((addr + 1)))"
	read -r out _ <"$D/cmd.out"
	[[ $out == *nanosleep+0x1 ]] || fail "sym $addr+1: $(cat "$D/cmd.out")"
	expect_exit 70 "$CKPT" sym "$PID" no_such_symbol_xyz
	one_line_err "ckpt sym no_such_symbol_xyz"
	expect_exit 69 "$CKPT" sym 999999999 nanosleep
	expect_exit 64 "$CKPT" sym "$PID"
	stopped "$PID" && fail "target left stopped (state $ST) by ckpt sym"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	((WST == 0)) || fail "counter exited $WST: $(lastline "$D/out.log")"
	check_count
}

# expect_exit WANT CMD...: run CMD (60 s bound), stdout to D/cmd.out,
# stderr to D/cmd.err; its status must be WANT.
expect_exit() {
	local want=$1 job
	shift
	(spawn "$@") </dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	wait_job "$job" 60 || fail "${*##*/} still running after 60 s"
	cat "$D/cmd.err" >>"$D/errors.log"
	((WST == want)) || fail "${*##*/}: exit $WST, want $want:" \
				"$(lastline "$D/cmd.err")"
}

# The error of the last expect_exit is one line on stderr.
one_line_err() {
	local n
	n=$(wc -l <"$D/cmd.err")
	[[ $n == 1 ]] || fail "$1: $n lines on stderr, want one"
}

no_image() {
	local f
	for f in "$D"/img*; do
		fail "$1 left $f behind"
	done
}

# refused_runs_on: after a refused dump, no image is left, the target is
# not left stopped, counts on and ends normally at D/stop.
refused_runs_on() {
	local c
	no_image "a refused dump"
	stopped "$PID" && fail "target left stopped (state $ST)"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "still running 60 s after D/stop"
	((WST == 0)) || fail "exited $WST: $(lastline "$D/out.log")"
}

t_bad-args() {
	local p c
	need "$CKPT" "$RESTORE" "$WLB/counter"
	expect_exit 69 "$CKPT" attach -o "$D/img" 999999999
	one_line_err "ckpt attach 999999999"
	no_image "ckpt attach 999999999"
	# a free PID below pid_max
	read -r p </proc/sys/kernel/pid_max
	for ((p = p - 1; p > 300; p--)); do
		[[ -e /proc/$p ]] || break
	done
	expect_exit 69 "$CKPT" attach -o "$D/img" "$p"
	one_line_err "ckpt attach of free PID $p"
	no_image "ckpt attach of free PID $p"
	expect_exit 64 "$CKPT" attach
	expect_exit 64 "$CKPT" attach -o "$D/img" not-a-pid
	no_image "ckpt attach not-a-pid"
	expect_exit 64 "$CKPT" no-such-command
	expect_exit 64 "$RESTORE"

	# an image that can't be created leaves the target running
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 73 "$CKPT" attach -o "$D/no/such/dir/img" "$PID"
	one_line_err "ckpt attach -o D/no/such/dir/img"
	stopped "$PID" && fail "target left stopped (state $ST) after exit 73"
	[[ $(tracer "$PID") == 0 ]] || fail "target still traced after exit 73"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	((WST == 0)) || fail "counter exited $WST: $(lastline "$D/out.log")"
	check_count
}

# flip_byte FILE OFFSET: invert the byte at OFFSET.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# restore of a damaged image: exit 65 and no process appears
bad_restore() {
	expect_exit "$1" "$RESTORE" "$D/$2"
	one_line_err "restore $2"
	alive "$PID" && fail "restore of $2 exited $1 but PID $PID exists"
	return 0
}

t_bad-image() {
	local c size
	need "$CKPT" "$RESTORE" "$WLB/counter"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	# dump without --kill: the target runs on, unstopped, untraced
	expect_exit 0 "$CKPT" attach -o "$D/img" "$PID"
	[[ -s $D/img ]] || fail "ckpt attach exited 0 but D/img is empty"
	alive "$PID" || fail "ckpt attach without --kill killed the target"
	stopped "$PID" && fail "target left stopped (state $ST) after the dump"
	[[ $(tracer "$PID") == 0 ]] || fail "target still traced after the dump"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	((WST == 0)) || fail "counter exited $WST after a dump without" \
			     "--kill: $(lastline "$D/out.log")"
	check_count
	rm -f "$D/stop"

	size=$(stat -c %s "$D/img")
	cp "$D/img" "$D/half" && truncate -s $((size / 2)) "$D/half"
	bad_restore 65 half
	cp "$D/img" "$D/flip-mid" && flip_byte "$D/flip-mid" $((size / 2))
	bad_restore 65 flip-mid
	cp "$D/img" "$D/flip-head" && flip_byte "$D/flip-head" 0
	bad_restore 65 flip-head
	: >"$D/empty"
	bad_restore 65 empty
	head -c 65536 /dev/urandom >"$D/garbage"
	bad_restore 65 garbage
	bad_restore 66 no-such-image

	# a PID needed by restore is taken
	expect_exit 0 "$RESTORE" --detach "$D/img"
	read -r c <"$D/cmd.out"
	[[ $c == "$PID" ]] || fail "restore --detach printed \"$c\", want $PID"
	alive "$PID" || fail "PID $PID not running after restore --detach"
	expect_exit 75 "$RESTORE" --detach "$D/img"
	one_line_err "restore --detach of a running image"
	expect_exit 75 "$RESTORE" "$D/img"
	one_line_err "restore of a running image"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$PID"
	touch "$D/stop"
	wait_gone "$PID" 60 || fail "PID $PID still running 60 s after D/stop"
}

# SIGTERM to ckpt in the middle of a dump: no image, target runs on intact
t_sigterm() {
	local cjob end c f
	need "$CKPT" "$RESTORE" "$WLB/bigmem"
	start_wl "$WLB/bigmem"
	wait_count_above 8 60 "$JOB"
	(spawn "$CKPT" attach -o "$D/img" "$PID") </dev/null \
		>>"$D/ckpt.log" 2>&1 &
	cjob=$!
	track_job "$cjob"
	end=$((SECONDS + 60))
	until stopped "$PID"; do
		job_done "$cjob" && fail "the dump ended before the target was" \
					 "seen stopped: can't interrupt it"
		((SECONDS < end)) || fail "target not stopped 60 s into the dump"
		sleep 0.01
	done
	kill -TERM "$cjob"
	wait_job "$cjob" 60 || fail "ckpt still running 60 s after SIGTERM"
	((WST != 0)) || fail "ckpt exited 0 after SIGTERM in the middle of" \
			     "a dump"
	for f in "$D"/img*; do
		fail "interrupted dump left ${f##*/} behind"
	done
	stopped "$PID" && fail "target left stopped (state $ST) after SIGTERM"
	[[ $(tracer "$PID") == 0 ]] || fail "target still traced after SIGTERM"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 120 || fail "bigmem still running 120 s after D/stop"
	((WST == 0)) || fail "bigmem exited $WST after the interrupted dump:" \
			     "$(lastline "$D/out.log")"
	check_count
}

# tmp_image_size: bytes in the temporary image D/img.tmp.*, or 0.
tmp_image_size() {
	local f
	for f in "$D"/img.tmp.*; do
		stat -c %s "$f" 2>/dev/null && return
	done
	echo 0
}

# kill_mid_dump WHEN: dump bigmem, SIGKILL it at WHEN (frozen: as soon as
# it is seen stopped; writing: once the temporary image passes 16 MiB, in
# the middle of its memory); ckpt must fail (70) within a bound with a
# short error naming the PID, and leave no image behind.
kill_mid_dump() {
	local cjob end f n
	start_wl "$WLB/bigmem"
	wait_count_above 8 60 "$JOB"
	(spawn "$CKPT" attach -o "$D/img" "$PID") </dev/null \
		>"$D/cmd.out" 2>"$D/cmd.err" &
	cjob=$!
	track_job "$cjob"
	end=$((SECONDS + 60))
	until stopped "$PID" &&
	      { [[ $1 == frozen ]] || (($(tmp_image_size) > 16 << 20)); }; do
		job_done "$cjob" && fail "the dump ended before the target" \
					 "could be killed ($1)"
		((SECONDS < end)) || fail "target not $1 60 s into the dump"
		sleep 0.01
	done
	kill -KILL "$PID"
	wait_job "$cjob" 60 || fail "ckpt still running 60 s after its" \
				    "target was killed ($1)"
	cat "$D/cmd.err" >>"$D/errors.log"
	((WST == 70)) || fail "ckpt exited $WST when its target died" \
			      "($1), want 70: $(lastline "$D/cmd.err")"
	n=$(wc -l <"$D/cmd.err")
	((n >= 1 && n <= 2)) || fail "ckpt printed $n lines on stderr when" \
				     "its target died ($1), want one"
	grep -q "\<$PID\>" "$D/cmd.err" ||
		fail "ckpt's error does not name PID $PID ($1):" \
		     "$(head -n 1 "$D/cmd.err")"
	for f in "$D"/img*; do
		fail "dump of a target killed ($1) left ${f##*/} behind"
	done
	wait_job "$JOB" 30 || fail "can't reap the killed target"
	((WST == 137)) || fail "the target exited $WST, want 137 (SIGKILL)"
	rm -f "$D/ready" "$D/count"
}

# SIGKILL to the target in the middle of its dump, at two points
t_target-dies() {
	need "$CKPT" "$WLB/bigmem"
	kill_mid_dump frozen
	kill_mid_dump writing
}

# Threads born and dying while the seizer works, three times in a row
t_thread-churn() {
	local round
	need "$WLB/churn"
	for round in 1 2 3; do
		echo "== round $round" | tee -a "$D/out.log" "$D/ckpt.log" \
			>>"$D/restore.log"
		wl_test "$WLB/churn"
		rm -f "$D/ready" "$D/count" "$D/restored" "$D/stop" "$D/img"
		PID=
		JOB=
		RJOB=
	done
}

# image_count_pos IMAGE: the position of the count file's fd in IMAGE.
image_count_pos() {
	local line
	line=$("$CKPT" inspect "$1" 2>>"$D/errors.log" |
	       grep -m1 "^fd .* $D/count\$") ||
		fail "ckpt inspect ${1##*/} shows no fd of D/count"
	line=${line#* pos }
	echo "${line%% *}"
}

# Two dumps without --kill, the process running on; then it is killed and
# the SECOND image restored.  D/count is cut back to the size it had at
# the second dump (the position of the count fd in that image; the lines
# written after it are lost with the process), so the restored counter
# must carry on exactly from there: 0, 1, ..., N with no gap or repeat,
# and the workload's own check (lines == counter) holds.
t_dump-twice() {
	local c pos1 pos2
	need "$CKPT" "$RESTORE" "$WLB/counter"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" attach -o "$D/img1" "$PID"
	alive "$PID" || fail "the first dump killed the target"
	stopped "$PID" && fail "target left stopped (state $ST) after dump 1"
	c=$(count_lines)
	wait_count_above $((c + 5)) 60 "$JOB"
	expect_exit 0 "$CKPT" attach -o "$D/img2" "$PID"
	alive "$PID" || fail "the second dump killed the target"
	stopped "$PID" && fail "target left stopped (state $ST) after dump 2"
	[[ $(tracer "$PID") == 0 ]] || fail "target still traced after dump 2"
	c=$(count_lines)
	wait_count_above $((c + 5)) 60 "$JOB"
	kill -KILL "$PID"
	wait_job "$JOB" 30 || fail "can't reap the killed counter"
	check_count	# the dumps did not disturb it
	pos1=$(image_count_pos "$D/img1")
	pos2=$(image_count_pos "$D/img2")
	((pos1 > 0 && pos2 > pos1)) ||
		fail "count fd at $pos1 in image 1 and $pos2 in image 2"
	(($(stat -c %s "$D/count") > pos2)) ||
		fail "D/count did not grow after the second dump"
	truncate -s "$pos2" "$D/count"
	DUMP_COUNT=$(count_lines)
	mv "$D/img2" "$D/img"
	start_restore
	wait_restored
	finish
}

# ---- driver --------------------------------------------------------------

show_logs() {
	local f
	for f in out.log ckpt.log restore.log errors.log tty1.log tty2.log \
		 runner.log; do
		[[ -s $1/$f ]] || continue
		echo "    ==> $f <=="
		tail -n 5 "$1/$f" | sed 's/^/    /'
	done
	echo "    kept $1"
}

run_one() {
	local name=$1 dir reason
	if ! declare -F "t_$name" >/dev/null; then
		echo "FAIL $name: no such test"
		return 1
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-test-$name.XXXXXX")
	(
		D=$dir
		trap cleanup EXIT
		trap 'fail "interrupted"' INT TERM
		"t_$name"
	) 2>>"$dir/runner.log"	# bash's "Killed" job notices, script errors
	if (($? == 0)); then
		echo "PASS $name"
		rm -rf "$dir"
		return 0
	fi
	reason=$(cat "$dir/reason" 2>/dev/null)
	echo "FAIL $name: ${reason:-test script error}"
	show_logs "$dir"
	return 1
}

main() {
	local tests=() t passed=0 failed=0
	if [[ ${1-} == --no-ckpt ]]; then
		NO_CKPT=1
		shift
	fi
	if (($(id -u) != 0)); then
		echo "run.sh must run as root"
		echo "0 passed, 1 failed"
		exit 1
	fi
	tests=("$@")
	((${#tests[@]})) || tests=("${ALL_TESTS[@]}")
	cd "$TOP" || exit 1
	trap 'INTERRUPTED=1' INT
	INTERRUPTED=0
	for t in "${tests[@]}"; do
		if ((NO_CKPT)) && [[ $CKPT_ONLY == *" $t "* ]]; then
			echo "SKIP $t (needs ckpt)"
			continue
		fi
		if run_one "$t"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
		((INTERRUPTED)) && break
	done
	echo "$passed passed, $failed failed"
	((failed == 0))
}

# one line: bash reads scripts as it goes; editing this file while it
# runs must not make it run anything after main
main "$@"; exit
