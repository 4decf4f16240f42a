#!/usr/bin/env bash
# F3 bench: `flowscope capture -r` against `softflowd -r` metering the same capture, both
# exporting NetFlow v9 to a local UDP sink, with the same timeouts (idle 60 s, active 1800 s).
# Data: corpus/tcp captures (Ethernet; IPv4 and IPv6; TCP, UDP, ICMP) repeated by
# bench/tools/repeat_pcap.py (deterministic, 1 ms per packet). The bench checks that both tools
# metered the same packets and IP bytes (softflowd's per-protocol statistics against our
# summary) before it gives a speed. The captures are those where the two agree by definition:
# softflowd counts Ethernet padding as bytes (frame length - 14; IPFIX octetDeltaCount, which we
# follow, is the IP packet) and does not open tunnels. Times are CPU seconds (user + system) of each whole program.
# Two rows: the captures repeated as they are (the same few dozen flows again and again), and
# with every repetition given its own addresses (bench/tools/vary_pcap.py: tens of thousands of
# concurrent flows). Prints markdown table rows. Usage: capture_vs_softflowd.sh FLOWSCOPE_BIN WORKDIR
set -euo pipefail
bin=${1:?usage: capture_vs_softflowd.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${FLOWSCOPE_CORPUS:-$root/tests/data/corpus}
repeat=${CAPTURE_BENCH_REPEAT:-3000}
mkdir -p "$work"

softflowd=$(command -v softflowd || true)
[[ -z $softflowd && -x /usr/sbin/softflowd ]] && softflowd=/usr/sbin/softflowd
if [[ -z $softflowd ]]; then
  echo "| capture vs softflowd | - | skipped: softflowd is not installed (scripts/install-deps.sh --bench) |"
  exit 0
fi
if [[ ! -d $corpus/tcp ]]; then
  echo "| capture vs softflowd | - | skipped: corpus not found at $corpus |"
  exit 0
fi

pcap="$work/capture_bench.pcap"
t="$corpus/tcp"
"$root/bench/tools/repeat_pcap.py" "$pcap" "$repeat" "$t/tf_test1.pcap" "$t/tf_bug6.pcap" \
  "$t/tf_udp.pcap" "$t/tf_test3.pcap" "$t/nd_http_ipv6.pcap" \
  "$t/tf_airsnort-linux-browser_page_load.pcap" "$t/nd_windowsupdate_over_http.pcap"
cat "$pcap" >/dev/null  # warm the page cache for both
# Packets in one repetition (vary_pcap.py numbers the repetitions).
"$root/bench/tools/repeat_pcap.py" "$work/capture_bench_one.pcap" 1 "$t/tf_test1.pcap" \
  "$t/tf_bug6.pcap" "$t/tf_udp.pcap" "$t/tf_test3.pcap" "$t/nd_http_ipv6.pcap" \
  "$t/tf_airsnort-linux-browser_page_load.pcap" "$t/nd_windowsupdate_over_http.pcap"
capinfos_packets() {
  python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); import struct
pos, n = 24, 0
while pos + 16 <= len(d):
    pos += 16 + struct.unpack("<I", d[pos + 8:pos + 12])[0]; n += 1
print(n)' "$work/capture_bench_one.pcap"
}

# A sink for both exporters: binds port 0, writes the port, drains until killed.
python3 - "$work/sink_port" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    s.recv(65535)
PY
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s $work/sink_port ]] && break; sleep 0.05; done
port=$(cat "$work/sink_port")

cpu_seconds() {  # CPU seconds of a command; its output goes to the file given first
  local err=$1
  shift
  /usr/bin/time -f '%U %S' -o "$work/time.txt" "$@" >"$err" 2>&1
  awk '{printf "%.3f", $1 + $2}' "$work/time.txt"
}

bench_one() {
  local name=$1 capture=$2
  shift 2  # the rest: extra flowscope options
  local fs_time sf_time fs_packets fs_bytes sf_packets sf_bytes
  fs_time=$(cpu_seconds "$work/fs.err" "$bin" capture -r "$capture" --export "127.0.0.1:$port" \
    --format v9 --idle-timeout 60 --active-timeout 1800 "$@")
  sf_time=$(cpu_seconds "$work/sf.err" "$softflowd" -r "$capture" -d -c none -6 -v 9 \
    -n "127.0.0.1:$port" -p "$work/softflowd.pid" -t general=60 -t tcp=60 -t udp=60 \
    -t icmp=60 -t tcp.rst=60 -t tcp.fin=60 -t maxlife=1800 -m 1000000)
  # Same answer: packets and IP bytes metered.
  read -r fs_packets fs_bytes < <(sed -n 's/.* \([0-9]*\) metered (\([0-9]*\) bytes).*/\1 \2/p' "$work/fs.err")
  read -r sf_packets sf_bytes < <(awk '/Per-protocol statistics/ {on = 1; next}
                                       on && /\):/ {b += $(NF - 3); p += $(NF - 2)}
                                       END {printf "%d %d\n", p, b}' "$work/sf.err")
  if [[ $fs_packets != "$sf_packets" || $fs_bytes != "$sf_bytes" ]]; then
    echo "| capture -r vs softflowd -r, $name | - | ANSWERS DIFFER: flowscope $fs_packets packets / $fs_bytes bytes, softflowd $sf_packets / $sf_bytes |"
    return
  fi
  local ratio fs_rate sf_rate
  ratio=$(echo "$sf_time / $fs_time" | bc -l)
  fs_rate=$(echo "$fs_packets / $fs_time / 1000000" | bc -l)
  sf_rate=$(echo "$sf_packets / $sf_time / 1000000" | bc -l)
  printf '| capture -r vs softflowd -r, %s | %.2fx softflowd'"'"'s speed | %d packets, same packet and IP byte totals; flowscope %.2f M packets/s, softflowd %.2f M packets/s (CPU time, whole program, v9 export to a local sink) |\n' \
    "$name" "$ratio" "$fs_packets" "$fs_rate" "$sf_rate"
}

# softflowd does no application detection: the like-for-like rows run without nDPI, and a last
# row shows what nDPI labels (on by default) cost.
bench_one "same flows repeated, --no-dpi" "$pcap" --no-dpi
# Every repetition with its own addresses: tens of thousands of concurrent flows.
"$root/bench/tools/vary_pcap.py" "$work/capture_bench_many.pcap" "$(capinfos_packets)" "$pcap"
cat "$work/capture_bench_many.pcap" >/dev/null
bench_one "many flows, --no-dpi" "$work/capture_bench_many.pcap" --no-dpi
bench_one "many flows, nDPI labels on" "$work/capture_bench_many.pcap"
