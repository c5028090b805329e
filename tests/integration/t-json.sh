# t-json.sh - what the commands report for scripts: --json of check,
# sym, attach, restore --detach and serve's log, each parsed by python3's
# json module and checked field by field against the facts; and the
# progress of a long dump: a line that updates on a terminal, nothing on a
# pipe or with -q, JSON lines with --progress=json.  Sourced by run.sh.

ALL_TESTS+=(json-check json-sym json-attach json-serve json-run progress)
CKPT_ONLY+="json-check json-sym json-attach json-serve json-run progress "

# pyjson EXPR < FILE: python3 evaluates EXPR with d the parsed document
# (or L the list of documents, one a line, when FILE has several lines);
# the test fails unless it prints "ok".
pyjson() {
	local got
	got=$(python3 -c '
import json, sys
text = sys.stdin.read()
lines = [l for l in text.splitlines() if l.strip()]
L = [json.loads(l) for l in lines]
d = L[0] if len(L) == 1 else None
print("ok" if eval(sys.argv[1]) else "no")' "$1" 2>&1) ||
		fail "not JSON ($1): $got"
	[[ $got == ok ]] || fail "JSON does not hold $1"
}

# every feature of ckpt check, with ok/required/why, the same verdicts
# as the text output
t_json-check() {
	need "$CKPT"
	expect_exit 0 "$CKPT" check
	awk '{ sub(":", "", $2); print $1, $2 }' "$D/cmd.out" >"$D/text"
	expect_exit 0 "$CKPT" check --json
	pyjson 'd["ok"] is True and all(set(f) == {"name", "ok", "required", "why"} and (f["why"] is None) == f["ok"] for f in d["features"])' <"$D/cmd.out"
	python3 -c 'import json, sys
for f in json.load(sys.stdin)["features"]:
    print("ok" if f["ok"] else "no", f["name"])' <"$D/cmd.out" >"$D/json"
	cmp -s "$D/text" "$D/json" ||
		fail "check --json and check differ: $(diff "$D/text" "$D/json" | head -3)"
}

# sym --json by name (an ifunc, with what its resolver chose) and by
# address, the same answers as the text output
t_json-sym() {
	local impl res addr
	need "$CKPT" "$WLB/counter-static"
	start_wl "$WLB/counter-static"
	wait_count_above 2 60 "$JOB"
	expect_exit 0 "$CKPT" sym "$PID" memcpy
	{ read -r impl _; read -r res _; } <"$D/cmd.out"
	expect_exit 0 "$CKPT" sym --json "$PID" memcpy
	pyjson "d['pid'] == $PID and d['name'] == 'memcpy' and d['ifunc'] is True and d['addr'] == '$res' and d['chosen']['addr'] == '$impl' and d['chosen']['name'].startswith('__mem')" <"$D/cmd.out"
	expect_exit 0 "$CKPT" sym "$PID" nanosleep
	read -r addr _ <"$D/cmd.out"
	expect_exit 0 "$CKPT" sym --json "$PID" "$(printf '0x%x' $((addr + 2)))"
	pyjson "d['symbol'] in ('nanosleep', '__nanosleep', '__libc_nanosleep') and d['offset'] == 2 and d['addr'] == '$(printf '0x%x' $((addr + 2)))'" <"$D/cmd.out"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	check_count
}

# attach --json --kill of a threaded workload: the image, its size, the
# processes and threads; restore --detach --json: the PIDs made
t_json-attach() {
	local size threads
	need "$CKPT" "$RESTORE" "$WLB/threads"
	start_wl "$WLB/threads"
	wait_count_above 8 60 "$JOB"
	threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$PID/status")
	expect_exit 0 "$CKPT" attach --kill --json -o "$D/img" "$PID"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
	size=$(stat -c %s "$D/img")
	pyjson "d['images'] == ['$D/img'] and d['pid'] == $PID and d['processes'] == 1 and d['threads'] == $threads and d['bytes'] == $size and d['killed'] is True and 0 <= d['frozen_seconds'] <= d['seconds']" <"$D/cmd.out"
	expect_exit 64 "$RESTORE" --json "$D/img"
	expect_exit 0 "$RESTORE" --detach --json "$D/img"
	pyjson "d['pid'] == $PID and d['pids'] == [$PID] and d['image'] == '$D/img'" <"$D/cmd.out"
	RJOB=$PID
	wait_count_above $((DUMP_COUNT + 3)) 60 "$PID"
	touch "$D/restored" "$D/stop"
	wait_gone "$PID" 60 || fail "restored PID $PID still running after D/stop"
	check_count
}

# ckpt serve --json: every line it logs is a JSON object with time, prog,
# level and message; a put that succeeded and a refused one among them
t_json-serve() {
	need "$CKPT" "$WLB/counter"
	start_server --json
	start_wl "$WLB/counter"
	wait_count_above 2 60 "$JOB"
	expect_exit 0 "$CKPT" attach -o "$URL/job" --auth "$D/key" "$PID"
	expect_exit 73 "$CKPT" attach -o "$URL/.hidden" --auth "$D/key" "$PID"
	stop_server
	pyjson 'all(set(x) == {"time", "prog", "level", "message"} and x["prog"] == "ckpt serve" for x in L) and any(x["level"] == "info" and " put job: ok" in x["message"] for x in L) and any(x["level"] == "warning" and "refused: bad image name" in x["message"] for x in L)' <"$D/serve.log"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	check_count
}

# ckpt run --json: a JSON line on stderr per checkpoint; ckpt dump --json
# the image it asked for, the same
t_json-run() {
	local img
	need "$CKPT" "$WLB/counter"
	start_wl "$CKPT" run --json -D "$D/run" -- "$WLB/counter"
	wait_count_above 4 60 "$JOB"
	expect_exit 0 "$CKPT" dump --json "$D/run"
	img=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["image"])' \
		<"$D/cmd.out") || fail "ckpt dump --json: $(cat "$D/cmd.out")"
	[[ $img == "$D/run/0001.ckpt" && -f $img ]] ||
		fail "ckpt dump --json names $img"
	grep -a '^{"checkpoint"' "$D/out.log" >"$D/run.json"
	pyjson "d['checkpoint'] == '$img' and d['seq'] == 1 and d['pid'] == $PID and d['processes'] == 1 and d['bytes'] == $(stat -c %s "$img")" <"$D/run.json"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "ckpt run still running 60 s after D/stop"
	check_count
}

# pty_run LOG CMD...: CMD under a pseudo-terminal of script(1), its
# terminal output in LOG; the test fails if CMD fails.
pty_run() {
	local log=$1
	shift
	script -qec "$(printf '%q ' "$@")" "$log" </dev/null >/dev/null ||
		fail "${*##*/} under a pty failed: $(tail -c 300 "$log")"
}

# pty_progress LOG PROG PHASE: LOG shows a progress line of PROG in
# PHASE of about 1 GiB, erased after its last update.
pty_progress() {
	grep -aq "$2: $3 [0-9.]* [KMG]\?i\?B of about 1\.0 GiB" "$1" ||
		fail "no $2 progress line on the terminal: $(tail -c 300 "$1" | tr '\r\033' '|^')"
	python3 -c 'import sys
t = open(sys.argv[1], "rb").read()
sys.exit(0 if t.rfind(b"\r\x1b[K") > t.rfind(b" of about ") else 1)' "$1" ||
		fail "the $2 progress line was not erased at the end"
}

# JSON progress lines in FILE: PHASES in order, the bytes never going
# back within a phase, and at the end as many as the total (restore) or the image's size
# (attach, whose total is an estimate of about 1 GiB).
json_progress() {
	pyjson '[x["phase"] for x in L if x["phase"] not in ('"$3"')] == [] and [x["phase"] for x in L][0] == '"$2"' and L[-1]["phase"] == "done" and all(a["bytes"] <= b["bytes"] for a, b in zip(L, L[1:]) if a["phase"] == b["phase"]) and abs(L[-1]["total"] - (1 << 30)) < (64 << 20) and '"$4" <"$1"
}

# A dump and a restore of 1 GiB: on a terminal, a line that updates in
# place names the phase and the bytes of about 1 GiB and is gone at the
# end; on a pipe, or with -q, nothing but errors; --progress=json: one
# object a line, the phases in order, the bytes never going back.
t_progress() {
	local end pos
	need "$CKPT" "$RESTORE" "$WLB/bigmem"
	start_wl "$WLB/bigmem"
	wait_count_above 2 120 "$JOB"
	expect_exit 0 "$CKPT" attach --progress=json -o "$D/img" "$PID"
	[[ ! -s $D/cmd.out ]] || fail "--progress=json wrote to stdout"
	json_progress "$D/cmd.err" '"freezing"' '"freezing", "state", "files", "memory", "committing", "done"' \
		"L[-1]['bytes'] == $(stat -c %s "$D/img")"
	rm -f "$D/img"
	pty_run "$D/tty-q.log" "$CKPT" -q attach -o "$D/img" "$PID"
	grep -av '^Script \(started\|done\) on ' "$D/tty-q.log" | grep -aq . &&
		fail "attach -q printed: $(cat -v "$D/tty-q.log" | head -c 300)"
	rm -f "$D/img"
	"$CKPT" attach -o "$D/img" "$PID" 2>&1 | cat >"$D/pipe.log"
	[[ ! -s $D/pipe.log ]] || fail "attach on a pipe printed: $(head -c 200 "$D/pipe.log")"
	rm -f "$D/img"
	# the line at once: a fast machine may take less than a second
	CKPT_PROGRESS_AFTER=0 pty_run "$D/tty.log" "$CKPT" attach --kill \
		--compress -o "$D/img" "$PID"
	pty_progress "$D/tty.log" ckpt memory
	wait_job "$JOB" 60 || fail "can't reap the killed bigmem"
	# the same image restored twice: JSON, then on a terminal, D/count
	# cut back each time to where the image has it
	pos=$(image_count_pos "$D/img")
	expect_exit 0 "$RESTORE" --progress=json --detach --json "$D/img"
	json_progress "$D/cmd.err" '"reading"' '"reading", "restoring", "done"' \
		'L[-1]["bytes"] == L[-1]["total"] and max(x["bytes"] for x in L if x["phase"] == "reading") > (1 << 30)'
	kill -KILL "$PID"
	# gone, and reaped (its PID free again) by the runner, its reaper now
	end=$((SECONDS + 60))
	while [[ -e /proc/$PID ]]; do
		((SECONDS < end)) || fail "restored bigmem not reaped 60 s after SIGKILL"
		nap
	done
	# in the foreground this time: restore waits for bigmem's verdict
	truncate -s "$pos" "$D/count"
	DUMP_COUNT=$(count_lines)
	(CKPT_PROGRESS_AFTER=0 pty_run "$D/tty-r.log" "$RESTORE" "$D/img") &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	touch "$D/stop"
	wait_job "$RJOB" 180 || fail "restore still running 180 s after D/stop"
	((WST == 0)) || fail "restored bigmem failed: $(lastline "$D/out.log")"
	pty_progress "$D/tty-r.log" restore restoring
	rm -f "$D/img"
}
