"""A `LayerLens` (the logit lens) as HTML: the text with the read position marked, then one
line per layer: the target's probability as a bar, its rank, and the layer's top tokens as
chips shaded by probability (the target's outlined). Inline styles only, every label escaped."""

from __future__ import annotations

from whyword.errors import InputError
from whyword.render import colours
from whyword.render.components import agreement_html
from whyword.render.heatmap import TOKEN_STYLE
from whyword.render.text import esc
from whyword.results.layers import LayerLens
from whyword.text.tokens import visible

CHIP = TOKEN_STYLE + "font-size:15px;padding:1px 5px;margin:1px;"
TARGET_RING = "outline:2px solid #ca0020;"
CELL = "padding:2px 8px;text-align:left;vertical-align:middle;"


def layers_html(lens: LayerLens, k: int | None = None) -> str:
    """Every layer's top-`k` tokens (None: all the lens kept) at the lens position and where
    the target stands."""
    most = min(len(r.top) for r in lens.rows)
    k = most if k is None else k
    if not isinstance(k, int) or not 1 <= k <= most:
        raise InputError(f"k must be a whole number from 1 to {most} (the lens kept {most}).")
    target = esc(visible(lens.target))
    foil = "" if lens.foil is None else f" (foil <b>{esc(visible(lens.foil))}</b>)"
    text = "".join(
        f'<span style="{CHIP}{TARGET_RING if i == lens.position else ""}">{esc(t.label)}</span>'
        for i, t in enumerate(lens.tokens)
    )
    head = (
        f'<div style="font-size:17px;">What each layer predicts after the outlined token: '
        f"target <b>{target}</b>{foil}</div>"
        f'<div style="font-size:15px;opacity:0.8;">{esc(lens.model)} · largest |logit| '
        f"difference of the last row from the model's own: {lens.max_error:.2g}</div>"
        f'<div dir="ltr" style="margin:4px 0;">{text}</div>'
    )
    foil_head = f'<th style="{CELL}">p(foil)</th>' if lens.foil is not None else ""
    rows = []
    for r in lens.rows:
        chips = "".join(
            _candidate(c.label, c.probability, c.token_id == lens.target_id) for c in r.top[:k]
        )
        foil_cell = (
            f'<td style="{CELL}">{100 * r.foil_probability:.2f} % (rank {r.foil_rank})</td>'
            if r.foil_probability is not None
            else ""
        )
        rows.append(
            f'<tr><td style="{CELL}">{esc(r.label)}</td>'
            f'<td style="{CELL}">{_bar(r.target_probability)}</td>'
            f'<td style="{CELL}">{r.target_rank}</td>{foil_cell}'
            f'<td style="{CELL}">{chips}</td></tr>'
        )
    table = (
        '<table style="border-collapse:collapse;font-size:15px;">'
        f'<tr><th style="{CELL}">layer</th><th style="{CELL}">p(target)</th>'
        f'<th style="{CELL}">rank</th>{foil_head}<th style="{CELL}">top {k}</th></tr>'
        f"{''.join(rows)}</table>"
    )
    notes = "".join(f'<p style="font-size:14px;opacity:0.8;">{esc(n)}</p>' for n in lens.notes)
    parts = ""
    if lens.components is not None:  # which heads and MLPs wrote it, and the ablation check
        parts = (
            '<div style="font-size:17px;margin-top:10px;">Which heads and MLPs wrote it '
            "(direct logit attribution; checked by ablation)</div>"
            + agreement_html(lens.components, lens.target, lens.foil, page=False)
        )
    return (
        '<div dir="ltr" style="font-family:system-ui, -apple-system, Segoe UI, Roboto, '
        f'sans-serif;max-width:1100px;">{head}{table}{parts}{notes}</div>'
    )


def _candidate(label: str, probability: float, is_target: bool) -> str:
    rgb = colours.sequential(probability)
    style = f"background:{colours.hex_colour(rgb)};color:{colours.text_colour(rgb)};"
    title = f"{label} · {100 * probability:.2f} %" + (" · the target" if is_target else "")
    ring = TARGET_RING if is_target else ""
    return f'<span style="{CHIP}{style}{ring}" title="{esc(title)}">{esc(label)}</span>'


def _bar(probability: float) -> str:
    width = max(0.0, min(1.0, probability)) * 100
    return (
        '<div style="display:flex;align-items:center;gap:6px;">'
        '<div style="width:120px;height:10px;background:rgba(128,128,128,0.15);">'
        f'<div style="width:{width:.1f}%;height:10px;background:#ca0020;"></div></div>'
        f"<span>{100 * probability:.2f} %</span></div>"
    )
