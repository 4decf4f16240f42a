#!/usr/bin/env bash
# `make run`: runs flowscope's main job as far as it exists. Today that is the field registry
# and the command line; the collector (`flowscope serve`) joins when it lands (issue F7).
set -euo pipefail
bin=${1:-build/release/bin/flowscope}
echo "== flowscope $("$bin" --version | cut -d' ' -f2): the fields every filter and output uses"
"$bin" fields --kind session --filterable
echo
echo "== next steps"
echo "  $bin --help            the subcommands"
echo "  $bin fields --json     the whole registry, for scripts"
