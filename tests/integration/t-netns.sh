# t-netns.sh - network namespaces of the tree's own: a tree alone in a
# network namespace (unshare --net) comes back in a new one with its
# loopback, its addresses and its sockets; a container with a veth to a
# namespace playing the host keeps its server and its connections; what
# restore cannot make again (a bridge) is refused by name.  Sourced by
# run.sh.  Namespaces the tests make are named netns-*-PID.

ALL_TESTS+=(netns-lo netns-lo-inet netns-lo-unix netns-lo-udp netns-veth
	    netns-veth-teardown netns-macvlan
	    netns-sysctl netns-refuse-state)
CKPT_ONLY+="netns-lo netns-lo-inet netns-lo-unix netns-lo-udp netns-veth netns-sysctl "
CKPT_ONLY+="netns-veth-teardown netns-macvlan "
CKPT_ONLY+="netns-refuse-state "

# netns_view PID: the addresses, routes and links of PID's network
# namespace (without the peer's index, which the host's end changes)
netns_view() {
	{
		# DAD of a link-local address may still run
		nsenter -t "$1" -n ip -o addr show | awk '{ $1 = ""; sub(/valid_lft.*/, ""); sub(/ tentative/, ""); print }'
		nsenter -t "$1" -n ip route show
		nsenter -t "$1" -n ip -6 route show | grep -v '^fe80\|^multicast'
		nsenter -t "$1" -n ip -o link show | awk '{ $1 = ""; print }' |
			sed 's/ qdisc [^ ]*//; s/ state [A-Z]*//; s/ link-netns[^ ]*//; s/ link-netnsid [0-9]*//; s/@if[0-9]*//'
	} 2>>"$D/errors.log"
}

# netns_own PID: PID is in a network namespace other than ours
netns_own() {
	[[ $(readlink "/proc/$1/ns/net") != "$(readlink /proc/self/ns/net)" ]]
}

# A process with a TCP connection over the loopback of its own network
# namespace (tcppair: both ends), lo with an address of its own; dumped
# --kill, restored: back in a new namespace (not ours), the same
# addresses and routes, the connection carries data on.
t_netns-lo() {
	need "$WLB/tcppair" "$CKPT" "$RESTORE"
	NETNS_HOOK_PID=
	start_wl unshare --net /bin/sh -c "ip link set lo up && ip addr add 10.77.0.1/24 dev lo && ip route add 10.78.0.0/16 via 10.77.0.1 dev lo && exec $WLB/tcppair"
	netns_own "$PID" || fail "the workload is in our network namespace"
	netns_view "$PID" >"$D/net.before"
	grep -q 10.77.0.1/24 "$D/net.before" || fail "no address inside: $(cat "$D/net.before")"
	HOOK_RESTORED=netns_check_back
	wl_test_started
}

netns_check_back() {
	netns_own "$PID" || fail "the restored process is in restore's network namespace"
	netns_view "$PID" >"$D/net.after"
	diff "$D/net.before" "$D/net.after" >>"$D/errors.log" ||
		fail "addresses or routes differ after restore: $(diff "$D/net.before" "$D/net.after" | tr '\n' ' ')"
}

# The sysctls netns-sysctl sets, as PID's network namespace has them
NETNS_SYSCTLS="net/ipv4/ip_forward net/core/somaxconn net/ipv4/ip_local_port_range
net/ipv4/tcp_congestion_control net/ipv4/conf/all/accept_redirects
net/ipv4/conf/default/rp_filter net/ipv4/conf/lo/arp_ignore net/ipv6/conf/all/hop_limit"
netns_sysctls() {
	local s
	for s in $NETNS_SYSCTLS; do
		printf '%s = ' "$s"
		nsenter -t "$1" -n cat "/proc/sys/$s" 2>>"$D/errors.log"
	done
}

# A process in a network namespace of its own whose sysctls were set
# there (the namespace's own, "all", "default" and lo's, a word and a
# range among them; netns-veth checks a veth's own): dumped --kill, restored, they are as they were in
# the new namespace, not the kernel's defaults.
t_netns-sysctl() {
	local cc
	need "$WLB/counter"
	cc=$(tr ' ' '\n' </proc/sys/net/ipv4/tcp_available_congestion_control |
		grep -vx "$(cat /proc/sys/net/ipv4/tcp_congestion_control)" | head -n 1)
	[[ -n $cc ]] || cc=$(cat /proc/sys/net/ipv4/tcp_congestion_control)
	start_wl unshare --net /bin/sh -c "ip link set lo up &&
		echo 1 >/proc/sys/net/ipv4/ip_forward &&
		echo 777 >/proc/sys/net/core/somaxconn &&
		echo '40000 50000' >/proc/sys/net/ipv4/ip_local_port_range &&
		echo $cc >/proc/sys/net/ipv4/tcp_congestion_control &&
		echo 0 >/proc/sys/net/ipv4/conf/all/accept_redirects &&
		echo 2 >/proc/sys/net/ipv4/conf/default/rp_filter &&
		echo 1 >/proc/sys/net/ipv4/conf/lo/arp_ignore &&
		echo 33 >/proc/sys/net/ipv6/conf/all/hop_limit &&
		exec $WLB/counter"
	netns_own "$PID" || fail "the workload is in our network namespace"
	netns_sysctls "$PID" >"$D/sysctl.before"
	grep -q "somaxconn = 777" "$D/sysctl.before" ||
		fail "the sysctls were not set: $(cat "$D/sysctl.before")"
	HOOK_RESTORED=netns_sysctls_back
	wl_test_started
}

netns_sysctls_back() {
	netns_own "$PID" || fail "the restored process is in restore's network namespace"
	netns_sysctls "$PID" >"$D/sysctl.after"
	diff "$D/sysctl.before" "$D/sysctl.after" >>"$D/errors.log" ||
		fail "sysctls differ after restore: $(diff "$D/sysctl.before" "$D/sysctl.after" | tr '\n' ' ')"
}

# What restore would not make again in a network namespace of the
# tree's own, each refused by name while the counter runs on: a policy
# routing rule, a permanent neighbour entry, an address with a lifetime,
# an address with a label of its own.
t_netns-refuse-state() {
	local mode setup why
	need "$WLB/counter"
	for mode in rule neigh lifetime label; do
		case $mode in
		rule) setup="ip rule add from 10.1.0.0/16 table 100"
		      why="an IPv4 routing rule of priority 32765 (table 100)" ;;
		neigh) setup="ip neigh add 10.77.0.9 lladdr 02:00:00:00:00:09 dev lo nud permanent"
		       why="a permanent neighbour entry for [0-9.]*" ;;
		lifetime) setup="ip addr add 10.77.0.5/24 dev lo valid_lft 1000 preferred_lft 500"
			  why="address 10.77.0.5/24 on lo with a lifetime (dynamic, or from a router's advertisement)" ;;
		label) setup="ip addr add 10.77.0.6/24 dev lo label lo:six"
		       why="address 10.77.0.6/24 on lo with a label of its own" ;;
		esac
		rm -f "$D"/{ready,count,stop}
		start_wl unshare --net /bin/sh -c "ip link set lo up && ip addr add 10.77.0.1/24 dev lo && $setup && exec $WLB/counter"
		refused_by_name "$PID: its network namespace net:\[[0-9]*\] has $why, which is not supported yet"
	done
}

# The inet workload (listeners, connections between parent and child,
# queues full both ways) in a network namespace of its own with only
# the loopback, under a reaper: dumped --tree --kill, restored in a new
# one, where the listeners take new connections and the connections
# carry on (the workload checks)
t_netns-lo-inet() {
	need "$WLB/inet"
	HOOK_RESTORED=netns_check_lo
	reaper_tree_test unshare --net /bin/sh -c "ip link set lo up && exec $WLB/inet"
}

# unix sockets (tests/workloads/sockets.c: pairs with queues full, an
# abstract name, which is the network namespace's, listeners bound to
# paths) in a network namespace of their own: sock_diag is asked there
t_netns-lo-unix() {
	need "$WLB/sockets"
	HOOK_RESTORED=netns_check_lo
	reaper_tree_test unshare --net /bin/sh -c "ip link set lo up && exec $WLB/sockets"
}

# UDP sockets, IPv4 and IPv6 (tests/workloads/udp.c: bound, connected,
# datagrams queued, each checked after restore) on the loopback of a
# network namespace of their own
t_netns-lo-udp() {
	need "$WLB/udp"
	HOOK_RESTORED=netns_check_lo
	reaper_tree_test unshare --net /bin/sh -c "ip link set lo up && exec $WLB/udp"
}

# the restored PID is in a namespace of its own with lo up and its address
netns_check_lo() {
	netns_own "$PID" || fail "the restored process is in restore's network namespace"
	netns_view "$PID" >"$D/net.after"
	grep -q "inet 127.0.0.1/8 scope host lo" "$D/net.after" &&
		grep -q "lo: <LOOPBACK,UP,LOWER_UP>" "$D/net.after" ||
		fail "lo is not up with 127.0.0.1 after restore: $(tr '\n' ' ' <"$D/net.after")"
}

# netns_host_down: the namespace playing the host goes
netns_host_down() {
	[[ -n $NETNS_HOST && -e /run/netns/$NETNS_HOST ]] &&
		ip netns del "$NETNS_HOST"
	return 0
}


# netns_child_of PID JOB WHAT LOG: the child of PID that is the init of
# a PID namespace (not restore's guardian), waited for up to 60 s
netns_child_of() {
	local end=$((SECONDS + 60)) c
	while :; do
		for c in $(child_pids "$1"); do
			[[ $(readlink "/proc/$c/ns/pid") != "$(readlink /proc/self/ns/pid)" ]] &&
				{ echo "$c"; return 0; }
		done
		job_done "$2" && fail "$3 ended: $(lastline "$D/$4")"
		((SECONDS < end)) || fail "no child of $1 in a PID namespace after 60 s"
		nap
	done
}

# netns_host_side: the host's end of the veth up with its address, once
# it exists (restore makes it in the host's namespace, bare)
netns_host_side() {
	local end=$((SECONDS + 60))
	until ip -n "$NETNS_HOST" link show "$NETNS_VETH" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "no $NETNS_VETH in $NETNS_HOST after 60 s"
		nap
	done
	ip -n "$NETNS_HOST" addr add 10.79.0.1/24 dev "$NETNS_VETH" &&
		ip -n "$NETNS_HOST" link set "$NETNS_VETH" up ||
		fail "can't set up $NETNS_VETH in $NETNS_HOST"
}

# A container as unshare makes one: PID 1 of a PID namespace, alone in
# mount, UTS and network namespaces, with a veth (eth0) to a namespace
# that plays the host (netns-host-ID, where ckpt and restore run), an
# address and a default route through the host's end; inside, a TCP
# server (tcpstream) receiving a stream from a client in the host's
# namespace, and a counter. Dumped --tree --kill --tcp-established,
# restored: the veth is back (its host end named as before), the
# addresses, routes and links as they were, the stream carries on to its
# end byte for byte, the count goes on, the hostname is kept.
# the killed container's network namespace lingers while the kernel
# tears it down, and the teardown unhooks the network lock's table
# before it removes the devices: a retransmission of the client meeting
# it then got a reset (netns-veth failed so, rarely). Here the old
# namespace is kept (bound to a file) and its lock table deleted as the
# teardown does; the client retransmits into it, gets no reset (ckpt took
# the devices down before the kill), and carries on with the restored
# server once the old namespace is gone.
t_netns-veth-teardown() {
	local cjob old=netns-old-$BASHPID tx0 tx1 end
	netns_veth_start
	cjob=$NETNS_CJOB
	touch "/run/netns/$old" &&
		mount --bind "/proc/$PID/ns/net" "/run/netns/$old" ||
		fail "can't keep the container's network namespace"
	trap 'umount "/run/netns/'"$old"'" 2>/dev/null; rm -f "/run/netns/'"$old"'"; cleanup; netns_host_down' EXIT
	netns_dump_kill
	# the teardown's order, by hand: the lock gone, the devices still there
	ip netns exec "$old" nft list tables 2>>"$D/errors.log" |
		awk '$2 == "inet" { print $3 }' >"$D/locks"
	[[ -s $D/locks ]] || fail "no network lock in the old namespace"
	while read -r t; do
		ip netns exec "$old" nft delete table inet "$t" ||
			fail "can't delete table $t in the old namespace"
	done <"$D/locks"
	# two more retransmissions of the client go to the old namespace
	tx0=$(netns_tx_tries)
	end=$((SECONDS + 120))
	until tx1=$(netns_tx_tries); ((tx1 >= tx0 + 2)); do
		job_done "$cjob" && break
		((SECONDS < end)) || fail "the client sent nothing for 120 s"
		sleep 0.5
	done
	job_done "$cjob" && fail "the client ended while the old namespace was" \
		"there: $(grep -h FAIL "$D/out.log" | tail -n 1)"
	umount "/run/netns/$old" && rm -f "/run/netns/$old" ||
		fail "can't let the old namespace go"
	netns_veth_restore
	netns_veth_finish "$cjob"
}

# A container whose eth0 is a macvlan (bridge mode, a MAC of its own) on
# a device of the "host" namespace (one end of a veth pair: this kernel
# has no dummy), where a client streams to its server through a second
# macvlan on the same device: dumped --kill with the connection,
# restored, eth0 is made again on that device with its mode, MAC, MTU
# and address, and the stream goes on. (No ipvlan here: this kernel has
# none, and ckpt refuses it as any other kind.)
t_netns-macvlan() {
	local id=$BASHPID kind=macvlan args="mode bridge" mode=4 cjob lower
	need "$WLB/tcpstream" "$WLB/counter" "$CKPT" "$RESTORE"
	NETNS_HOST=netns-host-$id lower=netns-d$id
	NETNS_IN_HOST=(nsenter --net="/run/netns/$NETNS_HOST")
	trap 'cleanup; netns_host_down' EXIT
	ip netns add "$NETNS_HOST" && ip -n "$NETNS_HOST" link set lo up &&
		ip -n "$NETNS_HOST" link add "$lower" type veth peer name "p$id" &&
		ip -n "$NETNS_HOST" link set "p$id" up &&
		ip -n "$NETNS_HOST" link set "$lower" up &&
		ip -n "$NETNS_HOST" link add "c$id" link "$lower" type $kind $args &&
		ip -n "$NETNS_HOST" addr add 10.81.0.1/24 dev "c$id" &&
		ip -n "$NETNS_HOST" link set "c$id" up ||
		fail "can't make $NETNS_HOST with a $kind"
	cat >"$D/init.sh" <<EOS
hostname netns-box
ip link set lo up
until ip link show eth0 >/dev/null 2>&1; do sleep 0.1; done
ip link set eth0 mtu 1400 address 02:00:00:00:81:02 up
ip addr add 10.81.0.2/24 dev eth0
$WLB/tcpstream server 10.81.0.2 5000 &
exec $WLB/counter
EOS
	netns_container
	ip -n "$NETNS_HOST" link add eth0 link "$lower" netns "$PID" type $kind $args ||
		fail "can't give the container its $kind"
	wait_file server.pid "$JOB"
	netns_client 10.81.0.2
	cjob=$NETNS_CJOB
	netns_view "$PID" >"$D/net.before"
	grep -q "eth0 inet 10.81.0.2/24" "$D/net.before" ||
		fail "the container's network is not as made: $(tr '\n' ' ' <"$D/net.before")"
	netns_dump_kill
	inspect "$D/img"
	grep -q "^netdev .* $kind eth0 up mtu 1400 .* lower $lower mode $mode " "$D/inspect.out" ||
		fail "inspect shows no $kind: $(grep -i netdev "$D/inspect.out" | tr '\n' ' ')"
	netns_restore_start
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
	netns_view "$PID" >"$D/net.after"
	diff "$D/net.before" "$D/net.after" >>"$D/errors.log" ||
		fail "the container's network differs after restore: $(diff "$D/net.before" "$D/net.after" | tr '\n' ' ')"
	nsenter -t "$PID" -n ip -d link show eth0 | grep -q "$kind $args" ||
		fail "eth0 is not a $kind $args: $(nsenter -t "$PID" -n ip -d link show eth0 | tr '\n' ' ')"
	netns_veth_finish "$cjob"
}

# netns_tx_tries: the packets the host's end of the veth sent or dropped
netns_tx_tries() {
	local s=/sys/class/net/$NETNS_VETH/statistics
	ip netns exec "$NETNS_HOST" sh -c "echo \$((\$(cat $s/tx_packets) + \$(cat $s/tx_dropped)))"
}

# netns_veth_restore: the container restored from D/img (PID, RJOB), its
# host's end set up, counting again
netns_veth_restore() {
	netns_restore_start
	netns_host_side
	wait_count_above $((DUMP_COUNT + 3)) 120 "$RJOB"
}

# netns_restore_start: restore of D/img started (RJOB), its container's
# init (PID) there
netns_restore_start() {
	(spawn "${NETNS_IN_HOST[@]}" "$RESTORE" "$D/img") </dev/null \
		>>"$D/restore.log" 2>&1 &
	RJOB=$!
	track_job "$RJOB"
	PID=$(netns_child_of "$RJOB" "$RJOB" restore restore.log)
	track_pid "$PID"
}

# netns_dump_kill: the container (PID, JOB) dumped --kill with its
# connections into D/img, and gone (DUMP_COUNT)
netns_dump_kill() {
	(spawn "${NETNS_IN_HOST[@]}" "$CKPT" attach --tree --kill --tcp-established \
		-o "$D/img" "$PID") </dev/null >>"$D/ckpt.log" 2>&1 &
	track_job $!
	wait_job $! 300 || fail "ckpt attach still running after 300 s"
	((WST == 0)) || fail "ckpt attach exited $WST: $(lastline "$D/ckpt.log")"
	wait_job "$JOB" 60 || fail "unshare did not end after the kill"
	DUMP_COUNT=$(count_lines)
}

# netns_container: D/init.sh run as a container's init (PID, JOB) in
# NETNS_HOST, alone in its PID, mount, UTS and network namespaces
netns_container() {
	(spawn "${NETNS_IN_HOST[@]}" unshare --pid --fork /bin/sh -c "exec unshare --mount --uts --net --propagation private /bin/sh $D/init.sh") \
		</dev/null >>"$D/out.log" 2>&1 &
	JOB=$!
	track_job "$JOB"
	PID=$(netns_child_of "$JOB" "$JOB" "the container" out.log)
	track_pid "$PID"
}

# netns_client ADDR: a client streaming to ADDR from NETNS_HOST
# (NETNS_CJOB), half way through and the container counting
netns_client() {
	(spawn "${NETNS_IN_HOST[@]}" "$WLB/tcpstream" client $1 5000 $((8 << 20))) \
		</dev/null >>"$D/out.log" 2>&1 &
	NETNS_CJOB=$!
	track_job "$NETNS_CJOB"
	wait_file client.pid "$NETNS_CJOB"
	wait_file half "$NETNS_CJOB"
	wait_count_above 8 60 "$JOB"
}

# netns_veth_finish CJOB: the client (CJOB) ends its stream, checked by
# both sides, and the restored container stops
netns_veth_finish() {
	local cjob=$1
	touch "$D/finish"
	wait_job "$cjob" 120 || fail "the client still streams 120 s after finish"
	((WST == 0)) || fail "the client exited $WST: $(grep -h FAIL "$D/out.log" | tail -n 1)"
	touch "$D/stop"
	wait_job "$RJOB" 120 || fail "restore still running 120 s after D/stop"
	((WST == 0)) || fail "restore exited $WST: $(lastline "$D/restore.log")"
	check_count
}

# netns_veth_start: netns-veth's container (PID, JOB) with its tcpstream
# server, and a client streaming to it from NETNS_HOST (NETNS_CJOB)
netns_veth_start() {
	local id=$BASHPID
	need "$WLB/tcpstream" "$WLB/counter" "$CKPT" "$RESTORE"
	command -v ip >/dev/null && command -v nsenter >/dev/null ||
		fail "ip or nsenter not found"
	NETNS_HOST=netns-host-$id NETNS_VETH=netns-v$id
	# its network only: ckpt sees the same mounts as the tree
	NETNS_IN_HOST=(nsenter --net="/run/netns/$NETNS_HOST")
	trap 'cleanup; netns_host_down' EXIT
	ip netns add "$NETNS_HOST" && ip -n "$NETNS_HOST" link set lo up ||
		fail "can't make $NETNS_HOST"
	cat >"$D/init.sh" <<EOS
hostname netns-box
ip link set lo up
until ip link show eth0 >/dev/null 2>&1; do sleep 0.1; done
ip link set eth0 mtu 1400 address 02:00:00:00:79:02 up
echo 2 >/proc/sys/net/ipv4/conf/eth0/rp_filter
ip addr add 10.79.0.2/24 dev eth0
ip route add default via 10.79.0.1
$WLB/tcpstream server 10.79.0.2 5000 &
exec $WLB/counter
EOS
	netns_container
	ip -n "$NETNS_HOST" link add "$NETNS_VETH" type veth peer name eth0 netns "$PID" ||
		fail "can't make the veth"
	netns_host_side
	wait_file server.pid "$JOB"
	netns_client 10.79.0.2
}

t_netns-veth() {
	local cjob
	netns_veth_start
	cjob=$NETNS_CJOB
	netns_view "$PID" >"$D/net.before"
	grep -q "eth0 inet 10.79.0.2/24" "$D/net.before" &&
		grep -q "default via 10.79.0.1 dev eth0" "$D/net.before" ||
		fail "the container's network is not as made: $(tr '\n' ' ' <"$D/net.before")"
	netns_dump_kill
	inspect "$D/img"
	grep -q "^netdev .* veth eth0 .* peer $NETNS_VETH" "$D/inspect.out" ||
		fail "inspect shows no veth: $(grep -i net "$D/inspect.out" | tr '\n' ' ')"
	"$CKPT" inspect --json "$D/img" 2>>"$D/errors.log" |
		python3 -c 'import json, sys; j = json.load(sys.stdin); d = [x for x in j["netdevs"] if x["kind"] == "veth"]; sys.exit(len(d) != 1 or d[0]["addrs"][0] != "10.79.0.2/24" or d[0]["mtu"] != 1400 or d[0]["mac"] != "02:00:00:00:79:02" or j["routes"][0]["dst"] != "default" or j["routes"][0]["via"] != "10.79.0.1")' ||
		fail "inspect --json shows another network"
	netns_veth_restore
	netns_view "$PID" >"$D/net.after"
	diff "$D/net.before" "$D/net.after" >>"$D/errors.log" ||
		fail "the container's network differs after restore: $(diff "$D/net.before" "$D/net.after" | tr '\n' ' ')"
	[[ $(nsenter -t "$PID" -u hostname) == netns-box ]] || fail "hostname lost"
	[[ $(nsenter -t "$PID" -n cat /proc/sys/net/ipv4/conf/eth0/rp_filter) == 2 ]] ||
		fail "eth0's rp_filter sysctl lost"
	netns_veth_finish "$cjob"
}
