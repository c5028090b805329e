#!/usr/bin/env python3
# proxy.py - a man in the middle for the serve-tamper test of run.sh.
#
#   python3 proxy.py PORTFILE UPSTREAM_PORT MODE [DIR OFFSET]
#
# Listens on a free port of 127.0.0.1 (written to PORTFILE once it
# listens) and forwards every connection to 127.0.0.1:UPSTREAM_PORT.
# MODE pass forwards bytes unchanged; flip XORs the byte at OFFSET of
# direction DIR (c2s: client to server, s2c: server to client) with 0x01;
# cut closes both sides of the connection once OFFSET bytes of DIR went
# through; record appends what the client sends to the file named
# instead of DIR (`proxy.py PORTFILE PORT record FILE`), for a replay.
# Each connection counts its own offsets; the proxy runs until killed.
import os
import socket
import sys
import threading

RECORD = None


def pump(src, dst, mode, offset):
    seen = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if mode == "flip" and seen <= offset < seen + len(data):
                b = bytearray(data)
                b[offset - seen] ^= 0x01
                data = bytes(b)
            if mode == "record":
                with open(RECORD, "ab") as f:
                    f.write(data)
            if mode == "cut" and seen + len(data) >= offset:
                dst.sendall(data[:offset - seen])
                break
            dst.sendall(data)
            seen += len(data)
    except OSError:
        pass
    # either end going away ends the whole connection
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client, upstream_port, mode, direction, offset):
    server = socket.create_connection(("127.0.0.1", upstream_port))
    c2s = (mode, offset) if direction == "c2s" else ("pass", 0)
    s2c = (mode, offset) if direction == "s2c" else ("pass", 0)
    threads = [threading.Thread(target=pump, args=(client, server) + c2s),
               threading.Thread(target=pump, args=(server, client) + s2c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    server.close()


def main():
    portfile, upstream = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3]
    global RECORD
    direction = sys.argv[4] if len(sys.argv) > 4 else "c2s"
    if mode == "record":
        RECORD, direction = direction, "c2s"
    offset = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        client, _ = lsock.accept()
        threading.Thread(target=serve, daemon=True,
                         args=(client, upstream, mode, direction,
                               offset)).start()


main()
