# mapreduce.py - a word count map-reduce over TCP: one driver, N workers,
# each its own process (on its own host in t-ctree.sh's mr test).
#
#   python3 mapreduce.py driver IP PORT N TASKS DIR
#   python3 mapreduce.py worker ID IP PORT DIR
#
# The driver listens on IP:PORT, takes N workers (each says its ID) and
# hands out TASKS map tasks one at a time to whichever worker is free;
# task T is the count of the words of a text made from T alone
# (text(T)), which the worker sends back as "T word=count ...". The
# driver reduces the counts as they come, writes how many tasks are done
# to DIR/progress, and hands out no task past the half until DIR/go
# exists (so that a checkpoint finds the map under way). When all are
# done it writes the reduced counts, sorted, to DIR/output, tells the
# workers "end", and everyone exits 0. A worker sleeps 20 ms per task.
# Each writes its PID to DIR/NAME.pid (driver, or the worker's ID).
#   python3 mapreduce.py expect TASKS   prints what DIR/output must hold
import os
import select
import socket
import sys
import time


def text(t):
    return ["w%d" % ((t * 7919 + j * 104729) % 97) for j in range(200)]


def count(t):
    c = {}
    for w in text(t):
        c[w] = c.get(w, 0) + 1
    return c


def output(total):
    return "".join("%s %d\n" % (w, total[w]) for w in sorted(total))


def put(d, name, data):
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(data)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))


def lines(sock, buf):
    """Complete lines read from sock (one recv), the rest kept in buf."""
    data = sock.recv(65536)
    if not data:
        sys.exit("peer closed")
    buf[0] += data
    *done, buf[0] = buf[0].split(b"\n")
    return [x.decode() for x in done]


def driver(ip, port, n, tasks, d):
    put(d, "driver.pid", "%d\n" % os.getpid())
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(n)
    workers = {}
    while len(workers) < n:
        s, _ = ls.accept()
        buf = [b""]
        while True:
            got = lines(s, buf)
            if got:
                workers[s] = buf
                break
    ls.close()
    total, done, nxt, busy = {}, 0, 0, set()
    while done < tasks:
        gate = nxt < tasks // 2 or os.path.exists(os.path.join(d, "go"))
        for s in workers:
            if s not in busy and nxt < tasks and gate:
                s.sendall(b"%d\n" % nxt)
                busy.add(s)
                nxt += 1
        ready, _, _ = select.select(list(busy), [], [], 0.1)
        for s in ready:
            for line in lines(s, workers[s]):
                for kv in line.split()[1:]:
                    w, c = kv.split("=")
                    total[w] = total.get(w, 0) + int(c)
                done += 1
                busy.discard(s)
        put(d, "progress", "%d\n" % done)
    put(d, "output", output(total))
    for s in workers:
        s.sendall(b"end\n")


def worker(wid, ip, port, d):
    put(d, wid + ".pid", "%d\n" % os.getpid())
    while True:
        try:
            s = socket.create_connection((ip, port))
            break
        except OSError:
            time.sleep(0.1)
    s.sendall(b"%s\n" % wid.encode())
    buf = [b""]
    while True:
        for line in lines(s, buf):
            if line == "end":
                return
            t = int(line)
            time.sleep(0.02)
            c = count(t)
            s.sendall(("%d %s\n" % (t, " ".join(
                "%s=%d" % kv for kv in sorted(c.items())))).encode())


if sys.argv[1] == "driver":
    driver(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
           int(sys.argv[5]), sys.argv[6])
elif sys.argv[1] == "worker":
    worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
else:
    total = {}
    for t in range(int(sys.argv[2])):
        for w, c in count(t).items():
            total[w] = total.get(w, 0) + c
    sys.stdout.write(output(total))
