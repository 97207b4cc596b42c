#!/usr/bin/env bash
# Builds WhyWord's sdist and wheel, installs the wheel into a fresh venv that cannot see this
# repository, and tries it there: import, the command, package data, the page.
# Usage: bash scripts/wheel_smoke.sh [DEPS_VENV]   (default ./.venv, made by scripts/install.sh)
#
# Installing torch and gradio afresh takes minutes, so the fresh venv reaches the dependencies
# already in DEPS_VENV through a .pth file (a folder of links to its site-packages, without
# its own editable WhyWord). The wheel is installed with --no-index and its [app] and
# [default-model] extras: pip must find every declared range satisfied by those tested pins,
# or it fails, since it may not download anything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$(cd "${1:-.venv}" && pwd)
PY="$DEPS/bin/python"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/whyword-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "wheel_smoke: FAILED: $*" >&2; exit 1; }
start=$SECONDS

# 1. sdist, then the wheel built from the sdist (so the sdist must hold everything too).
if ! "$PY" -m build --outdir "$WORK/dist" . >"$WORK/build.log" 2>&1; then
  cat "$WORK/build.log" >&2
  fail "python -m build"
fi
# setuptools' deprecation notices ("SetuptoolsDeprecationWarning: ...") and any other Warning.
if grep -E "[A-Za-z]Warning:|^!!" "$WORK/build.log" >"$WORK/warnings.log"; then
  cat "$WORK/warnings.log" >&2
  fail "the build printed warnings"
fi
WHEEL=$(ls "$WORK"/dist/whyword-*.whl)
SDIST=$(ls "$WORK"/dist/whyword-*.tar.gz)
VERSION=$(basename "$WHEEL" | cut -d- -f2)
echo "built $(basename "$SDIST") and $(basename "$WHEEL") in $((SECONDS - start)) s, no warnings"

# 2. A fresh venv; the dependencies of DEPS reached through links, WhyWord itself left out.
"$PY" -m venv --without-pip "$WORK/venv"
VPY="$WORK/venv/bin/python"
site() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
mkdir "$WORK/deps"
for entry in "$(site "$PY")"/*; do
  case "$(basename "$entry")" in
    whyword* | __editable__* | *.pth) ;;
    *) ln -s "$entry" "$WORK/deps/" ;;
  esac
done
echo "$WORK/deps" >"$(site "$VPY")/_whyword_smoke_deps.pth"

# 3. Install the wheel with its runtime extras; nothing but WhyWord may need installing.
"$PY" -m pip --python "$VPY" install --no-index --no-compile --disable-pip-version-check \
  "$WHEEL[app,default-model]" >"$WORK/install.log" 2>&1 || {
  cat "$WORK/install.log" >&2
  fail "pip install --no-index of the wheel: a declared range is not met by the tested pins"
}
installed=$(grep "^Successfully installed" "$WORK/install.log" || true)
[ "$installed" = "Successfully installed whyword-$VERSION" ] ||
  fail "expected pip to install only whyword-$VERSION, got: ${installed:-nothing}"
echo "$installed (dependencies all found in range, none fetched)"

# 4. Try it, away from the repository.
cd "$WORK"
export HF_HUB_OFFLINE=1
unset PYTHONPATH
BIN="$WORK/venv/bin"
"$VPY" - "$ROOT" "$VERSION" <<'EOF'
import importlib.metadata as md
import sys
from importlib.resources import files
from pathlib import Path

from packaging.requirements import Requirement

import whyword

root, version = Path(sys.argv[1]), sys.argv[2]
where = Path(whyword.__file__).resolve()
assert root not in where.parents, f"imported from the repository: {where}"
assert whyword.__version__ == version == md.version("whyword"), (whyword.__version__, version)
STATIC = ("bridge.js", "style.css", "sidebar_head.html", "update_url.js", "download.js")
for name in (*(f"ui/static/{n}" for n in STATIC), "assets/examples.json"):
    path = files("whyword").joinpath(name)
    assert path.is_file() and path.read_bytes(), f"package data missing: {name}"
# Every declared dependency (core, [app], [default-model]) against what is installed.
for line in md.requires("whyword"):
    req = Requirement(line)
    extras = ("app", "default-model")
    if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras):
        continue
    have = md.version(req.name)
    assert req.specifier.contains(have, prereleases=True), f"{req.name} {have} not in {req}"
    print(f"  {req.name:14} {have:10} satisfies {req.specifier or '(any)'}")
print(f"import whyword: {whyword.__version__} from {where.parent}; static files and examples.json present")
EOF
out=$("$BIN/whyword" --version)
[ "$out" = "whyword $VERSION" ] || fail "whyword --version printed '$out'"
echo "whyword --version: $out"
"$BIN/whyword" --help >/dev/null || fail "whyword --help"
"$VPY" -m whyword --help >/dev/null || fail "python -m whyword --help"
"$BIN/whyword" app --help >/dev/null || fail "whyword app --help"
echo "whyword --help, python -m whyword --help, whyword app --help: exit 0"
"$VPY" -c '
from whyword.ui import build_demo
from whyword.ui.app import EXAMPLES_FILE, load_examples
demo = build_demo()
assert len(load_examples()) > 0, EXAMPLES_FILE
print(f"the page builds ({type(demo).__name__}, {len(load_examples())} examples), no model loaded")
' 2>&1 | grep -v "^\s*$" || fail "building the page"
echo "wheel_smoke: passed in $((SECONDS - start)) s"
