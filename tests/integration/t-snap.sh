# t-snap.sh - file snapshots (ckpt attach --snapshot PATH, --snapshot-open):
# the files copied beside the image while the tree is frozen, put back by
# restore when they changed or vanished (left alone when not), a damaged
# snapshot refused before any file changes, paths confined, stream sinks
# refused. Sourced by run.sh.

ALL_TESTS+=(snap-putback snap-damaged snap-confined snap-stream snap-run)
CKPT_ONLY+="snap-putback snap-damaged snap-confined snap-stream snap-run "

# A counter holding D/in.dat open on fd 4, and D/data/ with a file
# (a.dat), a sparse file (sparse.dat: 64 MiB, 4 KiB of data), a file
# that will not change (same.dat) and a subdirectory (sub/b.dat).
snap_start() {
	mkdir -p "$D/data/sub"
	head -c 300000 /dev/urandom >"$D/in.dat"
	head -c 5000 /dev/urandom >"$D/data/a.dat"
	head -c 7000 /dev/urandom >"$D/data/same.dat"
	head -c 100 /dev/urandom >"$D/data/sub/b.dat"
	truncate -s 64M "$D/data/sparse.dat"
	printf 'data in a hole' | dd of="$D/data/sparse.dat" bs=4096 \
		seek=1000 conv=notrunc status=none
	chmod 0640 "$D/data/a.dat"
	chmod 0750 "$D/data/sub"
	touch -d '2020-02-02 02:02:02' "$D/data/a.dat"
	mkdir "$D/keep" && cp -a "$D/in.dat" "$D/data" "$D/keep/"
	start_wl "$@" "$BASH" -c 'exec 4<"$1" && exec "$BASH" "$2"' snap \
		"$D/in.dat" "$WLS/counter.sh"
	wait_count_above 8 60 "$JOB"
}

# snap_copy IMAGE FILE: the copy of FILE in IMAGE.files (by its inode)
snap_copy() {
	local c
	c=$(awk -v i="$(stat -c %i "$2")" '$3 == i { print $1 }' \
		"$1.files/MANIFEST")
	[[ -n $c ]] || fail "no copy of $2 in ${1##*/}.files"
	echo "$1.files/$c"
}

# snap_run_dump: `ckpt dump D/run` exits 0; the image's path in SNAP_IMG
SNAP_IMG=
snap_run_dump() {
	expect_exit 0 "$CKPT" dump "$D/run"
	SNAP_IMG=$(cat "$D/cmd.out")
	[[ -f $SNAP_IMG && -d $SNAP_IMG.files ]] ||
		fail "ckpt dump made '$SNAP_IMG' without a snapshot"
}

# ckpt run --snapshot --keep 2: each checkpoint's snapshot links the
# copies of files unchanged since the previous one, copies the others,
# goes with its image when --keep removes it; the newest brings the
# files back.
t_snap-run() {
	local i1 i2 i3 pos
	need "$CKPT" "$RESTORE"
	snap_start "$CKPT" run -D "$D/run" --keep 2 --snapshot-open \
		--snapshot "$D/data" --
	snap_run_dump
	i1=$SNAP_IMG
	echo changed >>"$D/data/a.dat"
	snap_run_dump
	i2=$SNAP_IMG
	[[ $(stat -c %i "$(snap_copy "$i1" "$D/data/same.dat")") == \
	   $(stat -c %i "$(snap_copy "$i2" "$D/data/same.dat")") ]] ||
		fail "the copy of an unchanged file was not linked"
	[[ $(stat -c %i "$(snap_copy "$i1" "$D/in.dat")") == \
	   $(stat -c %i "$(snap_copy "$i2" "$D/in.dat")") ]] ||
		fail "the copy of the unchanged in.dat was not linked"
	cmp -s "$(snap_copy "$i2" "$D/data/a.dat")" "$D/data/a.dat" ||
		fail "the changed a.dat was not copied again"
	snap_run_dump
	i3=$SNAP_IMG
	[[ ! -e $i1 && ! -e $i1.files ]] ||
		fail "--keep 2 left the first image or its snapshot"
	[[ $(stat -c %h "$(snap_copy "$i3" "$D/data/same.dat")") == 2 ]] ||
		fail "the copy of same.dat is not shared by the two snapshots"
	cp -a "$D/data/a.dat" "$D/keep/data/a.dat"
	kill -KILL "$PID"
	wait_job "$JOB" 60 || fail "ckpt run still running after its job died"
	wait_gone "$PID" 30 || fail "the killed job $PID is still there"
	rm -r "$D/data"
	truncate -s 10 "$D/in.dat"
	pos=$(image_count_pos "$i3")
	truncate -s "$pos" "$D/count"
	DUMP_COUNT=$(count_lines)
	# through ckpt run's latest link: the snapshot beside its target
	(spawn "$RESTORE" "$D/run/latest") </dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
	snap_same "$D/in.dat"
	snap_same "$D/data/a.dat"
	snap_same "$D/data/same.dat"
	snap_same "$D/data/sparse.dat"
}

# file $1 as it was (in D/keep): bytes, mode, mtime
snap_same() {
	local k=$D/keep/${1#"$D"/}
	cmp -s "$1" "$k" || fail "$1 not put back: its bytes differ"
	[[ $(stat -c '%a %Y %s' "$1") == $(stat -c '%a %Y %s' "$k") ]] ||
		fail "$1 put back as $(stat -c '%a %Y %s' "$1")," \
		     "was $(stat -c '%a %Y %s' "$k")"
}

# Changed and vanished files put back, the unchanged left alone (same
# inode), holes kept; the snapshot 0700 with 0600 copies.
t_snap-putback() {
	snap_start
	DUMP_OPTS=(--snapshot-open --snapshot "$D/data")
	dump_kill
	[[ $(stat -c %a "$D/img.files") == 700 ]] ||
		fail "snapshot directory mode $(stat -c %a "$D/img.files")"
	[[ -z $(find "$D/img.files" -type f ! -perm 0600) ]] ||
		fail "a copy in the snapshot is not 0600"
	local ino
	ino=$(stat -c %i "$D/data/same.dat")
	truncate -s 1000 "$D/in.dat"
	rm -r "$D/data/sub" "$D/data/sparse.dat"
	echo changed >>"$D/data/a.dat"
	start_restore
	wait_restored
	finish
	snap_same "$D/in.dat"
	snap_same "$D/data/a.dat"
	snap_same "$D/data/sub/b.dat"
	snap_same "$D/data/sparse.dat"
	[[ $(stat -c %a "$D/data/sub") == 750 ]] ||
		fail "D/data/sub made back as $(stat -c %a "$D/data/sub")"
	(($(stat -c %b "$D/data/sparse.dat") < 1024)) ||
		fail "sparse.dat put back with its holes filled"
	[[ $(stat -c %i "$D/data/same.dat") == "$ino" ]] ||
		fail "an unchanged file was replaced"
}

# A copy damaged in the snapshot: restore refuses (65) naming it, before
# it changes any file or makes any process.
t_snap-damaged() {
	snap_start
	DUMP_OPTS=(--snapshot-open --snapshot "$D/data")
	dump_kill
	local copy
	copy=$(awk -v s=300000 '$4 == s { print $1 }' "$D/img.files/MANIFEST")
	[[ -n $copy ]] || fail "no copy of in.dat in the MANIFEST"
	rm "$D/data/a.dat"
	truncate -s 1000 "$D/in.dat"
	flip_byte "$D/img.files/$copy" 5
	expect_exit 65 "$RESTORE" "$D/img"
	one_line_err "restore of a damaged snapshot"
	grep -q "snapshot's copy of $D/in.dat .* is damaged: its content hash differs" \
		"$D/cmd.err" || fail "no error naming the file: $(cat "$D/cmd.err")"
	[[ ! -e $D/data/a.dat && $(stat -c %s "$D/in.dat") == 1000 ]] ||
		fail "a refused restore changed a file"
	gone "$PID" || fail "a refused restore made PID $PID"
}

# A directory of the snapshot replaced by a symbolic link: refused (76),
# nothing written through the link.
t_snap-confined() {
	snap_start
	DUMP_OPTS=(--snapshot "$D/data")
	dump_kill
	mkdir "$D/elsewhere"
	mv "$D/data" "$D/data.moved"
	ln -s "$D/elsewhere" "$D/data"
	expect_exit 76 "$RESTORE" "$D/img"
	one_line_err "restore through a symbolic link"
	grep -q "can't put back $D/data" "$D/cmd.err" ||
		fail "no error naming the path: $(cat "$D/cmd.err")"
	[[ -z $(ls -A "$D/elsewhere") ]] ||
		fail "files written through the link: $(ls "$D/elsewhere")"
}

# A snapshot goes beside a local image file: a stream sink is refused
# with one line, the target runs on.
t_snap-stream() {
	snap_start
	expect_exit 64 "$CKPT" attach --snapshot-open -o - "$PID"
	one_line_err "attach --snapshot to a stream"
	grep -q "snapshot needs an image in a local file, not a stream" \
		"$D/cmd.err" || fail "no clear error: $(cat "$D/cmd.err")"
	refused_runs_on
}
