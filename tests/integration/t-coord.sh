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
# (plugins/examples/coord-every.c).  Sourced by run.sh.

ALL_TESTS+=(coord-ring coord-abort coord-away coord-forged coord-kind)
CKPT_ONLY+="coord-ring coord-abort coord-away coord-forged coord-kind "

COORD_PORT=7400
COORD_HOPS=${CKPT_COORD_HOPS:-6000}

# coord_net_up: the hub (COORD_HUB, bridge at COORD_NET.254) and hosts
# A B C (COORD_NET.1 .2 .3), removed when the test ends
coord_net_up() {
	local id=$BASHPID h
	need "$WLB/ring"
	command -v ip >/dev/null || fail "ip (iproute2) not found"
	command -v nft >/dev/null || fail "nft (nftables) not found"
	COORD_ID=$id
	COORD_NET=10.235.$((id % 250 + 1))
	COORD_HUB=ckco-hub$id
	COORD_ADDR=$COORD_NET.254:$COORD_PORT
	trap 'cleanup; coord_net_down' EXIT
	ip netns add "$COORD_HUB" &&
	ip -n "$COORD_HUB" link add cobr type bridge &&
	ip -n "$COORD_HUB" addr add "$COORD_NET.254/24" dev cobr &&
	ip -n "$COORD_HUB" link set cobr up &&
	ip -n "$COORD_HUB" link set lo up ||
		fail "can't make the hub namespace"
	for h in A B C; do
		coord_host_up "$h"
	done
}

# coord_ns H: the namespace of host H
coord_ns() {
	echo "ckco-$1$COORD_ID"
}

coord_ip() {
	case $1 in A) echo "$COORD_NET.1" ;; B) echo "$COORD_NET.2" ;;
		   C) echo "$COORD_NET.3" ;; esac
}

# coord_host_up H: host H's namespace, a veth to the hub's bridge
coord_host_up() {
	local ns v=co$1$COORD_ID
	ns=$(coord_ns "$1")
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
# H, member NAME of job "ring", run directory D/NAME; its job in
# COORD_MJOB[NAME]
declare -A COORD_MJOB
coord_member() {
	local h=$1 name=$2
	shift 2
	(spawn ip netns exec "$(coord_ns "$h")" "$CKPT" run \
		--coord "$COORD_ADDR" --job ring --auth "$D/key" \
		--member "$name" -D "$D/$name" "$@") </dev/null \
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

# coord_ring_end: the ring finishes; every member exits 0, the result is
# the checksum of an uninterrupted run
coord_ring_end() {
	local name want got
	touch "$D/finish"
	for name in "${!COORD_MJOB[@]}"; do
		wait_job "${COORD_MJOB[$name]}" 120 ||
			fail "member $name still running 120 s after finish"
		((WST == 0)) || fail "member $name: exit $WST:" \
				     "$(lastline "$D/$name.log")"
	done
	want=$(coord_expected "$COORD_N")
	read -r got <"$D/result" || fail "no result"
	[[ $got == "$want" ]] || fail "checksum $got, want $want"
}

t_coord-ring() {
	local i h seq
	coord_net_up
	coord_start
	coord_ring 4 A B A C
	coord_status_has ': running, connected' 4
	# three checkpoints while the token goes round
	for i in 1 2 3; do
		coord_progress_above $(($(coord_progress) + 64))
		coord_ckpt_ok
	done
	seq=$COORD_SEQ
	((seq == 3)) || fail "third checkpoint numbered $seq"
	grep -q '^member ring3 ' "$D/coord.state" ||
		fail "the manifest names no ring3"
	coord_progress_above $(($(coord_progress) + 64))
	# the hosts crash: processes killed, namespaces gone
	for i in "${!COORD_PIDS[@]}"; do
		kill -KILL "${COORD_PIDS[i]}"
	done
	for i in "${!COORD_MJOB[@]}"; do
		wait_job "${COORD_MJOB[$i]}" 60 || fail "member $i still there"
	done
	for h in A B C; do
		ip netns del "$(coord_ns "$h")"
	done
	for h in A B C; do
		coord_host_up "$h"
	done
	# a restore agent per member, then the restart
	for ((i = 0; i < 4; i++)); do
		coord_member "${COORD_HOSTS[i]}" "ring$i" --restore
	done
	coord_status_has ': idle, connected' 4
	expect_exit 0 ip netns exec "$COORD_HUB" "$CKPT" job --coord \
		"$COORD_ADDR" --auth "$D/key" restart ring
	grep -q "restarted from checkpoint $seq" "$D/cmd.out" ||
		fail "restart said: $(<"$D/cmd.out")"
	coord_status_has ': running, connected' 4
	coord_ring_end
}
