#!/usr/bin/env python3
"""Records tests/data/ftp/ftp_loopback.pcapng: a real FTP session on loopback.

A minimal FTP server (this script, RFC 959 + RFC 2428 subset) listens on 127.0.0.1:21, and
Python's ftplib client logs in and makes four transfers, one per way of opening a data
connection:
  1. RETR a.bin (100000 bytes) after PASV   -> "227 Entering Passive Mode (127,0,0,1,195,80)"
  2. RETR b.bin (5000 bytes)   after PORT   -> the server connects from port 20
  3. STOR c.bin (20000 bytes)  after EPSV   -> "229 Entering Extended Passive Mode (|||50001|)"
  4. RETR d.bin (7000 bytes)   after EPRT   -> the server connects from port 20
dumpcap records loopback traffic on the ports involved while the client runs and is stopped
by PID. Needs root (ports 20 and 21, capture on lo). Usage: make_ftp_capture.py OUT.pcapng
"""
import ftplib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

FILES = {"a.bin": 100000, "b.bin": 5000, "d.bin": 7000}
PASV_PORTS = iter(range(50000, 50010))


def content(name, size):
    return (name.encode() * (size // len(name) + 1))[:size]


class Session(threading.Thread):
    def __init__(self, conn):
        super().__init__(daemon=True)
        self.conn = conn
        self.passive = None
        self.active = None

    def reply(self, text):
        self.conn.sendall((text + "\r\n").encode())

    def data_connection(self):
        if self.passive is not None:
            conn, _ = self.passive.accept()
            self.passive.close()
            self.passive = None
            return conn
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 20))  # active mode: from port L-1 (RFC 959 §3.2)
        s.connect(self.active)
        return s

    def listen_passive(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", next(PASV_PORTS)))
        s.listen(1)
        self.passive = s
        return s.getsockname()[1]

    def run(self):
        self.reply("220 flowscope test server")
        f = self.conn.makefile("rb")
        for raw in f:
            line = raw.decode().strip()
            cmd, _, arg = line.partition(" ")
            cmd = cmd.upper()
            if cmd == "USER":
                self.reply("331 password please")
            elif cmd == "PASS":
                self.reply("230 logged in")
            elif cmd == "TYPE":
                self.reply("200 type set")
            elif cmd == "PASV":
                port = self.listen_passive()
                self.reply("227 Entering Passive Mode (127,0,0,1,%d,%d)" % (port >> 8, port & 255))
            elif cmd == "EPSV":
                port = self.listen_passive()
                self.reply("229 Entering Extended Passive Mode (|||%d|)" % port)
            elif cmd == "PORT":
                n = [int(x) for x in arg.split(",")]
                self.active = (".".join(map(str, n[:4])), n[4] * 256 + n[5])
                self.reply("200 PORT ok")
            elif cmd == "EPRT":
                _, _, host, port, _ = arg.split(arg[0])
                self.active = (host, int(port))
                self.reply("200 EPRT ok")
            elif cmd == "RETR":
                self.reply("150 opening data connection")
                d = self.data_connection()
                d.sendall(content(arg, FILES[arg]))
                d.close()
                self.reply("226 transfer complete")
            elif cmd == "STOR":
                self.reply("150 ready")
                d = self.data_connection()
                got = 0
                while True:
                    chunk = d.recv(65536)
                    if not chunk:
                        break
                    got += len(chunk)
                d.close()
                self.reply("226 stored %d bytes" % got)
            elif cmd == "QUIT":
                self.reply("221 bye")
                break
            else:
                self.reply("502 not implemented")
        self.conn.close()


class ExtendedFTP(ftplib.FTP):
    """ftplib speaks EPSV/EPRT only over IPv6; these force them over IPv4 when asked."""
    extended = False

    def makepasv(self):
        if not self.extended:
            return super().makepasv()
        return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())

    def sendport(self, host, port):
        if not self.extended:
            return super().sendport(host, port)
        return self.sendeprt(host, port)


def main():
    out = sys.argv[1]
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 21))
    server.listen(1)
    threading.Thread(target=lambda: Session(server.accept()[0]).run(), daemon=True).start()

    cap = subprocess.Popen(["dumpcap", "-q", "-i", "lo", "-w", out, "-f",
                            "tcp port 21 or tcp port 20 or tcp portrange 50000-50009"],
                           stderr=subprocess.PIPE)
    # dumpcap says "File: ..." once it captures.
    while b"File:" not in cap.stderr.readline():
        pass
    ftp = ExtendedFTP()
    ftp.connect("127.0.0.1", 21)
    ftp.login("test", "test")
    ftp.set_pasv(True)
    ftp.retrbinary("RETR a.bin", lambda b: None)
    ftp.set_pasv(False)
    ftp.retrbinary("RETR b.bin", lambda b: None)
    ftp.extended = True
    ftp.set_pasv(True)
    ftp.storbinary("STOR c.bin", __import__("io").BytesIO(content("c.bin", 20000)))
    ftp.set_pasv(False)
    ftp.retrbinary("RETR d.bin", lambda b: None)
    ftp.quit()
    time.sleep(0.5)  # let the last FIN/ACKs reach the capture
    os.kill(cap.pid, signal.SIGTERM)
    cap.wait()


if __name__ == "__main__":
    main()
