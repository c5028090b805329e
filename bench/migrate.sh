#!/bin/bash
# Benchmark of live migration (ckpt migrate): the downtime of a process
# holding BENCH_MIB MiB (1024) that rewrites BENCH_RATE MiB/s (50) of it,
# moved between two network namespaces of this machine (a veth pair),
# the receiver (ckpt serve --restore) in a PID namespace of its own.
# Downtime is measured by the process itself: the largest gap between two
# of its 10 ms ticks (tests/workloads/migmem.c, D/gap), which spans the
# freeze on the source, the transfer of what remains and the restore on
# the receiver. Also the wall time of the whole migrate. Rows: the plain
# restore and --lazy, BENCH_ROUNDS (1) each; the memory is checked whole
# after each migration. Needs root, ip, nsenter, unshare.
#
# Environment: BENCH_MIB, BENCH_RATE (0: a mostly idle process, which
# only reads), BENCH_ROUNDS, BENCH_MODES ("restore lazy": the rows of
# a round), B (the build directory, build); BENCH_LOG set: what each
# pre-copy round sent, on stderr.
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
RATE=${BENCH_RATE:-50}
ROUNDS=${BENCH_ROUNDS:-1}
MODES=${BENCH_MODES:-restore lazy}
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
CKPT=$B/bin/ckpt
WL=$B/tests/workloads/migmem
W=$(mktemp -d /tmp/bench-migrate.XXXXXX)
NA=migrate-bench-a$$
NB=migrate-bench-b$$
NET=10.237.$(($$ % 250 + 1))
PORT=7600
srv=
wl=

cleanup() {
	[[ -n $wl ]] && kill -9 "$wl" 2>/dev/null
	[[ -n $srv ]] && kill -9 "$srv" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap "exit 1" INT TERM

die() {
	echo "bench/migrate.sh: $*" >&2
	exit 1
}

[[ -x $CKPT && -x $WL ]] || die "build first: make all $WL"
ip netns add "$NA" && ip netns add "$NB" &&
ip link add "mba$$" type veth peer name "mbb$$" &&
ip link set "mba$$" netns "$NA" && ip link set "mbb$$" netns "$NB" &&
ip -n "$NA" addr add "$NET.1/24" dev "mba$$" &&
ip -n "$NB" addr add "$NET.2/24" dev "mbb$$" &&
ip -n "$NA" link set "mba$$" up && ip -n "$NB" link set "mbb$$" up &&
ip -n "$NA" link set lo up && ip -n "$NB" link set lo up ||
	die "can't make the namespaces"

"$CKPT" keygen "$W/key" || die "keygen failed"
mkdir -m 700 "$W/srv"
V=-v
[[ -n ${BENCH_LOG-} ]] && V="-v -v"
nsenter --net="/run/netns/$NB" unshare --pid --fork --kill-child \
	--mount-proc "$CKPT" $V serve --listen "$NET.2:$PORT" -D "$W/srv" \
	--auth "$W/key" --restore </dev/null >"$W/serve.log" 2>&1 &
srv=$!
until grep -qs serving "$W/serve.log"; do
	kill -0 "$srv" 2>/dev/null || die "serve: $(tail -n 1 "$W/serve.log")"
	sleep 0.1
done

. bench/migmem-lib.sh

# breakdown LOG...: the "stamp WHAT at MS ms" lines of the logs (ckpt -v -v)
# in time order, each as ms after the last pre-copy round (the freeze
# follows) and since the one before
breakdown() {
	sed -n 's/.*: stamp \(.*\) at \([0-9.]*\) ms.*/\2 \1/p' "$@" | sort -n |
		awk '/rounds done/ && !f { f = $1 } { l[NR] = $0; t[NR] = $1 }
		     END { for (i = 1; i <= NR; i++) if (f && t[i] >= f) {
			s = l[i]; sub(/^[^ ]* /, "", s)
			printf "  %8.1f ms %+8.1f  %s\n", t[i] - f,
			       t[i] - (p ? p : f), s; p = t[i] } }'
}

# one OPTION...: a migration; prints "DOWNTIME_MS WALL_S"
one() {
	local d=$W/run$RANDOM t0 t1 lines from
	mkdir "$d"
	(cd "$d" && closed nsenter --net="/run/netns/$NA" "$WL" "$MIB" "$RATE") \
		</dev/null >>"$d/out.log" 2>&1 &
	wl=$!
	wait_for "$d/ready" . 600
	sleep 3		# the rate settles, a gap is measured
	from=$(wc -l <"$W/serve.log")
	t0=$(date +%s.%N)
	nsenter --net="/run/netns/$NA" "$CKPT" $V migrate --auth "$W/key" \
		"$@" "$(cat "$d/ready")" "tcp://$NET.2:$PORT/img" \
		>"$d/migrate.log" 2>&1 ||
		die "migrate: $(tail -n 1 "$d/migrate.log")"
	[[ -n ${BENCH_LOG-} ]] && grep "pre-copy round [0-9]" "$d/migrate.log" >&2 &&
		breakdown "$d/migrate.log" <(tail -n +$((from + 1)) "$W/serve.log") >&2
	t1=$(date +%s.%N)
	wait "$wl" 2>/dev/null
	wl=
	lines=$(wc -l <"$d/count")
	until (($(wc -l <"$d/count") > lines + 50)); do sleep 0.1; done
	touch "$d/stop"
	wait_for "$d/out.log" "migmem: .* checked" 600
	grep -q FAIL "$d/out.log" && die "$(grep -m 1 FAIL "$d/out.log")"
	awk -v g="$(cat "$d/gap")" -v a="$t0" -v b="$t1" 'BEGIN { print int(g / 1000), b - a }'
	rm -f "$W/srv/img"
}

printf '%-10s %14s %12s\n' mode downtime_ms migrate_s
for ((r = 0; r < ROUNDS; r++)); do
	for m in $MODES; do
		read -r dt wall < <(one $([[ $m = lazy ]] && echo --lazy)) ||
			exit 1
		printf '%-10s %14d %12.2f\n' "$m" "$dt" "$wall"
	done
done
echo "($MIB MiB, rewriting $RATE MiB/s; target: downtime under 100 ms)"
