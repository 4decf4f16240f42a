#!/usr/bin/env bash
# `make bench`: the micro benchmarks of every module (Google Benchmark) and the end-to-end
# comparisons with the incumbent tools on the same data in the same run. Prints a summary and
# writes bench/results/latest.md. Usage: bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
results="$root/bench/results"
mkdir -p "$results"
out="$results/latest.md"
min_time=${BENCH_MIN_TIME:-0.5}

{
  echo "# flowscope benchmark results"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo
  echo "## Micro benchmarks (Google Benchmark, one core)"
  echo
  echo "| benchmark | time/op | rate |"
  echo "|---|---|---|"
} >"$out"

for b in "$build"/bin/*_bench; do
  [[ -x $b ]] || continue
  name=$(basename "$b")
  echo "== $name" >&2
  json="$results/$name.json"
  "$b" --benchmark_min_time="$min_time" --benchmark_format=console \
       --benchmark_out="$json" --benchmark_out_format=json >&2
  python3 - "$json" >>"$out" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for b in data["benchmarks"]:
    if b.get("run_type") == "aggregate":
        continue
    unit = b.get("time_unit", "ns")
    rate = ""
    if "items_per_second" in b:
        rate = f'{b["items_per_second"]/1e6:,.1f} M items/s'
    if "bytes_per_second" in b:
        rate += (", " if rate else "") + f'{b["bytes_per_second"]/2**30:,.2f} GiB/s'
    print(f'| {b["name"]} | {b["real_time"]:,.1f} {unit} | {rate} |')
PY
done

{
  echo
  echo "## Against the incumbents (same data, same run)"
  echo
  echo "| comparison | flowscope vs incumbent | details |"
  echo "|---|---|---|"
} >>"$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/flowscope-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
for script in "$root"/bench/e2e/*.sh; do
  echo "== $(basename "$script")" >&2
  "$script" "$build/bin/flowscope" "$work" | tee -a "$out" >&2
done

# The Python modules (docs/python.md), when they were built.
if [[ -f "$build/python/flowscope/__init__.py" ]] && /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  echo "== python_flowset_bench.py" >&2
  PYTHONPATH="$build/python" /usr/bin/python3 "$root/bench/python_flowset_bench.py" "$work" |
    tee -a "$out" >&2
fi

echo >&2
cat "$out"
