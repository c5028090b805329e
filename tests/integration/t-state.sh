# t-state.sh - the rest of a process's kernel state through dump and
# restore: stopped processes and their parent's view of the stop, a
# process traced by another refused, prctl and /proc state.  Sourced by
# run.sh.

ALL_TESTS+=(stopped jobstop traced prctl ptimers ptimers-disarmed madvise
	    exitsig membarrier membarrier-all memadv
	    ptimers-overrun ptimers-overrun-refused ptimers-realtime
	    ptimers-rtrelive ptimers-cpu-overrun ptimers-rtrelive-refused
	    ptimers-sigev-none ptimers-nobpf-refused)
CKPT_ONLY+="traced ptimers-overrun-refused ptimers-rtrelive-refused "
CKPT_ONLY+="ptimers-sigev-none ptimers-nobpf-refused "

# every_thread_stopped PID N: PID has N threads, each in state T (a group
# stop, not a tracer's t), and no tracer (restore's child is stopped
# before restore seizes it and makes its threads)
every_thread_stopped() {
	local f s n=0
	for f in /proc/$1/task/*/stat; do
		read -r s 2>/dev/null <"$f" || return 1
		s=${s##*) }
		[[ ${s%% *} == T ]] || return 1
		n=$((n + 1))
	done
	((n == $2)) && [[ $(tracer "$1") == 0 ]]
}

wait_every_thread_stopped() {
	local end=$((SECONDS + 60))
	until every_thread_stopped "$1" "$2"; do
		((SECONDS < end)) || fail "$1 not stopped, every thread of" \
					  "$2, after 60 s ($(diag))"
		nap
	done
}

# stopped_round SIG: stopped by SIG before the dump, every thread comes
# back stopped, and runs on after SIGCONT.
stopped_round() {
	local n
	start_wl "$WLB/stopped"
	wait_count_above 8 60 "$JOB"
	n=$(ls "/proc/$PID/task" | wc -l)
	kill -"$1" "$PID"
	wait_every_thread_stopped "$PID" "$n"
	((NO_CKPT)) || {
		dump_kill
		start_restore
		wait_back
	}
	wait_every_thread_stopped "$PID" "$n"
	(($(count_lines) == DUMP_COUNT)) || ((NO_CKPT)) ||
		fail "counted on while stopped: $(count_lines) lines," \
		     "$DUMP_COUNT at the dump"
	kill -CONT "$PID"
	((NO_CKPT)) && RJOB=$JOB
	wait_count_above $((DUMP_COUNT + 3)) 60 "$RJOB"
	finish
}

t_stopped() {
	need "$WLB/stopped"
	stopped_round STOP
	rm -f "$D"/{ready,count,restored,stop,img}
	stopped_round TSTP
}

# The tree of tests/workloads/jobstop.c: after restore A and B are
# stopped, C runs, and the parent's wait() reports what it reported
# before (the workload checks it).
jobstop_back() {
	local k
	for k in $TREE_KIDS; do
		pstate "$k"
		case $ST in
		T) JS_STOPPED=$((JS_STOPPED + 1)) ;;
		[RS]) ;;
		*) fail "child $k is in state $ST after restore" ;;
		esac
	done
	((JS_STOPPED == 2)) || fail "$JS_STOPPED children stopped, want 2"
}

# tree_round WL N [HOOK]: workload WL with N children, dumped with
# --tree while it runs on; that tree ends at D/stop (making D/kids-end
# for its children), then the image is restored with D/count cut back to
# where the image has it, HOOK run once it is back.
tree_round() {
	local pos k
	need "$WLB/$1" "$CKPT" "$RESTORE"
	start_wl "$WLB/$1"
	wait_count_above 8 60 "$JOB"
	TREE_KIDS=$(child_pids "$PID")
	[[ $(wc -w <<<"$TREE_KIDS") == "$2" ]] ||
		fail "children '$TREE_KIDS', want $2"
	for k in $TREE_KIDS; do track_pid "$k"; done
	if ((NO_CKPT)); then
		RJOB=$JOB
		finish
		return
	fi
	expect_exit 0 "$CKPT" attach --tree -o "$D/img" "$PID"
	pos=$(image_count_pos "$D/img")
	end_dumped_tree
	rm -f "$D/stop" "$D/kids-end"
	truncate -s "$pos" "$D/count"
	DUMP_COUNT=$(count_lines)
	start_restore
	wait_restored
	[[ -n ${3-} ]] && $3
	finish
}

t_jobstop() {
	JS_KIDS=
	JS_STOPPED=0
	tree_round jobstop 3 jobstop_back
}

# Children whose exit signal is not SIGCHLD, one a zombie, keep it, and
# a zombie that dumped core keeps its core-dump flag
# (tests/workloads/exitsig.c checks what wait() and /proc see).
exitsig_back() {
	local k
	for k in $TREE_KIDS; do
		[[ $(stat_field "$k" 52) == 139 ]] && return
	done
	fail "no zombie with wait status 139 (SIGSEGV, core dumped)"
}

t_exitsig() {
	tree_round exitsig 3 exitsig_back
	rm -f "$D"/core*
}

# A process stopped by another tracer (state t) is refused, naming the
# tracer, and runs on once that tracer lets it go.
t_traced() {
	local tjob end
	need "$WLB/counter" "$CKPT"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	python3 -c 'import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1])
# PTRACE_SEIZE, then PTRACE_INTERRUPT: a ptrace stop, state t
if libc.ptrace(0x4206, pid, 0, 0) or libc.ptrace(0x4207, pid, 0, 0):
	sys.exit(1)
time.sleep(600)' "$PID" 2>>"$D/errors.log" &
	tjob=$!
	track_job "$tjob"
	end=$((SECONDS + 60))
	until pstate "$PID"; [[ $ST == t ]]; do
		job_done "$tjob" && fail "the tracer could not stop $PID"
		((SECONDS < end)) || fail "$PID not in state t after 60 s"
		nap
	done
	expect_exit 69 "$CKPT" attach -o "$D/img" "$PID"
	one_line_err
	grep -q "can't dump $PID: it is stopped by its tracer $tjob " \
		"$D/cmd.err" ||
		fail "the refusal does not name the tracer: $(cat "$D/cmd.err")"
	kill -KILL "$tjob"
	wait_job "$tjob" 10
	refused_runs_on
	check_count
}

# Child subreaper, THP disable, oom_score_adj, login uid, and each
# thread's parent-death signal, timer slack and MCE kill policy
# (tests/workloads/prctl.c checks them).
t_prctl() {
	need "$WLB/prctl"
	wl_test "$WLB/prctl"
}

# membarrier(2) registrations (tests/workloads/membarrier.c checks them).
t_membarrier() {
	need "$WLB/membarrier"
	wl_test "$WLB/membarrier"
}

# Every registration, GLOBAL_EXPEDITED and SYNC_CORE included, listed
# again by MEMBARRIER_CMD_GET_REGISTRATIONS after the restore.
t_membarrier-all() {
	need "$WLB/membarrier"
	wl_test "$WLB/membarrier" all
}

# POSIX timers of every clock and notification, with their ids, and a
# pending one (tests/workloads/ptimers.c checks them).
t_ptimers() {
	need "$WLB/ptimers"
	wl_test "$WLB/ptimers"
}

# A disarmed timer on the CPU clock of the thread that made it, in a
# process of several threads: restored on that thread's clock
# (tests/workloads/ptimers.c disarmed checks it).
t_ptimers-disarmed() {
	need "$WLB/ptimers"
	wl_test "$WLB/ptimers" disarmed
}

# The overrun count of a timer's last expiry (tests/workloads/ptoverrun.c
# checks it); refused where the timer's signal is queued and blocked.
t_ptimers-overrun() {
	need "$WLB/ptoverrun"
	wl_test "$WLB/ptoverrun"
}

# CLOCK_REALTIME timers: absolute ones keep their time of day and their
# overrun count, relative ones stay relative (tests/workloads/ptoverrun.c
# realtime checks them in /proc/timer_list).
t_ptimers-realtime() {
	need "$WLB/ptoverrun"
	wl_test "$WLB/ptoverrun" realtime
}

# CLOCK_REALTIME timers that no system call shows whole: a relative one's
# overrun count, a relative and an absolute one with their signal queued
# (tests/workloads/ptoverrun.c rtrelive checks them; restore waits for
# the relative ones, as long as the signal was queued).
t_ptimers-rtrelive() {
	need "$WLB/ptoverrun"
	wl_test "$WLB/ptoverrun" rtrelive
}

# The overrun count of a timer on the process's CPU clock, which restore
# runs long enough to give it back (tests/workloads/ptoverrun.c cpu).
t_ptimers-cpu-overrun() {
	need "$WLB/ptoverrun"
	wl_test "$WLB/ptoverrun" cpu
}

# A relative periodic CLOCK_REALTIME timer whose signal has been queued
# for over 10 s: restore would wait that long to give it back, refused.
t_ptimers-rtrelive-refused() {
	need "$WLB/ptoverrun" "$CKPT"
	start_wl "$WLB/ptoverrun" rtrefused
	refused_by_name "$PID: timer 1 is a relative periodic CLOCK_REALTIME timer with its signal queued, which restore gives back by waiting [0-9]* ms first (at most 10000)"
	check_count
}

# CLOCK_REALTIME timers that notify nobody (never queued, so only the
# kernel's memory tells absolute from relative): dumped, restored, the
# restored process dumped again, whose image must still have timer 1
# absolute and timer 2 relative; then restored again, they keep their
# time left (tests/workloads/ptoverrun.c rtnone checks it).
t_ptimers-sigev-none() {
	local first
	need "$WLB/ptoverrun" "$CKPT" "$RESTORE"
	start_wl "$WLB/ptoverrun" rtnone
	wait_count_above 8 60 "$JOB"
	dump_kill
	start_restore
	wait_restored
	first=$RJOB
	JOB=$RJOB	# the restored process is restore's child, not ours
	dump_kill_again "$first"
	"$CKPT" inspect "$D/img" >"$D/inspect.txt" 2>&1 ||
		fail "ckpt inspect: $(lastline "$D/inspect.txt")"
	grep -q "^timer $PID 1 clock 0 at [0-9]* interval 0 " "$D/inspect.txt" ||
		fail "timer 1 is not absolute after restore: $(grep '^timer' "$D/inspect.txt")"
	grep -q "^timer $PID 2 clock 0 left [0-9]* interval 0 " "$D/inspect.txt" ||
		fail "timer 2 is not relative after restore: $(grep '^timer' "$D/inspect.txt")"
	start_restore
	wait_restored
	finish
}

# Without BPF (ckpt without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN) whether
# a CLOCK_REALTIME timer that notifies nobody is absolute can't be told:
# refused, naming it, and the target runs on.
t_ptimers-nobpf-refused() {
	need "$WLB/ptoverrun" "$CKPT" /usr/bin/setpriv
	start_wl "$WLB/ptoverrun" rtnone
	wait_count_above 8 60 "$JOB"
	expect_exit 70 setpriv --bounding-set=-bpf,-perfmon,-sys_admin \
		--inh-caps=-bpf,-perfmon,-sys_admin \
		"$CKPT" attach -o "$D/img" "$PID"
	one_line_err "attach without BPF"
	grep -q "^ckpt: can't dump $PID: timer 1 is on CLOCK_REALTIME and not queued: whether it was set to an absolute time can't be told, which only the kernel's memory tells, read with BPF: Operation not permitted$" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	refused_runs_on
	check_count
}

t_ptimers-overrun-refused() {
	need "$WLB/ptoverrun" "$CKPT"
	start_wl "$WLB/ptoverrun" refused
	refused_by_name "$PID: timer 1 has its signal queued, blocked in every thread, and an overrun count of 3, which restore can't give back"
	check_count
}

# Memory advice, locks and MAP_GROWSDOWN as smaps shows them, data, and
# what a fork sees (tests/workloads/madvise.c checks them).
t_madvise() {
	need "$WLB/madvise"
	wl_test "$WLB/madvise"
}

# Guard regions, MAP_DROPPABLE memory and PR_SET_MEMORY_MERGE
# (tests/workloads/memadv.c checks them: a guard page still faults).
t_memadv() {
	need "$WLB/memadv"
	wl_test "$WLB/memadv"
}

ALL_TESTS+=(mlockall mlockall-onfault)

# mlockall(MCL_FUTURE), alone and with MCL_ONFAULT: mappings made after
# the restore come locked as before (tests/workloads/mlockall.c checks
# their smaps VmFlags).
t_mlockall() {
	need "$WLB/mlockall"
	wl_test "$WLB/mlockall" future
}

t_mlockall-onfault() {
	need "$WLB/mlockall"
	wl_test "$WLB/mlockall" onfault
}

ALL_TESTS+=(restart-syscall restart-syscall-nobpf)
CKPT_ONLY+="restart-syscall-nobpf "

# rs_sleepers_in NR...: each sleeper thread of PID (D/sleeper.N) is in
# the system call numbered NR[N] (/proc/PID/task/TID/syscall)
rs_sleepers_in() {
	local i=0 want tid nr
	for want in "$@"; do
		[[ -s $D/sleeper.$i ]] || return 1
		read -r tid <"$D/sleeper.$i"
		read -r nr _ <"/proc/$PID/task/$tid/syscall" 2>/dev/null ||
			return 1
		[[ $nr == "$want" ]] || return 1
		i=$((i + 1))
	done
}

rs_wait_in() {
	local end=$((SECONDS + 60))
	until rs_sleepers_in "$@"; do
		((SECONDS < end)) || fail "sleepers not in calls $* after" \
					  "60 s ($(diag))"
		nap
	done
}

# Threads asleep in nanosleep, clock_nanosleep, a futex wait and poll
# (tests/workloads/restartsleep.c), stopped and continued so that each
# continues its sleep through restart_syscall, dumped with --kill and
# restored: each sleeps on in the call it had made (a new process has no
# restart block: restart_syscall would have failed with EINTR).
t_restart-syscall() {
	local nrs
	need "$WLB/restartsleep"
	# x86_64: nanosleep, clock_nanosleep, futex, poll
	nrs=(35 230 202 7)
	start_wl "$WLB/restartsleep"
	wait_count_above 8 60 "$JOB"
	rs_wait_in "${nrs[@]}"
	kill -STOP "$PID"
	wait_every_thread_stopped "$PID" 5
	kill -CONT "$PID"
	rs_wait_in 219 219 219 219
	if ((NO_CKPT)); then
		RJOB=$JOB
	else
		dump_kill
		start_restore
		wait_restored
		rs_wait_in "${nrs[@]}"
	fi
	finish
}

# Without BPF (no CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN) which call a
# thread continues through restart_syscall can't be told: the dump is
# refused naming it, and the process runs on.
t_restart-syscall-nobpf() {
	local tid
	need "$WLB/restartsleep" "$CKPT" /usr/bin/setpriv
	start_wl "$WLB/restartsleep"
	wait_count_above 8 60 "$JOB"
	rs_wait_in 35 230 202 7
	kill -STOP "$PID"
	wait_every_thread_stopped "$PID" 5
	kill -CONT "$PID"
	rs_wait_in 219 219 219 219
	expect_exit 70 setpriv --bounding-set=-bpf,-perfmon,-sys_admin \
		--inh-caps=-bpf,-perfmon,-sys_admin \
		"$CKPT" attach -o "$D/img" "$PID"
	one_line_err "attach without BPF"
	read -r tid <"$D/sleeper.0"
	grep -q "^ckpt: can't dump $PID: thread $tid is continuing an interrupted call through restart_syscall" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	refused_runs_on
	check_count
}

# Default timer slack (what PR_SET_TIMERSLACK of 0 goes back to: the
# creator's slack when a task was made), read through BPF: of a process
# whose parent had set its slack before forking it, and of a thread made
# after its process set its own (tests/workloads/slackdef.c checks them).
t_slack-default() {
	need "$WLB/slackdef"
	wl_test "$WLB/slackdef"
}
ALL_TESTS+=(slack-default)

# state_set_oom_min IMAGE V: the oom_score_adj minimum of IMAGE's first
# PROC record set to V (the 4 bytes before its PID namespace levels,
# which end the payload: u64 ns, u64 for_children, u32 n and n PIDs; ns
# 0 for a process in ckpt's own); its CRC32C, its TRAILER index entry,
# the chain and the TRAILER's CRC made again.
state_set_oom_min() {
	python3 - "$1" "$2" <<'PY' || fail "can't patch ${1##*/}"
import struct, sys
def crc32c(b, c=0xffffffff):
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82f63b78 if c & 1 else 0)
    return c ^ 0xffffffff
img = bytearray(open(sys.argv[1], "rb").read())
assert img[:8] == b"CKPTIMG\0", "not a plain image"
at, crcs, done = 128, [], 0
while True:
    kind, flags, n = struct.unpack_from("<IIQ", img, at)
    end = at + 16 + n
    if kind == 1 and not done:
        assert struct.unpack_from("<QQI", img, end - 20) == (0, 0, 0), \
            "the first process is in a PID namespace of the tree's"
        struct.pack_into("<ii", img, end - 28, 1, int(sys.argv[2]))
        struct.pack_into("<I", img, end, crc32c(img[at:end]))
        done = 1
    if kind == 0x7fff:
        break
    crcs.append(struct.unpack_from("<I", img, end)[0])
    at = end + 4
assert done and struct.unpack_from("<Q", img, at + 16)[0] == len(crcs)
for i, c in enumerate(crcs):
    struct.pack_into("<I", img, at + 24 + 24 * i + 4, c)
chain = at + 24 + 24 * len(crcs)
struct.pack_into("<I", img, chain,
                 crc32c(b"".join(struct.pack("<I", c) for c in crcs)))
struct.pack_into("<I", img, end, crc32c(img[at:end]))
open(sys.argv[1], "wb").write(img)
PY
}

# A process whose oom_score_adj minimum (read with BPF) is not
# restore's, which only CAP_SYS_RESOURCE changes (root here lacks it: no
# process can have another, so the image is changed after the dump):
# refused before any process is made, exit 70, one line naming it.
t_oom-min-refused() {
	need "$WLB/counter"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	dump_kill
	state_set_oom_min "$D/img" -7
	expect_exit 70 "$RESTORE" "$D/img"
	one_line_err "oom_score_adj minimum"
	grep -q "can't restore process $PID of .*: its oom_score_adj minimum was -7, restore's is 0" \
		"$D/cmd.err" || fail "restore said: $(<"$D/cmd.err")"
	gone "$PID" || fail "PID $PID made before the refusal"
}
ALL_TESTS+=(oom-min-refused)
CKPT_ONLY+="oom-min-refused "
