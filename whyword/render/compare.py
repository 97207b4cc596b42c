"""Two models side by side (a `Comparison`) in a notebook or an export: the agreement line,
then each model's top-k and heatmap, one above the other, at the comparison's level (words
when the tokenizers differ, so the two rows line up word by word). Pure and escaped like
every renderer: inline styles, no scripts. Registered in the notebook display registry when
imported (by `whyword/__init__.py`, beside `render/notebook.py`, whose summary line it reuses)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from whyword.errors import InputError
from whyword.render.heatmap import NORMALISE, heatmap_html
from whyword.render.matrix import method_list
from whyword.render.notebook import BOX, SMALL, summary_html
from whyword.render.text import esc, method_label
from whyword.results.compare import Comparison
from whyword.results.display import DISPLAYS

CELL = "padding:2px 10px;text-align:left;"


def comparison_html(
    comparison: Comparison,
    methods: str | Sequence[str] | None = None,
    normalise: str = "per_method",
    top: int = 5,
    include_special: bool = False,
) -> str:
    """The agreement per method, then per model: what it explains, its `top` predictions
    (0: none) with the target in bold, and its heatmap for `methods` (default: all)."""
    if normalise not in NORMALISE:
        raise InputError(f"normalise must be one of {', '.join(NORMALISE)}, not {normalise!r}.")
    chosen = method_list(methods, comparison.methods)
    parts = [_agreement_html(comparison, chosen)]
    for side, letter in ((0, "A"), (1, "B")):
        shown = comparison.shown(side)
        parts.append(
            f'<div style="border-top:1px solid #8a8a8a55;margin-top:10px;padding-top:6px;">'
            f'<div style="font-weight:700;">{letter}: {esc(shown.model)}</div>'
            f"{summary_html(shown, comparison.level)}"
            f"{_top_html(comparison, side, top)}"
            f"{heatmap_html(shown, chosen, include_special, normalise)}</div>"
        )
    notes = "".join(f'<div style="{SMALL}">{esc(n)}</div>' for n in comparison.notes)
    return f"<div {BOX}>{''.join(parts)}{notes}</div>"


def _agreement_html(comparison: Comparison, methods: Sequence[str]) -> str:
    unit = "tokens" if comparison.level == "token" else "words"
    cells = []
    for method in methods:
        m = comparison.agreement(method)
        rho = "n/a" if math.isnan(m.rho) else f"{m.rho:+.2f}"
        cells.append(f"{esc(method_label(method))} <b>{rho}</b> ({len(m.compared)} {unit})")
    return (
        f'<div style="font-size:17px;margin:0 0 2px 0;">Do the two models agree? '
        f"Spearman ρ of their {unit}' scores: {' · '.join(cells)}</div>"
    )


def _top_html(comparison: Comparison, side: int, top: int) -> str:
    if top <= 0:
        return ""
    e = comparison.explanations[side]
    rank = comparison.target_rank(side)
    where = f"rank {rank}" if rank is not None else "not a single top-k token"
    rows = "".join(
        f'<tr style="{"font-weight:700;" if (c.token_id,) == tuple(e.target_ids) else ""}">'
        f'<td style="{CELL}">{r}</td><td style="{CELL}white-space:pre;">{esc(c.label)}</td>'
        f'<td style="{CELL}">{100 * c.probability:.2f} %</td></tr>'
        for r, c in enumerate(comparison.top(side)[:top], start=1)
    )
    return (
        f'<div style="{SMALL}">target {esc(where)}</div>'
        f'<table style="border-collapse:collapse;font-size:15px;">{rows}</table>'
    )


DISPLAYS.add("comparison", comparison_html, overwrite=True)  # overwrite: a reload re-registers
