#!/bin/bash
# Benchmark of the image stream stages: dump time with --compress (and
# with --encrypt), and to a local `ckpt serve` over tcp://127.0.0.1, on
# compressible and incompressible memory, as ratios to
# the plain file dump of the same process measured in the same run, rounds
# interleaved (these machines are shared and noisy). The target is dumped
# without --kill, so one process serves every variant of a round.
#
# Environment: BENCH_MIB (512), BENCH_ROUNDS (3).
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-512}
ROUNDS=${BENCH_ROUNDS:-3}
W=$PWD/build/bench/stream
CKPT=$PWD/build/bin/ckpt
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W" || exit 1
cc -O2 -Wall -Wextra -o "$W/fill" bench/fill.c || exit 1
"$CKPT" keygen "$W/key" || exit 1

# a receiver on the loopback only, for the tcp variant
mkdir -p "$W/srv"
for try in 1 2 3 4 5; do
	PORT=$((20000 + RANDOM % 20000))
	"$CKPT" -q serve --listen "127.0.0.1:$PORT" -D "$W/srv" \
		--auth "$W/key" </dev/null >/dev/null 2>&1 &
	pids+=($!)
	disown $!
	sleep 0.5
	kill -0 "${pids[-1]}" 2>/dev/null && break
done
URL=tcp://127.0.0.1:$PORT

start() {
	local kind=$1 end=$((SECONDS + 120)) fd
	rm -f "$W/ready.$kind"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done 2>/dev/null
		exec "$W/fill" "$MIB" "$kind" "$W/ready.$kind"
	) </dev/null >/dev/null 2>&1 &
	pids+=($!)
	disown $!	# no job notice when it is killed at the end
	until [[ -s $W/ready.$kind ]]; do
		((SECONDS < end)) || { echo "bench: $kind not ready" >&2; exit 1; }
		sleep 0.1
	done
	read -r PID <"$W/ready.$kind"
}

# seconds of one dump with the given options
dump() {
	local t0 t1
	rm -f "$W/img"
	t0=$(date +%s.%N)
	"$CKPT" attach "$@" -o "$W/img" "$PID" || exit 1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

# the same to the receiver: the image is in W/srv/img once committed
tcp_dump() {
	local t0 t1
	rm -f "$W/srv/img"
	t0=$(date +%s.%N)
	"$CKPT" attach -o "$URL/img" --auth "$W/key" "$PID" || exit 1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

VARIANTS="plain compress encrypt tcp"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A M=()
printf 'ckpt stream bench: %d MiB, %d rounds\n' "$MIB" "$ROUNDS"
printf '%-8s %-14s %9s %12s\n' memory variant seconds "image MiB"
for kind in random text; do
	start "$kind"
	declare -A T=() S=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for v in $VARIANTS; do
			case $v in
			plain) t=$(dump) ;;
			compress) t=$(dump --compress) ;;
			encrypt) t=$(dump --compress --encrypt "$W/key") ;;
			tcp) t=$(tcp_dump) ;;
			esac
			T[$v]+="$t "
			if [[ $v == tcp ]]; then
				S[$v]=$(stat -c %s "$W/srv/img")
			else
				S[$v]=$(stat -c %s "$W/img")
			fi
		done
	done
	for v in $VARIANTS; do
		# shellcheck disable=SC2086
		m=$(median ${T[$v]})
		M[$kind.$v]=$m
		printf '%-8s %-14s %9.3f %12.1f\n' "$kind" "$v" "$m" \
			"$(awk -v s="${S[$v]}" 'BEGIN { print s / 1048576 }')"
	done
	unset T S
done
echo "(dump ratio: plain file dump time / variant time, same process," \
     "same run; above 1 is faster than plain)"
for kind in random text; do
	for v in ${VARIANTS#plain }; do
		printf 'dump ratio %s %s: %.2f\n' "$kind" "$v" \
			"$(awk -v a="${M[$kind.plain]}" -v b="${M[$kind.$v]}" \
				'BEGIN { print a / b }')"
	done
done
