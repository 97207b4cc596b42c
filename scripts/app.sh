#!/usr/bin/env bash
# Installs what the app needs (nothing when .venv already matches the requirement files),
# then serves it on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python app.py "$@"
