# t-privs.sh - least privilege: restore holds no capability while the
# tree it made runs, the commands that only parse an image run confined
# by seccomp, keys open to others are refused.  Sourced by run.sh.

ALL_TESTS+=(restore-caps)
CKPT_ONLY+="restore-caps "

# cap_sets PID: its five capability sets, "Inh Prm Eff Bnd Amb" in hex
cap_sets() {
	local k v out=()
	while read -r k v; do
		[[ $k == Cap???: ]] && out+=("${k:3:3}=$v")
	done <"/proc/$1/status" 2>/dev/null
	echo "${out[*]}"
}

# restore (RJOB: spawn execs it) drops its capabilities once the last
# process is let go; it does so after, so wait for the effective set
restore_has_no_caps() {
	local end=$((SECONDS + 60)) sets
	while :; do
		sets=$(cap_sets "$RJOB")
		[[ $sets == *Eff=0000000000000000* ]] && break
		job_done "$RJOB" && fail "restore exited while its tree ran"
		((SECONDS < end)) ||
			fail "restore still holds capabilities: $sets"
		nap
	done
	[[ $sets =~ ^Inh=0+\ Prm=0+\ Eff=0+\ Bnd=0+\ Amb=0+$ ]] ||
		fail "restore kept some capabilities: $sets"
}

t_restore-caps() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	HOOK_RESTORED=restore_has_no_caps
	wl_test "$WLB/counter"
}
