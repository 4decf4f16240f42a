#!/usr/bin/env bash
# `make tsan`: runs test binaries of a ThreadSanitizer build, one after the other (TSan's
# shadow memory and the tests' own threads are too much for two at once on 2 cores). A data
# race or lock-order inversion fails the run. Known reports in code we do not build with TSan
# (system libraries) are listed with their reason in tests/tsan.supp.
# Usage: scripts/run-tsan.sh BUILD_DIR TEST_BINARY...
set -euo pipefail
build=${1:?usage: run-tsan.sh BUILD_DIR TEST_BINARY...}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
export FLOWSCOPE_SOURCE_DIR="$root"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp ${TSAN_OPTIONS:-}"
status=0
for t in "$@"; do
  bin=$(find "$build" -name "$t" -type f -perm -u+x | head -1)
  if [[ -z $bin ]]; then
    echo "tsan: $t not built in $build" >&2
    exit 1
  fi
  echo "== tsan: $t" >&2
  if ! "$bin" --gtest_brief=1; then
    echo "tsan: $t FAILED" >&2
    status=1
  fi
done
exit $status
