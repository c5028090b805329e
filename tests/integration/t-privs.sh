# t-privs.sh - least privilege: restore holds no capability while the
# tree it made runs, the commands that only parse an image run confined
# by seccomp, keys open to others are refused.  Sourced by run.sh.

ALL_TESTS+=(restore-caps confine-inspect confine-convert)
CKPT_ONLY+="restore-caps confine-inspect confine-convert "

# cap_sets PID: its five capability sets, "Inh Prm Eff Bnd Amb" in hex
cap_sets() {
	local k v out=()
	while read -r k v; do
		[[ $k == Cap???: ]] && out+=("${k:3:3}=$v")
	done <"/proc/$1/status" 2>/dev/null
	echo "${out[*]}"
}

# restore (RJOB: spawn execs it) drops its capabilities once the last
# process is let go; it does so after, so wait for the effective set
restore_has_no_caps() {
	local end=$((SECONDS + 60)) sets
	while :; do
		sets=$(cap_sets "$RJOB")
		[[ $sets == *Eff=0000000000000000* ]] && break
		job_done "$RJOB" && fail "restore exited while its tree ran"
		((SECONDS < end)) ||
			fail "restore still holds capabilities: $sets"
		nap
	done
	[[ $sets =~ ^Inh=0+\ Prm=0+\ Eff=0+\ Bnd=0+\ Amb=0+$ ]] ||
		fail "restore kept some capabilities: $sets"
}

t_restore-caps() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	HOOK_RESTORED=restore_has_no_caps
	wl_test "$WLB/counter"
}

# confined_run self|child CMD...: CMD with CKPT_FAULT=confined:stop, so
# that the process that installs the filter (CMD's own, or its child)
# stops right after (util/fault.h); there it must show seccomp mode 2 in
# /proc/PID/status; then it goes on (SIGCONT) and CMD must exit 0.
confined_run() {
	local who=$1 job p= sc end=$((SECONDS + 60))
	shift
	(export CKPT_FAULT=confined:stop; spawn "$@") </dev/null \
		>"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	while :; do
		[[ $who == self ]] && p=$job || p=$(child_pids "$job")
		[[ -n $p ]] && stopped "$p" && break
		if job_done "$job"; then
			status "$job"
			fail "${*:1:2}: exit $JST before the filter:" \
			     "$(lastline "$D/cmd.err")"
		fi
		((SECONDS < end)) || fail "${*:1:2}: not stopped after 60 s"
		nap
	done
	sc=$(grep '^Seccomp:' "/proc/$p/status")
	kill -CONT "$p"
	wait_job "$job" 60 || fail "${*:1:2} still running 60 s after SIGCONT"
	((WST == 0)) || fail "${*:1:2}: exit $WST: $(lastline "$D/cmd.err")"
	[[ $sc =~ ^Seccomp:[[:space:]]+2$ ]] ||
		fail "${*:1:2} parsed the image unconfined: $sc"
}

# an image of the counter workload in D/img (the workload is killed)
counter_image() {
	need "$WLB/counter" "$CKPT"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	dump_kill
}

t_confine-inspect() {
	counter_image
	confined_run self "$CKPT" inspect "$D/img"
	grep -q "^process $PID" "$D/cmd.out" ||
		fail "confined inspect shows no process $PID"
	confined_run self "$CKPT" inspect --json "$D/img"
	python3 -c 'import json, sys; json.load(sys.stdin)' <"$D/cmd.out" ||
		fail "confined inspect --json printed no JSON"
}

# convert parses in a confined child; the parent commits the core
t_confine-convert() {
	local mode
	counter_image
	confined_run child "$CKPT" convert "$D/img" "$D/core"
	mode=$(stat -c %a "$D/core" 2>/dev/null)
	[[ $mode == 600 ]] || fail "D/core has mode '$mode', not 600"
}
