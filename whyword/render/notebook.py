"""Results in a notebook: one HTML function per displayable result, registered in
`whyword.results.display.DISPLAYS` when this module is imported (by `whyword/__init__.py`).

Each draws with the renderers the page and the HTML export use (`heatmap_html`, the
transition table, the Evidence view's passages and heatmaps), so a notebook shows what the
page shows, escaped the same way. Self-contained: inline styles, no scripts, no fetches.
Plotly and pandas are not needed (a trust panel or prediction table loads pandas on demand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from whyword.errors import InputError
from whyword.render.dataset import summary_fragment
from whyword.render.evidence import heatmaps_html, passages_html
from whyword.render.heatmap import NORMALISE, heatmap_html
from whyword.render.lens import layers_html
from whyword.render.matrix import matrix_html, method_list
from whyword.render.text import esc, fmt_score, foil_label, target_label
from whyword.render.transitions import generation_html
from whyword.results.display import DISPLAYS
from whyword.results.explanation import Explanation

if TYPE_CHECKING:  # only for hints: render never imports the evidence pipeline
    from whyword.evidence.result import Answer, EvidenceResult

BOX = (
    'style="font-family:system-ui, -apple-system, Segoe UI, Roboto, sans-serif;'
    'color:inherit;max-width:1100px;"'
)
SMALL = "font-size:15px;opacity:0.8;margin:2px 0 6px 0;"


def explanation_html(
    explanation: Explanation,
    level: str = "token",
    methods: str | Sequence[str] | None = None,
    normalise: str = "per_method",
    include_special: bool = False,
    numbers: bool = False,
    predictions: bool = False,
    trust: bool = False,
) -> str:
    """A line saying what is explained, then the page's heatmap (`heatmap_html`), at `level`
    ("token", or "word" / "sentence": scores aggregated as `Explanation.at_level` does), for
    `methods` (default: all); optionally the top-k table and the trust panel of the export."""
    if normalise not in NORMALISE:
        raise InputError(f"normalise must be one of {', '.join(NORMALISE)}, not {normalise!r}.")
    shown = explanation_at(explanation, level)
    chosen = method_list(methods, [a.method for a in explanation.attributions])
    parts = [
        summary_html(explanation, level),
        heatmap_html(shown, chosen, include_special, normalise, numbers),
    ]
    if predictions or trust:
        from whyword.render.export import predictions_html  # pandas: only when asked
        from whyword.render.trust import trust_html

        if predictions:
            parts.append(predictions_html(explanation.predictions))
        if trust:
            parts.append(trust_html(explanation))
    return f"<div {BOX}>{''.join(parts)}</div>"


def explanation_at(explanation: Explanation, level: str) -> Explanation:
    levels = ["token", *(s.level for s in explanation.segmentations)]
    if level not in levels:
        raise InputError(f"This explanation has no {level!r} level; it has: {', '.join(levels)}.")
    return explanation.at_level(level)


def summary_html(explanation: Explanation, level: str) -> str:
    e = explanation
    foil = "" if e.foil is None else f" rather than <b>{esc(foil_label(e))}</b>"
    return (
        f'<div style="font-size:17px;margin:0 0 2px 0;">Why <b>{esc(target_label(e))}</b>'
        f"{foil} after “{esc(e.text)}”</div>"
        f'<div style="{SMALL}">{esc(e.model)} · p(target) {100 * e.target_probability:.2f} % · '
        f"F = {esc(e.formula)} = {esc(fmt_score(e.value))} · {esc(level)} level</div>"
    )


def evidence_html(
    result: EvidenceResult,
    methods: str | Sequence[str] | None = None,
    passages: bool = True,
    answers: bool = True,
) -> str:
    """The Evidence view: what the answer's probability is with and without evidence, the top
    answers both ways, the ranked passages with their bars, and the heatmaps of each path."""
    known = list(dict.fromkeys(a.method for a in result.token_attributions))
    chosen = method_list(methods, known)
    head = (
        f'<div style="font-size:17px;">Why <b>{esc(result.target.token)}</b> after '
        f"“{esc(result.query)}”</div>"
        f'<div style="{SMALL}">{esc(result.model)} · retriever {esc(result.retriever)} · '
        f"corpus {esc(result.corpus)} ({result.corpus_size} passages) · top-{result.k}, "
        f"τ = {result.temperature:g} · p(answer) {result.target.probability:.4f} with evidence, "
        f"{result.target_probability_no_evidence:.4f} without</div>"
    )
    parts = [head]
    if answers:
        parts.append(
            '<div style="display:flex;flex-wrap:wrap;gap:24px;">'
            f"{_answers_table('With evidence', result.marginal_top, result.target.token_id)}"
            f"{_answers_table('No evidence', result.no_evidence_top, result.target.token_id)}"
            "</div>"
        )
    if passages:
        parts.append(passages_html(result))
    parts.append(heatmaps_html(result, chosen))
    return f"<div {BOX}>{''.join(parts)}</div>"


def _answers_table(title: str, answers: Sequence[Answer], target_id: int) -> str:
    cell = "padding:3px 10px;text-align:left;"
    rows = "".join(
        f'<tr style="{"font-weight:700;" if a.token_id == target_id else ""}">'
        f'<td style="{cell}">{rank}</td><td style="{cell}white-space:pre;">{esc(a.token)}</td>'
        f'<td style="{cell}">{100 * a.probability:.2f} %</td></tr>'
        for rank, a in enumerate(answers, start=1)
    )
    return (
        f'<div><div style="font-weight:600;">{esc(title)}</div>'
        f'<table style="border-collapse:collapse;font-size:15px;">{rows}</table></div>'
    )


for _kind, _render in (
    ("explanation", explanation_html),
    ("matrix", matrix_html),
    ("generation", generation_html),
    ("evidence", evidence_html),
    ("layers", layers_html),
    ("dataset_summary", summary_fragment),
):
    DISPLAYS.add(_kind, _render, overwrite=True)  # overwrite: a module reload re-registers
