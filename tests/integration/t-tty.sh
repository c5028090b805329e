# t-tty.sh - what a restored tree reads and writes through its fds:
# restore --fd giving the root a file of its own choosing in place of
# one of its fds, one image restarted down several paths; terminals.
# Sourced by run.sh.

ALL_TESTS+=(fd-input fd-refused pty-pair pty-typed pty-refused tmux
	   pty-devpts pty-devpts-pivot pty-devpts-console pty-devpts-inflight
	   tmux-devpts
	   pty-column pty-lnext pty-nobpf pty-unopened
	   restore-pty restore-pty-vim restore-pty-less restore-pty-top screen
	   job-control tmux-client)
CKPT_ONLY+="fd-input fd-refused pty-pair pty-typed pty-refused tmux "
CKPT_ONLY+="pty-devpts pty-devpts-pivot pty-devpts-console "
CKPT_ONLY+="pty-devpts-inflight tmux-devpts "
CKPT_ONLY+="restore-pty restore-pty-vim restore-pty-less restore-pty-top "
CKPT_ONLY+="screen job-control tmux-client pty-column pty-lnext pty-nobpf "
CKPT_ONLY+="pty-unopened "
PTYRUN=$TOP/tests/integration/ptyrun.py

# fd_round N WANT5 OPTION...: D/img restored with D/count cut back to
# where the image has it and OPTION..., run to its end; the root's fd 5
# read WANT5, fd 6 the rest of D/input as it was.
fd_round() {
	local n=$1 want=$2
	shift 2
	rm -f "$D/stop" "$D/restored" "$D/seen5" "$D/seen6"
	truncate -s "$FD_POS" "$D/count"
	echo "== round $n" >>"$D/restore.log"
	start_restore "$@"
	wait_restored
	finish
	[[ $(<"$D/seen5") == "$want" ]] ||
		fail "round $n: fd 5 read '$(<"$D/seen5")', want '$want'"
	[[ $(<"$D/seen6") == "original" ]] ||
		fail "round $n: fd 6 read '$(<"$D/seen6")', want 'original'"
}

# One image, restored twice, each run reading its own input through fd 5:
# from the start, then at the original offset (:pos); fd 6, which shared
# fd 5's description, reads on in D/input each time.
t_fd-input() {
	need "$WLB/fdinput" "$CKPT" "$RESTORE"
	echo "XXoriginal" >"$D/input"
	start_wl "$WLB/fdinput"
	wait_count_above 8 60 "$JOB"
	dump_kill
	FD_POS=$(image_count_pos "$D/img")
	echo "first input" >"$D/in1"
	echo "YYsecond input" >"$D/in2"
	fd_round 1 "first input" --fd "5=$D/in1"
	fd_round 2 "second input" --fd 5="$D/in2:r,pos"
}

# --fd refused before anything is made: an fd the root never had, bad
# FLAGS, pos on an fd with no offset; a PATH that can't be opened.
t_fd-refused() {
	need "$WLB/fdinput" "$CKPT" "$RESTORE"
	echo "XXoriginal" >"$D/input"
	start_wl "$WLB/fdinput"
	wait_count_above 8 60 "$JOB"
	dump_kill
	expect_exit 64 "$RESTORE" --fd "9=$D/input" "$D/img"
	grep -q "^restore: can't replace fd 9: the root process $PID of .* had no fd 9\$" \
		"$D/cmd.err" || fail "no error naming fd 9: $(cat "$D/cmd.err")"
	expect_exit 64 "$RESTORE" --fd "5=$D/input:x" "$D/img"
	expect_exit 64 "$RESTORE" --fd "5=" "$D/img"
	expect_exit 64 "$RESTORE" --fd "0=$D/input:pos" "$D/img"
	expect_exit 70 "$RESTORE" --fd "5=$D/none" "$D/img"
	grep -q "can't open $D/none for fd 5" "$D/cmd.err" ||
		fail "no error naming D/none: $(cat "$D/cmd.err")"
	gone "$PID" || fail "a refused restore left $PID running"
}

# A tiny tmux (the ptypair workload): the pty pair, its index, window
# size and termios, the child's session with its controlling terminal
# and foreground group come back; the master reads the child's ticks on,
# none lost or repeated, and what it writes reaches the child.
t_pty-pair() {
	need "$WLB/reaper" "$WLB/ptypair" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$WLB/ptypair"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	inspect "$D/img"
	grep -q "pty-master" "$D/inspect.out" ||
		fail "no pty master in the image"
	start_restore
	wait_restored
	finish
}

# Keys typed and not read yet, both ways of the pair at once: lines
# typed to the child in canonical mode (one ended by ^D, one not ended,
# with a ^V'd erase character) that it reads only after restore, while
# its ticks wait in the master's queue. A dump that leaves the tree
# running puts them back first. ptypair checks the lines, read one by
# one, and that their echo came once.
t_pty-typed() {
	need "$WLB/reaper" "$WLB/ptypair" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$WLB/ptypair" typed
	wait_count_above 8 60 "$JOB"
	expect_exit 0 "$CKPT" attach --tree -o "$D/img.live" "$PID"
	wait_count_above $(($(count_lines) + 5)) 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	start_restore
	wait_restored
	finish
}

# What can't come back exactly is refused by name, and the tree runs on:
# a line typed with a newline quoted by ^V in it; the slave held by a
# process outside the tree (the root dumped alone).
t_pty-refused() {
	local pts='/dev/pts/[0-9]*'
	need "$WLB/reaper" "$WLB/ptypair" "$CKPT"
	start_wl "$WLB/reaper" "$WLB/ptypair" quoted
	refused_by_name "fd [0-9]* of $PID: pty $pts has typed bytes that can't be put back exactly (an end of line or VEOF quoted with VLNEXT; they went back unquoted)" \
		--tree
	rm -f "$D/ready" "$D/stop" "$D/count"
	start_wl "$WLB/reaper" "$WLB/ptypair"
	refused_by_name "fd [0-9]* of $PID: pty $pts is held by fd [0-9]* of [0-9]*, outside the tree"
}

# pty_devpts_sh CMD...: the script of a container (a mount namespace of
# its own, unshare-made) that mounts a devpts instance of its own on
# /dev/pts, /dev/ptmx a bind of its ptmx, then runs CMD
pty_devpts_sh() {
	echo "mount -t devpts -o newinstance,ptmxmode=0666 ckpt-pts /dev/pts && mount --bind /dev/pts/ptmx /dev/ptmx && $*"
}

# pty_devpts_check FILE: the slave of ptypair PID's child (its fd 0) is
# on the container's devpts instance, not on ckpt's /dev/pts; its name
# (/dev/pts/N) in D/FILE
pty_devpts_check() {
	local child dev
	child=$(pgrep -P "$PID" | head -n 1)
	[[ -n $child ]] || fail "ptypair $PID has no child"
	dev=$(nsenter -t "$PID" -m stat -c %d /dev/pts)
	[[ -n $dev && $dev != "$(stat -c %d /dev/pts)" ]] ||
		fail "the container's /dev/pts is ckpt's ($dev)"
	[[ $(stat -L -c %d "/proc/$child/fd/0") == "$dev" ]] ||
		fail "the slave of $child is not on the container's devpts instance ($dev): $(stat -L -c %d "/proc/$child/fd/0")"
	readlink "/proc/$child/fd/0" >"$D/$1"
}

# pty_devpts_cycle: ptypair PID in its container (JOB the reaper above
# it) dumped --tree --kill and restored, its pair on the restored
# instance with the same name; then finish
pty_devpts_cycle() {
	wait_count_above 8 60 "$JOB"
	pty_devpts_check pts.before
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	inspect "$D/img"
	grep -q "pty-master .* devpts mount [1-9]" "$D/inspect.out" ||
		fail "no pty master of the devpts mount in the image"
	grep -q "pty-slave .* devpts mount [1-9]" "$D/inspect.out" ||
		fail "no pty slave of the devpts mount in the image"
	start_restore
	wait_restored
	pty_devpts_check pts.after
	cmp -s "$D/pts.before" "$D/pts.after" ||
		fail "the slave was $(cat "$D/pts.before"), it is $(cat "$D/pts.after")"
	finish
}

# A tiny tmux in a container whose devpts instance is its own (as runc
# and unshare-made containers mount it): dumped --tree --kill, the pair
# comes back on the restored namespace's new instance, with its index
# (/dev/pts/N inside names it), window size, termios, session and
# foreground group; the ticks go on and what the master writes reaches
# the child.
t_pty-devpts() {
	need "$WLB/reaper" "$WLB/ptypair" "$CKPT" "$RESTORE"
	command -v unshare >/dev/null || skip "no unshare"
	start_wl "$WLB/reaper" unshare --mount --propagation private \
		/bin/sh -c "$(pty_devpts_sh exec "$WLB/ptypair")"
	pty_devpts_cycle
}

# pty_console_start DIR [TYPED]: a container (a mount namespace of its
# own) whose devpts instance is mounted on DIR, running counter with its
# fd 0 on pty 0 of that instance, whose master a process outside the
# tree holds (a console, as runc -t or docker run -t keep it) and typed
# TYPED into
pty_console_start() {
	local end=$((SECONDS + 60)) hjob
	rm -f "$D/mounted" "$D/console" "$D/ready" "$D/count" "$D/stop"
	(spawn unshare --mount --propagation private /bin/sh -c \
		"mount -t devpts -o newinstance,ptmxmode=0666 ckpt-pts $1 && touch $D/mounted && until [ -e $D/console ]; do sleep 0.1; done && exec $WLB/counter <$1/0") \
		</dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	until [[ -e $D/mounted ]]; do
		job_done "$JOB" && fail "the container exited: $(lastline "$D/out.log")"
		((SECONDS < end)) || fail "no devpts instance after 60 s"
		nap
	done
	# a master of the instance opened from outside its mount namespace
	# and unlocked (TIOCSPTLCK)
	(spawn python3 -c "import fcntl, os, struct, time
m = os.open('/proc/$JOB/root$1/ptmx', os.O_RDWR | os.O_NOCTTY)
fcntl.ioctl(m, 0x40045431, struct.pack('i', 0))
os.write(m, b'${2-}')
open('$D/console', 'w').close()
time.sleep(3600)") </dev/null >>"$D/out.log" 2>&1 &
	hjob=$!
	track_job "$hjob"
	wait_ready "$end"
}

# The same in a busybox container that pivoted into its root
# (mnt_root), its /dev/ptmx a symbolic link to pts/ptmx: ptypair and its
# libraries copied in, D bound on /w for its files.
t_pty-devpts-pivot() {
	local r=$D/root l MNT_PORT=0
	need "$WLB/reaper" "$WLB/ptypair" "$CKPT" "$RESTORE" /usr/bin/busybox
	mnt_root "$r"
	mkdir -p "$r/w" "$r/dev/pts" && cp "$WLB/ptypair" "$r/bin/" &&
		ln -s pts/ptmx "$r/dev/ptmx" &&
		mknod -m 666 "$r/dev/tty" c 5 0 || fail "can't make the root"
	for l in $(ldd "$WLB/ptypair" | grep -o '/[^ ]*'); do
		mkdir -p "$r${l%/*}" && cp "$l" "$r$l" || fail "can't copy $l"
	done
	(spawn "$WLB/reaper" unshare --mount --propagation private /bin/sh -c \
		"mount --bind $r $r && mount --bind $D $r/w && cd $r && pivot_root . old && exec /bin/sh -c 'umount -l /old && mount -t proc proc /proc && mount -t devpts -o newinstance,ptmxmode=0666 ckpt-pts /dev/pts && cd /w && CKPT_TEST_DIR=/w exec /bin/ptypair </dev/null >>/w/out.log 2>&1'") \
		</dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	wait_ready $((SECONDS + 60))
	pty_devpts_cycle
}

# A console (a pty of the container's own devpts instance whose master a
# process outside the tree holds) with keys typed that the container has
# not read: refused by name, as the holder may type more meanwhile, and
# the container runs on. So is a pty of an instance mounted elsewhere
# than /dev/pts (its slaves are known by their path, /dev/pts/N).
t_pty-devpts-console() {
	need "$WLB/counter" "$CKPT"
	command -v unshare >/dev/null || skip "no unshare"
	pty_console_start /dev/pts abc
	refused_by_name "fd 0 of $PID: pty /dev/pts/0 is a console with keys typed that the container has not read, which fd [0-9]* of [0-9]*, outside the tree, may add to: they can't be kept exactly"
	mkdir "$D/pts" || fail "can't make D/pts"
	pty_console_start "$D/pts"
	refused_by_name "$PID: its fd 0 is a pty of the devpts instance on $D/pts, which is not supported yet (one on /dev/pts is)"
}

# A pty pair of the container's own devpts instance whose master is in
# flight in a unix datagram (SCM_RIGHTS) that no one received yet: the
# restored root makes such ptys after restore queued the messages, so it
# is refused by name, and the tree runs on.
t_pty-devpts-inflight() {
	need "$CKPT"
	command -v unshare >/dev/null || skip "no unshare"
	start_wl unshare --mount --propagation private /bin/sh -c \
		"$(pty_devpts_sh exec python3 -c "'import array, os, socket, time
m, s = os.openpty()
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
a.sendmsg([b\"x\"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array(\"i\", [m]))])
n = 0
while not os.path.exists(\"stop\"):
    n += 1
    with open(\"count\", \"a\") as f:
        f.write(str(n) + \"\\n\")
    if n == 5:
        with open(\"ready.tmp\", \"w\") as f:
            f.write(str(os.getpid()) + \"\\n\")
        os.rename(\"ready.tmp\", \"ready\")
    time.sleep(0.05)'")"
	refused_by_name "fd [0-9]* of $PID: a message queued on it carries pty /dev/pts/0 of the devpts instance on /dev/pts, which is not supported yet"
}

# The slave's line discipline at column 3 ("abc" written, no newline)
# with tabs expanded (TAB3): dumped --kill and restored, the workload's
# tab expands to column 8 (5 spaces).
t_pty-column() {
	need "$WLB/ptycol" "$CKPT" "$RESTORE"
	start_wl "$WLB/ptycol"
	wait_count_above 8 60 "$JOB"
	dump_kill
	inspect "$D/img"
	start_restore
	wait_restored
	finish
}

# VLNEXT (^V) typed last: the next byte typed would be taken literally.
# Refused by name; the tree runs on and finds the next newline quoted.
t_pty-lnext() {
	need "$WLB/ptycol" "$CKPT"
	start_wl "$WLB/ptycol" lnext
	refused_by_name "fd [0-9]* of $PID: pty /dev/pts/[0-9]* had VLNEXT (^V) typed last: the byte after it would not be taken literally after restore"
}

# Bytes typed on a slave never opened: only opening it would read them.
# Refused by name.
t_pty-unopened() {
	need "$WLB/ptycol" "$CKPT"
	start_wl "$WLB/ptycol" unopened
	refused_by_name "fd [0-9]* of $PID: pty /dev/pts/[0-9]* has 5 bytes typed on a slave the tree doesn't hold, which can't be read"
}

# Without CAP_BPF (and the rest) the column can't be seen: a pty whose
# termios would use it is refused, saying why.
t_pty-nobpf() {
	need "$WLB/ptycol" "$CKPT"
	start_wl "$WLB/ptycol"
	refused_without_bpf "fd [0-9]* of $PID: pty /dev/pts/[0-9]* has a line discipline whose column, VLNEXT and typed bytes can't be seen (BPF: Operation not permitted)"
}

# last_tick: the highest "tick N" in the pane of the tmux server at
# D/sock, or -1.
last_tick() {
	tmux -S "$D/sock" capture-pane -p 2>>"$D/errors.log" |
		sed -n 's/^tick \([0-9][0-9]*\)$/\1/p' | tail -n 1 | grep . ||
		echo -1
}

# wait_tick N SECS: until the pane shows a tick above N.
wait_tick() {
	local end=$((SECONDS + $2))
	while (($(last_tick) <= $1)); do
		((SECONDS < end)) || fail "no tick above $1 in the pane" \
					  "after $2 s: $(last_tick)"
		nap
	done
}

# tmux_started: the tmux server on D/sock just spawned (JOB the reaper
# above it) shows ticks; PID is the server
tmux_started() {
	JOB=$!
	track_job "$JOB"
	wait_tick 5 60
	PID=$(tmux -S "$D/sock" display -p '#{pid}') ||
		fail "can't ask tmux for its PID"
	track_pid "$PID"
}

# tmux_dump_restore: the server dumped with --tree --kill (D/inspect.out
# then) and restored; the ticks go on
tmux_dump_restore() {
	local n
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	n=$(last_tick)
	((n == -1)) || fail "the killed server still answers"
	inspect "$D/img"
	grep -q "pty-master" "$D/inspect.out" ||
		fail "no pty master in the image"
	start_restore
	wait_back
	n=$(last_tick)
	wait_tick $((n + 5)) 60
}

tmux_end() {
	tmux -S "$D/sock" kill-server
	wait_job "$RJOB" 60 || fail "the server still runs after kill-server"
}

# Real tmux: a server with a counter in its pane, no client attached,
# dumped with --tree --kill and restored: capture-pane through the same
# socket shows the counter going on.
t_tmux() {
	command -v tmux >/dev/null || fail "tmux not found"
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	(spawn "$WLB/reaper" tmux -S "$D/sock" new-session -d -x 90 -y 20 \
		"i=0; while :; do echo tick \$i; i=\$((i + 1)); sleep 0.1; done") \
		</dev/null >>"$D/out.log" 2>&1 &
	tmux_started
	tmux_dump_restore
	tmux_end
}

# tmux_pane_check FILE: the pane's shell (tmux server PID's child) has
# its terminal on the devpts instance of the server's mount namespace,
# not on ckpt's /dev/pts; the pane's name (/dev/pts/N) in D/FILE
tmux_pane_check() {
	local pane dev
	pane=$(tmux -S "$D/sock" display -p '#{pane_pid}') ||
		fail "can't ask tmux for its pane"
	dev=$(nsenter -t "$PID" -m stat -c %d /dev/pts)
	[[ -n $dev && $dev != "$(stat -c %d /dev/pts)" ]] ||
		fail "the server's /dev/pts is ckpt's ($dev)"
	[[ $(stat -L -c %d "/proc/$pane/fd/0") == "$dev" ]] ||
		fail "the pane's terminal is not on the server's devpts instance"
	tmux -S "$D/sock" display -p '#{pane_tty}' >"$D/$1"
}

# Real tmux in a mount namespace of its own with its own devpts instance
# (pty_devpts_sh), its pane on that instance: dumped with --tree --kill
# and restored, the pane's pty is on the restored instance, with its
# name, and the counter in it goes on.
t_tmux-devpts() {
	command -v tmux >/dev/null || fail "tmux not found"
	command -v unshare >/dev/null || skip "no unshare"
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	(spawn "$WLB/reaper" unshare --mount --propagation private /bin/sh -c \
		"$(pty_devpts_sh exec tmux -S "$D/sock" new-session -d -x 90 -y 20 \
		"'i=0; while :; do echo tick \$i; i=\$((i + 1)); sleep 0.1; done'")") \
		</dev/null >>"$D/out.log" 2>&1 &
	tmux_started
	tmux_pane_check tty.before
	tmux_dump_restore
	grep -q "pty-master .* devpts mount [1-9]" "$D/inspect.out" ||
		fail "no pty master of the devpts mount in the image"
	tmux_pane_check tty.after
	cmp -s "$D/tty.before" "$D/tty.after" ||
		fail "the pane was $(cat "$D/tty.before"), it is $(cat "$D/tty.after")"
	tmux_end
}

# wait_path PATH SECS: until PATH exists; JOB ending first is a failure.
wait_path() {
	local end=$((SECONDS + $2))
	while [[ ! -e $1 ]]; do
		job_done "$JOB" && fail "the terminal ended before ${1##*/}:" \
					"$(tail -c 300 "$D/tty1.log")"
		((SECONDS < end)) || fail "no ${1##*/} after $2 s"
		nap
	done
}

# pty_dump SIZE STEP... -- CMD...: CMD on a terminal of SIZE of its own
# (ptyrun.py), which plays the STEPs (the last touching D/ready1); then
# CMD is dumped --kill.
pty_dump() {
	local size=$1
	shift
	(spawn python3 "$PTYRUN" --log "$D/tty1.log" --size "$size" \
		--pid "$D/pid1" "$@") </dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	wait_path "$D/ready1" 60
	PID=$(<"$D/pid1")
	track_pid "$PID"
	dump_kill
	wait_job "$JOB" 60 || fail "the first terminal still runs"
}

# pty_restore SIZE WANT STEP...: restore --pty of D/img on a second
# terminal of SIZE, which plays the STEPs once the root is back; restore
# must exit WANT and leave that terminal cooked.
pty_restore() {
	local size=$1 want=$2
	shift 2
	(spawn python3 "$PTYRUN" --log "$D/tty2.log" --size "$size" \
		--wait "$D/back" "$@" --cooked 1 -- "$RESTORE" --pty "$D/img") \
		</dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	wait_back
	touch "$D/back"
	wait_job "$RJOB" 120 || fail "restore --pty still runs after 120 s:" \
				     "$(tail -c 300 "$D/tty2.log")"
	((WST == want)) || fail "restore --pty exited $WST, want $want:" \
				"$(tail -c 300 "$D/tty2.log")"
}

# restore --pty: a python REPL on a 30x100 terminal of its own (ptyrun.py)
# with x = 41 set, dumped --kill, comes back in a 40x120 terminal that
# restore --pty bridges: the REPL reads the keys typed there, x holds,
# its terminal is its new size (and the next, after a resize), and
# restore exits with its status, leaving its own terminal in canonical
# mode with echo again.
t_restore-pty() {
	local py
	py=$(command -v python3) || fail "python3 not found"
	need "$CKPT" "$RESTORE"
	pty_dump 30x100 --expect '>>> ' --send 'x = 41\r' --expect '>>> ' \
		--touch "$D/ready1" -- "$py" -q
	inspect "$D/img"
	grep -q "tty .* 30x100 sid $PID fg $PID" "$D/inspect.out" ||
		fail "no terminal of 30x100 in the image"
	pty_restore 40x120 7 --send 'x + 1\r' --expect '42' \
		--send 'import os; os.get_terminal_size()\r' \
		--expect 'columns=120, lines=40' --resize 50x130 \
		--send 'os.get_terminal_size()\r' \
		--expect 'columns=130, lines=50' \
		--send 'import sys; sys.exit(x - 34)\r'
}

# vim, full screen on a 30x100 terminal, editing a file with a line typed
# and not saved (its swap file open), dumped --kill: restore --pty on a
# 40x120 terminal; vim sees its new size, takes the keys typed there and
# saves both lines; its swap file is gone after :wq.
t_restore-pty-vim() {
	command -v vim >/dev/null || fail "vim not found"
	need "$CKPT" "$RESTORE"
	pty_dump 30x100 --expect 'note.txt' --send 'iline before\x1b' \
		--expect 'line before' --touch "$D/ready1" -- \
		env TERM=xterm vim -u NONE -N -i NONE "$D/note.txt"
	[[ -e $D/.note.txt.swp ]] || fail "vim made no swap file"
	# keys wait for the redraw at the new size (typed during it, vim
	# may drop them as typeahead)
	pty_restore 40x120 0 --expect '\[39;1H~.*\?25h' \
		--send ':echo "size=" . &columns . "x" . &lines\r' \
		--expect 'size=120x40' --send 'oline after\x1b:wq\r'
	[[ $(<"$D/note.txt") == $'line before\nline after' ]] ||
		fail "vim saved '$(<"$D/note.txt")'"
	[[ ! -e $D/.note.txt.swp ]] || fail "vim left its swap file"
}

# less on a 30x100 terminal, at line 500 of 1000, dumped --kill:
# restore --pty on a 40x120 terminal; less redraws from line 500 at its
# new height (line 538 is the last shown) and quits on q.
t_restore-pty-less() {
	command -v less >/dev/null || fail "less not found"
	need "$CKPT" "$RESTORE"
	seq -f 'line %g' 1000 >"$D/lines.txt"
	pty_dump 30x100 --expect 'line 29' --send '500g' \
		--expect 'line 528' --touch "$D/ready1" -- \
		env TERM=xterm LESS= LESSHISTFILE=- less "$D/lines.txt"
	pty_restore 40x120 0 --expect 'line 538' --send 'q'
	grep -q 'line 539' "$D/tty2.log" && fail "less drew past line 538"
	return 0
}

# top watching itself (-p) on a 30x100 terminal, dumped --kill: restore
# --pty on a 40x120 terminal; top goes on refreshing (two screens after
# the restore, listing its own PID) and quits on q.
t_restore-pty-top() {
	command -v top >/dev/null || fail "top not found"
	need "$CKPT" "$RESTORE"
	pty_dump 30x100 --expect 'top - ' --expect 'top - ' \
		--touch "$D/ready1" -- env TERM=xterm HOME="$D" \
		sh -c 'exec top -d 0.5 -p $$'
	pty_restore 40x120 0 --expect 'top - ' --expect 'top - ' \
		--send 'q'
	sed 's/\x1b[[(][0-9;?]*[A-Za-z]//g' "$D/tty2.log" |
		grep -q "^ *$PID root " ||
		fail "top after restore never listed its own PID $PID"
}

# scr ARGS...: GNU screen with the test's own socket directory.
scr() {
	SCREENDIR=$D/screens screen "$@"
}

# scr_tick: the highest "tick N" in the counter window of screen session
# ckt, or -1.
scr_tick() {
	rm -f "$D/hardcopy"
	scr -S ckt -p counter -X hardcopy "$D/hardcopy" >>"$D/errors.log" 2>&1
	sed -n 's/^tick \([0-9][0-9]*\) *$/\1/p' "$D/hardcopy" 2>/dev/null |
		tail -n 1 | grep . || echo -1
}

# wait_scr_tick N SECS: until the counter window shows a tick above N.
wait_scr_tick() {
	local end=$((SECONDS + $2))
	while (($(scr_tick) <= $1)); do
		((SECONDS < end)) || fail "no tick above $1 in the window" \
					  "after $2 s: $(scr_tick)"
		sleep 0.2
	done
}

# GNU screen: a session with two windows, a shell and a counter, no
# client attached, dumped with --tree --kill of its server and restored:
# the counter goes on, and `screen -r` from a new terminal (ptyrun.py)
# lists both windows and reaches the shell, which answers; detached
# again, the session is told to quit and restore ends with it.
t_screen() {
	local n
	command -v screen >/dev/null || fail "screen not found"
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	mkdir -m 700 "$D/screens"
	echo "startup_message off" >"$D/screenrc"
	echo 'i=0; while :; do echo tick $i; i=$((i + 1)); sleep 0.1; done' \
		>"$D/counter.sh"
	(SCREENDIR=$D/screens spawn "$WLB/reaper" screen -c "$D/screenrc" \
		-dmS ckt bash --norc --noprofile) </dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	n=$((SECONDS + 60))
	until PID=$(scr -ls | sed -n 's/^\t\([0-9]*\)\.ckt\t.*/\1/p') &&
	      [[ -n $PID ]]; do
		((SECONDS < n)) || fail "no screen session after 60 s"
		nap
	done
	track_pid "$PID"
	scr -S ckt -X screen -t counter sh "$D/counter.sh" ||
		fail "can't open the counter window"
	wait_scr_tick 5 60
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	# restore -d: screen clients signal the server, which must be
	# running by then; under the reaper, which the tree's end ends
	(spawn "$WLB/reaper" "$RESTORE" -d "$D/img") </dev/null \
		>"$D/restored.pid" 2>>"$D/restore.log" &
	RJOB=$!
	track_job "$RJOB"
	n=$((SECONDS + 120))
	until [[ $(<"$D/restored.pid") == "$PID" ]]; do
		job_done "$RJOB" && fail "restore failed:" \
					 "$(lastline "$D/restore.log")"
		((SECONDS < n)) || fail "PID $PID not back after restore"
		nap
	done
	n=$(scr_tick)
	wait_scr_tick $((n + 5)) 60
	(spawn python3 "$PTYRUN" --log "$D/tty2.log" --size 24x80 \
		--expect 'tick' --send '\x01w' --expect '0.*bash.*1.*counter' \
		--send '\x010' --send 'echo hello-$((6 * 7))\r' \
		--expect 'hello-42' --send '\x01d' -- \
		env SCREENDIR="$D/screens" screen -r ckt) </dev/null \
		>>"$D/out.log" 2>&1 &
	n=$!
	track_job "$n"
	wait_job "$n" 90 || fail "screen -r still runs after 90 s"
	((WST == 0)) || fail "screen -r exited $WST:" \
			     "$(tail -c 300 "$D/tty2.log")"
	scr -S ckt -X quit
	wait_job "$RJOB" 60 || fail "the server still runs after quit"
}

# Job control across a restore (the jobctl.py workload drives bash -i on
# a pty of its own): a stopped job and a foreground counter at dump time;
# after restore the same foreground group, ^Z, jobs, fg, /dev/tty.
t_job-control() {
	local py
	py=$(python3 -c 'import sys; print(sys.executable)') ||
		fail "python3 not found"
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	start_wl "$WLB/reaper" "$py" "$WLS/jobctl.py"
	wait_count_above 8 60 "$JOB"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the reaper did not end after the kill"
	start_restore
	wait_restored
	touch "$D/restored"
	wait_job "$RJOB" 120 || fail "still running 120 s after D/restored"
	((WST == 0)) || fail "exited $WST:" \
			     "$(grep -h FAIL "$D/out.log" | tail -n 1)"
	check_count
}

# tick_of WINDOW: the highest "tick N" in that window of the tmux server
# at D/sock, or -1.
tick_of() {
	tmux -S "$D/sock" capture-pane -p -t ":$1" 2>>"$D/errors.log" |
		sed -n 's/^tick \([0-9][0-9]*\)$/\1/p' | tail -n 1 | grep . ||
		echo -1
}

# tmux with a client attached at dump time, the client dumped with the
# tree: under the reaper on a terminal of the test's (ptyrun.py), a
# client whose server (a daemon, reparented to the reaper) has a shell
# window and a counter window. Dumped with --tree --kill, restored with
# restore --pty on a second terminal (made before the dump, so that the
# pane's pty index stays free): the client comes back attached there,
# the counter goes on and is drawn, keys reach the shell through the
# client; detached, the client ends, and kill-server ends the tree.
t_tmux-client() {
	local n end
	command -v tmux >/dev/null || fail "tmux not found"
	need "$WLB/reaper" "$CKPT" "$RESTORE"
	echo 'i=0; while :; do echo tick $i; i=$((i + 1)); sleep 0.1; done' \
		>"$D/counter.sh"
	(spawn python3 "$PTYRUN" --log "$D/tty1.log" --size 24x80 \
		--pid "$D/pid1" --expect 'tick [0-9]' --touch "$D/ready1" -- \
		env TERM=xterm "$WLB/reaper" tmux -f /dev/null -S "$D/sock" \
		new-session "PS1='$ ' bash --norc --noprofile" \; \
		new-window "sh $D/counter.sh") </dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	wait_path "$D/ready1" 60
	PID=$(<"$D/pid1")
	track_pid "$PID"
	# the server, a daemon: the same PID once restored, killed if we fail
	n=$(tmux -S "$D/sock" display -p '#{pid}') ||
		fail "can't ask tmux for its PID"
	track_pid "$n"
	(spawn python3 "$PTYRUN" --log "$D/tty2.log" --size 24x80 \
		--expect 'tick [0-9]' --send '\x020' \
		--send 'echo hello-$((6 * 7))\r' --expect 'hello-42' \
		--send '\x02d' --expect 'detached' -- sh -c \
		"touch '$D/ready2'; until [ -e '$D/go' ]; do sleep 0.1; done
		 exec '$RESTORE' --pty '$D/img'") \
		</dev/null >>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	# its pty made before the dump: made after the kill, it could take
	# the index of a pane's
	wait_path "$D/ready2" 60
	n=$(tick_of 1)
	((n >= 0)) || fail "no counter in window 1"
	DUMP_OPTS=(--tree)
	dump_kill
	wait_job "$JOB" 60 || fail "the first terminal still runs"
	touch "$D/go"
	wait_back
	wait_tick_of 1 $((n + 5)) 60
	end=$((SECONDS + 60))
	until grep -q detached "$D/tty2.log"; do
		job_done "$RJOB" && fail "restore --pty ended:" \
					 "$(tail -c 300 "$D/tty2.log")"
		((SECONDS < end)) || fail "the client did not detach:" \
					  "$(tail -c 300 "$D/tty2.log")"
		nap
	done
	tmux -S "$D/sock" kill-server
	wait_job "$RJOB" 60 || fail "restore --pty still runs after kill-server"
	((WST == 0)) || fail "restore --pty exited $WST:" \
			     "$(tail -c 300 "$D/tty2.log")"
}

# wait_tick_of WINDOW N SECS: until that window shows a tick above N.
wait_tick_of() {
	local end=$((SECONDS + $3))
	while (($(tick_of "$1") <= $2)); do
		((SECONDS < end)) || fail "no tick above $2 in window $1" \
					  "after $3 s: $(tick_of "$1")"
		sleep 0.2
	done
}
