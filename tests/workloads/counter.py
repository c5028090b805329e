# counter.py - the counter workload in Python 3.
#
# Appends "N\n" to D/count every ~20 ms through one O_APPEND fd, creates
# D/ready (holding its PID) after five lines, and on D/stop checks that a
# list built at start is intact and that the count file has as many lines
# as it wrote.  Run as: python3 counter.py (cwd D).
import os
import sys
import time

d = os.getcwd()


def path(name):
    return os.path.join(d, name)


def fail(msg):
    sys.stderr.write("FAIL: %s\n" % msg)
    sys.exit(1)


def ready():
    with open(path("ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(path("ready.tmp"), path("ready"))


data = [i * i for i in range(100000)]
data_sum = sum(data)
text = "".join(chr(65 + i % 26) for i in range(10000))

fd = os.open(path("count"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
n = 0
while True:
    os.write(fd, b"%d\n" % n)
    n += 1
    if n == 5:
        ready()
    if n > 5 and os.path.exists(path("stop")):
        break
    time.sleep(0.02)

if sum(data) != data_sum or data[99999] != 99999 * 99999:
    fail("list contents changed")
if text != "".join(chr(65 + i % 26) for i in range(10000)):
    fail("string contents changed")
with open(path("count"), "rb") as f:
    lines = f.read().count(b"\n")
if lines != n:
    fail("count file has %d lines, the counter is at %d" % (lines, n))
os.close(fd)
sys.exit(0)
