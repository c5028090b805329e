# t-writers.sh - where the image goes and how: --compress, --encrypt,
# standard output, the chunks plugin, ckpt serve over TCP (refusals,
# faults, several clients, a man in the middle), several copies with a
# quorum.  Sourced by run.sh.

ALL_TESTS+=(compress pipe plugin-chunks serve serve-faults encrypt replicate
	    replicate-tcp serve-clients serve-sweep serve-tamper)
CKPT_ONLY+="compress pipe plugin-chunks serve serve-faults encrypt "
CKPT_ONLY+="replicate replicate-tcp serve-clients serve-sweep serve-tamper "

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

# Refusals: a wrong key (target runs on), bad names, a missing image; a
# client killed mid-stream leaves nothing; the server serves on.
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
