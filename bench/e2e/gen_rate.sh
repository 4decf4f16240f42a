#!/usr/bin/env bash
# F8 bench: how fast `flowscope gen flows` produces flow export. Data: the generator's own model,
# seed 1 (reproducible). Two rows: NetFlow v9 sent unpaced (--rate 0) over UDP to a local Python
# sink that counts what arrives (a sink slower than gen shows up as "received" below "sent"),
# and IPFIX written to a pcap file. Rates are wall time of the whole gen run. No incumbent
# generator is compared (nfdump's nfreplay replays captures, softflowd meters packets): the
# column shows gen's own rate. Prints markdown table rows. Usage: gen_rate.sh FLOWSCOPE_BIN WORKDIR
set -euo pipefail
bin=${1:?usage: gen_rate.sh FLOWSCOPE_BIN WORKDIR}
work=${2:?}
count=${GEN_BENCH_COUNT:-2000000}
mkdir -p "$work"
rm -f "$work/sink_port" "$work/sink_count"

# The sink binds port 0, writes the port it got, counts datagrams until 2 s of silence (or
# 50 s in all), then writes "datagrams bytes".
python3 - "$work/sink_port" "$work/sink_count" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
n = b = 0
end = time.time() + 50
s.settimeout(10)
while time.time() < end:
    try:
        data = s.recv(65535)
    except socket.timeout:
        break
    n += 1
    b += len(data)
    s.settimeout(2)
open(sys.argv[2], "w").write(f"{n} {b}\n")
PY
sink=$!
for _ in $(seq 50); do [[ -s $work/sink_port ]] && break; python3 -c 'import time; time.sleep(0.1)'; done
port=$(cat "$work/sink_port")

summary=$("$bin" gen flows --format v9 --seed 1 --count "$count" --rate 0 --exporters 4 \
  --to "127.0.0.1:$port" 2>&1 >/dev/null | tail -1)
wait "$sink"
read -r got _ <"$work/sink_count"
# gen: N flows in D datagrams (...) to DEST in S s: R flows/s, G datagrams/s
flows=$(sed -E 's/^gen: ([0-9]+) flows.*/\1/' <<<"$summary")
dgrams=$(sed -E 's/.* in ([0-9]+) datagrams.*/\1/' <<<"$summary")
fps=$(sed -E 's/.*: ([0-9]+) flows\/s.*/\1/' <<<"$summary")
dps=$(sed -E 's/.*, ([0-9]+) datagrams\/s.*/\1/' <<<"$summary")
printf '| gen flows v9 to UDP (loopback) | %.2f M flows/s | %d flows in %d datagrams (%d datagrams/s) sent unpaced with sendmmsg; the Python sink received %d |\n' \
  "$(echo "$fps / 1000000" | bc -l)" "$flows" "$dgrams" "$dps" "$got"

summary=$("$bin" gen flows --format ipfix --seed 1 --count "$count" --exporters 4 \
  --pcap "$work/gen_rate.pcap" 2>&1 | tail -1)
fps=$(sed -E 's/.*: ([0-9]+) flows\/s.*/\1/' <<<"$summary")
dps=$(sed -E 's/.*, ([0-9]+) datagrams\/s.*/\1/' <<<"$summary")
printf '| gen flows IPFIX to pcap | %.2f M flows/s | %d flows, %d datagrams/s, file of %d MB |\n' \
  "$(echo "$fps / 1000000" | bc -l)" "$count" "$dps" "$(($(stat -c %s "$work/gen_rate.pcap") / 1000000))"
rm -f "$work/gen_rate.pcap"
