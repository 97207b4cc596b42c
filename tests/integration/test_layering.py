"""One-way data flow, per package: a layer imports only the layers below it; rendering never
touches models; only `ui/` imports gradio and only `serve/` ray; no import circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "whyword"
ROOT_MODULES = {"__init__", "__main__", "_version", "errors", "extras"}
# Bottom to top (docs/architecture.md says why each sits where it does). A module may import
# its own package, the root's errors / extras / _version, and any package listed before it.
LAYERS = (
    "text",  # tokens, offsets, segments: no model
    "runtime",  # settings, bounded cache, keys, options, precision, forward cache
    "results",  # torch-free results, method parameters, the method registry
    "models",  # loading, devices, the model-call layer, encoding, budget, limits
    "attr",  # attribution methods on a Problem
    "engine",  # objectives, F, problems, the one engine, predictions, faithfulness
    "tasks",  # attribute, explain, positions, generate, step-through
    "evidence",  # REALM-style evidence on top of explain
    "render",  # pure: results -> plotly / HTML
    "serve",  # the dispatcher, the scheduler, the Ray deployment and its client
    "ui",  # the Gradio page
    "cli",  # the command
)
# Packages a layer may not import although they sit below it.
FORBIDDEN = {
    "render": {"models", "attr", "engine", "tasks", "serve"},  # render never touches models
}
THIRD_PARTY = {  # who may import which library
    "gradio": {"ui"},
    "ray": {"serve"},
    "plotly": {"render", "ui"},
}


def imported_modules(path: Path, skip_type_checking: bool = True) -> set[str]:
    """Every module `path` imports (in functions too), absolute names."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    if skip_type_checking:  # imports for annotations only are not a dependency at run time
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
                skipped.update(id(n) for n in ast.walk(node))
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "whyword":
                names.update(f"whyword.{a.name}" for a in node.names)
    return names


def layer_of(module: str) -> str | None:
    """The package of `whyword.<package>...`, or None for the root's modules."""
    parts = module.split(".")
    if parts[0] != "whyword" or len(parts) < 2 or parts[1] in ROOT_MODULES:
        return None
    return parts[1] if parts[1] in LAYERS else parts[1]  # an unknown name fails below


def violations(package: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if len(rel.parts) == 1:
            assert rel.stem in ROOT_MODULES, f"whyword/{rel} belongs in a sub-package"
            continue
        own = rel.parts[0]
        assert own in LAYERS, f"whyword/{own}/ is not a known layer: add it to LAYERS"
        below = set(LAYERS[: LAYERS.index(own)]) - FORBIDDEN.get(own, set())
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in THIRD_PARTY and own not in THIRD_PARTY[top]:
                out.append(f"whyword/{rel} imports {module}")
            layer = layer_of(module)
            if rel.parts[0] == "__init__.py" or layer is None or layer == own:
                continue
            if layer not in below:
                out.append(f"whyword/{rel} ({own}) imports {module} ({layer})")
    return out


def test_each_layer_imports_only_the_layers_below_it():
    assert violations() == []


def test_the_rule_fails_on_an_upward_import(tmp_path):
    """Each rule can fail: an engine module importing the page, render touching a model,
    a model module importing gradio, and a flat module outside the layers."""
    pkg = tmp_path / "whyword"
    for name, text in {
        "__init__.py": "",
        "engine/run.py": "from whyword.ui import app\n",
        "render/heatmap.py": "def f():\n    from whyword.models.load import load_model\n",
        "models/load.py": "import gradio\n",
        "text/tokens.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from whyword.models.load import LoadedModel\n",
    }.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    found = violations(pkg)
    assert any("engine/run.py" in v and "whyword.ui" in v for v in found)
    assert any("render/heatmap.py" in v and "whyword.models.load" in v for v in found)
    assert any("models/load.py imports gradio" in v for v in found)
    assert not any("text/tokens.py" in v for v in found)  # annotations only
    (pkg / "stray.py").write_text("")
    with pytest.raises(AssertionError, match="belongs in a sub-package"):
        violations(pkg)


def test_importing_the_library_or_displaying_a_result_loads_neither_gradio_nor_plotly():
    """A notebook shows results right after `import whyword` (their `_repr_html_`), and
    neither that import nor those displays loads the page's libraries."""
    code = (
        "import sys, whyword; whyword.explain\n"
        "from tests.unit.render.hand_built import evidence_result, matrix, worded\n"
        "for r in (worded([1, 2, 3, 4], [1, 2, 3, 4]), matrix([[1.0]]), evidence_result()):\n"
        "    assert r._repr_html_().startswith('<div')\n"
        "print(sorted(m for m in ('gradio', 'plotly') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
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
    with pytest.raises(AssertionError, match="import circle"):
        test_no_import_circle_inside_the_package()


def test_no_module_is_shadowed_by_a_function():
    """`whyword.explain` is the function; no module of the package is named like a public
    name (tests reached such modules through importlib)."""
    import whyword

    modules = {p.stem for p in PACKAGE.rglob("*.py")} | {p.name for p in PACKAGE.iterdir()}
    public = set(whyword.__all__)
    assert not {m for m in modules if m in public and (PACKAGE / f"{m}.py").exists()}
    for name in public:
        assert not (PACKAGE / f"{name}.py").exists() and not (PACKAGE / name).is_dir(), name
