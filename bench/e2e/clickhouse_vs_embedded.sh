#!/usr/bin/env bash
# The ClickHouse backend vs the embedded store on the same sessions (issue 20,
# docs/scale-out.md): a two-shard cluster of local clickhouse-server processes on this host
# (scripts/clickhouse-cluster.sh), CH_BENCH_SESSIONS sessions (default 10 M) into both, then the
# same stat/query questions through the Distributed table and the embedded store.
# Usage: clickhouse_vs_embedded.sh FLOWSCOPE_BIN WORKDIR; prints markdown table rows.
set -euo pipefail
bin=${1:?usage: clickhouse_vs_embedded.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}/clickhouse
root=$(cd "$(dirname "$0")/../.." && pwd)
compare="$(dirname "$bin")/clickhouse_compare"
sessions=${CH_BENCH_SESSIONS:-10000000}
shards=${CH_BENCH_SHARDS:-2}
if [[ ! -x /usr/sbin/clickhouse-server ]]; then
  echo "| ClickHouse vs embedded | - | skipped: clickhouse-server is not installed (scripts/install-deps.sh --clickhouse) |"
  exit 0
fi
if [[ ! -x $compare ]]; then
  echo "| ClickHouse vs embedded | - | skipped: $compare was not built |"
  exit 0
fi
rm -rf "$work"
mkdir -p "$work"
trap '"$root/scripts/clickhouse-cluster.sh" stop "$work/cluster" >/dev/null 2>&1 || true' EXIT
urls=$("$root/scripts/clickhouse-cluster.sh" start "$work/cluster" "$shards" | tail -1)
"$compare" "$sessions" "clickhouse://$urls/bench" "$work/data"
