#!/usr/bin/env bash
# FlowTraq's command line, as its CLI manual gives it, against a `flowscope serve` this test
# starts (127.0.0.1, free ports, stopped by PID) and feeds with NetFlow v9 from `flowscope gen`:
# the manual's examples run unchanged under the names ftsq, ftstat and ftum (links beside the
# binary, dispatched by argv[0]), and their answers are checked against `flowscope query`/`stat`
# on the same server. Usage: ftsq_test.sh BIN_DIR   (ctest: compat.ftsq)
set -euo pipefail
bin=$(cd "${1:?usage: ftsq_test.sh BIN_DIR}" && pwd)
fs=$bin/flowscope
for link in ftsq ftstat ftum; do
  [[ -x $bin/$link ]] || { echo "FAIL: $bin/$link is missing (the build makes the links)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/flowscope-ftsq.XXXXXX")
serve_pid=""
cleanup() {
  [[ -n $serve_pid ]] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $work/serve.log ]] && tail -20 "$work/serve.log"; exit 1; }
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

cat >"$work/serve.toml" <<'TOML'
[ingest]
listen = ["127.0.0.1"]
netflow_port = 0
ipfix_port = 0
sflow_port = 0
workers = 1
[stitch]
window = "1s"
[store]
dir = "data"
commit_interval = "200ms"
[query]
port = 0
[http]
port = 0
TOML
"$fs" user add -C "$work/serve.toml" admin --role admin -p adminpw >/dev/null
"$fs" user groups add -C "$work/serve.toml" everyone >/dev/null
"$fs" user add -C "$work/serve.toml" alice -g everyone -p alicepw >/dev/null
(cd "$work" && exec "$fs" serve -C serve.toml --ready-file ready.json >serve.log 2>&1) &
serve_pid=$!
for _ in $(seq 300); do [[ -s $work/ready.json ]] && break; sleep 0.1; done
[[ -s $work/ready.json ]] || fail "flowscope serve did not start"
port_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/ready.json" "$1"; }
srv=127.0.0.1:$(port_of query_port)
# With --seed the simulated clock starts at a fixed date; --start puts the flows in the last
# minutes, where the manual's windows ('last hour', 'this hour', '-5h') look.
"$fs" gen flows --format v9 --seed 3 --start "$(date -u -d '-3 min' +%Y-%m-%dT%H:%M:%SZ)" \
  --count 20000 --rate 50000 --to "127.0.0.1:$(port_of netflow_port)" -q
# Stored once the stitch window closed them and the store committed: wait until the count
# stops moving.
last=-1
for _ in $(seq 100); do
  now=$("$fs" query -srv "$srv" -un admin -up adminpw -t 'last hour' --csv --fields srv_port | wc -l)
  [[ $now -gt 0 && $now == "$last" ]] && break
  last=$now
  sleep 0.5
done
[[ $now -gt 0 ]] || fail "no session stored after feeding 20000 flows"
ok "serve stored $now sessions of the generated export"

# ftum: log in and create a session key; the bare key on stderr, nothing on stdout.
"$bin/ftum" -srv "$srv" -un alice -up alicepw -us >"$work/ftum.out" 2>"$work/key"
[[ ! -s $work/ftum.out ]] || fail "ftum -us printed on stdout: $(cat "$work/ftum.out")"
grep -qxE '[0-9a-f]{64}' "$work/key" || fail "ftum -us stderr is not a bare key: $(cat "$work/key")"
key=$(cat "$work/key")
ok "ftum -un -up -us prints the bare session key on stderr"

# ftsq, the manual's example: the last hour, HTTP servers, clients outside a class C, CSV with
# a header line of FlowTraq's keywords.
"$bin/ftsq" -srv "$srv" -us "$key" -t 'last hour' -c+ 'SRVPORT==80 && CLNIP!=123.45.67.0/24' \
  >"$work/ftsq.csv"
head -1 "$work/ftsq.csv" | grep -q '^STARTTIME,ENDTIME,CLNIP,CLNPORT,SRVIP,SRVPORT,PROTO' ||
  fail "ftsq -c+ header: $(head -1 "$work/ftsq.csv")"
rows=$(($(wc -l <"$work/ftsq.csv") - 1))
col=$(head -1 "$work/ftsq.csv" | tr ',' '\n' | grep -nx SRVPORT | cut -d: -f1)
others=$(tail -n +2 "$work/ftsq.csv" | cut -d, -f"$col" | grep -vcx 80 || true)
[[ $rows -gt 0 && $others == 0 ]] || fail "ftsq: $rows rows, $others not to port 80"
want=$("$fs" query -srv "$srv" -un admin -up adminpw -t 'last hour' --csv --fields srv_port \
  'SRVPORT == 80 && CLNIP != 123.45.67.0/24' | wc -l)
[[ $rows == "$want" ]] || fail "ftsq gave $rows sessions, flowscope query $want"
ok "ftsq -t 'last hour' -c+ 'SRVPORT==80 && CLNIP!=...': $rows sessions, as flowscope query"

# ftstat example 1: the top 25 hosts by bytes sent in the last week.
"$bin/ftstat" -srv "$srv" -us "$key" -t 'last week' -grp host -cnt bytes -snd -n 25 -c \
  >"$work/top.csv"
"$fs" stat -srv "$srv" -un admin -up adminpw -t 'last week' -grp host -cnt bytes -snd -n 25 --csv \
  >"$work/top_fs.csv"
n=$(grep -c '^[0-9]' "$work/top.csv" || true)
[[ $n -ge 1 && $n -le 27 ]] || fail "ftstat top 25 hosts: $n lines"
cmp -s "$work/top.csv" "$work/top_fs.csv" || fail "ftstat and flowscope stat differ: $(diff "$work/top.csv" "$work/top_fs.csv" | head -5)"
ok "ftstat -t 'last week' -grp host -cnt bytes -snd -n 25 equals flowscope stat"

# ftstat example 2: the five host pairs that talked over the most ports in the last five hours.
"$bin/ftstat" -srv "$srv" -us "$key" -t '-5h' -grp pair -cnt uports -n 5 -c+ >"$work/pairs.csv"
head -1 "$work/pairs.csv" | grep -q 'CLNIP' || fail "ftstat pairs header: $(head -1 "$work/pairs.csv")"
n=$(($(wc -l <"$work/pairs.csv") - 1))
[[ $n -ge 1 ]] || fail "ftstat -grp pair -cnt uports: no rows"
ok "ftstat -t '-5h' -grp pair -cnt uports -n 5: $n lines"

# The tips: -g with -gx/-gy draws the stacked graph through the server; -w gives a series.
"$bin/ftstat" -srv "$srv" -us "$key" -t 'last hour' -grp srvport -n 5 -g "$work/ports.png" \
  -gx 640 -gy 320 >/dev/null
head -c 8 "$work/ports.png" | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a' ||
  fail "ftstat -g wrote no PNG"
ok "ftstat -g -gx -gy draws a PNG from the remote result"
if "$bin/ftstat" -srv "$srv" -us "$key" -t 'last hour' -grp srvport -g "$work/x.png" -gx 5 \
  >/dev/null 2>"$work/gx.err"; then
  fail "ftstat -gx 5 was accepted"
fi
ok "ftstat -gx out of range is a usage error: $(head -1 "$work/gx.err")"
"$bin/ftstat" -srv "$srv" -us "$key" -t 'this hour' -grp proto -n 3 -w 5m -c >"$work/series.csv"
[[ -s $work/series.csv ]] || fail "ftstat -w gave nothing"
ok "ftstat -t 'this hour' -w 5m gives a series"

# Errors: a bad filter names the place; a wrong password is refused.
set +e
"$bin/ftsq" -srv "$srv" -us "$key" -t 'last hour' 'SRVPORT == ' >/dev/null 2>"$work/bad.err"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q '\^' "$work/bad.err" || fail "bad filter: exit $rc, $(cat "$work/bad.err")"
ok "a bad filter exits 2 with a caret under its place"
if "$bin/ftsq" -srv "$srv" -un alice -up wrong -t 'last hour' >/dev/null 2>"$work/pw.err"; then
  fail "a wrong password was accepted"
fi
ok "a wrong password is refused: $(head -1 "$work/pw.err")"
echo "ftsq_test: all $checks checks passed"
