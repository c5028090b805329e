# t-lazy.sh - restore --lazy: memory that arrives through userfaultfd
# while the process runs (restore/lazy.c). Sourced by run.sh.

ALL_TESTS+=(lazy-counter lazy-bigmem lazy-events lazy-threads lazy-tree
	    lazy-zstd lazy-detach lazy-pager-killed lazy-badpage lazy-badstack
	    lazy-badpad lazy-huge)

t_lazy-counter() {
	need "$WLB/counter"
	RESTORE_CMD=("$RESTORE" --lazy)
	wl_test "$WLB/counter"
}

t_lazy-bigmem() {
	need "$WLB/bigmem"
	RESTORE_CMD=("$RESTORE" --lazy)
	wl_test "$WLB/bigmem"
}

# lazymem changes its memory (mremap, MADV_DONTNEED, munmap, mprotect,
# fork) while no page is pulled in the background yet, then opens the gate
t_lazy-events() {
	need "$WLB/lazymem"
	RESTORE_CMD=(env "CKPT_LAZY_GATE=$D/gate" "$RESTORE" --lazy)
	wl_test "$WLB/lazymem" 256
}

t_lazy-threads() {
	need "$WLB/threads"
	RESTORE_CMD=("$RESTORE" --lazy)
	HOOK_RESTORED=check_tids
	wl_test "$WLB/threads"
}

# a tree of three processes with 64 MiB each, under a reaper (lib.sh)
t_lazy-tree() {
	need "$WLB/lazymem"
	RESTORE_CMD=(env "CKPT_LAZY_GATE=$D/gate" "$RESTORE" --lazy)
	reaper_tree_test "$WLB/lazymem" 64 2
}

# a compressed image: decoded into memory, served from there
t_lazy-zstd() {
	need "$WLB/lazymem"
	DUMP_OPTS=(--compress)
	RESTORE_CMD=(env "CKPT_LAZY_GATE=$D/gate" "$RESTORE" --lazy)
	wl_test "$WLB/lazymem" 256
}

# lazy_detached [ENV...]: restore --lazy --detach -v of lazymem's image;
# PAGER its pager's PID
lazy_detached() {
	need "$WLB/lazymem" "$CKPT" "$RESTORE"
	start_wl "$WLB/lazymem" 256
	wait_count_above 8 60 "$JOB"
	dump_kill
	expect_exit 0 env "CKPT_LAZY_GATE=$D/gate" "$@" "$RESTORE" --lazy \
		--detach -v "$D/img"
	read -r out <"$D/cmd.out"
	[[ $out == "$PID" ]] || fail "restore printed \"$out\", want $PID"
	PAGER=$(sed -n 's/.*pager \([0-9]*\) serves.*/\1/p' "$D/cmd.err")
	[[ -n $PAGER ]] || fail "restore -v named no pager"
	RJOB=$PID	# not our child: wait_count_above only polls it
	wait_count_above $((DUMP_COUNT + 3)) 60 "$PID"
}

# the pager serves the faults, opens the gate, pulls the rest, and ends
t_lazy-detach() {
	local out
	lazy_detached
	touch "$D/restored"
	wait_path "$D/gate" 60 || fail "lazymem wrote no D/gate"
	wait_gone "$PAGER" 120 || fail "pager $PAGER still there"
	wait_count_above $((DUMP_COUNT + 6)) 60 "$PID"
	touch "$D/stop"
	wait_gone "$PID" 60 || fail "PID $PID still running after D/stop"
	grep -h FAIL "$D/out.log" && fail "lazymem failed its checks"
	check_count
}

# the pager killed with pages still missing: the process is killed too
t_lazy-pager-killed() {
	local out
	lazy_detached
	alive "$PAGER" || fail "the pager is gone before it was killed"
	kill -KILL "$PAGER"
	wait_gone "$PID" 60 ||
		fail "PID $PID runs on after its pager was killed"
}

# lazy_pages_at IMAGE: the file offset of each PAGES record's data, in
# order, walking the records (ckpt-image(5): 16 bytes of header, then
# addr, nr_pages and pad; the CRC after the payload)
lazy_pages_at() {
	local off=128 size type len pad
	size=$(stat -c %s "$1")
	while ((off < size)); do
		read -r type < <(od -An -tu4 -j "$off" -N 4 "$1")
		read -r len < <(od -An -tu8 -j $((off + 8)) -N 8 "$1")
		((type == 32767)) && return
		if ((type == 4)); then
			read -r pad < <(od -An -tu4 -j $((off + 32)) -N 4 "$1")
			echo $((off + 36 + pad))
		fi
		off=$((off + 20 + len))
	done
}

# lazy_dumped_flip mid|last [DELTA]: lazymem's image with a byte of the
# data of its middle PAGES record (of its 64 MiB) or of its last flipped:
# DELTA (1000) bytes from the start of the data (a negative one: padding)
lazy_dumped_flip() {
	local at
	need "$WLB/lazymem" "$CKPT" "$RESTORE"
	start_wl "$WLB/lazymem" 64
	wait_count_above 8 60 "$JOB"
	dump_kill
	mapfile -t at < <(lazy_pages_at "$D/img")
	((${#at[@]} > 8)) || fail "only ${#at[@]} PAGES records in the image"
	if [[ $1 == mid ]]; then at=${at[${#at[@]} / 2]}; else at=${at[-1]}; fi
	flip_byte "$D/img" $((at + ${2:-1000}))
}

# a damaged page of lazy memory is found when fetched: restore has
# already let the process run, and the pager kills it, naming the record
t_lazy-badpage() {
	lazy_dumped_flip mid
	expect_exit 0 "$RESTORE" --lazy --detach "$D/img"
	wait_gone "$PID" 60 || fail "PID $PID runs on with a damaged page"
	grep -q "PAGES record at offset [0-9]*: crc mismatch" "$D/cmd.err" ||
		fail "no error naming the record: $(cat "$D/cmd.err")"
}

# a damaged page that is not lazy (the stack's: its record is the last)
# is refused before anything is made, as without --lazy
t_lazy-badstack() {
	lazy_dumped_flip last
	expect_exit 65 "$RESTORE" --lazy "$D/img"
	one_line_err "restore --lazy"
	grep -q "PAGES record at offset [0-9]*: crc mismatch" "$D/cmd.err" ||
		fail "no error naming the record: $(cat "$D/cmd.err")"
	gone "$PID" || fail "PID $PID was made from a damaged image"
}

# a lazy record whose padding is damaged: its CRC is left for later, but
# its fields and padding are checked up front, so refused before anything
# is made
t_lazy-badpad() {
	lazy_dumped_flip mid -100
	expect_exit 65 "$RESTORE" --lazy "$D/img"
	one_line_err "restore --lazy"
	grep -q "PAGES.*padding not zero" "$D/cmd.err" ||
		fail "no error naming the record: $(cat "$D/cmd.err")"
	gone "$PID" || fail "PID $PID was made from a damaged image"
}

# lazy_huge_kb PID: its AnonHugePages in kB
lazy_huge_kb() {
	awk '/^AnonHugePages:/ { print $2 }' "/proc/$1/smaps_rollup"
}

# lazymem's memory asked for in huge pages (MADV_HUGEPAGE) had them
# before the dump: it has them again once the pager is done
t_lazy-huge() {
	local before after
	need "$WLB/lazymem" "$CKPT" "$RESTORE"
	start_wl "$WLB/lazymem" 128
	wait_count_above 8 60 "$JOB"
	before=$(lazy_huge_kb "$PID")
	((before > 0)) || skip "no huge pages before the dump (THP off?)"
	dump_kill
	expect_exit 0 "$RESTORE" --lazy --detach -v "$D/img"
	PAGER=$(sed -n 's/.*pager \([0-9]*\) serves.*/\1/p' "$D/cmd.err")
	[[ -n $PAGER ]] || fail "restore -v named no pager"
	wait_gone "$PAGER" 120 || fail "pager $PAGER still there"
	after=$(lazy_huge_kb "$PID")
	((after >= before / 2)) ||
		fail "$after kB of huge pages after, $before kB before"
	RJOB=$PID
	touch "$D/restored"
	wait_count_above $((DUMP_COUNT + 3)) 60 "$PID"
	grep -h FAIL "$D/out.log" && fail "lazymem failed its checks"
	:
}
