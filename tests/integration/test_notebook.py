"""The class notebook runs top to bottom on the default model, offline, with the venv's python
and this checkout's whyword, and shows what each section promises: the results draw themselves as HTML heatmaps."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "demo" / "class_notebook.ipynb"
KERNEL = "whyword-test"


def kernelspec(folder: Path) -> None:
    """A kernel that is this interpreter, importing this checkout, offline."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    env["OMP_NUM_THREADS"] = "1"  # a shared CPU: two spinning threads made generate ~10x slower
    spec_json = {"argv": argv, "display_name": KERNEL, "language": "python", "env": env}
    (spec / "kernel.json").write_text(json.dumps(spec_json))


def text_of(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def html_of(cell) -> str:
    """Every HTML output of a cell: its value's `_repr_html_` or what it displayed."""
    return "\n".join(out.get("data", {}).get("text/html", "") for out in cell.get("outputs", []))


def test_the_stored_notebook_has_no_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_the_class_notebook_executes_and_shows_each_step(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    kernelspec(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    probe = "import sys, whyword; print(sys.executable); print(whyword.__file__)"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    client = NotebookClient(
        nb, timeout=300, kernel_name=KERNEL, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert all(c.execution_count for c in code)
    executable, package = text_of(code[-1]).split()
    assert Path(executable) == Path(sys.executable)
    assert Path(package).parent == ROOT / "whyword"
    by_source = {c.source.splitlines()[0]: text_of(c) for c in code}
    shape = next(t for s, t in by_source.items() if s.startswith("with torch.no_grad"))
    assert "logits shape: (1, 5, 49152)" in shape  # five prompt tokens, SmolLM2's vocabulary
    top = next(t for s, t in by_source.items() if s.startswith("top = ww.predict"))
    assert "Paris" in top.strip().splitlines()[1]  # the first row of the top-k table
    strategies = next(t for s, t in by_source.items() if s.startswith('start = "Once'))
    assert all(name in strategies for name in ("greedy", "sample (T=0.8, seed 1)", "beam"))
    grid = next(t for s, t in by_source.items() if s.startswith("gen = ww.generate(prompt"))
    assert "NaN" in grid and "Paris" in grid  # later tokens out of context; step 1 is Paris
    html = {c.source.splitlines()[0]: html_of(c) for c in code}
    steps = html["matrix"]  # the per-step matrix, in colour: a chip per token per step
    heatmap = next(h for s, h in html.items() if s.startswith("why = ww.explain"))
    words = next(h for s, h in html.items() if s.startswith("why.show("))
    lens = next(h for s, h in html.items() if s.startswith("ww.layers("))
    for markup in (steps, heatmap, words, lens):  # self-contained: nothing runs or is fetched
        assert markup.startswith("<div")
        assert not re.search(r"<(script|link|img|iframe|style)\b|\bsrc=|\bhref=", markup, re.I)
    # 5 prompt + 4 generated tokens; step k sees the 4 + k before its own: 4 + 3 + 2 + 1 unseen
    assert steps.count("· not in context") == 4 + 3 + 2 + 1 and "Saliency" in steps
    tokens = ("␣capital", "␣of", "␣France", "␣is")
    assert all(f">{t}</span>" in heatmap for t in tokens)
    assert "␣Paris" in heatmap and "Saliency" in heatmap and "Integrated gradients" in heatmap
    assert all(f">{t[1:]}</span>" in words for t in tokens) and "word level" in words
    assert "Saliency" not in words and "Predictions: next token" in words
    assert "embeddings" in lens and "␣Paris" in lens
