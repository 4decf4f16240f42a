#!/usr/bin/env bash
# ctest's entry to the Python tests: run_pytest.sh PYTHON PACKAGE_DIR TEST_DIR.
# Exits 77 (ctest: SKIPPED) with the reason when pytest or NumPy is not installed.
set -euo pipefail
python=$1 pkgdir=$2 testdir=$3
for mod in pytest numpy; do
  if ! "$python" -c "import $mod" 2>/dev/null; then
    echo "SKIPPED: python3 module $mod is not installed (scripts/install-deps.sh installs it)"
    exit 77
  fi
done
export PYTHONPATH="$pkgdir${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m pytest -q -p no:cacheprovider "$testdir"
