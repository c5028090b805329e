# notify.py - a job that cooperates with ckpt run --notify (ckpt(1)).
#
# Counts as counter.py does (D/count, D/ready, D/stop), and also writes
# each number to D/buffered through a 1 MiB buffer that it flushes only
# when ckpt says "before" a checkpoint.  It listens on $CKPT_NOTIFY and,
# for each connection, reads the word, does what it means, appends it to
# D/events ("before N", N the numbers in D/buffered; "after";
# "restored") and closes the connection, which is what ckpt waits for.
# Run as: python3 notify.py (cwd D).
import os
import select
import socket
import sys
import time

# names in D, the current directory
COUNT, READY, STOP, EVENTS = "count", "ready", "stop", "events"


def event(line):
    with open(EVENTS, "a") as f:
        f.write(line + "\n")


sock_path = os.environ.get("CKPT_NOTIFY")
if not sock_path:
    sys.exit("FAIL: no CKPT_NOTIFY in the environment")
lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
lsock.bind(sock_path)
lsock.listen(4)
buffered = open("buffered", "w", buffering=1 << 20)
written = 0


def serve():
    global written
    conn, _ = lsock.accept()
    word = conn.makefile("r").readline().strip()
    if word == "before":
        buffered.flush()
        event("before %d" % written)
    else:
        event(word)
    conn.close()


fd = os.open(COUNT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
n = 0
while True:
    os.write(fd, b"%d\n" % n)
    buffered.write("%d\n" % n)
    written = n + 1
    n += 1
    if n == 5:
        with open(READY + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(READY + ".tmp", READY)
    if n > 5 and os.path.exists(STOP):
        break
    r, _, _ = select.select([lsock], [], [], 0.02)
    if r:
        serve()

with open(COUNT, "rb") as f:
    lines = f.read().count(b"\n")
if lines != n:
    sys.exit("FAIL: count file has %d lines, the counter is at %d" %
             (lines, n))
sys.exit(0)
