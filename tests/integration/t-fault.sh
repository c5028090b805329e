# t-fault.sh - a ckpt killed by SIGKILL never harms its target, a restore
# killed by SIGKILL leaves nothing half-made: the short versions of
# tests/fault/kill-ckpt.sh and kill-restore.sh (every named fault point
# once, kill-ckpt's on victim and the TCP targets' own on tcppair and
# tcpout, plus a few random moments); `make fault` runs the
# campaigns of 100 random moments per target.  Sourced by run.sh.

ALL_TESTS+=(kill-ckpt kill-restore)
CKPT_ONLY+="kill-ckpt kill-restore "

t_kill-ckpt() {
	local t pj tst
	for t in victim victim-static tree tcppair reaper; do
		need "$WLB/$t"
	done
	need "$CKPT"
	# every point on one target, the TCP targets' own (parking, repair
	# mode: tcppair fails if a call of its met repair mode) on those;
	# the two at once, each run on targets, images and locks of its own
	# (one after the other, 70 s of waiting for targets and ckpt)
	B=$B bash "$TOP/tests/fault/kill-ckpt.sh" --points victim \
		>"$D/points.log" 2>&1 &
	pj=$!
	track_job "$pj"
	B=$B bash "$TOP/tests/fault/kill-ckpt.sh" --own-points tcppair tcpout \
		>"$D/tcp.log" 2>&1
	tst=$?
	wait "$pj" ||
		fail "at a fault point: $(grep FAIL "$D/points.log" | head -n 1)"
	((tst == 0)) ||
		fail "at a TCP fault point: $(grep FAIL "$D/tcp.log" | head -n 1)"
	B=$B bash "$TOP/tests/fault/kill-ckpt.sh" --runs 2 \
		>"$D/random.log" 2>&1 ||
		fail "at a random moment: $(grep FAIL "$D/random.log" |
					    head -n 1)"
}

t_kill-restore() {
	local t
	for t in victim tree shm ghost reaper; do
		need "$WLB/$t"
	done
	need "$CKPT" "$RESTORE"
	B=$B bash "$TOP/tests/fault/kill-restore.sh" --points \
		>"$D/points.log" 2>&1 ||
		fail "at a fault point: $(grep FAIL "$D/points.log" | head -n 1)"
	B=$B bash "$TOP/tests/fault/kill-restore.sh" --runs 2 \
		>"$D/random.log" 2>&1 ||
		fail "at a random moment: $(grep FAIL "$D/random.log" |
					    head -n 1)"
}
