#!/usr/bin/env python3
# consock.py - the other end of a console socket, as runc's recvtty is:
# listens on SOCK, takes the pty master that runc (run --console-socket)
# or restore (--console-socket) sends with SCM_RIGHTS, and serves it:
# what the container writes is appended to LOG, and what is written into
# the FIFO IN is typed into the master. A new connection brings a new
# master, which takes the place of the old (the container restored).
# Writes the count of masters taken to GOT after each. Runs until killed.
#
#   python3 consock.py SOCK LOG IN GOT
import array
import os
import select
import socket
import sys


def take(conn):
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:4])
    conn.close()
    return fds[0] if fds else -1


def main():
    path, log, fifo, got = sys.argv[1:5]
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(4)
    typed = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    m, n = -1, 0
    while True:
        rl = [ls, typed] + ([m] if m >= 0 else [])
        r, _, _ = select.select(rl, [], [])
        if ls in r:
            conn, _ = ls.accept()
            new = take(conn)
            if new >= 0:
                if m >= 0:
                    os.close(m)
                m, n = new, n + 1
                with open(got + ".tmp", "w") as f:
                    f.write("%d\n" % n)
                os.rename(got + ".tmp", got)
        if typed in r:
            data = os.read(typed, 4096)
            if m >= 0 and data:
                os.write(m, data)
        if m >= 0 and m in r:
            try:
                data = os.read(m, 4096)
            except OSError:
                data = b""
            if data:
                os.write(out, data)
            else:
                os.close(m)
                m = -1


main()
