#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer target of a fuzz build for SECONDS each, starting from its
# seeds (fuzz/corpus/<target>) and former crash inputs (tests/regress/<target>). New corpus
# entries go to build/fuzz/corpus/<target>; crashes to fuzz/artifacts/<target>/, which should
# become regression inputs under tests/regress/<target>/ once fixed.
# Targets run FUZZ_JOBS at a time (default: the number of cores).
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:-600}
shift 2 || true
targets=${*:-$(cat "$build/fuzzers.txt")}
jobs=${FUZZ_JOBS:-$(nproc)}

run_one() {
  local t=$1
  work="$build/corpus/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  seeds=()
  for d in "fuzz/corpus/$t" "tests/regress/$t"; do [[ -d $d ]] && seeds+=("$d"); done
  echo "== $t: ${seconds}s" >&2
  local log="$build/$t.log" result
  if "$build/bin/$t" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
      -artifact_prefix="$artifacts/" "$work" "${seeds[@]}" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log and $artifacts)"
  fi
  local runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  printf '%-24s %12s executions  %s\n' "$t" "$runs" "$result" >"$build/$t.summary"
}

pids=()
for t in $targets; do
  run_one "$t" &
  pids+=($!)
  while (( $(jobs -rp | wc -l) >= jobs )); do wait -n || true; done
done
wait

echo
echo "fuzz summary (${seconds}s per target):"
status=0
for t in $targets; do
  line=$(cat "$build/$t.summary")
  echo "  $line"
  [[ $line == *CRASH* ]] && status=1
done
exit $status
