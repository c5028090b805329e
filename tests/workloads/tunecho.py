# tunecho.py - a program on a tun device of its own (t-netdev2.sh).
#
# Run as: python3 tunecho.py NAME ADDR MODE (cwd D), in a network
# namespace of its own. Makes tun device NAME (IFF_TUN | IFF_NO_PI, not
# persistent) through /dev/net/tun, gives it ADDR/24 (no IPv6) and brings it up,
# then appends "N\n" to D/count every ~20 ms as counter.py does (D/ready
# after five lines, D/stop ends it). MODE echo: sends back every UDP
# datagram read from the device (one to another address of that /24),
# counting them in D/echoes; MODE mq: the same with IFF_MULTI_QUEUE and
# two fds (queues) on the device; MODE hold: never reads the device.
import fcntl
import os
import select
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI, IFF_MULTI_QUEUE = 0x0001, 0x1000, 0x0100
d = os.getcwd()
name, addr, mode = sys.argv[1], sys.argv[2], sys.argv[3]


def path(n):
    return os.path.join(d, n)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def reply(p):
    """the answer to UDP datagram p (IPv4): sent back whence it came
    (no UDP checksum, which IPv4 allows), or None"""
    ihl = (p[0] & 15) * 4
    if len(p) < ihl + 8 or p[0] >> 4 != 4 or p[9] != 17:
        return None
    ip = bytearray(p[:ihl])
    ip[12:16], ip[16:20] = p[16:20], p[12:16]
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", csum(bytes(ip)))
    udp = bytearray(p[ihl:])
    udp[0:2], udp[2:4] = p[ihl + 2:ihl + 4], p[ihl:ihl + 2]
    udp[6:8] = b"\0\0"
    return bytes(ip) + bytes(udp)


flags = IFF_TUN | IFF_NO_PI | (IFF_MULTI_QUEUE if mode == "mq" else 0)
tuns = []
for i in range(2 if mode == "mq" else 1):
    tuns.append(os.open("/dev/net/tun", os.O_RDWR))
    fcntl.ioctl(tuns[-1], TUNSETIFF, struct.pack("16sH", name.encode(), flags))
# no IPv6 on it: the kernel's router solicitations would wait in it
with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % name, "w") as f:
    f.write("1\n")
for c in (["ip", "addr", "add", addr + "/24", "dev", name],
          ["ip", "link", "set", name, "up"]):
    subprocess.check_call(c)
cnt = os.open(path("count"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
n = echoes = 0
while True:
    os.write(cnt, b"%d\n" % n)
    n += 1
    if n == 5:
        with open(path("ready.tmp"), "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(path("ready.tmp"), path("ready"))
    if n > 5 and os.path.exists(path("stop")):
        sys.exit(0)
    if mode == "hold":
        select.select([], [], [], 0.02)
        continue
    r, _, _ = select.select(tuns, [], [], 0.02)
    for tun in r:
        out = reply(os.read(tun, 65536))
        if out:
            os.write(tun, out)
            echoes += 1
            with open(path("echoes.tmp"), "w") as f:
                f.write("%d\n" % echoes)
            os.rename(path("echoes.tmp"), path("echoes"))
