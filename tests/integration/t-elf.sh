# t-elf.sh - what ckpt reads from ELF files: the symbols of a live
# process (ckpt sym).  Sourced by run.sh.

ALL_TESTS+=(sym)

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
