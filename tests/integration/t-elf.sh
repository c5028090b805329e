# t-elf.sh - what ckpt reads with ELF and DWARF: the symbols of a live
# process (ckpt sym), the call stacks in an image (ckpt inspect), and the
# core files of ckpt convert, which gdb must open.  Sourced by run.sh.

ALL_TESTS+=(sym sym-ifunc backtrace backtrace-static convert convert-static
	    convert-errors)
CKPT_ONLY+="backtrace backtrace-static convert convert-static "
CKPT_ONLY+="convert-errors "

# ckpt sym PID memcpy, an indirect function: first the implementation
# its resolver chose (named, in a static executable that has .symtab),
# then the resolver, marked ifunc.
t_sym-ifunc() {
	local impl obj name res mark back
	need "$CKPT" "$WLB/counter-static"
	start_wl "$WLB/counter-static"
	wait_count_above 3 60 "$JOB"
	expect_exit 0 "$CKPT" sym "$PID" memcpy
	{ read -r impl obj name; read -r res _ mark; } <"$D/cmd.out"
	[[ $impl =~ ^0x[0-9a-f]+$ && $res =~ ^0x[0-9a-f]+$ && $mark == ifunc &&
	   $impl != "$res" ]] || fail "sym memcpy: $(cat "$D/cmd.out")"
	[[ $name == __mem* ]] || fail "sym memcpy: chosen one unnamed: $name"
	expect_exit 0 "$CKPT" sym "$PID" "$impl"
	read -r back _ <"$D/cmd.out"
	[[ $back == "$name+0x0" ]] ||
		fail "sym $impl gives $back, sym memcpy said $name"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	check_count
}

# ckpt sym on a live workload, which it must not stop: nanosleep's address
# (first word 0x...), that address + 1 back as nanosleep+0x1 (or an alias
# of it at the same address), and the errors.
t_sym() {
	local addr out c
	need "$CKPT" "$WLB/counter"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" sym "$PID" nanosleep
	read -r addr _ <"$D/cmd.out"
	[[ $addr =~ ^0x[0-9a-f]+$ ]] || fail "sym nanosleep: $(cat "$D/cmd.out")"
	expect_exit 0 "$CKPT" sym "$PID" "$(printf '0x%x' $((addr + 1)))"
	read -r out _ <"$D/cmd.out"
	[[ $out == *nanosleep+0x1 ]] || fail "sym $addr+1: $(cat "$D/cmd.out")"
	expect_exit 70 "$CKPT" sym "$PID" no_such_symbol_xyz
	one_line_err "ckpt sym no_such_symbol_xyz"
	expect_exit 69 "$CKPT" sym 999999999 nanosleep
	expect_exit 64 "$CKPT" sym "$PID"
	stopped "$PID" && fail "target left stopped (state $ST) by ckpt sym"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running 60 s after D/stop"
	((WST == 0)) || fail "counter exited $WST: $(lastline "$D/out.log")"
	check_count
}

# start_stack NAME: the workload NAME (stack or stack-static, see
# tests/workloads/stack.c), once both its threads sleep where the tests
# want them; EXE is its path as its maps name it.
EXE=
start_stack() {
	local end=$((SECONDS + 60))
	EXE=$(readlink -f "$WLB/$1")
	start_wl "$EXE"
	until all_asleep "$PID" 2; do
		((SECONDS < end)) || fail "the threads of $1 are not asleep" \
					  "after 60 s ($(diag))"
		nap
	done
}

# all_asleep PID N: PID has N threads, each asleep (state S).
all_asleep() {
	local t n=0
	for t in /proc/$1/task/*; do
		pstate "$1/task/${t##*/}"
		[[ $ST == S ]] || return 1
		n=$((n + 1))
	done
	((n == $2))
}

# The stack of the main thread of tests/workloads/stack.c in its image,
# unwound by ckpt inspect --json from the image alone (elf/backtrace.h),
# innermost first: nanosleep (or clock_nanosleep, which it calls), then
# level2 in the executable, level1, and main with a return address past
# its call. Other frames may come between; level2 comes once.
BT_CHECK='import json, sys
p = json.load(sys.stdin)["processes"]
if len(p) != 1:
    sys.exit("%d processes in the image, want 1" % len(p))
bt = p[0]["threads"][0]["backtrace"]
names = [f["symbol"] for f in bt]
i = 0
for want in (("nanosleep", "clock_nanosleep"), ("level2",), ("level1",),
             ("main",)):
    while i < len(bt) and names[i] not in want:
        i += 1
    if i == len(bt):
        sys.exit("no frame %s in order in %s" % (want[0], names))
    if want == ("level2",) and bt[i]["object"] != sys.argv[1]:
        sys.exit("level2 is in %s, not %s" % (bt[i]["object"], sys.argv[1]))
if bt[i]["offset"] == 0:
    sys.exit("the return address into main is at main+0")
if names.count("level2") != 1:
    sys.exit("level2 %d times in %s" % (names.count("level2"), names))'

# backtrace_of NAME: the stack workload NAME dumped without --kill; its
# image's backtrace as above, and as text: a frame line
# "  #N 0xPC level1+0xOFF (EXE)". The workload runs on and ends well.
backtrace_of() {
	need "$CKPT" "$WLB/$1"
	start_stack "$1"
	expect_exit 0 "$CKPT" attach -o "$D/img" "$PID"
	expect_exit 0 "$CKPT" inspect --json "$D/img"
	python3 -c "$BT_CHECK" "$EXE" <"$D/cmd.out" 2>>"$D/errors.log" ||
		fail "backtrace of $1: $(lastline "$D/errors.log")"
	expect_exit 0 "$CKPT" inspect "$D/img"
	grep -q "^  #[0-9]* 0x[0-9a-f]* level1+0x[0-9a-f]* ($EXE)\$" \
		"$D/cmd.out" ||
		fail "ckpt inspect shows no frame level1+0x... ($EXE):" \
		     "$(grep '^  #' "$D/cmd.out" | tr '\n' ';')"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "$1 still running 60 s after D/stop"
	((WST == 0)) || fail "$1 exited $WST: $(lastline "$D/out.log")"
}

t_backtrace() {
	backtrace_of stack
}

# no .eh_frame_hdr: the unwinder builds its search table from .eh_frame
t_backtrace-static() {
	backtrace_of stack-static
}

# core_of NAME: the stack workload NAME dumped with --kill and converted
# by ckpt convert to D/core, of mode 0600, leaving no temporary; gdb, given
# the executable and the core, shows two threads and no third, and the
# frames level2, level1 and main of one, thread_fn of the other.
core_of() {
	local gjob mode f threads
	need "$CKPT" "$WLB/$1"
	command -v gdb >/dev/null || fail "no gdb (make deps installs it)"
	start_stack "$1"
	dump_kill
	expect_exit 0 "$CKPT" convert "$D/img" "$D/core"
	mode=$(stat -c %a "$D/core")
	[[ $mode == 600 ]] || fail "D/core has mode $mode, not 600"
	for f in "$D"/core?*; do
		fail "ckpt convert left ${f##*/} behind"
	done
	(spawn gdb -batch -nx -ex 'info threads' -ex 'thread apply all bt' \
		"$EXE" "$D/core") </dev/null >"$D/gdb.out" 2>&1 &
	gjob=$!
	track_job "$gjob"
	wait_job "$gjob" 120 || fail "gdb still running after 120 s"
	for f in level2 level1 main thread_fn; do
		grep -q " in $f (" "$D/gdb.out" ||
			fail "gdb shows no frame $f: $(grep '^#' "$D/gdb.out" |
						       tr '\n' ';')"
	done
	threads=$(grep -o '^Thread [0-9]* (' "$D/gdb.out" | sort -u |
		  tr -d '(\n')
	[[ $threads == "Thread 1 Thread 2 " ]] ||
		fail "gdb shows '$threads', want threads 1 and 2"
}

t_convert() {
	core_of stack
}

t_convert-static() {
	core_of stack-static
}

# ckpt convert's exit statuses: 64 without arguments, 65 for a file that
# is not an image, 66 for a missing one, 73 for a core it can't create,
# each with one line on stderr; none leaves a file behind.
t_convert-errors() {
	local before
	need "$CKPT" "$WLB/stack"
	start_stack stack
	dump_kill
	expect_exit 64 "$CKPT" convert
	printf 'not an image, not at all' >"$D/bad"
	before=$(ls -A "$D")
	expect_exit 65 "$CKPT" convert "$D/bad" "$D/c"
	one_line_err "ckpt convert of a file that is not an image"
	expect_exit 66 "$CKPT" convert "$D/none" "$D/c"
	one_line_err "ckpt convert of a missing image"
	expect_exit 73 "$CKPT" convert "$D/img" "$D/no/core"
	one_line_err "ckpt convert to D/no/core"
	[[ $(ls -A "$D") == "$before" ]] ||
		fail "D held $(echo $before); after the failed converts" \
		     "$(ls -A "$D" | tr '\n' ' ')"
}
