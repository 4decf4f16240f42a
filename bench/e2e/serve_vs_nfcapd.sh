#!/usr/bin/env bash
# F7 bench: `flowscope serve` against nfcapd, in the same run, receiving NetFlow v9 from `flowscope
# gen flows` (seed 1, 4 exporters) over loopback at increasing rates. At each step gen sends
# RATE flows/s for STEP_SECONDS; a step holds when every flow sent was received: for serve, the
# records stitched (flowscope_stitch_flows_total, i.e. decoded, queued and stitched; the
# sessions go on to enrichment and the store); for nfcapd, the flows in its files (nfdump -I).
# The last step sends unpaced (--rate 0, the sender's limit). CPU per flow is the daemon's user +
# system time over the step divided by the flows it received. Prints markdown table rows.
# Usage: serve_vs_nfcapd.sh FLOWSCOPE_BIN WORKDIR   (SERVE_BENCH_RATES, SERVE_BENCH_SECONDS)
set -euo pipefail
bin=$(realpath "${1:?usage: serve_vs_nfcapd.sh FLOWSCOPE_BIN WORKDIR}")
work=${2:?}
rates=${SERVE_BENCH_RATES:-"100000 250000 500000 1000000 2000000 0"}
seconds=${SERVE_BENCH_SECONDS:-3}
mkdir -p "$work"
if ! command -v nfcapd >/dev/null; then
  echo "| serve vs nfcapd | - | skipped: nfcapd is not installed (scripts/install-deps.sh) |"
  exit 0
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# gen: N flows in D datagrams (...) in S s: R flows/s, G datagrams/s
send() {
  local port=$1 rate=$2 count
  count=$((rate == 0 ? 3000000 : rate * seconds))
  "$bin" gen flows --format v9 --seed 1 --exporters 4 --count "$count" --rate "$rate" \
    --to "127.0.0.1:$port" 2>&1 >/dev/null | tail -1
}
flows_of() { sed -E 's/^gen: ([0-9]+) flows.*/\1/' <<<"$1"; }
rate_of() { sed -E 's/.*: ([0-9]+) flows\/s.*/\1/' <<<"$1"; }

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
"$bin" --log-level warn serve -c "$work/serve/serve.toml" --ready-file "$work/serve/ready.json" &
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

serve_best=0 serve_best_cpu=0 serve_rows=""
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
nfcapd_best=0 nfcapd_best_cpu=0 nfcapd_rows=""
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
  if ((got == sent)); then
    nfcapd_best=$actual
    nfcapd_best_cpu=$cpu_us
  fi
done

ratio=$(echo "($serve_best + 1) / ($nfcapd_best + 1)" | bc -l)
printf '| serve vs nfcapd: highest zero-loss rate (NetFlow v9, loopback) | %.2fx | serve %d flows/s (%.2f us CPU/flow), nfcapd %d flows/s (%.2f us CPU/flow); steps: %s%s serve socket drops %s, queue drops %s |\n' \
  "$ratio" "$serve_best" "$serve_best_cpu" "$nfcapd_best" "$nfcapd_best_cpu" "$serve_rows" \
  "$nfcapd_rows" "${kdrops:-?}" "${qdrops:-?}"
