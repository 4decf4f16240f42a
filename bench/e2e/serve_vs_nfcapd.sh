#!/usr/bin/env bash
# F7/F18 bench: `flowscope serve` against nfcapd, in the same run, receiving NetFlow v9 over
# loopback at increasing rates (a ladder), from two sources (SERVE_BENCH_SOURCES):
#   - gen: `flowscope gen flows` (seed 1, 4 exporters), each step RATE flows/s
#     (SERVE_BENCH_RATES) for SERVE_BENCH_SECONDS;
#   - softflowd: the export Debian's softflowd made of a synthetic capture
#     (bench/tools/synth_traffic_pcap.py, SERVE_BENCH_CONNECTIONS connections, about 29 flows a
#     datagram), recorded once (bench/tools/record_udp.py) and replayed to both daemons by
#     bin/udp_replay at RATE datagrams/s (SERVE_BENCH_DATAGRAM_RATES, as issue F18's table),
#     each pass after the first moved on in time so that nothing is a duplicate.
# A step holds when every flow sent was received: for serve, the records stitched
# (flowscope_stitch_flows_total, i.e. decoded, logged, queued and stitched; the sessions go on to
# enrichment and the store); for nfcapd, the flows in its files (nfdump -I). The last step (rate
# 0) sends unpaced, at the sender's limit. CPU per flow is the daemon's user + system time over
# the step divided by the flows it received. Prints a row per step (stored share and CPU per
# flow of both) and the highest zero-loss rates.
# Usage: serve_vs_nfcapd.sh FLOWSCOPE_BIN WORKDIR
set -euo pipefail
bin=$(realpath "${1:?usage: serve_vs_nfcapd.sh FLOWSCOPE_BIN WORKDIR}")
root_work=${2:?}/serve_vs_nfcapd
gen_rates=${SERVE_BENCH_RATES:-"100000 250000 500000 1000000 2000000 0"}
datagram_rates=${SERVE_BENCH_DATAGRAM_RATES:-"20000 40000 80000 0"}
seconds=${SERVE_BENCH_SECONDS:-3}
connections=${SERVE_BENCH_CONNECTIONS:-300000}
sources=${SERVE_BENCH_SOURCES:-gen softflowd}
tools=$(cd "$(dirname "$0")/../tools" && pwd)
replay=$(dirname "$bin")/udp_replay
if ! command -v nfcapd >/dev/null; then
  echo "| serve vs nfcapd | - | skipped: nfcapd is not installed (scripts/install-deps.sh) |"
  exit 0
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# send PORT RATE prints one summary line: gen's "gen: N flows in D datagrams (...) in S s:
# R flows/s, G datagrams/s", or udp_replay's "replay: D datagrams (N flows) in S s: G
# datagrams/s, R flows/s".
send() {
  local port=$1 rate=$2 count
  if [[ $source == gen ]]; then
    count=$((rate == 0 ? 3000000 : rate * seconds))
    "$bin" gen flows --format v9 --seed 1 --exporters 4 --count "$count" --rate "$rate" \
      --to "127.0.0.1:$port" 2>&1 >/dev/null | tail -1
  else
    "$replay" "$export" "127.0.0.1:$port" "$rate" "$seconds" 2>&1 | tail -1
  fi
}
flows_of() { sed -E 's/^gen: ([0-9]+) flows.*/\1/; s/^replay: [0-9]+ datagrams \(([0-9]+) flows\).*/\1/' <<<"$1"; }
rate_of() { sed -E 's/.*[^0-9]([0-9]+) flows\/s.*/\1/' <<<"$1"; }
dgram_rate_of() { sed -E 's/.*[^0-9]([0-9]+) datagrams\/s.*/\1/' <<<"$1"; }

# record_export: softflowd's export of the synthetic capture, recorded to $export.
record_export() {
  local softflowd
  softflowd=$(command -v softflowd || true)
  [[ -z $softflowd && -x /usr/sbin/softflowd ]] && softflowd=/usr/sbin/softflowd
  if [[ -z $softflowd || ! -x $replay ]]; then
    echo "| serve vs nfcapd (softflowd data) | - | skipped: needs softflowd (scripts/install-deps.sh --bench) and bin/udp_replay (built with the benchmarks) |"
    return 1
  fi
  python3 "$tools/synth_traffic_pcap.py" "$work/traffic.pcap" "$connections" 1
  # Short FIN/UDP timeouts in capture time: flows leave softflowd as the file is read.
  python3 "$tools/record_udp.py" "$export" "$work/record.port" -- sh -c \
    "exec '$softflowd' -r '$work/traffic.pcap' -d -c none -v 9 -n 127.0.0.1:\$(cat '$work/record.port') \
     -p '$work/softflowd.pid' -m 1000000 -t tcp.fin=1 -t tcp.rst=1 -t udp=5 -t general=30 \
     -t tcp=60 -t maxlife=600 >'$work/softflowd.log' 2>&1" 2>"$work/record.log"
  rm -f "$work/traffic.pcap"
}

ladder() {
local label=$1 rates=$2 step_rows=()

# --- flowscope serve: one daemon for all steps, counters compared per step.
rm -rf "$work/serve"
mkdir -p "$work/serve"
cat >"$work/serve/serve.toml" <<TOML
[ingest]
listen = ["127.0.0.1"]
netflow_port = 0
ipfix_port = 0
sflow_port = 0

[stitch]
window = "5s"
[store]
dir = "data"
[query]
port = 0
[http]
port = 0
TOML
"$bin" --log-level warn serve -C "$work/serve/serve.toml" --ready-file "$work/serve/ready.json" &
serve_pid=$!
trap 'kill -TERM $serve_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s $work/serve/ready.json ]] && break; sleep 0.1; done
nf=$(python3 -c "import json; print(json.load(open('$work/serve/ready.json'))['netflow_port'])")
hp=$(python3 -c "import json; print(json.load(open('$work/serve/ready.json'))['http_port'])")
metric() { curl -s "http://127.0.0.1:$hp/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
settle() {  # waits until the counter stops moving for 1 s
  local last=-1 now
  while :; do
    now=$(metric flowscope_stitch_flows_total)
    [[ $now == "$last" ]] && break
    last=$now
    sleep 1
  done
  echo "$now"
}

serve_best=0 serve_best_cpu=0 serve_rows="" serve_step=()
before=$(settle)
for rate in $rates; do
  t0=$(cpu_ticks "$serve_pid")
  summary=$(send "$nf" "$rate")
  after=$(settle)
  t1=$(cpu_ticks "$serve_pid")
  sent=$(flows_of "$summary")
  got=$((after - before))
  before=$after
  actual=$(rate_of "$summary")
  cpu_us=$(echo "($t1 - $t0) / $hz * 1000000 / ($got + 1)" | bc -l)
  serve_rows+="serve ${actual}/s: $got of $sent; "
  serve_step+=("$got $sent $cpu_us $actual $(dgram_rate_of "$summary")")
  if ((got == sent)); then
    serve_best=$actual
    serve_best_cpu=$cpu_us
  fi
done
kdrops=$(curl -s "http://127.0.0.1:$hp/metrics" | awk '$1 == "flowscope_drops_total{kind=\"socket\"}" {print $2}')
qdrops=$(curl -s "http://127.0.0.1:$hp/metrics" | awk '$1 == "flowscope_drops_total{kind=\"queue\"}" {print $2}')
kill -TERM "$serve_pid"
wait "$serve_pid" || true
trap - EXIT

# --- nfcapd: a fresh daemon and directory per step (its file is complete once it exits).
nfcapd_best=0 nfcapd_best_cpu=0 nfcapd_rows="" nfcapd_step=()
for rate in $rates; do
  dir="$work/nfcapd_$rate"
  rm -rf "$dir"
  mkdir -p "$dir"
  port=$(free_port)
  nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 33554432 >/dev/null 2>&1 &
  pid=$!
  sleep 1
  t0=$(cpu_ticks "$pid")
  summary=$(send "$port" "$rate")
  sleep 2
  t1=$(cpu_ticks "$pid")
  kill -TERM "$pid"
  wait "$pid" || true
  sent=$(flows_of "$summary")
  got=$(nfdump -R "$dir" -I 2>/dev/null | awk '/^Flows:/ {print $2; exit}')
  got=${got:-0}
  actual=$(rate_of "$summary")
  cpu_us=$(echo "($t1 - $t0) / $hz * 1000000 / ($got + 1)" | bc -l)
  nfcapd_rows+="nfcapd ${actual}/s: $got of $sent; "
  nfcapd_step+=("$got $sent $cpu_us $actual $(dgram_rate_of "$summary")")
  if ((got == sent)); then
    nfcapd_best=$actual
    nfcapd_best_cpu=$cpu_us
  fi
done

local i=0 rate
for rate in $rates; do
  read -r sg ss sc sa sd <<<"${serve_step[$i]}"
  read -r ng ns nc na nd <<<"${nfcapd_step[$i]}"
  printf '| serve vs nfcapd (%s), %s: stored share | serve %.3f, nfcapd %.3f | serve %d of %d flows at %d flows/s (%d datagrams/s), %.2f us CPU/flow; nfcapd %d of %d at %d flows/s (%d datagrams/s), %.2f us CPU/flow |\n' \
    "$label" "$([[ $rate == 0 ]] && echo "unpaced" || echo "$rate/s")" \
    "$(echo "$sg / ($ss + 0.000001)" | bc -l)" "$(echo "$ng / ($ns + 0.000001)" | bc -l)" \
    "$sg" "$ss" "$sa" "$sd" "$sc" "$ng" "$ns" "$na" "$nd" "$nc"
  i=$((i + 1))
done
ratio=$(echo "($serve_best + 1) / ($nfcapd_best + 1)" | bc -l)
printf '| serve vs nfcapd (%s): highest zero-loss rate (NetFlow v9, loopback) | %.2fx | serve %d flows/s (%.2f us CPU/flow), nfcapd %d flows/s (%.2f us CPU/flow); steps: %s%s serve socket drops %s, queue drops %s |\n' \
  "$label" "$ratio" "$serve_best" "$serve_best_cpu" "$nfcapd_best" "$nfcapd_best_cpu" "$serve_rows" \
  "$nfcapd_rows" "${kdrops:-?}" "${qdrops:-?}"
}

for source in $sources; do
  work=$root_work/$source
  rm -rf "$work"
  mkdir -p "$work"
  if [[ $source == softflowd ]]; then
    export=$work/export.pcap
    record_export || continue
    ladder "softflowd data" "$datagram_rates"
  else
    ladder "gen data" "$gen_rates"
  fi
  rm -rf "$work"
done
