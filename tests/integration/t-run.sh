# t-run.sh - ckpt run, the checkpointing supervisor: checkpoints on
# demand and on a timer, kept and rotated, a job with children, signals
# passed on, a failed checkpoint, ckpt restore DIR.  Sourced by run.sh.

ALL_TESTS+=(run-tree run run-restore run-forward run-interval run-fail)
CKPT_ONLY+="run-tree run run-restore run-forward run-interval run-fail "

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
