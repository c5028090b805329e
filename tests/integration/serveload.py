#!/usr/bin/env python3
# serveload.py - honest and hostile clients of `ckpt serve` at once, for
# the serve-load test of run.sh and bench/serve-load.sh.
#
#   python3 serveload.py PORT KEYFILE IMAGE SERVER_PID [option=value...]
#
# Options: clients (12), hostile (a third of them), timeout (the server's
# --client-timeout, 5; below 70), seed (random), get (a stored image that honest
# clients fetch; none by default), out (a directory where each fetched
# image is written as NAME.CLIENT), limit (seconds the whole run may take,
# 600).
#
# Honest clients PUT the bytes of IMAGE as h0, h1, ... (a GET of `get`
# for every fourth one when get is set); each must hear "OK". Hostile
# ones, all on 127.0.0.1, each go through some of KINDS in turn: a
# handshake sent a byte a second (the server must cut it), a stream that
# stalls mid-frame (cut), garbage for a handshake, a wrong key, a replay
# of a recorded session (a fresh server nonce refuses the old proof), a
# frame declaring a length of 4 GiB (refused with an ERR before any
# allocation), a stream cut at a random byte. Each must be refused. The
# protocol is plugins/net.h's, through libsodium (ctypes).
#
# Meanwhile the server's children, and the fds and RSS of the server and
# its children together, are sampled; the last line is
#   clients N served S refused R failed F peak_children C peak_fds D
#   peak_rss_kib K
# and the exit status is 0 only if every honest client was served and
# every hostile one refused (F == 0).
import ctypes
import os
import random
import socket
import struct
import sys
import threading
import time

FRAME_MAX = 256 << 10
KINDS = ["slow-handshake", "slow-stream", "garbage", "wrong-key", "replay",
         "huge-length", "cut"]

na = ctypes.CDLL("libsodium.so.23")
if na.sodium_init() < 0:
    sys.exit("serveload: libsodium: sodium_init failed")
STATE = na.crypto_secretstream_xchacha20poly1305_statebytes()
HDR = 24
ABYTES = 17


class Refused(Exception):
    """The server closed, refused or answered ERR: what a hostile
    client must see, and an honest one must not."""


def hmac(key, label, a, b):
    out = ctypes.create_string_buffer(32)
    msg = label + a + b
    na.crypto_auth_hmacsha256(out, msg, ctypes.c_ulonglong(len(msg)), key)
    return out.raw


def derive(key, label, ns, nc):
    out = ctypes.create_string_buffer(32)
    msg = label + ns + nc
    na.crypto_generichash(out, ctypes.c_size_t(32), msg,
                          ctypes.c_ulonglong(len(msg)), key,
                          ctypes.c_size_t(32))
    return out.raw


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        try:
            data = sock.recv(n - len(buf))
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            raise Refused("connection closed")
        buf += data
    return buf


def send_all(sock, data):
    try:
        sock.sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        raise Refused("connection closed")


class Conn:
    """The client side of a connection: handshake, then sealed frames."""

    def __init__(self, port, key, record=None):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=300)
        self.key = key
        self.record = record    # a list that keeps what we send

    def send(self, data):
        if self.record is not None:
            self.record.append(data)
        send_all(self.sock, data)

    def handshake(self, proof=None):
        hello = recv_exact(self.sock, 40)
        if hello[:8] != b"CKPTNET2":
            raise RuntimeError("not a ckpt server: %r" % hello[:8])
        ns = hello[8:]
        nc = os.urandom(32)
        if proof is None:
            proof = b"CKPTNET2" + nc + hmac(self.key, b"ckpt-client", ns, nc)
        self.send(proof)
        if recv_exact(self.sock, 1) != b"Y":
            raise Refused("key refused")
        mac = recv_exact(self.sock, 32)
        if mac != hmac(self.key, b"ckpt-server", nc, ns):
            raise RuntimeError("the server does not hold our key")
        self.tx = ctypes.create_string_buffer(STATE)
        self.rx = ctypes.create_string_buffer(STATE)
        self.tx_hdr = ctypes.create_string_buffer(HDR)
        na.crypto_secretstream_xchacha20poly1305_init_push(
            self.tx, self.tx_hdr,
            derive(self.key, b"ckpt-net2 client->server", ns, nc))
        self.rx_key = derive(self.key, b"ckpt-net2 server->client", ns, nc)
        self.rx_started = False
        self.tx_started = False

    def seal(self, data):
        out = ctypes.create_string_buffer(len(data) + ABYTES)
        na.crypto_secretstream_xchacha20poly1305_push(
            self.tx, out, None, data, ctypes.c_ulonglong(len(data)), None,
            ctypes.c_ulonglong(0), ctypes.c_ubyte(0))
        return out.raw

    def frame(self, data, declared=None):
        """The bytes of one frame (declared: a length to lie about)."""
        n = len(data) if declared is None else declared
        wire = b"" if self.tx_started else self.tx_hdr.raw
        self.tx_started = True
        wire += self.seal(struct.pack(">I", n))
        return wire + (self.seal(data) if data else b"")

    def send_frame(self, data):
        self.send(self.frame(data))

    def open(self, n):
        sealed = recv_exact(self.sock, n + ABYTES)
        out = ctypes.create_string_buffer(max(n, 1))
        tag = ctypes.c_ubyte()
        if na.crypto_secretstream_xchacha20poly1305_pull(
                self.rx, out, None, ctypes.byref(tag), sealed,
                ctypes.c_ulonglong(len(sealed)), None,
                ctypes.c_ulonglong(0)):
            raise RuntimeError("a frame from the server failed its check")
        return out.raw[:n]

    def recv_frame(self):
        if not self.rx_started:
            hdr = recv_exact(self.sock, HDR)
            na.crypto_secretstream_xchacha20poly1305_init_pull(
                self.rx, hdr, self.rx_key)
            self.rx_started = True
        n = struct.unpack(">I", self.open(4))[0]
        if n > FRAME_MAX:
            raise RuntimeError("the server sent a frame of %d bytes" % n)
        return self.open(n) if n else b""

    def request(self, req):
        self.send_frame(req.encode())
        answer = self.recv_frame().decode()
        if answer != "OK":
            raise Refused(answer)

    def closed(self):
        """Did the server end the connection (EOF or reset) before our
        socket's timeout?"""
        try:
            while self.sock.recv(65536):
                pass
        except socket.timeout:
            return False
        except OSError:
            pass
        return True

    def close(self):
        self.sock.close()


# ---- honest clients -------------------------------------------------------

def put(a, name):
    c = Conn(a.port, a.key)
    try:
        c.handshake()
        c.request("PUT " + name)
        step = random.choice([FRAME_MAX, 64 << 10, 4096 + 17])
        for off in range(0, len(a.image), step):
            c.send_frame(a.image[off:off + step])
        c.send_frame(b"")
        answer = c.recv_frame().decode()
        if answer != "OK":
            raise RuntimeError("put %s: %s" % (name, answer))
    finally:
        c.close()
    return "stored %d bytes" % len(a.image)


def get(a, name, me):
    c = Conn(a.port, a.key)
    data = []
    try:
        c.handshake()
        c.request("GET " + name)
        while True:
            f = c.recv_frame()
            if not f:
                break
            data.append(f)
    finally:
        c.close()
    data = b"".join(data)
    if a.out:
        with open(os.path.join(a.out, "%s.%s" % (name, me)), "wb") as f:
            f.write(data)
    return "fetched %d bytes" % len(data)


# ---- hostile clients: each returns how it was refused ----------------------

def slow_handshake(a, name):
    c = Conn(a.port, a.key)
    try:
        recv_exact(c.sock, 40)
        c.sock.settimeout(1)
        # all but the last of the 72 bytes of a proof, a second apart:
        # only the deadline can end this (if below 70 s)
        for b in os.urandom(71):
            send_all(c.sock, bytes([b]))
            if c.closed():
                return "cut"
        raise RuntimeError("not cut after 71 s")
    except Refused:
        return "cut"
    finally:
        c.close()


def hostile_put(a, name, act):
    """act(c) on a connection whose "PUT name" was accepted."""
    c = Conn(a.port, a.key)
    try:
        c.handshake()
        c.request("PUT " + name)
        return act(c)
    except Refused as e:
        return "refused (%s)" % e
    finally:
        c.close()


def stall(c, a):
    c.send_frame(os.urandom(4096))
    wire = c.frame(os.urandom(4096))
    send_all(c.sock, wire[:len(wire) // 2])
    c.sock.settimeout(a.timeout * 4 + 60)
    if not c.closed():
        raise RuntimeError("not cut after %d s" % (a.timeout * 4 + 60))
    return "cut"


def slow_stream(a, name):
    return hostile_put(a, name, lambda c: stall(c, a))


def garbage(a, name):
    c = Conn(a.port, a.key)
    try:
        recv_exact(c.sock, 40)
        send_all(c.sock, os.urandom(random.randint(1, 4096)))
        c.sock.settimeout(a.timeout * 4 + 60)
        answer = c.sock.recv(1)
        if answer == b"Y":
            raise RuntimeError("garbage was taken for a handshake")
        return "refused"
    except (Refused, ConnectionResetError):
        return "refused"
    finally:
        c.close()


def wrong_key(a, name):
    c = Conn(a.port, os.urandom(32))
    try:
        c.handshake()
        c.request("PUT " + name)
        raise RuntimeError("a wrong key was let in")
    except Refused:
        return "refused"
    finally:
        c.close()


def replay(a, name):
    sent = []
    c = Conn(a.port, a.key, record=sent)
    try:
        c.handshake()
        c.request("GET " + name)
    except Refused:
        pass                    # no such image: what was said is recorded
    finally:
        c.close()
    c = Conn(a.port, a.key)
    try:
        recv_exact(c.sock, 40)
        send_all(c.sock, b"".join(sent))
        if recv_exact(c.sock, 1) == b"Y":
            raise RuntimeError("a replayed handshake was let in")
        return "refused"
    except Refused:
        return "refused"
    finally:
        c.close()


def huge(c):
    c.send(c.frame(b"", declared=0xffffffff))
    answer = c.recv_frame().decode()
    if not answer.startswith("ERR"):
        raise RuntimeError("a 4 GiB frame got %r" % answer)
    return answer


def huge_length(a, name):
    return hostile_put(a, name, huge)


def cut_short(c):
    # never the zero frame that would end an image
    wire = b"".join(c.frame(os.urandom(8192)) for _ in range(8))
    send_all(c.sock, wire[:random.randint(1, len(wire) - 1)])
    if random.random() < 0.5:     # a reset rather than a FIN
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
    return "cut by us"


def cut(a, name):
    return hostile_put(a, name, cut_short)


HOSTILE = {"slow-handshake": slow_handshake, "slow-stream": slow_stream,
           "garbage": garbage, "wrong-key": wrong_key, "replay": replay,
           "huge-length": huge_length, "cut": cut}


# ---- the run --------------------------------------------------------------

class Args:
    pass


def parse():
    a = Args()
    a.port, keyfile, image, a.spid = sys.argv[1:5]
    a.port, a.spid = int(a.port), int(a.spid)
    opts = dict(kv.split("=", 1) for kv in sys.argv[5:])
    a.clients = int(opts.get("clients", 12))
    a.hostile = int(opts.get("hostile", (a.clients + 1) // 3))
    a.timeout = int(opts.get("timeout", 5))
    a.seed = int(opts.get("seed", random.randrange(1 << 30)))
    a.get = opts.get("get")
    a.out = opts.get("out")
    a.limit = int(opts.get("limit", 600))
    with open(keyfile) as f:
        a.key = bytes.fromhex(f.read().split()[1])
    with open(image, "rb") as f:
        a.image = f.read()
    return a


class Sampler(threading.Thread):
    """Peaks of the server's children, and of fds and RSS of the server
    and its children together."""

    def __init__(self, spid):
        super().__init__(daemon=True)
        self.spid = spid
        self.children = self.fds = self.rss = 0
        self.stop = threading.Event()

    def rss_kib(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def sample(self):
        p = "/proc/%d/task/%d/children" % (self.spid, self.spid)
        with open(p) as f:
            kids = [int(k) for k in f.read().split()]
        fds = rss = 0
        for pid in [self.spid] + kids:
            try:
                fds += len(os.listdir("/proc/%d/fd" % pid))
                rss += self.rss_kib(pid)
            except OSError:
                pass            # a child that just ended
        self.children = max(self.children, len(kids))
        self.fds = max(self.fds, fds)
        self.rss = max(self.rss, rss)

    def run(self):
        while not self.stop.is_set():
            try:
                self.sample()
            except OSError:
                pass
            time.sleep(0.02)


def client(a, i, results):
    rnd = random.Random(a.seed + i)
    time.sleep(rnd.random())            # not all in the same instant
    if i < a.hostile:
        kinds = KINDS[i::a.hostile] if a.hostile < len(KINDS) else \
            [KINDS[i % len(KINDS)]]
        for k in kinds:
            name = "x%d-%s" % (i, k)
            try:
                results.append((True, "hostile %s %s: %s" %
                                (k, name, HOSTILE[k](a, name))))
            except Exception as e:
                results.append((False, "hostile %s %s: not refused: %r" %
                                (k, name, e)))
        return
    name = "h%d" % (i - a.hostile)
    try:
        if a.get and i % 4 == 0:
            results.append((True, "honest get %s: %s" %
                            (a.get, get(a, a.get, name))))
        else:
            results.append((True, "honest put %s: %s" % (name, put(a, name))))
    except Exception as e:
        results.append((False, "honest %s: failed: %r" % (name, e)))


def main():
    a = parse()
    random.seed(a.seed)
    print("seed %d" % a.seed, flush=True)
    sampler = Sampler(a.spid)
    sampler.start()
    results = []
    threads = [threading.Thread(target=client, args=(a, i, results),
                                daemon=True) for i in range(a.clients)]
    for t in threads:
        t.start()
    end = time.monotonic() + a.limit
    for t in threads:
        t.join(max(0, end - time.monotonic()))
    sampler.stop.set()
    sampler.join()
    hung = sum(t.is_alive() for t in threads)
    for ok, line in sorted(results, key=lambda r: r[1]):
        print(("" if ok else "FAIL ") + line)
    served = sum(ok and line.startswith("honest") for ok, line in results)
    refused = sum(ok and line.startswith("hostile") for ok, line in results)
    failed = sum(not ok for ok, _ in results) + hung
    if hung:
        print("FAIL %d clients still running after %d s" % (hung, a.limit))
    print("clients %d served %d refused %d failed %d peak_children %d "
          "peak_fds %d peak_rss_kib %d" % (a.clients, served, refused, failed,
                                           sampler.children, sampler.fds,
                                           sampler.rss), flush=True)
    # the threads still running (if any) are daemons: exit anyway
    os._exit(0 if not failed else 1)


main()
