#!/usr/bin/env bash
# F2 bench: `flowscope decode` against tshark on the same flow-export capture, per protocol.
# Data: corpus captures repeated (bench/tools/repeat_pcap.py, deterministic): NetFlow v5
# (Juniper MX80, 29 records/packet), v9 (Cisco ASR1001-X, 25) and IPFIX (Mikrotik, 46 per 3
# packets). Both tools write every record's addresses, ports and octets as text; the bench checks
# that they report the same number of records and the same octet sum before it gives a speed.
# Times are CPU seconds (user + system) of each whole program. Prints one markdown table row per
# protocol. Usage: decode_vs_tshark.sh FLOWSCOPE_BIN WORKDIR
set -euo pipefail
bin=${1:?usage: decode_vs_tshark.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${FLOWSCOPE_CORPUS:-$root/tests/data/corpus}
repeat=${DECODE_BENCH_REPEAT:-20000}
mkdir -p "$work"

if ! command -v tshark >/dev/null; then
  echo "| decode vs tshark | - | skipped: tshark is not installed (scripts/install-deps.sh --bench) |"
  exit 0
fi
if [[ ! -d $corpus ]]; then
  echo "| decode vs tshark | - | skipped: corpus not found at $corpus |"
  exit 0
fi

# CPU seconds (user + system) of a command, which the other core's load does not inflate as it
# does wall time; the command's stdout goes to the file given first.
cpu_seconds() {
  local out=$1
  shift
  /usr/bin/time -f '%U %S' -o "$work/time.txt" "$@" >"$out" 2>/dev/null
  awk '{printf "%.3f", $1 + $2}' "$work/time.txt"
}

bench_one() {
  local name=$1 slug=$2 capture=$3
  local pcap="$work/decode_$slug.pcap"
  # Corpus files may be pcapng; editcap (tshark's package) makes them classic pcap.
  editcap -F pcap "$corpus/$capture" "$work/one_$slug.pcap"
  "$root/bench/tools/repeat_pcap.py" "$pcap" "$repeat" "$work/one_$slug.pcap"
  # Warm the page cache for both.
  cat "$pcap" >/dev/null

  local fs_time ts_time
  fs_time=$(cpu_seconds "$work/fs_$slug.csv" "$bin" decode --format csv \
    --fields src_addr,dst_addr,src_port,dst_port,bytes "$pcap")
  ts_time=$(cpu_seconds "$work/ts_$slug.tsv" tshark -r "$pcap" -n -T fields -E separator=/t \
    -e cflow.srcaddr -e cflow.dstaddr -e cflow.srcport -e cflow.dstport -e cflow.octets)

  # Same answer: record count and octet sum.
  local fs_records fs_octets ts_records ts_octets
  fs_records=$(($(wc -l <"$work/fs_$slug.csv") - 1))
  fs_octets=$(awk -F, 'NR > 1 {s += $5} END {printf "%.0f", s}' "$work/fs_$slug.csv")
  read -r ts_records ts_octets < <(awk -F'\t' '$5 != "" {n = split($5, v, ","); for (i = 1; i <= n; i++) s += v[i]; c += n}
                                    END {printf "%d %.0f\n", c, s}' "$work/ts_$slug.tsv")
  if [[ $fs_records != "$ts_records" || $fs_octets != "$ts_octets" ]]; then
    echo "| decode $name vs tshark | - | ANSWERS DIFFER: flowscope $fs_records records / $fs_octets octets, tshark $ts_records / $ts_octets |"
    return
  fi
  local ratio fs_rate ts_rate
  ratio=$(echo "$ts_time / $fs_time" | bc -l)
  fs_rate=$(echo "$fs_records / $fs_time / 1000000" | bc -l)
  ts_rate=$(echo "$ts_records / $ts_time / 1000000" | bc -l)
  printf '| decode %s vs tshark | %.1fx faster | %d records, same count and octet sum; flowscope %.2f M records/s, tshark %.3f M records/s (CPU time, whole program, text output) |\n' \
    "$name" "$ratio" "$fs_records" "$fs_rate" "$ts_rate"
}

bench_one "NetFlow v5" v5 netflow/ls_netflow5_juniper_mx80.pcap
bench_one "NetFlow v9" v9 netflow/ls_netflow9_cisco_asr1001x.pcap
bench_one "IPFIX" ipfix ipfix/ls_ipfix_mikrotik.pcap
