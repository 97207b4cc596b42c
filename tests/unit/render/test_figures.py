"""The plotly figures (the top-k bars, the method matrix), and render's purity: it imports no
models, torch or gradio."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from tests.unit.render.hand_built import cand
from whyword.render import colours, method_matrix_figure, topk_figure
from whyword.results.explanation import Prediction

# ---------------------------------------------------------------- top-k figure


def test_topk_bars_colours_ids_and_order(hostile):
    pred = hostile.predictions[0]
    fig = topk_figure(pred, target_id=6, foil_id=7)
    bar = fig.data[0]
    assert list(bar.customdata) == [5, 6, 7]
    assert list(bar.marker.color) == [
        colours.OTHER_COLOUR,
        colours.TARGET_COLOUR,
        colours.FOIL_COLOUR,
    ]
    assert list(bar.x) == pytest.approx([0.6, 0.3, 0.1])
    assert list(fig.layout.yaxis.ticktext)[:2] == ["␣Paris", "␣London"]
    assert fig.layout.yaxis.autorange == "reversed"  # highest on top
    assert list(bar.text) == ["60.0 %", "30.0 % · target", "10.0 % · foil"]
    assert "%{customdata}" in bar.hovertemplate and "%{x:.2%}" in bar.hovertemplate
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"
    assert fig.layout.font.size >= 18
    assert topk_figure(pred).data[0].marker.color == (colours.OTHER_COLOUR,) * 3


def test_topk_ticks_never_pass_100_percent():
    sure = Prediction((cand(1, " a", 0.95), cand(2, " b", 0.05)), "next_token")
    fig = topk_figure(sure)
    assert fig.layout.xaxis.range[1] > 1.0  # room for "95.0 %" beside the bar
    assert list(fig.layout.xaxis.tickvals) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    unsure = Prediction((cand(1, " a", 0.03), cand(2, " b", 0.02)), "next_token")
    assert list(topk_figure(unsure).layout.xaxis.tickvals) == [0, 0.01, 0.02, 0.03]


def test_topk_height_grows_with_k():
    few = Prediction((cand(1, " a", 0.9),), "next_token")
    many = Prediction(tuple(cand(i, f" t{i}", 0.5 / (i + 1)) for i in range(10)), "next_token")
    assert topk_figure(many).layout.height - topk_figure(few).layout.height == 9 * 46


# ---------------------------------------------------------------- method matrix


def test_method_matrix_rows_are_normalised_and_centred(hostile):
    fig = method_matrix_figure(hostile)
    signed, unsigned = fig.data
    assert signed.zmid == 0 and signed.zmin == -1 and signed.zmax == 1
    ixg = list(signed.z[1])  # rows: IG, input×gradient, occlusion (signed first)
    assert math.isnan(ixg[0]) and math.isnan(ixg[-1])  # special tokens left out
    assert ixg[1:-1] == pytest.approx([0.8 / 0.8, -0.4 / 0.8, 0.2 / 0.8, -0.1 / 0.8, 0.75, 0, -1])
    assert unsigned.zmin == 0 and list(fig.layout.yaxis.ticktext)[-1].endswith("(unsigned)")
    assert "+0.8000" in signed.text[1][1]  # hover: the exact raw score
    ticks = list(fig.layout.xaxis.ticktext)
    assert len(set(ticks)) == len(ticks)
    assert "max |score|" in fig.layout.title.text


# ---------------------------------------------------------------- layering


def test_render_imports_no_models_torch_or_gradio():
    banned = (
        "torch",
        "captum",
        "gradio",
        "transformers",
        "whyword.models.load",
        "whyword.tasks.explain",
    )
    root = Path(__file__).resolve().parents[3] / "whyword" / "render"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not any(name == b or name.startswith(b + ".") for b in banned), (path, name)
