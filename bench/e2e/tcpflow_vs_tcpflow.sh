#!/usr/bin/env bash
# F9 bench: `flowscope tcpflow` against Debian's tcpflow 1.6.1 on the same capture of many HTTP
# transfers (bench/tools/gen_http_pcap, seeded: thousands of connections, 48 interleaved, ~1%
# retransmitted and ~1% reordered segments, 1 in 8 bodies gzip), plain and with -e http. Both
# write into fresh directories on the same filesystem; the bench checks that every output file
# (name and md5, report.xml aside) is identical before it prints a ratio. Throughput is input
# bytes over CPU seconds, the better of two interleaved runs (user + system: tcpflow's cost is mostly system calls; wall time is
# printed too); peak RSS is /usr/bin/time's maximum resident set.
# Usage: tcpflow_vs_tcpflow.sh FLOWSCOPE_BIN WORKDIR   (TCPFLOW_BENCH_MB, default 300)
set -euo pipefail
bin=${1:?usage: tcpflow_vs_tcpflow.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}
mb=${TCPFLOW_BENCH_MB:-300}
seed=${TCPFLOW_BENCH_SEED:-1}
gen="$(dirname "$bin")/gen_http_pcap"
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

# The better of two runs each, interleaved (tcpflow, flowscope, tcpflow, flowscope) into fresh
# directories, so neither pays alone for the filesystem's state (ext4 inode allocation slows
# down right after many deletions).
best() {
  awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " ");
    printf "%s %s %s\n", (x[1] < y[1] ? x[1] : y[1]), (x[2] < y[2] ? x[2] : y[2]), (x[3] < y[3] ? x[3] : y[3])}'
}

bench_mode() {
  local name=$1 slug=$2
  shift 2
  local tf1 fs1 tf2 fs2 tf fs
  tf1=$(measure /usr/bin/tcpflow -r "$pcap" -o "$work/tf_${slug}_1" "$@")
  fs1=$(measure "$bin" tcpflow -r "$pcap" -o "$work/fs_${slug}_1" "$@")
  tf2=$(measure /usr/bin/tcpflow -r "$pcap" -o "$work/tf_${slug}_2" "$@")
  fs2=$(measure "$bin" tcpflow -r "$pcap" -o "$work/fs_${slug}_2" "$@")
  tf=$(best "$tf1" "$tf2")
  fs=$(best "$fs1" "$fs2")
  local files
  files=$(manifest "$work/tf_${slug}_1" | tee "$work/tf.md5" | wc -l)
  manifest "$work/fs_${slug}_1" >"$work/fs.md5"
  if ! cmp -s "$work/tf.md5" "$work/fs.md5"; then
    echo "| tcpflow $name vs tcpflow 1.6.1 | - | OUTPUTS DIFFER ($(diff "$work/tf.md5" "$work/fs.md5" | grep -c '^[<>]') lines of the md5 manifests) |"
    return
  fi
  read -r tf_cpu tf_wall tf_rss <<<"$tf"
  read -r fs_cpu fs_wall fs_rss <<<"$fs"
  awk -v name="$name" -v b="$bytes" -v files="$files" -v tc="$tf_cpu" -v tw="$tf_wall" -v tr="$tf_rss" \
      -v fc="$fs_cpu" -v fw="$fs_wall" -v fr="$fs_rss" 'BEGIN {
    if (fc <= 0) fc = 0.001; if (fw <= 0) fw = 0.001;
    printf "| tcpflow %s vs tcpflow 1.6.1 | %.1fx throughput, %.2fx peak RSS | %.0f MB pcap, %d identical files; flowscope %.0f MB/s CPU (%.2f s CPU, %.2f s wall, %d MB RSS), tcpflow %.0f MB/s CPU (%.2f s CPU, %.2f s wall, %d MB RSS); wall-time ratio %.1fx |\n",
      name, tc / fc, fr / tr, b / 1e6, files, b / 1e6 / fc, fc, fw, fr / 1024, b / 1e6 / tc, tc, tw, tr / 1024, tw / fw }'
}

bench_mode "plain" plain
bench_mode "-e http" http -e http
rm -rf "$work"/tf_plain_? "$work"/fs_plain_? "$work"/tf_http_? "$work"/fs_http_? "$pcap"
