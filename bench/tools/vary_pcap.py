#!/usr/bin/env python3
"""Gives each repetition of a repeated capture its own addresses, so that a flow meter sees many
concurrent flows instead of the same few again and again.

Usage: vary_pcap.py OUT.pcap PERIOD IN.pcap

IN.pcap is classic pcap, Ethernet (as repeat_pcap.py writes). Packet i belongs to repetition
i // PERIOD; in untagged IPv4 and IPv6 frames, that number is XORed into bytes 1-2 of both the
source and the destination address, so the two directions of a connection stay a pair and each
repetition is a new set of flows. Lengths are unchanged (header checksums are not fixed: flow
meters do not check them). Deterministic.
"""
import struct
import sys


def main():
    out_path, period, in_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = bytearray(open(in_path, "rb").read())
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit(f"{in_path}: not a little-endian classic pcap")
    pos, index = 24, 0
    while pos + 16 <= len(data):
        incl = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        frame = pos + 16
        rep = index // period
        hi, lo = (rep >> 8) & 0xFF, rep & 0xFF
        ether = data[frame + 12:frame + 14]
        if ether == b"\x08\x00" and incl >= 34:
            offsets = (frame + 26, frame + 30)
        elif ether == b"\x86\xdd" and incl >= 54:
            offsets = (frame + 22, frame + 38)
        else:
            offsets = ()
        for off in offsets:
            data[off + 1] ^= hi
            data[off + 2] ^= lo
        pos = frame + incl
        index += 1
    open(out_path, "wb").write(data)


if __name__ == "__main__":
    main()
