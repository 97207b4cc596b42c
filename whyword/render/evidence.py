"""The Evidence view's pictures: ranked passages with bars, the two top-k charts, and one
heatmap row per (passage, path). Pure: an `EvidenceResult` in, plotly / escaped HTML out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from whyword.render.heatmap import TOKEN_STYLE, cell_colours
from whyword.render.text import esc, fmt_score
from whyword.results.explanation import Candidate, Prediction

if TYPE_CHECKING:  # only for hints: render never imports the evidence pipeline
    from whyword.evidence.result import EvidenceResult, TokenAttribution

RETRIEVAL_COLOUR = "#3b6fb6"  # p(z | x)
SHARE_COLOUR = "#c0392b"  # share of the answer (the heatmaps' "supports" red)
PATH_LABELS = {
    "reader": "Reader path — log p(y | x, z) through the LM on passage + query",
    "retriever": "Retriever path — log p(y | x) through p(z | x) into the encoder's tokens",
}


def answers_prediction(answers) -> Prediction:
    """Answers (probability, best first) as the core's `Prediction`, for `topk_figure`."""
    return Prediction(
        candidates=tuple(
            Candidate(a.token_id, a.text, a.token, math.log(max(a.probability, 1e-300)))
            for a in answers
        ),
        scoring="evidence",
    )


def marginal_figure(result: EvidenceResult):
    from whyword.render.figures import topk_figure  # plotly: only when a chart is drawn

    title = f"With evidence (top-{result.k}, τ = {result.temperature:g})"
    return topk_figure(answers_prediction(result.marginal_top), result.target.token_id, None, title)


def no_evidence_figure(result: EvidenceResult):
    from whyword.render.figures import topk_figure

    return topk_figure(
        answers_prediction(result.no_evidence_top), result.target.token_id, None, "No evidence"
    )


def _bar(value: float, colour: str, label: str) -> str:
    width = max(0.0, min(1.0, value)) * 100
    return (
        f'<div title="{esc(label)}" style="display:flex;align-items:center;gap:6px;">'
        f'<div style="width:140px;height:12px;background:rgba(128,128,128,0.15);">'
        f'<div style="width:{width:.1f}%;height:12px;background:{colour};"></div></div>'
        f"<span>{value:.3f}</span></div>"
    )


def passages_html(result: EvidenceResult) -> str:
    """One row per retrieved passage, most relevant first: bars for p(z | x) and the share."""
    rows = []
    for p in result.retrieved:
        numbers = (
            f"p(y|x,z) {p.reader_probability:.3f} · leave-one-out Δlog p "
            f"{fmt_score(p.leave_one_out)} · ∂log p/∂s {fmt_score(p.relevance_gradient)} · "
            f"surrogate {fmt_score(p.surrogate_weight)} · relevance {p.relevance:.3f}"
        )
        rows.append(
            '<tr style="border-top:1px solid rgba(128,128,128,0.3);">'
            f'<td style="padding:6px;vertical-align:top;">#{p.rank}</td>'
            f'<td style="padding:6px;">{esc(p.text)}<div style="opacity:0.75;font-size:13px;">'
            f"{esc(numbers)}</div></td>"
            f'<td style="padding:6px;">{_bar(p.retrieval_probability, RETRIEVAL_COLOUR, "p(z | x)")}</td>'
            f'<td style="padding:6px;">{_bar(p.share, SHARE_COLOUR, "share of the answer")}</td>'
            "</tr>"
        )
    s = result.surrogate
    agreement = "n/a" if s.rank_agreement is None else f"{s.rank_agreement:+.2f}"
    foot = (
        f"Answer {esc(result.target.token)}: p(y | x) = {result.target.probability:.4f} with "
        f"evidence, {result.target_probability_no_evidence:.4f} without. Surrogate: "
        f"{s.ablations} random ablations (seed {s.seed}), R² {s.r2:.2f}, rank agreement with "
        f"leave-one-out {agreement}, {1000 * s.seconds:.0f} ms, no extra forward pass."
    )
    return (
        '<div style="font-size:15px;"><table style="width:100%;border-collapse:collapse;">'
        '<tr><th></th><th style="text-align:left;">Passage</th>'
        f'<th style="text-align:left;color:{RETRIEVAL_COLOUR};">p(z | x)</th>'
        f'<th style="text-align:left;color:{SHARE_COLOUR};">share of the answer</th></tr>'
        f"{''.join(rows)}</table><p>{foot}</p></div>"
    )


def tokens_row_html(attr: TokenAttribution, title: str) -> str:
    """One labelled heatmap row; the scale is the row's own max |score|."""
    scale = max((abs(s) for s in attr.scores), default=0.0)
    cells = []
    for label, part, score in zip(attr.tokens, attr.parts, attr.scores, strict=True):
        background, text = cell_colours(score, scale, attr.signed)
        edge = "border-bottom:2px solid #888;" if part == "query" and attr.passage else ""
        tip = f"{label} · {part} · score {fmt_score(score)}"
        cells.append(
            f'<span style="{TOKEN_STYLE}background:{background};color:{text};{edge}" '
            f'title="{esc(tip)}">{esc(label)}</span>'
        )
    return (
        f'<div style="margin:6px 0;"><div style="font-size:13px;opacity:0.8;">{esc(title)}</div>'
        f'<div dir="ltr" style="font-size:17px;line-height:1.6;">{"".join(cells)}</div></div>'
    )


def heatmaps_html(result: EvidenceResult, methods: Sequence[str] | None = None) -> str:
    """The query, then each passage: one row per path (and reader method), each labelled;
    `methods`: only these methods' rows (None: all)."""
    blocks = []
    for rank in (None, *(p.rank for p in result.retrieved)):
        head = "Query" if rank is None else f"Passage #{rank}"
        rows = []
        for attr in result.attributions(passage=rank):
            if methods is not None and attr.method not in methods:
                continue
            what = "query alone" if rank is None else "passage + query (query underlined)"
            if attr.path == "retriever":
                what = (
                    "the query's encoder tokens" if rank is None else "the passage's encoder tokens"
                )
            rows.append(tokens_row_html(attr, f"{PATH_LABELS[attr.path]} · {attr.method} · {what}"))
        blocks.append(f"<h4 style='margin:10px 0 2px;'>{esc(head)}</h4>{''.join(rows)}")
    legend = (
        f'<p style="font-size:13px;">Red raises the answer {esc(result.target.token)}, blue '
        "lowers it; each row has its own scale.</p>"
    )
    return f"<div>{legend}{''.join(blocks)}</div>"
