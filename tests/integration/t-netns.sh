# t-netns.sh - network namespaces of the tree's own: a tree alone in a
# network namespace (unshare --net) comes back in a new one with its
# loopback, its addresses and its sockets; a container with a veth to a
# namespace playing the host keeps its server and its connections; what
# restore cannot make again (a bridge) is refused by name.  Sourced by
# run.sh.  Namespaces the tests make are named netns-*-PID.

ALL_TESTS+=(netns-lo netns-lo-inet netns-refuse-bridge)
CKPT_ONLY+="netns-lo netns-lo-inet netns-refuse-bridge "

# netns_view PID: the addresses and routes of PID's network namespace
netns_view() {
	{
		nsenter -t "$1" -n ip -o addr show | awk '{ $1 = ""; sub(/valid_lft.*/, ""); print }'
		nsenter -t "$1" -n ip route show
		nsenter -t "$1" -n ip -6 route show | grep -v '^fe80\|^multicast'
		nsenter -t "$1" -n ip -o link show | awk '{ $1 = ""; print }' |
			sed 's/ qdisc [^ ]*//; s/ state [A-Z]*//; s/ link-netns[^ ]*//; s/ link-netnsid [0-9]*//'
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

# the restored PID is in a namespace of its own with lo up and its address
netns_check_lo() {
	netns_own "$PID" || fail "the restored process is in restore's network namespace"
	netns_view "$PID" >"$D/net.after"
	grep -q "inet 127.0.0.1/8 scope host lo" "$D/net.after" &&
		grep -q "lo: <LOOPBACK,UP,LOWER_UP>" "$D/net.after" ||
		fail "lo is not up with 127.0.0.1 after restore: $(tr '\n' ' ' <"$D/net.after")"
}

# A bridge inside the namespace: refused by name, the workload runs on
t_netns-refuse-bridge() {
	need "$WLB/counter" "$CKPT"
	start_wl unshare --net /bin/sh -c "ip link set lo up && ip link add netns-br0 type bridge && exec $WLB/counter"
	refused_by_name "$PID: its network namespace net:\[[0-9]*\] has device netns-br0, of kind bridge, which is not supported yet" --tree
}
