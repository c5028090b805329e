# t-docker.sh - Docker containers (Debian's docker.io) checkpointed and
# restored by Docker itself: `docker checkpoint create` and `docker start
# --checkpoint` with `ckpt container runtime` registered as the OCI
# runtime (containerd's runc shim calls its checkpoint and restore; every
# other subcommand goes to runc).  Each test starts a dockerd of its own
# (a private data root, exec root, socket and cgroup parent, the vfs
# storage driver, no bridge, no iptables or ip forwarding change) and
# a containerd of its own, imports a busybox root as an image (no registry),
# and at the end removes its containers, stops the daemons and removes
# what they made.  Sourced by run.sh.

ALL_TESTS+=(docker-checkpoint docker-refuse docker-leave-running
	    docker-restore-bad docker-exec-refused docker-tty)
CKPT_ONLY+="docker-checkpoint docker-refuse docker-leave-running "
CKPT_ONLY+="docker-restore-bad docker-exec-refused docker-tty "

DK_BIN=		# Debian's docker client
DK_SOCK=	# the daemon's socket
DK_PID=		# dockerd's pid
DK_CTRD=	# its containerd's
DK_CG=		# the cgroup parent of its containers
DK_NETNS=	# /run/netns was no mount point before the daemon
DK_RUNDIRS=()	# directories under /run that were not there before

dk() {
	timeout 120 "$DK_BIN" -H "unix://$DK_SOCK" "$@" 2>>"$D/errors.log"
}

# containers gone, dockerd and containerd stopped, the mounts and
# cgroups they made removed; the usual cleanup
dk_cleanup() {
	local c i
	if [[ -n $DK_PID ]]; then
		for c in $(dk ps -aq); do
			dk rm -f "$c" >/dev/null
		done
		kill -TERM "$DK_PID" 2>/dev/null
		wait_gone "$DK_PID" 60 || kill -KILL "$DK_PID" 2>/dev/null
	fi
	if [[ -n $DK_CTRD ]]; then
		kill -TERM "$DK_CTRD" 2>/dev/null
		wait_gone "$DK_CTRD" 60 || kill -KILL "$DK_CTRD" 2>/dev/null
		# shims that outlived it: they name its socket
		for c in $(pgrep -f -- "-address $D/ctrd/sock"); do
			kill -KILL "$c" 2>/dev/null
		done
		for c in $(awk -v d="$D/" 'index($5, d) == 1 { print $5 }' \
			   /proc/self/mountinfo | sort -r); do
			umount -l "$c" 2>/dev/null
		done
		[[ -n $DK_NETNS ]] && umount /run/netns 2>/dev/null
		# the directories under /run they made, if empty
		for c in "${DK_RUNDIRS[@]}"; do
			rmdir "$c" 2>/dev/null
		done
		# what is left in its containers' cgroups (one runc lost) killed,
		# the cgroups removed, deepest first
		for c in $(find /sys/fs/cgroup/*/"$DK_CG" -name freezer.state 2>/dev/null); do
			echo THAWED >"$c"
		done
		for c in $(find /sys/fs/cgroup/*/"$DK_CG" -name cgroup.procs \
			   -exec cat {} + 2>/dev/null); do
			kill -KILL "$c" 2>/dev/null
		done
		for c in $(find /sys/fs/cgroup/*/"$DK_CG" -depth -type d 2>/dev/null); do
			for i in {1..100}; do
				[[ -d $c ]] && ! rmdir "$c" 2>/dev/null || break
				nap
			done
		done
	fi
	cleanup
}

# dk_daemon: a dockerd of the test's own running, ckpt's runtime
# registered as "ckpt", the image ckpt-busybox imported from a busybox root
dk_daemon() {
	local r=$D/rootfs end i
	command -v dockerd >/dev/null || skip "docker.io is not installed (DEB_PKGS)"
	DK_BIN=/usr/bin/docker
	[[ -x $DK_BIN ]] || DK_BIN=docker
	need /usr/bin/busybox "$CKPT" "$RESTORE"
	[[ -d /sys/fs/cgroup/freezer ]] || skip "no cgroup v1 freezer (the daemon runs cgroupfs on v1 here)"
	DK_SOCK=$D/docker.sock
	DK_CG=ckpt-dk-$$-$RANDOM
	mountpoint -q /run/netns || DK_NETNS=1
	for i in /run/containerd/s /run/containerd /run/docker/plugins /run/docker; do
		[[ -e $i ]] || DK_RUNDIRS+=("$i")
	done
	mkdir -p "$D/tmp" "$D/cfg" "$r/bin" "$r/tmp" "$r/proc" "$r/dev" \
		"$r/sys" "$r/etc" &&
		cp /usr/bin/busybox "$r/bin/" &&
		"$r/bin/busybox" --install "$r/bin" || fail "can't make the root"
	jq -n --arg p "$(realpath "$CKPT")" \
		'{runtimes: {ckpt: {path: $p, runtimeArgs: ["container", "runtime"]}}}' \
		>"$D/daemon.json" || fail "can't write daemon.json"
	trap dk_cleanup EXIT
	# a containerd of our own (dockerd would use the system's if one ran),
	# its checkpoint directories in TMPDIR
	mkdir "$D/ctrd" && cat >"$D/ctrd/config.toml" <<-EOT || fail "can't write containerd's config"
	version = 2
	root = "$D/ctrd/root"
	state = "$D/ctrd/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$D/ctrd/sock"
	[ttrpc]
	  address = "$D/ctrd/sock.ttrpc"
	EOT
	TMPDIR=$D/tmp containerd --config "$D/ctrd/config.toml" \
		</dev/null >"$D/containerd.log" 2>&1 &
	DK_CTRD=$!
	track_job "$DK_CTRD"
	end=$((SECONDS + 120))
	until [[ -S $D/ctrd/sock ]]; do
		job_done "$DK_CTRD" && fail "containerd died: $(lastline "$D/containerd.log")"
		((SECONDS < end)) || fail "containerd has no socket after 120 s"
		nap
	done
	TMPDIR=$D/tmp DOCKER_CONFIG=$D/cfg dockerd --config-file "$D/daemon.json" \
		--containerd "$D/ctrd/sock" \
		--experimental --data-root "$D/data" --exec-root "$D/exec" \
		--pidfile "$D/dockerd.pid" -H "unix://$DK_SOCK" \
		--storage-driver vfs --bridge none --iptables=false \
		--ip6tables=false --ip-forward=false --ip-masq=false \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$DK_CG" \
		--containerd-namespace "$DK_CG" \
		--containerd-plugins-namespace "$DK_CG-plugins" \
		</dev/null >"$D/dockerd.log" 2>&1 &
	DK_PID=$!
	track_job "$DK_PID"
	end=$((SECONDS + 120))
	until "$DK_BIN" -H "unix://$DK_SOCK" version >/dev/null 2>&1; do
		job_done "$DK_PID" && fail "dockerd died: $(lastline "$D/dockerd.log")"
		((SECONDS < end)) || fail "dockerd does not answer after 120 s"
		sleep 0.2
	done
	tar -C "$r" -c . | dk import - ckpt-busybox >/dev/null ||
		fail "docker import failed: $(lastline "$D/errors.log")"
}

# dk_run NAME [OPTION...]: a container of ckpt's runtime counting on its
# standard output and into /tmp/count (renamed over it: never seen
# empty), its count past 8; PID its init. With DK_MORE (" & CMD") the
# count is in the background and the init runs CMD.
DK_MORE=""
dk_run() {
	local name=$1 i
	shift
	dk run -d --runtime ckpt --network none --name "$name" "$@" ckpt-busybox \
		sh -c 'i=0; while :; do i=$((i + 1)); echo $i; echo $i >/tmp/c; mv /tmp/c /tmp/count; sleep 0.1; done'"${DK_MORE-}" \
		>/dev/null || fail "docker run failed: $(lastline "$D/errors.log")"
	PID=$(dk inspect -f '{{.State.Pid}}' "$name")
	[[ $PID =~ ^[1-9][0-9]*$ ]] || fail "no pid for $name: $PID"
	track_pid "$PID"
	dk_wait_count "$name" 8
}

# dk_count NAME: the container's count, read inside it by docker exec
dk_count() {
	local n
	n=$(dk exec "$1" cat /tmp/count)
	[[ $n =~ ^[0-9]+$ ]] ||
		fail "docker exec $1 cat /tmp/count gave '$n': $(lastline "$D/errors.log")"
	echo "$n"
}

# dk_wait_count NAME N: the count past N (within 60 s)
dk_wait_count() {
	local end=$((SECONDS + 60))
	local n
	n=$(dk_count "$1") || exit 1
	until ((n > $2)); do
		((SECONDS < end)) || fail "$1's count is $n 60 s on, want > $2"
		sleep 0.2
		n=$(dk_count "$1") || exit 1
	done
}

# dk_start_checkpoint NAME CP: docker start --checkpoint CP NAME; PID
# the restored init
dk_start_checkpoint() {
	local try job
	# Docker's own: its upload of the checkpoint to containerd's store
	# now and then fails "already exists" (moby/moby#42900), before
	# anything is started: again
	for try in 1 2 3; do
		(spawn "$DK_BIN" -H "unix://$DK_SOCK" start --checkpoint "$2" \
			"$1") </dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
		job=$!
		track_job "$job"
		wait_job "$job" 60 || fail "docker start --checkpoint still" \
					   "running after 60 s"
		cat "$D/cmd.err" >>"$D/errors.log"
		((WST == 0)) && break
		grep -q 'upload checkpoint to containerd: .*already exists' \
			"$D/cmd.err" && ((try < 3)) ||
			fail "docker start --checkpoint: exit $WST:" \
			     "$(lastline "$D/cmd.err")"
		sleep 2
	done
	PID=$(dk inspect -f '{{.State.Pid}}' "$1")
	[[ $PID =~ ^[1-9][0-9]*$ ]] || fail "no pid for the restored $1: $PID"
	track_pid "$PID"
}

# the container's log: 1, 2, 3 ... with no gap or repeat
dk_log_ok() {
	dk logs "$1" >"$D/log.out" || fail "docker logs failed"
	awk 'NR != $1 { exit 1 }' "$D/log.out" ||
		fail "the log has a gap or a repeat: $(awk 'NR != $1 { print NR ": " $0; exit }' "$D/log.out")"
}

# A running container checkpointed by Docker (it stops), restored by
# `docker start --checkpoint`: its output and count carry on without a
# reset, its init is PID 1 inside again and the shim's child, and
# docker exec, inspect and stop work on it
t_docker-checkpoint() {
	local n i ppid
	dk_daemon
	dk_run dk1
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" checkpoint create dk1 cp1
	wait_gone "$PID" 60 || fail "$PID still there 60 s after the checkpoint"
	[[ $(dk inspect -f '{{.State.Running}}' dk1) == false ]] ||
		fail "docker says dk1 runs after the checkpoint"
	[[ $(dk checkpoint ls dk1) == *cp1* ]] || fail "docker lists no checkpoint cp1"
	dk_log_ok dk1
	n=$(wc -l <"$D/log.out")
	dk_start_checkpoint dk1 cp1
	i=$(dk_count dk1) || exit 1
	((i >= n)) || fail "the count went back: $i, had $n"
	dk_wait_count dk1 $((n + 5))
	dk_log_ok dk1
	(($(wc -l <"$D/log.out") > n + 5)) || fail "the log does not go on"
	[[ $(dk exec dk1 sh -c 'cat /proc/1/cmdline | tr "\0" " "') == "sh -c i=0;"* ]] ||
		fail "docker exec does not see the init as PID 1"
	ppid=$(awk '{ print $4 }' "/proc/$PID/stat")
	[[ $(readlink "/proc/$ppid/exe") == *containerd-shim* ]] ||
		fail "the restored init's parent is $(readlink "/proc/$ppid/exe"), not the shim"
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" stop -t 1 dk1
	wait_gone "$PID" 60 || fail "$PID still there 60 s after docker stop"
	[[ $(dk inspect -f '{{.State.Running}}' dk1) == false ]] ||
		fail "docker says dk1 runs after docker stop"
}

# A container ckpt cannot restore (a terminal with keys typed that its
# init has not read, which containerd-shim, holding the master, could add
# to meanwhile): docker checkpoint create fails naming the process and
# the pty; the container runs on, neither paused nor traced
t_docker-refuse() {
	local n
	dk_daemon
	dk_run dk2 -t
	python3 -c "import fcntl, termios
fd = open('/proc/$PID/fd/0', 'rb', buffering=0)
for c in b'abc':
	fcntl.ioctl(fd, termios.TIOCSTI, bytes([c]))" ||
		fail "can't type into dk2's terminal"
	expect_exit 1 "$DK_BIN" -H "unix://$DK_SOCK" checkpoint create dk2 cp1
	grep -q "ckpt: can't dump fd 0 of $PID: pty /dev/pts/0 is a console with keys typed that the container has not read, which fd [0-9]* of [0-9]*, outside the tree, may add to: they can't be kept exactly" "$D/cmd.err" ||
		fail "no error naming the pty: $(cat "$D/cmd.err")"
	[[ $(dk inspect -f '{{.State.Status}}' dk2) == running ]] ||
		fail "dk2 is $(dk inspect -f '{{.State.Status}}' dk2) after the refusal"
	n=$(dk_count dk2) || exit 1
	dk_wait_count dk2 $((n + 5))
	[[ $(awk '/^TracerPid:/ { print $2 }' "/proc/$PID/status") == 0 ]] ||
		fail "dk2's init is still traced"
	! dk checkpoint ls dk2 | grep -qw cp1 || fail "a checkpoint was kept"
}

# dk_type LINE: LINE typed into the master that containerd-shim (the
# init's parent) holds, as docker attach would; the init reads it and
# writes it into /tmp/got (within 60 s)
dk_type() {
	local shim end=$((SECONDS + 60))
	shim=$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$PID/stat")
	python3 -c "import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pfd = libc.syscall(434, $shim, 0)
for n in os.listdir('/proc/$shim/fd'):
	if os.readlink('/proc/$shim/fd/' + n).endswith('ptmx'):
		m = libc.syscall(438, pfd, int(n), 0)
		os.write(m, b'$1\n')
		sys.exit(0)
sys.exit(1)" || fail "can't type into the master containerd-shim $shim holds"
	until dk exec dk6 cat /tmp/got 2>/dev/null | grep -qx "got $1"; do
		((SECONDS < end)) || fail "'$1' typed did not reach the container in 60 s"
		sleep 0.2
	done
}

# dk_tty_state: the terminal's settings and size as stty says them
# through the slave, and the init's terminal and foreground group
# (INIT: the init itself)
dk_tty_state() {
	stty -a <"/proc/$PID/fd/0" || fail "can't read the terminal's settings"
	awk -v p="$PID" '{ sub(/.*\) /, ""); print "tty_nr", $5, "tpgid",
		($6 == p ? "INIT" : $6) }' "/proc/$PID/stat"
}

# A container with a terminal (docker run -t: containerd-shim holds its
# master): checkpointed, started again from the checkpoint, the shim
# gets the new master through the console socket it gives the runtime's
# restore; the count goes on in docker logs, the terminal's settings
# and size (set odd before), its session and foreground group are the
# same, a line typed into the shim's new master reaches the init, and
# docker exec works
t_docker-tty() {
	local n i
	dk_daemon
	local DK_MORE=' & while read l; do echo "got $l" >>/tmp/got; done'
	dk_run dk6 -t
	# no echo: what is typed stays out of the log
	stty rows 27 cols 91 intr ^G -icrnl -echo <"/proc/$PID/fd/0" ||
		fail "can't set the terminal's settings"
	dk_type first
	dk_tty_state >"$D/state.before"
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" checkpoint create dk6 cp1
	wait_gone "$PID" 60 || fail "$PID still there 60 s after the checkpoint"
	n=$(dk logs dk6 | tr -d '\r' | tail -n 1)
	dk_start_checkpoint dk6 cp1
	i=$(dk_count dk6) || exit 1
	((i >= n)) || fail "the count went back: $i, had $n"
	dk_wait_count dk6 $((i + 5))
	dk logs dk6 | tr -d '\r' >"$D/log.out" || fail "docker logs failed"
	awk 'NR != $1 { exit 1 }' "$D/log.out" ||
		fail "the log has a gap or a repeat: $(awk 'NR != $1 { print NR ": " $0; exit }' "$D/log.out")"
	(($(wc -l <"$D/log.out") > i + 3)) || fail "the log does not go on"
	dk_tty_state >"$D/state.after"
	diff "$D/state.before" "$D/state.after" >>"$D/errors.log" ||
		fail "the terminal differs after restore: $(diff "$D/state.before" "$D/state.after" | tr '\n' ' ')"
	dk_type second
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" stop -t 1 dk6
	wait_gone "$PID" 60 || fail "$PID still there 60 s after docker stop"
}

# docker checkpoint create --leave-running: the container runs on, not
# paused; stopped later, it is started again from the checkpoint, its
# count back where the checkpoint saw it and counting on from there
t_docker-leave-running() {
	local n i at
	dk_daemon
	dk_run dk3
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" checkpoint create --leave-running dk3 cp1
	[[ $(dk inspect -f '{{.State.Status}}' dk3) == running ]] ||
		fail "dk3 is $(dk inspect -f '{{.State.Status}}' dk3) after the checkpoint"
	[[ $(awk '/^TracerPid:/ { print $2 }' "/proc/$PID/status") == 0 ]] ||
		fail "dk3's init is still traced"
	n=$(dk_count dk3) || exit 1
	dk_wait_count dk3 $((n + 20))
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" stop -t 1 dk3
	wait_gone "$PID" 60 || fail "$PID still there 60 s after docker stop"
	dk_start_checkpoint dk3 cp1
	i=$(dk_count dk3) || exit 1
	dk_wait_count dk3 $((i + 5))
	# the log: 1 ... past n + 20, then from the checkpoint's count on
	dk logs dk3 >"$D/log.out" || fail "docker logs failed"
	read -r i at < <(awk 'NR > 1 && $1 != p + 1 { print $1, NR; exit }
			       { p = $1 }' "$D/log.out")
	[[ -n $i ]] && ((i > 9 && i <= n + 1)) ||
		fail "the restored count starts at ${i:-?}, want 10-$((n + 1)), from the checkpoint"
	awk -v s="$i" -v at="$at" 'NR >= at && $1 != s++ { exit 1 }' "$D/log.out" ||
		fail "the restored count has a gap or a repeat"
}

# A damaged checkpoint: docker start --checkpoint fails, saying restore's
# exit status; nothing runs and runc keeps no state of the container, so
# a plain docker start then starts it afresh
t_docker-restore-bad() {
	local cp id
	dk_daemon
	dk_run dk4
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" checkpoint create dk4 cp1
	wait_gone "$PID" 60 || fail "$PID still there 60 s after the checkpoint"
	id=$(dk inspect -f '{{.ID}}' dk4)
	cp=$D/data/containers/$id/checkpoints/cp1/ckpt.img
	[[ -f $cp ]] || fail "no image at $cp"
	flip_byte "$cp" 0
	expect_exit 1 "$DK_BIN" -H "unix://$DK_SOCK" start --checkpoint cp1 dk4
	grep -q "ckpt: can't restore container [0-9a-f]*: restore .*/ckpt.img exited 65 " "$D/cmd.err" ||
		fail "docker start does not say why: $(cat "$D/cmd.err")"
	[[ $(dk inspect -f '{{.State.Running}}' dk4) == false ]] ||
		fail "docker says dk4 runs"
	# the runtime by itself, as the shim runs it: the state it put back
	# under runc's root is removed again
	mkdir "$D/rr" || fail "can't make $D/rr"
	expect_exit 65 "$CKPT" container runtime --root "$D/rr" restore \
		--image-path "${cp%/*}" --detach -no-subreaper "$id"
	[[ ! -e $D/rr/$id ]] || fail "runc's state of dk4 was left in $D/rr"
	expect_exit 0 "$DK_BIN" -H "unix://$DK_SOCK" start dk4
	PID=$(dk inspect -f '{{.State.Pid}}' dk4)
	track_pid "$PID"
	dk_wait_count dk4 3
}

# A process that docker exec started in the container, not a descendant
# of its init: docker checkpoint create fails naming it before anything
# is frozen or killed; the container and that process run on, neither
# traced, and no checkpoint is kept
t_docker-exec-refused() {
	local n spid id end=$((SECONDS + 60))
	dk_daemon
	dk_run dk5
	dk exec -d dk5 sleep 1000 ||
		fail "docker exec -d failed: $(lastline "$D/errors.log")"
	# its host PID, as docker top lists the container's processes
	until spid=$(dk top dk5 -o pid,args | awk '$2 == "sleep" && $3 == 1000 { print $1 }') &&
		[[ -n $spid ]]; do
		((SECONDS < end)) || fail "docker top shows no sleep 60 s on"
		sleep 0.2
	done
	track_pid "$spid"
	expect_exit 1 "$DK_BIN" -H "unix://$DK_SOCK" checkpoint create dk5 cp1
	id=$(dk inspect -f '{{.ID}}' dk5)
	grep -qF "ckpt: can't checkpoint container $id: its process $spid (sleep) does not descend from its init $PID (docker exec started it?) and would not be in the image: end it first" "$D/cmd.err" &&
		! grep -q -e --leave-exec "$D/cmd.err" ||
		fail "no error naming $spid: $(cat "$D/cmd.err")"
	[[ $(dk inspect -f '{{.State.Status}}' dk5) == running ]] ||
		fail "dk5 is $(dk inspect -f '{{.State.Status}}' dk5) after the refusal"
	n=$(dk_count dk5) || exit 1
	dk_wait_count dk5 $((n + 5))
	alive "$spid" || fail "the exec'd sleep $spid is gone"
	[[ $(awk '/^TracerPid:/ { print $2 }' "/proc/$PID/status") == 0 ]] ||
		fail "dk5's init is still traced"
	! dk checkpoint ls dk5 | grep -qw cp1 || fail "a checkpoint was kept"
}
