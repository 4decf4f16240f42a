#!/usr/bin/env bash
# Builds the web dashboard (web/, docs/web.md) into OUT_DIR: `npm ci` from the committed
# package-lock.json when web/node_modules is missing or older than the lock, then `vite build`.
# Run by CMake's `web` target (FLOWSCOPE_BUILD_WEB, on when npm is found).
# Usage: scripts/build-web.sh OUT_DIR
set -euo pipefail
out=${1:?usage: build-web.sh OUT_DIR}
cd "$(dirname "$0")/../web"
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    echo "build-web: npm ci failed (no network to the npm registry?). Configure with" >&2
    echo "build-web:   -DFLOWSCOPE_BUILD_WEB=OFF (CMAKE_ARGS=... make build) to build without the dashboard" >&2
    exit 1
  fi
fi
npx --no-install vite build --logLevel warn --outDir "$out" --emptyOutDir
