#!/usr/bin/env bash
# `make run`: the collector on a demo source. Starts `flowscope serve` on an embedded store in a
# temporary directory, feeds it with `flowscope gen flows` (NetFlow v9 to 127.0.0.1 at a modest
# rate), shows the sessions it stores after a few seconds and how to query them, and keeps
# running until Ctrl-C, which stops the generator and the server cleanly (SIGTERM: every open
# session is stored). FLOWSCOPE_DEMO_SECONDS=N stops by itself after N more seconds.
set -euo pipefail
bin=$(realpath "${1:-build/release/bin/flowscope}")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/flowscope-demo.XXXXXX)
data=$work/data
cat >"$work/serve.toml" <<TOML
# flowscope serve configuration of the demo (docs/serve.md)
log_level = "warn"
[ingest]
listen = ["127.0.0.1"]
netflow_port = 0          # any free port; the usual one is 2055
ipfix_port = 0
sflow_port = 0
[stitch]
window = "5s"             # sessions close after 5 s idle, so that they show up quickly
[enrich]
services = "$root/data/services.tsv"
[store]
dir = "$data"
commit_interval = "1s"
[query]
port = 0
[http]
port = 0
TOML
"$bin" user add demo --role admin -p demo -C "$work/serve.toml"
# An API token for the HTTP API and Scrutinizer's report_api (docs/http.md); shown once.
token=$("$bin" user token add demo --label "make run" -C "$work/serve.toml" 2>/dev/null)

"$bin" serve -C "$work/serve.toml" --ready-file "$work/ready.json" &
serve_pid=$!
gen_pid=""
stop() {
  trap - INT TERM EXIT
  if [[ -n $gen_pid ]]; then kill "$gen_pid" 2>/dev/null || true; wait "$gen_pid" 2>/dev/null || true; fi
  kill -TERM "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  echo
  echo "== stopped cleanly; the data stays in $data"
  "$bin" store stats -d "$data" || true
}
trap stop INT TERM EXIT
for _ in $(seq 100); do [[ -f $work/ready.json ]] && break; sleep 0.1; done
port() { python3 -c "import json; print(json.load(open('$work/ready.json'))['$1'])"; }
nf=$(port netflow_port)
qp=$(port query_port)
hp=$(port http_port)

"$bin" gen flows --format v9 --to "127.0.0.1:$nf" --rate 2000 --duration 1h --exporters 2 -q &
gen_pid=$!
echo "== flowscope serve: NetFlow on UDP $nf, queries on TCP $qp; flowscope gen sends 2000 flows/s"
echo "== the dashboard: http://127.0.0.1:$hp/  (user demo, password demo)"
sleep 8
echo
echo "== the 10 largest sessions stored so far (flowscope query over the query protocol)"
"$bin" query -srv "127.0.0.1:$qp" -un demo -up demo -t 1h -c 10 -O total_bytes:desc || true
echo
echo "== top 5 hosts by bytes (flowscope stat)"
"$bin" stat -srv "127.0.0.1:$qp" -un demo -up demo -t 1h -grp host -cnt bytes -n 5 || true
cat <<TXT

== try, while this runs (Ctrl-C stops everything)
  $bin store stats -d $data
  $bin query -srv 127.0.0.1:$qp -un demo -up demo -t 15m 'SRVPORT == 53'
  $bin stat -srv 127.0.0.1:$qp -un demo -up demo -t 15m -grp srvport -cnt sessions
  $bin query -d $data -t 15m -c 5          (the store directly, read-only)
  curl -s http://127.0.0.1:$hp/metrics | grep '^flowscope_'

== the dashboard: http://127.0.0.1:$hp/   log in as demo / demo   (docs/web.md)
$( [[ -n $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hp/" | grep 200) ]] || echo "   (not built: make build with npm and Node >= 20.19 on the PATH builds it)")

== the HTTP API on http://127.0.0.1:$hp (docs/http.md); demo token: $token
  curl -s -H 'Authorization: Bearer $token' 'http://127.0.0.1:$hp/api/v1/stat?group=pair&dir=snd&top=5&window=15m'
  curl -s -H 'Authorization: Bearer $token' 'http://127.0.0.1:$hp/api/v1/sessions?limit=3&format=csv'
  curl -s http://127.0.0.1:$hp/api/v1/openapi.json | python3 -m json.tool | less
  $root/examples/scrutinizer_report.py --url http://127.0.0.1:$hp --token $token --range LastFifteenMinutes
TXT
if [[ -n ${FLOWSCOPE_DEMO_SECONDS:-} ]]; then sleep "$FLOWSCOPE_DEMO_SECONDS"; else wait "$gen_pid"; fi
