#!/usr/bin/env bash
# `make run`: runs flowscope's main job as far as it exists. Today: decoding real flow export
# (NetFlow v5/v9, IPFIX, sFlow) from the shared corpus with `flowscope decode`, after the field
# registry those records are written with. The collector (`flowscope serve` on a demo source)
# takes this place when it lands (issue F7).
set -euo pipefail
bin=${1:-build/release/bin/flowscope}
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${FLOWSCOPE_CORPUS:-$root/../shared/corpus}

echo "== flowscope $("$bin" --version | cut -d' ' -f2): the session fields filters and outputs use"
"$bin" fields --kind session --filterable
echo
if [[ -d $corpus ]]; then
  for capture in netflow/ls_netflow9_cisco_asa_1.pcap ipfix/ls_ipfix_openbsd_pflow.pcap \
                 sflow/nd_sflow.pcap; do
    echo "== flowscope decode $corpus/$capture"
    "$bin" decode "$corpus/$capture" | head -n 12
    "$bin" decode --stats "$corpus/$capture"
    echo
  done
else
  echo "(no corpus at $corpus: set FLOWSCOPE_CORPUS to decode sample captures)"
fi
echo "== next steps"
echo "  $bin --help                     the subcommands"
echo "  $bin decode FILE.pcap           decode NetFlow/IPFIX/sFlow export in a capture"
echo "  $bin fields --json              the whole field registry, for scripts"
