#!/bin/bash
# ckpt serve under hostile load, the full run of issue 18: BENCH_CLIENTS
# clients at once on 127.0.0.1, a third of them hostile (slow senders,
# garbage, wrong keys, replayed handshakes, 4 GiB frame lengths, streams
# cut at random: tests/integration/serveload.py), against a server with
# --max-clients BENCH_MAX_CLIENTS and --client-timeout BENCH_TIMEOUT.
# Honest clients put an image of a BENCH_MIB MiB process (and some get
# one back). Prints the figures: clients served, refused, failed (0 or
# the run fails), peak children of the server, peak fds and RSS of the
# server and its children together, the time taken; then checks that
# every stored image is the one sent, that the server is back to no child
# and its fds of before, and that it still serves.
#
# Environment: BENCH_CLIENTS (50), BENCH_MAX_CLIENTS (16), BENCH_TIMEOUT
# (5), BENCH_MIB (4).
set -u

cd "$(dirname "$0")/.." || exit 1
CLIENTS=${BENCH_CLIENTS:-50}
MAXC=${BENCH_MAX_CLIENTS:-16}
TIMEOUT=${BENCH_TIMEOUT:-5}
MIB=${BENCH_MIB:-4}
W=$PWD/build/bench/serve-load
CKPT=$PWD/build/bin/ckpt
LOAD=$PWD/tests/integration/serveload.py
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null; rm -rf "$W"' EXIT

die() {
	echo "bench: $*" >&2
	exit 1
}

# run CMD... in the background with only fds 0-2 (a dump refuses a pipe
# shared with us); its PID in pids
bg() {
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done 2>/dev/null
		exec "$@"
	) </dev/null >/dev/null 2>>"$W/serve.log" &
	pids+=($!)
	disown $!
}

kids() { cat "/proc/$SPID/task/$SPID/children" 2>/dev/null; }
fds() { local f=("/proc/$SPID/fd/"*); echo "${#f[@]}"; }

rm -rf "$W"
mkdir -p "$W/srv" "$W/got" || exit 1
cc -O2 -Wall -Wextra -o "$W/fill" bench/fill.c || exit 1
"$CKPT" keygen "$W/key" || exit 1
bg "$W/fill" "$MIB" random "$W/ready"
until [[ -s $W/ready ]]; do sleep 0.1; done
read -r FPID <"$W/ready"
"$CKPT" attach -o "$W/img" "$FPID" || die "can't dump the fill process"

for try in 1 2 3 4 5; do
	PORT=$((20000 + RANDOM % 20000))
	bg "$CKPT" serve --listen "127.0.0.1:$PORT" -D "$W/srv" \
		--auth "$W/key" --max-clients "$MAXC" --client-timeout "$TIMEOUT"
	SPID=${pids[-1]}
	sleep 0.5
	kill -0 "$SPID" 2>/dev/null && break
done
kill -0 "$SPID" 2>/dev/null || die "ckpt serve does not start"
"$CKPT" attach -o "tcp://127.0.0.1:$PORT/seed" --auth "$W/key" "$FPID" ||
	die "the first put failed"
base=$(fds)

printf 'ckpt serve load: %d clients, %d hostile, --max-clients %d, ' \
	"$CLIENTS" $(((CLIENTS + 1) / 3)) "$MAXC"
printf -- '--client-timeout %d, %d MiB process image\n' "$TIMEOUT" "$MIB"
t0=$SECONDS
python3 "$LOAD" "$PORT" "$W/key" "$W/img" "$SPID" clients="$CLIENTS" \
	timeout="$TIMEOUT" get=seed out="$W/got" >"$W/load.log" 2>&1
st=$?
t=$((SECONDS - t0))
grep '^FAIL' "$W/load.log"
tail -n 1 "$W/load.log" | awk -v t="$t" '$1 == "clients" {
	printf "%-28s %d\n", "clients", $2
	printf "%-28s %d\n", "served (honest, stored/got)", $4
	printf "%-28s %d\n", "refused (hostile attempts)", $6
	printf "%-28s %d\n", "failed", $8
	printf "%-28s %d\n", "peak children", $10
	printf "%-28s %d\n", "peak fds (server+children)", $12
	printf "%-28s %.1f\n", "peak RSS MiB (same)", $14 / 1024
	printf "%-28s %d\n", "seconds", t }'
((st == 0)) || die "serveload.py failed (seed in $W/load.log)"

# afterwards: the images, the server's children and fds, still serving
for name in $(awk '/^honest put/ { sub(":", "", $3); print $3 }' \
	      "$W/load.log"); do
	cmp -s "$W/img" "$W/srv/$name" || die "$name is not what was sent"
done
for f in "$W"/got/*; do
	n=${f##*/}
	cmp -s "$f" "$W/srv/${n%%.*}" || die "fetched $n is not the image"
done
ls -A "$W/srv" | grep -qv '^seed$\|^h[0-9]*$' &&
	die "the directory holds more than the honest images"
end=$((SECONDS + 60))
until [[ -z $(kids) && $(fds) == "$base" ]]; do
	((SECONDS < end)) || die "server not back to $base fds and no child"
	sleep 0.1
done
"$CKPT" attach -o "tcp://127.0.0.1:$PORT/after" --auth "$W/key" "$FPID" ||
	die "the server does not serve after the load"
echo "server afterwards: no child, $base fds as before, still serving"
