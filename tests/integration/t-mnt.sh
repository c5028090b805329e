# t-mnt.sh - mount namespaces: a tree whose root has a mount namespace of
# its own comes back with its mounts (tmpfs with its files, binds, proc,
# mqueue, sysfs, mounts over mounts, flags), and a busybox container made
# with pivot_root comes back in its root; what restore cannot make again
# is refused by name.  Sourced by run.sh.

ALL_TESTS+=(mnt-tmpfs mnt-pivot mnt-refuse-peer mnt-refuse-outside mnt-refuse-limit)
CKPT_ONLY+="mnt-tmpfs mnt-pivot mnt-refuse-peer mnt-refuse-outside mnt-refuse-limit "

# mnt_info PID [UNDER]: PID's mounts (at or below UNDER), without what
# differs between two mounts of the same thing (ids, device numbers)
mnt_info() {
	awk -v under="${2:-/}" '{
		sep = 0
		for (i = 7; i <= NF; i++) if ($i == "-") sep = i
		if (index($5, under) != 1) next
		line = $4 " " $5 " " $6
		for (i = 7; i <= NF; i++) line = line " " $i
		print line
	}' "/proc/$1/mountinfo"
}

# in the mount namespace of PID, without changing it
mnt_in() {
	local pid=$1
	shift
	nsenter -t "$pid" -m "$@" 2>>"$D/errors.log"
}

# the script that mnt-tmpfs runs in its mount namespace, then the counter
mnt_tmpfs_script() {
	cat <<EOF
set -e
M=$D/m
mount -t tmpfs -o size=16m,mode=751 ckpt-mnt-test \$M
mkdir \$M/d \$M/b \$M/o \$M/p \$M/q \$M/pts \$M/s
echo hello >\$M/d/a
chown 1:2 \$M/d/a
chmod 4710 \$M/d/a
ln -s d/a \$M/l
ln \$M/d/a \$M/h
mkfifo -m 640 \$M/fifo
truncate -s 10M \$M/sparse
echo middle | dd of=\$M/sparse bs=1 seek=5000000 conv=notrunc status=none
touch -d 2001-02-03 \$M/d
mount --bind $D/src \$M/b
mount -o remount,bind,ro,nosuid \$M/b
mount -t tmpfs lower \$M/o
echo low >\$M/o/x
mount -t tmpfs -o nodev,noexec upper \$M/o
echo up >\$M/o/y
mount -t proc -o nosuid proc \$M/p
mount -t mqueue mq \$M/q
mount -t devpts -o newinstance,ptmxmode=666 ckpt-pts \$M/pts
mount -t sysfs -o ro sysfs \$M/s
exec 7>>\$M/log
echo before >&7
exec $WLB/counter
EOF
}

mnt_check_dumped() {
	inspect "$D/img"
	grep -q "^ns mnt [0-9]* owner $PID\$" "$D/inspect.out" ||
		fail "inspect shows no mnt namespace of $PID"
	grep -q "^mount 1 tmpfs $D/m tmpfs ckpt-mnt-test flags relatime options size=16384k,mode=751 propagation private files 14 " \
		"$D/inspect.out" || fail "inspect shows no tmpfs: $(grep ^mount "$D/inspect.out" | head -n 1)"
	grep -q "^mount 2 bind $D/m/b .* host $D/src flags ro,nosuid,relatime " \
		"$D/inspect.out" || fail "inspect shows no read-only bind"
}

mnt_check_tmpfs() {
	local m=$D/m got
	mnt_info "$PID" "$D" | sort >"$D/mounts.after"
	diff "$D/mounts.before" "$D/mounts.after" >>"$D/errors.log" ||
		fail "mounts differ after restore: $(diff "$D/mounts.before" "$D/mounts.after" | head -n 3 | tr '\n' ' ')"
	got=$(mnt_in "$PID" stat -c '%n %F %a %u %g' "$m" "$m/d" "$m/d/a" "$m/fifo" | tr '\n' ' ')
	[[ $got == "$m directory 751 0 0 $m/d directory 755 0 0 $m/d/a regular file 4710 1 2 $m/fifo fifo 640 0 0 " ]] ||
		fail "files of the tmpfs: $got"
	[[ $(mnt_in "$PID" stat -c %Y "$m/d") == $(date -d 2001-02-03 +%s) ]] ||
		fail "the mtime of a directory is lost"
	[[ $(mnt_in "$PID" cat "$m/l" "$m/h") == $'hello\nhello' ]] ||
		fail "symlink or hard link lost"
	[[ $(mnt_in "$PID" stat -c %i "$m/d/a") == $(mnt_in "$PID" stat -c %i "$m/h") ]] ||
		fail "the hard link is a copy"
	got=$(mnt_in "$PID" stat -c '%s %b' "$m/sparse")
	[[ ${got% *} == 10485760 && ${got#* } -lt 1000 ]] ||
		fail "the sparse file came back as $got (size, blocks)"
	[[ $(mnt_in "$PID" dd if="$m/sparse" bs=1 skip=5000000 count=6 status=none) == middle ]] ||
		fail "the sparse file lost its data"
	[[ $(mnt_in "$PID" cat "$m/b/f" "$m/o/y") == $'bound\nup' ]] ||
		fail "the bind or the upper tmpfs lost"
	mnt_in "$PID" touch "$m/b/new" && fail "the bind is writable"
	[[ $(mnt_in "$PID" unshare -m --propagation private sh -c "umount $m/o && cat $m/o/x") == low ]] ||
		fail "the tmpfs under the upper one lost its file"
	# the counter's fd 7 is the tmpfs file, put back before it was opened
	[[ $(stat -L -c %d:%i "/proc/$PID/fd/7") == $(mnt_in "$PID" stat -c %d:%i "$m/log") ]] ||
		fail "fd 7 is not the file on the restored tmpfs"
	[[ $(mnt_in "$PID" cat "$m/log") == before ]] || fail "the log lost"
	[[ $(readlink "/proc/$PID/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]] ||
		fail "restored in our mount namespace"
	[[ ! -e $m/d ]] || fail "the tmpfs leaked into our mount namespace"
}

# A counter in a mount namespace of its own (unshare -m, no fork: it is
# the root) with a tmpfs holding a directory, a set-user-ID file of
# another owner, a symlink, a hard link, a FIFO, a sparse file and the
# file its fd 7 is open on; a read-only bind of a host directory on it,
# two tmpfs mounts one over the other, proc, mqueue, a devpts instance
# and a read-only sysfs: dumped with
# --kill, restored: the same mounts with the same flags, the same files.
t_mnt-tmpfs() {
	need "$WLB/counter" "$CKPT"
	mkdir -p "$D/m" "$D/src" && echo bound >"$D/src/f" || fail "no dirs"
	start_wl unshare -m --propagation private "$BASH" -c "$(mnt_tmpfs_script)"
	# sorted: restore makes proc, mqueue and devpts after the sysfs bind
	mnt_info "$PID" "$D" | sort >"$D/mounts.before"
	[[ $(wc -l <"$D/mounts.before") == 8 ]] ||
		fail "the workload made no 8 mounts: $(cat "$D/mounts.before")"
	HOOK_DUMPED=mnt_check_dumped
	HOOK_RESTORED=mnt_check_tmpfs
	wl_test_started
}

# mnt_root DIR: a busybox root in DIR (busybox --install: hard links),
# with /dev/null and the script init.sh, a container's PID 1: hostname
# mnt-box, proc on /proc, a tmpfs on /tmp holding a file and the pages of
# an httpd serving on 127.0.0.1:MNT_PORT, a loop counting into
# /tmp/count (and through fd 3 into /tmp/log) until /stop
mnt_root() {
	local r=$1
	mkdir -p "$r/bin" "$r/proc" "$r/tmp" "$r/old" "$r/dev" &&
		cp /usr/bin/busybox "$r/bin/" &&
		"$r/bin/busybox" --install "$r/bin" &&
		mknod -m 666 "$r/dev/null" c 1 3 || fail "can't make the busybox root"
	cat >"$r/init.sh" <<EOF
hostname mnt-box
mount -t proc -o nosuid,nodev,noexec proc /proc || exit 1
mount -t tmpfs -o size=4m,mode=755 ckpt-ctmp /tmp || exit 1
exec >/tmp/out 2>&1
echo hello >/tmp/file
mkdir /tmp/www && echo served >/tmp/www/index.html
httpd -p 127.0.0.1:$MNT_PORT -h /tmp/www || exit 1
exec 3>>/tmp/log
i=0
while [ ! -e /stop ]; do
	i=\$((i + 1))
	echo \$i >>/tmp/count
	echo \$i >&3
	sleep 0.1
done
EOF
}

# mnt_init_of ROOT: the PID 1 of a PID namespace whose root is ROOT
mnt_init_of() {
	local f want
	want=$(stat -c %d:%i "$1")
	for f in /proc/[0-9]*; do
		[[ $(stat -L -c %d:%i "$f/root" 2>/dev/null) == "$want" ]] &&
			grep -q $'^NSpid:.*\t1$' "$f/status" 2>/dev/null &&
			{ echo "${f#/proc/}"; return 0; }
	done
	return 1
}

# mnt_count PID: the last number the container of init PID counted
mnt_count() {
	tail -n 1 "/proc/$1/root/tmp/count" 2>/dev/null || echo 0
}

# mnt_wait_count PID N: it counted past N
mnt_wait_count() {
	local end=$((SECONDS + 120))
	until (($(mnt_count "$1") > $2)); do
		((SECONDS < end)) || fail "the container's count stuck at $(mnt_count "$1") (want > $2)"
		nap
	done
}

# A container of busybox root ROOT (mnt_root) in a PID namespace and the
# namespaces of NSFLAGS (unshare(1) options, a mount namespace among
# them), its root pivoted, running ROOT/init.sh; JOB is unshare, PID the
# container's init, once there.
mnt_pivot_start() {
	local r=$1 ns=$2 end pid
	(spawn unshare --pid --fork /bin/sh -c "exec unshare $ns --propagation private /bin/sh -c 'mount --bind $r $r && cd $r && pivot_root . old && exec /bin/sh -c \"umount -l /old && exec /bin/sh /init.sh </dev/null >/dev/null 2>&1\"'") \
		</dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	end=$((SECONDS + 60))
	until pid=$(mnt_init_of "$r"); do
		job_done "$JOB" && fail "the container exited: $(lastline "$D/out.log")"
		((SECONDS < end)) || fail "no container after 60 s"
		nap
	done
	PID=$pid
	track_pid "$PID"
}

# mnt_pivot_dump: the container of init PID (mnt_pivot_start) dumped
# with --tree --kill into D/img, its unshare JOB ended
mnt_pivot_dump() {
	(spawn "$CKPT" attach --kill --tree -o "$D/img" "$PID") </dev/null \
		>>"$D/ckpt.log" 2>&1 &
	track_job $!
	wait_job $! 300 || fail "ckpt attach still running after 300 s"
	((WST == 0)) || fail "ckpt attach exited $WST: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 60 || fail "unshare did not end after the kill"
}

# mnt_pivot_restore ROOT: D/img restored (RJOB), PID the restored
# container's init once there
mnt_pivot_restore() {
	local end=$((SECONDS + 120)) pid
	start_restore
	until pid=$(mnt_init_of "$1"); do
		job_done "$RJOB" && { status "$RJOB"; fail "restore exited $JST: $(lastline "$D/restore.log")"; }
		((SECONDS < end)) || fail "no restored container after 120 s"
		nap
	done
	PID=$pid
	track_pid "$PID"
}

# A container as the issue has it: unshare --pid --fork, then in PID 1
# (so that the tree is alone in them) mount, UTS and IPC namespaces and
# pivot_root into a busybox root, the old root unmounted; a tmpfs on
# /tmp, /proc mounted, a shell loop counting into the tmpfs and an httpd.
# Dumped --tree --kill, restored: the hostname, the mounts, the tmpfs
# files and the server are back, the count goes on from where it was.
t_mnt-pivot() {
	local r=$D/root n before
	need "$CKPT" "$RESTORE" /usr/bin/busybox
	MNT_PORT=$((20000 + RANDOM % 20000))
	mnt_root "$r"
	mnt_pivot_start "$r" "--mount --uts --ipc"
	mnt_wait_count "$PID" 8
	[[ $(curl -s "http://127.0.0.1:$MNT_PORT/") == served ]] ||
		fail "the container's httpd does not serve"
	# sorted: restore makes proc after the tmpfs (restore.1)
	mnt_info "$PID" | sort >"$D/mounts.before"
	DUMP_OPTS=(--tree)
	mnt_pivot_dump
	n=$(tail -n 1 "$r/tmp/count" 2>/dev/null)
	[[ -z $n ]] || fail "the tmpfs was the host's: $r/tmp/count"
	inspect "$D/img"
	grep -q "^mount 1 root / ext4 .* host $r flags " "$D/inspect.out" ||
		grep -q "^mount 1 root / [a-z0-9]* .* host $r flags " "$D/inspect.out" ||
		fail "inspect shows no root: $(grep ^mount "$D/inspect.out" | head -n 1)"
	grep -q "^mount 3 tmpfs /tmp tmpfs ckpt-ctmp .* files 7 " "$D/inspect.out" ||
		fail "inspect shows no tmpfs: $(grep ^mount "$D/inspect.out" | tr '\n' ' ')"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; m = json.load(sys.stdin)["mounts"]; sys.exit([x["kind"] for x in m] != ["root", "proc", "tmpfs"] or m[2]["files"] != 7)' ||
		fail "inspect --json shows other mounts"
	mnt_pivot_restore "$r"
	before=$(mnt_count "$PID")
	mnt_wait_count "$PID" $((before + 5))
	mnt_info "$PID" | sort >"$D/mounts.after"
	diff "$D/mounts.before" "$D/mounts.after" >>"$D/errors.log" ||
		fail "mounts differ after restore: $(diff "$D/mounts.before" "$D/mounts.after" | tr '\n' ' ')"
	[[ $(nsenter -t "$PID" -u hostname) == mnt-box ]] || fail "hostname lost"
	[[ $(cat "/proc/$PID/root/tmp/file") == hello ]] || fail "the tmpfs lost its file"
	[[ $(curl -s "http://127.0.0.1:$MNT_PORT/") == served ]] ||
		fail "the restored httpd does not serve"
	[[ $(mnt_in "$PID" readlink /proc/1/ns/pid) == "$(readlink "/proc/$PID/ns/pid")" ]] ||
		fail "/proc inside is not of the container's PID namespace: $(mnt_in "$PID" readlink /proc/1/ns/pid) vs $(readlink "/proc/$PID/ns/pid") ($PID)"
	# one count, 1 to N: the loop went on, no number lost or said twice
	awk 'NR != $1 { exit 1 }' "/proc/$PID/root/tmp/count" ||
		fail "the count has a gap or a repeat"
	# and the same through fd 3, reopened on the restored tmpfs
	awk 'NR != $1 { exit 1 }' "/proc/$PID/root/tmp/log" &&
		(($(tail -n 1 "/proc/$PID/root/tmp/log") > before)) ||
		fail "fd 3 did not write on in the restored tmpfs"
	touch "$r/stop"
	wait_job "$RJOB" 120 || fail "restore still running 120 s after /stop"
	((WST == 0)) || fail "restore exited $WST: $(lastline "$D/restore.log")"
}

# A bind mount in a peer group with another mount of the tree: restore
# makes no peer groups; refused by name, the counter runs on
t_mnt-refuse-peer() {
	need "$WLB/counter" "$CKPT"
	mkdir -p "$D/m" "$D/m2" "$D/src" || fail "no dirs"
	start_wl unshare -m --propagation private "$BASH" -c \
		"mount --bind $D/src $D/m && mount --make-shared $D/m && mount --bind $D/m $D/m2 && exec $WLB/counter"
	refused_by_name "$PID: its mount on $D/m (ext4 [^ ]*) has propagation shared:[0-9]*, which is not supported yet .*" --tree
}

# A file held open on the old root, unmounted in the namespace (as after
# pivot_root): restore would look for it inside; refused by name
t_mnt-refuse-outside() {
	need "$WLB/counter" "$CKPT"
	mkdir -p "$D/m" "$D/t" && echo x >"$D/m/f" || fail "no dirs"
	start_wl unshare -m --propagation private "$BASH" -c \
		"mount --bind $D/m $D/m && exec 7<$D/m/f && umount -l $D/m && mount -t tmpfs ckpt-mnt-test $D/t && exec $WLB/counter"
	refused_by_name "$PID: its fd 7 (/f) is on a mount outside its mount namespace .*" --tree
}

# A tmpfs with more data than --ghost-limit
t_mnt-refuse-limit() {
	need "$WLB/counter" "$CKPT"
	mkdir -p "$D/m" || fail "no dirs"
	start_wl unshare -m --propagation private "$BASH" -c \
		"mount -t tmpfs ckpt-mnt-test $D/m && head -c 300000 /dev/zero | tr '\\0' x >$D/m/big && exec $WLB/counter"
	refused_by_name "$PID: the tmpfs on $D/m holds 300000 bytes of data, more than --ghost-limit 100000" --tree --ghost-limit 100000
}
