#!/bin/bash
# Benchmark of cross-ISA restart (issue 16, ckpt-cc(1)): for each program
# of tests/xisa built by ckpt cc,
#   - translation time (ckpt translate --to aarch64, median of ROUNDS),
#     per image and per frame, and where it goes (reading the image; the
#     metadata and the binaries' sizes and build ids; the frames and
#     globals; the rest: the heap and writing out, not synced);
#   - the other way: the aarch64 build under qemu-aarch64 checkpointed by
#     its runtime (CKPT_XISA_DUMP, SIGUSR2), ckpt translate --to x86_64
#     (median of ROUNDS), and the same with --sync;
#   - time of ckpt attach --landmark --kill (bring the thread to its next
#     landmark, then dump) beside a plain ckpt attach --kill;
#   - landmark run-time overhead: CPU time of PROG.x86_64 against the same
#     source built by clang -O0 -static without landmarks (x86_64);
#   - binary size overhead against that build;
#   - the program of 4 pthreads (tests/xisa/pthreads.c), checkpointed by
#     its runtime (CKPT_XISA_DUMP, SIGUSR2) on x86_64 and under
#     qemu-aarch64, ROUNDS times each: the time from the SIGUSR2 to
#     every thread at a landmark or waiting in the runtime, and the
#     translation per image and per frame (medians); and ckpt attach
#     --landmark --kill of it on x86_64 beside a plain attach --kill.
# Not a test: figures for the closing note. Environment: BENCH_ROUNDS (5).
# With the argument "threads", the last part only.
set -u

cd "$(dirname "$0")/.." || exit 1
ROUNDS=${BENCH_ROUNDS:-5}
W=$PWD/build/bench/xisa
CKPT=$PWD/build/bin/ckpt
mkdir -p "$W"
PID=

cleanup() {
	[[ -n $PID ]] && kill -9 "$PID" 2>/dev/null
}
trap cleanup EXIT

median() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# cpu PROG ARGS...: its user + system seconds
cpu() {
	local TIMEFORMAT=%U+%S t
	t=$({ time "$@" >/dev/null; } 2>&1 | tail -1)
	echo "$t" | bc
}

# start PROG ARGS...: running, its output in W/out; waits for LINES
start() {
	(
		# no descriptor of ours: ckpt refuses what it shares
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
		done
		exec "$@" </dev/null >"$W/out" 2>/dev/null
	) &
	PID=$!
	while (($(wc -l <"$W/out") < LINES)); do
		kill -0 "$PID" 2>/dev/null || { PID=; return 1; }
		sleep 0.02
	done
}

# attach_ms OPTS...: ms of ckpt attach OPTS -o W/img PID (kills it)
attach_ms() {
	local s e
	s=$(date +%s%N)
	if ! "$CKPT" attach "$@" -o "$W/img" "$PID" >/dev/null 2>&1; then
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		PID=
		return 1
	fi
	e=$(date +%s%N)
	wait "$PID" 2>/dev/null
	PID=
	echo $(((e - s) / 1000000))
}

json() {
	sed -n "s/.*\"$1\":\([0-9.e-]*\).*/\1/p"
}

# threads: the 4 pthreads moved each way, ROUNDS times
threads() {
	local isa to run r
	"$CKPT" cc -o "$W/pthreads" tests/xisa/pthreads.c || exit 1
	printf '\n%-16s %7s %7s %8s %8s %9s\n' direction threads frames \
		stop_ms tr_ms per_frm
	for isa in x86_64 aarch64; do
		[[ $isa == x86_64 ]] && to=aarch64 run= || to=x86_64 \
			run=qemu-aarch64
		for ((r = 0; r < ROUNDS; r++)); do
			rm -f "$W/src.img" "$W/img.t"
			LINES=$((10 + r * 10))
			# shellcheck disable=SC2086
			start env CKPT_XISA_DUMP="$W/src.img" $run \
				"$W/pthreads.$isa" 90 400000 20 || continue
			kill -USR2 "$PID"
			wait "$PID"
			PID=
			"$CKPT" translate --json --to "$to" "$W/src.img" \
				"$W/img.t"
		done >"$W/th.json"
		awk -v d="$isa->$to" \
		    -v t="$(json threads <"$W/th.json" | median)" \
		    -v f="$(json frames <"$W/th.json" | median)" \
		    -v st="$(json stop_seconds <"$W/th.json" | median)" \
		    -v s="$(json seconds <"$W/th.json" | median)" \
		    -v fr="$(json frame_seconds <"$W/th.json" | median)" \
		    'BEGIN { printf "%-16s %7d %7d %8.2f %8.2f %9.3f\n", d, t, f,
			     st * 1000, s * 1000, fr * 1000 / f }'
	done
	attach_threads
}

# attach_threads: ckpt attach --landmark --kill of the 4 pthreads on
# x86_64 (every thread to a landmark or a wait, then the dump) beside a
# plain ckpt attach --kill, medians of ROUNDS
attach_threads() {
	local r p=() l=()
	for ((r = 0; r < ROUNDS; r++)); do
		LINES=$((10 + r * 10))
		start "$W/pthreads.x86_64" 90 400000 20 &&
			p+=("$(attach_ms --kill)")
		start "$W/pthreads.x86_64" 90 400000 20 &&
			l+=("$(attach_ms --kill --landmark=60000)")
	done
	printf '%-16s plain %s ms, --landmark %s ms\n' "x86_64 attach" \
		"$(printf '%s\n' "${p[@]}" | median)" \
		"$(printf '%s\n' "${l[@]}" | median)"
}

if [[ ${1:-} == threads ]]; then
	threads
	exit 0
fi

printf '%-9s %6s %9s %8s %8s %8s %8s %9s %8s %8s %7s %7s %7s %7s\n' \
	program frames heap_KiB tr_ms read meta frames per_frm attach_ms \
	lm_ms run_ovh size_ovh back_ms sync_ms
while read -r name lines args; do
	src=tests/xisa/$name.c
	"$CKPT" cc -o "$W/$name" "$src" || exit 1
	clang -O0 -static -fno-pic -o "$W/$name.plain" "$src" -lm ||
		exit 1
	LINES=$lines
	# shellcheck disable=SC2086
	start "$W/$name.x86_64" $args || { echo "$name: ended early"; continue; }
	plain=$(attach_ms --kill) || { echo "$name: attach failed"; continue; }
	# shellcheck disable=SC2086
	start "$W/$name.x86_64" $args || { echo "$name: ended early"; continue; }
	lm=$(attach_ms --kill --landmark=60000) ||
		{ echo "$name: attach --landmark failed"; continue; }
	# each to a new file: a rename over a file ext4 has not yet written
	# out (the previous round's) makes it write it first (auto_da_alloc)
	for ((r = 0; r < ROUNDS; r++)); do
		rm -f "$W/img.a64"
		"$CKPT" translate --json --to aarch64 "$W/img" "$W/img.a64"
	done >"$W/tr.json"
	rm -f "$W/src.img"
	# shellcheck disable=SC2086
	start env CKPT_XISA_DUMP="$W/src.img" qemu-aarch64 \
		"$W/$name.aarch64" $args || { echo "$name: ended early"; continue; }
	kill -USR2 "$PID"
	wait "$PID"
	PID=
	back=$(for ((r = 0; r < ROUNDS; r++)); do
		rm -f "$W/img.x86"
		"$CKPT" translate --json --to x86_64 "$W/src.img" "$W/img.x86"
	done | json seconds | median)
	bsync=$(for ((r = 0; r < ROUNDS; r++)); do
		rm -f "$W/img.x86"
		"$CKPT" translate --json --sync --to x86_64 "$W/src.img" \
			"$W/img.x86"
	done | json seconds | median)
	sec=$(json seconds <"$W/tr.json" | median)
	frames=$(json frames <"$W/tr.json" | head -1)
	heap=$(json heap_bytes <"$W/tr.json" | head -1)
	rd=$(json read_seconds <"$W/tr.json" | median)
	me=$(json meta_seconds <"$W/tr.json" | median)
	fr=$(json frame_seconds <"$W/tr.json" | median)
	# shellcheck disable=SC2086
	a=$(for ((r = 0; r < 3; r++)); do cpu "$W/$name.x86_64" $args; done |
		median)
	# shellcheck disable=SC2086
	b=$(for ((r = 0; r < 3; r++)); do cpu "$W/$name.plain" $args; done |
		median)
	sa=$(stat -c %s "$W/$name.x86_64")
	sb=$(stat -c %s "$W/$name.plain")
	awk -v n="$name" -v f="$frames" -v h="$heap" -v s="$sec" -v rd="$rd" \
	    -v me="$me" -v fr="$fr" -v p="$plain" -v l="$lm" -v a="$a" \
	    -v b="$b" -v sa="$sa" -v sb="$sb" -v bk="$back" -v bs="$bsync" \
	    'BEGIN {
		fmt = "%-9s %6d %9.0f %8.2f %8.2f %8.2f %8.2f %9.3f %8d %8d"
		fmt = fmt " %6.0f%% %6.1f%% %7.2f %7.2f\n"
		printf fmt, n, f, h / 1024, s * 1000,
		       rd * 1000, me * 1000, fr * 1000, fr * 1000 / f, p, l,
		       (b > 0 ? (a / b - 1) * 100 : 0), (sa / sb - 1) * 100,
		       bk * 1000, bs * 1000 }'
done <<'LIST'
nqueens 30 13
isort 5 262144 30 100000
cg 20 50000 120 30000
hash 40 300
stackptr 300 2000
fp 25 150 40000
LIST
threads
