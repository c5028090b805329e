# t-dump.sh - dumps under stress: interrupted by SIGTERM, the target
# killed mid-dump, threads born and dying while seized, two dumps of one
# process, a restored process dumped again; seccomp filters through dump
# and restore, and one that notifies a listener refused.  Sourced by
# run.sh.

ALL_TESTS+=(sigterm target-dies thread-churn dump-twice restore-again
	    seccomp seccomp-own seccomp-strict seccomp-notify seccomp-apart
	    seccomp-subset-refused)
CKPT_ONLY+="sigterm target-dies dump-twice restore-again seccomp-notify "
CKPT_ONLY+="seccomp-subset-refused "

# Two filters (an EPERM one, then an allowing one with its LOG flag) that
# both threads share (TSYNC) are in force again, in their order, in each
# thread (tests/workloads/seccomp.c checks them).
t_seccomp() {
	need "$WLB/seccomp"
	wl_test "$WLB/seccomp"
}

# The same, where the main thread has the first filter only and the
# second thread both.
t_seccomp-own() {
	need "$WLB/seccomp"
	wl_test "$WLB/seccomp" own
}

# A thread in strict mode stays in it (and still reads and writes).
t_seccomp-strict() {
	need "$WLB/seccomp"
	wl_test "$WLB/seccomp" strict
}

# A filter that notifies a listener (the listener's fd is the target's
# own) is refused, named as such, and the target runs on.
t_seccomp-notify() {
	need "$WLB/seccomp" "$CKPT"
	start_wl "$WLB/seccomp" notify
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	one_line_err
	grep -q "can't dump $PID: thread [0-9]* has a seccomp filter that notifies a listener" \
		"$D/cmd.err" ||
		fail "the refusal does not say why: $(cat "$D/cmd.err")"
	refused_runs_on
	check_count
}

# Alike filters that two threads installed each apart come back apart:
# a TSYNC fails as it did (tests/workloads/seccomp.c apart checks it).
t_seccomp-apart() {
	need "$WLB/seccomp"
	wl_test "$WLB/seccomp" apart
}

# A filter shared by two threads of three is refused, named, and the
# target runs on.
t_seccomp-subset-refused() {
	need "$WLB/seccomp" "$CKPT"
	start_wl "$WLB/seccomp" subset
	refused_by_name "$PID: threads [0-9]* and [0-9]* share seccomp filter 0, which other threads have not, which restore can't make so"
	check_count
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
