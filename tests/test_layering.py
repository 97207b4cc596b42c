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


def _whyword_imports(path: Path) -> set[str]:
    """Every whyword module `path` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("whyword"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("whyword"))
    return found


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_circle_inside_the_package():
    """Not even through an import hidden inside a function (attribution ⇄ integrated was)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {
        name: {m for m in _whyword_imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    for name in graph:  # a package's __init__ re-exporting its own modules is no circle
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path, node, nxt]))
            if nxt not in seen:
                visit(nxt, [*path, node])
        seen[node] = 2

    for name in sorted(graph):
        if name not in seen:
            visit(name, [])


def test_the_circle_check_finds_a_circle(tmp_path, monkeypatch):
    """The check above can fail: two modules importing each other (one inside a function)."""
    pkg = tmp_path / "whyword"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from whyword.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from whyword.a import g\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    import pytest

    with pytest.raises(AssertionError, match="import circle"):
        test_no_import_circle_inside_the_package()


def test_the_core_never_imports_the_serve_package():
    """`serve/` imports the core (the dispatcher, the engine), never the reverse; the front
    ends (the page, the command line) may reach it."""
    front = {"ui", "serve"}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in front or rel.name in FRONT_ENDS or rel.name == "cli_evidence.py":
            continue
        bad = {m for m in _whyword_imports(path) if m.startswith("whyword.serve")}
        assert not bad, f"{rel} imports {bad}"
