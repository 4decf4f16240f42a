#!/usr/bin/env bash
# F10 bench: the same question — the top 25 host pairs by bytes sent over the last hour — asked
# of a `flowscope serve` that ingests `flowscope gen flows` (NetFlow v9, 4 exporters, HTTP_BENCH_FLOWS
# flows/s) through three doors at a fixed request rate, interleaved so that each sees the same
# store: GET /api/v1/stat, Scrutinizer's report_api (POST form), and the 9640 query protocol
# (one logged-in connection, `stat` requests). Latency is measured from each request's
# scheduled start (so a slow answer also delays the next ones: no coordinated omission).
# Ingest drops are the server's socket + queue drop counters over the run. The store has a
# rollup view of host pairs (store config --rollup), as a deployment answering this would, and
# every door asks for the hour up to the last whole minute (a window aligned to the rollup's
# minutes, as Scrutinizer's intervals are), so each answer is the rollup plus the raw tail.
# Prints markdown table rows. Usage: http_api_latency.sh FLOWSCOPE_BIN WORKDIR
#   HTTP_BENCH_FLOWS (100000), HTTP_BENCH_RATE (requests/s per door, 0.1), HTTP_BENCH_SECONDS (60)
# The default rate is below what the engine can answer on a 2-core machine at this ingest rate
# (one answer takes seconds: the hour holds some 300k host pairs), so the latencies are service
# times, not a queue; raise HTTP_BENCH_RATE to see the queue.
set -euo pipefail
bin=$(realpath "${1:?usage: http_api_latency.sh FLOWSCOPE_BIN WORKDIR}")
work=${2:?}
flows=${HTTP_BENCH_FLOWS:-100000}
rate=${HTTP_BENCH_RATE:-0.1}
seconds=${HTTP_BENCH_SECONDS:-60}
dir="$work/http_bench"
rm -rf "$dir"
mkdir -p "$dir/data"
cat >"$dir/serve.toml" <<TOML
log_level = "warn"
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
"$bin" store config -d "$dir/data" --rollup pairs=cln_addr,srv_addr >/dev/null
"$bin" user add bench --role admin -p benchpw -C "$dir/serve.toml" 2>/dev/null
token=$("$bin" user token add bench -C "$dir/serve.toml" 2>/dev/null)
"$bin" serve -C "$dir/serve.toml" --ready-file "$dir/ready.json" 2>"$dir/serve.log" &
serve_pid=$!
gen_pid=""
cleanup() {
  [[ -n $gen_pid ]] && kill "$gen_pid" 2>/dev/null || true
  kill -TERM "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do [[ -s $dir/ready.json ]] && break; sleep 0.1; done
port() { python3 -c "import json; print(json.load(open('$dir/ready.json'))['$1'])"; }
nf=$(port netflow_port)
qp=$(port query_port)
hp=$(port http_port)
"$bin" gen flows --format v9 --seed 1 --exporters 4 --rate "$flows" \
  --start "$(date +%s)" --duration "$((seconds + 75))s" --to "127.0.0.1:$nf" -q 2>"$dir/gen.log" &
gen_pid=$!
sleep 65  # a whole minute of data before the first question (the window ends on a minute)

python3 - "$hp" "$qp" "$token" "$rate" "$seconds" "$flows" <<'PY'
import http.client, json, socket, struct, sys, time, urllib.parse
hp, qp, token, rate, seconds, flows = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]

def metrics():
    c = http.client.HTTPConnection("127.0.0.1", int(hp), timeout=30)
    c.request("GET", "/metrics")
    out = {}
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith("flowscope_drops_total{"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
        if line.startswith("flowscope_stitch_flows_total "):
            out["stitched"] = float(line.split()[1])
    return out

def hour():  # the last hour up to the last whole minute, epoch seconds
    end = int(time.time()) // 60 * 60
    return end - 3600, end

class Http:  # one keep-alive connection, reopened when the server closed it
    def __init__(self): self.c = None
    def request(self, method, target, body=None, headers={}):
        for attempt in (0, 1):
            if self.c is None: self.c = http.client.HTTPConnection("127.0.0.1", int(hp), timeout=120)
            try:
                self.c.request(method, target, body=body, headers=headers)
                return self.c.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.c.close(); self.c = None
                if attempt: raise

http_conn = Http()
def api_stat():
    a, b = hour()
    r = http_conn.request("GET", "/api/v1/stat?group=pair&count=bytes&dir=snd&top=25&from=%d&to=%d"
                          % (a, b), headers={"Authorization": "Bearer " + token})
    body = r.read()
    assert r.status == 200, body[:200]
    body = json.loads(body)
    source[0] = body["source"]
    return len(body["rows"])

scrut_conn = Http()
wanted = json.dumps({"inbound": {"table": {"query_limit": {"offset": 0, "max_num_rows": 25}}}})
def report_api():
    a, b = hour()
    rpt = json.dumps({"reportTypeLang": "host2host", "reportDirections": {"selected": "inbound"},
                      "times": {"dateRange": "Custom", "start": a, "end": b},
                      "orderBy": "sum_octetdeltacount", "filters": {"sdfDips_0": "in_GROUP_ALL"},
                      "dataGranularity": {"selected": "auto"}})
    form = urllib.parse.urlencode({"rm": "report_api", "action": "get", "rpt_json": rpt,
                                   "data_requested": wanted, "authToken": token})
    r = scrut_conn.request("POST", "/fcgi/scrut_fcgi.fcgi", body=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    body = json.loads(r.read())
    assert "err" not in body, body
    source[1] = body["report_object"]["dataGranularity"].get("source", "")
    return len(body["report"]["table"]["inbound"]["rows"])

# The 9640 protocol (docs/protocol.md): u32 length | u8 type | JSON.
sock = socket.create_connection(("127.0.0.1", qp), timeout=60)
def send(t, obj):
    payload = json.dumps(obj).encode()
    sock.sendall(struct.pack(">IB", len(payload) + 1, t) + payload)
def recv_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk: raise EOFError
        buf += chunk
    return buf
def recv():
    n, t = struct.unpack(">IB", recv_exact(5))
    return t, json.loads(recv_exact(n - 1))
send(1, {"magic": "flowscope", "version": 1, "client": "bench"}); recv()
send(3, {"user": "bench", "password": "benchpw", "want_key": False})
t, body = recv(); assert t == 4, body
req_id = 0
def protocol_stat():
    global req_id
    req_id += 1
    a, b = hour()
    spec = {"group_by": ["cln_addr", "srv_addr"], "count": "bytes", "side": "send", "top": 25,
            "begin_ms": a * 1000, "end_ms": b * 1000}
    send(5, {"id": req_id, "kind": "stat", "spec": spec, "output": "json"})
    text = ""
    while True:
        t, body = recv()
        if t == 7: text += body.get("text", "")
        if t == 8:
            source[2] = body.get("source", "")
            break
        if t == 9: raise RuntimeError(body)
    return sum(1 for l in text.splitlines() if l and '"row"' not in l)

source = ["", "", ""]
doors = [("HTTP GET /api/v1/stat", api_stat), ("Scrutinizer report_api (POST form)", report_api),
         ("query protocol 9640 stat", protocol_stat)]
lat = {name: [] for name, _ in doors}
service = {name: [] for name, _ in doors}
rows = {name: 0 for name, _ in doors}
before = metrics()
start = time.monotonic()
n = int(rate * seconds)
for i in range(n):
    for k, (name, fn) in enumerate(doors):
        scheduled = start + i / rate + k / (rate * len(doors))
        delay = scheduled - time.monotonic()
        if delay > 0: time.sleep(delay)
        t0 = time.monotonic()
        rows[name] = fn()
        lat[name].append((time.monotonic() - scheduled) * 1000)
        service[name].append((time.monotonic() - t0) * 1000)
        print("%s: %.0f ms (service %.0f ms)" % (name, lat[name][-1], (time.monotonic() - t0) * 1000),
              file=sys.stderr)
after = metrics()
drops = sum(v - before.get(k, 0) for k, v in after.items() if k.startswith("flowscope_drops_total"))
stitched = after.get("stitched", 0) - before.get("stitched", 0)
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
if min(rows.values()) == 0:  # an empty answer would make the latencies meaningless
    sys.exit("http_api_latency: a door answered no rows: %s" % rows)
base = pct(service["query protocol 9640 stat"], 50)
for name, _ in doors:
    p50, p99 = pct(lat[name], 50), pct(lat[name], 99)
    s50, s99 = pct(service[name], 50), pct(service[name], 99)
    ratio = "" if name.startswith("query protocol") else f", {s50 / base:.2f}x the protocol's"
    goal = "met" if p99 < 50 else "not met"
    k = [d[0] for d in doors].index(name)
    print(f"| top-25 host pairs (1h), {name}, {rate:g} req/s while ingesting {flows} flows/s | "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal p99 < 50 ms: {goal}); service time p50 "
          f"{s50:.1f} ms{ratio}, p99 {s99:.1f} ms | "
          f"{len(lat[name])} requests, {rows[name]} rows, answered from {source[k]}; ingest drops "
          f"during the run: {int(drops)} (socket + queue), {int(stitched)} flows stitched |")
PY
