#!/usr/bin/env python3
"""forgetcp.py IMAGE: damage the first TCP receive queue chunk of IMAGE
(a FILE_DATA record flagged as no TCP chunk may be: its flags get the
send queue bit, so the queue lengths its FILE says no longer match),
then make every checksum right again (the record's, the trailer's index
and chain, the trailer's own), so that only the reader's checks of the
TCP record can refuse it. Exits 1 if the image has no such chunk.
See man/ckpt-image.5 for the format."""
import struct
import sys

FILE, FILE_DATA, TRAILER = 7, 8, 0x7FFF
SENDQ = 2


def crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


TABLE = crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def records(img):
    off = 128
    while off < len(img):
        typ, _flags, length = struct.unpack_from("<IIQ", img, off)
        yield off, typ, length
        off += 16 + length + 4


def tcp_files(img):
    """ids of FILE records of kind TCP: the payload starts with id, kind"""
    ids = set()
    for off, typ, _ in records(img):
        if typ == FILE:
            fid, kind = struct.unpack_from("<II", img, off + 16)
            if kind == tcp_kind():
                ids.add(fid)
    return ids


def tcp_kind():
    # enum img_file_kind in image/image.h, read so that it stays right
    with open(sys.argv[2]) as h:
        for line in h:
            line = line.strip()
            if line.startswith("IMG_FILE_TCP"):
                return int(line.split("=")[1].split(",")[0])
    sys.exit("no IMG_FILE_TCP in " + sys.argv[2])


def main():
    img = bytearray(open(sys.argv[1], "rb").read())
    tcp = tcp_files(img)
    crcs = {}
    hit = None
    for off, typ, length in records(img):
        if typ == FILE_DATA and hit is None:
            fid, flags = struct.unpack_from("<II", img, off + 16)
            if fid in tcp and not flags & SENDQ:
                struct.pack_into("<I", img, off + 20, flags | SENDQ)
                end = off + 16 + length
                struct.pack_into("<I", img, end, crc32c(img[off:end]))
                hit = off
        if typ == TRAILER:
            trailer = off
        crcs[off] = struct.unpack_from("<I", img, off + 16 + length)[0]
    if hit is None:
        sys.exit("no TCP receive queue chunk in " + sys.argv[1])
    # the trailer: count, then type, crc, offset, length of each record
    p = trailer + 16
    count = struct.unpack_from("<Q", img, p)[0]
    chain = bytearray()
    for i in range(count):
        e = p + 8 + 24 * i
        roff = struct.unpack_from("<Q", img, e + 8)[0]
        struct.pack_into("<I", img, e + 4, crcs[roff])
        chain += struct.pack("<I", crcs[roff])
    struct.pack_into("<I", img, p + 8 + 24 * count, crc32c(chain))
    length = struct.unpack_from("<Q", img, trailer + 8)[0]
    end = trailer + 16 + length
    struct.pack_into("<I", img, end, crc32c(img[trailer:end]))
    open(sys.argv[1], "wb").write(img)


main()
