"""Rendering: pure functions from `Explanation` / `Prediction` to plotly figures, HTML and
export text. No models, no torch code, no gradio: the UI calls these and shows the result."""

from whyword.render.agreement import rank_agreement, spearman
from whyword.render.export import export_csv, export_html, export_json
from whyword.render.figures import method_matrix_figure, topk_figure
from whyword.render.heatmap import heatmap_html
from whyword.render.trust import trust_html

__all__ = [
    "export_csv",
    "export_html",
    "export_json",
    "heatmap_html",
    "method_matrix_figure",
    "rank_agreement",
    "spearman",
    "topk_figure",
    "trust_html",
]
