#!/usr/bin/env bash
# F5 bench: `flowscope import` of an nfcapd file (nfdump 1.7, LZ4) with the native reader,
# against the old path through `nfdump -o csv` (`--format nfdump`) and against nfdump's own read
# and rewrite of the same file (`nfdump -r FILE -y -w OUT`).
# Data: IMPORT_BENCH_FLOWS (default 2,000,000) NetFlow v9 flows of `flowscope gen flows --seed 1`
# sent on loopback to nfcapd -y. The bench checks that the three runs hold the same number of
# records and the same byte sum (flowscope's import summary; `nfdump -I` of the rewritten file)
# before it gives a speed. Times are CPU seconds (user + system, children included) of each
# whole program. Prints markdown table rows. Usage: import_vs_nfdump.sh FLOWSCOPE_BIN WORKDIR
set -euo pipefail
bin=${1:?usage: import_vs_nfdump.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}
flows=${IMPORT_BENCH_FLOWS:-2000000}
mkdir -p "$work"

if ! command -v nfcapd >/dev/null || ! command -v nfdump >/dev/null; then
  echo "| import nfcapd vs nfdump | - | skipped: nfdump is not installed (scripts/install-deps.sh) |"
  exit 0
fi

cpu_seconds() {
  local out=$1
  shift
  /usr/bin/time -f '%U %S' -o "$work/time.txt" "$@" >"$out" 2>/dev/null
  awk '{printf "%.3f", $1 + $2}' "$work/time.txt"
}

# The nfcapd file: nfcapd on a free loopback port, stopped by its PID once gen is done.
capdir="$work/nfcapd"
rm -rf "$capdir"
mkdir -p "$capdir"
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nfcapd -b 127.0.0.1 -p "$port" -w "$capdir" -y -t 3600 -B 8000000 >"$work/nfcapd.log" 2>&1 &
capd=$!
sleep 0.5
"$bin" gen flows --format v9 --seed 1 --count "$flows" --rate 200000 -q --to "127.0.0.1:$port"
sleep 1
kill -TERM "$capd"
wait "$capd" || true
file=$(ls "$capdir"/nfcapd.2* | head -1)
cat "$file" >/dev/null  # page cache

native_dir="$work/store_native"
csv_dir="$work/store_csv"
rm -rf "$native_dir" "$csv_dir" "$work/rewritten"
native_time=$(cpu_seconds "$work/native.out" "$bin" import -d "$native_dir" "$file")
csv_time=$(cpu_seconds "$work/csv.out" "$bin" import -d "$csv_dir" --format nfdump "$file")
nfdump_time=$(cpu_seconds "$work/nfdump.out" nfdump -r "$file" -y -w "$work/rewritten")

summary() {  # records bytes, from an import summary
  awk '/imported/ {r = $3} /traffic:/ {b = $4} END {printf "%d %d\n", r, b}' "$1"
}
read -r native_records native_bytes < <(summary "$work/native.out")
read -r csv_records csv_bytes < <(summary "$work/csv.out")
read -r nf_records nf_bytes < <(nfdump -r "$work/rewritten" -I |
  awk -F': ' '$1 == "Flows" {f = $2} $1 == "Bytes" {b = $2} END {printf "%d %d\n", f, b}')
size=$(stat -c %s "$file")

if [[ $native_records != "$nf_records" || $native_bytes != "$nf_bytes" ]]; then
  echo "| import nfcapd vs nfdump -r -w | - | ANSWERS DIFFER: flowscope $native_records records / $native_bytes bytes, nfdump $nf_records / $nf_bytes |"
else
  printf '| import nfcapd (native) vs nfdump -r -y -w | %.2fx the speed | %d flows (%.1f MB LZ4 nfcapd), same count and byte sum; flowscope import %.2f M records/s into the store, nfdump read+rewrite %.2f M records/s (CPU time, whole program) |\n' \
    "$(echo "$nfdump_time / $native_time" | bc -l)" "$native_records" \
    "$(echo "$size / 1000000" | bc -l)" \
    "$(echo "$native_records / $native_time / 1000000" | bc -l)" \
    "$(echo "$nf_records / $nfdump_time / 1000000" | bc -l)"
fi
if [[ $native_records != "$csv_records" || $native_bytes != "$csv_bytes" ]]; then
  echo "| import nfcapd native vs through nfdump CSV | - | ANSWERS DIFFER: native $native_records records / $native_bytes bytes, through nfdump $csv_records / $csv_bytes |"
else
  printf '| import nfcapd native vs through nfdump CSV (old path) | %.1fx faster | %d flows, same count and byte sum; native %.2f M records/s, nfdump -o csv + CSV import %.2f M records/s (CPU time incl. nfdump) |\n' \
    "$(echo "$csv_time / $native_time" | bc -l)" "$native_records" \
    "$(echo "$native_records / $native_time / 1000000" | bc -l)" \
    "$(echo "$csv_records / $csv_time / 1000000" | bc -l)"
fi
