#!/usr/bin/env bash
# F19: the module direction (docs/architecture.md) holds in this tree, and the check itself
# catches an arrow against it: an include upward, a link upward, a sibling include and a
# module missing from the table each fail with the file and line.
set -euo pipefail
root=${1:?usage: layering_test.sh REPO_ROOT}
check="$root/scripts/check-layering.py"
python3 "$check" "$root"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
expect_fail() {  # name, expected text
  local out
  if out=$(python3 "$check" "$tmp" 2>&1); then
    echo "FAIL: $1 passed the check"; exit 1
  fi
  if ! grep -qF -- "$2" <<<"$out"; then
    echo "FAIL: $1: expected '$2' in:"; echo "$out"; exit 1
  fi
  echo "ok: $1"
}
mkdir -p "$tmp/src/core" "$tmp/src/server" "$tmp/src/decode" "$tmp/src/capture"
printf '#include "core/a.h"\n' > "$tmp/src/server/s.cpp"
printf '#include <vector>\n' > "$tmp/src/core/a.h"
python3 "$check" "$tmp" >/dev/null || { echo "FAIL: a downward include was refused"; exit 1; }
printf '#include <vector>\n#include "server/s.h"\n' > "$tmp/src/core/a.h"
expect_fail "upward include" "src/core/a.h:2: core includes server"
printf '#include <vector>\n' > "$tmp/src/core/a.h"
printf '#include "capture/c.h"\n' > "$tmp/src/decode/d.cpp"
expect_fail "sibling include" "decode includes capture"
rm "$tmp/src/decode/d.cpp"
printf 'add_library(flowscope_core a.cpp)\ntarget_link_libraries(flowscope_core PUBLIC fmt::fmt\n  flowscope_server)\n' > "$tmp/src/core/CMakeLists.txt"
expect_fail "upward link" "src/core/CMakeLists.txt:2: flowscope_core links flowscope_server"
rm "$tmp/src/core/CMakeLists.txt"
mkdir -p "$tmp/src/query"
printf '#pragma once\n// Helpers of the executor. Internal to flowscope_query.\n' > "$tmp/src/query/detail.h"
printf '#include "query/detail.h"\n' > "$tmp/src/query/q.cpp"
python3 "$check" "$tmp" >/dev/null || { echo "FAIL: a module including its own internal header was refused"; exit 1; }
printf '#include "query/detail.h"\n' > "$tmp/src/server/s2.cpp"
expect_fail "another module's internal header" "src/server/s2.cpp:1: server includes query/detail.h, internal to query"
rm "$tmp/src/server/s2.cpp"
mkdir -p "$tmp/src/newmod"
expect_fail "module without a rank" "src/newmod/: a module without a rank"
