# t-cli.sh - what the commands promise: exit statuses for bad arguments
# and damaged images, the restored process's status passed through,
# restore --detach, ckpt restore, ckpt check.  Sourced by run.sh.

ALL_TESTS+=(ckpt-restore exit-status detach bad-args bad-image check version)
CKPT_ONLY+="ckpt-restore exit-status detach bad-args bad-image check version "

t_ckpt-restore() {
	need "$WLB/counter"
	RESTORE_CMD=("$CKPT" restore)
	wl_test "$WLB/counter"
}

# restore passes the status through: exit 7, then killed by SIGTERM (143)
t_exit-status() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$WLB/counter" 7
	wait_count_above 8 60 "$JOB"
	dump_kill
	start_restore
	wait_restored
	touch "$D/stop"
	wait_job "$RJOB" 60 || fail "restore still running 60 s after D/stop"
	((WST == 7)) || fail "restore exited $WST, the workload exited 7"
	wait_gone "$PID" 30 || fail "PID $PID still there after restore exited"

	rm -f "$D/stop"
	DUMP_COUNT=$(count_lines)	# progress is counted from here now
	start_restore
	wait_restored
	kill -TERM "$PID"
	wait_job "$RJOB" 60 || fail "restore still running 60 s after the" \
				    "restored process got SIGTERM"
	((WST == 143)) ||
		fail "restore exited $WST, the workload was killed by SIGTERM"
}

t_detach() {
	local out
	need "$WLB/counter" "$CKPT" "$RESTORE"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	dump_kill
	expect_exit 0 "$RESTORE" --detach "$D/img"
	read -r out <"$D/cmd.out"
	[[ $out == "$PID" ]] ||
		fail "restore --detach printed \"$out\", want $PID"
	alive "$PID" || fail "PID $PID not running after restore --detach"
	RJOB=$PID	# not our child: wait_count_above only polls it
	wait_count_above $((DUMP_COUNT + 3)) 60 "$PID"
	touch "$D/restored"
	wait_count_above $((DUMP_COUNT + 6)) 60 "$PID"
	touch "$D/stop"
	wait_gone "$PID" 60 || fail "detached PID $PID still running 60 s" \
				    "after D/stop"
	check_count
}

# ckpt check: exit 0 here (every required feature is on this host), one
# "ok NAME" or "no NAME: why" line per feature, and the features those
# that ckpt(1) lists, in its order.
t_check() {
	local names doc
	need "$CKPT"
	expect_exit 0 "$CKPT" check
	grep -Ev '^(ok [a-z0-9-]+|no [a-z0-9-]+: .+)$' "$D/cmd.out" &&
		fail "ckpt check printed lines of another form"
	names=$(awk '{ sub(":", "", $2); print $2 }' "$D/cmd.out")
	doc=$(awk '/^\.Ss ckpt check/ { on = 1; next } /^\.Ss / { on = 0 }
		   on && /^\.It [a-z0-9-]+$/ { print $2 }' "$TOP/man/ckpt.1")
	[[ -n $names && $names == "$doc" ]] ||
		fail "ckpt check lists $(echo $names); ckpt(1) $(echo $doc)"
}

t_bad-args() {
	local p c
	need "$CKPT" "$RESTORE" "$WLB/counter"
	expect_exit 69 "$CKPT" attach -o "$D/img" 999999999
	one_line_err "ckpt attach 999999999"
	no_image "ckpt attach 999999999"
	# a free PID below pid_max
	read -r p </proc/sys/kernel/pid_max
	for ((p = p - 1; p > 300; p--)); do
		[[ -e /proc/$p ]] || break
	done
	expect_exit 69 "$CKPT" attach -o "$D/img" "$p"
	one_line_err "ckpt attach of free PID $p"
	no_image "ckpt attach of free PID $p"
	expect_exit 64 "$CKPT" attach
	expect_exit 64 "$CKPT" attach -o "$D/img" not-a-pid
	no_image "ckpt attach not-a-pid"
	expect_exit 64 "$CKPT" no-such-command
	expect_exit 64 "$RESTORE"

	# an image that can't be created leaves the target running
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 73 "$CKPT" attach -o "$D/no/such/dir/img" "$PID"
	one_line_err "ckpt attach -o D/no/such/dir/img"
	stopped "$PID" && fail "target left stopped (state $ST) after exit 73"
	[[ $(tracer "$PID") == 0 ]] || fail "target still traced after exit 73"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	((WST == 0)) || fail "counter exited $WST: $(lastline "$D/out.log")"
	check_count
}

# restore of a damaged image: exit 65 and no process appears
bad_restore() {
	expect_exit "$1" "$RESTORE" "$D/$2"
	one_line_err "restore $2"
	alive "$PID" && fail "restore of $2 exited $1 but PID $PID exists"
	return 0
}

t_bad-image() {
	local c size
	need "$CKPT" "$RESTORE" "$WLB/counter"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	# dump without --kill: the target runs on, unstopped, untraced
	expect_exit 0 "$CKPT" attach -o "$D/img" "$PID"
	[[ -s $D/img ]] || fail "ckpt attach exited 0 but D/img is empty"
	alive "$PID" || fail "ckpt attach without --kill killed the target"
	stopped "$PID" && fail "target left stopped (state $ST) after the dump"
	[[ $(tracer "$PID") == 0 ]] || fail "target still traced after the dump"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	((WST == 0)) || fail "counter exited $WST after a dump without" \
			     "--kill: $(lastline "$D/out.log")"
	check_count
	rm -f "$D/stop"

	size=$(stat -c %s "$D/img")
	cp "$D/img" "$D/half" && truncate -s $((size / 2)) "$D/half"
	bad_restore 65 half
	cp "$D/img" "$D/flip-mid" && flip_byte "$D/flip-mid" $((size / 2))
	bad_restore 65 flip-mid
	cp "$D/img" "$D/flip-head" && flip_byte "$D/flip-head" 0
	bad_restore 65 flip-head
	: >"$D/empty"
	bad_restore 65 empty
	head -c 65536 /dev/urandom >"$D/garbage"
	bad_restore 65 garbage
	bad_restore 66 no-such-image

	# a PID needed by restore is taken
	expect_exit 0 "$RESTORE" --detach "$D/img"
	read -r c <"$D/cmd.out"
	[[ $c == "$PID" ]] || fail "restore --detach printed \"$c\", want $PID"
	alive "$PID" || fail "PID $PID not running after restore --detach"
	expect_exit 75 "$RESTORE" --detach "$D/img"
	one_line_err "restore --detach of a running image"
	expect_exit 75 "$RESTORE" "$D/img"
	one_line_err "restore of a running image"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$PID"
	touch "$D/stop"
	wait_gone "$PID" 60 || fail "PID $PID still running 60 s after D/stop"
}

# --version of both programs (the same release and image format), and the
# writer an image's header names, in inspect's text and JSON.
t_version() {
	local rel fmt w
	need "$CKPT" "$RESTORE" "$WLB/counter"
	expect_exit 0 "$CKPT" --version
	read -r _ rel _ _ fmt <"$D/cmd.out"
	[[ $(cat "$D/cmd.out") =~ ^ckpt\ [0-9]+\.[0-9]+\.[0-9]+\ \(image\ format\ [0-9]+\)$ ]] ||
		fail "ckpt --version: $(cat "$D/cmd.out")"
	expect_exit 0 "$RESTORE" --version
	[[ $(cat "$D/cmd.out") == "restore $rel (image format $fmt" ]] ||
		fail "restore --version: $(cat "$D/cmd.out"), ckpt said $rel $fmt"
	start_wl "$WLB/counter"
	wait_count_above 2 60 "$JOB"
	expect_exit 0 "$CKPT" attach -o "$D/img" "$PID"
	expect_exit 0 "$CKPT" inspect "$D/img"
	head -1 "$D/cmd.out" | grep -q " writer ckpt $rel\$" ||
		fail "inspect header: $(head -1 "$D/cmd.out")"
	expect_exit 0 "$CKPT" inspect --json "$D/img"
	w=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["writer"])' \
		<"$D/cmd.out") || fail "inspect --json does not parse"
	[[ $w == "ckpt $rel" ]] || fail "inspect --json writer: $w"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	check_count
}
