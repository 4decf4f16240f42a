#!/usr/bin/env python3
"""Writes a synthetic packet capture for a real exporter to meter (Debian's softflowd -r), so
that the store benchmarks also run on records flowscope's own generator did not make.

Usage: synth_traffic_pcap.py OUT.pcap FLOWS [SEED]

The traffic: FLOWS connections between clients in 10.0.0.0/12 and a Zipf-weighted set of
servers in 172.16.0.0/16 on common service ports (TCP: 80, 443, 22, 25, 3306, 8080; UDP: 53,
123), about 2000 open at a time, interleaved in time. A TCP connection is a handshake, a few
data segments each way and a FIN exchange; a UDP exchange a request and zero to two answers.
Frames hold only the Ethernet/IPv4/transport headers (caplen), while the IP total length and the
pcap wire length carry the payload size, as a capture with a short snap length does: what a flow
meter counts is the same and the file stays small. Classic pcap, microsecond timestamps,
deterministic for a seed. About 1 M packets (90 k connections) per 4 CPU seconds.
"""
import random
import struct
import sys

TCP_PORTS = [80, 443, 443, 443, 22, 25, 3306, 8080]
UDP_PORTS = [53, 53, 123]
SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08
OPEN = 2000  # connections open at a time


def plan(rng, servers, cum_weights):
    """One connection: (proto, client, cport, server, sport, [(from_client, flags, payload)])."""
    server = rng.choices(servers, cum_weights=cum_weights)[0]
    client = (10 << 24) | rng.randrange(1, 1 << 20)
    cport = rng.randrange(32768, 61000)
    if rng.random() < 0.2:
        steps = [(True, 0, rng.randrange(30, 120))]
        steps += [(False, 0, rng.randrange(60, 1200)) for _ in range(rng.randrange(0, 3))]
        return (17, client, cport, server, rng.choice(UDP_PORTS), steps)
    steps = [(True, SYN, 0), (False, SYN | ACK, 0), (True, ACK, 0)]
    # One connection in ten is a longer exchange (5 to 29 round trips), so that questions such
    # as 'dst port 22 and packets > 10' select records in this data set too.
    exchanges = rng.randrange(1, 4) if rng.random() < 0.9 else rng.randrange(5, 30)
    for _ in range(exchanges):
        steps.append((True, PSH | ACK, rng.randrange(40, 600)))
        steps.append((False, PSH | ACK, rng.randrange(100, 1460)))
    steps += [(True, FIN | ACK, 0), (False, FIN | ACK, 0)]
    return (6, client, cport, server, rng.choice(TCP_PORTS), steps)


def main():
    out_path, flows = sys.argv[1], int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    servers = [(172 << 24) | (16 << 16) | rng.randrange(1, 1 << 16) for _ in range(5000)]
    cum_weights, total_weight = [], 0.0
    for rank in range(len(servers)):
        total_weight += 1.0 / (rank + 1) ** 1.1
        cum_weights.append(total_weight)
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    usec = 1_767_225_600 * 1_000_000  # 2026-01-01
    started = 0
    active = []
    with open(out_path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        chunk = []
        while active or started < flows:
            while len(active) < OPEN and started < flows:
                active.append([plan(rng, servers, cum_weights), 0])
                started += 1
            slot = rng.randrange(len(active))
            conn, step = active[slot]
            proto, client, cport, server, sport, steps = conn
            from_client, flags, payload = steps[step]
            src, dst = (client, server) if from_client else (server, client)
            sp, dp = (cport, sport) if from_client else (sport, cport)
            if proto == 6:
                l4 = struct.pack("!HHIIBBHHH", sp, dp, step * 1000, 0, 0x50, flags, 65535, 0, 0)
            else:
                l4 = struct.pack("!HHHH", sp, dp, 8 + payload, 0)
            total = 20 + len(l4) + payload
            # The IP checksum is left 0: flow meters do not check it (tshark says "unverified").
            ip = struct.pack("!BBHHHBBHII", 0x45, 0, total, 0, 0x4000, 64, proto, 0, src, dst)
            usec += rng.randrange(1, 1000)
            frame = eth + ip + l4
            chunk.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame),
                                     14 + total))
            chunk.append(frame)
            if step + 1 == len(steps):
                active[slot] = active[-1]
                active.pop()
            else:
                active[slot][1] = step + 1
            if len(chunk) >= 20000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))


if __name__ == "__main__":
    main()
