# t-splice.sh - how a dump moves memory (issue 13 §1): 256 KiB chunks
# read from the target and written in turn, or read a chunk ahead by a
# second thread (ckpt/dump-memread.c), each forced with CKPT_DUMP_READER;
# a process writing its 256 MiB must come back with its memory as it was
# at the freeze (migmem checks every page), and a ckpt SIGKILLed in the
# middle of the memory of a 1 GiB process must leave it running on,
# untouched (bigmem checks its own checksum).  Sourced by run.sh.

ALL_TESTS+=(splice-reader splice-inturn splice-killed)
CKPT_ONLY+="splice-reader splice-inturn splice-killed "

# splice_dump_kill 0|1: lib.sh's dump_kill with CKPT_DUMP_READER=$1 and
# ckpt -v -v (a wrapper in D); the debug line must say which way the
# memory went.
splice_dump_kill() {
	local -x CKPT_DUMP_READER=$1
	local real=$CKPT
	local CKPT=$D/ckpt-v
	printf '#!/bin/sh\nexec %q -v -v "$@"\n' "$real" >"$CKPT"
	chmod +x "$CKPT"
	dump_kill
	grep -q "$PID: 2[5-9][0-9] MiB of memory: .* reading" "$D/ckpt.log" ||
		fail "no figures of the memory read: $(lastline "$D/ckpt.log")"
	if (($1)); then
		grep -q "reading (waiting for the reader thread)" \
			"$D/ckpt.log" ||
			fail "CKPT_DUMP_READER=1: the reader thread was not used"
	else
		grep -q "$PID: no reader thread (no CPU idle" "$D/ckpt.log" &&
			! grep -q "waiting for the reader thread" "$D/ckpt.log" ||
			fail "CKPT_DUMP_READER=0: a reader thread was used"
	fi
}

splice_migmem() {
	need "$CKPT" "$RESTORE" "$WLB/migmem"
	start_wl "$WLB/migmem" 256 8
	wait_count_above 8 60 "$JOB"
	splice_dump_kill "$1"
	start_restore
	wait_restored
	finish
	grep -q "migmem: 256 MiB checked" "$D/out.log" ||
		fail "the restored migmem did not check its memory:" \
		     "$(lastline "$D/out.log")"
}

t_splice-reader() {
	splice_migmem 1
}

t_splice-inturn() {
	splice_migmem 0
}

# ckpt SIGKILLed while it writes bigmem's memory, with the reader thread
# reading: no image, and bigmem runs on, not stopped, not traced, its
# memory intact (its own checksum at D/stop).
t_splice-killed() {
	local cjob end c f
	need "$CKPT" "$WLB/bigmem"
	start_wl "$WLB/bigmem"
	wait_count_above 8 60 "$JOB"
	(export CKPT_DUMP_READER=1
	 spawn "$CKPT" attach -o "$D/img" "$PID") </dev/null \
		>>"$D/ckpt.log" 2>&1 &
	cjob=$!
	track_job "$cjob"
	end=$((SECONDS + 60))
	until (($(tmp_image_size) > 64 << 20)); do
		job_done "$cjob" && fail "the dump ended before it was killed"
		((SECONDS < end)) || fail "no 64 MiB of image 60 s into the dump"
		sleep 0.01
	done
	kill -KILL "$cjob"
	wait_job "$cjob" 60 || fail "can't reap the killed ckpt"
	for f in "$D"/img*; do
		fail "the killed dump left ${f##*/} behind"
	done
	end=$((SECONDS + 30))
	while stopped "$PID" || [[ $(tracer "$PID") != 0 ]]; do
		((SECONDS < end)) ||
			fail "target stopped or traced 30 s after ckpt died"
		sleep 0.05
	done
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 120 || fail "bigmem still running 120 s after D/stop"
	((WST == 0)) || fail "bigmem exited $WST after ckpt was killed:" \
			     "$(lastline "$D/out.log")"
	check_count
}
