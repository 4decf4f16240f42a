#!/usr/bin/env python3
"""Records the keep-alive HTTP captures of tests/data/http_keepalive/ (issue F16, docs/tcpflow.md).

Runs as root: re-executes itself in a new network namespace (unshare -n) so that nothing else is
on its loopback, starts a keep-alive HTTP/1.1 server (python's http.server) on 127.0.0.1 and
[::1], records lo with a raw AF_PACKET socket (as tcpdump -i lo would: outgoing copies skipped)
while curl sends several requests per connection, and writes one pcap per address family.

    sudo scripts/make-http-keepalive-captures.py tests/data/http_keepalive
"""

import gzip
import zlib
import http.server
import os
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time

PORT = 8080
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def body_bytes(name, size):
    rng = random.Random(name)
    return bytes(rng.getrandbits(8) for _ in range(size))


INDEX = (b"<!DOCTYPE html>\n<html><head><title>keep-alive test</title></head>\n<body>\n" +
         b"".join(b"<p>line %d of the keep-alive test page</p>\n" % i for i in range(14)) +
         b"</body></html>\n")
CSS = b"body { font-family: sans-serif; }\n" * 20
BIG = body_bytes("big", 40000)
CHUNKS = [b"first chunk\n", b"x" * 3000, b"", b"y" * 700, b"last chunk\n"]
GZ_TEXT = b"".join(b"gzip line %d\n" % i for i in range(400))
GZ = gzip.compress(GZ_TEXT, mtime=0)
UNTIL_CLOSE = b"this body ends when the server closes the connection\n" * 8
DEFLATED = zlib.compress(GZ_TEXT)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "keepalive-test/1.0"
    sys_version = ""

    def log_message(self, *args):
        pass

    def head(self, status, ctype=None, length=None, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def send_slowly(self, data, piece=1000):
        # One write per piece with TCP_NODELAY: the body spans many segments.
        for at in range(0, len(data), piece):
            self.wfile.write(data[at:at + piece])
            self.wfile.flush()
            time.sleep(0.001)

    def reply(self, send_body):
        keep = ("Connection", "keep-alive")
        path = self.path
        if path == "/index.html":
            self.head(200, "text/html", len(INDEX), [keep])
            if send_body:
                self.wfile.write(INDEX)
        elif path == "/style.css":
            self.head(200, "text/css", len(CSS), [keep])
            if send_body:
                self.wfile.write(CSS)
        elif path == "/big.bin":
            self.head(200, "application/octet-stream", len(BIG), [keep])
            if send_body:
                self.send_slowly(BIG)
        elif path == "/chunked.txt":
            self.head(200, "text/plain", None, [keep, ("Transfer-Encoding", "chunked")])
            if send_body:
                for c in CHUNKS:
                    if c:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
                        self.wfile.flush()
                        time.sleep(0.001)
                self.wfile.write(b"0\r\n\r\n")
        elif path == "/gzip.txt":
            self.head(200, "text/plain", len(GZ), [keep, ("Content-Encoding", "gzip")])
            if send_body:
                self.wfile.write(GZ)
        elif path == "/deflate.txt":
            self.head(200, "text/plain", len(DEFLATED), [keep, ("Content-Encoding", "deflate")])
            if send_body:
                self.wfile.write(DEFLATED)
        elif path == "/xgzip.txt":
            self.head(200, "text/plain", len(GZ), [keep, ("Content-Encoding", "x-gzip")])
            if send_body:
                self.wfile.write(GZ)
        elif path == "/extra-crlf":
            # A stray CRLF after a Content-Length body (some servers send one).
            self.head(200, "text/plain", len(CSS), [keep])
            if send_body:
                self.wfile.write(CSS + b"\r\n")
        elif path == "/notmod-cl":
            # RFC 7230 3.3.2: a 304 may carry the Content-Length the 200 would have.
            self.head(304, None, len(INDEX), [keep, ("ETag", '"abc"')])
        elif path == "/tiny":
            # A minimal server's reply: the whole stream is shorter than 80 bytes.
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
        elif path == "/empty":
            self.head(200, "text/plain", 0, [keep])
        elif path == "/nocontent":
            self.head(204, None, None, [keep])
        elif path == "/notmod":
            self.head(304, None, None, [keep, ("ETag", '"abc"')])
        elif path == "/close":
            self.head(200, "text/plain", None, [("Connection", "close")])
            if send_body:
                self.wfile.write(UNTIL_CLOSE)
            self.close_connection = True
        else:
            self.head(404, "text/html", 0, [keep])
        self.wfile.flush()

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self.reply(True)

    def do_HEAD(self):
        self.reply(False)


class Server4(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # curl resets a connection after a stray CRLF: expected


class Server6(Server4):
    address_family = socket.AF_INET6


def capture(stop, packets):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind(("lo", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    while True:
        r, _, _ = select.select([s], [], [], 0.05)
        if not r:
            if stop.is_set():
                break
            continue
        data, addr = s.recvfrom(262144)
        if addr[2] == PACKET_OUTGOING:
            continue
        packets.append((time.time(), data))
    s.close()


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))  # DLT_EN10MB
        for t, data in packets:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            f.write(data)


def curl(*args):
    # Bodies go to /dev/null (one -o would cover only the first URL).
    subprocess.run(["curl", "-s", "-g", *args], check=True, stdout=subprocess.DEVNULL)


def record(host, out):
    base = "http://%s:%d" % (host, PORT)
    stop = threading.Event()
    packets = []
    t = threading.Thread(target=capture, args=(stop, packets))
    t.start()
    time.sleep(0.2)
    # Connection 1: GET only, bodies by Content-Length, chunked, gzip, none (204, 304, empty).
    curl(*[base + p for p in ["/index.html", "/big.bin", "/chunked.txt", "/empty", "/nocontent",
                              "/notmod", "/gzip.txt", "/style.css"]])
    time.sleep(0.2)
    # Connection 2: HEAD between GETs on one connection (--next keeps the connection).
    curl(base + "/index.html", "--next", "-s", "-I", base + "/big.bin", "--next", "-s",
         base + "/style.css", "--next", "-s", "-I", base + "/index.html", "--next", "-s",
         base + "/chunked.txt")
    time.sleep(0.2)
    # Connection 3: 204 and 304 first, then bodies, then a body that ends with the connection.
    curl(*[base + p for p in ["/nocontent", "/notmod", "/style.css", "/empty", "/index.html",
                              "/close"]])
    time.sleep(0.2)
    # Connection 4: other encodings, then a stray CRLF (curl closes the connection after it).
    curl(*[base + p for p in ["/deflate.txt", "/xgzip.txt", "/index.html", "/extra-crlf"]])
    time.sleep(0.2)
    # Connection 5: a 304 with a Content-Length between bodies.
    curl(*[base + p for p in ["/index.html", "/notmod-cl", "/style.css", "/index.html"]])
    time.sleep(0.2)
    # Connection 6: one tiny response.
    curl(base + "/tiny")
    time.sleep(0.5)
    stop.set()
    t.join()
    write_pcap(out, packets)
    print("%s: %d packets" % (out, len(packets)))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "."
    if os.environ.get("FLOWSCOPE_IN_NETNS") != "1":
        env = dict(os.environ, FLOWSCOPE_IN_NETNS="1")
        os.execvpe("unshare", ["unshare", "-n", sys.executable, os.path.abspath(__file__),
                               outdir], env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    servers = [Server4(("127.0.0.1", PORT), Handler),
               Server6(("::1", PORT), Handler)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    record("127.0.0.1", os.path.join(outdir, "http_keepalive_ipv4.pcap"))
    record("[::1]", os.path.join(outdir, "http_keepalive_ipv6.pcap"))
    for s in servers:
        s.shutdown()


if __name__ == "__main__":
    main()
