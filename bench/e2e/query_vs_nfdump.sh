#!/usr/bin/env bash
# F6 bench: `flowscope query`/`stat` against nfdump on the same flows. Data: QUERY_BENCH_FLOWS
# (default 10 million) seeded NetFlow v9 flows from `flowscope gen`, received by nfcapd on
# loopback into one nfcapd file; nfdump reads that file, and `flowscope import` loads it into a
# store with rollup views by client address, server address and protocol. Three questions, each
# checked to give the same answer before it gets a speed:
#   top-25 hosts by bytes      stat -grp host -cnt bytes -n 25   vs  nfdump -s ip/bytes -n 25
#   a filtered raw query       query --nfdump-filter F           vs  nfdump F (same fields)
#   a time series              stat -grp proto --bucket 10s      vs  nfdump | awk (10 s buckets)
# Times are the median wall clock of QUERY_BENCH_RUNS runs (default 5) of each whole program.
# Prints one markdown table row per question. Usage: query_vs_nfdump.sh FLOWSCOPE_BIN WORKDIR
set -euo pipefail
bin=${1:?usage: query_vs_nfdump.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}
flows=${QUERY_BENCH_FLOWS:-10000000}
rate=${QUERY_BENCH_RATE:-200000}
runs=${QUERY_BENCH_RUNS:-5}
port=${QUERY_BENCH_PORT:-29998}
mkdir -p "$work"

if ! command -v nfdump >/dev/null || ! command -v nfcapd >/dev/null; then
  echo "| query vs nfdump | - | skipped: nfdump/nfcapd are not installed |"
  exit 0
fi

# ---- data: gen -> nfcapd (loopback only) -> one nfcapd file -> store --------------------------
nfdir="$work/nfcapd"
rm -rf "$nfdir" "$work/store"
mkdir -p "$nfdir" "$work/store"
nfcapd -b 127.0.0.1 -p "$port" -w "$nfdir" -t 86400 -y -B 33554432 >"$work/nfcapd.log" 2>&1 &
nfcapd_pid=$!
sleep 1
"$bin" gen flows --format v9 --seed 11 --count "$flows" --rate "$rate" \
  --start 2026-11-20T00:00:00Z --to "127.0.0.1:$port" -q
sleep 2
kill "$nfcapd_pid"
wait "$nfcapd_pid" || true
file=$(ls "$nfdir"/nfcapd.2* | head -1)
got=$(nfdump -r "$file" -I | awk '/^Flows:/ {print $2}')
"$bin" store config -d "$work/store" --rollup by_cln=cln_addr --rollup by_srv=srv_addr \
  --rollup by_proto=proto >/dev/null
import_start=$(date +%s%N)
"$bin" import -d "$work/store" "$file" >/dev/null
import_s=$(( ($(date +%s%N) - import_start) / 1000000 ))
window=(-t 2026-11-18..2026-11-22 --no-progress)
export TZ=UTC

# Median wall milliseconds of `runs` runs; stdout of the last run goes to the file given first.
median_ms() {
  local out=$1
  shift
  local times=()
  for ((i = 0; i < runs; i++)); do
    local start end
    start=$(date +%s%N)
    "$@" >"$out"
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

row() {  # name fs_ms nf_ms details
  local ratio
  ratio=$(echo "$3 / ($2 + 0.0001)" | bc -l)
  printf '| %s vs nfdump | %.1fx faster | %s flows; flowscope %d ms, nfdump %d ms (median of %d, wall clock, whole program); %s |\n' \
    "$1" "$ratio" "$got" "$2" "$3" "$runs" "$4"
}

# ---- top-25 hosts by bytes ----------------------------------------------------------------------
fs_ms=$(median_ms "$work/fs_top.csv" "$bin" stat -d "$work/store" "${window[@]}" -grp host \
  -cnt bytes -n 25 --csv)
nf_ms=$(median_ms "$work/nf_top.csv" nfdump -q -N -r "$file" -s ip/bytes -n 25 -o csv)
fs_vals=$(awk -F, '$1 != "" {print $3}' "$work/fs_top.csv" | paste -sd' ')
nf_vals=$(awk -F, 'NR > 1 && NF > 9 {print $10}' "$work/nf_top.csv" | paste -sd' ')
if [[ $fs_vals == "$nf_vals" ]]; then
  row "top-25 hosts by bytes" "$fs_ms" "$nf_ms" "same 25 byte sums in the same order; flowscope answers from its rollups (import took ${import_s} ms)"
else
  echo "| top-25 hosts by bytes vs nfdump | - | ANSWERS DIFFER: flowscope [$fs_vals] nfdump [$nf_vals] |"
fi

# ---- a filtered raw query -----------------------------------------------------------------------
filter='dst port 22 and bytes > 1000'
fs_ms=$(median_ms "$work/fs_q.csv" "$bin" query -d "$work/store" "${window[@]}" \
  --nfdump-filter "$filter" --csv --fields start_time,cln_addr,srv_addr,cln_port,srv_port,proto,cln_bytes)
nf_ms=$(median_ms "$work/nf_q.csv" nfdump -q -N -r "$file" \
  -o 'fmt:%ts,%sa,%da,%sp,%dp,%pr,%ibyt' "$filter")
fs_n=$(wc -l <"$work/fs_q.csv")
nf_n=$(wc -l <"$work/nf_q.csv")
fs_b=$(awk -F, '{s += $7} END {printf "%.0f", s}' "$work/fs_q.csv")
nf_b=$(awk -F, '{s += $7} END {printf "%.0f", s}' "$work/nf_q.csv")
if [[ $fs_n == "$nf_n" && $fs_b == "$nf_b" ]]; then
  row "filtered raw query '$filter'" "$fs_ms" "$nf_ms" "same $fs_n records and byte sum, CSV out"
else
  echo "| filtered raw query vs nfdump | - | ANSWERS DIFFER: flowscope $fs_n records / $fs_b bytes, nfdump $nf_n / $nf_b |"
fi

# ---- a time series: bytes per protocol per 10 s ---------------------------------------------------
fs_ms=$(median_ms "$work/fs_ts.csv" "$bin" stat -d "$work/store" "${window[@]}" -grp proto \
  -cnt bytes --bucket 10s -n 0 --csv)
nf_series() {
  nfdump -q -N -r "$file" -o 'fmt:%ts,%pr,%byt' |
    awk -F, '{split($1, d, /[- :.]/); t = d[4] * 3600 + d[5] * 60 + d[6]; b = t - t % 10;
              gsub(/ /, "", $2); s[b "," $2] += $3} END {for (k in s) printf "%s,%.0f\n", k, s[k]}'
}
nf_ms=$(median_ms "$work/nf_ts.csv" nf_series)
# flowscope's CSV: rank,proto,time,bytes per row and bucket (-n 0: no "others" row).
fs_total=$(awk -F, '$1 != "" {s += $4} END {printf "%.0f", s}' "$work/fs_ts.csv")
nf_total=$(awk -F, '{s += $3} END {printf "%.0f", s}' "$work/nf_ts.csv")
fs_cells=$(awk -F, '$1 != "" && $4 > 0' "$work/fs_ts.csv" | wc -l)
nf_cells=$(wc -l <"$work/nf_ts.csv")
if [[ $fs_total == "$nf_total" && $fs_cells == "$nf_cells" ]]; then
  row "time series (bytes per protocol per 10 s)" "$fs_ms" "$nf_ms" "same $fs_cells non-empty cells and byte total; nfdump's side is nfdump | awk"
else
  echo "| time series vs nfdump | - | ANSWERS DIFFER: flowscope $fs_cells cells / $fs_total bytes, nfdump $nf_cells / $nf_total |"
fi
