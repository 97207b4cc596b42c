#!/usr/bin/env bash
# Installs the app and the test tools, lints, then runs every test (browser tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
.venv/bin/ruff check whyword tests app.py demo benchmarks
exec .venv/bin/python -m pytest "$@"
