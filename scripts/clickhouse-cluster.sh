#!/usr/bin/env bash
# A throwaway ClickHouse cluster on loopback for flowscope's tests and benchmarks (issue 20,
# docs/scale-out.md): N clickhouse-server processes (Debian 12's 18.16) with free ports, a temp
# data dir each, small caches, and a remote_servers cluster "flowscope" listing every shard.
#
#   clickhouse-cluster.sh start DIR N     write DIR/sK/{config,users}.xml, start them, wait for
#                                         /ping; prints the HTTP endpoints "127.0.0.1:P,..."
#   clickhouse-cluster.sh stop DIR [K]    SIGTERM shard K (or all) by the PID in DIR/sK/pid
#   clickhouse-cluster.sh restart DIR K   start shard K again with its config and data
#   clickhouse-cluster.sh urls DIR        the endpoints again
# Exit 77 when clickhouse-server is not installed (scripts/install-deps.sh --clickhouse).
set -euo pipefail
server=${CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}
cmd=${1:?usage: $0 start|stop|restart|urls DIR [N|K]}
dir=${2:?usage: $0 start|stop|restart|urls DIR [N|K]}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ping() {  # $1 port, $2 pid
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$1/ping" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      echo "clickhouse-server on port $1 exited; see its log in $dir" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "clickhouse-server on port $1 did not answer /ping in 30 s; see its log in $dir" >&2
  return 1
}

start_one() {  # $1 shard index
  local d="$dir/s$1" http
  http=$(cat "$d/http_port")
  "$server" --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 &
  echo $! >"$d/pid"
  wait_ping "$http" "$(cat "$d/pid")"
}

urls() {
  local out="" k
  for k in $(seq 0 $(($(cat "$dir/shards") - 1))); do
    out+="${out:+,}127.0.0.1:$(cat "$dir/s$k/http_port")"
  done
  echo "$out"
}

case $cmd in
  start)
    [[ -x $server ]] || { echo "SKIPPED: $server not installed (scripts/install-deps.sh --clickhouse)" >&2; exit 77; }
    n=${3:-1}
    mkdir -p "$dir"
    echo "$n" >"$dir/shards"
    for k in $(seq 0 $((n - 1))); do
      mkdir -p "$dir/s$k"/{data,tmp,user_files,log,format_schemas}
      free_port >"$dir/s$k/tcp_port"
      free_port >"$dir/s$k/http_port"
    done
    shards=""
    for k in $(seq 0 $((n - 1))); do
      shards+="<shard><internal_replication>false</internal_replication><replica><host>127.0.0.1</host><port>$(cat "$dir/s$k/tcp_port")</port></replica></shard>"
    done
    for k in $(seq 0 $((n - 1))); do
      d=$(cd "$dir/s$k" && pwd)
      cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$(cat "$d/tcp_port")</tcp_port>
  <http_port>$(cat "$d/http_port")</http_port>
  <max_connections>64</max_connections>
  <max_concurrent_queries>20</max_concurrent_queries>
  <uncompressed_cache_size>33554432</uncompressed_cache_size>
  <mark_cache_size>33554432</mark_cache_size>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers><flowscope>$shards</flowscope></remote_servers>
  <max_table_size_to_drop>0</max_table_size_to_drop>
  <max_partition_size_to_drop>0</max_partition_size_to_drop>
</yandex>
XML
      cat >"$d/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default>
    <max_memory_usage>2000000000</max_memory_usage>
    <max_threads>2</max_threads>
    <background_pool_size>2</background_pool_size>
    <log_queries>0</log_queries>
  </default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
      start_one "$k"
    done
    urls
    ;;
  stop)
    n=$(cat "$dir/shards")
    for k in ${3:-$(seq 0 $((n - 1)))}; do
      f="$dir/s$k/pid"
      [[ -f $f ]] || continue
      pid=$(cat "$f")
      if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$f"
    done
    ;;
  restart) start_one "${3:?shard index}" ;;
  urls) urls ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
