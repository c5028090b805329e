# t-files.sh - open files and what they lead to: regular files, a
# terminal, pipes and FIFOs, shared memory, unix sockets, eventfd,
# timerfd, signalfd, inotify and epoll; and the fds a dump refuses (TCP,
# a listener's backlog, an fd shared outside the tree) or, with
# --ext-null, replaces by /dev/null.  Sourced by run.sh.

ALL_TESTS+=(shm-id-taken files tty pipes ext-null shm shm-alone sockets sockets-tcp kfds
	    kfds-single sockets-backlog kfd-outside restore-fail-shm unixgap
	    ext-unix unix-oob unixq unixq-live fdpass fdpass-live passcred
	    passcred-refused)
CKPT_ONLY+="pipes ext-null shm sockets sockets-tcp kfds sockets-backlog "
CKPT_ONLY+="ext-unix unix-oob unixq unixq-live fdpass fdpass-live passcred "
CKPT_ONLY+="passcred-refused "
CKPT_ONLY+="kfd-outside restore-fail-shm "

t_files() {
	need "$WLB/files"
	wl_test "$WLB/files"
}

t_tty() {
	local cmd
	need "$WLB/tty"
	command -v script >/dev/null || fail "script (util-linux) not found"
	printf -v cmd '%q' "$WLB/tty"
	RESTORE_TTY=1
	wl_test script -qfec "$cmd" "$D/tty1.log"
	grep -q tty-ok "$D/tty2.log" 2>/dev/null ||
		{ ((NO_CKPT)) && grep -q tty-ok "$D/tty1.log"; } ||
		fail "\"tty-ok\" is not in the restored terminal's log"
}

# Pipes and a FIFO between parent and child, full at dump time: every
# record comes exactly once after restore (the workload counts them), the
# bytes of a pipe whose writer is gone come before its end of file, and
# the fds of the restored tree are the pipes they were (one description
# under two fds in the parent). Restored twice from one image.
t_pipes() {
	local spos
	start_tree pipes 1 30
	FDS_BEFORE=$(canon_fds "$PID" $TREE_KIDS)
	dump_tree_live
	grep -Eq '^file [0-9]+: pipe .* [1-9][0-9]{3,} bytes queued' "$D/inspect.out" ||
		fail "inspect shows no pipe with bytes queued: $(cat "$D/inspect.out")"
	end_dumped_tree
	spos=$(grep -m1 "^file [0-9]*: reg .* $D/shared\$" "$D/inspect.out") ||
		fail "inspect shows no shared file D/shared"
	spos=${spos#* pos }
	HOOK_RESTORED=check_pipe_fds
	restore_twice "$D/shared" "${spos%% *}"
}

# A TCP connection to a process outside (fd 5 of a bash counter): the
# dump is refused naming it, exit 70, the target left running; with
# --ext-null it is dumped with a warning naming it, and restored as
# /dev/null with a warning from restore.
t_ext-null() {
	need "$CKPT" "$RESTORE"
	start_listener
	start_wl "$BASH" -c 'exec 5<>"/dev/tcp/127.0.0.1/$1" && exec "$BASH" "$2"' \
		ext "$PORT" "$WLS/counter.sh"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd 5 of $PID: socket:\[[0-9]*\]" "$D/cmd.err" ||
		fail "no error naming fd 5: $(cat "$D/cmd.err")"
	[[ -e $D/img ]] && fail "a refused dump left D/img"
	stopped "$PID" && fail "target left stopped (state $ST)"
	DUMP_OPTS=(--ext-null)
	dump_kill
	grep -q "fd 5 of $PID: socket:.*/dev/null after restore" "$D/ckpt.log" ||
		fail "no warning from ckpt: $(lastline "$D/ckpt.log")"
	start_restore
	wait_restored
	[[ $(readlink "/proc/$PID/fd/5") == /dev/null ]] ||
		fail "fd 5 after restore: $(readlink "/proc/$PID/fd/5")"
	grep -q "fd 5 of $PID was socket:.*/dev/null instead" "$D/restore.log" ||
		fail "no warning from restore: $(lastline "$D/restore.log")"
	finish
}

# attach --tree of a parent and a child that share a MAP_SHARED anonymous
# region, a memfd and two System V segments (tests/workloads/shm.c): the
# image holds each object once, named by the VMAs of both processes, and
# after the restore the workload checks that the data is intact and that
# each side sees the other's writes. As in t_tree the dumped tree ends by
# itself (removing its keyed segment), and the image is restored twice.
t_shm() {
	start_tree shm 1 8
	dump_tree_live
	check_shm_image
	end_dumped_tree
	HOOK_ENDED=sysv_key_gone
	restore_twice
}

# One process with each object mapped twice, dumped with --kill (which
# leaves its keyed System V segment behind, unattached: restore takes it
# over) and restored; the workload checks that both views are one object.
t_shm-alone() {
	need "$WLB/shm"
	wl_test "$WLB/shm" alone
	sysv_key_gone
}

# The shm workload alone, dumped with --kill, and the keyed segment that
# --kill leaves behind removed, so that restore makes its segments anew.
shm_alone_killed() {
	need "$WLB/shm" "$CKPT" "$RESTORE"
	start_wl "$WLB/shm" alone
	wait_count_above 8 60 "$JOB"
	dump_kill
	ipcrm -M "$(<"$D/shm.key")" ||
		fail "can't remove the segment that --kill left behind"
}

# A restore that fails after it made the image's System V segments
# removes them: here prctl(PR_SET_CHILD_SUBREAPER), which restore calls
# after making them, is refused by a seccomp filter (installed by python3
# before it execs restore, so that restore keeps its PID). The keyed
# segment that --kill leaves behind is removed first, or restore would
# take it over and rightly leave it. Afterwards no segment has the image's
# key, and none was created by restore.
t_restore-fail-shm() {
	local cpid left id
	shm_alone_killed
	no_subreaper
	expect_exit 70 "${NO_SUBREAPER[@]}" "$RESTORE" "$D/img"
	grep -q "can't become a child subreaper" "$D/cmd.err" ||
		fail "restore did not fail where expected: $(cat "$D/cmd.err")"
	read -r cpid <"$D/restore.pid"
	left=$(awk -v p="$cpid" 'NR > 1 && $5 == p { print $2 }' \
		/proc/sysvipc/shm)
	for id in $left; do
		ipcrm -m "$id"
	done
	[[ -z $left ]] || fail "the failed restore left System V segments" \
			       $left "behind"
	sysv_key_gone
	gone "$PID" || fail "the failed restore left PID $PID behind"
}

# A System V segment whose id another segment took after the dump: the
# process may hold that id, so restore refuses (exit 70) before any
# process exists, and leaves the other segment alone and none of its own.
# The removed segment of the shm workload is gone with the killed
# process; its id is taken through shm_next_id (ipcmk).
t_shm-id-taken() {
	local id other before after
	shm_alone_killed
	"$CKPT" inspect "$D/img" >"$D/inspect.out" 2>>"$D/errors.log" ||
		fail "ckpt inspect of the image failed"
	id=$(awk '/^shm .* sysv .* removed$/ {
		for (i = 1; i < NF; i++) if ($i == "shmid") print $(i + 1) }' \
		"$D/inspect.out")
	[[ -n $id ]] || fail "no removed System V segment in the image"
	echo "$id" >/proc/sys/kernel/shm_next_id
	other=$(ipcmk -M 4096 | awk '{print $NF}')
	if [[ $other != "$id" ]]; then
		[[ -n $other ]] && ipcrm -m "$other"
		fail "ipcmk made segment '$other', not $id"
	fi
	before=$(awk 'NR > 1 { print $2 }' /proc/sysvipc/shm | sort)
	expect_exit 70 "$RESTORE" "$D/img"
	after=$(awk 'NR > 1 { print $2 }' /proc/sysvipc/shm | sort)
	ipcrm -m "$other" || fail "segment $other is gone"
	grep -q "System V segment $id: that id is taken" "$D/cmd.err" ||
		fail "restore did not name the segment: $(cat "$D/cmd.err")"
	[[ $before == "$after" ]] ||
		fail "the failed restore changed the segments: $before / $after"
	gone "$PID" || fail "the failed restore left PID $PID behind"
}

# The objects of the shm workload, each once: two anonymous (one of them
# the parent's alone), the memfd by name, two System V segments (one
# removed); the parent's VMAs name all five, the child's all but one.
check_shm_image() {
	local kinds per_proc
	"$CKPT" inspect "$D/img" >"$D/inspect.out" 2>>"$D/errors.log" ||
		fail "ckpt inspect of the image failed"
	kinds=$(awk '/^shm /{print $3}' "$D/inspect.out" | sort | tr '\n' ' ')
	[[ $kinds == "anon anon memfd sysv sysv " ]] ||
		fail "shm objects in the image: '$kinds'"
	grep -q '^shm .* memfd .* name ckpt-shm-test$' "$D/inspect.out" ||
		fail "the memfd lost its name: $(grep memfd "$D/inspect.out")"
	grep -q '^shm .* sysv .* removed$' "$D/inspect.out" ||
		fail "no removed System V segment in the image"
	# per process, how many distinct objects its VMAs name
	per_proc=$(awk '/^process /{p = $2} /^vma .* shm [0-9]/{
		for (i = 1; i < NF; i++) if ($i == "shm") seen[p " " $(i + 1)] = 1 }
		END { for (k in seen) { split(k, a, " "); n[a[1]]++ }
		      for (q in n) print n[q] }' "$D/inspect.out" | sort |
		tr '\n' ' ')
	[[ $per_proc == "4 5 " ]] ||
		fail "objects named per process: '$per_proc', want '4 5 '"
}

sysv_key_gone() {
	local key
	key=$(printf '0x%08x' "$(<"$D/shm.key")")
	grep -qi "^ *$(<"$D/shm.key") " /proc/sysvipc/shm &&
		fail "System V segment $key left behind"
	return 0
}

# canon_fds PID...: the fd tables of the processes, pipe inodes renamed
# pipe1, pipe2, ... in order of appearance: which fds are the same pipe
# shows, whatever its inode number.
canon_fds() {
	local p f l n=0
	declare -A seen=()
	for p; do
		for f in $(ls "/proc/$p/fd" | sort -n); do
			l=$(readlink "/proc/$p/fd/$f")
			if [[ $l == pipe:* ]]; then
				[[ -n ${seen[$l]-} ]] || seen[$l]=pipe$((++n))
				l=${seen[$l]}
			fi
			echo "$p $f $l"
		done
	done
}

# The tree's fds after restore are those it had, the same fds on one
# pipe as before.
check_pipe_fds() {
	local now
	now=$(canon_fds "$PID" $TREE_KIDS)
	[[ $now == "$FDS_BEFORE" ]] ||
		fail "fds after restore: $(echo $now); before: $(echo $FDS_BEFORE)"
}

# Unix sockets of every kind between parent and child, queues full both
# ways at dump time: every record and message comes exactly once after
# restore (the workload counts them), a shut down stream gives its bytes
# and then end of file, names and options come back, and the fds of the
# restored tree are sockets connected to each other as they were.
# Restored twice from one image.
t_sockets() {
	local kind
	start_tree sockets 1 30
	dump_tree_live
	for kind in stream dgram seqpacket; do
		grep -Eq "^file [0-9]+: unix .* $kind connected .* [1-9][0-9]+ bytes queued" \
			"$D/inspect.out" ||
			fail "inspect shows no $kind socket with bytes queued:" \
			     "$(grep unix "$D/inspect.out")"
	done
	grep -q "stream listening .*srv.sock" "$D/inspect.out" ||
		fail "inspect shows no listener: $(grep unix "$D/inspect.out")"
	end_dumped_tree
	HOOK_RESTORED=check_socket_fds
	restore_twice
}

# Unix sockets at the edges (tests/workloads/unixgap.c): abstract names
# holding NUL bytes, bound paths whose files were unlinked (not made
# again), a datagram socket whose peer closed and another bound where
# the peer was, a stream whose peer closed with its listener still
# there, a datagram socket connected to itself; inspect shows what the
# image says.
unixgap_image() {
	inspect "$D/img"
	grep -q "^file [0-9]*: unix .*dgram .*@ugap\\\\0na\\\\\\\\x$" \
		"$D/inspect.out" ||
		fail "inspect shows no escaped abstract name:" \
		     "$(grep unix "$D/inspect.out")"
	grep -q "^file [0-9]*: unix .*gone.sock (unlinked)$" "$D/inspect.out" &&
	grep -q "^file [0-9]*: unix .*dgram connected peer 0 .* peer-name $D/peer.sock$" \
		"$D/inspect.out" ||
		fail "inspect shows no unlinked name or peer's name:" \
		     "$(grep unix "$D/inspect.out")"
}

t_unixgap() {
	need "$WLB/unixgap"
	HOOK_DUMPED=unixgap_image
	wl_test "$WLB/unixgap"
}

# A process with a datagram socket connected to a server outside the
# tree (like syslog's /dev/log) and a stream connected to another
# (tests/integration/unixsink.py, started by the test), sending a
# numbered message on each as it counts: refused by name without
# --ext-unix (exit 70, left running); with it dumped (--kill), restored,
# connected again by name, and every number reaches the servers exactly
# once across the dump.
t_ext-unix() {
	local py i n
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT" "$RESTORE"
	(cd "$D" && exec "$py" "$TOP/tests/integration/unixsink.py") \
		</dev/null >>"$D/sink.log" 2>&1 &
	track_job $!
	for ((i = 0; i < 600; i++)); do
		[[ -e $D/up.txt ]] && break
		nap
	done
	[[ -e $D/up.txt ]] || fail "the servers outside the tree are not up"
	start_wl "$py" -c '
import os, socket, sys, time
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.connect("log.sock")
s = socket.socket(socket.AF_UNIX)
s.connect("sink.sock")
cnt = os.open("count", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
n = 0
while True:
    os.write(cnt, b"%d\n" % n)
    n += 1
    d.send(b"%d" % n)
    s.sendall(b"%d\n" % n)
    if n == 5:
        open("ready.tmp", "w").write("%d\n" % os.getpid())
        os.rename("ready.tmp", "ready")
    if n > 5 and os.path.exists("stop"):
        break
    time.sleep(0.02)
open("last.txt", "w").write("%d\n" % n)'
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd [0-9]* of $PID: socket:\[[0-9]*\] is a unix [a-z]* socket connected to socket:\[[0-9]*\] ([a-z]*\.sock) of process [0-9]* (fd [0-9]*), outside the tree; only unix sockets within the tree are supported$" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "attach without --ext-unix"
	no_image "a refused dump"
	stopped "$PID" && fail "target left stopped (state $ST)"
	wait_count_above $(($(count_lines) + 3)) 60 "$JOB"
	DUMP_OPTS=(--ext-unix)
	dump_kill
	inspect "$D/img"
	(($(grep -c "^file [0-9]*: unix .* connected peer 0 .* peer-name [a-z]*\.sock external$" \
		"$D/inspect.out") == 2)) ||
		fail "inspect shows no two external sockets:" \
		     "$(grep unix "$D/inspect.out")"
	start_restore
	wait_restored
	finish
	read -r n <"$D/last.txt" || fail "the workload left no last.txt"
	for i in log sink; do
		for ((k = 0; k < 600; k++)); do
			[[ $(sort -n "$D/$i.txt" | tail -n 1) == "$n" ]] && break
			nap
		done
		cmp -s <(sort -n "$D/$i.txt") <(seq 1 "$n") ||
			fail "$i.txt is not 1 to $n once each:" \
			     "$(sort -n "$D/$i.txt" | uniq -c | awk '$1 != 1' | head -3)"
	done
}

# A unix stream with urgent data queued (MSG_OOB) is refused by name.
t_unix-oob() {
	files_py_refused '
import socket
a, b = socket.socketpair()
a.send(b"!", socket.MSG_OOB)' \
		"is a unix stream socket .*socket:\[[0-9]*\] is a unix stream socket that has urgent data (MSG_OOB) queued" \
		"attach of urgent data"
}

# files_py_refused CODE RE WHAT [OPTION...]: python3 runs CODE, then
# counts (counter.py); attach with OPTION... is refused, exit 70, with
# one line "ckpt: can't dump fd N of PID: socket:[INO] RE, which is not
# supported"; the process runs on.
files_py_refused() {
	local py code=$1 re=$2 what=$3
	shift 3
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT"
	start_wl "$py" -c "import runpy, sys
$code
runpy.run_path(sys.argv[1], run_name='__main__')" "$WLS/counter.py"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach "$@" -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd [0-9]* of $PID: socket:\[[0-9]*\] $re, which is not supported$" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "$what"
	refused_runs_on
}

# Unix listeners (stream and seqpacket) with connections not yet
# accepted, some holding data (tests/workloads/unixq.c): dumped with
# --kill, restored, accept() gives them in order with their data.
unixq_image() {
	inspect "$D/img"
	(($(grep -c "^file [0-9]*: unix .* connected peer [1-9][0-9]* .* waiting [1-3]$" \
		"$D/inspect.out") == 5)) ||
		fail "inspect shows no 5 waiting clients:" \
		     "$(grep unix "$D/inspect.out")"
}

t_unixq() {
	need "$WLB/unixq"
	HOOK_DUMPED=unixq_image
	wl_test "$WLB/unixq"
}

# The same dumped live (no --kill): refused by name, since the data sent
# on a connection not yet accepted can only be read by accepting it; the
# workload's queues are untouched (it checks them as if restored).
t_unixq-live() {
	files_live_refused unixq "is a unix socket listening on .* whose connections not yet accepted hold data" \
		"a listener with data waiting"
}

# files_live_refused WL RE WHAT: workload WL dumped live is refused:
# "ckpt: can't dump fd N of PID: socket:[INO] RE, which ckpt takes only
# with --kill", one line; it then checks its state as if restored, and
# runs on.
files_live_refused() {
	need "$WLB/$1" "$CKPT"
	start_wl "$WLB/$1"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd [0-9]* of $PID: socket:\[[0-9]*\] $2, which ckpt takes only with --kill$" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "live attach of $3"
	touch "$D/restored"
	refused_runs_on
}

# Descriptors in flight (SCM_RIGHTS) in datagram, seqpacket and stream
# queues (tests/workloads/fdpass.c): a regular file, a pipe, an eventfd
# and a socket come back with their messages, in order, each the very
# open file the process holds; a stream's reads stop where they did and
# get the descriptors with the same bytes.
t_fdpass() {
	need "$WLB/fdpass"
	wl_test "$WLB/fdpass"
}

# The credentials (SO_PASSCRED) of messages queued in a datagram and a
# stream socket, sent by the process and its child, one claiming
# another uid and gid, one with none (tests/workloads/passcred.c): after
# restore each read gives the bytes and credentials it gave before (the
# tree under a reaper, which takes the killed child).
t_passcred() {
	need "$WLB/passcred"
	reaper_tree_test "$WLB/passcred"
}

# A datagram queued with the credentials of a child that has gone since:
# refused by name (restore could not send as that pid), exit 70, the
# process running on.
t_passcred-refused() {
	files_py_refused '
import os, socket
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
b.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
k = os.fork()
if k == 0:
    a.send(b"x")
    os._exit(0)
os.waitpid(k, 0)' \
		"has a message queued with the credentials (SO_PASSCRED) of a process that is not in the tree" \
		"attach of a message from a process gone" --kill
}

# The same dumped live (no --kill): refused by name, since where the
# bytes that came with descriptors start in a stream shows only to reads
# that take them; the workload's queues are untouched (it checks them
# as if restored).
t_fdpass-live() {
	files_live_refused fdpass "is a unix stream with file descriptors in flight (SCM_RIGHTS) in its queue" \
		"a stream with descriptors in flight"
}

# sock_of PID FD: the inode of the socket on fd FD of PID
sock_of() {
	local l
	l=$(readlink "/proc/$1/fd/$2")
	[[ $l =~ ^socket:\[([0-9]+)\]$ ]] ||
		fail "fd $2 of $1 is $l, not a socket"
	echo "${BASH_REMATCH[1]}"
}

# peer_of INO: the peer's inode as sock_diag (ss) tells it
peer_of() {
	ss -xaH | awk -v i="$1" '$6 == i { print $8; exit }'
}

# connected PID1 FD1 PID2 FD2: the two fds are the ends of one connection
connected() {
	local a b
	a=$(sock_of "$1" "$2") b=$(sock_of "$3" "$4")
	[[ $(peer_of "$a") == "$b" && $(peer_of "$b") == "$a" ]] ||
		fail "fd $2 of $1 (socket $a, peer $(peer_of "$a")) and" \
		     "fd $4 of $3 (socket $b, peer $(peer_of "$b")) are not connected"
}

# See tests/workloads/sockets.c for the fds.
check_socket_fds() {
	local k=$TREE_KIDS lis
	connected "$PID" 3 "$k" 4
	connected "$PID" 5 "$k" 6
	connected "$PID" 7 "$k" 8
	connected "$PID" 9 "$k" 10
	connected "$PID" 11 "$PID" 12
	connected "$PID" 15 "$k" 3
	lis=$(sock_of "$PID" 13)
	ss -xlH | awk -v i="$lis" '$6 == i { print $5 }' |
		grep -qx "$D/srv.sock" ||
		fail "fd 13 of $PID is not listening on $D/srv.sock"
}

# A unix listener with two connections it has not accepted (python3
# holds the listener and the first client; the second client has
# closed): refused by name, exit 70, the target running on; with
# --ext-null the listener is dumped as what it was and comes back as
# /dev/null, named by ckpt and by restore, and the client as a socket
# whose peer has gone.
t_sockets-backlog() {
	local py lfd cfd
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT" "$RESTORE"
	start_wl "$py" -c '
import runpy, socket, sys
l = socket.socket(socket.AF_UNIX)
l.bind("srv.sock")
l.listen(4)
c = socket.socket(socket.AF_UNIX)
c.connect("srv.sock")
gone = socket.socket(socket.AF_UNIX)
gone.connect("srv.sock")
gone.close()
runpy.run_path(sys.argv[1], run_name="__main__")' "$WLS/counter.py"
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd [0-9]* of $PID: socket:\[[0-9]*\] .*connection not yet accepted whose client has closed" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "attach of a listener with a backlog"
	no_image "a refused dump"
	stopped "$PID" && fail "target left stopped (state $ST)"
	lfd=$(sed -n 's/^ckpt: can.t dump fd \([0-9]*\) .*/\1/p' "$D/cmd.err")
	cfd=$(fd_table "$PID" | awk -v l="$lfd" '/socket:/ && $1 != l { print $1 }')
	[[ -n $lfd && -n $cfd ]] || fail "listener on '$lfd', client on '$cfd'"
	DUMP_OPTS=(--ext-null)
	dump_kill
	grep -q "fd $lfd of $PID: socket:.*/dev/null after restore" "$D/ckpt.log" ||
		fail "ckpt did not name the listener: $(cat "$D/ckpt.log")"
	start_restore
	wait_restored
	[[ $(readlink "/proc/$PID/fd/$lfd") == /dev/null ]] ||
		fail "listener fd $lfd after restore: $(readlink "/proc/$PID/fd/$lfd")"
	[[ $(readlink "/proc/$PID/fd/$cfd") == socket:* ]] ||
		fail "client fd $cfd after restore: $(readlink "/proc/$PID/fd/$cfd")"
	grep -q "fd $lfd of $PID was socket:.*/dev/null instead" "$D/restore.log" ||
		fail "restore did not name the listener: $(cat "$D/restore.log")"
	finish
}

# An eventfd the dumped process shares with its parent, which is not
# dumped: refused by name (the restored process would get a copy of its
# own, silently cut off), exit 70, the process running on.
t_kfd-outside() {
	local py
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT"
	start_wl "$py" -c '
import os, subprocess, sys
e = os.eventfd(5)
sys.exit(subprocess.Popen([sys.executable, sys.argv[1]],
			  pass_fds=[e]).wait())' "$WLS/counter.py"
	wait_count_above 8 60 "$JOB"
	[[ $JOB != "$PID" ]] || fail "the counter is not a child of python"
	expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
	grep -q "^ckpt: can't dump fd [0-9]* of $PID: anon_inode:\[eventfd\] is shared with fd [0-9]* of [0-9]*, outside the tree" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "attach of an eventfd shared outside"
	refused_runs_on
}

# A tree holding a TCP connection is refused (exit 70) with the fd and
# what it is named, and left running.
t_sockets-tcp() {
	local py port c
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT"
	(spawn "$py" -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open("port.tmp", "w").write("%d\n" % s.getsockname()[1])
import os; os.rename("port.tmp", "port")
c, _ = s.accept()
time.sleep(600)') </dev/null >>"$D/out.log" 2>&1 &
	track_job $!
	wait_for_file "$D/port"
	read -r port <"$D/port"
	start_wl "$py" -c '
import os, socket, time
s = socket.create_connection(("127.0.0.1", '"$port"'))
os.dup2(s.fileno(), 5)
s.close()
f = open("count", "a", buffering=1)
n = 0
while not os.path.exists("stop"):
    f.write("%d\n" % n); n += 1
    if n == 5:
        open("ready.tmp", "w").write("%d\n" % os.getpid())
        os.rename("ready.tmp", "ready")
    time.sleep(0.01)'
	wait_count_above 8 60 "$JOB"
	expect_exit 70 "$CKPT" attach --tree -o "$D/img" "$PID"
	grep -q "can't dump fd 5 of $PID: socket:\[[0-9]*\] is a TCP connection to 127.0.0.1:$port" \
		"$D/cmd.err" || fail "the refusal does not say why: $(cat "$D/cmd.err")"
	one_line_err "attach of a TCP connection"
	refused_runs_on
}

wait_for_file() {
	local end=$((SECONDS + 60))
	until [[ -s $1 ]]; do
		((SECONDS < end)) || fail "$1 not there after 60 s"
		nap
	done
}

# eventfd, timerfd, signalfd, inotify and an epoll watching them, shared
# by a parent and its child: kfds.c checks counts, expirations, signals,
# watch descriptors and epoll data after restore; inspect must show what
# was pending at dump time, and the child's eventfds must be the parent's
# (one open file description each). Restored twice from one image.
t_kfds() {
	start_tree kfds 1 30
	dump_tree_live
	check_kfds_inspect
	end_dumped_tree
	HOOK_RESTORED=kfds_back
	restore_twice
}

kfds_back() {
	check_kfds_shared
	kill -USR1 "$PID"
}

check_kfds_inspect() {
	local out=$D/inspect.out re
	"$CKPT" inspect "$D/img" >"$out" 2>&1 ||
		fail "inspect failed: $(lastline "$out")"
	for re in ': eventfd flags [0-7]+ count [1-9][0-9]{3,}$' \
		  ': eventfd flags [0-7]+ count 3 semaphore$' \
		  ': signalfd flags [0-7]+ sigmask 0x200$' \
		  ': signalfd flags [0-7]+ sigmask 0x800$' \
		  ': timerfd flags [0-7]+ clock 1 in [0-9]+ ns interval 20000000 ns' \
		  ': timerfd flags [0-7]+ clock 0 at [0-9]+ ns interval 1000000000 ns ticks [0-9]{4,}$' \
		  ': epoll flags [0-7]+ watches 5$' \
		  "^  watch wd 2 mask 0x2 $D/watched\$"; do
		grep -Eq "$re" "$out" ||
			fail "inspect shows no line like '$re': $(cat "$out")"
	done
}

eventfd_ids() {
	local f
	for f in /proc/$1/fdinfo/*; do
		sed -n 's/^eventfd-id: *//p' "$f"
	done | sort -n | tr '\n' ' '
}

check_kfds_shared() {
	local p c
	p=$(eventfd_ids "$PID") c=$(eventfd_ids "$TREE_KIDS")
	[[ $(wc -w <<<"$p") == 2 && $p == "$c" ]] ||
		fail "eventfd ids: parent '$p', child '$c'"
}

# The same in one process (no child: it feeds the eventfd and the pipe
# itself), through ckpt attach --kill and restore.
t_kfds-single() {
	need "$WLB/kfds"
	HOOK_RESTORED=kfds_usr1
	wl_test "$WLB/kfds" single
}

kfds_usr1() {
	kill -USR1 "$PID"
}

ALL_TESTS+=(inotify-queued-refused)
CKPT_ONLY+="inotify-queued-refused "

# An inotify fd with an event queued (tests/workloads/inotifyq.c): no
# call queues it again at restore, so the dump is refused by name and the
# program runs on.
t_inotify-queued-refused() {
	need "$WLB/inotifyq" "$CKPT"
	start_wl "$WLB/inotifyq"
	refused_by_name "inotify fd 3 of $PID: it holds [0-9]* bytes of events not read yet, which restore can't queue again"
}
