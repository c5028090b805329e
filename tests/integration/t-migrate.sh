# t-migrate.sh - live migration (ckpt migrate to ckpt serve --restore)
# between two "hosts": network namespaces migrate-aN (the source) and
# migrate-bN (the receiver; mig2-aN and mig2-bN for the tests of the
# pre-copy rounds), a veth pair between them with private
# 10.236.N.1/.2 addresses, made and removed by each test. The receiver
# runs in a PID namespace of its own (unshare --pid), where the PIDs of
# the image are free, as on another machine; it shares the file system,
# so the migrated process writes on in D. Sourced by run.sh.

ALL_TESTS+=(migrate-mem migrate-lazy migrate-tree migrate-refused
	    migrate-killed migrate-unconfirmed migrate-rounds
	    migrate-receiver-gone migrate-lazy-faults migrate-lazy-unconfirmed)
CKPT_ONLY+="migrate-mem migrate-lazy migrate-tree migrate-refused "
CKPT_ONLY+="migrate-killed migrate-unconfirmed migrate-rounds "
CKPT_ONLY+="migrate-receiver-gone migrate-lazy-faults "
CKPT_ONLY+="migrate-lazy-unconfirmed "

MIG_PORT=7500

# mig_net_up: the two namespaces (MIG_A, MIG_B, named MIG_PFX-aN and
# -bN, MIG_PFX migrate unless set) and the veth, removed when the test
# ends
mig_net_up() {
	local id=$BASHPID
	command -v ip >/dev/null || fail "ip (iproute2) not found"
	command -v nsenter >/dev/null || fail "nsenter not found"
	MIG_NET=10.236.$((id % 250 + 1))
	MIG_A=${MIG_PFX:-migrate}-a$id
	MIG_B=${MIG_PFX:-migrate}-b$id
	trap 'cleanup; mig_net_down' EXIT
	ip netns add "$MIG_A" && ip netns add "$MIG_B" &&
	ip link add "mga$id" type veth peer name "mgb$id" &&
	ip link set "mga$id" netns "$MIG_A" &&
	ip link set "mgb$id" netns "$MIG_B" &&
	ip -n "$MIG_A" addr add "$MIG_NET.1/24" dev "mga$id" &&
	ip -n "$MIG_B" addr add "$MIG_NET.2/24" dev "mgb$id" &&
	ip -n "$MIG_A" link set "mga$id" up &&
	ip -n "$MIG_B" link set "mgb$id" up &&
	ip -n "$MIG_A" link set lo up && ip -n "$MIG_B" link set lo up ||
		fail "can't make the namespaces"
	MIG_URL=tcp://$MIG_NET.2:$MIG_PORT
}

mig_net_down() {
	[[ -e /run/netns/$MIG_A ]] && ip netns del "$MIG_A"
	[[ -e /run/netns/$MIG_B ]] && ip netns del "$MIG_B"
	return 0
}

# mig_on_a CMD...: CMD in the source's network namespace
mig_on_a() {
	nsenter --net="/run/netns/$MIG_A" "$@"
}

# mig_serve [--pidns] [OPTION...]: ckpt serve in the receiver's
# namespace (SJOB), for D/srv; --pidns: in a PID namespace of its own
mig_serve() {
	local pre=() end=$((SECONDS + 20)) up n
	# a server started before in the test said it too
	up=$(grep -sc "serving .* on $MIG_NET.2:$MIG_PORT" "$D/serve.log")
	if [[ ${1-} == --pidns ]]; then
		pre=(unshare --pid --fork --kill-child --mount-proc)
		shift
	fi
	mkdir -p "$D/srv" && chmod 700 "$D/srv"
	[[ -e $D/key ]] || expect_exit 0 "$CKPT" keygen "$D/key"
	(spawn nsenter --net="/run/netns/$MIG_B" "${pre[@]}" "$CKPT" serve \
		--listen "$MIG_NET.2:$MIG_PORT" -D "$D/srv" --auth "$D/key" \
		"$@") </dev/null >>"$D/serve.log" 2>&1 &
	SJOB=$!
	track_job "$SJOB"
	until n=$(grep -sc "serving .* on $MIG_NET.2:$MIG_PORT" \
		       "$D/serve.log"); ((${n:-0} > ${up:-0})); do
		job_done "$SJOB" && fail "ckpt serve exited:" \
					 "$(lastline "$D/serve.log")"
		((SECONDS < end)) || fail "ckpt serve not up after 20 s"
		nap
	done
}

# mig_start CMD...: the workload on the source, counting
mig_start() {
	need "$CKPT" "$RESTORE"
	mig_net_up
	start_wl nsenter --net="/run/netns/$MIG_A" "$@"
	wait_count_above 8 60 "$JOB"
}

# mig_run WANT [OPTION...]: ckpt migrate PID to the receiver, exit WANT
mig_run() {
	local want=$1
	shift
	expect_exit "$want" nsenter --net="/run/netns/$MIG_A" "$CKPT" -v \
		migrate --auth "$D/key" "$@" "$PID" "$MIG_URL/img"
}

# mig_moved: the source is gone (killed by ckpt migrate once the
# receiver said it runs), the count goes on from the receiver, and at
# D/stop the migrated process checks itself and ends
mig_moved() {
	local c
	wait_job "$JOB" 30 || fail "the source still runs after the migration"
	grep -q "migrate img: runs as PID" "$D/serve.log" ||
		fail "serve did not say it runs: $(lastline "$D/serve.log")"
	c=$(count_lines)
	wait_count_above $((c + 20)) 60 "$SJOB"
	touch "$D/stop"
}

# mig_ended WHAT: the migrated process(es) said WHAT in D/out.log and
# failed nothing; D/count has no gap and no repeat
mig_ended() {
	local end=$((SECONDS + 60))
	until grep -q "$1" "$D/out.log"; do
		grep -q FAIL "$D/out.log" &&
			fail "$(grep -m 1 FAIL "$D/out.log")"
		((SECONDS < end)) || fail "no '$1' after D/stop: $(diag)"
		nap
	done
	grep -q FAIL "$D/out.log" && fail "$(grep -m 1 FAIL "$D/out.log")"
	check_count
}

# mig_runs_on: after a failed migration the source was not touched: not
# stopped, not traced, counting, and it ends well at D/stop
mig_runs_on() {
	[[ $(tracer "$PID") == 0 ]] || fail "source left traced"
	refused_runs_on
	check_count
}

# mig_logged TEXT: in time, the receiver logged TEXT
mig_logged() {
	local end=$((SECONDS + 60))
	until grep -q "$1" "$D/serve.log"; do
		((SECONDS < end)) || fail "the receiver did not log '$1':" \
					  "$(lastline "$D/serve.log")"
		nap
	done
}

# mig_ns_alone: in time, the receiver's server is alone in its PID
# namespace: what it restored was killed
mig_ns_alone() {
	local end=$((SECONDS + 30)) srv ns p n
	srv=$(cat "/proc/$SJOB/task/$SJOB/children" 2>/dev/null)
	ns=$(readlink "/proc/${srv%% *}/ns/pid") || fail "no receiver"
	while :; do
		n=0
		for p in /proc/[0-9]*; do
			[[ $(readlink "$p/ns/pid" 2>/dev/null) == "$ns" ]] &&
				n=$((n + 1))
		done
		((n == 1)) && return
		((SECONDS < end)) || fail "the receiver still holds $((n - 1))" \
					  "other processes"
		nap
	done
}

# mig_nothing_left: no image, no temporary on the receiver (a receiver
# may still be cleaning up after a cut connection)
mig_nothing_left() {
	local end=$((SECONDS + 30))
	until [[ -z $(ls -A "$D/srv") ]]; do
		((SECONDS < end)) || fail "the receiver kept $(ls -A "$D/srv")"
		nap
	done
}

# 64 MiB written at 8 MiB/s, migrated; it counts on over there, the
# memory checked whole at the end
t_migrate-mem() {
	mig_start "$WLB/migmem" 64 8
	mig_serve --pidns --restore
	mig_run 0
	mig_moved
	mig_ended "migmem: 64 MiB checked"
}

# the same, restored lazily on the receiver (restore -d --lazy: a pager
# there serves the pages)
t_migrate-lazy() {
	mig_start "$WLB/migmem" 64 8
	mig_serve --pidns --restore
	mig_run 0 --lazy
	mig_moved
	mig_ended "migmem: 64 MiB checked"
}

# lazily, the pager's pull held back (CKPT_LAZY_GATE) so that the
# process runs on its faults alone: the memory a pre-copy left in runs
# of a few pages from every round (a fault fills its whole MiB, record
# after record, --trust-pages: serve read it through the secretstream)
# counts on and is checked whole before the pull starts. The image kept
# there is restored again here, lazily with every CRC checked (pieces of
# one record share it), the pull held: it counts on on its faults alone
# (a quarter of its writes anywhere: the records read come and go) and
# checks its memory whole. restore refuses --trust-pages without --lazy
t_migrate-lazy-faults() {
	local job c end
	mig_start "$WLB/migmem" 64 16
	CKPT_LAZY_GATE=$D/gate mig_serve --pidns --restore
	mig_run 0 --lazy
	mig_moved
	mig_ended "migmem: 64 MiB checked"
	touch "$D/gate"
	rm "$D/stop"
	c=$(count_lines)
	(CKPT_LAZY_GATE=$D/gate2 spawn unshare --pid --fork --kill-child \
		--mount-proc "$RESTORE" --no-validate --lazy "$D/srv/img") \
		</dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	wait_count_above $((c + 100)) 60 "$job"
	touch "$D/stop"
	end=$((SECONDS + 60))
	until (($(grep -c "migmem: 64 MiB checked" "$D/out.log") == 2)); do
		grep -q FAIL "$D/out.log" &&
			fail "$(grep -m 1 FAIL "$D/out.log")"
		((SECONDS < end)) || fail "not checked again: $(diag)"
		nap
	done
	touch "$D/gate2"
	wait_job "$job" 60 || fail "restore still running after the pull"
	((WST == 0)) || fail "restore exited $WST: $(lastline "$D/cmd.err")"
	expect_exit 64 "$RESTORE" --trust-pages "$D/srv/img"
	one_line_err "restore --trust-pages without --lazy"
}

# a lazy migration whose client dies once the receiver says it runs: the
# receiver kills what it restored, its pager (still pulling: the RUNS
# comes as soon as the process runs) and all, and the source runs on
t_migrate-lazy-unconfirmed() {
	mig_start "$WLB/migmem" 64 16
	mig_serve --pidns --restore
	CKPT_FAULT=migrate-runs mig_run 137 --lazy
	mig_logged "no confirmation from the client"
	mig_ns_alone
	mig_nothing_left
	stopped "$PID" && fail "source left stopped (state $ST)"
	[[ $(tracer "$PID") == 0 ]] || fail "source left traced"
	refused_runs_on
}

# a parent and its child, the ticks sent down a pipe between them, --tree
t_migrate-tree() {
	mig_start "$WLB/migmem" 32 4 tree
	mig_serve --pidns --restore
	mig_run 0 --tree
	mig_moved
	mig_ended "migmem: 32 MiB checked"
	grep -q "migmem child: .* ticks in order" "$D/out.log" ||
		fail "the child did not end well: $(lastline "$D/out.log")"
}

# a receiver without --restore refuses (73, one line, before the source
# is touched); one whose restore fails (the PIDs taken: the same PID
# namespace) reports it (70): the source runs on both times, nothing is
# left on the receiver
t_migrate-refused() {
	mig_start "$WLB/migmem" 16 4
	mig_serve
	mig_run 73
	one_line_err "migrate to a server without --restore"
	grep -q "does not restore migrations" "$D/cmd.err" ||
		fail "not the refusal: $(lastline "$D/cmd.err")"
	stopped "$PID" && fail "source left stopped (state $ST)"
	mig_nothing_left
	kill -TERM "$SJOB"
	wait_job "$SJOB" 10 || fail "ckpt serve still running after SIGTERM"
	mig_serve --restore
	mig_run 70
	grep -q "PID the image needs is in use" "$D/cmd.err" ||
		fail "not the restore's failure: $(lastline "$D/cmd.err")"
	mig_nothing_left
	mig_runs_on
}

# ckpt migrate SIGKILLed while it sends: the source runs on, the
# receiver removes what it had
t_migrate-killed() {
	local end job
	mig_start "$WLB/migmem" 512 8
	mig_serve --pidns --restore
	(spawn nsenter --net="/run/netns/$MIG_A" "$CKPT" migrate \
		--auth "$D/key" "$PID" "$MIG_URL/img") </dev/null \
		>"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	end=$((SECONDS + 60))
	# the receiver's restore reads the image as it comes (--follow)
	until compgen -G "$D/srv/.img.tmp.*" >/dev/null &&
	      mig_restore_running; do
		job_done "$job" && fail "ckpt migrate ended before it was" \
					"killed: $(lastline "$D/cmd.err")"
		((SECONDS < end)) || fail "no restore following the transfer" \
					  "after 60 s"
		nap
	done
	kill -KILL "$job"
	wait_job "$job" 30 || fail "ckpt migrate not gone after SIGKILL"
	alive "$PID" || fail "the source died with ckpt migrate"
	mig_nothing_left
	mig_ns_alone
	mig_runs_on
}

# mig_restore_running: the receiver runs restore, on an image not yet
# whole (its temporary still there)
mig_restore_running() {
	local srv ns p
	srv=$(cat "/proc/$SJOB/task/$SJOB/children" 2>/dev/null)
	ns=$(readlink "/proc/${srv%% *}/ns/pid") || return 1
	for p in $(pgrep -x restore); do
		[[ $(readlink "/proc/$p/ns/pid" 2>/dev/null) == "$ns" ]] &&
			compgen -G "$D/srv/.img.tmp.*" >/dev/null && return 0
	done
	return 1
}

# the receiver restored the process but ckpt migrate never confirmed:
# killed on the spot (the connection closes), or stopped past the
# receiver's --client-timeout and let go on. Either way the receiver
# kills what it restored and the source runs on (thawed after the stop:
# migrate fails, 70); each ran a moment on both sides, so D/count is not
# checked
t_migrate-unconfirmed() {
	local job
	mig_start "$WLB/migmem" 16 4
	mig_serve --pidns --restore --client-timeout 3
	CKPT_FAULT=migrate-runs mig_run 137
	mig_ns_alone
	mig_nothing_left
	stopped "$PID" && fail "source left stopped (state $ST)"
	(CKPT_FAULT=migrate-runs:stop spawn nsenter --net="/run/netns/$MIG_A" \
		"$CKPT" migrate --auth "$D/key" "$PID" "$MIG_URL/img") \
		</dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	job=$!
	track_job "$job"
	until stopped "$job"; do
		job_done "$job" && fail "ckpt migrate ended: $(lastline "$D/cmd.err")"
		nap
	done
	mig_logged "no confirmation from the client"
	mig_ns_alone
	kill -CONT "$job"
	wait_job "$job" 60 || fail "ckpt migrate still running after SIGCONT"
	((WST == 70)) || fail "ckpt migrate exited $WST, want 70:" \
			      "$(lastline "$D/cmd.err")"
	mig_nothing_left
	[[ $(tracer "$PID") == 0 ]] || fail "source left traced"
	refused_runs_on
}

# mig_round2: ckpt migrate -v (MJOB) started and stopped before its
# second pre-copy round (CKPT_FAULT), the first one sent
mig_round2() {
	local end=$((SECONDS + 60))
	(CKPT_FAULT=pre-copy:2:stop spawn nsenter --net="/run/netns/$MIG_A" \
		"$CKPT" -v migrate --auth "$D/key" "$PID" "$MIG_URL/img") \
		</dev/null >"$D/cmd.out" 2>"$D/cmd.err" &
	MJOB=$!
	track_job "$MJOB"
	until stopped "$MJOB"; do
		job_done "$MJOB" && fail "ckpt migrate ended:" \
					 "$(lastline "$D/cmd.err")"
		((SECONDS < end)) || fail "ckpt migrate not at its second round"
		nap
	done
}

# the pre-copy rounds reach the receiver while the source runs: ckpt
# migrate stopped before its second round (CKPT_FAULT) finds the whole
# memory already in the receiver's temporary and the source counting;
# let go on, it migrates, and the process over there keeps its count and
# finds its memory as it wrote it (checked whole)
t_migrate-rounds() {
	local end size c
	MIG_PFX=mig2
	mig_start "$WLB/migmem" 64 8
	mig_serve --pidns --restore
	mig_round2
	end=$((SECONDS + 60))
	until size=$(stat -c %s "$D"/srv/.img.tmp.* 2>/dev/null) &&
	      ((size >= 64 << 20)); do
		((SECONDS < end)) || fail "the receiver has ${size:-no} bytes" \
					  "of the first round"
		nap
	done
	stopped "$PID" && fail "source stopped during the rounds (state $ST)"
	c=$(count_lines)
	wait_count_above $((c + 5)) 60 "$JOB"
	kill -CONT "$MJOB"
	wait_job "$MJOB" 120 || fail "ckpt migrate still running after SIGCONT"
	((WST == 0)) || fail "ckpt migrate exited $WST: $(lastline "$D/cmd.err")"
	grep -q "pre-copy round 1" "$D/cmd.err" ||
		fail "no second round: $(lastline "$D/cmd.err")"
	mig_moved
	mig_ended "migmem: 64 MiB checked"
}

# the receiver of the connection is killed during the rounds: ckpt
# migrate fails (70) with one line, and the source runs on, untraced,
# its count whole
t_migrate-receiver-gone() {
	local p f kid=
	MIG_PFX=mig2
	mig_start "$WLB/migmem" 64 8
	mig_serve --pidns --restore
	mig_round2
	for p in /proc/[0-9]*; do
		for f in "$p"/fd/*; do
			[[ $(readlink "$f" 2>/dev/null) == "$D"/srv/.img.tmp.* ]] &&
				kid=${p#/proc/}
		done
	done
	[[ -n $kid ]] || fail "no receiver holds the temporary"
	kill -KILL "$kid"
	kill -CONT "$MJOB"
	wait_job "$MJOB" 120 || fail "ckpt migrate still running after SIGCONT"
	((WST == 70)) || fail "ckpt migrate exited $WST, want 70:" \
			      "$(lastline "$D/cmd.err")"
	grep -q "^ckpt: .*server" "$D/cmd.err" ||
		fail "not the connection's failure: $(lastline "$D/cmd.err")"
	stopped "$PID" && fail "source left stopped (state $ST)"
	mig_runs_on
}

# ---- restore --lazy from a page server (serve/serve-pages.c) -------------
# The image is on a ckpt serve in the namespace pgs-bN, restore in pgs-aN
# asks it for the state, then for the pages; D/img is moved away, so
# nothing is read from here.

ALL_TESTS+=(pgs-lazy pgs-detach pgs-server-killed pgs-refused)
CKPT_ONLY+="pgs-lazy pgs-detach pgs-server-killed pgs-refused "

# pgs_start: lazymem's 256 MiB dumped, its image on the server only
pgs_start() {
	MIG_PFX=pgs
	MIG_PORT=$((7600 + BASHPID % 20))
	mig_start "$WLB/lazymem" 256
	mig_serve
	# from the source's namespace, as ckpt migrate dumps (its veth)
	expect_exit 0 nsenter --net="/run/netns/$MIG_A" "$CKPT" attach \
		--kill -o "$D/srv/img" "$PID"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	DUMP_COUNT=$(count_lines)
}

# pgs_restore [OPTION...]: restore --lazy of the server's image from the
# source's namespace, the pull held until lazymem writes D/gate (RJOB)
pgs_restore() {
	(spawn nsenter --net="/run/netns/$MIG_A" env "CKPT_LAZY_GATE=$D/gate" \
		"$RESTORE" --lazy --auth "$D/key" "$@" "$MIG_URL/img") \
		</dev/null >>"$D/restore.log" 2>"$D/restore.err" &
	RJOB=$!
	track_job "$RJOB"
}

# pgs_asked: the server served the pages (not the image whole)
pgs_asked() {
	mig_logged "pages img: ok, [1-9][0-9]* bytes asked for"
	grep -q "get img" "$D/serve.log" && fail "the image was sent whole"
	:
}

# every page of lazymem (threads, a child, mremap, MADV_DONTNEED, a
# fork: lazymem checks every word) from the server; restore ends when
# all are in place
t_pgs-lazy() {
	pgs_start
	pgs_restore
	wait_restored
	finish
	grep -h FAIL "$D/out.log" && fail "lazymem failed its checks"
	pgs_asked
}

# --detach: the pager holds the connection and ends once all is in place
t_pgs-detach() {
	local out
	pgs_start
	expect_exit 0 nsenter --net="/run/netns/$MIG_A" \
		env "CKPT_LAZY_GATE=$D/gate" "$RESTORE" --lazy --detach -v \
		--auth "$D/key" "$MIG_URL/img"
	read -r out <"$D/cmd.out"
	[[ $out == "$PID" ]] || fail "restore printed \"$out\", want $PID"
	PAGER=$(sed -n 's/.*pager \([0-9]*\) serves.*/\1/p' "$D/cmd.err")
	[[ -n $PAGER ]] || fail "restore -v named no pager"
	RJOB=$PID	# not our child: polled only
	wait_count_above $((DUMP_COUNT + 3)) 60 "$PID"
	touch "$D/restored"
	wait_path "$D/gate" 60 || fail "lazymem wrote no D/gate"
	wait_gone "$PAGER" 120 || fail "pager $PAGER still there"
	touch "$D/stop"
	wait_gone "$PID" 60 || fail "PID $PID still running after D/stop"
	grep -h FAIL "$D/out.log" && fail "lazymem failed its checks"
	check_count
	pgs_asked
}

# the server killed while pages are missing (no pull before D/gate):
# the next fault can't be served, so the process is killed, and restore
# exits 70 with one line naming the server
t_pgs-server-killed() {
	local p
	pgs_start
	pgs_restore
	wait_restored
	for p in $(child_pids "$SJOB") "$SJOB"; do
		kill -KILL "$p"
	done
	touch "$D/restored"
	wait_gone "$PID" 60 || fail "PID $PID runs on without its server"
	wait_job "$RJOB" 60 || fail "restore still running"
	((WST == 70)) || fail "restore exited $WST, want 70"
	[[ $(wc -l <"$D/restore.err") == 1 ]] ||
		fail "restore said $(wc -l <"$D/restore.err") lines, want one"
	grep -q "^restore: tcp://.*: can't fetch the pages at offset [0-9]*: the server went away" \
		"$D/restore.err" || fail "restore said: $(cat "$D/restore.err")"
	grep -q "check" "$D/out.log" && grep -q FAIL "$D/out.log" &&
		fail "lazymem saw bad memory: $(grep -m 1 FAIL "$D/out.log")"
	:
}

# a compressed image can't be served by offset: refused by the server,
# restore exits 66 with one line and makes nothing
t_pgs-refused() {
	MIG_PFX=pgs
	MIG_PORT=$((7600 + BASHPID % 20))
	mig_start "$WLB/lazymem" 16
	mig_serve
	expect_exit 0 nsenter --net="/run/netns/$MIG_A" "$CKPT" attach \
		--kill --compress -o "$D/srv/img" "$PID"
	wait_job "$JOB" 30 || fail "can't reap the killed workload"
	expect_exit 66 nsenter --net="/run/netns/$MIG_A" "$RESTORE" --lazy \
		--auth "$D/key" "$MIG_URL/img"
	one_line_err "restore --lazy tcp://"
	grep -q "server: ERR pages are served from a plain image only" \
		"$D/cmd.err" || fail "restore said: $(cat "$D/cmd.err")"
	gone "$PID" || fail "PID $PID was made"
	mig_logged "pages img: failed: not a plain image"
}
