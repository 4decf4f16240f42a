#!/usr/bin/env bash
# F5 bench: the embedded store against nfdump's own files, on the same records in the same run.
# Two data sets (STORE_BENCH_SOURCES, default both), each received by nfcapd 1.7 on loopback
# (LZ4, -y); the records nfcapd stored are "the records" (nfcapd may drop a few under load; both
# tools then work on what it kept):
#   - gen: `flowscope gen flows --format v9 --seed 1` (STORE_BENCH_FLOWS records);
#   - softflowd: Debian's softflowd metering a synthetic capture (bench/tools/
#     synth_traffic_pcap.py, STORE_BENCH_CONNECTIONS connections, about two v9 records each)
#     and exporting NetFlow v9: records a real exporter made, not flowscope's generator.
# Rows, per data set:
#   - bytes per record on disk: nfcapd's LZ4 file vs flowscope's segments after `import`;
#   - ingest: turning that nfcapd file into each tool's storage (`nfdump -r F -y -w OUT` vs
#     `flowscope import`), CPU seconds of the whole program and its children;
#   - scan: counting the records with one predicate (server/destination port 22), nfdump over
#     its file vs `flowscope query` over the store (needs F6's query command);
#   - the questions of issue F17, each as flowscope time / nfdump time (wall clock, whole
#     program, runs alternating A B A B, median of STORE_BENCH_RUNS, default 3), on the store
#     without rollups and on one with rollup views (cln_addr; srv_addr; cln_addr,srv_addr;
#     srv_port,proto), each answer checked against nfdump's first.
# Each row checks that both tools saw the same records (or answers) before it gives a ratio.
# Usage: store_vs_nfdump.sh FLOWSCOPE_BIN WORKDIR
set -euo pipefail
bin=${1:?usage: store_vs_nfdump.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}/store
flows=${STORE_BENCH_FLOWS:-2000000}
rate=${STORE_BENCH_RATE:-250000}
connections=${STORE_BENCH_CONNECTIONS:-1000000}
sources=${STORE_BENCH_SOURCES:-gen softflowd}
tools=$(cd "$(dirname "$0")/../tools" && pwd)
root_work=$work

if ! command -v nfcapd >/dev/null || ! command -v nfdump >/dev/null; then
  echo "| store vs nfdump | - | skipped: nfdump is not installed (scripts/install-deps.sh) |"
  exit 0
fi

cpu_seconds() {  # CPU seconds (user + system, children included) of a command; stdout to $1
  local out=$1
  shift
  /usr/bin/time -f '%U %S' -o "$work/time.txt" "$@" >"$out" 2>"$work/stderr.txt"
  awk '{printf "%.3f", $1 + $2}' "$work/time.txt"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# records_from SOURCE: receives the data set with nfcapd and sets $file to its nfcapd file
# (empty, with a row saying why, when the source's tool is missing).
records_from() {
  local source=$1 port nfcapd_pid softflowd
  port=$(free_port)
  mkdir -p "$work/nfcapd"
  nfcapd -y -w "$work/nfcapd" -b 127.0.0.1 -p "$port" -B 8388608 >"$work/nfcapd.log" 2>&1 &
  nfcapd_pid=$!
  sleep 1
  file=""
  case $source in
    gen)
      "$bin" gen flows --format v9 --seed 1 --count "$flows" --rate "$rate" \
        --to "127.0.0.1:$port" -q ;;
    softflowd)
      softflowd=$(command -v softflowd || true)
      [[ -z $softflowd && -x /usr/sbin/softflowd ]] && softflowd=/usr/sbin/softflowd
      if [[ -z $softflowd ]]; then
        echo "| store vs nfdump (softflowd data) | - | skipped: softflowd is not installed (scripts/install-deps.sh --bench) |"
      else
        python3 "$tools/synth_traffic_pcap.py" "$work/traffic.pcap" "$connections" 1
        # Short FIN/UDP timeouts in capture time: flows are exported as the file is read (a
        # steady stream), not all at its end (a burst nfcapd's socket buffer would drop).
        "$softflowd" -r "$work/traffic.pcap" -d -c none -v 9 -n "127.0.0.1:$port" \
          -p "$work/softflowd.pid" -m 1000000 -t tcp.fin=1 -t tcp.rst=1 -t udp=5 \
          -t general=30 -t tcp=60 -t maxlife=600 >"$work/softflowd.log" 2>&1
        rm -f "$work/traffic.pcap"
      fi ;;
  esac
  sleep 1
  kill -TERM "$nfcapd_pid"
  wait "$nfcapd_pid" || true
  if [[ $source == gen || -n ${softflowd:-} ]]; then
    file=$(ls "$work"/nfcapd/nfcapd.2* | head -1)
  fi
}

# compare LABEL: every row below on $file.
compare() {
local label=$1
records=$(nfdump -r "$file" -I | awk '/^Flows:/ {print $2}')
file_bytes=$(stat -c %s "$file")

# Ingest: each tool turns the file into its storage.
nf_ingest=$(cpu_seconds /dev/null nfdump -r "$file" -y -w "$work/rewritten.nfcapd")
fs_ingest=$(cpu_seconds "$work/import.txt" "$bin" import -d "$work/data" "$file")
read -r fs_rows fs_bytes < <("$bin" store stats -d "$work/data" --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
raw = [p for p in j["partitions"] if p["level"] == "raw"]
print(sum(p["rows"] for p in raw) + j["wal"]["rows"], sum(p["bytes"] for p in raw))')

if [[ $fs_rows != "$records" ]]; then
  echo "| store size vs nfdump ($label) | - | ANSWERS DIFFER: nfcapd stored $records records, flowscope import stored $fs_rows ($(grep -m1 -o 'skipped [0-9]* ([^)]*)' "$work/import.txt" || true)) |"
  echo "| store ingest vs nfdump ($label) | - | ANSWERS DIFFER (see the row above) |"
else
  printf '| store size vs nfdump LZ4 (%s) | %.2fx smaller | %d records; nfcapd -y %.1f B/record, flowscope segments %.1f B/record (goal: 3x smaller) |\n' \
    "$label" "$(echo "($file_bytes / $records) / ($fs_bytes / $fs_rows)" | bc -l)" "$records" \
    "$(echo "$file_bytes / $records" | bc -l)" "$(echo "$fs_bytes / $fs_rows" | bc -l)"
  printf '| store ingest vs nfdump, nfcapd file into each store (%s) | %.2fx | %d records; flowscope import %.2f M records/s, nfdump -r -w %.2f M records/s (CPU time incl. children) |\n' \
    "$label" "$(echo "$nf_ingest / $fs_ingest" | bc -l)" "$records" \
    "$(echo "$records / $fs_ingest / 1000000" | bc -l)" "$(echo "$records / $nf_ingest / 1000000" | bc -l)"
fi

# Scan with one predicate: records to port 22.
nf_scan=$(cpu_seconds "$work/nf_scan.txt" nfdump -r "$file" -q -o 'fmt:%sa' 'dst port 22')
nf_hits=$(wc -l <"$work/nf_scan.txt")
fs_scan=$(cpu_seconds "$work/fs_scan.txt" "$bin" query -d "$work/data" -t all --csv --fields cln_addr --no-progress 'SRVPORT == 22')
fs_hits=$(wc -l <"$work/fs_scan.txt")
if [[ $nf_hits != "$fs_hits" ]]; then
  echo "| store scan (one predicate) vs nfdump ($label) | - | ANSWERS DIFFER: nfdump $nf_hits records to port 22, flowscope $fs_hits |"
else
  printf '| store scan (one predicate) vs nfdump (%s) | %.1fx faster | %d of %d records match; flowscope %.0f M rows/s, nfdump %.1f M rows/s (CPU time, whole program) |\n' \
    "$label" "$(echo "$nf_scan / $fs_scan" | bc -l)" "$fs_hits" "$records" \
    "$(echo "$records / $fs_scan / 1000000" | bc -l)" "$(echo "$records / $nf_scan / 1000000" | bc -l)"
fi
STORE_BENCH_LABEL=$label "$tools/store_questions.sh" "$bin" "$work" "$file" "$work/data"
}

for source in $sources; do
  work=$root_work/$source
  rm -rf "$work"
  mkdir -p "$work"
  records_from "$source"
  [[ -n $file ]] || continue
  compare "$source data"
  rm -rf "$work"
done
