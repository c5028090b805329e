# t-core.sh - single processes through dump, kill and restore: C programs
# dynamic and static, threads, python, perl and bash, system calls,
# signals, the FPU, memory big and sparse, credentials, capabilities,
# timers.  Sourced by run.sh.

ALL_TESTS+=(counter counter-static threads threads-static python perl bash
	    syscalls signals signals-nobpf fpu memory bigmem sparse creds caps caps-bounding limits-refused
	    timers)

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

# The same, dumped without BPF: the signal actions read by calls in the
# process, not by ckpt/bpf/sigacts.bpf.c
t_signals-nobpf() {
	local drop=-bpf,-perfmon,-sys_admin
	need "$WLB/signals" "$CKPT"
	command -v setpriv >/dev/null || skip "no setpriv"
	printf '#!/bin/sh\nexec setpriv --inh-caps=%s --bounding-set=%s %s "$@"\n' \
		"$drop" "$drop" "$CKPT" >"$D/ckpt-nobpf"
	chmod +x "$D/ckpt-nobpf"
	CKPT=$D/ckpt-nobpf wl_test "$WLB/signals"
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

# A bounding set capability that restore lacks (setpriv takes
# cap_sys_nice out of restore's) of a counter run as nobody: refused by name (exit 70) before any
# process is made; with --drop-bounding the counter comes back without
# it, and restore says so.
bounding_refused() {
	expect_exit 70 setpriv --bounding-set=-sys_nice "$RESTORE" "$D/img"
	one_line_err "restore"
	grep -q "^restore: can't restore process $PID of $D/img: its bounding set holds cap_sys_nice, which restore lacks (--drop-bounding lets it come back without)\$" \
		"$D/cmd.err" || fail "the refusal does not name it: $(cat "$D/cmd.err")"
	gone "$PID" || fail "a refused restore left PID $PID behind"
}

t_caps-bounding() {
	need "$WLB/counter" "$(command -v setpriv)"
	chmod 0777 "$D"
	# not root: its permitted set is empty, its bounding set full
	start_wl setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$WLB/counter"
	HOOK_DUMPED=bounding_refused
	RESTORE_CMD=(setpriv --bounding-set=-sys_nice "$RESTORE" --drop-bounding)
	HOOK_RESTORED=bounding_dropped
	wl_test_started
}

bounding_dropped() {
	local bnd
	bnd=$(awk '/^CapBnd:/ { print $2 }' "/proc/$PID/status")
	(((0x$bnd >> 23) & 1)) && fail "cap_sys_nice still in CapBnd $bnd"
	grep -q "process $PID comes back without cap_sys_nice in its bounding set" \
		"$D/restore.log" || fail "restore did not say so: $(lastline "$D/restore.log")"
}

# A hard limit above restore's own (prlimit lowers restore's open-files
# hard limit under the counter's), which only CAP_SYS_RESOURCE could
# raise: refused by name before any process is made; restored as it was
# by a restore that has it.
limits_refused() {
	local hard eff
	# the counter's, as it inherited them from this shell
	hard=$(awk '/^Max open files/ { print $5 }' /proc/self/limits)
	[[ $hard =~ ^[0-9]+$ ]] && ((hard > 64)) || skip "open files hard limit $hard"
	eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	(((0x$eff >> 24) & 1)) && skip "root here has CAP_SYS_RESOURCE"
	expect_exit 70 prlimit --nofile=64:64 "$RESTORE" "$D/img"
	one_line_err "restore"
	grep -q "^restore: can't restore process $PID of $D/img: its hard RLIMIT_NOFILE ($hard) is above restore's (64), which only CAP_SYS_RESOURCE can raise\$" \
		"$D/cmd.err" || fail "the refusal does not name it: $(cat "$D/cmd.err")"
	gone "$PID" || fail "a refused restore left PID $PID behind"
}

t_limits-refused() {
	need "$WLB/counter" "$(command -v prlimit)"
	HOOK_DUMPED=limits_refused
	wl_test "$WLB/counter"
}

t_timers() {
	need "$WLB/timers"
	wl_test "$WLB/timers"
}
