# t-ssh.sh - an ssh session whose server side is checkpointed: OpenSSH's
# sshd listens in one network namespace (t-inet-ext.sh's netns_up), an
# ssh client in the other runs a counter on a pty there; the session
# (sshd's per-connection process, the pty master, the shell on the slave)
# is dumped with --tree --tcp-established --kill, restored seconds later,
# and the client, which never knew, goes on reading the counter: no line
# lost, none twice.  Sourced by run.sh.

ALL_TESTS+=(ssh-session)
CKPT_ONLY+="ssh-session "

# ssh_up: sshd in NSA on ADDR_A:22 with a host key and an authorized key
# of the test's own (SJOB, SPID); ssh_args: the client's options
ssh_up() {
	local end=$((SECONDS + 60)) sshd
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[[ -x $sshd ]] || fail "sshd not found (make deps installs openssh-server)"
	command -v ssh >/dev/null || fail "ssh not found (openssh-client)"
	netns_up
	ssh-keygen -q -t ed25519 -N '' -f "$D/host" &&
	ssh-keygen -q -t ed25519 -N '' -f "$D/user" &&
	cp "$D/user.pub" "$D/authorized" || fail "can't make the keys"
	mkdir -p /run/sshd
	(spawn ip netns exec "$NSA" "$sshd" -D -e -f /dev/null \
		-o HostKey="$D/host" -o AuthorizedKeysFile="$D/authorized" \
		-o ListenAddress="$ADDR_A" -o PidFile=none -o UsePAM=no \
		-o StrictModes=no -o PermitRootLogin=prohibit-password) \
		</dev/null >>"$D/sshd.log" 2>&1 &
	SJOB=$!
	SPID=$SJOB
	track_job "$SJOB"
	track_pid "$SPID"
	SSH_ARGS=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no
		  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
		  -i "$D/user" "root@$ADDR_A")
	until ip netns exec "$NSB" ssh "${SSH_ARGS[@]}" true \
		</dev/null >>"$D/out.log" 2>&1; do
		job_done "$SJOB" && fail "sshd ended: $(lastline "$D/sshd.log")"
		((SECONDS < end)) || fail "no ssh login after 60 s:" \
					  "$(lastline "$D/out.log")"
		sleep 0.2
	done
}

# ssh_lines: the counter's lines the client has printed so far
ssh_lines() {
	tr -d '\r' <"$D/ssh.out" | grep -c '^n [0-9]*$'
}

# ssh_wait_lines N JOB: until the client has printed more than N lines
ssh_wait_lines() {
	local end=$((SECONDS + 60))
	while (($(ssh_lines) <= $1)); do
		job_done "$2" && fail "ssh ended: $(lastline "$D/ssh.err")"
		((SECONDS < end)) || fail "the counter stuck at $(ssh_lines)" \
					  "lines (waited 60 s for more than $1)"
		nap
	done
}

t_ssh-session() {
	local sess err n
	ssh_up
	# -tt: a pty in the session even though the client has none
	(spawn ip netns exec "$NSB" ssh -tt "${SSH_ARGS[@]}" \
		'i=0; while :; do echo "n $i"; i=$((i + 1)); sleep 0.1; done') \
		</dev/null >"$D/ssh.out" 2>"$D/ssh.err" &
	CJOB=$!
	track_job "$CJOB"
	ssh_wait_lines 5 "$CJOB"
	sess=$(child_pids "$SPID")
	[[ $sess =~ ^[0-9]+$ ]] || fail "sshd has not one session: $sess"
	track_pid "$sess"
	grep -q '^/dev/pts/\|ptmx' <(ls -l "/proc/$sess/fd" | sed 's/.*-> //') ||
		fail "the session holds no pty: $(ls -l "/proc/$sess/fd")"
	ext_dump "$NSA" "$sess" --tree
	n=$(ssh_lines)
	sleep 2
	(($(ssh_lines) == n)) || fail "the counter went on while dumped"
	job_done "$CJOB" && fail "ssh ended while the session was away:" \
				 "$(lastline "$D/ssh.err")"
	ext_restore "$NSA"
	PID=$sess wait_back
	wait_no_lock "$NSA" "after the restore"
	ssh_wait_lines $((n + 20)) "$CJOB"
	err=$(tr -d '\r' <"$D/ssh.out" | awk '/^n [0-9]+$/ {
		if ($2 != k) { printf "line %d is \"%s\"", NR, $0; exit 1 }
		k++ }') ||
		fail "the counter lost or repeated a line: $err"
	# a new login works beside the restored session
	ip netns exec "$NSB" ssh "${SSH_ARGS[@]}" 'echo again' \
		</dev/null >"$D/again.out" 2>>"$D/out.log" &&
		grep -qx again "$D/again.out" ||
		fail "a new ssh login failed after the restore"
	kill "$sess"
	wait_job "$RJOB" 60 || fail "the restored session did not end"
	wait_job "$CJOB" 60 || fail "ssh did not end with its session"
}
