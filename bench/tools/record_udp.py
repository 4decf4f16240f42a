#!/usr/bin/env python3
"""Records the datagrams sent to one UDP port into a classic pcap (Ethernet/IPv4/UDP frames),
so that an exporter's output can be replayed later at a chosen rate (udp_replay).

Usage: record_udp.py OUT.pcap PORT_FILE -- COMMAND...

Binds 127.0.0.1 on a free port, writes that port to PORT_FILE, runs COMMAND (which reads the
port from PORT_FILE, e.g. softflowd -n 127.0.0.1:$(cat PORT_FILE)), and records until COMMAND
has exited and nothing arrived for a second. The socket buffer is 32 MiB; prints the count of
datagrams on stderr.
"""
import socket
import struct
import subprocess
import sys
import time


def main():
    out_path, port_file = sys.argv[1], sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with open(port_file, "w") as f:
        f.write(str(port))
    sock.settimeout(1.0)
    proc = subprocess.Popen(command)
    count = 0
    with open(out_path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        while True:
            try:
                data, (host, sport) = sock.recvfrom(65535)
            except socket.timeout:
                if proc.poll() is not None:
                    break
                continue
            now = time.time()
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), 0, 0x4000, 64, 17, 0,
                             socket.inet_aton(host), socket.inet_aton("127.0.0.1"))
            udp = struct.pack("!HHHH", sport, port, 8 + len(data), 0)
            frame = b"\x00" * 12 + b"\x08\x00" + ip + udp + data
            out.write(struct.pack("<IIII", int(now), int(now % 1 * 1e6), len(frame), len(frame)))
            out.write(frame)
            count += 1
    print(f"record_udp: {count} datagrams", file=sys.stderr)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
