#!/usr/bin/env bash
# Installs, from Debian 12's packages, exactly what flowscope's build and tests need.
# Idempotent: packages already present are left alone and nothing is downloaded then.
# Usage: scripts/install-deps.sh [--bench] [--browser] [--clickhouse] [--deb]   (run as root, or
# with sudo available)
#   --browser: also Debian's chromium, for the dashboard's browser tests (web/tests; CI uses it)
#   --clickhouse: clickhouse-server and -client (18.16) for the ClickHouse backend's tests and
#   benchmark (docs/scale-out.md); without it those tests say SKIPPED.
#   --deb: the Debian package build's tools (make deb) and promtool for the install test.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev clang-format
  # libraries
  libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libhowardhinnant-date-dev libdate-tz3
  libpcap-dev libzstd-dev liblz4-dev libxxhash-dev zlib1g-dev libssl-dev
  # nfcapd files compressed with LZO (nfcapd -z) or BZ2 (-j)
  liblzo2-dev libbz2-dev
  # application labels of the probe (optional in CMake; on when present)
  libndpi-dev
  # optional: tcpflow's -e python scanner and the Python modules flowscope and flowtools
  pybind11-dev python3-dev
  # the Python modules (python/, docs/python.md) and their tests; pip for `pip install ./python`
  python3-numpy python3-pandas python3-pytest python3-setuptools python3-pip
  # enrichment: GeoIP (MaxMind DB), reverse DNS, TOML configuration, SNMP interface names
  libmaxminddb-dev libc-ares-dev libtomlplusplus-dev libsnmp-dev
  # the server: password hashes (argon2id), the admin HTTP port
  libsodium-dev libcpp-httplib-dev
  # time zone data for named-zone parsing and its tests
  tzdata
  # PNG graphs of `flowscope stat -g` and tcpflow's netviz report.pdf (optional at build time)
  libcairo2-dev
  # tests and benchmarks; tshark and nfdump are independent peers the tests compare against
  libgtest-dev libgmock-dev googletest libbenchmark-dev python3 tshark nfdump snmpd tcpflow
  # the tcpflow tests render and read netviz's report.pdf (pdftoppm, pdftotext)
  poppler-utils
  # the install test renders the man pages (groff -ww, man -l)
  groff-base man-db
)

# The web dashboard (web/, docs/web.md) is built with npm: Debian's nodejs/npm only when no npm
# is on the PATH already (a newer Node from elsewhere is left alone; Vite needs Node >= 20.19).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

for arg in "$@"; do
  case $arg in
    --bench) packages+=(hyperfine softflowd tcpflow bc) ;;
    --browser) packages+=(chromium) ;;
    --clickhouse) packages+=(clickhouse-server clickhouse-client curl) ;;
    # make deb: the Debian package build and its checks (scripts/make-deb.sh); promtool (in
    # prometheus) for the install test's `promtool check metrics`, which CI runs (.ci/run). Not
    # in the default list: it is a daemon, 96 MB.
    --deb) packages+=(debhelper dpkg-dev fakeroot lintian prometheus) ;;
    *) echo "install-deps: unknown option $arg (--bench, --browser, --clickhouse, --deb)" >&2
       exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this script as root (or install sudo) so it can apt-get install them" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
