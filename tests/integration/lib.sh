# lib.sh - what the integration tests of several areas share: paths,
# per-test state, waits, the workload flow, commands and their exit
# status, process trees, servers.  Sourced by run.sh (which sets -u and
# nullglob) before the t-*.sh files; a helper that the tests of one area
# alone use stays in that area's file.
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
# are shared and loaded: nothing here asserts on time).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
CKPT=$B/bin/ckpt
RESTORE=$B/bin/restore
WLB=$B/tests/workloads
WLS=$TOP/tests/workloads

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

# skip REASON: the test cannot run on this machine (run.sh prints SKIP)
skip() {
	printf '%s\n' "$*" >"$D/skip"
	exit 0
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

# orphans: the processes whose parent is PID 1. Builtins only (read of
# each stat), as child_pids.
orphans() {
	local f s
	for f in /proc/[0-9]*/stat; do
		read -r s 2>/dev/null <"$f" || continue
		s=${s##*) }
		s=${s#* }
		[[ ${s%% *} == 1 ]] || continue
		f=${f#/proc/}
		echo "${f%/stat}"
	done
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
	# orphans of ours that PID 1 took (the job of a killed ckpt run)
	for p in $(orphans); do
		is_ours "$p" && kill -KILL "$p" 2>/dev/null
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

# stat_field PID N: field N (from 1) of /proc/PID/stat, or - if gone.
stat_field() {
	local s f
	read -r s 2>/dev/null <"/proc/$1/stat" || { echo -; return; }
	s=${s##*) }
	read -ra f <<<"$s"
	echo "${f[$(($2 - 3))]}"
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

# ---- commands, images, fds -----------------------------------------------

# expect_exit WANT CMD...: run CMD (EXPECT_SECS bound, 60 s unless
# set), stdout to D/cmd.out, stderr to D/cmd.err; its status must be WANT.
expect_exit() {
	local want=$1 job secs=${EXPECT_SECS:-60}
	shift
	(spawn "$@") </dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	wait_job "$job" "$secs" || fail "${*##*/} still running after $secs s"
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

# refused_by_name RE [OPTION...]: attach with OPTION... to the workload
# PID is refused (exit 70) with one line "ckpt: can't dump RE"; no image,
# the workload runs on.
refused_by_name() {
	local re=$1
	shift
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach "$@" -o "$D/img" "$PID"
	one_line_err "attach $*"
	grep -q "^ckpt: can't dump $re\$" "$D/cmd.err" ||
		fail "no error naming it: $(cat "$D/cmd.err")"
	refused_runs_on
}

# refused_without_bpf RE: attach to the workload PID without CAP_BPF,
# CAP_PERFMON and CAP_SYS_ADMIN is refused (exit 70) with one line
# "ckpt: can't dump RE"; no image, the workload runs on.
refused_without_bpf() {
	local drop=-bpf,-perfmon,-sys_admin
	command -v setpriv >/dev/null || skip "no setpriv"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 setpriv --inh-caps=$drop --bounding-set=$drop \
		"$CKPT" attach -o "$D/img" "$PID"
	one_line_err "attach without BPF"
	grep -q "^ckpt: can't dump $1\$" "$D/cmd.err" ||
		fail "no error naming it: $(cat "$D/cmd.err")"
	refused_runs_on
}

# flip_byte FILE OFFSET: invert the byte at OFFSET.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# tmp_image_size: bytes in the temporary image, or 0: ckpt's nameless
# one (O_TMPFILE in D, "D/#INODE (deleted)" among its fds), else
# D/img.tmp.*.
tmp_image_size() {
	local f p
	for p in $(pgrep -x ckpt); do
		for f in /proc/"$p"/fd/*; do
			[[ $(readlink "$f" 2>/dev/null) == "$D/#"*" (deleted)" ]] &&
				stat -L -c %s "$f" 2>/dev/null && return
		done
	done
	for f in "$D"/img.tmp.*; do
		stat -c %s "$f" 2>/dev/null && return
	done
	echo 0
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

# inspect IMAGE: ckpt inspect into D/inspect.out
inspect() {
	"$CKPT" inspect "$1" >"$D/inspect.out" 2>>"$D/errors.log" ||
		fail "ckpt inspect ${1##*/} failed: $(lastline "$D/errors.log")"
}

# fd_table PID: "fd -> target" lines, sorted
fd_table() {
	local f
	for f in /proc/$1/fd/*; do
		printf '%s -> %s\n' "${f##*/}" "$(readlink "$f")"
	done | sort -n
}

# no_subreaper: NO_SUBREAPER=(CMD...), which runs what follows it with
# prctl(PR_SET_CHILD_SUBREAPER) refused by a seccomp filter (installed by
# python3 before it execs, so that the command keeps its PID, written to
# D/restore.pid): restore calls it after it made the image's shared
# objects and ghosts, so a test makes restore fail there.
no_subreaper() {
	local arch nr py
	case $(uname -m) in
	x86_64) arch=0xc000003e nr=157 ;;
	aarch64) arch=0xc00000b7 nr=167 ;;
	*) fail "prctl's system call number on $(uname -m) is not known" ;;
	esac
	# seccomp_data: nr at 0, arch at 4, args[0] at 16; EPERM for
	# prctl(36 = PR_SET_CHILD_SUBREAPER, ...) only
	py='import ctypes, os, struct, sys
arch, nr = int(sys.argv[1], 0), int(sys.argv[2])
f = [(0x20, 0, 0, 4), (0x15, 0, 5, arch), (0x20, 0, 0, 0),
     (0x15, 0, 3, nr), (0x20, 0, 0, 16), (0x15, 0, 1, 36),
     (0x06, 0, 0, 0x50001), (0x06, 0, 0, 0x7fff0000)]
code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i)
                                            for i in f))
prog = ctypes.create_string_buffer(struct.pack("HxxxxxxP", len(f),
                                               ctypes.addressof(code)))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(22, ctypes.c_ulong(2), prog, ctypes.c_ulong(0),
              ctypes.c_ulong(0)):
    sys.exit("seccomp: " + os.strerror(ctypes.get_errno()))
open("restore.pid", "w").write("%d\n" % os.getpid())
os.execv(sys.argv[3], sys.argv[3:])'
	NO_SUBREAPER=(python3 -c "$py" "$arch" "$nr")
}

# ---- process trees -------------------------------------------------------

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

# reaper_tree_test CMD...: CMD run under a reaper (reaper.c: the killed
# tree's orphans and zombies must go before their PIDs are restored),
# HOOK_RUNNING run if set, dumped with --tree and killed, restored,
# HOOK_RESTORED run if set, and ended at D/stop as finish() says.
HOOK_RUNNING=
reaper_tree_test() {
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$@"
	wait_count_above 8 60 "$JOB"
	[[ -n $HOOK_RUNNING ]] && $HOOK_RUNNING
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	start_restore
	wait_restored
	[[ -n $HOOK_RESTORED ]] && $HOOK_RESTORED
	finish
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

check_tree_back() {
	local k have
	have=$(child_pids "$PID" | sort | tr '\n' ' ')
	[[ $have == "$(sort <<<"$TREE_KIDS" | tr '\n' ' ')" ]] ||
		fail "children after restore: $have; before: $TREE_KIDS"
	for k in $TREE_KIDS; do
		stopped "$k" && fail "child $k left stopped"
	done
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

# ---- servers -------------------------------------------------------------

# start_server [OPTION...]: ckpt serve on a free port of 127.0.0.1 for
# D/srv with the key D/key and OPTIONs; SJOB (its PID), PORT, URL. A port
# in use (exit 69): the next one.
start_server() {
	local try end
	mkdir -p "$D/srv"
	[[ -e $D/key ]] || expect_exit 0 "$CKPT" keygen "$D/key"
	for try in 1 2 3 4 5 6 7 8; do
		PORT=$((20000 + RANDOM % 20000))
		(spawn "$CKPT" serve --listen "127.0.0.1:$PORT" -D "$D/srv" \
			--auth "$D/key" "$@") </dev/null >>"$D/serve.log" 2>&1 &
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
