"""Rendering: pure functions from `Explanation` / `Prediction` to plotly figures, HTML and
export text. No models, no torch code, no gradio: the UI calls these and shows the result.

Names are loaded on first use, so that `import whyword` (which imports `render.notebook` to
register how results show in a notebook) loads neither plotly nor pandas."""

from __future__ import annotations

import importlib

_WHERE = {
    "export_csv": "export",
    "export_html": "export",
    "export_json": "export",
    "heatmap_html": "heatmap",
    "method_matrix_figure": "figures",
    "rank_agreement": "agreement",
    "spearman": "agreement",
    "summary_html": "dataset",
    "summary_text": "dataset",
    "topk_figure": "figures",
    "trust_html": "trust",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'whyword.render' has no attribute {name!r}")
    return getattr(importlib.import_module(f"whyword.render.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
