#!/bin/bash
# Benchmark of restore: a process holding BENCH_MIB (1024) MiB of random
# memory (bench/target.c) dumped once, then per round, in one run:
#   fill     the huge-page bulk fill baseline (bench/tool.c fill huge:
#            2 MiB-aligned MADV_HUGEPAGE + MADV_POPULATE_WRITE + read)
#   restore  restore --detach until the process runs
#   lazy     restore --lazy --detach until the process runs (the pager
#            goes on filling; every restore is verified by the target's
#            own checksum before the next round)
# Medians of BENCH_ROUNDS (3). Not a test: ratios, no pass or fail.
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
W=$PWD/build/bench-restore
CKPT=$PWD/build/bin/ckpt
RESTORE=$PWD/build/bin/restore
IMG=$W/img.ckpt
RPID=

mkdir -p "$W/t" || exit 1
cc -O2 -Wall -Wextra -o "$W/target" bench/target.c || exit 1
cc -O2 -Wall -Wextra -o "$W/tool" bench/tool.c || exit 1

die() { echo "bench: $*" >&2; exit 1; }
trap '[ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null; rm -f "$IMG"' EXIT

until_file() {	# PATH: wait (up to 5 min) until it has something
	local i
	for ((i = 0; i < 6000; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

until_gone() {	# PID
	while [ -d /proc/$1 ] &&
	      [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; do
		sleep 0.05
	done
}

# the image: only 0-2 open in the target
(
	for fd in $(ls /proc/$BASHPID/fd); do
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec "$W/target" "$MIB" "$W/t" </dev/null >/dev/null 2>&1
) &
TPID=$!
disown "$TPID"
until_file "$W/t/ready" || die "the target is not ready"
read -r WANT _ <"$W/t/ready"
"$CKPT" attach --kill -o "$IMG" "$TPID" || die "ckpt attach failed"
until_gone "$TPID"

restored() {	# OPTIONS... -> NS; the process verified and ended
	local out
	rm -f "$W/t/sum"
	out=$("$W/tool" time "$W/out" "$RESTORE" "$@" --detach "$IMG") ||
		die "restore $* failed"
	NS=${out%% *}
	RPID=$(tr -dc 0-9 <"$W/out")
	kill -USR1 "$RPID"
	until_file "$W/t/sum" || die "the restored process did not answer"
	read -r sum _ <"$W/t/sum"
	[ "$sum" = "$WANT" ] || die "restored memory differs after restore $*"
	kill -9 "$RPID"
	until_gone "$RPID"
	RPID=
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
s() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }

echo "restore bench: $MIB MiB of random memory, $ROUNDS rounds, $(nproc) cpus"
printf '%-8s %9s %9s %9s\n' round fill restore lazy
F=() R=() L=()
for ((r = 1; r <= ROUNDS; r++)); do
	out=$("$W/tool" fill "$IMG" "$MIB" huge) || die "fill failed"
	F+=("${out%% *}")
	restored; R+=("$NS")
	restored --lazy; L+=("$NS")
	printf '%-8s %9s %9s %9s\n' "$r" "$(s "${F[-1]}")" "$(s "${R[-1]}")" \
		"$(s "${L[-1]}")"
done
f=$(median "${F[@]}") rr=$(median "${R[@]}") l=$(median "${L[@]}")
printf '%-8s %9s %9s %9s\n' median "$(s "$f")" "$(s "$rr")" "$(s "$l")"
echo "restore / fill: $(awk -v a="$rr" -v b="$f" 'BEGIN { printf "%.2f", a / b }') (target <= 2)"
echo "lazy time to run: $(awk -v a="$l" 'BEGIN { printf "%.1f", a / 1e6 }') ms (target < 50)"
