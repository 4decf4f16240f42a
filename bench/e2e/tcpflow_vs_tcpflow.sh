#!/usr/bin/env bash
# F9/F16 bench: flowscope's tcpflow drop-in (bin/flowscope-tcpflow, the lean executable) against
# Debian's tcpflow 1.6.1 on the same capture of many HTTP transfers (bench/tools/gen_http_pcap,
# seeded: thousands of connections, 48 interleaved, ~1% retransmitted and ~1% reordered
# segments, 1 in 8 bodies gzip), plain and with -e http. Both write into fresh directories on the
# same filesystem; every output file (name and md5, report.xml aside) must be identical before a
# ratio is printed. Paired runs: tcpflow and flowscope in turn (who goes first alternates, each
# after a sync), TCPFLOW_BENCH_PAIRS times (default 3),
# each pair giving a speed ratio (tcpflow's time / ours, wall and CPU = user + system) and a peak
# RSS ratio (ours / tcpflow's, /usr/bin/time's maximum resident set); the medians are printed, so
# a machine whose speed drifts between pairs (other load, the page cache, writeback) moves both
# sides of a pair alike. With strace installed, one more run each counts system calls.
# Usage: tcpflow_vs_tcpflow.sh FLOWSCOPE_BIN WORKDIR   (TCPFLOW_BENCH_MB, default 300)
set -euo pipefail
bin=${1:?usage: tcpflow_vs_tcpflow.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}
mb=${TCPFLOW_BENCH_MB:-300}
seed=${TCPFLOW_BENCH_SEED:-1}
pairs=${TCPFLOW_BENCH_PAIRS:-3}
gen="$(dirname "$bin")/gen_http_pcap"
ours=("$(dirname "$bin")/flowscope-tcpflow")
[[ -x ${ours[0]} ]] || ours=("$bin" tcpflow)
mkdir -p "$work"

if [[ ! -x /usr/bin/tcpflow ]]; then
  echo "| tcpflow vs tcpflow 1.6.1 | - | skipped: tcpflow is not installed (scripts/install-deps.sh --bench) |"
  exit 0
fi
if [[ ! -x $gen ]]; then
  echo "| tcpflow vs tcpflow 1.6.1 | - | skipped: $gen not built (cmake --build … --target gen_http_pcap) |"
  exit 0
fi

pcap="$work/tcpflow_http_${mb}mb.pcap"
"$gen" "$pcap" "$mb" "$seed" 2>/dev/null
bytes=$(stat -c %s "$pcap")
cat "$pcap" >/dev/null  # warm the page cache for both

# Runs a command under /usr/bin/time -v; prints "cpu_seconds wall_seconds max_rss_kb".
measure() {
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>&1
  awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} /Maximum resident/ {m = $2}
              /Elapsed \(wall clock\)/ {n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i]}
              END {printf "%.3f %.3f %d\n", u + s, w, m}' "$work/time.txt"
}

manifest() {
  (cd "$1" && find . -type f ! -name report.xml -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum)
}

# System calls of one run (strace -c -f), "-" without strace.
syscalls() {
  command -v strace >/dev/null || { echo "-"; return; }
  local out=$1
  shift
  rm -rf "$out"
  strace -c -f -o "$work/strace.txt" "$@" -o "$out" >/dev/null 2>&1 || true
  rm -rf "$out"
  awk '$NF == "total" {print $4}' "$work/strace.txt"  # % time, seconds, usecs/call, calls
}

median() { LC_ALL=C sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

bench_mode() {
  local name=$1 slug=$2
  shift 2
  local i tf fs ratios="$work/ratios.txt" files
  : >"$ratios"
  for ((i = 1; i <= pairs; i++)); do
    # Each run starts on a settled disk: the other's output deleted and written back (sync,
    # untimed), so neither pays for the other's writeback; who goes first alternates.
    rm -rf "$work/tf_$slug" "$work/fs_$slug"
    sync
    if ((i % 2)); then
      tf=$(measure /usr/bin/tcpflow -r "$pcap" -o "$work/tf_$slug" "$@")
      sync
      fs=$(measure "${ours[@]}" -r "$pcap" -o "$work/fs_$slug" "$@")
    else
      fs=$(measure "${ours[@]}" -r "$pcap" -o "$work/fs_$slug" "$@")
      sync
      tf=$(measure /usr/bin/tcpflow -r "$pcap" -o "$work/tf_$slug" "$@")
    fi
    if ((i == 1)); then
      files=$(manifest "$work/tf_$slug" | tee "$work/tf.md5" | wc -l)
      manifest "$work/fs_$slug" >"$work/fs.md5"
      if ! cmp -s "$work/tf.md5" "$work/fs.md5"; then
        echo "| tcpflow $name vs tcpflow 1.6.1 | - | OUTPUTS DIFFER ($(diff "$work/tf.md5" "$work/fs.md5" | grep -c '^[<>]') lines of the md5 manifests) |"
        rm -rf "$work/tf_$slug" "$work/fs_$slug"
        return
      fi
    fi
    echo "$tf $fs" >>"$ratios"
  done
  rm -rf "$work/tf_$slug" "$work/fs_$slug"
  local wall cpu rss tfw fsw tfc fsc tfr fsr sc_tf sc_fs
  wall=$(awk '{w = $5 > 0 ? $5 : 0.001; print $2 / w}' "$ratios" | median)
  cpu=$(awk '{c = $4 > 0 ? $4 : 0.001; print $1 / c}' "$ratios" | median)
  rss=$(awk '{print $6 / $3}' "$ratios" | median)
  tfc=$(awk '{print $1}' "$ratios" | median); tfw=$(awk '{print $2}' "$ratios" | median)
  tfr=$(awk '{print $3}' "$ratios" | median); fsc=$(awk '{print $4}' "$ratios" | median)
  fsw=$(awk '{print $5}' "$ratios" | median); fsr=$(awk '{print $6}' "$ratios" | median)
  sc_tf=$(syscalls "$work/tf_$slug" /usr/bin/tcpflow -r "$pcap" "$@")
  sc_fs=$(syscalls "$work/fs_$slug" "${ours[@]}" -r "$pcap" "$@")
  awk -v name="$name" -v b="$bytes" -v files="$files" -v pairs="$pairs" -v wall="$wall" -v cpu="$cpu" \
      -v rss="$rss" -v tc="$tfc" -v tw="$tfw" -v tr="$tfr" -v fc="$fsc" -v fw="$fsw" -v fr="$fsr" \
      -v stf="$sc_tf" -v sfs="$sc_fs" 'BEGIN {
    printf "| tcpflow %s vs tcpflow 1.6.1 | %.2fx speed (wall), %.2fx (CPU), %.2fx peak RSS | medians of %d paired runs; %.0f MB pcap, %d identical files; flowscope-tcpflow %.2f s wall, %.2f s CPU, %.1f MB RSS; tcpflow %.2f s wall, %.2f s CPU, %.1f MB RSS; system calls %s vs %s (strace -c); goal 3x speed, RSS <= 1.5x |\n",
      name, wall, cpu, rss, pairs, b / 1e6, files, fw, fc, fr / 1024, tw, tc, tr / 1024, sfs, stf }'
}

bench_mode "plain" plain
bench_mode "-e http" http -e http
rm -f "$pcap" "$work/ratios.txt" "$work/tf.md5" "$work/fs.md5" "$work/strace.txt" "$work/time.txt"
