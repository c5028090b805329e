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
# With BENCH_INCR=1, an incremental attach instead (issue 13 §3): an
# `attach --track` first, then after BENCH_WRITE_MIB (10) MiB written at
# the rate (one in four pages anywhere, the rest in turn) the measured
# `attach --parent` of it, which takes the tracking over; its image's
# bytes are shown too (the gap then is the larger of the two attaches':
# the --track one is a full dump).
#
# Environment: BENCH_MIB, BENCH_RATES, BENCH_ROUNDS (3), B (the build
# directory, build), BENCH_BEFORE, BENCH_INCR, BENCH_WRITE_MIB.
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
RATES=${BENCH_RATES:-0 50}
ROUNDS=${BENCH_ROUNDS:-3}
INCR=${BENCH_INCR:-0}
WMIB=${BENCH_WRITE_MIB:-10}
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

# pc_attach CKPT D PID: the measured attach's options, after what it needs
pc_attach() {
	if ((INCR == 0)); then
		echo --pre-copy
		return
	fi
	"$1" attach --track -o "$2/full" "$3" 2>"$2/track.log" ||
		die "attach --track: $(tail -n 1 "$2/track.log")"
	sleep "$(awk -v w="$WMIB" -v r="$RATE" 'BEGIN { print r ? w / r : 1 }')"
	echo --parent "$2/full"
}

# pc_one CKPT RATE: one attach; prints "FROZEN_MS GAP_MS IMAGE_BYTES"
pc_one() {
	local d=$W/run$RANDOM frozen opts pid bytes
	mkdir "$d"
	(cd "$d" && closed "$WL" "$MIB" "$2") </dev/null >>"$d/out.log" 2>&1 &
	wl=$!
	wait_for "$d/ready" . 600
	sleep 3		# the rate settles
	pid=$(cat "$d/ready")
	opts=$(RATE=$2 pc_attach "$1" "$d" "$pid") || exit 1
	# shellcheck disable=SC2086 # the options, split
	frozen=$("$1" attach $opts --json -o "$d/img" "$pid" \
		 2>"$d/attach.log" |
		 sed -n 's/.*"frozen_seconds": *\([0-9.]*\).*/\1/p')
	[[ -n $frozen ]] || die "attach: $(tail -n 1 "$d/attach.log")"
	bytes=$(stat -c %s "$d/img")
	sleep 0.5	# a gap after the thaw counts too
	touch "$d/stop"
	wait_for "$d/out.log" "migmem: .* checked" 600
	grep -q FAIL "$d/out.log" && die "$(grep -m 1 FAIL "$d/out.log")"
	wait "$wl" 2>/dev/null
	wl=
	awk -v f="$frozen" -v g="$(cat "$d/gap")" -v b="$bytes" \
	    'BEGIN { printf "%.1f %.0f %s\n", f * 1000, g / 1000, b }'
	rm -rf "$d"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

what="attach --pre-copy"
((INCR)) && what="attach --parent after $WMIB MiB written, --track before"
printf '%s of %d MiB, %d rounds (ms)\n' "$what" "$MIB" "$ROUNDS"
printf '%-6s %-6s %-6s %9s %9s %12s\n' rate round ckpt frozen gap bytes
for rate in $RATES; do
	declare -A F=() G=() Y=()
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < ${#CKPTS[@]}; k++)); do
			i=$(((k + r) % ${#CKPTS[@]}))	# alternating order
			read -r f g y < <(pc_one "${CKPTS[i]}" "$rate") || exit 1
			[[ -n ${f-} ]] || exit 1
			F[$i]+="$f "
			G[$i]+="$g "
			Y[$i]+="$y "
			printf '%-6s %-6s %-6s %9s %9s %12s\n' "$rate" $((r + 1)) \
			       "${NAMES[i]}" "$f" "$g" "$y"
		done
	done
	for ((i = 0; i < ${#CKPTS[@]}; i++)); do
		mf[i]=$(median ${F[$i]})
		mg[i]=$(median ${G[$i]})
		printf '%-6s %-6s %-6s %9s %9s %12s\n' "$rate" median \
		       "${NAMES[i]}" "${mf[i]}" "${mg[i]}" "$(median ${Y[$i]})"
	done
	if ((${#CKPTS[@]} == 2)); then
		awk -v a="${mf[0]}" -v b="${mf[1]}" -v c="${mg[0]}" \
		    -v d="${mg[1]}" -v r="$rate" 'BEGIN {
			printf "rate %s: frozen before/this %.2f, gap before/this %.2f\n",
			       r, a / (b ? b : 1), c / (d ? d : 1) }'
	fi
	unset F G Y
done
