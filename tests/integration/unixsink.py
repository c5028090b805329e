#!/usr/bin/env python3
# unixsink.py - the servers outside the tree for t_ext-unix, run in the
# test directory: a datagram socket bound to log.sock that appends each
# message it gets to log.txt, and a stream listener on sink.sock that
# appends each line of each connection to sink.txt (connections served
# at once, in threads). Creates up.txt when both are bound. Runs until
# killed.
import os
import socket
import threading


def serve_log():
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    d.bind("log.sock")
    return d


def log_loop(d):
    with open("log.txt", "ab", buffering=0) as out:
        while True:
            out.write(d.recv(4096) + b"\n")


def conn_loop(c):
    with c, open("sink.txt", "ab", buffering=0) as out:
        buf = b""
        while True:
            b = c.recv(4096)
            if not b:
                return
            buf += b
            *lines, buf = buf.split(b"\n")
            for ln in lines:
                out.write(ln + b"\n")


def main():
    d = serve_log()
    l = socket.socket(socket.AF_UNIX)
    l.bind("sink.sock")
    l.listen(8)
    threading.Thread(target=log_loop, args=(d,), daemon=True).start()
    open("up.tmp", "w").close()
    os.rename("up.tmp", "up.txt")
    while True:
        c, _ = l.accept()
        threading.Thread(target=conn_loop, args=(c,), daemon=True).start()


main()
