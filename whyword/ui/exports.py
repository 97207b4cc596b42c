"""Downloads, written on demand: one file when its button is pressed, in a fresh temp folder
that is pruned after an hour (a long-running server must not fill up). No gradio here."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

from whyword import render
from whyword.results.explanation import Explanation
from whyword.results.layers import LayerLens

EXPORT_ROOT = Path(tempfile.gettempdir()) / "whyword-exports"
EXPORT_MAX_AGE = 3600.0  # seconds an export file is kept
KINDS = {"csv": render.export_csv, "json": render.export_json, "html": render.export_html}


def write_export(explanation: Explanation, kind: str) -> str:
    """The explanation as a `kind` file ("csv", "json" or "html"); its path."""
    if kind not in KINDS:
        raise ValueError(f"no export called {kind!r} (known: {', '.join(KINDS)})")
    prune_exports()
    folder = Path(tempfile.mkdtemp(prefix="x-", dir=_export_root()))
    path = folder / f"{export_stem(explanation)}.{kind}"
    path.write_text(KINDS[kind](explanation), encoding="utf-8")
    return str(path)


def write_files(files: dict[str, str]) -> list[str]:
    """Text files by name, written together into one fresh export folder: their paths."""
    prune_exports()
    folder = Path(tempfile.mkdtemp(prefix="x-", dir=_export_root()))
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


def export_stem(explanation: Explanation | LayerLens, most: int = 60) -> str:
    """A download's file name without suffix: `whyword-the-capital-of-france-is-paris`, from
    the text and target in ASCII letters, digits and dashes (safe on every system)."""

    def slug(text: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")

    parts = [part for part in (slug(explanation.text), slug(explanation.target)) if part]
    stem = "-".join(["whyword", *parts])[:most].rstrip("-")
    return stem if parts else "whyword-explanation"


def _export_root() -> Path:
    EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    return EXPORT_ROOT


def prune_exports(max_age: float = EXPORT_MAX_AGE) -> None:
    if not EXPORT_ROOT.is_dir():
        return
    cutoff = time.time() - max_age
    for folder in EXPORT_ROOT.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
