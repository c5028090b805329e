# t-netdev2.sh - network devices inside the tree's network namespace
# beyond the loopback, veths and macvlans of t-netns.sh: bridges with
# their ports (NETDEV kind bridge), tun and tap devices, persistent or
# held through an fd of /dev/net/tun (NETDEV kind tun, TUN FILEs), and
# what ckpt refuses of them. Uses netns_* of t-netns.sh; addresses only
# inside namespaces the tests make.

ALL_TESTS+=(netdev-bridge netdev-tun netdev-tun-mq netdev-tun-persist
	    netdev-refuse-bridge netdev-refuse-tunq)
CKPT_ONLY+="netdev-bridge netdev-tun netdev-tun-mq netdev-tun-persist netdev-refuse-bridge netdev-refuse-tunq "

# tun_ask PID ADDR: a UDP datagram from PID's namespace to ADDR, which
# tunecho.py sends back through its tun device: "hi" on stdout
tun_ask() {
	nsenter -t "$1" -n python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(30)
s.sendto(b'hi', ('$2', 7))
print(s.recvfrom(100)[0].decode())" 2>>"$D/errors.log"
}

TUN_SETUP="ip link set lo up"

# A program in a network namespace of its own answering through tun0,
# which its fd of /dev/net/tun made (not persistent): dumped --kill,
# restored, the fd is on tun0 again and answers, the device as it was
# (inspect shows it), still not persistent.
t_netdev-tun() {
	need "$CKPT" "$RESTORE"
	start_wl unshare --net /bin/sh -c "$TUN_SETUP &&
		exec python3 $TOP/tests/workloads/tunecho.py tun0 10.83.0.1 echo"
	[[ $(tun_ask "$PID" 10.83.0.2) == hi ]] || fail "no answer through tun0 before the dump"
	netns_view "$PID" >"$D/net.before"
	HOOK_DUMPED=tun_dumped
	HOOK_RESTORED=tun_back
	wl_test_started
}

# The same with a multi-queue tun0 and two fds (queues) on it: both
# attached again, each answering what comes to it.
t_netdev-tun-mq() {
	need "$CKPT" "$RESTORE"
	start_wl unshare --net /bin/sh -c "$TUN_SETUP &&
		exec python3 $TOP/tests/workloads/tunecho.py tun0 10.83.0.1 mq"
	[[ $(tun_ask "$PID" 10.83.0.2) == hi ]] || fail "no answer through tun0 before the dump"
	netns_view "$PID" >"$D/net.before"
	HOOK_DUMPED=tun_mq_dumped
	HOOK_RESTORED=tun_mq_back
	wl_test_started
}

tun_mq_dumped() {
	inspect "$D/img"
	grep -q "^netdev .* tun tun0 up mtu 1500 mac - flags 0x1101 " "$D/inspect.out" &&
		[[ $(grep -c "tun .* on tun0" "$D/inspect.out") == 2 ]] ||
		fail "inspect shows another tun0: $(grep -i "tun" "$D/inspect.out" | tr '\n' ' ')"
}

tun_mq_back() {
	local i
	for i in 1 2 3 4; do
		[[ $(tun_ask "$PID" 10.83.0.2) == hi ]] || fail "no answer through tun0 after restore"
	done
	[[ $(cat /proc/"$PID"/fdinfo/* 2>/dev/null | grep -c "^iff:	tun0") == 2 ]] ||
		fail "not two fds on tun0 after restore"
	nsenter -t "$PID" -n ip -d link show tun0 | grep -q "multi_queue numqueues 2 numdisabled 0" ||
		fail "tun0 differs: $(nsenter -t "$PID" -n ip -d link show tun0 | tr '\n' ' ')"
}

tun_dumped() {
	inspect "$D/img"
	grep -q "^netdev .* tun tun0 up mtu 1500 mac - flags 0x1001 owner -1 group -1 .* addrs 10.83.0.1/24" "$D/inspect.out" &&
		grep -q "tun .* on tun0" "$D/inspect.out" ||
		fail "inspect shows other tun devices: $(grep -i "tun" "$D/inspect.out" | tr '\n' ' ')"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; j = json.load(sys.stdin); d = {x["name"]: x for x in j["netdevs"]}; f = [x for x in j["files"] if x["kind"] == "tun"]; sys.exit(d["tun0"]["tun_flags"] != "0x1001" or len(f) != 1 or f[0]["tun_dev"] != "tun0")' ||
		fail "inspect --json shows other tun devices"
}

tun_back() {
	local e0
	e0=$(cat "$D/echoes")
	[[ $(tun_ask "$PID" 10.83.0.2) == hi ]] || fail "no answer through tun0 after restore"
	(($(cat "$D/echoes") > e0)) || fail "the restored program did not answer"
	netns_view "$PID" >"$D/net.after"
	diff "$D/net.before" "$D/net.after" >>"$D/errors.log" ||
		fail "the network differs after restore: $(diff "$D/net.before" "$D/net.after" | tr '\n' ' ')"
	nsenter -t "$PID" -n ip -d link show tun0 | grep -q "tun type tun pi off vnet_hdr off persist off" ||
		fail "tun devices differ: $(nsenter -t "$PID" -n ip -d link show | grep tun | tr '\n' ' ')"
}

# A container with bridge br0 (STP off, ageing time and forward delay
# set, an address) whose ports are eth1 and eth2, veths whose other ends
# are in a namespace playing the host, tp0, a persistent tap inside
# (down), and in0, whose peer in1 is inside too; a client there streams
# to a server
# in the container through eth1 and the bridge. Dumped --tree --kill,
# restored: the bridge, its settings and ports as they were, the stream
# carries on.
t_netdev-bridge() {
	local id=$BASHPID cjob
	need "$WLB/tcpstream" "$WLB/counter" "$CKPT" "$RESTORE"
	NETNS_HOST=netns-host-$id NETNS_VETH=nb1-$id
	NETNS_IN_HOST=(nsenter --net="/run/netns/$NETNS_HOST")
	trap 'cleanup; netns_host_down' EXIT
	ip netns add "$NETNS_HOST" && ip -n "$NETNS_HOST" link set lo up ||
		fail "can't make $NETNS_HOST"
	cat >"$D/init.sh" <<EOS
ip link set lo up
until ip link show eth2 >/dev/null 2>&1; do sleep 0.1; done
ip link add br0 type bridge ageing_time 12000 forward_delay 700 stp_state 0
ip link set eth1 master br0 && ip link set eth2 master br0
ip tuntap add dev tp0 mode tap && ip link set tp0 master br0
ip link add in0 type veth peer name in1 && ip link set in0 master br0
ip link set in1 mtu 1400 address 02:00:00:00:85:01 && ip link set in1 up && ip link set in0 up
ip link set eth1 up && ip link set eth2 up && ip link set br0 up
ip addr add 10.82.0.2/24 dev br0
$WLB/tcpstream server 10.82.0.2 5000 &
exec $WLB/counter
EOS
	netns_container
	ip -n "$NETNS_HOST" link add "$NETNS_VETH" type veth peer name eth1 netns "$PID" &&
		ip -n "$NETNS_HOST" link add "nb2-$id" type veth peer name eth2 netns "$PID" ||
		fail "can't make the veths"
	bridge_host_side
	wait_file server.pid "$JOB"
	netns_client 10.82.0.2
	cjob=$NETNS_CJOB
	netns_view "$PID" >"$D/net.before"
	nsenter -t "$PID" -n ip -d link show br0 >"$D/br.before"
	grep -q "master br0" "$D/net.before" && grep -q "ageing_time 12000" "$D/br.before" ||
		fail "the container's bridge is not as made: $(tr '\n' ' ' <"$D/net.before")"
	netns_dump_kill
	inspect "$D/img"
	grep -q "^netdev .* bridge br0 up mtu 1500 .* stp 0 forward_delay 700 ageing_time 12000 vlan_filtering 0 ports eth1,eth2,tp0,in0 addrs 10.82.0.2/24" "$D/inspect.out" ||
		fail "inspect shows no bridge: $(grep -i netdev "$D/inspect.out" | tr '\n' ' ')"
	grep -q "^netdev .* veth in1 up mtu 1400 mac 02:00:00:00:85:01 peer in0 inside " "$D/inspect.out" ||
		fail "inspect shows no veth pair inside: $(grep -i netdev "$D/inspect.out" | tr '\n' ' ')"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; j = json.load(sys.stdin); d = [x for x in j["netdevs"] if x["kind"] == "bridge"]; sys.exit(len(d) != 1 or d[0]["ports"] != ["eth1", "eth2", "tp0", "in0"] or d[0]["ageing_time"] != 12000)' ||
		fail "inspect --json shows another bridge"
	netns_restore_start
	bridge_host_side
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
	netns_view "$PID" >"$D/net.after"
	nsenter -t "$PID" -n ip -d link show br0 >"$D/br.after"
	diff "$D/net.before" "$D/net.after" >>"$D/errors.log" ||
		fail "the container's network differs after restore: $(diff "$D/net.before" "$D/net.after" | tr '\n' ' ')"
	for s in stp_state forward_delay ageing_time vlan_filtering hello_time; do
		[[ $(grep -o " $s [0-9]*" "$D/br.before") == "$(grep -o " $s [0-9]*" "$D/br.after")" ]] ||
			fail "br0's $s differs after restore"
	done
	netns_veth_finish "$cjob"
}

# bridge_host_side: the host's ends of the bridge's ports up, the first
# with an address
bridge_host_side() {
	local end=$((SECONDS + 60))
	until ip -n "$NETNS_HOST" link show "$NETNS_VETH" >/dev/null 2>&1 &&
		ip -n "$NETNS_HOST" link show "nb2-${NETNS_VETH#nb1-}" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "no $NETNS_VETH in $NETNS_HOST after 60 s"
		nap
	done
	ip -n "$NETNS_HOST" addr add 10.82.0.1/24 dev "$NETNS_VETH" &&
		ip -n "$NETNS_HOST" link set "$NETNS_VETH" up &&
		ip -n "$NETNS_HOST" link set "nb2-${NETNS_VETH#nb1-}" up ||
		fail "can't set up the host's ends"
}

# Persistent devices no fd holds beside a counter: a tap (owner 4242,
# MTU 1300, a MAC, an address, up) and a tun with virtio headers (group
# 4343, down, which ckpt attaches to for a moment to read what only an
# fd tells): dumped --kill, restored, as they were.
t_netdev-tun-persist() {
	need "$WLB/counter"
	start_wl unshare --net /bin/sh -c "ip link set lo up &&
		ip tuntap add dev ptun0 mode tap user 4242 &&
		ip link set ptun0 mtu 1300 address 02:00:00:00:84:01 up &&
		ip addr add 10.84.0.1/24 dev ptun0 &&
		ip tuntap add dev ptun1 mode tun vnet_hdr group 4343 &&
		exec $WLB/counter"
	netns_view "$PID" >"$D/net.before"
	HOOK_DUMPED=tun_persist_dumped
	HOOK_RESTORED=tun_persist_back
	wl_test_started
}

tun_persist_dumped() {
	inspect "$D/img"
	grep -q "^netdev .* tun ptun0 up mtu 1300 mac 02:00:00:00:84:01 flags 0x1802 owner 4242 group -1 vnet_hdr_sz 0 sndbuf 0 " "$D/inspect.out" &&
		grep -q "^netdev .* tun ptun1 down mtu 1500 mac - flags 0x5801 owner -1 group 4343 vnet_hdr_sz 10 sndbuf 2147483647 " "$D/inspect.out" ||
		fail "inspect shows another tap: $(grep -i "tun" "$D/inspect.out" | tr '\n' ' ')"
}

tun_persist_back() {
	netns_view "$PID" >"$D/net.after"
	diff "$D/net.before" "$D/net.after" >>"$D/errors.log" ||
		fail "the network differs after restore: $(diff "$D/net.before" "$D/net.after" | tr '\n' ' ')"
	nsenter -t "$PID" -n ip -d link show ptun0 | grep -q "tun type tap pi off vnet_hdr off persist on user 4242" &&
		nsenter -t "$PID" -n ip -d link show ptun1 | grep -q "tun type tun pi off vnet_hdr on persist on group 4343" ||
		fail "ptun0 or ptun1 differs: $(nsenter -t "$PID" -n ip -d link show | grep tun | tr '\n' ' ')"
}

# Bridge settings ckpt does not carry, changed: refused by name (a
# bridge's hello time, a port's hairpin mode), the workload runs on
t_netdev-refuse-bridge() {
	need "$WLB/counter" "$CKPT"
	start_wl unshare --net /bin/sh -c "ip link set lo up && ip link add br0 type bridge hello_time 300 && exec $WLB/counter"
	refused_by_name "$PID: its network namespace net:\[[0-9]*\] has device br0, a bridge whose hello_time is not a fresh bridge's, which is not supported yet" --tree
	rm -f "$D"/{ready,count,stop}
	start_wl unshare --net /bin/sh -c "ip link set lo up && ip link add br0 type bridge && ip tuntap add dev tp0 mode tap && ip link set tp0 master br0 && ip link set tp0 type bridge_slave hairpin on && exec $WLB/counter"
	refused_by_name "$PID: its network namespace net:\[[0-9]*\] has device tp0, a bridge port whose hairpin is not a fresh port's, which is not supported yet" --tree
}

# A packet waiting on a tun fd the program does not read: refused,
# naming the process and fd, the program runs on
t_netdev-refuse-tunq() {
	need "$CKPT"
	start_wl unshare --net /bin/sh -c "$TUN_SETUP &&
		exec python3 $TOP/tests/workloads/tunecho.py tun0 10.83.0.1 hold"
	nsenter -t "$PID" -n python3 -c "
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'hi', ('10.83.0.2', 7))" ||
		fail "can't send through tun0"
	refused_by_name "fd [0-9]* of $PID: tun device tun0 has a packet queued on it, which is not supported yet"
}
