#!/bin/bash
# Benchmark of restore: a process holding BENCH_MIB (1024) MiB of random
# memory (bench/target.c) dumped once, then per round, in one run:
#   fill     the huge-page bulk fill baseline (bench/tool.c fill huge:
#            2 MiB-aligned MADV_HUGEPAGE + MADV_POPULATE_WRITE + read)
#   collapse the same fill as restore makes it under THP "madvise" mode
#            for memory without THP advice, which it must leave so
#            (bench/tool.c fill collapse: a byte per 2 MiB, MADV_COLLAPSE,
#            read)
#   base     with BENCH_BASE_RESTORE set (the path of another restore
#            program, e.g. an older build), that one's restore --detach,
#            timed in the same rounds for a ratio
#   restore  restore --detach until the process runs
#   lazy     restore --lazy --detach until the process runs (the pager
#            goes on filling; every restore is verified by the target's
#            own checksum before the next round)
#   done     restore --lazy --detach until the pager is gone: every page
#            in place (the process left idle meanwhile)
# Then the same restore and lazy rows for a tree of BENCH_TREE (4)
# processes of BENCH_TREE_MIB (256) MiB each (a root and its children,
# dumped with --tree; every process verified); BENCH_TREE=0 skips it.
# Medians of BENCH_ROUNDS (3). Not a test: ratios, no pass or fail.
set -u

cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
W=$PWD/build/bench-restore
CKPT=$PWD/build/bin/ckpt
RESTORE=$PWD/build/bin/restore
IMG=$W/img.ckpt
TIMG=$W/tree.ckpt
NTREE=${BENCH_TREE:-4}
TMIB=${BENCH_TREE_MIB:-256}
RPID=

mkdir -p "$W/t" && rm -f "$W/t"/* || exit 1	# no ready of an earlier run
cc -O2 -Wall -Wextra -o "$W/target" bench/target.c || exit 1
cc -O2 -Wall -Wextra -o "$W/tool" bench/tool.c || exit 1

die() { echo "bench: $*" >&2; exit 1; }
trap '[ -n "$RPID" ] && kill -9 $RPID 2>/dev/null; rm -f "$IMG" "$TIMG"' EXIT

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

# restored_tree IMAGE DIR... OPTIONS... -> NS: as restored, for every
# process of a tree (PIDs as dumped: TPIDS), each checked against its DIR
restored_tree() {
	local img=$1 d pid i=0 sum want out
	shift
	local dirs=("${@:1:$NDIRS}")
	shift "$NDIRS"
	for d in "${dirs[@]}"; do rm -f "$d/sum"; done
	local t0 pager
	t0=$(date +%s%N)
	out=$("$W/tool" time "$W/out" "$RESTORE" "$@" --detach -v "$img" \
	      2>"$W/err") || die "restore $* $img failed: $(cat "$W/err")"
	NS=${out%% *}
	pager=$(sed -n 's/.*pager \([0-9]*\) serves.*/\1/p' "$W/err")
	[ -n "$pager" ] && until_gone "$pager"
	DONE=$(( $(date +%s%N) - t0 ))
	RPID="${TPIDS[*]}"
	for pid in "${TPIDS[@]}"; do kill -USR1 "$pid"; done
	for d in "${dirs[@]}"; do
		until_file "$d/sum" || die "a restored process did not answer"
		read -r sum _ <"$d/sum"
		read -r want _ <"$d/ready"
		[ "$sum" = "$want" ] ||
			die "restored memory differs after restore $* ($d)"
	done
	kill -9 "${TPIDS[@]}"
	for pid in "${TPIDS[@]}"; do until_free "$pid"; done
	RPID=
}

restored() {	# OPTIONS... -> NS; the process verified and ended
	NDIRS=1 TPIDS=("$TPID")
	restored_tree "$IMG" "$W/t" "$@"
}

until_free() {	# PID: wait (up to 60 s) until it is reaped: free again
	local i
	for ((i = 0; i < 1200; i++)); do
		[ -d /proc/$1 ] || return 0
		sleep 0.05
	done
	die "$1 is not reaped: the next restore can't have it"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
s() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }

echo "restore bench: $MIB MiB of random memory, $ROUNDS rounds, $(nproc) cpus"
BASE=${BENCH_BASE_RESTORE:-}
printf '%-8s %9s %9s %9s %9s %9s %9s\n' round fill collapse restore lazy done \
	"${BASE:+base}"
F=() K=() R=() L=() C=() B=()
for ((r = 1; r <= ROUNDS; r++)); do
	out=$("$W/tool" fill "$IMG" "$MIB" huge) || die "fill failed"
	F+=("${out%% *}")
	out=$("$W/tool" fill "$IMG" "$MIB" collapse) || die "fill failed"
	K+=("${out%% *}")
	restored; R+=("$NS")
	restored --lazy; L+=("$NS") C+=("$DONE")
	if [ -n "$BASE" ]; then
		RESTORE=$BASE restored; B+=("$NS")
	fi
	printf '%-8s %9s %9s %9s %9s %9s %9s\n' "$r" "$(s "${F[-1]}")" \
		"$(s "${K[-1]}")" "$(s "${R[-1]}")" "$(s "${L[-1]}")" \
		"$(s "${C[-1]}")" "${BASE:+$(s "${B[-1]}")}"
done
f=$(median "${F[@]}") k=$(median "${K[@]}") rr=$(median "${R[@]}")
l=$(median "${L[@]}") c=$(median "${C[@]}")
[ -n "$BASE" ] && b=$(median "${B[@]}")
printf '%-8s %9s %9s %9s %9s %9s %9s\n' median "$(s "$f")" "$(s "$k")" \
	"$(s "$rr")" "$(s "$l")" "$(s "$c")" "${BASE:+$(s "$b")}"
echo "restore / fill: $(awk -v a="$rr" -v b="$f" 'BEGIN { printf "%.2f", a / b }') (target <= 2)"
echo "collapse / fill: $(awk -v a="$k" -v b="$f" 'BEGIN { printf "%.2f", a / b }')"
[ -n "$BASE" ] &&
	echo "restore / base: $(awk -v a="$rr" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
echo "lazy time to run: $(awk -v a="$l" 'BEGIN { printf "%.1f", a / 1e6 }') ms (target < 50)"
((NTREE > 0)) || exit 0

# the tree: a root target with NTREE - 1 children targets, all idle
TDIRS=()
for ((i = 0; i < NTREE; i++)); do
	mkdir -p "$W/tree$i" && rm -f "$W/tree$i"/* && TDIRS+=("$W/tree$i")
done
(
	for fd in $(ls /proc/$BASHPID/fd); do
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	for ((i = 1; i < NTREE; i++)); do
		"$W/target" "$TMIB" "$W/tree$i" </dev/null >/dev/null 2>&1 &
	done
	exec "$W/target" "$TMIB" "$W/tree0" </dev/null >/dev/null 2>&1
) &
TROOT=$!
disown "$TROOT"
for d in "${TDIRS[@]}"; do until_file "$d/ready" || die "tree not ready"; done
TPIDS=("$TROOT" $(cat /proc/"$TROOT"/task/*/children))
[ "${#TPIDS[@]}" = "$NTREE" ] || die "the tree has ${#TPIDS[@]} processes"
"$CKPT" attach --tree --kill -o "$TIMG" "$TROOT" || die "ckpt attach --tree failed"
for pid in "${TPIDS[@]}"; do until_free "$pid"; done	# reaped

echo "tree: $NTREE processes of $TMIB MiB"
printf '%-8s %9s %9s %9s\n' round restore lazy done
R=() L=() C=()
for ((r = 1; r <= ROUNDS; r++)); do
	NDIRS=$NTREE
	restored_tree "$TIMG" "${TDIRS[@]}"; R+=("$NS")
	restored_tree "$TIMG" "${TDIRS[@]}" --lazy; L+=("$NS") C+=("$DONE")
	printf '%-8s %9s %9s %9s\n' "$r" "$(s "${R[-1]}")" "$(s "${L[-1]}")" \
		"$(s "${C[-1]}")"
done
rr=$(median "${R[@]}") l=$(median "${L[@]}") c=$(median "${C[@]}")
printf '%-8s %9s %9s %9s\n' median "$(s "$rr")" "$(s "$l")" "$(s "$c")"
echo "tree restore / fill of as much: $(awk -v a="$rr" -v b="$f" -v t=$((NTREE * TMIB)) -v m="$MIB" 'BEGIN { printf "%.2f", a / (b * t / m) }') (target <= 2)"
echo "tree lazy time to run: $(awk -v a="$l" 'BEGIN { printf "%.1f", a / 1e6 }') ms"
