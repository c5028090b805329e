# t-ovl.sh - overlay mounts in a tree's mount namespace: an overlay whose
# layers are directories of the host is mounted again at restore with the
# same options, the files open on it reopened through the new mount and
# its upper layer the host's (not in the image); an overlay whose layers
# the host cannot name is refused by name.  Sourced by run.sh.

ALL_TESTS+=(ovl-data ovl-refuse-layer ovl-refuse-hidden ovl-runc)
CKPT_ONLY+="ovl-data ovl-refuse-layer ovl-refuse-hidden ovl-runc "

# ovl_line PID: PID's overlay on D/data in mountinfo, less ids and device
ovl_line() {
	awk -v p="$D/data" '$5 == p { $1 = $2 = $3 = ""; print }' \
		"/proc/$1/mountinfo"
}

# ovl_init: the PID 1 (as the host sees it) of the container running
# D/ovl-init.sh
ovl_init() {
	local f
	for f in /proc/[0-9]*; do
		grep -q $'^NSpid:.*\t1$' "$f/status" 2>/dev/null &&
			tr '\0' ' ' <"$f/cmdline" 2>/dev/null |
			grep -qF "$D/ovl-init.sh" &&
			{ echo "${f#/proc/}"; return 0; }
	done
	return 1
}

# ovl_wait_init: PID set to the container's init, which counted past 8
ovl_wait_init() {
	local end=$((SECONDS + 120)) job=$1
	until PID=$(ovl_init) && (($(tail -n 1 "$D/u/count" 2>/dev/null || echo 0) > 8)); do
		job_done "$job" && { status "$job"; fail "the container exited ($JST): $(lastline "$D/out.log") $(lastline "$D/restore.log")"; }
		((SECONDS < end)) || fail "no counting container after 120 s"
		nap
	done
	track_pid "$PID"
}

# ovl_pos PID FD: the file offset of FD of PID
ovl_pos() {
	awk '/^pos:/ { print $2 }' "/proc/$1/fdinfo/$2"
}

# A container (unshare --pid --fork, then a mount namespace of PID 1's
# own, as mnt-pivot's) whose /data (D/data) is an overlay of two lower
# host directories, an upper and a work one made here; its PID 1 counts
# into /data/count, writes the same through fd 3 (/data/log, not
# appending) and has fd 4 reading a lower file, 2 lines in. Dumped
# --tree --kill --snapshot UPPER, the count in the upper directory
# spoilt, restored: the overlay's mountinfo line is the same, fds 3 and
# 4 are on the new overlay at their offsets, the count (put back) goes
# on with no gap and lands in the upper directory.
t_ovl-data() {
	local before n pos
	need "$CKPT" "$RESTORE"
	mkdir -p "$D/l1" "$D/l2" "$D/u" "$D/w" "$D/data" || fail "no dirs"
	printf 'one\ntwo\nthree\n' >"$D/l1/lower" && echo top >"$D/l2/top" ||
		fail "no lower files"
	cat >"$D/ovl-init.sh" <<EOF
mount -t overlay -o lowerdir=$D/l2:$D/l1,upperdir=$D/u,workdir=$D/w,redirect_dir=on,index=on,metacopy=on ckpt-ovl $D/data || exit 1
exec 3>$D/data/log 4<$D/data/lower
read -r a <&4 && read -r b <&4 || exit 1
i=0
while [ ! -e $D/data/stop ]; do
	i=\$((i + 1))
	echo \$i >>$D/data/count
	echo \$i >&3
	sleep 0.1
done
EOF
	(spawn unshare --pid --fork /bin/sh -c "exec unshare --mount --propagation private /bin/sh $D/ovl-init.sh") \
		</dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	ovl_wait_init "$JOB"
	ovl_line "$PID" >"$D/ovl.before"
	grep -q " overlay ckpt-ovl rw,lowerdir=$D/l2:$D/l1,upperdir=$D/u,workdir=$D/w,redirect_dir=on,index=on,uuid=on,metacopy=on$" "$D/ovl.before" ||
		fail "no overlay as asked: $(cat "$D/ovl.before")"
	pos=$(ovl_pos "$PID" 4)
	[[ $pos == 8 ]] || fail "fd 4 at $pos before the dump, not 8"
	# the upper layer is not in the image: a snapshot of it puts back
	# the count that is lost after the dump
	DUMP_OPTS=(--tree --snapshot "$D/u")
	dump_kill
	wait_job "$JOB" 60 || fail "unshare did not end after the kill"
	n=$(tail -n 1 "$D/u/count")
	echo lost >"$D/u/count"
	inspect "$D/img"
	grep -q "^mount 1 overlay $D/data overlay ckpt-ovl .*options lowerdir=$D/l2:$D/l1,upperdir=$D/u,workdir=$D/w,redirect_dir=on,index=on,uuid=on,metacopy=on" "$D/inspect.out" ||
		fail "inspect shows no overlay: $(grep ^mount "$D/inspect.out" | tr '\n' ' ')"
	start_restore
	ovl_wait_init "$RJOB"
	until (($(tail -n 1 "$D/u/count") > n + 5)); do
		job_done "$RJOB" && fail "restore exited: $(lastline "$D/restore.log")"
		nap
	done
	ovl_line "$PID" >"$D/ovl.after"
	diff "$D/ovl.before" "$D/ovl.after" >>"$D/errors.log" ||
		fail "the overlay differs after restore: $(cat "$D/ovl.after")"
	[[ $(ovl_pos "$PID" 4) == 8 ]] || fail "fd 4 at $(ovl_pos "$PID" 4) after restore, not 8"
	before=$(nsenter -t "$PID" -m stat -c %d "$D/data")
	[[ $(stat -L -c %d "/proc/$PID/fd/3") == "$before" &&
	   $(stat -L -c %d "/proc/$PID/fd/4") == "$before" ]] ||
		fail "fds 3 and 4 are not on the restored overlay"
	[[ $(nsenter -t "$PID" -m cat "$D/data/top") == top ]] ||
		fail "the upper lower layer is not seen"
	# one count, 1 to N, in the host's upper directory, and the same
	# through fd 3 at its offset
	awk 'NR != $1 { exit 1 }' "$D/u/count" ||
		fail "the count has a gap or a repeat"
	awk 'NR != $1 { exit 1 }' "$D/u/log" &&
		(($(tail -n 1 "$D/u/log") > n)) ||
		fail "fd 3 did not write on at its offset in the upper directory"
	[[ ! -e $D/data/count ]] || fail "the overlay leaked into our mount namespace"
	nsenter -t "$PID" -m touch "$D/data/stop" || fail "can't stop it"
	wait_job "$RJOB" 120 || fail "restore still running 120 s after stop"
	((WST == 0)) || fail "restore exited $WST: $(lastline "$D/restore.log")"
}

# An overlay whose layers are on a tmpfs of the tree's own, which the
# host does not see: refused by name, the counter runs on
t_ovl-refuse-layer() {
	need "$WLB/counter" "$CKPT"
	mkdir -p "$D/t" "$D/data" || fail "no dirs"
	start_wl unshare -m --propagation private "$BASH" -c \
		"mount -t tmpfs ckpt-ovl-t $D/t && mkdir $D/t/l $D/t/u $D/t/w && mount -t overlay -o lowerdir=$D/t/l,upperdir=$D/t/u,workdir=$D/t/w ckpt-ovl $D/data && exec $WLB/counter"
	refused_by_name "$PID: its mount on $D/data (overlay ckpt-ovl, root /): its lowerdir $D/t/l is no directory of ckpt's mount namespace (the host's)" --tree
}

# The same, but the host has directories of those names under the
# tmpfs: not the layers the tree's overlay was made of; refused by name
t_ovl-refuse-hidden() {
	need "$WLB/counter" "$CKPT"
	mkdir -p "$D/t/l" "$D/t/u" "$D/t/w" "$D/data" || fail "no dirs"
	start_wl unshare -m --propagation private "$BASH" -c \
		"mount -t tmpfs ckpt-ovl-t $D/t && mkdir $D/t/l $D/t/u $D/t/w && mount -t overlay -o lowerdir=$D/t/l,upperdir=$D/t/u,workdir=$D/t/w ckpt-ovl $D/data && exec $WLB/counter"
	refused_by_name "$PID: its mount on $D/data (overlay ckpt-ovl, root /): its lowerdir $D/t/l is below the tree's tmpfs mount on $D/t, which is not supported yet" --tree
}

# ovl_rc_cleanup: the runc container gone, then its overlay root
ovl_rc_cleanup() {
	rc_cleanup
	umount "$D/b/rootfs" 2>>"$D/errors.log"
}

# A runc container whose rootfs is an overlay the host mounted (the
# busybox root the lower layer, as a container engine makes it) and with
# an overlay on /data that runc mounts in the container from host
# directories; its loop counts into /tmp/count and /data/count.
# Checkpointed --kill, restored: the mounts the same, both counts go on,
# /data's in the host's upper directory, runc state/ps/exec/kill work.
t_ovl-runc() {
	local n
	mkdir -p "$D/dl" "$D/du" "$D/dw" "$D/ru" "$D/rw" || fail "no dirs"
	rc_bundle '.mounts += [{destination: "/data", type: "overlay", source: "ckpt-ovl",
		options: ["lowerdir='"$D/dl"'", "upperdir='"$D/du"'", "workdir='"$D/dw"'"]}] |
		.process.args[2] |= sub(">>/tmp/count;"; ">>/tmp/count; echo $i >>/data/count;")'
	mkdir -p "$D/b/rootfs/data" && mv "$D/b/rootfs" "$D/rl" &&
		mkdir "$D/b/rootfs" || fail "can't move the busybox root"
	trap ovl_rc_cleanup EXIT
	mount -t overlay -o "lowerdir=$D/rl,upperdir=$D/ru,workdir=$D/rw" \
		ckpt-ovl-root "$D/b/rootfs" || fail "can't mount the overlay root"
	rc_start
	mnt_info "$PID" | sort >"$D/mounts.before"
	grep -q " /data .* overlay ckpt-ovl rw,lowerdir=$D/dl,upperdir=$D/du,workdir=$D/dw" "$D/mounts.before" ||
		fail "no overlay on /data: $(cat "$D/mounts.before")"
	rc_checkpoint
	inspect "$D/img"
	grep -q "^mount 1 root / overlay ckpt-ovl-root host $D/b/rootfs " "$D/inspect.out" &&
		grep -q "^mount [0-9]* overlay /data overlay ckpt-ovl " "$D/inspect.out" ||
		fail "inspect shows no overlay root or /data: $(grep ^mount "$D/inspect.out" | tr '\n' ' ')"
	n=$(tail -n 1 "$D/du/count")
	rc_restore
	mnt_info "$PID" | sort >"$D/mounts.after"
	diff "$D/mounts.before" "$D/mounts.after" >>"$D/errors.log" ||
		fail "mounts differ after restore: $(diff "$D/mounts.before" "$D/mounts.after" | tr '\n' ' ')"
	awk 'NR != $1 { exit 1 }' "$D/du/count" && (($(tail -n 1 "$D/du/count") > n)) ||
		fail "/data/count did not go on in the host's upper directory"
	[[ -s $D/ru/tmp/www/index.html ]] && fail "the root's /tmp tmpfs was the overlay's"
	rc_check_runc
}

ALL_TESTS+=(ovl-refuse-ambiguous)
CKPT_ONLY+="ovl-refuse-ambiguous "

# ovl_count_in FILE N: FILE has more than N lines within 60 s
ovl_count_in() {
	local end=$((SECONDS + 60)) n
	while :; do
		n=$(wc -l <"$1" 2>/dev/null) || n=0
		((n > $2)) && return 0
		((SECONDS < end)) || fail "$1 has $n lines after 60 s"
		nap
	done
}

# A busybox container (pivot_root, as mnt-pivot) that mounts an overlay
# with paths of its own root, while the host has directories of the same
# names: the layer paths mountinfo shows can't tell which were meant, so
# the dump is refused by name and the container runs on.
t_ovl-refuse-ambiguous() {
	local r=$D/root x=$D/amb n
	need "$CKPT" /usr/bin/busybox
	mnt_root "$r"
	mkdir -p "$x/l" "$x/u" "$x/w" "$r$x/l" "$r$x/u" "$r$x/w" "$r/data" ||
		fail "no dirs"
	cat >"$r/init.sh" <<EOS
mount -t proc proc /proc || exit 1
mount -t overlay -o lowerdir=$x/l,upperdir=$x/u,workdir=$x/w ckpt-ovl /data || exit 1
i=0
while [ ! -e /stop ]; do
	i=\$((i + 1))
	echo \$i >>/data/count
	sleep 0.1
done
EOS
	mnt_pivot_start "$r" --mount
	ovl_count_in "$r$x/u/count" 3
	expect_exit 70 "$CKPT" attach --tree -o "$D/img" "$PID"
	one_line_err "attach --tree"
	grep -q "^ckpt: can't dump $PID: its mount on /data (overlay ckpt-ovl, root /): its lowerdir $x/l names a directory of the host and another of the container's root ($r$x/l): which one it was mounted with can't be told$" \
		"$D/cmd.err" || fail "no error naming it: $(cat "$D/cmd.err")"
	no_image "a refused dump"
	stopped "$PID" && fail "container left stopped (state $ST)"
	n=$(wc -l <"$r$x/u/count")
	ovl_count_in "$r$x/u/count" $((n + 3))
	touch "$r/stop"
	wait_job "$JOB" 60 || fail "the container still runs 60 s after /stop"
}
