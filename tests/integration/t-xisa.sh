# t-xisa.sh - cross-ISA restart (issue 16): a program built by ckpt cc
# for x86_64 and aarch64, checkpointed on x86_64 at a landmark (attach
# --landmark), translated (ckpt translate --to aarch64) and resumed under
# qemu-aarch64 by its own runtime; its output must be byte for byte that
# of an uninterrupted native run. Skipped (SKIP) only without qemu-aarch64
# or the aarch64 toolchain, which make deps installs.  Sourced by run.sh.

ALL_TESTS+=(xisa-nqueens xisa-refused xisa-mismatch xisa-isort xisa-cg
	   xisa-hash xisa-stackptr xisa-fp xisa-threads xisa-back-nqueens
	   xisa-back-heap xisa-roundtrip xisa-back-refused
	   xisa-back-bound xisa-tls xisa-pthreads xisa-pthreads-refused
	   xisa-pthreads-bound xisa-attach-pthreads xisa-signals
	   xisa-killed-ckpt xisa-job-stop)
CKPT_ONLY+="xisa-nqueens xisa-refused xisa-mismatch xisa-isort xisa-cg "
CKPT_ONLY+="xisa-hash xisa-stackptr xisa-fp xisa-threads "
CKPT_ONLY+="xisa-back-nqueens xisa-back-heap xisa-roundtrip "
CKPT_ONLY+="xisa-back-refused xisa-back-bound xisa-tls "
CKPT_ONLY+="xisa-pthreads xisa-pthreads-refused xisa-pthreads-bound "
CKPT_ONLY+="xisa-attach-pthreads xisa-signals xisa-killed-ckpt "
CKPT_ONLY+="xisa-job-stop "

XISA_SRC=$TOP/tests/xisa/nqueens.c
# the program xisa_start runs: D/XISA_PROG.x86_64 XISA_ARGS
XISA_PROG=nq
XISA_ARGS=(12 2000)

xisa_need() {
	local t
	for t in qemu-aarch64 aarch64-linux-gnu-gcc clang; do
		command -v "$t" >/dev/null || skip "no $t (make deps)"
	done
	[[ -e $B/lib/ckpt-cc/rt.aarch64.o ]] || skip "ckpt cc's aarch64" \
		"runtime was not built (no cross toolchain at build time)"
	need "$CKPT" "$B/bin/ckpt-cc"
}

# xisa_build NAME SOURCE: ckpt cc -o D/NAME SOURCE
xisa_build() {
	# two builds and the LLVM pass: over 60 s at load 19
	EXPECT_SECS=300 expect_exit 0 "$CKPT" cc -o "$D/$1" "$2"
	[[ -x $D/$1.x86_64 && -x $D/$1.aarch64 && -s $D/$1.xisa ]] ||
		fail "ckpt cc made no $1.x86_64, $1.aarch64 and $1.xisa"
}

# xisa_lines FILE: its number of lines (0 if missing)
xisa_lines() {
	if [[ -e $1 ]]; then wc -l <"$1"; else echo 0; fi
}

# xisa_ref PAUSE PROGRAM: D/ref, PROGRAM's output with XISA_ARGS but
# argument PAUSE (0 the first) 0. A pause only gives a dump time to catch
# the program; its output is the same without, a whole run of waiting
# less (6 s of fp's).
xisa_ref() {
	local args=("${XISA_ARGS[@]}")
	args[$1]=0
	"$2" "${args[@]}" >"$D/ref"
}

# xisa_start: D/XISA_PROG.x86_64 running, its output in D/part1
# (unbuffered: the runtime of ckpt cc programs sees to it)
xisa_start() {
	(spawn "$D/$XISA_PROG.x86_64" "${XISA_ARGS[@]}") </dev/null \
		>"$D/part1" \
		2>>"$D/out.log" &
	JOB=$!
	PID=$JOB
	track_job "$JOB"
	track_pid "$PID"
}

# xisa_wait_lines N: until D/part1 has N lines, XISA_PROG running
xisa_wait_lines() {
	xisa_until part1 "$1"
}

# xisa_qemu FILE ENV...: D/XISA_PROG.aarch64 XISA_ARGS started under
# qemu-aarch64 with the environment ENV, its output in D/FILE; JOB, PID
xisa_qemu() {
	local out=$1
	shift
	(spawn env "$@" qemu-aarch64 "$D/$XISA_PROG.aarch64" \
		"${XISA_ARGS[@]}") </dev/null >"$D/$out" 2>>"$D/restore.log" &
	JOB=$!
	PID=$JOB
	track_job "$JOB"
	track_pid "$PID"
}

# xisa_until FILE N: until D/FILE has N lines, JOB running
xisa_until() {
	local end=$((SECONDS + 300)) have
	while have=$(xisa_lines "$D/$1"); ((have < $2)); do
		job_done "$JOB" && fail "$XISA_PROG ended before $2 lines"
		((SECONDS < end)) || fail "$XISA_PROG stuck at $have lines"
		nap
	done
}

# xisa_self_dump: SIGUSR2 to JOB, run with CKPT_XISA_DUMP=D/src.img: its
# runtime writes the image at its next landmark and exits 0
xisa_self_dump() {
	kill -USR2 "$PID"
	wait_job "$JOB" 300 || fail "$XISA_PROG still running 300 s after" \
				    "SIGUSR2"
	((WST == 0)) || fail "the checkpointed aarch64 side exited $WST:" \
			     "$(lastline "$D/restore.log")"
	[[ -s $D/src.img && ! -e $D/src.img.tmp ]] ||
		fail "the runtime wrote no whole image"
}

# xisa_native FILE: D/src.img translated to x86_64 and resumed natively,
# its output in D/FILE
xisa_native() {
	expect_exit 0 "$CKPT" translate --json --to x86_64 "$D/src.img" \
		"$D/img.x86"
	cat "$D/cmd.out" >>"$D/translate.json"
	(spawn env CKPT_XISA_RESUME="$D/img.x86" "$D/$XISA_PROG.x86_64" \
		"${XISA_ARGS[@]}") </dev/null >"$D/$1" 2>>"$D/restore.log" &
	RJOB=$!
	track_job "$RJOB"
	wait_job "$RJOB" 120 || fail "the x86_64 side still running"
	((WST == 0)) || fail "the x86_64 side exited $WST:" \
			     "$(lastline "$D/restore.log")"
}

# xisa_back LINES: XISA_PROG's aarch64 build under qemu-aarch64
# checkpointed by its runtime at its first landmark after LINES lines,
# translated to x86_64 and resumed natively: the two parts must make
# D/ref.
xisa_back() {
	rm -f "$D/src.img" "$D/img.x86" "$D/part1" "$D/part2"
	xisa_qemu part1 CKPT_XISA_DUMP="$D/src.img"
	xisa_until part1 "$1"
	xisa_self_dump
	xisa_native part2
	cat "$D/part1" "$D/part2" | cmp -s - "$D/ref" ||
		fail "after $1 lines: aarch64 then x86_64 output differs" \
		     "from the native run ($(xisa_lines "$D/part1") +" \
		     "$(xisa_lines "$D/part2") lines)"
}

# xisa_refused ISA IMAGE OUT WHY: ckpt translate --to ISA IMAGE OUT
# refused with one line saying WHY, OUT not written
xisa_refused() {
	expect_exit 70 "$CKPT" translate --to "$1" "$2" "$3"
	one_line_err "translate"
	grep -q "$4" "$D/cmd.err" || fail "translate: $(cat "$D/cmd.err")"
	[[ -e $3 ]] && fail "a refused translate left ${3##*/}"
	return 0
}

# xisa_moment LINES: checkpoint XISA_PROG at its first landmark after LINES lines
# of output, translate, resume under qemu-aarch64; the two parts must make
# the uninterrupted output D/ref.
xisa_moment() {
	local want=$1
	rm -f "$D/img" "$D/img.a64" "$D/part1" "$D/part2"
	xisa_start
	xisa_wait_lines "$want"
	DUMP_OPTS=(--landmark=60000)
	dump_kill
	expect_exit 0 "$CKPT" translate --json --to aarch64 "$D/img" \
		"$D/img.a64"
	cat "$D/cmd.out" >>"$D/translate.json"
	xisa_qemu part2 CKPT_XISA_RESUME="$D/img.a64"
	wait_job "$JOB" 600 || fail "the aarch64 side still running" \
				    "after 600 s"
	((WST == 0)) || fail "the aarch64 side exited $WST:" \
			     "$(lastline "$D/restore.log")"
	[[ -s $D/part2 ]] || fail "nothing printed on aarch64"
	cat "$D/part1" "$D/part2" | cmp -s - "$D/ref" ||
		fail "after $want lines: x86_64 then aarch64 output differs" \
		     "from the native run ($(xisa_lines "$D/part1") +" \
		     "$(xisa_lines "$D/part2") lines)"
}

# N-queens (recursive, a pointer to main's board in every frame) moved to
# aarch64 at three moments: near its start, in its middle, near its end.
t_xisa-nqueens() {
	local n
	xisa_need
	cc -O2 -o "$D/native" "$XISA_SRC" || fail "can't build the native run"
	"$D/native" "${XISA_ARGS[@]}" >"$D/ref" || fail "the native run failed"
	xisa_build nq "$XISA_SRC"
	n=$(xisa_lines "$D/ref")
	xisa_moment 1
	xisa_moment $((n / 3))
	xisa_moment $((n * 2 / 3))
}

# xisa_carried NAME ARGS...: tests/xisa/NAME.c built by ckpt cc and
# moved to aarch64 after its first line, a third and two thirds of its
# output; each time the two parts must make the output of an
# uninterrupted run of its x86_64 build. With a heap (malloc, strdup,
# mmap) that the translated image carries at its addresses.
xisa_carried() {
	local n
	xisa_need
	XISA_PROG=$1
	shift
	XISA_ARGS=("$@")
	xisa_build "$XISA_PROG" "$TOP/tests/xisa/$XISA_PROG.c"
	xisa_ref $((${#XISA_ARGS[@]} - 1)) "$D/$XISA_PROG.x86_64" ||
		fail "the uninterrupted run failed"
	n=$(xisa_lines "$D/ref")
	xisa_moment 1
	xisa_moment $((n / 3))
	xisa_moment $((n * 2 / 3))
	grep -q '"heap_bytes":[1-9]' "$D/translate.json" ||
		fail "no heap carried: $(cat "$D/translate.json")"
}

# The integer sort of NAS IS: keys and ranks in malloc'd arrays, keys
# made by NAS's randlc in doubles (0.1 s pauses between iterations).
t_xisa-isort() {
	xisa_carried isort 262144 30 100000
}

# A conjugate gradient (NAS CG style): a sparse matrix in compressed rows
# on the heap, doubles live across landmarks (30 ms pauses between
# iterations: under load its last third outran the dump).
t_xisa-cg() {
	xisa_carried cg 50000 120 30000
}

# A hash table calling function pointers it keeps on the heap, with heap
# lists of strdup'd keys (10 ms pauses: in a CI run the program was over
# before the dump at two thirds had it).
t_xisa-hash() {
	xisa_carried hash 300 10000
}

# Pointers to stack locals held in frames, a global and the heap (1 ms
# pauses: on an idle machine the run was over before two thirds were caught).
t_xisa-stackptr() {
	xisa_carried stackptr 2000 1000
}

# doubles, floats and a vector of two doubles live across landmarks,
# the bodies in an mmap'd array (40 ms pauses: emulated floating point is
# slow, the native run too quick to catch at a third).
t_xisa-fp() {
	xisa_carried fp 150 40000
}

# attach --landmark on a program ckpt cc did not build is refused with
# one line; the program runs on. translate refuses an image that is not
# at a landmark.
t_xisa-refused() {
	local try
	xisa_need
	need "$WLB/counter-static"
	start_wl "$WLB/counter-static"
	wait_count_above 3 60 "$JOB"
	expect_exit 70 "$CKPT" attach --landmark -o "$D/img" "$PID"
	one_line_err "attach --landmark"
	grep -q "was not built by ckpt cc" "$D/cmd.err" ||
		fail "no reason given: $(cat "$D/cmd.err")"
	refused_runs_on
	xisa_build nq "$XISA_SRC"
	# a dump at a random moment may, rarely, find the thread at a
	# landmark, and that image translates: dump again (at most 5 times)
	for try in 1 2 3 4 5; do
		rm -f "$D/img" "$D/img.a64"
		xisa_start
		xisa_wait_lines 1
		expect_exit 0 "$CKPT" attach --kill -o "$D/img" "$PID"
		wait_job "$JOB" 60 || fail "can't reap the killed nq"
		"$CKPT" translate --to aarch64 "$D/img" "$D/img.a64" \
			>"$D/cmd.out" 2>"$D/cmd.err"
		(($? == 0)) || break
		((try < 5)) || fail "five dumps of nq, each at a landmark"
	done
	xisa_refused aarch64 "$D/img" "$D/img.a64" "is not at a landmark"
}

# Metadata that is not that of the executables is refused, by attach
# --landmark and by translate, and the runtime refuses a translated image
# of another program; so is an executable replaced beside its metadata.
t_xisa-mismatch() {
	xisa_need
	printf 'int main(void) { return 0; }\n' >"$D/other.c"
	xisa_build other "$D/other.c"
	xisa_build nq "$XISA_SRC"
	xisa_start
	xisa_wait_lines 1
	DUMP_OPTS=(--landmark=60000)
	dump_kill
	cp "$D/nq.xisa" "$D/nq.xisa.good"
	cp "$D/other.xisa" "$D/nq.xisa"
	xisa_refused aarch64 "$D/img" "$D/img.a64" "does not match"
	xisa_start
	xisa_wait_lines 1
	expect_exit 70 "$CKPT" attach --landmark -o "$D/img2" "$PID"
	one_line_err "attach --landmark"
	stopped "$PID" && fail "target left stopped (state $ST)"
	kill -9 "$PID"
	cp "$D/nq.xisa.good" "$D/nq.xisa"
	expect_exit 0 "$CKPT" translate --to aarch64 "$D/img" "$D/img.a64"
	expect_exit 70 env CKPT_XISA_RESUME="$D/img.a64" qemu-aarch64 \
		"$D/other.aarch64"
	grep -q "translated for another executable" "$D/cmd.err" ||
		fail "runtime: $(cat "$D/cmd.err")"
	# an executable built again (another build id) beside the metadata
	rm -f "$D/img.a64"
	cp "$D/nq.aarch64" "$D/nq.aarch64.good"
	cp "$D/other.aarch64" "$D/nq.aarch64"
	xisa_refused aarch64 "$D/img" "$D/img.a64" "does not match"
	cp "$D/nq.aarch64.good" "$D/nq.aarch64"
}

# attach --landmark of a ckpt cc program of 3 threads whose main waits
# for a line in libc, at no landmark (tests/xisa/tblocked.c), with a
# bound of 500 ms: refused in one line naming main's thread, no image,
# and every thread runs on: once its line comes its output is that of
# an uninterrupted run.
t_xisa-threads() {
	local fd
	xisa_need
	XISA_PROG=tblocked
	xisa_build tblocked "$TOP/tests/xisa/tblocked.c"
	echo 7 | "$D/tblocked.x86_64" >"$D/ref" ||
		fail "the uninterrupted run failed"
	mkfifo "$D/in"
	exec {fd}<>"$D/in"
	(spawn "$D/tblocked.x86_64") <"$D/in" >"$D/part1" 2>>"$D/out.log" &
	JOB=$!
	PID=$JOB
	track_job "$JOB"
	track_pid "$PID"
	xisa_until part1 5
	expect_exit 70 "$CKPT" attach --landmark=500 --kill -o "$D/img" "$PID"
	one_line_err "attach --landmark"
	grep -q "thread $PID of $PID did not reach a landmark within 500 ms" \
		"$D/cmd.err" || fail "no reason given: $(cat "$D/cmd.err")"
	[[ -e $D/img ]] && fail "a refused dump left an image"
	stopped "$PID" && fail "threads left stopped (state $ST)"
	echo 7 >&"$fd"
	exec {fd}>&-
	wait_job "$JOB" 120 || fail "tblocked still running: threads left" \
				    "stopped?"
	((WST == 0)) || fail "tblocked exited $WST: $(lastline "$D/out.log")"
	cmp -s "$D/part1" "$D/ref" || fail "a refused dump altered tblocked"
}

# N-queens moved from aarch64 (under qemu-aarch64, checkpointed by its
# own runtime on SIGUSR2) to x86_64 at three moments; resumed natively,
# its output is that of an uninterrupted native run.
t_xisa-back-nqueens() {
	local n
	xisa_need
	XISA_ARGS=(11)	# qemu takes 2 s, 13 queens a minute
	cc -O2 -o "$D/native" "$XISA_SRC" || fail "can't build the native run"
	"$D/native" "${XISA_ARGS[@]}" >"$D/ref" || fail "the native run failed"
	xisa_build nq "$XISA_SRC"
	n=$(xisa_lines "$D/ref")
	xisa_back 1
	xisa_back $((n / 3))
	xisa_back $((n * 2 / 3))
}

# Programs with a carried heap moved from aarch64 to x86_64: the hash
# table of function pointers and strdup'd keys, pointers to stack locals
# kept in frames, globals and the heap, the NAS style integer sort.
t_xisa-back-heap() {
	local prog n
	xisa_need
	for prog in "hash 300" "stackptr 2000" "isort 65536 12 100000"; do
		read -r -a XISA_ARGS <<<"$prog"
		XISA_PROG=${XISA_ARGS[0]}
		XISA_ARGS=("${XISA_ARGS[@]:1}")
		xisa_build "$XISA_PROG" "$TOP/tests/xisa/$XISA_PROG.c"
		"$D/$XISA_PROG.x86_64" "${XISA_ARGS[@]}" >"$D/ref" ||
			fail "the uninterrupted run of $XISA_PROG failed"
		n=$(xisa_lines "$D/ref")
		xisa_back $((n / 2))
	done
	grep -q '"heap_bytes":[1-9]' "$D/translate.json" ||
		fail "no heap carried: $(cat "$D/translate.json")"
}

# Round trips: N-queens checkpointed on x86_64 (attach
# --landmark), resumed under qemu-aarch64, checkpointed there by the
# runtime, resumed on x86_64 again: the three parts make the output of an
# uninterrupted native run.
t_xisa-roundtrip() {
	local prog n
	xisa_need
	for prog in "nq 12 2000"; do
		read -r -a XISA_ARGS <<<"$prog"
		XISA_PROG=${XISA_ARGS[0]}
		XISA_ARGS=("${XISA_ARGS[@]:1}")
		[[ $XISA_PROG == nq ]] && XISA_SRC=$TOP/tests/xisa/nqueens.c ||
			XISA_SRC=$TOP/tests/xisa/$XISA_PROG.c
		xisa_build "$XISA_PROG" "$XISA_SRC"
		"$D/$XISA_PROG.x86_64" "${XISA_ARGS[@]}" >"$D/ref" ||
			fail "the uninterrupted run of $XISA_PROG failed"
		n=$(xisa_lines "$D/ref")
		rm -f "$D/img" "$D/img.a64" "$D/src.img" "$D/part"[123]
		xisa_start
		xisa_wait_lines $((n / 4))
		DUMP_OPTS=(--landmark=60000)
		dump_kill
		expect_exit 0 "$CKPT" translate --to aarch64 "$D/img" \
			"$D/img.a64"
		xisa_qemu part2 CKPT_XISA_RESUME="$D/img.a64" \
			CKPT_XISA_DUMP="$D/src.img"
		# a few lines on aarch64: qemu is slow, the rest far away
		xisa_until part2 $((n / 20 + 1))
		xisa_self_dump
		xisa_native part3
		cat "$D/part1" "$D/part2" "$D/part3" | cmp -s - "$D/ref" ||
			fail "$XISA_PROG: x86_64, aarch64, x86_64 output" \
			     "differs from an uninterrupted run" \
			     "($(xisa_lines "$D/part1") +" \
			     "$(xisa_lines "$D/part2") +" \
			     "$(xisa_lines "$D/part3") lines)"
	done
}

# The runtime's checkpointer, unable to write its image (no such
# directory), says so on stderr and the program runs on unaltered, its
# output whole; a cut source image is refused by translate with one line
# and nothing written.
t_xisa-back-refused() {
	local n
	xisa_need
	xisa_build nq "$XISA_SRC"
	"$D/nq.x86_64" "${XISA_ARGS[@]}" >"$D/ref" ||
		fail "the uninterrupted run failed"
	n=$(xisa_lines "$D/ref")
	xisa_qemu part1 CKPT_XISA_DUMP="$D/none/src.img"
	xisa_until part1 $((n / 3))
	kill -USR2 "$PID"
	wait_job "$JOB" 300 || fail "nq still running after 300 s"
	((WST == 0)) || fail "nq exited $WST: $(lastline "$D/restore.log")"
	grep -q "ckpt-xisa: $D/none/src.img: No such file" "$D/restore.log" ||
		fail "no reason given: $(cat "$D/restore.log")"
	cmp -s "$D/part1" "$D/ref" || fail "a failed checkpoint altered nq"
	xisa_qemu part1 CKPT_XISA_DUMP="$D/src.img"
	xisa_until part1 $((n / 3))
	xisa_self_dump
	head -c -100 "$D/src.img" >"$D/cut.img"
	xisa_refused x86_64 "$D/cut.img" "$D/img.x86" \
		"not a whole source image"
}

# The runtime's checkpointer asked (SIGUSR2) while the program is blocked
# reading its standard input: no landmark within CKPT_XISA_LANDMARK_MS,
# the checkpoint fails with one line, no image is written, and the
# program runs on untouched once its line comes: its output is that of
# an uninterrupted run.
t_xisa-back-bound() {
	xisa_bound blocked aarch64
}

# xisa_bound NAME ISA: tests/xisa/NAME.c built by ckpt cc, which waits
# for a line on its standard input after 5 lines, its ISA build run
# (aarch64: under qemu-aarch64) with CKPT_XISA_DUMP and a bound of 500
# ms, sent SIGUSR2: the bound passes, one line says so, no image is
# written, and once its line comes its output is that of an
# uninterrupted run.
xisa_bound() {
	local fd end run=()
	xisa_need
	XISA_PROG=$1
	xisa_build "$1" "$TOP/tests/xisa/$1.c"
	echo 7 | "$D/$1.x86_64" >"$D/ref" ||
		fail "the uninterrupted run failed"
	[[ $2 == aarch64 ]] && run=(qemu-aarch64)
	mkfifo "$D/in"
	exec {fd}<>"$D/in"
	(spawn env CKPT_XISA_DUMP="$D/src.img" CKPT_XISA_LANDMARK_MS=500 \
		"${run[@]}" "$D/$1.$2") <"$D/in" >"$D/part1" \
		2>"$D/restore.log" &
	JOB=$!
	PID=$JOB
	track_job "$JOB"
	track_pid "$PID"
	xisa_until part1 5
	kill -USR2 "$PID"
	end=$((SECONDS + 120))
	until grep -q "no landmark reached within 500 ms" "$D/restore.log"; do
		job_done "$JOB" && fail "$XISA_PROG ended: $(cat "$D/restore.log")"
		((SECONDS < end)) || fail "no word of the bound after 120 s"
		nap
	done
	(($(wc -l <"$D/restore.log") == 1)) ||
		fail "more than one line: $(cat "$D/restore.log")"
	echo 7 >&"$fd"
	exec {fd}>&-
	wait_job "$JOB" 120 || fail "$XISA_PROG still running: threads" \
				    "left stopped?"
	((WST == 0)) || fail "$XISA_PROG exited $WST:" \
			     "$(lastline "$D/restore.log")"
	[[ -e $D/src.img || -e $D/src.img.tmp ]] &&
		fail "a failed checkpoint left an image"
	cmp -s "$D/part1" "$D/ref" ||
		fail "a failed checkpoint altered $XISA_PROG"
}

# Thread-local variables (tests/xisa/tls.c: counters, a generator's
# state, an array, a function's static __thread) live across landmarks,
# moved x86_64 -> aarch64 at two moments and aarch64 -> x86_64 at one:
# the parts make the output of an uninterrupted run of a native build.
# A thread-local variable named as one of libc's is refused by ckpt cc.
# (0.2 s a line: at load 19 the run, at 80 ms, was over before a dump at
# two thirds had it.)
t_xisa-tls() {
	local n
	xisa_need
	XISA_PROG=tls
	XISA_ARGS=(30 200000)
	xisa_build tls "$TOP/tests/xisa/tls.c"
	cc -O2 -o "$D/native" "$TOP/tests/xisa/tls.c" ||
		fail "can't build the native run"
	xisa_ref 1 "$D/native" || fail "the native run failed"
	n=$(xisa_lines "$D/ref")
	xisa_moment $((n / 3))
	xisa_moment $((n * 2 / 3))
	xisa_back $((n / 2))
	printf 'static __thread int tcache;\nint main(void) { return tcache; }\n' \
		>"$D/libcname.c"
	expect_exit 1 "$CKPT" cc -o "$D/libcname" "$D/libcname.c"
	grep -q "tcache: another thread-local variable (libc's)" "$D/cmd.err" ||
		fail "ckpt cc: $(cat "$D/cmd.err")"
}

# xisa_fwd LINES: XISA_PROG's x86_64 build checkpointed by its own
# runtime (CKPT_XISA_DUMP, natively) at its first landmark after LINES
# lines, translated to aarch64 and resumed under qemu-aarch64: the two
# parts must make D/ref.
xisa_fwd() {
	rm -f "$D/src.img" "$D/img.a64" "$D/part1" "$D/part2"
	(spawn env CKPT_XISA_DUMP="$D/src.img" "$D/$XISA_PROG.x86_64" \
		"${XISA_ARGS[@]}") </dev/null >"$D/part1" 2>>"$D/restore.log" &
	JOB=$!
	PID=$JOB
	track_job "$JOB"
	track_pid "$PID"
	xisa_until part1 "$1"
	xisa_self_dump
	expect_exit 0 "$CKPT" translate --json --to aarch64 "$D/src.img" \
		"$D/img.a64"
	cat "$D/cmd.out" >>"$D/translate.json"
	xisa_qemu part2 CKPT_XISA_RESUME="$D/img.a64"
	wait_job "$JOB" 600 || fail "the aarch64 side still running"
	((WST == 0)) || fail "the aarch64 side exited $WST:" \
			     "$(lastline "$D/restore.log")"
	cat "$D/part1" "$D/part2" | cmp -s - "$D/ref" ||
		fail "after $1 lines: x86_64 then aarch64 output differs" \
		     "from the native run ($(xisa_lines "$D/part1") +" \
		     "$(xisa_lines "$D/part2") lines)"
}

# xisa_pthreads PAUSE_MS: tests/xisa/pthreads.c built by ckpt cc (45
# rounds, PAUSE_MS each), D/ref its uninterrupted native output, n its
# number of lines
xisa_pthreads() {
	xisa_need
	XISA_PROG=pthreads
	XISA_ARGS=(45 200000 "$1")
	xisa_build pthreads "$TOP/tests/xisa/pthreads.c"
	cc -O2 -pthread -o "$D/native" "$TOP/tests/xisa/pthreads.c" ||
		fail "can't build the native run"
	xisa_ref 2 "$D/native" || fail "the native run failed"
	n=$(xisa_lines "$D/ref")
}

# The program of 4 pthreads (tests/xisa/pthreads.c: workers adding to a
# total under a mutex, waiting on a condition variable for each round,
# main joining them, one ending by pthread_exit, each counting its rounds
# in a thread-local variable) checkpointed by its
# runtime with every thread at a landmark or waiting in a mutex, a
# condition or a join: moved x86_64 -> aarch64 (under qemu-aarch64) and
# aarch64 -> x86_64 at two moments each, and x86_64 -> aarch64 -> x86_64
# from a third; the parts make the output of an uninterrupted native
# run. Every image holds the 5 threads.
t_xisa-pthreads() {
	local n m
	xisa_pthreads 20
	for m in 1 $((n * 2 / 3)); do
		xisa_fwd "$m"
		xisa_back "$m"
	done
	# a round trip: x86_64, aarch64 (resumed, checkpointed again), x86_64
	xisa_fwd $((n / 4)) &&
		cp "$D/part1" "$D/first" && rm -f "$D/src.img" "$D/part1" &&
		xisa_qemu part1 CKPT_XISA_RESUME="$D/img.a64" \
			CKPT_XISA_DUMP="$D/src.img" &&
		xisa_until part1 $((n / 4)) && xisa_self_dump &&
		xisa_native part2
	cat "$D/first" "$D/part1" "$D/part2" | cmp -s - "$D/ref" ||
		fail "x86_64, aarch64, x86_64 output differs from the native" \
		     "run"
	(($(grep -c '"threads":5,' "$D/translate.json") == 6)) ||
		fail "not 5 threads in each image: $(cat "$D/translate.json")"
}

# The runtime's checkpointer asked (SIGUSR2) while two threads take
# turns at a mutex and main waits in libc for its standard input (no
# landmark): the threads stop at theirs or wait in the mutex, the bound
# (CKPT_XISA_LANDMARK_MS) passes, it says so in one line, writes no
# image, and every thread runs on: once its line comes the program ends
# as an uninterrupted run does.
t_xisa-pthreads-bound() {
	xisa_bound tblocked x86_64
}

# ckpt cc refuses a program using a thread function whose state is
# libc's (pthread_self, a read-write lock...), naming it; a thread
# created with attributes is refused at run time (EINVAL).
t_xisa-pthreads-refused() {
	xisa_need
	printf '#include <pthread.h>\nint main(void) { return pthread_self() == 0; }\n' \
		>"$D/self.c"
	expect_exit 1 "$CKPT" cc -o "$D/self" "$D/self.c"
	grep -q "pthread_self: its state would be libc's" "$D/cmd.err" ||
		fail "ckpt cc: $(cat "$D/cmd.err")"
	printf '%s\n' '#include <pthread.h>' '#include <stdio.h>' \
		'static void *f(void *a) { return a; }' \
		'static pthread_attr_t a;' 'int main(void) { pthread_t t;' \
		'pthread_attr_init(&a);' \
		'printf("%d\n", pthread_create(&t, &a, f, 0)); return 0; }' \
		>"$D/attr.c"
	xisa_build attr "$D/attr.c"
	[[ $("$D/attr.x86_64") == 22 ]] ||
		fail "a thread with attributes was not refused (EINVAL)"
}

# The program of 4 pthreads (xisa-pthreads' tests/xisa/pthreads.c,
# slower rounds) checkpointed by attach --landmark --kill: every thread
# run on to a landmark or to a wait in the runtime's mutex, condition or
# join, at three moments; translated to aarch64 and resumed under
# qemu-aarch64, the parts make the output of an uninterrupted native
# run, and each image holds the 5 threads. From a fourth moment a round
# trip: resumed on aarch64, checkpointed there by the runtime, resumed
# natively on x86_64.
t_xisa-attach-pthreads() {
	local n m
	xisa_pthreads 60
	for m in 1 $((n / 3)) $((n * 2 / 3)); do
		xisa_moment "$m"
	done
	(($(grep -c '"threads":5,' "$D/translate.json") == 3)) ||
		fail "not 5 threads in each image: $(cat "$D/translate.json")"
	rm -f "$D/img" "$D/img.a64" "$D/part1" "$D/src.img"
	xisa_start
	xisa_wait_lines $((n / 2))
	DUMP_OPTS=(--landmark=60000)
	dump_kill
	expect_exit 0 "$CKPT" translate --to aarch64 "$D/img" "$D/img.a64"
	mv "$D/part1" "$D/first"
	xisa_qemu part1 CKPT_XISA_RESUME="$D/img.a64" CKPT_XISA_DUMP="$D/src.img"
	xisa_until part1 2
	xisa_self_dump
	xisa_native part2
	cat "$D/first" "$D/part1" "$D/part2" | cmp -s - "$D/ref" ||
		fail "x86_64, aarch64, x86_64 output differs from the native" \
		     "run"
}

# xisa_sig PID FILE...: a SIGUSR1 and a SIGHUP to PID for each "wants
# signal" line of the FILEs beyond the XISA_SENT sent; then, until the
# line after it comes, no more (the handler has run: none in flight)
xisa_sig() {
	local pid=$1 w n
	shift
	w=$(cat "$@" | grep -c wants)
	((w > XISA_SENT)) || return 0
	n=$(cat "$@" | wc -l)
	kill -USR1 "$pid" && kill -HUP "$pid" || return 0
	XISA_SENT=$((XISA_SENT + 1))
	while (($(cat "$@" | wc -l) <= n)); do
		job_done "$JOB" && return 0
		nap
	done
}

# xisa_sig_until FILE N: JOB's lines fed (xisa_sig) until FILE has N
xisa_sig_until() {
	local end=$((SECONDS + 300))
	while (($(xisa_lines "$D/$1") < $2)); do
		job_done "$JOB" && fail "$XISA_PROG ended before $2 lines"
		((SECONDS < end)) || fail "$XISA_PROG stuck before $2 lines"
		xisa_sig "$PID" "$D/$1"
		nap
	done
	xisa_sig "$PID" "$D/$1"
}

# xisa_resume_fifo IMAGE: D/IMAGE written into the FIFO D/resume, which
# JOB resumes from: once it is read, JOB's runtime holds signals until
# the program's actions are in place (it blocks them before it opens it)
xisa_resume_fifo() {
	timeout 300 cat "$D/$1" >"$D/resume" ||
		fail "the resumed side did not read its image"
}

# xisa_sig_end FILE...: JOB fed (xisa_sig) until it ends, exit 0
xisa_sig_end() {
	local end=$((SECONDS + 600)) f=("${@/#/$D/}")
	until job_done "$JOB"; do
		((SECONDS < end)) || fail "$XISA_PROG still running after 600 s"
		xisa_sig "$PID" "${f[@]}"
		nap
	done
	wait_job "$JOB" 30
	((WST == 0)) || fail "$XISA_PROG exited $WST:" \
			     "$(lastline "$D/restore.log")"
}

# Signal actions carried (tests/xisa/sigcount.c: a handler counting
# SIGUSR1s, installed by sigaction with SA_RESTART and a mask, SIGHUP
# ignored; the output depends on the count): a SIGUSR1 and a SIGHUP sent
# at each of its "wants signal" lines before and after the move, x86_64
# -> aarch64 by attach --landmark, aarch64 -> x86_64 by the runtime's
# checkpointer; the parts make the output of an uninterrupted native run
# fed the same signals. A handler on an alternate stack (SA_ONSTACK) is
# refused by name, and so is a blocked signal.
t_xisa-signals() {
	local n end
	xisa_need
	XISA_PROG=sigcount
	XISA_ARGS=(30 200000)
	xisa_build sigcount "$TOP/tests/xisa/sigcount.c"
	mkfifo "$D/resume"
	cc -O2 -o "$D/native" "$TOP/tests/xisa/sigcount.c" ||
		fail "can't build the native run"
	(spawn "$D/native" "${XISA_ARGS[@]}") </dev/null >"$D/ref" \
		2>>"$D/out.log" &
	JOB=$!
	PID=$JOB
	track_job "$JOB"
	XISA_SENT=0
	xisa_sig_end ref
	grep -q "usr1: handler ours, restart 1, hup masked 1" "$D/ref" &&
		grep -q "hup: ignored" "$D/ref" ||
		fail "the native run: $(tail -2 "$D/ref")"
	n=$(xisa_lines "$D/ref")

	# x86_64 -> aarch64, attach --landmark
	rm -f "$D/img" "$D/img.a64" "$D/part1" "$D/part2"
	: >"$D/part1"
	xisa_start
	XISA_SENT=0
	xisa_sig_until part1 $((n / 2))
	DUMP_OPTS=(--landmark=60000)
	dump_kill
	expect_exit 0 "$CKPT" translate --to aarch64 "$D/img" "$D/img.a64"
	xisa_qemu part2 CKPT_XISA_RESUME="$D/resume"
	xisa_resume_fifo img.a64
	xisa_sig_end part1 part2
	cat "$D/part1" "$D/part2" | cmp -s - "$D/ref" ||
		fail "x86_64 then aarch64 output differs from the native run"

	# aarch64 -> x86_64, the runtime's checkpointer
	rm -f "$D/src.img" "$D/img.x86" "$D/part1" "$D/part2"
	: >"$D/part1"
	xisa_qemu part1 CKPT_XISA_DUMP="$D/src.img"
	XISA_SENT=0
	xisa_sig_until part1 $((n / 2))
	xisa_self_dump
	expect_exit 0 "$CKPT" translate --to x86_64 "$D/src.img" "$D/img.x86"
	(spawn env CKPT_XISA_RESUME="$D/resume" "$D/sigcount.x86_64" \
		"${XISA_ARGS[@]}") </dev/null >"$D/part2" 2>>"$D/restore.log" &
	JOB=$!
	PID=$JOB
	track_job "$JOB"
	xisa_resume_fifo img.x86
	xisa_sig_end part1 part2
	cat "$D/part1" "$D/part2" | cmp -s - "$D/ref" ||
		fail "aarch64 then x86_64 output differs from the native run"

	# SA_ONSTACK: refused by name
	printf '%s\n' '#include <signal.h>' '#include <stdio.h>' \
		'#include <time.h>' 'static void h(int s) { (void)s; }' \
		'int main(void) { struct sigaction sa = { 0 };' \
		'struct timespec ms = { 0, 1000000 };' \
		'sa.sa_handler = h; sa.sa_flags = SA_ONSTACK;' \
		'sigaction(SIGUSR1, &sa, 0); printf("ready\n");' \
		'for (;;) nanosleep(&ms, 0); }' >"$D/onstack.c"
	xisa_build onstack "$D/onstack.c"
	XISA_PROG=onstack
	XISA_ARGS=()
	rm -f "$D/img" "$D/img.a64"
	xisa_start
	xisa_wait_lines 1
	dump_kill
	xisa_refused aarch64 "$D/img" "$D/img.a64" \
		"signal 10 (User defined signal 1).*(SA_ONSTACK): not carried"

	# a thread blocking a signal at its landmark: refused, naming it
	printf '%s\n' '#include <signal.h>' '#include <stdio.h>' \
		'#include <time.h>' 'int main(void) { sigset_t s;' \
		'struct timespec ms = { 0, 1000000 };' \
		'sigemptyset(&s); sigaddset(&s, SIGUSR1);' \
		'sigprocmask(SIG_BLOCK, &s, 0); printf("ready\n");' \
		'for (;;) nanosleep(&ms, 0); }' >"$D/masked.c"
	xisa_build masked "$D/masked.c"
	XISA_PROG=masked
	rm -f "$D/img"
	xisa_start
	xisa_wait_lines 1
	dump_kill
	xisa_refused aarch64 "$D/img" "$D/img.a64" \
		"thread $PID of $PID blocks signals (0x200): not carried yet"

	# the same under the runtime's checkpointer (aarch64, whose image
	# has no place for them): it says so, writes nothing and runs on
	rm -f "$D/src.img"
	xisa_qemu part1 CKPT_XISA_DUMP="$D/src.img"
	xisa_wait_lines 1
	kill -USR2 "$PID"
	end=$((SECONDS + 120))
	until grep -q "a thread has signals blocked or pending.*running on" \
		"$D/restore.log"; do
		job_done "$JOB" && fail "masked ended after SIGUSR2:" \
					"$(lastline "$D/restore.log")"
		((SECONDS < end)) || fail "no refusal 120 s after SIGUSR2"
		nap
	done
	[[ ! -e $D/src.img ]] || fail "the runtime wrote an image"
	job_done "$JOB" && fail "masked does not run on"
	kill -KILL "$PID"
}

# xisa_killed POINT...: for each fault point, attach --landmark of
# XISA_PROG killed there (SIGKILL, CKPT_FAULT) after its first line; the
# program must run on, untraced, to the end of an uninterrupted run's
# output (D/ref) and exit 0, whatever breakpoints ckpt left in its text.
xisa_killed() {
	local pt
	for pt; do
		rm -f "$D/img" "$D/part1"
		xisa_start
		xisa_wait_lines 1
		CKPT_FAULT=$pt expect_exit 137 "$CKPT" attach --landmark=60000 \
			-o "$D/img" "$PID"
		wait_job "$JOB" 300 || fail "$XISA_PROG still running 300 s" \
					    "after ckpt died at $pt"
		((WST == 0)) || fail "$XISA_PROG exited $WST after ckpt died" \
				     "at $pt"
		cmp -s "$D/part1" "$D/ref" ||
			fail "after ckpt died at $pt: the output differs from" \
			     "an uninterrupted run ($(xisa_lines "$D/part1")" \
			     "of $(xisa_lines "$D/ref") lines)"
	done
}

# ckpt attach --landmark killed by SIGKILL while the breakpoints are in
# the program's text: once they are set, once a thread stopped on one,
# before and after ckpt took its registers (the others running on, in
# the program of 4 pthreads) and once they are gone again. The runtime of ckpt cc programs takes away the
# breakpoints it meets (cc/rt-heal.c) and the programs end as an
# uninterrupted run.
t_xisa-killed-ckpt() {
	xisa_need
	cc -O2 -o "$D/native" "$XISA_SRC" || fail "can't build the native run"
	"$D/native" "${XISA_ARGS[@]}" >"$D/ref" || fail "the native run failed"
	xisa_build nq "$XISA_SRC"
	xisa_killed landmark-set landmark-stopped landmark-hit landmark-unset
	xisa_pthreads 20
	xisa_killed landmark-set landmark-stopped landmark-hit
}

# xisa_left_stopped WHY: attach --landmark refused (70) in one line
# saying WHY, no image; every thread of XISA_PROG stopped and untraced
# until SIGCONT, then it ends as an uninterrupted run.
xisa_left_stopped() {
	local tid
	one_line_err "attach --landmark"
	grep -q "$1" "$D/cmd.err" || fail "attach: $(cat "$D/cmd.err")"
	no_image "a refused attach --landmark"
	for tid in /proc/"$PID"/task/*; do
		tid=${tid##*/}
		wait_until_stopped "$tid"
		grep -q '^TracerPid:[[:space:]]*0$' "/proc/$PID/task/$tid/status" ||
			fail "thread $tid is still traced"
	done
	kill -CONT "$PID"
	wait_job "$JOB" 300 || fail "$XISA_PROG still running 300 s after" \
				    "SIGCONT"
	((WST == 0)) || fail "$XISA_PROG exited $WST after SIGCONT"
	cmp -s "$D/part1" "$D/ref" ||
		fail "the output differs from an uninterrupted run"
}

# wait_until_stopped TID: thread TID in a stop (t, T) within 30 s
wait_until_stopped() {
	local end=$((SECONDS + 30)) s
	while :; do
		s=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' \
			"/proc/$PID/task/$1/status" 2>/dev/null)
		[[ $s == [tT] ]] && return 0
		((SECONDS < end)) || fail "thread $1 not stopped (state $s)"
		nap
	done
}

# A job-control stop is the program's own: attach --landmark refuses a
# program already stopped (running it to a landmark would continue it),
# and one that a SIGSTOP stops on its way to its landmarks (4 pthreads;
# ckpt held at its fault point landmark-set meanwhile) is left stopped,
# not dumped. Once continued, each ends as an uninterrupted run.
t_xisa-job-stop() {
	local ck
	xisa_need
	cc -O2 -o "$D/native" "$XISA_SRC" || fail "can't build the native run"
	"$D/native" "${XISA_ARGS[@]}" >"$D/ref" || fail "the native run failed"
	xisa_build nq "$XISA_SRC"
	xisa_start
	xisa_wait_lines 1
	kill -STOP "$PID"
	wait_until_stopped "$PID"
	expect_exit 70 "$CKPT" attach --landmark=60000 -o "$D/img" "$PID"
	xisa_left_stopped "is stopped (SIGSTOP)"
	xisa_pthreads 20
	xisa_start
	xisa_wait_lines 1
	(CKPT_FAULT=landmark-set:stop spawn "$CKPT" attach --landmark=60000 \
		-o "$D/img" "$PID") </dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	ck=$!
	track_job "$ck"
	local end=$((SECONDS + 60))
	until stopped "$ck"; do
		job_done "$ck" && fail "attach ended before its fault point:" \
				       "$(cat "$D/cmd.err")"
		((SECONDS < end)) || fail "attach never reached landmark-set"
		nap
	done
	kill -STOP "$PID"
	kill -CONT "$ck"
	wait_job "$ck" 60 || fail "attach still running after SIGCONT"
	((WST == 70)) || fail "attach: exit $WST, want 70: $(cat "$D/cmd.err")"
	xisa_left_stopped "was stopped by SIGSTOP on its way to a landmark"
}
