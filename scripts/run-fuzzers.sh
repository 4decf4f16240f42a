#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer target of a fuzz build for SECONDS each, starting from its
# seeds (fuzz/corpus/<target>) and former crash inputs (tests/regress/<target>). New corpus
# entries go to build/fuzz/corpus/<target>; crashes to fuzz/artifacts/<target>/, which should
# become regression inputs under tests/regress/<target>/ once fixed.
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS}
seconds=${2:-600}
targets=$(cat "$build/fuzzers.txt")
summary=()
status=0
for t in $targets; do
  work="$build/corpus/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  seeds=()
  for d in "fuzz/corpus/$t" "tests/regress/$t"; do [[ -d $d ]] && seeds+=("$d"); done
  echo "== $t: ${seconds}s"
  log="$build/$t.log"
  if "$build/bin/$t" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$work" "${seeds[@]}" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log and $artifacts)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  summary+=("$(printf '%-24s %12s executions  %s' "$t" "$runs" "$result")")
done
echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $status
