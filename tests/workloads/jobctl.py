# jobctl.py - job control in an interactive bash on a pty this process
# drives, across a dump and restore of the whole tree (run under reaper,
# dumped with --tree; cwd D).
#
# Before the dump: bash -i on a pty of ours; `cat` started and stopped
# with ^Z (job 1); a counter started in the foreground (job 2), appending
# N to D/count every 100 ms; then D/ready. After D/restored: the same
# terminal (its name) and foreground group; ^Z stops the counter, `jobs`
# lists both stopped, `fg %1` brings cat back, which echoes a line typed
# to it and ends at ^D; /dev/tty opens the pty. Exits 0 when bash exited
# after all that, 1 with "FAIL: ..." else.
import os
import re
import select
import sys
import time

import pty

d = os.getcwd()
out = b""
log = open(os.path.join(d, "term.log"), "ab")


def fail(msg):
    sys.stderr.write("FAIL: %s\n" % msg)
    sys.exit(1)


def pump(m, timeout):
    global out
    r, _, _ = select.select([m], [], [], timeout)
    if r:
        try:
            data = os.read(m, 4096)
        except OSError:     # EIO: bash, the last on the slave, exited
            time.sleep(timeout)
            return
        log.write(data)
        log.flush()
        out += data


def expect(m, pattern):
    global out
    end = time.time() + 60
    rx = re.compile(pattern, re.S)
    while not rx.search(out):
        if time.time() > end:
            fail("no %r on the terminal: %r" % (pattern, out[-200:]))
        pump(m, 0.2)
    out = out[rx.search(out).end():]


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def wait_fg(m, cond, what):
    """Until the foreground group is the job's, its leader running what
    (exec'd: an interactive bash ignores ^Z, the job's child of bash
    until it execs)."""
    end = time.time() + 60
    while not (cond(os.tcgetpgrp(m)) and comm(os.tcgetpgrp(m)) == what):
        if time.time() > end:
            fail("the foreground group is not %s's" % what)
        pump(m, 0.05)


def ready():
    with open(os.path.join(d, "ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))


def main():
    pid, m = pty.fork()
    if pid == 0:
        os.environ["PS1"] = "$ "
        os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
    expect(m, rb"\$ ")
    os.write(m, b"cat\r")
    wait_fg(m, lambda g: g != pid, "cat")
    os.write(m, b"\x1a")
    expect(m, rb"Stopped.*\$ ")
    # one process, no fork: a dump never meets a child half made
    os.write(m, b"perl -e 'for ($i = 0;; $i++) { open(F, \">>count\");"
             b" print F \"$i\\n\"; close(F); select(undef, undef, undef,"
             b" 0.1) }'\r")
    wait_fg(m, lambda g: g != pid, "perl")
    fg = os.tcgetpgrp(m)
    name = os.readlink("/proc/%d/fd/0" % pid)
    ready()
    while not os.path.exists(os.path.join(d, "restored")):
        pump(m, 0.1)
    if os.tcgetpgrp(m) != fg:
        fail("foreground group %d, was %d" % (os.tcgetpgrp(m), fg))
    os.write(m, b"\x1a")
    expect(m, rb"Stopped.*\$ ")
    os.write(m, b"jobs\r")
    expect(m, rb"\[1\][-+ ]+Stopped +cat.*\[2\][-+ ]+Stopped +perl.*\$ ")
    os.write(m, b"fg %1\r")
    wait_fg(m, lambda g: g not in (pid, fg), "cat")
    os.write(m, b"hello\r")
    expect(m, rb"hello\r\nhello\r\n")
    os.write(m, b"\x04")
    expect(m, rb"\$ ")
    os.write(m, b'[ "$(tty)" = %s ] && exec 3<>/dev/tty &&'
             b' echo tty-ok-$((6 * 7)) >&3\r' % name.encode())
    expect(m, rb"tty-ok-42")
    os.write(m, b"kill -9 %2\r")
    expect(m, rb"\$ ")
    os.write(m, b"exit\r")
    end = time.time() + 60
    while os.waitpid(pid, os.WNOHANG)[0] != pid:
        if time.time() > end:
            fail("bash did not exit")
        pump(m, 0.2)
        if b"stopped jobs" in out:
            out_reset()
            os.write(m, b"exit\r")
    return 0


def out_reset():
    global out
    out = b""


sys.exit(main())
