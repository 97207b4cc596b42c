#!/usr/bin/env bash
# Installs the app and the test tools, lints, checks the packaging, then runs every test
# (browser tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
.venv/bin/ruff check whyword tests app.py demo benchmarks scripts
.venv/bin/python scripts/check_pins.py
bash scripts/wheel_smoke.sh .venv
exec .venv/bin/python -m pytest "$@"
