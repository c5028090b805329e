#!/usr/bin/env python3
# redisclients.py PORT - two more redis clients for t_redis, run in the
# test directory (the cwd) as a child of the dumped tree:
#
#   pipe  sends INCRs in batches of 500 without waiting for the replies,
#         reading each batch's replies only after the next batch went:
#         at any moment a batch of replies (and maybe of commands) is
#         queued in the connection, which a dump takes mid-pipeline;
#   idle  a connection with state of its own in the server: a name
#         (CLIENT SETNAME) and database 3 selected, holding one key.
#
# D/clients.up once both are connected and the first batch went.
# At D/stop every reply left is read: each INCR must have given the next
# number, with none lost or doubled; the idle connection must still be
# named and in database 3 (a new connection would be neither). A run that
# saw D/restored sends two batches more before it stops. Exit 0, or
# "FAIL: ..." on stderr and exit 1.
import os
import socket
import sys
import time

BATCH = 500


def fail(msg):
    sys.stderr.write("FAIL: redisclients: %s\n" % msg)
    sys.exit(1)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, *cmds):
        self.s.sendall(b"".join(c.encode() + b"\r\n" for c in cmds))

    def line(self):
        while b"\r\n" not in self.buf:
            b = self.s.recv(65536)
            if not b:
                fail("the server closed a connection")
            self.buf += b
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode()

    def bulk(self):
        ln = self.line()
        if ln == "$-1":
            return None
        if not ln.startswith("$"):
            fail("want a bulk reply, got %r" % ln)
        return self.line()

    def ask(self, cmd):
        self.send(cmd)
        return self.line()


def main():
    port = int(sys.argv[1])
    pipe, idle = Conn(port), Conn(port)
    if idle.ask("CLIENT SETNAME keeper") != "+OK" or \
       idle.ask("SELECT 3") != "+OK" or \
       idle.ask("SET only3 here") != "+OK":
        fail("setting up the idle client")
    base = int(pipe.ask("INCR pipe")[1:])
    sent = got = 0
    since = None
    while True:
        if since is None and os.path.exists("restored"):
            since = sent
        if os.path.exists("stop") and sent >= 2 * BATCH and \
           (since is None or sent - since >= 2 * BATCH):
            break
        pipe.send(*["INCR pipe"] * BATCH)
        sent += BATCH
        # the replies of the batch before, the new one's stay queued
        while got < sent - BATCH:
            r = pipe.line()
            got += 1
            if r != ":%d" % (base + got):
                fail("INCR %d gave %r, want :%d" % (got, r, base + got))
        if sent == BATCH:
            open("clients.up", "w").close()
        time.sleep(0.05)
    while got < sent:
        r = pipe.line()
        got += 1
        if r != ":%d" % (base + got):
            fail("INCR %d gave %r, want :%d" % (got, r, base + got))
    idle.send("CLIENT GETNAME")
    if idle.bulk() != "keeper":
        fail("the idle client lost its name")
    idle.send("GET only3")
    if idle.bulk() != "here":
        fail("the idle client is not in database 3 any more")
    sys.stderr.write("redisclients: %d INCRs pipelined\n" % sent)


main()
