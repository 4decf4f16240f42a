#!/usr/bin/env bash
# Makes an nfcapd file the way the test files here were made: starts nfcapd (nfdump 1.7.1) on a
# free loopback port, runs a command that sends NetFlow/IPFIX to 127.0.0.1:$PORT, stops nfcapd
# and moves the file it wrote to OUT.
# Usage: make-nfcapd.sh OUT none|-y|-z|-j COMMAND...   (-y LZ4, -z LZO, -j BZ2)
#   make-nfcapd.sh f -y flowscope gen flows --format v9 --seed 1 --count 500 --rate 20000 \
#       -q --to '127.0.0.1:$PORT'
#   make-nfcapd.sh f -y tests/store/data/make-nfcapd.sh --replay '$PORT' corpus/netflow/ls_*.pcap
# --replay PORT FILE...: sends the UDP payloads of capture files (read with tshark) to
# 127.0.0.1:PORT, in order.
set -euo pipefail
if [[ "$1" == "--replay" ]]; then
  port=$2
  shift 2
  exec python3 - "$port" "$@" <<'PY'
import socket, subprocess, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for f in sys.argv[2:]:
    out = subprocess.run(['tshark', '-r', f, '-T', 'fields', '-e', 'udp.payload', 'udp'],
                         capture_output=True, text=True, check=True).stdout
    for line in out.split():
        s.sendto(bytes.fromhex(line.replace(':', '')), ('127.0.0.1', port))
        time.sleep(0.002)
PY
fi
out=$1 flag=$2
shift 2
dir=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PORT
[[ "$flag" == none ]] && flag=""
nfcapd -b 127.0.0.1 -p "$PORT" -w "$dir" $flag -t 3600 >"$dir.log" 2>&1 &
pid=$!
sleep 0.5
eval "$@"
sleep 0.5
kill -TERM "$pid"
wait "$pid" || true
mv "$(ls "$dir"/nfcapd.2* | head -1)" "$out"
rm -rf "$dir" "$dir.log"
