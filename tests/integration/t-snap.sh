# t-snap.sh - file snapshots (ckpt attach --snapshot PATH, --snapshot-open):
# the files copied beside the image while the tree is frozen, put back by
# restore when they changed or vanished (left alone when not), a damaged
# snapshot refused before any file changes, paths confined, stream sinks
# (the snapshot in the image), symbolic links, FIFOs, devices, extended
# attributes and ACLs, ckpt inspect. Sourced by run.sh.

ALL_TESTS+=(snap-putback snap-damaged snap-confined snap-stream snap-run
	   snap-kinds snap-socket snap-stdout snap-crash)
CKPT_ONLY+="snap-putback snap-damaged snap-confined snap-stream snap-run "
CKPT_ONLY+="snap-kinds snap-socket snap-stdout snap-crash "

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

# snap_changes: after a dump, in.dat truncated, sub/ and sparse.dat
# removed, a.dat changed (snap-putback's changes, for the stream sinks)
snap_changes() {
	truncate -s 1000 "$D/in.dat"
	rm -r "$D/data/sub" "$D/data/sparse.dat"
	echo changed >>"$D/data/a.dat"
}

# snap_all_same: snap_changes undone by restore, holes kept
snap_all_same() {
	snap_same "$D/in.dat"
	snap_same "$D/data/a.dat"
	snap_same "$D/data/same.dat"
	snap_same "$D/data/sub/b.dat"
	snap_same "$D/data/sparse.dat"
	(($(stat -c %b "$D/data/sparse.dat") < 1024)) ||
		fail "sparse.dat put back with its holes filled"
}

# A stream sink (tcp:// to ckpt serve on loopback): the snapshot goes
# into the image as records (no IMAGE.files anywhere, nothing left
# beside the files); restore from the URL puts the files back.
t_snap-stream() {
	need "$CKPT" "$RESTORE"
	start_server
	snap_start
	(spawn "$CKPT" attach --kill --snapshot-open --snapshot "$D/data" \
		-o "$URL/job" --auth "$D/key" "$PID") </dev/null \
		>>"$D/ckpt.log" 2>&1 ||
		fail "ckpt attach -o $URL/job failed: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
	[[ -z $(find "$D" -name '*.files*') ]] ||
		fail "a snapshot directory beside the image: $(find "$D" -name '*.files*')"
	"$CKPT" inspect "$D/srv/job" >"$D/inspect.out" 2>&1 ||
		fail "inspect D/srv/job: $(lastline "$D/inspect.out")"
	grep -q "^snapfile reg size 300000 .* $D/in.dat\$" "$D/inspect.out" ||
		fail "in.dat not in the image's snapshot: $(cat "$D/inspect.out")"
	snap_changes
	(spawn "$RESTORE" --auth "$D/key" "$URL/job") </dev/null \
		>>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_restored
	finish
	snap_all_same
	stop_server
}

# Standard output (compressed): the same, restored from the file it went
# to.
t_snap-stdout() {
	need "$CKPT" "$RESTORE"
	snap_start
	(spawn "$CKPT" attach --kill --compress --snapshot-open \
		--snapshot "$D/data" -o - "$PID") </dev/null >"$D/img" \
		2>>"$D/ckpt.log" ||
		fail "ckpt attach -o - failed: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
	[[ ! -e $D/img.files && ! -e $D/-.files ]] ||
		fail "a snapshot directory beside the image"
	snap_changes
	start_restore
	wait_restored
	finish
	snap_all_same
}
# What is under D/data, a line per entry: kind, mode, owner, mtime (not
# a directory's: what restore puts in it changes that), link text,
# device number, extended attributes and ACLs.
snap_meta() {
	local f
	find "$D/data" -mindepth 1 | sort | while read -r f; do
		if [[ -d $f ]]; then
			stat -c '%n %F %a %u:%g' "$f"
		else
			stat -c '%n %F %a %u:%g %Y %t:%T' "$f"
		fi
		[[ -L $f ]] && readlink "$f"
		[[ -L $f ]] || getfattr -h -d -m - -e hex --absolute-names \
			"$f" 2>/dev/null
		[[ -L $f || -p $f || -c $f ]] || getfacl -cp "$f" 2>/dev/null
	done
}

# ckpt inspect of snap-kinds' image: the snapshot in text (a.dat's hash
# is its BLAKE2b-256) and in JSON.
snap_inspect() {
	local h
	h=$(b2sum -l 256 "$D/data/a.dat") && h=${h%% *}
	expect_exit 0 "$CKPT" inspect "$D/img"
	grep -q "^snapfile reg size 5000 mode 0640 owner 0:0 .* xattrs 2 hash $h $D/data/a.dat\$" \
		"$D/cmd.out" || fail "inspect: no line for a.dat with its hash" \
				     "$h: $(grep snapfile "$D/cmd.out")"
	grep -q "^snapfile link .* $D/data/link -> ../in.dat\$" "$D/cmd.out" ||
		fail "inspect: no line for the link: $(grep snapfile "$D/cmd.out")"
	expect_exit 0 "$CKPT" inspect --json "$D/img"
	python3 -c 'import json, sys
d, h = sys.argv[1], sys.argv[2]
s = {f["path"]: f for f in json.load(sys.stdin)["snapshot"]}
assert s[d + "/a.dat"]["hash"] == h, s[d + "/a.dat"]
assert "user.color" in s[d + "/a.dat"]["xattrs"], s[d + "/a.dat"]
assert s[d + "/fifo"]["type"] == "fifo", s[d + "/fifo"]
assert s[d + "/null"]["rdev"] == 0x103, s[d + "/null"]
assert s[d + "/link"]["target"] == "../in.dat", s[d + "/link"]
assert s[d + "/sub"]["type"] == "dir", s[d + "/sub"]' "$D/data" "$h" \
		<"$D/cmd.out" || fail "inspect --json: the snapshot is not right"
}

# Symbolic links (one dangling), a FIFO, a device node, extended
# attributes and ACLs of files and directories: gone or changed after
# the dump, put back by restore as they were.
t_snap-kinds() {
	need "$(command -v getfattr)" "$(command -v setfacl)"
	snap_start
	local d=$D/data
	setfattr -n user.color -v blue "$d/a.dat"
	setfattr -n user.empty "$d/same.dat"
	setfattr -n user.dir -v x "$d/sub"
	setfattr -n trusted.t -v secret "$d/sub/b.dat"
	setfacl -m u:nobody:r "$d/a.dat"
	setfacl -d -m u:nobody:rx "$d/sub"
	ln -s ../in.dat "$d/link"
	ln -s /nonexistent/x "$d/dangling"
	mkfifo -m 0604 "$d/fifo"
	mknod -m 0620 "$d/null" c 1 3
	chown 1:2 "$d/fifo" "$d/null"
	touch -h -d '2021-01-01 01:01:01' "$d/link" "$d/fifo" "$d/null"
	snap_meta >"$D/meta.before"
	grep -q "user.color" "$D/meta.before" ||
		fail "no extended attribute to check: $(cat "$D/meta.before")"
	DUMP_OPTS=(--snapshot "$D/data")
	dump_kill
	snap_inspect
	rm -r "$d/link" "$d/fifo" "$d/null" "$d/sub" "$d/a.dat"
	ln -sf /elsewhere "$d/dangling"
	setfattr -x user.empty "$d/same.dat"
	echo x >"$d/same.dat"
	start_restore
	wait_restored
	finish
	snap_meta >"$D/meta.after"
	diff "$D/meta.before" "$D/meta.after" >"$D/meta.diff" ||
		fail "not put back as they were: $(cat "$D/meta.diff")"
}

# A unix socket file under --snapshot: refused (70) naming it and why,
# the target runs on.
t_snap-socket() {
	snap_start
	python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$D/data/sub/sock" ||
		fail "can't make a socket file"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach --snapshot "$D/data" -o "$D/img" "$PID"
	one_line_err "attach --snapshot of a directory with a socket"
	grep -q "can't snapshot $D/data/sub/sock: a unix socket file" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	refused_runs_on
}

# ckpt killed after the thaw and before the commit (the copies made, not
# yet hashed nor recorded): no image and no snapshot, the target runs
# on; the next dump of that image removes the dead one's temporary
# snapshot.
t_snap-crash() {
	local c
	snap_start
	CKPT_FAULT=commit expect_exit 137 "$CKPT" attach \
		--snapshot "$D/data" -o "$D/img" "$PID"
	[[ ! -e $D/img && ! -e $D/img.files ]] ||
		fail "a dump killed before its commit left an image or snapshot"
	compgen -G "$D/img.files.tmp.*" >/dev/null ||
		fail "no temporary snapshot left (did the fault point move?)"
	stopped "$PID" && fail "target left stopped (state $ST)"
	expect_exit 0 "$CKPT" attach --snapshot "$D/data" -o "$D/img" "$PID"
	[[ -f $D/img && -d $D/img.files ]] || fail "the second dump made no snapshot"
	! compgen -G "$D/img.files.tmp.*" >/dev/null ||
		fail "the dead ckpt's temporary snapshot is still there"
	c=$(count_lines)
	wait_count_above $((c + 3)) 60 "$JOB"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "still running 60 s after D/stop"
}
