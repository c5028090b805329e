# t-runc.sh - runc containers (Debian's runc, an OCI bundle with a busybox
# root): `ckpt container checkpoint --kill` and `ckpt container restore`
# bring a running container back with its mounts (runc's /dev tmpfs,
# devpts, masked and read-only /proc paths, cgroup binds), its cgroups
# and their limits, and runc's state brought up to date so that runc
# state, ps, exec and kill go on working; what ckpt cannot restore is
# refused by name with the container running on.  The container shares
# the test's network namespace.  Sourced by run.sh.

ALL_TESTS+=(runc-container runc-memlimit runc-refuse runc-freezer-killed
	    runc-freeze-v2 runc-console)
CKPT_ONLY+="runc-container runc-memlimit runc-refuse runc-freezer-killed "
CKPT_ONLY+="runc-freeze-v2 runc-console "

RC_ID=		# the container's runc name
RC_ROOT=	# runc's --root
RC_PORT=	# its httpd's port on 127.0.0.1
RC_CONSOCK=	# consock.py, its console's listener

rc_runc() {
	runc --root "$RC_ROOT" "$@" 2>>"$D/errors.log"
}

# the container gone: what is left in its cgroup killed (a restored one
# runc may not know), runc deletes it and its cgroups; the usual cleanup
rc_cleanup() {
	local p cg cgs
	if [[ -n $RC_ID ]]; then
		cgs=$(jq -r '.cgroup_paths[]' "$RC_ROOT/$RC_ID/state.json" 2>/dev/null)
		for cg in $cgs; do
			[[ -e $cg/freezer.state ]] && echo THAWED >"$cg/freezer.state"
			for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do
				kill -KILL "$p" 2>/dev/null
			done
		done
		runc --root "$RC_ROOT" delete -f "$RC_ID" >/dev/null 2>&1
		for cg in $cgs; do
			for p in {1..200}; do
				[[ -d $cg ]] && ! rmdir "$cg" 2>/dev/null || break
				nap
			done
		done
	fi
	cleanup
}

# rc_bundle JQ: an OCI bundle in D/b, its root a read-only busybox, a tmpfs
# on /tmp holding a page an httpd serves and a count the loop appends to;
# no network namespace; JQ edits config.json further
rc_bundle() {
	local r=$D/b/rootfs script
	command -v runc >/dev/null || skip "runc is not installed (DEB_PKGS)"
	command -v jq >/dev/null || skip "jq is not installed (DEB_PKGS)"
	need /usr/bin/busybox "$CKPT" "$RESTORE"
	RC_ID=ckpt-rc-$$-$RANDOM
	RC_ROOT=$D/runc-root
	RC_PORT=$((20000 + RANDOM % 20000))
	mkdir -p "$r/bin" "$r/tmp" "$r/proc" "$r/dev" "$r/sys" &&
		cp /usr/bin/busybox "$r/bin/" &&
		"$r/bin/busybox" --install "$r/bin" &&
		(cd "$D/b" && runc spec) || fail "can't make the bundle"
	script="exec </dev/null >/dev/null 2>&1
mkdir /tmp/www && echo served >/tmp/www/index.html
httpd -p 127.0.0.1:$RC_PORT -h /tmp/www || exit 1
i=0
while :; do i=\$((i + 1)); echo \$i >>/tmp/count; sleep 0.1; done"
	jq --arg s "$script" '.process.terminal = false |
		.process.args = ["sh", "-c", $s] |
		.linux.namespaces |= map(select(.type != "network")) |
		.mounts += [{destination: "/tmp", type: "tmpfs", source: "ckpt-rc-tmp",
			     options: ["nosuid", "nodev", "mode=1777", "size=8m"]}] | '"$1" \
		"$D/b/config.json" >"$D/config.json" &&
		mv "$D/config.json" "$D/b/config.json" || fail "can't edit config.json"
	trap rc_cleanup EXIT
}

# rc_start: the container running, its count past 8, PID its init
rc_start() {
	rc_runc run -d --bundle "$D/b" --pid-file "$D/rc.pid" "$RC_ID" \
		</dev/null >>"$D/out.log" 2>&1 || fail "runc run failed: $(lastline "$D/errors.log")"
	PID=$(<"$D/rc.pid")
	track_pid "$PID"
	mnt_wait_count "$PID" 8
	[[ $(curl -s "http://127.0.0.1:$RC_PORT/") == served ]] ||
		fail "the container's httpd does not serve"
}

# rc_checkpoint: ckpt container checkpoint --kill, runc then says stopped
rc_checkpoint() {
	expect_exit 0 "$CKPT" container checkpoint --kill --runc-root "$RC_ROOT" \
		"$RC_ID" "$D/img"
	wait_gone "$PID" 60 || fail "$PID still there 60 s after"
	[[ $(rc_runc state "$RC_ID" | jq -r .status) == stopped ]] ||
		fail "runc does not say stopped after the checkpoint"
}

# rc_restore: ckpt container restore; PID the new init, whose count goes on
rc_restore() {
	local before
	expect_exit 0 "$CKPT" container restore --runc-root "$RC_ROOT" \
		"$RC_ID" "$D/img"
	PID=$(<"$D/cmd.out")
	[[ $PID =~ ^[0-9]+$ ]] || fail "ckpt container restore printed $PID"
	track_pid "$PID"
	before=$(mnt_count "$PID")
	mnt_wait_count "$PID" $((before + 5))
	awk 'NR != $1 { exit 1 }' "/proc/$PID/root/tmp/count" ||
		fail "the count has a gap or a repeat"
}

# rc_creds PID: what runc set up of its credentials (capability sets,
# no_new_privs, seccomp) and its rlimits
rc_creds() {
	grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]*|NoNewPrivs|Seccomp):' "/proc/$1/status"
	cat "/proc/$1/limits"
}

# runc's commands on the restored container: state, ps, exec, kill
rc_check_runc() {
	local st
	st=$(rc_runc state "$RC_ID" | jq -r '"\(.status) \(.pid)"')
	[[ $st == "running $PID" ]] || fail "runc state says $st, want running $PID"
	rc_runc ps "$RC_ID" | awk -v p="$PID" '$2 == p { f = 1 } END { exit !f }' ||
		fail "runc ps does not list $PID"
	[[ $(rc_runc exec "$RC_ID" cat /tmp/www/index.html) == served ]] ||
		fail "runc exec does not run in the restored container"
	rc_runc kill "$RC_ID" KILL || fail "runc kill failed"
	wait_gone "$PID" 60 || fail "$PID still there 60 s after"
}

# A runc container (pid, ipc, uts and mount namespaces, runc's default
# mounts and masked and read-only paths, a tmpfs /tmp, cgroups in every
# v1 hierarchy, its capabilities, no_new_privs and rlimits): checkpointed
# --kill, restored; the count goes on, the httpd serves, the mounts and
# credentials are the same, runc state/ps/exec/kill work.
t_runc-container() {
	rc_bundle .
	rc_start
	mnt_info "$PID" | sort >"$D/mounts.before"
	rc_creds "$PID" >"$D/creds.before"
	rc_checkpoint
	inspect "$D/img"
	grep -q "^mount [0-9]* inner /proc/keys tmpfs tmpfs host /dev/null " "$D/inspect.out" &&
		grep -q "^mount [0-9]* inner /proc/sys proc proc host /proc/sys flags ro," "$D/inspect.out" ||
		fail "inspect shows no masked or read-only /proc paths"
	expect_exit 64 "$CKPT" container restore --runc-root "$RC_ROOT" \
		--console-socket "$D/no.sock" "$RC_ID" "$D/img"
	grep -q "console-socket given, but its container had no console" "$D/cmd.err" ||
		fail "a console socket for no console: $(cat "$D/cmd.err")"
	rc_restore
	mnt_info "$PID" | sort >"$D/mounts.after"
	diff "$D/mounts.before" "$D/mounts.after" >>"$D/errors.log" ||
		fail "mounts differ after restore: $(diff "$D/mounts.before" "$D/mounts.after" | tr '\n' ' ')"
	rc_creds "$PID" >"$D/creds.after"
	diff "$D/creds.before" "$D/creds.after" >>"$D/errors.log" ||
		fail "capabilities, no_new_privs or rlimits differ: $(diff "$D/creds.before" "$D/creds.after" | tr '\n' ' ')"
	[[ $(curl -s "http://127.0.0.1:$RC_PORT/") == served ]] ||
		fail "the restored httpd does not serve"
	[[ $(nsenter -t "$PID" -u hostname) == runc ]] || fail "hostname lost"
	[[ -c /proc/$PID/root/dev/null && -L /proc/$PID/root/dev/ptmx ]] ||
		fail "the container's /dev lost its nodes"
	rc_check_runc
}

# A container with a memory limit: its cgroups are removed after the
# checkpoint (as on another machine); restore makes them again, with
# the limit and runc's device rules, and runc finds the container in them
t_runc-memlimit() {
	local cg dev
	rc_bundle '.linux.resources.memory = {limit: 67108864}'
	rc_start
	cg=$(jq -r '.cgroup_paths.memory' "$RC_ROOT/$RC_ID/state.json")
	[[ $(<"$cg/memory.limit_in_bytes") == 67108864 ]] ||
		fail "runc set no memory limit in $cg"
	dev=$(jq -r '.cgroup_paths.devices' "$RC_ROOT/$RC_ID/state.json")
	sort "$dev/devices.list" >"$D/devices.before"
	[[ $(wc -l <"$D/devices.before") -gt 1 ]] ||
		fail "runc set no device rules: $(cat "$D/devices.before")"
	rc_checkpoint
	for cg in $(jq -r '.cgroup_paths[]' "$RC_ROOT/$RC_ID/state.json"); do
		rmdir "$cg" 2>>"$D/errors.log" || fail "can't remove the container's cgroup $cg"
	done
	rc_restore
	cg=$(jq -r '.cgroup_paths.memory' "$RC_ROOT/$RC_ID/state.json")
	[[ $(<"$cg/memory.limit_in_bytes") == 67108864 ]] ||
		fail "the restored container's memory limit is $(<"$cg/memory.limit_in_bytes")"
	grep -qx "$PID" "$cg/cgroup.procs" || fail "$PID is not in $cg"
	sort "$dev/devices.list" | diff "$D/devices.before" - >>"$D/errors.log" ||
		fail "the device rules of $dev differ after restore"
	rc_check_runc
}

# A mount ckpt does not restore (a ramfs): refused by name, the container
# runs on and runc still says running
t_runc-refuse() {
	local n
	rc_bundle '.mounts += [{destination: "/mnt", type: "ramfs", source: "ckpt-rc-ramfs", options: []}]'
	rc_start
	expect_exit 70 "$CKPT" container checkpoint --kill --runc-root "$RC_ROOT" \
		"$RC_ID" "$D/img"
	one_line_err "container checkpoint"
	grep -q "^ckpt: can't dump $PID: its mount on /mnt is of type ramfs (ckpt-rc-ramfs), which ckpt does not restore yet\$" "$D/cmd.err" ||
		fail "no error naming it: $(cat "$D/cmd.err")"
	[[ ! -e $D/img ]] || fail "an image was written"
	n=$(mnt_count "$PID")
	mnt_wait_count "$PID" $((n + 5))
	[[ $(rc_runc state "$RC_ID" | jq -r .status) == running ]] ||
		fail "runc does not say running after the refusal"
	rc_thawed
}

# the container's freezer cgroup: THAWED (within 60 s)
rc_thawed() {
	local f end=$((SECONDS + 60))
	f=$(jq -r '.cgroup_paths.freezer' "$RC_ROOT/$RC_ID/state.json")/freezer.state
	until [[ $(<"$f") == THAWED ]]; do
		((SECONDS < end)) || fail "the container's cgroup is $(<"$f") 60 s on"
		nap
	done
}

# ckpt killed (SIGKILL) while it holds the container's cgroup frozen:
# its guardian thaws it, the container counts on untraced, and a
# checkpoint after that works
t_runc-freezer-killed() {
	local n
	rc_bundle .
	rc_start
	CKPT_FAULT=cgroup-frozen expect_exit 137 "$CKPT" container checkpoint \
		--kill --runc-root "$RC_ROOT" "$RC_ID" "$D/img"
	rc_thawed
	n=$(mnt_count "$PID")
	mnt_wait_count "$PID" $((n + 5))
	[[ $(awk '/^TracerPid:/ { print $2 }' "/proc/$PID/status") == 0 ]] ||
		fail "the container's init is still traced"
	[[ ! -e $D/img ]] || fail "an image was written"
	rc_checkpoint
	rc_restore
	rc_check_runc
}

RC_V2=		# runc-freeze-v2's cgroup
RC_V2_MNT=	# and where cgroup2 is mounted

rc_v2_cleanup() {
	local i
	cleanup
	for i in {1..200}; do
		[[ -d $RC_V2 ]] && ! rmdir "$RC_V2" 2>/dev/null || break
		nap
	done
}

rc_v2_dumped() {
	inspect "$D/img"
	grep -q "^cgroup - ${RC_V2#"$RC_V2_MNT"}\$" "$D/inspect.out" ||
		fail "inspect shows no v2 cgroup: $(grep ^cgroup "$D/inspect.out" | tr '\n' ' ')"
	[[ $(<"$RC_V2/cgroup.freeze") == 0 ]] || fail "the cgroup was left frozen"
}

rc_v2_restored() {
	grep -qx "$PID" "$RC_V2/cgroup.procs" || fail "$PID is not back in $RC_V2"
}

# attach --freeze-cgroup with cgroup v2's cgroup.freeze (here the v1
# freezer cgroup of the workload is ckpt's, so v2's is used; a v2-frozen
# task stops for ptrace only once thawed): a counter in a v2 cgroup of
# its own is frozen, seized, thawed, dumped --kill and restored there
t_runc-freeze-v2() {
	need "$WLB/counter" "$CKPT" "$RESTORE"
	RC_V2_MNT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[[ -n $RC_V2_MNT && -e $RC_V2_MNT/cgroup.procs ]] || skip "no cgroup2 mounted"
	[[ $(sed -n 's/^0:://p' /proc/self/cgroup) == / ]] ||
		skip "the tests do not run in cgroup v2's root"
	RC_V2=$RC_V2_MNT/ckpt-rc-v2-$$-$RANDOM
	trap rc_v2_cleanup EXIT
	mkdir "$RC_V2" && [[ -e $RC_V2/cgroup.freeze ]] ||
		skip "no cgroup.freeze (Linux 5.2) in $RC_V2_MNT"
	start_wl sh -c "echo \$\$ >$RC_V2/cgroup.procs && exec $WLB/counter"
	DUMP_OPTS=(--freeze-cgroup)
	HOOK_DUMPED=rc_v2_dumped
	HOOK_RESTORED=rc_v2_restored
	wl_test_started
}

# rc_console_start: the container run with a terminal (runc run -d
# --console-socket), consock.py holding its master: what the container
# writes goes to D/console.log, what is written into D/typed is typed
# into it. A child of its init counts into /tmp/count and says "tick N"
# on the console; the init echoes each line it reads as "got LINE".
rc_console_start() {
	local script end=$((SECONDS + 60))
	script='mkdir /tmp/www && echo served >/tmp/www/index.html
i=0
while :; do i=$((i + 1)); echo $i >>/tmp/count; echo tick $i; sleep 0.1; done &
while read l; do echo "got $l"; done'
	rc_bundle '.process.terminal = true'
	jq --arg s "$script" '.process.args = ["sh", "-c", $s]' "$D/b/config.json" \
		>"$D/config.json" && mv "$D/config.json" "$D/b/config.json" &&
		mkfifo "$D/typed" || fail "can't edit config.json"
	(spawn python3 "$TOP/tests/integration/consock.py" "$D/console.sock" "$D/console.log" \
		"$D/typed" "$D/masters") </dev/null >>"$D/out.log" 2>&1 &
	RC_CONSOCK=$!
	track_job "$RC_CONSOCK"
	until [[ -S $D/console.sock ]]; do
		((SECONDS < end)) || fail "consock.py did not listen in 60 s"
		nap
	done
	rc_runc run -d --console-socket "$D/console.sock" --bundle "$D/b" \
		--pid-file "$D/rc.pid" "$RC_ID" </dev/null >>"$D/out.log" 2>&1 ||
		fail "runc run failed: $(lastline "$D/errors.log")"
	PID=$(<"$D/rc.pid")
	track_pid "$PID"
	mnt_wait_count "$PID" 8
}

# rc_console_wait RE [MASTERS]: RE in D/console.log (and consock.py took
# MASTERS masters), within 60 s
rc_console_wait() {
	local end=$((SECONDS + 60))
	until grep -qa "$1" "$D/console.log" 2>/dev/null &&
	      [[ -z ${2-} || $(cat "$D/masters" 2>/dev/null) == "${2-}" ]]; do
		((SECONDS < end)) || fail "no '$1' on the console after 60 s: $(tail -c 200 "$D/console.log" | tr '\r\n' '  ')"
		nap
	done
}

# rc_console_state: the console's termios and size as stty says them
# through the slave, and the init's terminal and foreground group
rc_console_state() {
	stty -a <"/proc/$PID/fd/0" || fail "can't read the console's settings"
	awk '{ sub(/.*\) /, ""); print "tty_nr", $5, "tpgid", $6 }' "/proc/$PID/stat"
}

# rc_console_restore N: ckpt container restore --console-socket, the
# N-th master at the listener; PID the new init, whose loop prints on
rc_console_restore() {
	local before
	expect_exit 0 "$CKPT" container restore --runc-root "$RC_ROOT" \
		--console-socket "$D/console.sock" "$RC_ID" "$D/img"
	PID=$(<"$D/cmd.out")
	[[ $PID =~ ^[0-9]+$ ]] || fail "ckpt container restore printed $PID"
	track_pid "$PID"
	before=$(mnt_count "$PID")
	rc_console_wait "tick $((before + 5))" "$1"
}

# A runc container with a terminal (runc run -t): checkpointed --kill,
# restored with `ckpt container restore --console-socket`, whose
# listener gets the new master; the console's settings and size (set
# odd before), its session and foreground group are the same, the shell
# loop prints on, and a line typed into the new master reaches the
# container's reader; and so again from the restored container.
# restore without the socket is refused first.
t_runc-console() {
	rc_console_start
	rc_console_wait "tick 3" 1
	stty rows 27 cols 91 intr ^G -icrnl <"/proc/$PID/fd/0" ||
		fail "can't set the console's settings"
	echo first >"$D/typed"
	rc_console_wait "got first"
	rc_console_state >"$D/state.before"
	grep -q "tpgid $PID\$" "$D/state.before" ||
		fail "the init is not the console's foreground: $(tail -n 1 "$D/state.before")"
	# what the container wrote and the listener has not read is the
	# listener's: read from the old master, not again from the new
	kill -STOP "$RC_CONSOCK"
	mnt_wait_count "$PID" $(($(mnt_count "$PID") + 5))
	rc_checkpoint
	kill -CONT "$RC_CONSOCK"
	inspect "$D/img"
	grep -q "^file [0-9]*: pty-master .* /dev/pts/0 27x91 .* console" "$D/inspect.out" ||
		fail "inspect shows no console: $(grep pty "$D/inspect.out" | tr '\n' ' ')"
	expect_exit 64 "$CKPT" container restore --runc-root "$RC_ROOT" \
		"$RC_ID" "$D/img"
	grep -q "give --console-socket" "$D/cmd.err" ||
		fail "restore without the socket: $(cat "$D/cmd.err")"
	expect_exit 70 "$CKPT" container restore --runc-root "$RC_ROOT" \
		--console-socket "$D/no.sock" "$RC_ID" "$D/img"
	grep -q "can't connect to console socket $D/no.sock: No such file or directory" "$D/cmd.err" ||
		fail "restore with no socket there: $(cat "$D/cmd.err")"
	[[ $(rc_runc state "$RC_ID" | jq -r .status) == stopped ]] ||
		fail "runc does not say stopped after a refused restore"
	rc_console_restore 2
	echo second >"$D/typed"
	rc_console_wait "got second"
	# and once more, from the restored console
	rm "$D/img" && rc_checkpoint
	rc_console_restore 3
	echo third >"$D/typed"
	rc_console_wait "got third"
	tr -d '\r' <"$D/console.log" | awk '$1 == "tick" && $2 != ++n { exit 1 }' ||
		fail "the console's ticks have a gap or a repeat: $(tr -d '\r' <"$D/console.log" | awk '$1 == "tick" && $2 != ++n { print n ": " $0; exit }')"
	rc_console_state >"$D/state.after"
	sed -i "s/tpgid $PID\$/tpgid INIT/" "$D/state.after"
	sed -i "s/tpgid [0-9]*\$/tpgid INIT/" "$D/state.before"
	diff "$D/state.before" "$D/state.after" >>"$D/errors.log" ||
		fail "the console differs after restore: $(diff "$D/state.before" "$D/state.after" | tr '\n' ' ')"
	[[ $(awk '$5 == "/dev/console" { print $4, $9 }' "/proc/$PID/mountinfo") == "/0 devpts" ]] ||
		fail "no console bound on /dev/console"
	rc_check_runc
}
