# t-coord.sh - coordinated checkpoints of jobs spanning hosts (ckpt
# coord, ckpt run --coord, ckpt job): "hosts" are network namespaces
# (ckco-A/B/C plus a hub holding a bridge and the coordinator, private
# 10.235.N.0/24 addresses, made and removed by each test). The job is a
# token ring over TCP (tests/workloads/ring.c) whose checksum says
# whether every token went round exactly once: checkpointed while it
# runs, its hosts crashed (processes killed, namespaces deleted and made
# again), restarted from the last manifest, and its checksum compared
# with one computed here.  Also: a member lost in phase 1 (abort, the
# others thaw, no manifest), the coordinator killed (members run on and
# come back), forged and replayed messages, and an outside kind
# (plugins/examples/coord-every.c).  The standby kind: a ZooKeeper of
# the test's own (Debian's zookeeperd, one server in the hub, short ticks
# and sessions), coordinators elected through it and killed, members
# finding the leader there; an ensemble of three servers, one of them
# killed with the leading coordinator (coord-ensemble).  A map-reduce
# (tests/workloads/mapreduce.py) checkpointed mid-map and restarted on
# other hosts (coord-mapreduce).  The hub and host namespaces are named
# COORD_PFX-... (ckco by default; t-ctree.sh's are ctree).  Sourced by
# run.sh.

ALL_TESTS+=(coord-ring coord-abort coord-away coord-forged coord-kind
	    coord-standby coord-interval coord-place coord-sharded
	    coord-zk-refused coord-ensemble coord-mapreduce)
CKPT_ONLY+="coord-ring coord-abort coord-away coord-forged coord-kind "
CKPT_ONLY+="coord-standby coord-interval coord-place coord-sharded "
CKPT_ONLY+="coord-zk-refused coord-ensemble coord-mapreduce "

COORD_PORT=7400
COORD_HOPS=${CKPT_COORD_HOPS:-6000}

# coord_net_up [HOST...]: the hub (COORD_HUB, bridge at COORD_NET.254)
# and hosts (default A B C: COORD_NET.1 .2 .3), removed when the test ends
coord_net_up() {
	local id=$BASHPID h hosts=("${@:-A}")
	(($#)) || hosts=(A B C)
	need "$WLB/ring"
	command -v ip >/dev/null || fail "ip (iproute2) not found"
	command -v nft >/dev/null || fail "nft (nftables) not found"
	COORD_ID=$id
	COORD_NET=10.235.$((id % 250 + 1))
	COORD_HUB=${COORD_PFX:-ckco}-hub$id
	COORD_ADDR=$COORD_NET.254:$COORD_PORT
	trap 'cleanup; coord_net_down' EXIT
	ip netns add "$COORD_HUB" &&
	ip -n "$COORD_HUB" link add cobr type bridge &&
	ip -n "$COORD_HUB" addr add "$COORD_NET.254/24" dev cobr &&
	ip -n "$COORD_HUB" link set cobr up &&
	ip -n "$COORD_HUB" link set lo up ||
		fail "can't make the hub namespace"
	for h in "${hosts[@]}"; do
		[[ $h == none ]] || coord_host_up "$h"
	done
}

# coord_ns H: the namespace of host H
coord_ns() {
	echo "${COORD_PFX:-ckco}-$1$COORD_ID"
}

coord_ip() {
	case $1 in A) echo "$COORD_NET.1" ;; B) echo "$COORD_NET.2" ;;
		   C) echo "$COORD_NET.3" ;; esac
}

# coord_host_up H: host H's namespace, a veth to the hub's bridge
coord_host_up() {
	local ns v=co$1$COORD_ID end=$((SECONDS + 60))
	ns=$(coord_ns "$1")
	# a host that crashed: its namespace goes away in the kernel's own
	# time, and its veth's end in the hub with it
	while ip -n "$COORD_HUB" link show "${v}h" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "host $1's old veth still in the hub after 60 s"
		nap
	done
	ip netns add "$ns" &&
	ip link add "$v" type veth peer name "${v}h" &&
	ip link set "$v" netns "$ns" && ip link set "${v}h" netns "$COORD_HUB" &&
	ip -n "$COORD_HUB" link set "${v}h" master cobr &&
	ip -n "$COORD_HUB" link set "${v}h" up &&
	ip -n "$ns" addr add "$(coord_ip "$1")/24" dev "$v" &&
	ip -n "$ns" link set "$v" up && ip -n "$ns" link set lo up ||
		fail "can't make host $1"
}

coord_net_down() {
	local h
	for h in A B C; do
		[[ -e /run/netns/$(coord_ns "$h") ]] &&
			ip netns del "$(coord_ns "$h")"
	done
	[[ -e /run/netns/$COORD_HUB ]] && ip netns del "$COORD_HUB"
	return 0
}

# coord_start [OPTION...]: the coordinator in the hub (COJOB), its store
# D/coord.state; up once ckpt job list answers
coord_start() {
	local end=$((SECONDS + 30))
	[[ -f $D/key ]] || "$CKPT" keygen "$D/key" || fail "keygen failed"
	(spawn ip netns exec "$COORD_HUB" "$CKPT" coord --listen "$COORD_ADDR" \
		--auth "$D/key" --state "$D/coord.state" "$@") </dev/null \
		>>"$D/coord.log" 2>&1 &
	COJOB=$!
	track_job "$COJOB"
	until coord_job list >/dev/null 2>&1; do
		job_done "$COJOB" && fail "ckpt coord exited:" \
					  "$(lastline "$D/coord.log")"
		((SECONDS < end)) || fail "ckpt coord not up after 30 s"
		nap
	done
}

# coord_job ARGS...: ckpt job ARGS against the coordinator, from the hub
coord_job() {
	ip netns exec "$COORD_HUB" "$CKPT" job --coord "$COORD_ADDR" \
		--auth "$D/key" "$@"
}

# coord_member H NAME [--restore | -- PROG...]: ckpt run --coord on host
# H (named hostH), member NAME of job "ring", run directory D/NAME,
# options COORD_MOPTS, coordinator COORD_AT[H] or COORD_ADDR; its job in
# COORD_MJOB[NAME]
declare -A COORD_MJOB COORD_AT
COORD_MOPTS=()
coord_member() {
	local h=$1 name=$2
	shift 2
	(spawn ip netns exec "$(coord_ns "$h")" "$CKPT" run \
		--coord "${COORD_AT[$h]:-$COORD_ADDR}" --job ring --auth "$D/key" \
		--member "$name" --host "host$h" -D "$D/$name" \
		"${COORD_MOPTS[@]}" "$@") \
		</dev/null \
		>>"$D/$name.log" 2>&1 &
	COORD_MJOB[$name]=$!
	track_job "$!"
}

# coord_ring N HOSTS...: N ring processes, process I on the I-th host
# named, each listening on port 6000+I; COORD_HOSTS keeps the hosts
coord_ring() {
	local n=$1 i next
	shift
	COORD_HOSTS=("$@")
	COORD_N=$n
	rm -f "$D"/ring-*.pid "$D/progress" "$D/result" "$D/finish"
	for ((i = 0; i < n; i++)); do
		next=$(((i + 1) % n))
		coord_member "${COORD_HOSTS[i]}" "ring$i" -- "$WLB/ring" "$i" \
			"$COORD_HOPS" "$(coord_ip "${COORD_HOSTS[i]}")" \
			$((6000 + i)) "$(coord_ip "${COORD_HOSTS[next]}")" \
			$((6000 + next))
	done
	coord_ring_pids
	coord_progress_above 0
}

# coord_ring_pids: COORD_PIDS from D/ring-I.pid, within 60 s
coord_ring_pids() {
	local end=$((SECONDS + 60)) i
	COORD_PIDS=()
	for ((i = 0; i < COORD_N; i++)); do
		until [[ -s $D/ring-$i.pid ]]; do
			((SECONDS < end)) || fail "ring process $i not up" \
						  "after 60 s: $(lastline \
						  "$D/ring$i.log")"
			nap
		done
		COORD_PIDS+=("$(<"$D/ring-$i.pid")")
		track_pid "${COORD_PIDS[i]}"
	done
}

coord_progress() {
	local p=0
	[[ -s $D/progress ]] && read -r p <"$D/progress"
	echo "${p:-0}"
}

# coord_progress_above N: the token goes past hop N within 60 s
coord_progress_above() {
	local end=$((SECONDS + 60))
	while (($(coord_progress) <= $1)); do
		((SECONDS < end)) || fail "the token stopped at hop $1"
		nap
	done
}

# coord_status_has PATTERN COUNT: ckpt job status ring has COUNT lines
# matching PATTERN within 60 s
coord_status_has() {
	local end=$((SECONDS + 60)) n
	while :; do
		n=$(coord_job status ring 2>/dev/null | grep -c -- "$1")
		((n == $2)) && return 0
		((SECONDS < end)) || fail "status: $n lines of '$1', want $2:" \
					  "$(coord_job status ring 2>&1 | tr '\n' '|')"
		sleep 0.2
	done
}

# coord_expected N: the checksum of an uninterrupted ring of N processes
coord_expected() {
	python3 -c '
import sys
n, hops = int(sys.argv[1]), int(sys.argv[2])
m = (1 << 64) - 1
s = 0x5eed
for h in range(hops):
    s = ((s ^ ((h * 0x9e3779b97f4a7c15 + (h + 1) % n) & m)) * 0x100000001b3) & m
print(s)' "$1" "$COORD_HOPS"
}

# coord_ckpt_ok: a committed checkpoint; COORD_SEQ its number
coord_ckpt_ok() {
	local out
	out=$(coord_job checkpoint ring 2>>"$D/errors.log") ||
		fail "ckpt job checkpoint failed: $(lastline "$D/errors.log")"
	[[ $out =~ ^checkpoint\ ([0-9]+)\ of\ job\ ring\ committed ]] ||
		fail "ckpt job checkpoint said: $out"
	COORD_SEQ=${BASH_REMATCH[1]}
}

# coord_ckpt_timed: coord_ckpt_ok, the coordinator's timing of it (the
# whole, the slowest member's dump) added to D/figures
coord_ckpt_timed() {
	coord_ckpt_ok
	grep "checkpoint $COORD_SEQ of job ring took" "$D/coord.log" |
		sed "s/.*ckpt coord: /$COORD_N members: /" >>"$D/figures"
}

# coord_ring_end: the ring finishes; every member exits 0, the result is
# the checksum of an uninterrupted run
coord_ring_end() {
	local want got
	touch "$D/finish"
	coord_members_end finish
	want=$(coord_expected "$COORD_N")
	read -r got <"$D/result" || fail "no result"
	[[ $got == "$want" ]] || fail "checksum $got, want $want"
}

# coord_members_end WHAT: every member exits 0 within 120 s (of WHAT)
coord_members_end() {
	local name
	for name in "${!COORD_MJOB[@]}"; do
		wait_job "${COORD_MJOB[$name]}" 120 ||
			fail "member $name still running 120 s after $1"
		((WST == 0)) || fail "member $name: exit $WST:" \
				     "$(lastline "$D/$name.log")"
	done
}

# coord_crash: every host crashes, its ring processes and members killed,
# its namespace gone
coord_crash() {
	local i h
	for i in "${!COORD_PIDS[@]}"; do
		kill -KILL "${COORD_PIDS[i]}"
	done
	for i in "${!COORD_MJOB[@]}"; do
		wait_job "${COORD_MJOB[$i]}" 60 || fail "member $i still there"
	done
	for h in A B C; do
		ip netns del "$(coord_ns "$h")"
	done
}

t_coord-ring() {
	local i seq
	coord_net_up
	coord_start
	coord_ring 4 A B A C
	coord_status_has ': running, connected' 4
	# three checkpoints while the token goes round
	for i in 1 2 3; do
		coord_progress_above $(($(coord_progress) + 64))
		coord_ckpt_timed
	done
	seq=$COORD_SEQ
	((seq == 3)) || fail "third checkpoint numbered $seq"
	grep -q '^member ring3 ' "$D/coord.state" ||
		fail "the manifest names no ring3"
	coord_progress_above $(($(coord_progress) + 64))
	coord_crash_restart "$seq"
	coord_status_has ': running, connected' 4
	coord_ring_end
	[[ -z ${CKPT_FIGURES:-} ]] || cat "$D/figures" >>"$CKPT_FIGURES"
}

# coord_crash_restart SEQ: the hosts crash (processes killed, namespaces
# gone) and come back; a restore agent per member, then the restart from
# checkpoint SEQ
coord_crash_restart() {
	local h i
	coord_crash
	for h in A B C; do
		coord_host_up "$h"
	done
	for ((i = 0; i < COORD_N; i++)); do
		coord_member "${COORD_HOSTS[i]}" "ring$i" --restore
	done
	coord_status_has ': idle, connected' "$COORD_N"
	coord_restart 0
	grep -q "restarted from checkpoint $1" "$D/cmd.out" ||
		fail "restart said: $(<"$D/cmd.out")"
}

# coord_ckpt_held: ring2's member stopped, ckpt job checkpoint in the
# background (coord_ckpt_stopped) until the others dumped and wait frozen
coord_ckpt_held() {
	coord_ckpt_stopped ring2
	coord_status_has 'dumped (frozen)' 2
}

# coord_ckpt_stopped NAME: member NAME stopped, ckpt job checkpoint in
# the background (COORD_CK, its output D/ck.out and D/ck.err)
coord_ckpt_stopped() {
	kill -STOP "${COORD_MJOB[$1]}"
	(spawn ip netns exec "$COORD_HUB" "$CKPT" job --coord "$COORD_ADDR" \
		--auth "$D/key" checkpoint ring) </dev/null >"$D/ck.out" \
		2>"$D/ck.err" &
	COORD_CK=$!
	track_job "$COORD_CK"
}

# coord_ckpt_lost NAME PATTERN: member NAME (stopped by
# coord_ckpt_stopped) killed, the checkpoint COORD_CK fails (exit 70)
# saying PATTERN
coord_ckpt_lost() {
	kill -KILL "${COORD_MJOB[$1]}"
	wait_job "${COORD_MJOB[$1]}" 30 || fail "member $1 not killed"
	unset "COORD_MJOB[$1]"
	wait_job "$COORD_CK" 60 ||
		fail "the checkpoint did not end after the loss"
	((WST == 70)) || fail "checkpoint: exit $WST, want 70"
	grep -q -- "$2" "$D/ck.err" ||
		fail "checkpoint said: $(cat "$D/ck.out" "$D/ck.err")"
}

# coord_thawed: ring0 and ring1 run again within 30 s
coord_thawed() {
	local end=$((SECONDS + 30)) i
	for i in 0 1; do
		while coord_frozen "${COORD_PIDS[i]}"; do
			((SECONDS < end)) || fail "ring$i still frozen"
			nap
		done
	done
}

# coord_frozen PID: PID is stopped by a tracer (a frozen dump)
coord_frozen() {
	pstate "$1"
	[[ $ST == t ]]
}

t_coord-abort() {
	local i
	coord_net_up
	coord_start --timeout 120
	coord_ring 3 A B C
	coord_status_has ': running, connected' 3
	# ring2's member will not answer; the others dump and wait frozen
	coord_ckpt_held
	for i in 0 1; do
		coord_frozen "${COORD_PIDS[i]}" ||
			fail "ring$i is not frozen in phase 1 (state $ST)"
	done
	# the member is lost during phase 1
	coord_ckpt_lost ring2 "checkpoint 1 of job ring aborted: member ring2"
	# the others thaw and the token goes on; no manifest
	coord_thawed
	coord_progress_above $(($(coord_progress) + 64))
	! grep -q manifest "$D/coord.state" ||
		fail "a manifest was stored for an aborted checkpoint"
	coord_job status ring | grep -q 'last checkpoint 0' ||
		fail "status: $(coord_job status ring 2>&1)"
	coord_ring_end
}

t_coord-away() {
	local i
	coord_net_up
	coord_start
	coord_ring 3 A B C
	coord_status_has ': running, connected' 3
	coord_ckpt_ok
	# the coordinator dies: the job runs on
	kill -KILL "$COJOB"
	wait_job "$COJOB" 30 || fail "ckpt coord not killed"
	coord_progress_above $(($(coord_progress) + 128))
	for i in "${!COORD_MJOB[@]}"; do
		job_done "${COORD_MJOB[$i]}" &&
			fail "member $i exited without its coordinator:" \
			     "$(lastline "$D/$i.log")"
	done
	# it comes back with its store; the members find it again
	coord_start
	coord_status_has ': running, connected' 3
	coord_ckpt_ok
	((COORD_SEQ == 2)) || fail "checkpoint after the restart is $COORD_SEQ"
	coord_ring_end
}

# coord_proxy MODE ARG...: tests/integration/proxy.py in the hub before
# the coordinator (COORD_PXPORT)
coord_proxy() {
	local end=$((SECONDS + 30))
	rm -f "$D/proxy.port"
	(spawn ip netns exec "$COORD_HUB" python3 \
		"$TOP/tests/integration/proxy.py" "$D/proxy.port" "$COORD_PORT" \
		"$@") </dev/null >>"$D/proxy.log" 2>&1 &
	COORD_PX=$!
	track_job "$COORD_PX"
	until [[ -s $D/proxy.port ]]; do
		((SECONDS < end)) || fail "proxy.py not up after 30 s"
		nap
	done
	COORD_PXPORT=$(<"$D/proxy.port")
}

coord_px_stop() {
	kill "$COORD_PX"
	wait "$COORD_PX" 2>/dev/null
}

# coord_hub_member: a member m of job ring in the hub, a shell loop
coord_hub_member() {
	(spawn ip netns exec "$COORD_HUB" "$CKPT" run --coord "$COORD_ADDR" \
		--job ring --auth "$D/key" --member m -D "$D/m" -- \
		sh -c 'while :; do sleep 0.1; done') </dev/null \
		>>"$D/m.log" 2>&1 &
	track_job "$!"
}

t_coord-forged() {
	local out
	coord_net_up none
	COORD_ADDR=127.0.0.1:$COORD_PORT
	coord_start
	coord_hub_member
	coord_status_has ': running, connected' 1
	# a real session, recorded on its way
	coord_proxy record "$D/c2s.bin"
	out=$(ip netns exec "$COORD_HUB" "$CKPT" job --coord \
		"127.0.0.1:$COORD_PXPORT" --auth "$D/key" checkpoint ring) ||
		fail "checkpoint through the proxy failed"
	[[ $out == "checkpoint 1 of job ring committed: 1 members" ]] ||
		fail "checkpoint said: $out"
	coord_px_stop
	# replayed whole to the coordinator: refused at the handshake
	out=$(ip netns exec "$COORD_HUB" python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
s.recv(40)
s.sendall(open(sys.argv[2], "rb").read())
got = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
except OSError:
    pass
print(got[:1].decode("latin1") or "closed")' "$COORD_PORT" "$D/c2s.bin")
	[[ $out == N || $out == closed ]] || fail "replay answered: $out"
	grep -q "refused 127.0.0.1" "$D/coord.log" ||
		fail "the coordinator did not refuse the replay"
	# one byte changed in the first sealed frame: the session ends
	coord_proxy flip c2s $((8 + 32 + 32 + 24 + 10))
	expect_exit 69 ip netns exec "$COORD_HUB" "$CKPT" job --coord \
		"127.0.0.1:$COORD_PXPORT" --auth "$D/key" checkpoint ring
	one_line_err "forged request"
	coord_px_stop
	grep -q "forged, replayed or bad message" "$D/coord.log" ||
		fail "the coordinator did not see the forged frame"
	coord_job status ring | grep -q 'last checkpoint 1' ||
		fail "status: $(coord_job status ring 2>&1)"
}

t_coord-kind() {
	local so=$B/plugins/coord-every.so n
	need "$so"
	coord_net_up none
	COORD_ADDR=127.0.0.1:$COORD_PORT
	coord_start --kind "$so" --kind-arg 1
	coord_hub_member
	# the kind starts checkpoints by itself, and names their images
	coord_status_has 'last checkpoint [3-9]' 1
	[[ -s $D/m/every-0002.ckpt ]] || fail "no image where the kind said"
	n=$(grep -A 2 '^every/commits$' "$D/coord.state" | tail -n 1)
	((n >= 2)) || fail "the kind's store holds $n commits"
	grep -q "kind every" "$D/coord.log" || fail "no kind every in the log"
}

# coord_images NAME: the checkpoint numbers of member NAME's images
coord_images() {
	local f
	for f in "$D/$1"/[0-9]*.ckpt; do
		f=${f##*/}
		echo $((10#${f%.ckpt}))
	done
}

t_coord-interval() {
	local seq i end got
	coord_net_up
	coord_start --interval 2
	COORD_MOPTS=(--keep 2)
	coord_ring 3 A B C
	# checkpoints every 2 s that nobody asks for
	coord_status_has 'last checkpoint \([4-9]\|[1-9][0-9]\)' 1
	coord_progress_above $(($(coord_progress) + 64))
	# stopped, the coordinator aborts any checkpoint under way: each
	# member holds the images of the last two committed, no other
	kill -TERM "$COJOB"
	wait_job "$COJOB" 30 || fail "ckpt coord did not stop"
	coord_thawed
	seq=$(grep -A 2 '^job/ring/seq$' "$D/coord.state" | tail -n 1)
	for ((i = 0; i < 3; i++)); do
		end=$((SECONDS + 30))
		while got=$(coord_images "ring$i" | sort -n | tr '\n' ' ')
		      [[ $got != "$((seq - 1)) $seq " ]]; do
			((SECONDS < end)) || fail "ring$i holds images $got," \
						  "want $((seq - 1)) $seq"
			nap
		done
	done
	coord_ring_end
}

# coord_restart STATUS [ARG...]: ckpt job restart ring ARG... from the
# hub exits with STATUS (expect_exit)
coord_restart() {
	expect_exit "$1" ip netns exec "$COORD_HUB" "$CKPT" job --coord \
		"$COORD_ADDR" --auth "$D/key" restart ring "${@:2}"
}

t_coord-place() {
	local i seq
	coord_net_up
	coord_start
	coord_ring 3 A B C
	coord_status_has ': running, connected' 3
	coord_progress_above $(($(coord_progress) + 64))
	coord_ckpt_ok
	seq=$COORD_SEQ
	coord_progress_above $(($(coord_progress) + 64))
	# the hosts crash; A never comes back
	coord_crash
	coord_host_up B
	coord_host_up C
	# ring0 goes to C, which takes A's address (its sockets' own); its
	# image is where the manifest says (one file system here)
	ip -n "$(coord_ns C)" addr add "$(coord_ip A)/24" dev "coC$COORD_ID" ||
		fail "can't give C the address of A"
	coord_member C ring0 --restore
	coord_member B ring1 --restore
	coord_member C ring2 --restore
	coord_status_has ': idle, connected' 3
	coord_restart 70
	grep -q "member ring0 of job ring is not on hostA" "$D/cmd.err" ||
		fail "restart at the manifest's hosts: $(<"$D/cmd.err")"
	coord_restart 70 --place ring0=hostC,ring9=hostB
	grep -q "names a member not in the manifest" "$D/cmd.err" ||
		fail "restart placing ring9: $(<"$D/cmd.err")"
	coord_restart 0 --place ring0=hostC
	grep -q "restarted from checkpoint $seq" "$D/cmd.out" ||
		fail "restart said: $(<"$D/cmd.out")"
	coord_status_has ': running, connected' 3
	coord_progress_above $(($(coord_progress) + 64))
	# the next manifest names the new host
	coord_ckpt_ok
	grep -q '^member ring0 hostC ' "$D/coord.state" ||
		fail "the manifest keeps ring0 on $(grep '^member ring0' \
			"$D/coord.state")"
	coord_ring_end
}

# ---- a map-reduce on three hosts ------------------------------------------

COMR_TASKS=400

# comr_member H NAME ARG...: member NAME on host H runs mapreduce.py
# ARG... (its files in D/mr)
comr_member() {
	coord_member "$1" "$2" -- python3 "$WLS/mapreduce.py" "${@:3}"
}

# comr_done_above N: more than N map tasks done within 60 s
comr_done_above() {
	local end=$((SECONDS + 60)) p=0
	while :; do
		[[ -s $D/mr/progress ]] && read -r p <"$D/mr/progress"
		((${p:-0} > $1)) && return 0
		((SECONDS < end)) || fail "map tasks stopped at ${p:-0}"
		nap
	done
}

# A driver and three workers (tests/workloads/mapreduce.py) on hosts A,
# B, C, A over TCP, checkpointed mid-map; the hosts crash, A never comes
# back: its driver and worker are restored on C (given A's address) with
# --place, and the output is that of an uninterrupted run.
t_coord-mapreduce() {
	local ip seq name
	coord_net_up
	coord_start
	mkdir -p "$D/mr"
	ip=$(coord_ip A)
	comr_member A driver driver "$ip" 6100 3 "$COMR_TASKS" "$D/mr"
	comr_member B w0 worker w0 "$ip" 6100 "$D/mr"
	comr_member C w1 worker w1 "$ip" 6100 "$D/mr"
	comr_member A w2 worker w2 "$ip" 6100 "$D/mr"
	coord_status_has ': running, connected' 4
	# the driver hands out half the tasks until D/mr/go: mid-map
	comr_done_above 40
	coord_ckpt_ok
	seq=$COORD_SEQ
	comr_done_above 80
	[[ ! -e $D/mr/output ]] || fail "the map ended before the checkpoint"
	COORD_PIDS=()
	for name in driver w0 w1 w2; do
		COORD_PIDS+=("$(<"$D/mr/$name.pid")")
	done
	coord_crash
	coord_host_up B
	coord_host_up C
	ip -n "$(coord_ns C)" addr add "$ip/24" dev "coC$COORD_ID" ||
		fail "can't give C the address of A"
	coord_member C driver --restore
	coord_member B w0 --restore
	coord_member C w1 --restore
	coord_member C w2 --restore
	coord_status_has ': idle, connected' 4
	coord_restart 0 --place driver=hostC,w2=hostC
	grep -q "restarted from checkpoint $seq" "$D/cmd.out" ||
		fail "restart said: $(<"$D/cmd.out")"
	coord_status_has ': running, connected' 4
	touch "$D/mr/go"
	coord_members_end go
	python3 "$WLS/mapreduce.py" expect "$COMR_TASKS" >"$D/mr/want"
	cmp -s "$D/mr/want" "$D/mr/output" ||
		fail "output differs from an uninterrupted run:" \
		     "$(diff "$D/mr/want" "$D/mr/output" | head -n 3)"
}

# ---- the standby kind over ZooKeeper --------------------------------------

COZK_JARS=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar

# coordzk_up: a ZooKeeper server in the hub on COORD_NET.254:2181, data
# in D/zk, ticks of 200 ms (sessions of 0.4 to 4 s); COZK its HOSTS,
# COZK_PID its process
coordzk_up() {
	local end=$((SECONDS + 60))
	COZK=$COORD_NET.254:2181
	coordzk_server "" 2181 ZooKeeperServerMain
	COZK_PID=$!
	until [[ $(coordzk_ask 2181 ruok) == imok ]]; do
		((SECONDS < end)) || fail "ZooKeeper not up after 60 s:" \
					  "$(lastline "$D/zk.log")"
		sleep 0.2
	done
}

# coordzk_server ID PORT MAIN [CONFIG...]: a ZooKeeper server (class
# MAIN) in the hub on COORD_NET.254:PORT, data in D/zkID, log
# D/zkID.log, ticks of 200 ms (sessions of 0.4 to 4 s); $! its job
coordzk_server() {
	[[ -r /usr/share/java/zookeeper.jar ]] ||
		skip "ZooKeeper not installed (zookeeperd)"
	command -v java >/dev/null || skip "no java for ZooKeeper"
	mkdir -p "$D/zk$1"
	cat >"$D/zoo$1.cfg" <<-EOF
	tickTime=200
	initLimit=10
	syncLimit=5
	dataDir=$D/zk$1
	clientPort=$2
	clientPortAddress=$COORD_NET.254
	minSessionTimeout=400
	maxSessionTimeout=4000
	admin.enableServer=false
	4lw.commands.whitelist=ruok,srvr
	EOF
	printf '%s\n' "${@:4}" >>"$D/zoo$1.cfg"
	(spawn ip netns exec "$COORD_HUB" java -Xmx64m -XX:+UseSerialGC \
		-XX:TieredStopAtLevel=1 -cp "$COZK_JARS" \
		"org.apache.zookeeper.server.$3" "$D/zoo$1.cfg") </dev/null \
		>>"$D/zk$1.log" 2>&1 &
	track_job "$!"
}

# coordzk_ask PORT WORD: the answer of the ZooKeeper server on PORT to
# the four-letter WORD, or nothing
coordzk_ask() {
	ip netns exec "$COORD_HUB" python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.sendall(sys.argv[3].encode())
    print(s.makefile("rb").read().decode())
except OSError:
    pass' "$COORD_NET.254" "$1" "$2"
}

# coordzk_ensemble: three ZooKeeper servers in the hub (ports 2181 to
# 2183, quorum ports 2888-2890 and 3888-3890), up once each serves as
# leader or follower; COZK their HOSTS, COZK_SRV[I] the job of server I
declare -A COZK_SRV
coordzk_ensemble() {
	local end=$((SECONDS + 90)) i quorum=()
	for i in 1 2 3; do
		quorum+=("server.$i=$COORD_NET.254:$((2887 + i)):$((3887 + i))")
	done
	COZK=$COORD_NET.254:2181,$COORD_NET.254:2182,$COORD_NET.254:2183
	for i in 1 2 3; do
		mkdir -p "$D/zk$i"
		echo "$i" >"$D/zk$i/myid"
		coordzk_server "$i" $((2180 + i)) quorum.QuorumPeerMain \
			"${quorum[@]}"
		COZK_SRV[$i]=$!
	done
	for i in 1 2 3; do
		until coordzk_ask $((2180 + i)) srvr |
		      grep -q '^Mode: \(leader\|follower\)'; do
			((SECONDS < end)) || fail "ZooKeeper $i not in the" \
				"ensemble after 90 s: $(lastline "$D/zk$i.log")"
			sleep 0.3
		done
	done
}

# coordzk_coord N [KIND]: coordinator N (of KIND, standby by default)
# in the hub on port 7400+N, its log D/coordN.log, its job COZK_JOB[N]
declare -A COZK_JOB
coordzk_coord() {
	(spawn ip netns exec "$COORD_HUB" "$CKPT" coord --kind "${2:-standby}" \
		--zk "$COZK" --listen "$COORD_NET.254:$((7400 + $1))" \
		--auth "$D/key" --timeout 120) </dev/null \
		>>"$D/coord$1.log" 2>&1 &
	COZK_JOB[$1]=$!
	track_job "$!"
}

# coordzk_says N TEXT: coordinator N logs TEXT within 60 s
coordzk_says() {
	local end=$((SECONDS + 60))
	until grep -q -- "$2" "$D/coord$1.log" 2>/dev/null; do
		job_done "${COZK_JOB[$1]}" && fail "coordinator $1 exited:" \
					     "$(lastline "$D/coord$1.log")"
		((SECONDS < end)) || fail "coordinator $1 never said '$2'"
		nap
	done
}

# coordzk_kill N NEXT: SIGKILL leader N; standby NEXT leads and all the
# members are back with it; COZK_TAKEOVER: milliseconds from the kill to
# NEXT listening
coordzk_kill() {
	local t0
	t0=$(date +%s%N)
	kill -KILL "${COZK_JOB[$1]}"
	wait_job "${COZK_JOB[$1]}" 30 || fail "coordinator $1 not killed"
	coordzk_says "$2" "listening on"
	COZK_TAKEOVER=$((($(date +%s%N) - t0) / 1000000))
	echo "takeover by coordinator $2: $COZK_TAKEOVER ms" >>"$D/figures"
}

# coordzk_members_alive: no member exited for lack of a coordinator
coordzk_members_alive() {
	local i
	for i in "${!COORD_MJOB[@]}"; do
		job_done "${COORD_MJOB[$i]}" &&
			fail "member $i exited: $(lastline "$D/$i.log")"
	done
	return 0
}

# coordzk_pair: standby coordinators 1 (leading) and 2 (standing by) in
# COZK; the ring on A B C, found there, checkpointed once
coordzk_pair() {
	"$CKPT" keygen "$D/key" || fail "keygen failed"
	coordzk_coord 1
	coordzk_says 1 "listening on"
	coordzk_coord 2
	coordzk_says 2 "standing by"
	COORD_ADDR=zk://$COZK
	coord_ring 3 A B C
	coord_status_has ': running, connected' 3
	coord_ckpt_ok
}

# coord_progress_on: the token goes 64 hops further, unless it is near
# its last hop (where it waits for D/finish: a fast ring on an idle
# machine gets there while ZooKeeper fails over)
coord_progress_on() {
	local p
	p=$(coord_progress)
	((p + 64 < COORD_HOPS - 100)) || return 0
	coord_progress_above $((p + 64))
}

# coord_ckpt_next SEQ: coord_progress_on, then a committed checkpoint
# numbered SEQ
coord_ckpt_next() {
	coord_progress_on
	coord_ckpt_ok
	((COORD_SEQ == $1)) || fail "checkpoint numbered $COORD_SEQ, want $1"
}

t_coord-standby() {
	local ck
	coord_net_up
	coordzk_up
	coordzk_pair
	# the leader dies idle: 2 takes over, the members find it, the job
	# state (checkpoint 1) is in ZooKeeper
	coordzk_kill 1 2
	coordzk_coord 3
	coordzk_says 3 "standing by"
	coord_status_has ': running, connected' 3
	coordzk_members_alive
	coord_ckpt_ok
	((COORD_SEQ == 2)) || fail "checkpoint after takeover is $COORD_SEQ"
	# the leader dies in phase 1 (ring2's member holds it up): the
	# others thaw, nothing is committed, 3 leads, the next one commits
	coord_ckpt_held
	ck=$COORD_CK
	coordzk_kill 2 3
	wait_job "$ck" 60 || fail "the checkpoint did not end with its leader"
	((WST != 0)) || fail "checkpoint committed without its leader"
	kill -CONT "${COORD_MJOB[ring2]}"
	coord_thawed
	coord_status_has ': running, connected' 3
	coordzk_members_alive
	coord_progress_above $(($(coord_progress) + 64))
	coord_job status ring | grep -q 'last checkpoint 2' ||
		fail "after the abort: $(coord_job status ring 2>&1)"
	# numbers are never reused: 3 was the aborted one
	coord_ckpt_ok
	((COORD_SEQ == 4)) || fail "checkpoint after the abort is $COORD_SEQ"
	coord_ring_end
	# a leader cut off from ZooKeeper stops (a standby may lead by now)
	kill -STOP "$COZK_PID"
	wait_job "${COZK_JOB[3]}" 30 ||
		fail "leader 3 runs on without ZooKeeper"
	kill -CONT "$COZK_PID"
	((WST == 70)) || fail "leader 3 cut off: exit $WST"
	grep -q "lost the ZooKeeper session" "$D/coord3.log" ||
		fail "leader 3 cut off: $(lastline "$D/coord3.log")"
	[[ -z ${CKPT_FIGURES:-} ]] || cat "$D/figures" >>"$CKPT_FIGURES"
}

# Three ZooKeeper servers: the leading coordinator and one of the
# servers (a follower, the one the standby is likely not alone on) die
# together; the standby takes over through the other two, the next
# checkpoint commits and the job restarts from it.
t_coord-ensemble() {
	local i zk seq
	coord_net_up
	coordzk_ensemble
	coordzk_pair
	# a follower of the ensemble and the leading coordinator die
	for i in 1 2 3; do
		coordzk_ask $((2180 + i)) srvr | grep -q '^Mode: follower' &&
			zk=$i
	done
	[[ -n ${zk:-} ]] || fail "no ZooKeeper follower"
	kill -KILL "${COZK_SRV[$zk]}"
	coordzk_kill 1 2
	wait_job "${COZK_SRV[$zk]}" 30 || fail "ZooKeeper $zk not killed"
	coord_status_has ': running, connected' 3
	coordzk_members_alive
	coord_ckpt_next 2
	seq=$COORD_SEQ
	coord_progress_on
	# the hosts crash; the job restarts from checkpoint 2
	coord_crash_restart "$seq"
	coord_ring_end
	[[ -z ${CKPT_FIGURES:-} ]] || cat "$D/figures" >>"$CKPT_FIGURES"
}

# coordzk_joined N JOB COUNT: coordinator N has COUNT members of JOB
# joined within 60 s
coordzk_joined() {
	local end=$((SECONDS + 60))
	until (($(grep -c "of job $2 on .* joined" "$D/coord$1.log") >= $3))
	do
		((SECONDS < end)) || fail "coordinator $1 has no $3 members" \
					  "of $2: $(lastline "$D/coord$1.log")"
		nap
	done
}

t_coord-sharded() {
	local t0 out
	coord_net_up
	coordzk_up
	"$CKPT" keygen "$D/key" || fail "keygen failed"
	coordzk_coord 1 sharded
	coordzk_says 1 "registered in"
	coordzk_coord 2 sharded
	coordzk_says 2 "registered in"
	COORD_ADDR=zk://$COZK
	# a job goes to the least loaded: ring to 1 (the first of equals),
	# then side to 2
	coord_ring 3 A B C
	coordzk_joined 1 ring 3
	(spawn ip netns exec "$(coord_ns A)" "$CKPT" run --coord "$COORD_ADDR" \
		--job side --auth "$D/key" --member s -D "$D/s" -- \
		sh -c 'while :; do sleep 0.1; done') </dev/null \
		>>"$D/s.log" 2>&1 &
	track_job "$!"
	coordzk_joined 2 side 1
	! grep -q "of job ring on" "$D/coord2.log" ||
		fail "ring's members went to both coordinators"
	coord_ckpt_ok
	# 1 dies: its job moves to 2 with its state
	t0=$(date +%s%N)
	kill -KILL "${COZK_JOB[1]}"
	wait_job "${COZK_JOB[1]}" 30 || fail "coordinator 1 not killed"
	coordzk_joined 2 ring 3
	echo "rebalance of 3 members: $((($(date +%s%N) - t0) / 1000000)) ms" \
		>>"$D/figures"
	coord_status_has ': running, connected' 3
	coordzk_members_alive
	coord_ckpt_ok
	((COORD_SEQ == 2)) || fail "checkpoint after the move is $COORD_SEQ"
	out=$(coord_job checkpoint side) || fail "checkpoint of side failed"
	[[ $out == "checkpoint 1 of job side committed: 1 members" ]] ||
		fail "checkpoint of side said: $out"
	coord_ring_end
	[[ -z ${CKPT_FIGURES:-} ]] || cat "$D/figures" >>"$CKPT_FIGURES"
}

# ZooKeeper missing or not said, the tree kind half said: one line each,
# documented statuses
t_coord-zk-refused() {
	"$CKPT" keygen "$D/key" || fail "keygen failed"
	expect_exit 64 "$CKPT" coord --kind sharded --listen 127.0.0.1:7499 \
		--auth "$D/key"
	one_line_err "sharded without --zk"
	grep -q -- "--zk HOSTS needed" "$D/cmd.err" ||
		fail "without --zk: $(<"$D/cmd.err")"
	# nothing listens on port 1: the client library's retries unseen
	expect_exit 70 "$CKPT" coord --kind standby --zk 127.0.0.1:1 \
		--listen 127.0.0.1:7499 --auth "$D/key"
	one_line_err "coord without ZooKeeper"
	expect_exit 69 "$CKPT" job --coord zk://127.0.0.1:1 --auth "$D/key" \
		status ring
	one_line_err "job without ZooKeeper"
	grep -q "no ZooKeeper session with 127.0.0.1:1" "$D/cmd.err" ||
		fail "job without ZooKeeper: $(<"$D/cmd.err")"
	# the tree kind: a site or the root, and only for it
	expect_exit 64 "$CKPT" coord --kind tree --zk 127.0.0.1:1 \
		--listen 127.0.0.1:7499 --auth "$D/key"
	one_line_err "tree without --site or --root"
	grep -q -- "--site NAME or --root needed" "$D/cmd.err" ||
		fail "tree without --site: $(<"$D/cmd.err")"
	expect_exit 64 "$CKPT" coord --kind tree --zk 127.0.0.1:1 --root \
		--site x --listen 127.0.0.1:7499 --auth "$D/key"
	one_line_err "tree with --site and --root"
	expect_exit 64 "$CKPT" coord --site x --listen 127.0.0.1:7499 \
		--auth "$D/key" --state "$D/state"
	one_line_err "central with --site"
	grep -q -- "--site and --root are of kind tree" "$D/cmd.err" ||
		fail "central with --site: $(<"$D/cmd.err")"
	expect_exit 64 "$CKPT" coord --kind tree --zk 127.0.0.1:1 \
		--site ../x --listen 127.0.0.1:7499 --auth "$D/key"
	one_line_err "tree with a bad site name"
	expect_exit 64 "$CKPT" coord --kind tree --zk 127.0.0.1:1 --root \
		--foster x@127.0.0.1:7498 --listen 127.0.0.1:7499 \
		--auth "$D/key"
	one_line_err "the root with --foster"
	expect_exit 64 "$CKPT" coord --kind tree --zk 127.0.0.1:1 --site y \
		--foster y@127.0.0.1:7498 --listen 127.0.0.1:7499 \
		--auth "$D/key"
	one_line_err "a site fostering itself"
}
