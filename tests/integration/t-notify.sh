# t-notify.sh - ckpt run --notify: a cooperating job hears "before" and
# "after" each checkpoint and "restored" after restore, on the unix
# socket named by CKPT_NOTIFY; a job that does not listen is not held up.
# Sourced by run.sh.

ALL_TESTS+=(notify-job notify-deaf)
CKPT_ONLY+="notify-job notify-deaf "

# notify_dump: `ckpt dump D/run` exits 0; its image in NOTIFY_IMG
NOTIFY_IMG=
notify_dump() {
	expect_exit 0 "$CKPT" dump "$D/run"
	NOTIFY_IMG=$(cat "$D/cmd.out")
	[[ -f $NOTIFY_IMG ]] || fail "ckpt dump printed '$NOTIFY_IMG'"
}

# The job flushes its buffer on "before" (D/buffered then holds every
# number written before the checkpoint), hears "after", and after the
# job is killed and restored, "restored".
t_notify-job() {
	local n pos
	need "$CKPT" "$RESTORE" "$(command -v python3)"
	start_wl "$CKPT" run -D "$D/run" --notify=30 -- python3 \
		"$WLS/notify.py"
	wait_count_above 8 60 "$JOB"
	[[ ! -s $D/buffered ]] || fail "D/buffered written before any word"
	notify_dump
	[[ $(sed 's/ .*//' "$D/events" | tr '\n' ' ') == "before after " ]] ||
		fail "events after a checkpoint: $(cat "$D/events")"
	n=$(sed -n 's/^before //p' "$D/events")
	((n > 5)) && [[ $(wc -l <"$D/buffered") == "$n" ]] ||
		fail "D/buffered has $(wc -l <"$D/buffered") lines, the" \
		     "job said $n at before"
	kill -KILL "$PID"
	wait_job "$JOB" 60 || fail "ckpt run still running after its job died"
	wait_gone "$PID" 30 || fail "the killed job $PID is still there"
	pos=$(image_count_pos "$NOTIFY_IMG")
	truncate -s "$pos" "$D/count"
	DUMP_COUNT=$(count_lines)
	RESTORE_CMD=("$RESTORE")
	(spawn "$RESTORE" "$NOTIFY_IMG") </dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	grep -qx restored "$D/events" ||
		fail "no restored event: $(cat "$D/events")"
	finish
}

# A job that does not listen (the C counter): checkpoints as usual, the
# socket's path in its environment.
t_notify-deaf() {
	need "$CKPT" "$WLB/counter"
	start_wl "$CKPT" run -D "$D/run" --notify -- "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	tr '\0' '\n' <"/proc/$PID/environ" |
		grep -qx "CKPT_NOTIFY=$(realpath "$D/run")/notify" ||
		fail "no CKPT_NOTIFY in the job's environment"
	notify_dump
	[[ -e $D/events ]] && fail "the counter heard something?"
	touch "$D/stop"
	wait_job "$JOB" 120 || fail "ckpt run still running after D/stop"
	((WST == 0)) || fail "ckpt run exited $WST: $(lastline "$D/out.log")"
}
