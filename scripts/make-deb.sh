#!/usr/bin/env bash
# make deb: the Debian package (debian/), built with dpkg-buildpackage from a copy of the tree
# in build/deb/ (dpkg-buildpackage writes beside the source directory), then checked:
# lintian (no errors), and scripts/deb-smoke.sh (install into a scratch root, run as an
# unprivileged user, check it serves). Output: build/deb/flowscope_VERSION_ARCH.deb.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/deb
version=$(dpkg-parsechangelog -S Version)
src="$out/src/flowscope-$version"
rm -rf "$out"
mkdir -p "$src"
# The tracked files and new ones not ignored; not tests/data (the package does not run tests).
git ls-files -z --cached --others --exclude-standard -- . ':!tests/data' \
  | while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$src"
# debhelper gives the build its own HOME; keep ccache's directory, so that the package reuses
# what `make build` compiled (same flags, same paths relative to the tree; debian/rules) and a
# second `make deb` what the first one did. The stats log counts this build's hits and misses
# without touching the cache's shared counters.
stats_log=""
if command -v ccache >/dev/null; then
  CCACHE_DIR=$(ccache -k cache_dir 2>/dev/null || ccache -p | awk '/cache_dir =/{print $NF}')
  stats_log="$PWD/$out/ccache-stats.log"
  export CCACHE_DIR CCACHE_STATSLOG="$stats_log"
fi
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
  dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1 || {
  tail -40 "$out/build.log" >&2
  echo "make deb: dpkg-buildpackage failed; the log is $out/build.log" >&2
  exit 1
}
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
deb=$(ls "$out"/flowscope_*.deb | grep -v dbgsym | head -1)
echo "make deb: $deb built in $(( $(date +%s) - start ))s"
if [[ -n $stats_log && -s $stats_log ]]; then
  ccache --show-log-stats 2>/dev/null | grep -E '^ *(Hits|Misses):' \
    | sed 's/^ */make deb: ccache /' || true
fi
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'

lintian_status=0
lintian --fail-on error --display-info "$out"/flowscope_*.changes > "$out/lintian.txt" 2>&1 \
  || lintian_status=$?
cat "$out/lintian.txt"
if ((lintian_status != 0)); then
  echo "make deb: lintian reports errors" >&2
  exit 1
fi
warnings=$(grep -c '^W:' "$out/lintian.txt" || true)
echo "make deb: lintian: no errors, $warnings warnings"
scripts/deb-smoke.sh "$deb"
