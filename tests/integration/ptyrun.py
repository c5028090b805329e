#!/usr/bin/env python3
# ptyrun.py - a terminal for the terminal tests of t-tty.sh: runs CMD on a
# pty of its own, of the given size, and plays the steps in order:
#
#   python3 ptyrun.py --log LOG --size ROWSxCOLS [--pid FILE] [STEP]...
#                     -- CMD...
#
#   --expect RE    wait (60 s at most) for RE in what CMD wrote since the
#                  last match (bytes, Python re, DOTALL)
#   --send TEXT    type TEXT (Python escapes: \r, \x1a ...)
#   --touch PATH   create PATH
#   --wait PATH    wait (120 s at most) for PATH to exist
#   --resize RxC   give the pty a new size (CMD's group gets SIGWINCH)
#   --cooked 1     once CMD ended, its terminal must be in canonical mode
#                  with echo again (exit 98 if not)
#
# ptyrun is a child subreaper: the orphans of CMD's tree come to it, and
# it reaps them all (60 s at most) before it exits, so that none is left
# a zombie holding its PID (PID 1 here never reaps).
#
# Everything CMD writes goes to LOG as it comes. Once the steps are done
# the output is copied on until CMD ends; the exit status is CMD's (128+N
# for signal N), 99 when a step timed out (said in LOG).
import os
import pty
import re
import select
import struct
import sys
import termios
import time
import ctypes
import fcntl

PR_SET_CHILD_SUBREAPER = 36

out = b""        # what CMD wrote since the last match
log = None
master = -1


def say(msg):
    log.write(("\n[ptyrun] %s\n" % msg).encode())
    log.flush()


def pump(timeout):
    """Read what CMD wrote within timeout; False at its end."""
    global out
    r, _, _ = select.select([master], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(master, 65536)
    except OSError:
        return False
    if not data:
        return False
    log.write(data)
    log.flush()
    out += data
    return True


def expect(pattern):
    global out
    end = time.time() + 60
    rx = re.compile(pattern.encode(), re.S)
    while True:
        m = rx.search(out)
        if m:
            out = out[m.end():]
            return
        if time.time() > end or not pump(0.2):
            say("timed out waiting for %r" % pattern)
            sys.exit(99)


def wait_file(path):
    end = time.time() + 120
    while not os.path.exists(path):
        if time.time() > end:
            say("timed out waiting for %s" % path)
            sys.exit(99)
        pump(0.1)


def set_size(fd, size):
    rows, cols = (int(x) for x in size.split("x"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    global log, master
    args = sys.argv[1:]
    cmd = args[args.index("--") + 1:]
    args = args[:args.index("--")]
    opts = dict(zip(args[0::2], args[1::2]))
    log = open(opts["--log"], "ab")
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0,
                                            0)
    pid, master = pty.fork()
    if pid == 0:
        set_size(0, opts["--size"])
        os.execvp(cmd[0], cmd)
    if "--pid" in opts:
        with open(opts["--pid"] + ".tmp", "w") as f:
            f.write("%d\n" % pid)
        os.rename(opts["--pid"] + ".tmp", opts["--pid"])
    cooked = False
    for step, arg in zip(args[0::2], args[1::2]):
        if step == "--expect":
            expect(arg)
        elif step == "--send":
            os.write(master, arg.encode().decode("unicode_escape").encode(
                "latin-1"))
        elif step == "--touch":
            open(arg, "a").close()
        elif step == "--wait":
            wait_file(arg)
        elif step == "--resize":
            set_size(master, arg)
        elif step == "--cooked":
            cooked = True
    status = None
    while status is None:
        alive = pump(1.0)
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status = st
        elif not alive:
            status = os.waitpid(pid, 0)[1]
    code = os.waitstatus_to_exitcode(status)
    code = 128 - code if code < 0 else code
    say("exit %d" % code)
    reap_orphans()
    if cooked:
        lflag = termios.tcgetattr(master)[3]
        if not (lflag & termios.ICANON and lflag & termios.ECHO):
            say("the terminal was left in raw mode")
            return 98
    return code


def reap_orphans():
    end = time.time() + 60
    while time.time() < end:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.1)
        except ChildProcessError:
            return
    say("orphans still running after 60 s")


if __name__ == "__main__":
    sys.exit(main())
