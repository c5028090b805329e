# t-incr.sh - incremental images (ckpt/dump-incr.c, image/chain.c): chains
# of images that hold only what was written since their parent, by the
# write tracking ckpt run keeps between checkpoints or by comparison with a
# parent named to attach --parent; restore follows the chain; a damaged,
# missing or foreign parent is refused before any process is made; ckpt
# run --keep keeps the parents a kept image needs. Sourced by run.sh.

ALL_TESTS+=(incr-run-chain incr-attach-parent incr-bad-parent incr-run-keep
	   incr-attach-track incr-run-writing incr-flags incr-flags-kept)
CKPT_ONLY+="incr-run-chain incr-attach-parent incr-bad-parent incr-run-keep "
CKPT_ONLY+="incr-attach-track incr-run-writing incr-flags incr-flags-kept "

# incr_step N: incrmem makes its change N (t-incr's workload) and says so
incr_step() {
	local end=$((SECONDS + 60))
	touch "$D/step$1"
	until [[ -e $D/done$1 ]]; do
		((SECONDS < end)) || fail "incrmem did not make step $1"
		nap
	done
}

# incr_chain DUMP: DUMP 0, then steps 1-3 each followed by DUMP N
incr_chain() {
	local n
	"$1" 0
	for n in 1 2 3; do
		incr_step "$n"
		"$1" "$n"
	done
}

# incr_restore IMAGE: once PID is gone, IMAGE restored (RJOB) and back
incr_restore() {
	wait_gone "$PID" 30 || fail "PID $PID still there"
	(spawn "$RESTORE" "$1") </dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_back
}

# incr_restored IMAGE: the tree is gone; IMAGE restored, incrmem finds
# all its memory as it wrote it (it checks every page on D/restored) and
# exits 0 at D/stop
incr_restored() {
	incr_restore "$1"
	touch "$D/restored"
	local end=$((SECONDS + 120))
	until grep -q "^$PID: step 3: all memory as written" "$D/out.log"; do
		grep -h FAIL "$D/out.log" && fail "incrmem found its memory changed"
		job_done "$RJOB" && fail "restored incrmem exited early:" \
					 "$(lastline "$D/out.log")"
		((SECONDS < end)) || fail "restored incrmem did not check its memory"
		nap
	done
	touch "$D/stop"
	wait_job "$RJOB" 120 || fail "still running 120 s after D/stop"
	((WST == 0)) || fail "restored incrmem exited $WST:" \
			     "$(lastline "$D/out.log")"
}

# incr_size_below FILE BYTES
incr_size_below() {
	local n
	n=$(stat -c %s "$1")
	((n < $2)) || fail "${1##*/} has $n bytes, want fewer than $2"
}

incr_run_dump() {
	expect_exit 0 "$CKPT" dump "$D/run"
}

# ckpt run --incremental: a full image, then three children holding only
# what incrmem wrote (every 7th page of 64 MiB; a region mapped anew and
# one moved; every 13th page, a MiB dropped); --keep 1 keeps all four,
# and the last one restores with every page right
t_incr-run-chain() {
	local full i
	need "$CKPT" "$RESTORE" "$WLB/incrmem"
	start_wl "$CKPT" run -D "$D/run" --incremental=4 --keep 1 -- \
		"$WLB/incrmem" 64
	incr_chain incr_run_dump
	for i in 1 2 3 4; do
		[[ -f $D/run/000$i.ckpt ]] || fail "000$i.ckpt not kept"
	done
	full=$(stat -c %s "$D/run/0001.ckpt")
	((full > 64 << 20)) || fail "the first image is not a full one"
	for i in 2 3 4; do
		incr_size_below "$D/run/000$i.ckpt" $((full / 3))
		[[ $(readlink "$D/run/000$i.ckpt.parent") == 000$((i - 1)).ckpt ]] ||
			fail "000$i.ckpt's parent is not recorded"
	done
	expect_exit 0 "$CKPT" inspect "$D/run/latest"
	grep -q "^parent [0-9a-f]* 0003.ckpt$" "$D/cmd.out" ||
		fail "inspect shows no parent: $(grep -m1 '^id' "$D/cmd.out")"
	grep -q "^chain 3 .*/0001.ckpt$" "$D/cmd.out" ||
		fail "inspect does not follow the chain"
	kill -KILL "$PID"
	wait_job "$JOB" 60 || fail "ckpt run still there after its job died"
	incr_restored "$D/run/latest"
}

# attach_dump N: image N a child of image N-1, in two directories (with
# INCR_OPTS, -v)
incr_attach_dump() {
	local dir=$D/a
	(($1 % 2)) && dir=$D/b
	mkdir -p "$dir"
	if (($1 == 0)); then
		expect_exit 0 "$CKPT" -v attach "${INCR_OPTS[@]}" \
			-o "$dir/i0" "$PID"
	else
		expect_exit 0 "$CKPT" -v attach "${INCR_OPTS[@]}" \
			--parent "$INCR_LAST" -o "$dir/i$1" "$PID"
	fi
	INCR_LAST=$dir/i$1
	alive "$PID" || fail "attach --parent killed the target"
}

# attach --parent: each image compared with the one before, in another
# directory; restore of the last follows three parents
t_incr-attach-parent() {
	INCR_OPTS=()
	need "$CKPT" "$RESTORE" "$WLB/incrmem"
	start_wl "$WLB/incrmem" 64
	incr_chain incr_attach_dump
	incr_size_below "$D/b/i1" $((24 << 20))
	incr_size_below "$D/a/i2" $((24 << 20))
	incr_size_below "$D/b/i3" $((24 << 20))
	kill -KILL "$PID"
	wait_job "$JOB" 30
	incr_restored "$D/b/i3"
}

# incr_refused WHY: restore of D/b/i3 exits 65 with one line, and no
# process was made
incr_refused() {
	expect_exit 65 "$RESTORE" "$D/b/i3"
	one_line_err "$1"
	gone "$PID" || fail "restore with $1 left PID $PID"
}

# A damaged parent, a missing one, one replaced by another image: each
# refused before any process is made; put back, the chain restores
t_incr-bad-parent() {
	local size
	need "$CKPT" "$RESTORE" "$WLB/incrmem"
	start_wl "$WLB/incrmem" 64
	incr_chain incr_attach_dump
	kill -KILL "$PID"
	wait_job "$JOB" 30
	wait_gone "$PID" 30 || fail "PID $PID still there"
	cp "$D/b/i1" "$D/i1.good"
	size=$(stat -c %s "$D/b/i1")
	flip_byte "$D/b/i1" $((size / 2))
	incr_refused "a damaged parent"
	grep -q "b/i1" "$D/cmd.err" || fail "the damaged parent is not named"
	rm "$D/b/i1"
	incr_refused "a missing parent"
	grep -q "can't open .*b/i1" "$D/cmd.err" ||
		fail "the missing parent is not named: $(cat "$D/cmd.err")"
	cp "$D/a/i0" "$D/b/i1"
	incr_refused "another image as parent"
	grep -q "is not the one this image was taken from" "$D/cmd.err" ||
		fail "a foreign parent is not said: $(cat "$D/cmd.err")"
	mv "$D/i1.good" "$D/b/i1"
	incr_restored "$D/b/i3"
}

# --incremental=2 --keep 1: a child keeps its parent; the next full image
# lets both go
t_incr-run-keep() {
	local i
	need "$CKPT" "$WLB/counter"
	start_wl "$CKPT" run -D "$D/run" --incremental=2 --keep 1 -- \
		"$WLB/counter"
	wait_count_above 8 60 "$JOB"
	incr_run_dump
	incr_run_dump
	[[ -f $D/run/0001.ckpt && -f $D/run/0002.ckpt ]] ||
		fail "0002.ckpt's parent not kept: $(ls "$D/run")"
	incr_run_dump
	for i in 1 2; do
		[[ ! -e $D/run/000$i.ckpt && ! -e $D/run/000$i.ckpt.parent ]] ||
			fail "000$i.ckpt kept after a full image: $(ls "$D/run")"
	done
	incr_run_dump
	[[ -f $D/run/0003.ckpt && -f $D/run/0004.ckpt ]] ||
		fail "0004.ckpt's parent not kept: $(ls "$D/run")"
	touch "$D/stop"
	wait_job "$JOB" 120 || fail "ckpt run still running after D/stop"
	((WST == 0)) || fail "ckpt run exited $WST: $(lastline "$D/out.log")"
	check_count
}

# incr_track_dump N: incr_attach_dump N with --track (not the last); image
# N > 0 took its pages from the write tracking image N-1's holder kept
incr_track_dump() {
	INCR_OPTS=(--track)
	(($1 == 3)) && INCR_OPTS=()
	incr_attach_dump "$1"
	if (($1 > 0)); then
		grep -q "$PID: the pages written since the parent, by write tracking" \
			"$D/cmd.err" || fail "image $1 not by write tracking:" \
					     "$(grep -v '^ckpt: seiz' "$D/cmd.err" | tail -n 2)"
		[[ -e $INCR_PREV.track ]] &&
			fail "the holder of ${INCR_PREV##*/} still listens"
	fi
	if ((${#INCR_OPTS[@]})); then
		[[ -S $INCR_LAST.track ]] || fail "no ${INCR_LAST##*/}.track"
		[[ $(stat -c %a "$INCR_LAST.track") == 600 ]] ||
			fail "${INCR_LAST##*/}.track is not mode 600"
	fi
	INCR_PREV=$INCR_LAST
}

# attach --track: the write tracking outlives each ckpt in a holder that
# the next attach --parent takes it from; the last image is restored
# whole. Then a holder killed outright: the next attach --parent compares
# pages instead, and removes the stale socket.
t_incr-attach-track() {
	local holder
	need "$CKPT" "$RESTORE" "$WLB/incrmem"
	start_wl "$WLB/incrmem" 64
	incr_chain incr_track_dump
	expect_exit 0 "$CKPT" -v attach --track -o "$D/a/k" "$PID"
	holder=$(sed -n 's/.* kept by process \([0-9]*\) at .*/\1/p' "$D/cmd.err")
	[[ -n $holder ]] && kill -KILL "$holder" ||
		fail "no holder named: $(lastline "$D/cmd.err")"
	wait_gone "$holder" 30 || fail "holder $holder still there"
	expect_exit 0 "$CKPT" -v attach --parent "$D/a/k" -o "$D/a/k2" "$PID"
	grep -q "by write tracking" "$D/cmd.err" &&
		fail "the tracking of a killed holder was used"
	[[ -e $D/a/k.track ]] && fail "the stale a/k.track is left"
	incr_size_below "$D/b/i1" $((24 << 20))
	kill -KILL "$PID"
	wait_job "$JOB" 30
	incr_restored "$D/b/i3"
}

# ckpt run --incremental of a process that writes all the time (migmem,
# 16 MiB/s of its 64 MiB): each child's pages are read while it is frozen
# and written after the thaw, while it writes on; the last child restores
# with every page as the process had it at that freeze (migmem checks
# them all at D/stop against the generations it keeps in its memory)
t_incr-run-writing() {
	local i n
	need "$CKPT" "$RESTORE" "$WLB/migmem"
	start_wl "$CKPT" -v -v run -D "$D/run" --incremental=8 --keep 1 -- \
		"$WLB/migmem" 64 16
	for i in 0 1 2 3; do
		sleep 0.5	# some MiB written since the last one
		incr_run_dump
	done
	n=$(grep -c "MiB held while frozen, written after the thaw" \
		"$D/out.log")
	((n == 3)) || fail "$n of the 3 children held their pages while frozen"
	kill -KILL "$PID"
	wait_job "$JOB" 60 || fail "ckpt run still there after its job died"
	incr_restore "$D/run/latest"
	touch "$D/stop"
	wait_job "$RJOB" 120 || fail "restored migmem still runs 120 s after D/stop"
	((WST == 0)) || fail "restored migmem exited $WST: $(lastline "$D/out.log")"
	grep -q "migmem: 64 MiB checked" "$D/out.log" ||
		fail "restored migmem did not check its memory"
}

# The smaps walk of an incremental dump with the tracking kept is made
# before the freeze too (dump_incr_begin), its flags taken only if the
# address space's count did not move since, as speed_flags (t-speed.sh)
# checks for --pre-copy: attach --parent of an attach --track image, held
# after that read (incr-begun) while advlate gives its mapping
# MADV_DONTFORK (advised=1), or not (0).
incr_flags() {
	need "$WLB/advlate" "$CKPT" "$RESTORE"
	TREE_KIDS=
	start_wl "$WLB/advlate"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" attach --track -o "$D/full" "$PID"
	local HELD_ATTACH=(--parent "$D/full")
	speed_flags_held "$1" incr-begun
	grep -q "by write tracking" "$D/cmd.err" ||
		fail "not by write tracking: $(lastline "$D/cmd.err")"
}

t_incr-flags() {
	incr_flags 1
}

t_incr-flags-kept() {
	incr_flags 0
}
