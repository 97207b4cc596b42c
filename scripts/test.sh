#!/usr/bin/env bash
# Installs the app and the test tools, lints, checks the packaging, builds the documentation,
# runs the numerics tests under two other CPU kernel sets, then runs every test (browser tests
# included). Arguments go to that last pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
.venv/bin/ruff check whyword tests app.py demo benchmarks scripts
.venv/bin/python scripts/check_pins.py
bash scripts/wheel_smoke.sh .venv
# The site, into site/ (git-ignored): --strict fails on a broken link or a stale reference.
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet
# torch picks its kernels by the CPU (AVX-512, AVX2, none); two routes to the same numbers may
# differ in the last bits under another set. Run the comparisons under the kernels of a CPU
# without AVX-512 (all of them, ~2.5 min) and of one without AVX (the fast ones, ~1.5 min),
# whatever this machine has (tests/tolerances.py).
numerics() {  # $1: ATEN_CPU_CAPABILITY, $2: the marker expression
  echo "numerics tests ($2) with ATEN_CPU_CAPABILITY=$1"
  ATEN_CPU_CAPABILITY=$1 .venv/bin/python -m pytest -m "$2" -q -p no:cacheprovider
}
numerics avx2 "numerics"
numerics default "numerics and not slow"
exec .venv/bin/python -m pytest "$@"
