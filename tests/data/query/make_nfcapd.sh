#!/bin/sh
# Rebuilds v9_5000.nfcapd, the flows of the nfdump differential test (tests/query/
# nfdump_diff_test.cpp): `flowscope gen` sends 5000 seeded NetFlow v9 flows to an nfcapd
# listening on loopback, and nfcapd writes them. Usage: make_nfcapd.sh path/to/flowscope [port]
set -eu
flowscope=$1
port=${2:-29995}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nfcapd -b 127.0.0.1 -p "$port" -w "$work" -t 3600 -y >"$work/nfcapd.log" 2>&1 &
pid=$!
sleep 1
"$flowscope" gen flows --format v9 --seed 6 --count 5000 --rate 5000 --clients 200 \
  --servers 40 --start 2026-11-20T00:00:00Z --to "127.0.0.1:$port" -q
sleep 1
kill "$pid"
wait "$pid" || true
mv "$work"/nfcapd.2* "$here/v9_5000.nfcapd"
nfdump -r "$here/v9_5000.nfcapd" -I | grep '^Flows:'
