# t-privs.sh - least privilege: restore holds no capability while the
# tree it made runs, the commands that only parse an image run confined
# by seccomp, keys open to others are refused.  Sourced by run.sh.

ALL_TESTS+=(restore-caps confine-inspect confine-convert created-0600
	    key-group-readable key-world-readable key-group-writable
	    key-world-writable image-group-writable image-world-writable
	    serve-dir-writable confine-decode zstd-bomb zstd-bomb-declared)
CKPT_ONLY+="restore-caps confine-inspect confine-convert created-0600 "
CKPT_ONLY+="key-group-readable key-world-readable key-group-writable "
CKPT_ONLY+="key-world-writable image-group-writable image-world-writable "
CKPT_ONLY+="serve-dir-writable confine-decode zstd-bomb zstd-bomb-declared "

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

# confined_run self|child CMD...: CMD with CKPT_FAULT=confined:stop (or
# $POINT:stop), so that the process that installs the filter (CMD's own,
# or its child) stops right after (util/fault.h); there it must show
# seccomp mode 2 in /proc/PID/status; then it goes on (SIGCONT) and CMD
# must exit 0.
confined_run() {
	local who=$1 job p= sc end=$((SECONDS + 60))
	shift
	(export CKPT_FAULT=${POINT:-confined}:stop; spawn "$@") </dev/null \
		>"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	while :; do
		[[ $who == self ]] && p=$job || p=$(child_pids "$job")
		[[ -n $p ]] && stopped "$p" && break
		if job_done "$job"; then
			status "$job"
			fail "${*:1:2}: exit $JST before the filter:" \
			     "$(lastline "$D/cmd.err")"
		fi
		((SECONDS < end)) || fail "${*:1:2}: not stopped after 60 s"
		nap
	done
	sc=$(grep '^Seccomp:' "/proc/$p/status")
	kill -CONT "$p"
	wait_job "$job" 60 || fail "${*:1:2} still running 60 s after SIGCONT"
	((WST == 0)) || fail "${*:1:2}: exit $WST: $(lastline "$D/cmd.err")"
	[[ $sc =~ ^Seccomp:[[:space:]]+2$ ]] ||
		fail "${*:1:2} parsed the image unconfined: $sc"
}

# an image of the counter workload in D/img (the workload is killed)
counter_image() {
	need "$WLB/counter" "$CKPT"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	dump_kill
}

t_confine-inspect() {
	counter_image
	confined_run self "$CKPT" inspect "$D/img"
	grep -q "^process $PID" "$D/cmd.out" ||
		fail "confined inspect shows no process $PID"
	confined_run self "$CKPT" inspect --json "$D/img"
	python3 -c 'import json, sys; json.load(sys.stdin)' <"$D/cmd.out" ||
		fail "confined inspect --json printed no JSON"
}

# convert parses in a confined child; the parent commits the core
t_confine-convert() {
	local mode
	counter_image
	confined_run child "$CKPT" convert "$D/img" "$D/core"
	mode=$(stat -c %a "$D/core" 2>/dev/null)
	[[ $mode == 600 ]] || fail "D/core has mode '$mode', not 600"
}

# Every file ckpt creates that holds a process or a key is 0600, and ckpt
# run's directory 0700, whatever the umask (here none).
t_created-0600() {
	local f mode want
	need "$WLB/counter" "$CKPT"
	umask 000
	expect_exit 0 "$CKPT" keygen "$D/key"
	start_run_wl
	expect_exit 0 "$CKPT" attach -o "$D/img" "$PID"
	expect_exit 0 "$CKPT" attach --encrypt "$D/key" -o "$D/img.enc" "$PID"
	expect_exit 0 "$CKPT" dump "$D/run"
	for f in "$D/key" "$D/img" "$D/img.enc" "$(cat "$D/cmd.out")" \
		 "$D/run/control" "$D/run"; do
		mode=$(stat -c %a "$f")
		[[ $f == "$D/run" ]] && want=700 || want=600
		[[ $mode == "$want" ]] ||
			fail "${f#"$D"/} has mode $mode, not $want (umask 000)"
	done
	touch "$D/stop"
	wait_job "$JOB" 180 || fail "ckpt run still running after D/stop"
}

# the counter under `ckpt run -D D/run`; PID the counter
start_run_wl() {
	start_wl "$CKPT" run -D "$D/run" -- "$WLB/counter"
	wait_count_above 8 60 "$JOB"
}

# key_refused MODE: a key of that mode is refused, one line on stderr
# naming it, by every command that reads one: attach --encrypt (73, the
# target runs on), restore and inspect --key of an encrypted image (65),
# serve --auth (66), run --encrypt (64, before it starts the job).
key_refused() {
	local cmd
	need "$WLB/counter" "$CKPT" "$RESTORE"
	expect_exit 0 "$CKPT" keygen "$D/key"
	cp "$D/key" "$D/bad" && chmod "$1" "$D/bad"
	start_wl "$WLB/counter"
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" attach --encrypt "$D/key" -o "$D/enc" "$PID"
	key_refusal 73 "$CKPT" attach --encrypt "$D/bad" -o "$D/img" "$PID"
	no_image
	alive "$PID" || fail "a refused key killed the target"
	key_refusal 65 "$RESTORE" --key "$D/bad" "$D/enc"
	key_refusal 65 "$CKPT" inspect --key "$D/bad" "$D/enc"
	mkdir "$D/srv"
	key_refusal 66 "$CKPT" serve --listen 127.0.0.1:0 -D "$D/srv" \
		--auth "$D/bad"
	key_refusal 64 "$CKPT" run --encrypt "$D/bad" -D "$D/run" -- \
		"$WLB/counter"
	[[ ! -e $D/run ]] || fail "run with a refused key made D/run"
	touch "$D/stop"
	wait_job "$JOB" 60 || fail "counter still running after D/stop"
}

key_refusal() {
	expect_exit "$@"
	one_line_err "${2##*/} ${3}"
	grep -q "key $D/bad is open to others (mode ${MODE#0}): refused" \
		"$D/cmd.err" || fail "${2##*/} $3: $(cat "$D/cmd.err")"
}

t_key-group-readable() {
	MODE=0640 key_refused 0640
}

t_key-world-readable() {
	MODE=0604 key_refused 0604
}

t_key-group-writable() {
	MODE=0620 key_refused 0620
}

t_key-world-writable() {
	MODE=0602 key_refused 0602
}

# image_refused MODE: an image (plain, and compressed) of that mode is
# refused by every command that reads one, one line naming it and the
# mode, exit 66 (it cannot be opened): restore, inspect, convert; and
# once made private again it is read as before.
image_refused() {
	local img
	counter_image
	cp "$D/img" "$D/img.plain"
	zstd -q -c "$D/img" >"$D/img.zst"
	for img in "$D/img.plain" "$D/img.zst"; do
		chmod "$1" "$img"
		image_refusal "$img" "$RESTORE" "$img"
		image_refusal "$img" "$CKPT" inspect "$img"
		image_refusal "$img" "$CKPT" convert "$img" "$D/core"
		[[ ! -e $D/core ]] || fail "convert of a refused image made a core"
		chmod 0600 "$img"
		expect_exit 0 "$CKPT" inspect "$img"
	done
}

image_refusal() {
	local img=$1
	shift
	expect_exit 66 "$@"
	one_line_err "${1##*/} ${2}"
	grep -q "image $img is writable by others (mode ${MODE#0}): refused" \
		"$D/cmd.err" || fail "${1##*/} $2: $(cat "$D/cmd.err")"
}

t_image-group-writable() {
	need "$(command -v zstd)"
	MODE=0620 image_refused 0620
}

t_image-world-writable() {
	need "$(command -v zstd)"
	MODE=0602 image_refused 0602
}

# serve refuses a directory others can write to: they could plant or
# replace the images it receives
t_serve-dir-writable() {
	need "$CKPT"
	expect_exit 0 "$CKPT" keygen "$D/key"
	mkdir -m 0770 "$D/srv"
	expect_exit 66 "$CKPT" serve --listen 127.0.0.1:0 -D "$D/srv" \
		--auth "$D/key"
	one_line_err "serve -D"
	grep -q "directory $D/srv is writable by others (mode 770): refused" \
		"$D/cmd.err" || fail "serve: $(cat "$D/cmd.err")"
}

# A compressed and encrypted image is decoded (libzstd, libsodium) by a
# child confined before it reads a byte of the stream: it stops at the
# "decoding" point with the filter on; inspect then succeeds.
t_confine-decode() {
	need "$WLB/counter" "$CKPT"
	expect_exit 0 "$CKPT" keygen "$D/key"
	DUMP_OPTS=(--compress --encrypt "$D/key")
	counter_image
	POINT=decoding confined_run child "$CKPT" inspect --key "$D/key" \
		"$D/img"
	grep -q "^process $PID" "$D/cmd.out" ||
		fail "inspect of a decoded image shows no process $PID"
}

# bomb_refused CMD...: exit 65, one line saying the size is refused
bomb_refused() {
	expect_exit 65 "$@"
	one_line_err "${1##*/} ${2}"
	grep -q "$WANT" "$D/cmd.err" || fail "${1##*/}: $(cat "$D/cmd.err")"
}

# 256 MiB of zeros in 8 KiB of zstd, read with a limit of 64 MiB: refused
# by inspect, convert and restore once 64 MiB are decoded, no further
t_zstd-bomb() {
	need "$CKPT" "$RESTORE" "$(command -v zstd)"
	head -c 256M /dev/zero | zstd -q -c >"$D/bomb"
	export CKPT_MAX_DECODED=64M
	WANT="the decoded image is larger than 67108864 bytes"
	bomb_refused "$CKPT" inspect "$D/bomb"
	bomb_refused "$CKPT" convert "$D/bomb" "$D/core"
	bomb_refused "$RESTORE" "$D/bomb"
	[[ ! -e $D/core ]] || fail "convert of a bomb made a core"
}

# a frame that declares 1 TiB is refused before any byte is decoded,
# under the default limit (the memory size)
t_zstd-bomb-declared() {
	need "$CKPT" "$RESTORE"
	# magic, FHD (8-byte size, window byte), window 1 MiB, the size,
	# then RLE blocks of 128 KiB of zeros, the last one marked so
	python3 -c '
import sys, struct
b = bytes([0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x50]) + struct.pack("<Q", 1 << 40)
rle = (131072 << 3) | (1 << 1)
b += (struct.pack("<I", rle)[:3] + b"\0") * 8
b += struct.pack("<I", rle | 1)[:3] + b"\0"
sys.stdout.buffer.write(b)' >"$D/bomb"
	chmod 600 "$D/bomb"
	WANT="the zstd frame declares 1099511627776 bytes"
	bomb_refused "$CKPT" inspect "$D/bomb"
	bomb_refused "$RESTORE" "$D/bomb"
}
