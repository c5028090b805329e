#!/bin/bash
# Benchmark of incremental checkpoints (issue 13 §3): a process holding
# BENCH_MIB (1024) MiB of random memory under `ckpt run --incremental`,
# a full checkpoint first, then BENCH_ROUNDS (3) rounds of: the process
# rewrites BENCH_WRITE_MIB (10) MiB, then an incremental checkpoint.
# Reported per checkpoint: the image's bytes and the time the process was
# frozen, as its own ticker thread saw it (largest gap between two
# wake-ups 1 ms apart); medians of the incremental rounds. BENCH_CKPT
# names another ckpt binary (a build of another commit, to compare in one
# run). Not a test.
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
WMIB=${BENCH_WRITE_MIB:-10}
ROUNDS=${BENCH_ROUNDS:-3}
W=$PWD/build/bench/incr
CKPT=${BENCH_CKPT:-$PWD/build/bin/ckpt}
SUP=

die() {
	echo "bench: $*" >&2
	exit 1
}

cleanup() {
	[ -n "$SUP" ] && kill -TERM "$SUP" 2>/dev/null && wait "$SUP"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_file PATH
wait_file() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	die "no $1 after 60 s"
}

# signal SIG FILE: the target answers SIG with FILE
signal() {
	rm -f "$W/$2"
	kill "-$1" "$TPID"
	wait_file "$W/$2"
}

# checkpoint: one `ckpt dump`, then "BYTES FROZEN_MS" of its image
checkpoint() {
	local img
	signal USR2 gap	# forget the gap so far
	img=$("$CKPT" dump "$W/run") || die "ckpt dump failed"
	signal USR2 gap
	echo "$(stat -c %s "$img") $(awk '{ printf "%.1f", $1 / 1e6 }' "$W/gap")"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

rm -rf "$W"
mkdir -p "$W" || die "can't make $W"
cc -O2 -Wall -Wextra -pthread -o "$W/target" bench/incr-target.c ||
	exit 1
"$CKPT" run -D "$W/run" --incremental=$((ROUNDS + 2)) --keep \
	$((ROUNDS + 2)) -- "$W/target" "$MIB" "$WMIB" "$W" \
	</dev/null >"$W/run.log" 2>&1 &
SUP=$!
wait_file "$W/ready"
TPID=$(pgrep -P "$SUP" -x target) || die "no target under ckpt run"
read -r fbytes fms <<<"$(checkpoint)"
for ((r = 1; r <= ROUNDS; r++)); do
	signal USR1 wrote
	checkpoint
done >"$W/rounds"
ibytes=$(cut -d' ' -f1 "$W/rounds" | median)
ims=$(cut -d' ' -f2 "$W/rounds" | median)
printf '%-34s %14s %12s\n' "incremental, $MIB MiB process" "image bytes" "frozen ms"
printf '%-34s %14s %12s\n' "full checkpoint" "$fbytes" "$fms"
printf '%-34s %14s %12s\n' "after $WMIB MiB written (median of $ROUNDS)" "$ibytes" "$ims"
awk -v b="$ibytes" -v w="$WMIB" 'BEGIN { printf "image / bytes written: %.2f\n", b / (w * 1048576) }'
echo "each incremental round, frozen ms: $(cut -d' ' -f2 "$W/rounds" | tr '\n' ' ')"
