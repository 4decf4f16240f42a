#!/usr/bin/env python3
"""Builds a benchmark capture by repeating the packets of corpus captures.

Usage: repeat_pcap.py OUT.pcap REPEAT IN.pcap [IN.pcap ...]

Writes the packets of every input, in order, REPEAT times (templates included, as exporters
re-send them), with timestamps advancing 1 ms per packet from the first input's start. Classic
pcap (microseconds); the link type of the first input. Deterministic: same inputs, same bytes.
"""
import struct
import sys


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        sys.exit(f"{path}: not a classic pcap file (pcapng is not supported here)")
    link = struct.unpack(e + "I", data[20:24])[0]
    packets, pos = [], 24
    while pos + 16 <= len(data):
        _, _, incl, orig = struct.unpack(e + "IIII", data[pos:pos + 16])
        packets.append((data[pos + 16:pos + 16 + incl], orig))
        pos += 16 + incl
    return link, packets


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, repeat, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    link, packets = None, []
    for path in inputs:
        l, p = read_pcap(path)
        link = l if link is None else link
        if l != link:
            sys.exit(f"{path}: link type {l} differs from {link}")
        packets += p
    t = 1_700_000_000_000_000  # microseconds
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link))
        for _ in range(repeat):
            for data, orig in packets:
                f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(data), orig))
                f.write(data)
                t += 1000


if __name__ == "__main__":
    main()
