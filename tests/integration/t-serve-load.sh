# t-serve-load.sh - ckpt serve under hostile load: honest clients and
# hostile ones at once (tests/integration/serveload.py), within the
# limits of --max-clients and --client-timeout.  Sourced by run.sh; the
# full run (50 clients) is bench/serve-load.sh.

ALL_TESTS+=(serve-load)
CKPT_ONLY+="serve-load "

# The server's children, one line
serve_kids() {
	cat "/proc/$SJOB/task/$SJOB/children" 2>/dev/null
}

serve_fds() {
	local f=("/proc/$SJOB/fd/"*)
	echo "${#f[@]}"
}

# The server is back to BASE fds and no child (the last receivers may
# still be logging their end).
serve_settled() {
	local end=$((SECONDS + 60))
	until [[ -z $(serve_kids) && $(serve_fds) == "$1" ]]; do
		((SECONDS < end)) || fail "server not back to $1 fds and no" \
					  "child: $(serve_fds) fds, children" \
					  "$(serve_kids)"
		nap
	done
}

# serve_load NAME OPTION...: serveload.py against the server, D/NAME.log
serve_load() {
	local job log=$D/$1.log
	shift
	(spawn python3 "$TOP/tests/integration/serveload.py" "$PORT" \
		"$D/key" "$D/img" "$SJOB" "$@") </dev/null >"$log" 2>&1 &
	job=$!
	track_job "$job"
	wait_job "$job" 600 || fail "serveload.py still running after 600 s"
	((WST == 0)) || fail "serveload.py: $(grep -m 1 FAIL "$log" ||
					      lastline "$log")"
}

# Every image an honest client of D/NAME.log put is IMAGE, readable;
# the images fetched (D/got/SEED.*) are D/srv/SEED.
check_stored() {
	local name f n
	for name in $(awk '/^honest put/ { sub(":", "", $3); print $3 }' \
		      "$D/$1.log"); do
		cmp -s "$D/img" "$D/srv/$name" || fail "D/srv/$name is not" \
						      "what was sent"
		expect_exit 0 "$CKPT" inspect "$D/srv/$name"
	done
	for f in "$D"/got/*; do
		n=${f##*/}
		cmp -s "$f" "$D/srv/${n%%.*}" ||
			fail "fetched $n is not the stored image"
	done
}

# 12 clients, a third hostile (every kind of serveload.py), through 6
# slots, cut after 10 s (generous for honest clients on a loaded
# machine): every honest image stored whole and readable, every hostile
# client refused with a log line and nothing left of it, the server back
# to its fds and no child, and still serving.
t_serve-load() {
	local base lines hostile
	need "$WLB/counter" "$CKPT"
	start_server --max-clients 6 --client-timeout 10
	grep -q "at most 6 clients at once, cut after 10 s" "$D/serve.log" ||
		fail "serve does not say its limits: $(lastline "$D/serve.log")"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" attach -o "$D/img" "$PID"
	expect_exit 0 "$CKPT" attach -o "$URL/seed" --auth "$D/key" "$PID"
	base=$(serve_fds)
	mkdir -p "$D/got"
	serve_load load clients=12 timeout=10 get=seed out="$D/got"
	hostile=$(grep -c "^hostile" "$D/load.log")
	((hostile >= 7)) || fail "only $hostile hostile clients ran"
	serve_settled "$base"
	check_stored load
	[[ -n $(ls -A "$D/srv" | grep -v '^seed$\|^h[0-9]*$') ]] &&
		fail "D/srv holds more than the honest images: $(ls -A "$D/srv")"
	# one line per refusal, and the deadline named
	lines=$(grep -c ": refused: \| put x[0-9]*-[a-z-]*: failed" \
		"$D/serve.log")
	((lines >= hostile)) ||
		fail "$lines refusals logged for $hostile hostile clients"
	grep -q "refused: no handshake and request within 10 s" \
		"$D/serve.log" || fail "no slow handshake was cut"
	grep -q "put x[0-9]*-slow-stream: failed: cut, no frame for 10 s" \
		"$D/serve.log" || fail "no stalled stream was cut"
	# still serving, both ways
	expect_exit 0 "$CKPT" attach -o "$URL/after" --auth "$D/key" "$PID"
	expect_exit 0 "$CKPT" inspect "$D/srv/after"
	serve_load again clients=4 hostile=0 get=after out="$D/got"
	check_stored again
	serve_settled "$base"
	stop_server
}
