"""One-way data flow: the core never imports gradio or plotly; rendering never touches models."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "whyword"
FRONT_ENDS = {"cli.py", "__main__.py"}  # the command: `whyword app` starts the page (lazily)
CORE = [p for p in PACKAGE.glob("*.py") if p.name not in FRONT_ENDS]  # models, targets, ...
RENDER = list((PACKAGE / "render").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_modules_import_no_ui_or_plotting_library():
    for path in CORE:
        bad = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in {"gradio", "plotly"}
            or m.startswith("whyword.ui")
            or m.startswith("whyword.render")
        }
        assert not bad, f"{path.name} imports {bad}"


def test_render_modules_touch_no_model_or_ui():
    forbidden = (
        "torch",
        "transformers",
        "captum",
        "gradio",
        "whyword.models",
        "whyword.explain",
        "whyword.predict",
        "whyword.forward",
        "whyword.ui",
    )
    for path in RENDER:
        bad = {m for m in imported_modules(path) if m.startswith(forbidden)}
        assert not bad, f"render/{path.name} imports {bad}"


def test_only_the_ui_package_imports_gradio():
    for path in PACKAGE.rglob("*.py"):
        if "ui" in path.relative_to(PACKAGE).parts:
            continue
        assert not any(m.split(".")[0] == "gradio" for m in imported_modules(path)), path


def test_importing_the_library_loads_neither_gradio_nor_plotly():
    code = "import sys, whyword; whyword.explain; print(sorted(m for m in ('gradio', 'plotly') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
