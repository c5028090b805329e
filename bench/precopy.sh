#!/bin/bash
# Benchmark of the freeze of a pre-copy dump (ckpt attach --pre-copy,
# without --kill: the process runs on): a process holding BENCH_MIB MiB
# (1024) that rewrites BENCH_RATE MiB/s of it (tests/workloads/migmem.c;
# rows for each rate in BENCH_RATES, "0 50": 0 is a mostly idle process,
# which only reads). Two figures per attach: the time ckpt counts the
# process frozen (attach --json's frozen_seconds) and the largest gap
# between two of the process's own 10 ms ticks (migmem's D/gap, since
# it was ready: what the process saw, the freeze and whatever else held
# it up). With BENCH_BEFORE (another build's ckpt, e.g. of the branch
# this one started from) each round measures both, in alternating order,
# a fresh process each time, and the last lines give the ratios of the
# medians (before / this build). The memory is checked whole after each
# attach (migmem at D/stop).
#
# Environment: BENCH_MIB, BENCH_RATES, BENCH_ROUNDS (3), B (the build
# directory, build), BENCH_BEFORE.
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
RATES=${BENCH_RATES:-0 50}
ROUNDS=${BENCH_ROUNDS:-3}
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
WL=$B/tests/workloads/migmem
W=$(mktemp -d /tmp/bench-precopy.XXXXXX)
wl=

cleanup() {
	[[ -n $wl ]] && kill -9 "$wl" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap "exit 1" INT TERM

die() {
	echo "bench/precopy.sh: $*" >&2
	exit 1
}

CKPTS=("$B/bin/ckpt")
NAMES=(this)
if [[ -n ${BENCH_BEFORE-} ]]; then
	CKPTS=("$BENCH_BEFORE" "$B/bin/ckpt")
	NAMES=(before this)
fi
for c in "${CKPTS[@]}" "$WL"; do
	[[ -x $c ]] || die "$c: build first (make all $WL)"
done

. bench/migmem-lib.sh

# pc_one CKPT RATE: one attach; prints "FROZEN_MS GAP_MS"
pc_one() {
	local d=$W/run$RANDOM frozen
	mkdir "$d"
	(cd "$d" && closed "$WL" "$MIB" "$2") </dev/null >>"$d/out.log" 2>&1 &
	wl=$!
	wait_for "$d/ready" . 600
	sleep 3		# the rate settles
	frozen=$("$1" attach --pre-copy --json -o "$d/img" "$(cat "$d/ready")" \
		 2>"$d/attach.log" |
		 sed -n 's/.*"frozen_seconds": *\([0-9.]*\).*/\1/p')
	[[ -n $frozen ]] || die "attach: $(tail -n 1 "$d/attach.log")"
	sleep 0.5	# a gap after the thaw counts too
	touch "$d/stop"
	wait_for "$d/out.log" "migmem: .* checked" 600
	grep -q FAIL "$d/out.log" && die "$(grep -m 1 FAIL "$d/out.log")"
	wait "$wl" 2>/dev/null
	wl=
	awk -v f="$frozen" -v g="$(cat "$d/gap")" \
	    'BEGIN { printf "%.0f %.0f\n", f * 1000, g / 1000 }'
	rm -rf "$d"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf 'attach --pre-copy of %d MiB, %d rounds (ms)\n' "$MIB" "$ROUNDS"
printf '%-6s %-6s %-6s %9s %9s\n' rate round ckpt frozen gap
for rate in $RATES; do
	declare -A F=() G=()
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < ${#CKPTS[@]}; k++)); do
			i=$(((k + r) % ${#CKPTS[@]}))	# alternating order
			read -r f g < <(pc_one "${CKPTS[i]}" "$rate") || exit 1
			[[ -n ${f-} ]] || exit 1
			F[$i]+="$f "
			G[$i]+="$g "
			printf '%-6s %-6s %-6s %9s %9s\n' "$rate" $((r + 1)) \
			       "${NAMES[i]}" "$f" "$g"
		done
	done
	for ((i = 0; i < ${#CKPTS[@]}; i++)); do
		mf[i]=$(median ${F[$i]})
		mg[i]=$(median ${G[$i]})
		printf '%-6s %-6s %-6s %9s %9s\n' "$rate" median "${NAMES[i]}" \
		       "${mf[i]}" "${mg[i]}"
	done
	if ((${#CKPTS[@]} == 2)); then
		awk -v a="${mf[0]}" -v b="${mf[1]}" -v c="${mg[0]}" \
		    -v d="${mg[1]}" -v r="$rate" 'BEGIN {
			printf "rate %s: frozen before/this %.2f, gap before/this %.2f\n",
			       r, a / (b ? b : 1), c / (d ? d : 1) }'
	fi
	unset F G
done
