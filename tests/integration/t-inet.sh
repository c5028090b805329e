# t-inet.sh - TCP, UDP and netlink sockets: listeners, connections with
# both ends in the tree rebuilt in repair mode, closing states, UDP
# datagrams with their senders, netlink sockets, redis with a client;
# and what is refused by name.  Sourced by run.sh.

ALL_TESTS+=(inet inet-kill tcp-close udp udp-echo tcpbuf sockopts redis inet-refused
	    netlink tcp-forged)
CKPT_ONLY+="inet inet-kill tcp-close redis inet-refused netlink "
CKPT_ONLY+="udp-echo tcp-forged "

# TCP sockets of every kind between parent and child, queues full both
# ways at dump time (tests/workloads/inet.c): listeners (IPv4, dual-stack,
# IPv6 only) that take new connections after restore, a bound and an
# unbound socket with their options, two connections whose records all
# come once and in order, a half-closed one; inspect shows each state and
# the queued bytes. The tree is dumped live, ends, and is restored twice.
t_inet() {
	local st
	start_tree inet 1 30
	dump_tree_live
	for st in listening unconnected established fin-wait2 close-wait; do
		grep -q "^file [0-9]*: tcp .* $st " "$D/inspect.out" ||
			fail "inspect shows no TCP socket $st:" \
			     "$(grep tcp "$D/inspect.out")"
	done
	grep -Eq "^file [0-9]+: tcp .* sendq [1-9][0-9]{4,} " "$D/inspect.out" &&
	grep -Eq "^file [0-9]+: tcp .* recvq [1-9][0-9]{4,} " "$D/inspect.out" ||
		fail "inspect shows no TCP queues of 10000 bytes or more:" \
		     "$(grep tcp "$D/inspect.out")"
	end_dumped_tree
	restore_twice
}

# One process holding both ends of two TCP connections (one with
# megabytes queued each way, one idle) and their listener, dumped with
# --kill: the connections go without a FIN or a reset (an idle one closed
# as usual would leave a TIME-WAIT), the restored process reads every byte
# once and in order, both connections carry on and the listener takes a
# new one.
t_inet-kill() {
	local py port tw
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT" "$RESTORE"
	start_wl "$py" -c '
import os, runpy, socket, sys
pat = bytes(range(251)) * 100000
def fill(a):
    a.setblocking(False)
    n = 0
    try:
        while n < len(pat) - 65536:
            n += a.send(memoryview(pat)[n:n + 65536])
    except BlockingIOError:
        return n
def take(a, n, what):
    a.setblocking(True)
    got = bytearray()
    while len(got) < n:
        b = a.recv(n - len(got))
        if not b:
            sys.exit("FAIL: %s: end of file after %d bytes" % (what, len(got)))
        got += b
    if bytes(got) != pat[:n]:
        sys.exit("FAIL: %s: the bytes differ" % what)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0))
l.listen(4)
open("port.tmp", "w").write("%d\n" % l.getsockname()[1])
os.rename("port.tmp", "port")
c = socket.create_connection(l.getsockname())
s = l.accept()[0]
n1, n2 = fill(c), fill(s)
c2 = socket.create_connection(l.getsockname())
s2 = l.accept()[0]
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
except SystemExit as e:
    if e.code:
        raise
take(s, n1, "client to server")
take(c, n2, "server to client")
c.sendall(b"ping")
if s.recv(4) != b"ping":
    sys.exit("FAIL: no ping")
s2.sendall(b"idle")
if c2.recv(4) != b"idle":
    sys.exit("FAIL: the idle connection is gone")
d = socket.create_connection(l.getsockname())
l.accept()[0].sendall(b"new")
if d.recv(3) != b"new":
    sys.exit("FAIL: the listener took no new connection")
print("%d and %d bytes" % (n1, n2), file=sys.stderr)' "$WLS/counter.py"
	read -r port <"$D/port"
	wait_count_above 8 60 "$JOB"
	dump_kill
	tw=$(ss -tanH state time-wait "( sport = :$port or dport = :$port )")
	[[ -z $tw ]] || fail "the killed connection left TIME-WAIT: $tw"
	start_restore
	wait_restored
	finish
	grep -Eq "^[1-9][0-9]{5,} and [1-9][0-9]{5,} bytes$" "$D/out.log" ||
		fail "less than 100000 bytes queued each way:" \
		     "$(tail -n 1 "$D/out.log")"
}

# TCP connections being closed, over IPv4 and IPv6, queues full (see
# tests/workloads/tcpclose.c): inspect shows every closing state in the
# image, and after --kill and restore each end is in the state it was and
# delivers every byte once, then its end of file.
tcp_close_states() {
	local st n
	inspect "$D/img"
	for st in fin-wait1:2 fin-wait2:6 last-ack:2 closing:2 close-wait:2; do
		n=$(grep -c "^file [0-9]*: tcp .* ${st%:*} " "$D/inspect.out")
		[[ $n == "${st#*:}" ]] ||
			fail "inspect shows $n TCP sockets ${st%:*}, want" \
			     "${st#*:}: $(grep tcp "$D/inspect.out")"
	done
}

t_tcp-close() {
	need "$WLB/tcpclose"
	HOOK_DUMPED=tcp_close_states
	wl_test "$WLB/tcpclose"
}

# UDP sockets, IPv4 and IPv6, bound and connected, with datagrams queued
# (tests/workloads/udp.c): after --kill and restore each datagram comes
# once, in order, with its sender's address and port (a v4-mapped one, one
# whose socket has closed, one the kernel chose); a stream of numbered
# datagrams running through the dump loses none and doubles none.
udp_queued() {
	inspect "$D/img"
	[[ $(grep -c "^file [0-9]*: udp .* [1-9][0-9]* bytes queued" \
		"$D/inspect.out") -ge 3 ]] ||
		fail "inspect shows fewer than 3 UDP sockets with datagrams:" \
		     "$(grep udp "$D/inspect.out")"
}

t_udp() {
	need "$WLB/udp"
	HOOK_DUMPED=udp_queued
	wl_test "$WLB/udp"
}

# UDP echo pairs, IPv4 and IPv6 (tests/workloads/udpecho.c), datagrams
# queued both ways at the dump: after --kill and restore every number
# comes back once, in order, from its sender; none lost or doubled.
udp_echo_queued() {
	inspect "$D/img"
	[[ $(grep -c "^file [0-9]*: udp .* [1-9][0-9]* bytes queued" \
		"$D/inspect.out") -ge 2 ]] ||
		fail "inspect shows fewer than 2 UDP sockets with datagrams:" \
		     "$(grep udp "$D/inspect.out")"
}

t_udp-echo() {
	need "$WLB/udpecho"
	HOOK_DUMPED=udp_echo_queued
	wl_test "$WLB/udpecho"
}

# Options beyond the common ones and multicast memberships
# (tests/workloads/sockopts.c): after --kill and restore each reads back as
# set (timeouts, IP_PKTINFO, TCP_DEFER_ACCEPT, the congestion control ...),
# each group keeps its source filter, and a datagram sent to the group
# arrives with its IP_PKTINFO.
sockopts_image() {
	inspect "$D/img"
	grep -q "^file [0-9]*: udp .*IP_PKTINFO=1.*, multicast 239.1.2.3 on lo, exclude 1 sources" \
		"$D/inspect.out" ||
		fail "inspect shows no IP_PKTINFO and multicast group:" \
		     "$(grep udp "$D/inspect.out")"
	grep -q "^file [0-9]*: udp .* IP_MULTICAST_IF=0.0.0.0%lo" \
		"$D/inspect.out" ||
		fail "inspect shows no IP_MULTICAST_IF by index:" \
		     "$(grep udp "$D/inspect.out")"
	grep -q "^file [0-9]*: tcp .*listening.*TCP_DEFER_ACCEPT=" \
		"$D/inspect.out" ||
		fail "inspect shows no TCP_DEFER_ACCEPT:" \
		     "$(grep tcp "$D/inspect.out")"
}

t_sockopts() {
	need "$WLB/sockopts"
	HOOK_DUMPED=sockopts_image
	wl_test "$WLB/sockopts"
}

# Buffer sizes (tests/workloads/tcpbuf.c): those a program set stay as
# set, locked, those it never set are restored as the kernel had tuned
# them and it goes on tuning them (SO_BUF_LOCK), IPv4 and IPv6, TCP
# connections and a UDP socket.
tcpbuf_image() {
	inspect "$D/img"
	grep -q "^file [0-9]*: tcp .*SO_BUF_LOCK" "$D/inspect.out" ||
		fail "inspect shows no SO_BUF_LOCK:" \
		     "$(grep tcp "$D/inspect.out")"
}

t_tcpbuf() {
	need "$WLB/tcpbuf"
	HOOK_DUMPED=tcpbuf_image
	wl_test "$WLB/tcpbuf"
}

# redis-server with 20,000 keys and three clients, all children of one
# bash, which counts and INCRs a key through a redis-cli as it goes; a
# python3 client (redisclients.py) pipelines INCRs, its replies always a
# batch behind, and holds an idle connection named and in database 3:
# the tree is dumped live, ends (SHUTDOWN), and is restored twice; each
# time the same clients carry on (the INCRs go on from where they were,
# every pipelined reply comes once and in order, the idle connection has
# its name and database), DBSIZE and values are right, and a new client
# connects.
t_redis() {
	local port
	need "$CKPT" "$RESTORE"
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
		fail "redis-server or redis-cli is missing (make deps)"
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
		fail "no free port"
	mkfifo "$D/nap"
	start_wl bash -c '
fail() { echo "FAIL: $*" >&2; exit 1; }
port=$1
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
	--dir "$PWD" --logfile "$PWD/redis.log" &
srv=$!
for i in $(seq 100); do
	[[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && break
	sleep 0.1
done
for i in $(seq 0 19999); do echo "SET k$i v$i"; done |
	redis-cli -p "$port" --pipe >/dev/null || fail "SET"
coproc CLI { exec redis-cli -p "$port"; }
python3 "$2" "$port" &
py=$!
exec 3>>count 4<>nap
ask() {
	echo "$1" >&"${CLI[1]}"
	read -r -t 60 REPLY <&"${CLI[0]}" || fail "no reply to $1"
}
n=0
while :; do
	echo "$n" >&3
	n=$((n + 1))
	ask "INCR counter"
	[[ $REPLY == "$n" ]] || fail "INCR gave $REPLY, want $n"
	if ((n == 5)); then
		for i in $(seq 600); do
			[[ -e clients.up ]] && break
			sleep 0.1
		done
		[[ -e clients.up ]] || fail "the python3 clients are not up"
		echo $$ >ready.tmp
		mv ready.tmp ready
	fi
	((n > 5)) && [[ -e stop ]] && break
	read -r -t 0.02 -u 4
done
wait "$py" || fail "the pipelining client failed"
ask DBSIZE
[[ $REPLY == 20002 ]] || fail "DBSIZE $REPLY"
ask "GET k12345"
[[ $REPLY == v12345 ]] || fail "GET k12345 gave $REPLY"
[[ $(redis-cli -p "$port" GET k19999) == v19999 ]] || fail "a new client"
redis-cli -p "$port" SHUTDOWN NOSAVE
wait "$srv"
exec {CLI[1]}>&-
wait' bash "$port" "$TOP/tests/integration/redisclients.py"
	TREE_KIDS=$(child_pids "$PID")
	[[ $(wc -w <<<"$TREE_KIDS") == 3 ]] ||
		fail "bash has children '$TREE_KIDS', want redis-server," \
		     "redis-cli and python3"
	wait_count_above 30 60 "$JOB"
	dump_tree_live
	grep -q "^file [0-9]*: tcp .* listening 127.0.0.1:$port " "$D/inspect.out" &&
	(($(grep -c "^file [0-9]*: tcp .* established 127.0.0.1:$port " \
		"$D/inspect.out") == 3)) ||
		fail "inspect shows no redis listener or not 3 connections:" \
		     "$(grep tcp "$D/inspect.out")"
	end_dumped_tree
	restore_twice
}

# What restore could not give back is refused by name (exit 70), each
# time in a new process left running: a TCP listener with a connection
# not yet accepted (its client in the same process) when the dump is not
# --kill (t-tcpaccept.sh has it with --kill), a TCP connection
# reset by its peer (CLOSE), a raw socket.
t_inet-refused() {
	local py mode why
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT"
	for mode in pending closed raw pktinfo netlink md5 oob; do
		case $mode in
		pending) why="a TCP socket listening on 127\.0\.0\.1:[0-9]*, with 1 connections not yet accepted, which ckpt takes from it only with --kill" ;;
		closed) why="a TCP socket on [^,]*, already closed, which is not supported" ;;
		raw) why="an IPv4 socket of another protocol than TCP or UDP, which is not supported" ;;
		oob) why="a TCP connection to .*, with urgent data (MSG_OOB) to read or being sent, which is not supported" ;;
		md5) why="a TCP socket listening on 127\.0\.0\.1:[0-9]*, with TCP_MD5SIG keys (no call reads them back), which is not supported" ;;
		netlink) why="a netlink socket (protocol 0) with messages queued that it has not read (a reply, or notifications of its groups): restore can't make the kernel send them again, which is not supported" ;;
		pktinfo) why="a UDP socket with a datagram queued that came to another address or device than restore could send it to (IP_PKTINFO)" ;;
		esac
		rm -f "$D"/{ready,count,stop}
		start_wl "$py" -c '
import runpy, socket, sys
mode = sys.argv.pop(1)
if mode in ("pending", "closed"):
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(4)
    c = socket.create_connection(l.getsockname())
if mode == "closed":
    s = l.accept()[0]
    c.send(b"x")
    s.close()
    try:
        c.recv(1)
    except ConnectionResetError:
        pass
    l.close()
if mode == "raw":
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
if mode == "oob":
    o = socket.socket()
    o.bind(("127.0.0.1", 0))
    o.listen(1)
    oc = socket.create_connection(o.getsockname())
    oa = o.accept()[0]
    # oc above oa: the first fd refused names the urgent byte, not a
    # connection whose other end was refused
    import os
    fd = oc.detach()
    os.dup2(fd, 60)
    os.close(fd)
    oc = socket.socket(fileno=60)
    oc.send(b"u", socket.MSG_OOB)    # oa holds it, unread
if mode == "md5":
    import struct
    m = socket.socket()
    m.bind(("127.0.0.1", 0))
    # struct tcp_md5sig: the peer 127.0.0.1, a 6 byte key
    peer = struct.pack("=H2s4s", socket.AF_INET, bytes(2),
                       socket.inet_aton("127.0.0.1")).ljust(128, bytes(1))
    m.setsockopt(socket.IPPROTO_TCP, 14,
                 peer + struct.pack("=BBHi", 0, 0, 6, 0) + b"secret".ljust(80, bytes(1)))
    m.listen(4)
if mode == "netlink":
    import struct
    n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    n.bind((0, 0))
    # RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP: its reply stays unread
    n.send(struct.pack("=IHHII", 32, 18, 0x301, 1, 0) + bytes(16))
if mode == "pktinfo":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 0))
    u.setsockopt(socket.IPPROTO_IP, 8, 1)  # IP_PKTINFO
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
        b"x", ("127.0.0.2", u.getsockname()[1]))
runpy.run_path(sys.argv[1], run_name="__main__")' "$mode" "$WLS/counter.py"
		wait_count_above 8 60 "$JOB"
		expect_exit 70 "$CKPT" attach -o "$D/img" "$PID"
		grep -q "^ckpt: can't dump fd [0-9]* of $PID: socket:\[[0-9]*\] is $why\$" \
			"$D/cmd.err" ||
			fail "the refusal ($mode) does not say why: $(cat "$D/cmd.err")"
		one_line_err "attach ($mode)"
		refused_runs_on
	done
}

# An image whose TCP record is damaged (tests/integration/forgetcp.py:
# a receive queue chunk flagged as send queue, every checksum made right
# again) is refused by restore with one line naming it, exit 65, before
# any process is created (the killed PID stays free, D/count as the
# dump left it).
t_tcp-forged() {
	local py
	py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[[ -x $py ]] || fail "python3 not found"
	need "$CKPT" "$RESTORE"
	start_wl "$py" -c '
import runpy, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.create_connection(l.getsockname())
s = l.accept()[0]
c.send(b"queued, not read" * 100)
runpy.run_path(sys.argv[1], run_name="__main__")' "$WLS/counter.py"
	wait_count_above 8 60 "$JOB"
	dump_kill
	"$py" "$TOP/tests/integration/forgetcp.py" "$D/img" \
		"$TOP/image/image.h" 2>>"$D/errors.log" ||
		fail "can't forge the image: $(lastline "$D/errors.log")"
	expect_exit 65 "$RESTORE" "$D/img"
	one_line_err "restore of a damaged TCP record"
	grep -q "file [0-9]*: TCP queues of [0-9]* and [0-9]* bytes where it says" \
		"$D/cmd.err" || fail "restore does not say why: $(cat "$D/cmd.err")"
	alive "$PID" && fail "PID $PID exists after the refused restore"
	(($(count_lines) == DUMP_COUNT)) ||
		fail "D/count grew after the refused restore"
}

# Netlink sockets (tests/workloads/netlink.c), routing and generic, bound
# or not: after --kill and restore each has its port id (the PID for the
# first), its groups (above 32 too), flags and buffer size again, and the
# routing one answers a dump of the links.
netlink_image() {
	inspect "$D/img"
	grep -q "^file [0-9]*: netlink .* protocol 0 port $PID groups 0x180000011 " \
		"$D/inspect.out" ||
		fail "inspect shows no routing socket on port $PID:" \
		     "$(grep netlink "$D/inspect.out")"
}

t_netlink() {
	need "$WLB/netlink"
	HOOK_DUMPED=netlink_image
	wl_test "$WLB/netlink"
}
