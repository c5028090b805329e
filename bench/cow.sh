#!/bin/bash
# Benchmark of the downtime of a dump that lets the process run on, by
# mode: a plain `ckpt attach`, `--pre-copy` and `--cow`, in one run. The
# process holds BENCH_MIB MiB (1024) and rewrites BENCH_RATE MiB/s of
# it (tests/workloads/migmem.c; a row for each rate of BENCH_RATES, "0
# 50": 0 is a mostly idle process, which only reads). Per attach: the
# time ckpt counts the process frozen (attach --json's frozen_seconds)
# and the largest gap between two of the process's own 10 ms ticks
# (migmem's D/gap: what the process saw, both freezes of --cow
# included), and the whole dump's wall time. Each round runs the modes
# in turn, in a rotating order, a fresh process each time; the last
# lines give the medians. migmem checks its memory whole after each.
#
# Environment: BENCH_MIB, BENCH_RATES, BENCH_ROUNDS (1), B (build).
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
RATES=${BENCH_RATES:-0 50}
ROUNDS=${BENCH_ROUNDS:-1}
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
CKPT=$B/bin/ckpt
WL=$B/tests/workloads/migmem
W=$(mktemp -d /tmp/bench-cow.XXXXXX)
MODES=(plain --pre-copy --cow)
wl=

die() {
	echo "bench/cow.sh: $*" >&2
	exit 1
}
# the migmem running (wl), the work directory: gone at the end
trap '[[ -n $wl ]] && kill -9 "$wl" 2>/dev/null; wait; rm -rf "$W"' EXIT
trap "exit 1" INT TERM

for c in "$CKPT" "$WL"; do
	[[ -x $c ]] || die "$c: build first (make all $WL)"
done

. bench/migmem-lib.sh

# cow_attach MODE RATE: one dump of a fresh migmem; "FROZEN GAP WALL" (ms)
cow_attach() {
	local d=$W/$RANDOM opt=() t0 t1 json
	[[ $1 == plain ]] || opt=("$1")
	mkdir "$d"
	(cd "$d" && closed "$WL" "$MIB" "$2") </dev/null >>"$d/out.log" 2>&1 &
	wl=$!
	wait_for "$d/ready" . 600
	sleep 3		# the rate settles
	t0=$(date +%s%N)
	json=$("$CKPT" attach "${opt[@]}" --json -o "$d/img" \
	       "$(cat "$d/ready")" 2>"$d/attach.log") ||
		die "attach $1: $(tail -n 1 "$d/attach.log")"
	t1=$(date +%s%N)
	sleep 0.5	# a gap after the thaw (the snapshot's end) counts too
	touch "$d/stop"
	wait_for "$d/out.log" "migmem: .* checked" 600
	grep -q FAIL "$d/out.log" && die "$1: $(grep -m 1 FAIL "$d/out.log")"
	wait "$wl" 2>/dev/null
	wl=
	sed -n 's/.*"frozen_seconds": *\([0-9.]*\).*/\1/p' <<<"$json" |
		awk -v g="$(cat "$d/gap")" -v w=$(((t1 - t0) / 1000000)) \
		    '{ printf "%.0f %.0f %d\n", $1 * 1000, g / 1000, w }'
	rm -rf "$d"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf 'attach of %d MiB without --kill, %d round(s), ms\n' "$MIB" "$ROUNDS"
printf '%-5s %-5s %-11s %7s %7s %7s\n' rate round mode frozen gap wall
for rate in $RATES; do
	declare -A F=() G=() T=()
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < ${#MODES[@]}; k++)); do
			m=${MODES[(k + r) % ${#MODES[@]}]}
			read -r f g t < <(cow_attach "$m" "$rate")
			[[ -n ${t-} ]] || exit 1
			F[$m]+="$f " G[$m]+="$g " T[$m]+="$t "
			printf '%-5s %-5s %-11s %7s %7s %7s\n' "$rate" \
			       $((r + 1)) "$m" "$f" "$g" "$t"
		done
	done
	for m in "${MODES[@]}"; do
		printf '%-5s %-5s %-11s %7s %7s %7s\n' "$rate" median "$m" \
		       "$(median ${F[$m]})" "$(median ${G[$m]})" \
		       "$(median ${T[$m]})"
	done
	unset F G T
done
