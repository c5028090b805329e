# t-job.sh - the job of issue 17: a map-reduce word count in Java
# (tests/workloads/WordCount.java: a driver JVM and three worker JVMs over
# TCP, one tree) checkpointed in the middle of its map with
# --snapshot-open and killed; its spill files, partial and final outputs
# deleted and its input truncated, as another job might have done; the
# restored job finishes with the output of an uninterrupted run. An image
# of the same job without the snapshot is refused by restore's
# validation, naming a file. Sourced by run.sh.

ALL_TESTS+=(job-wordcount)
CKPT_ONLY+="job-wordcount "

# the JVMs small, without their shared perf-data file in /tmp
JOB_JAVA=(java -XX:-UsePerfData -XX:+UseSerialGC -Xmx64m
	  -XX:TieredStopAtLevel=1 -cp "$WLB")

# job_paused: every worker stopped halfway through its map
job_paused() {
	local end=$((SECONDS + 120)) w
	for w in 0 1 2; do
		until [[ -e $D/paused-$w ]]; do
			((SECONDS < end)) || fail "worker $w not halfway after 120 s"
			job_done "$JOB" && fail "the job ended: $(lastline "$D/out.log")"
			nap
		done
	done
}

t_job-wordcount() {
	need "$CKPT" "$RESTORE" "$WLB/reaper" "$(command -v java)"
	[[ -f $WLB/WordCount.class ]] ||
		fail "$WLB/WordCount.class is missing (make check-integration builds it)"
	(cd "$D" && "${JOB_JAVA[@]}" WordCount gen input.txt 16) ||
		fail "can't generate the input"
	# the uninterrupted run, in D/ref
	mkdir "$D/ref" && cp "$D/input.txt" "$D/ref/" && touch "$D/ref/resume"
	(cd "$D/ref" && timeout 120 "${JOB_JAVA[@]}" WordCount driver \
		input.txt 3) >"$D/ref.log" 2>&1 ||
		fail "the uninterrupted run failed: $(lastline "$D/ref.log")"
	# under the reaper: the workers die with the driver, orphans
	start_wl "$WLB/reaper" "${JOB_JAVA[@]}" WordCount driver input.txt 3
	job_paused
	[[ -s $D/spill-0.txt ]] || fail "no spill yet halfway through the map"
	expect_exit 0 "$CKPT" attach --tree -o "$D/img-plain" "$PID"
	DUMP_OPTS=(--tree --snapshot-open)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	rm "$D"/spill-*.txt "$D"/part-*.txt "$D/output.txt"
	truncate -s 1000 "$D/input.txt"
	expect_exit 76 "$RESTORE" "$D/img-plain"
	one_line_err "restore without the snapshot"
	grep -q "file $D/.* is not the one checkpointed" "$D/cmd.err" ||
		fail "no error naming a file: $(cat "$D/cmd.err")"
	touch "$D/resume"
	start_restore
	wait_job "$RJOB" 180 || fail "the restored job still runs after 180 s"
	((WST == 0)) || fail "the restored job exited $WST:" \
			     "$(lastline "$D/restore.log")" \
			     "$(lastline "$D/out.log")"
	cmp -s "$D/output.txt" "$D/ref/output.txt" ||
		fail "output differs from the uninterrupted run's" \
		     "($(wc -l <"$D/output.txt") lines," \
		     "$(wc -l <"$D/ref/output.txt") expected)"
}
