"""An `AttributionMatrix` as HTML: per method, one line per explained output, each token (or
word) a chip coloured like the page's heatmap; a cell the output cannot see is a grey dashed
"not in context" chip, never a colour. Inline styles only; every label escaped with `esc`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral

from whyword.errors import InputError
from whyword.render.heatmap import SPECIAL_STYLE, TOKEN_STYLE, cell_colours
from whyword.render.text import esc, fmt_score, method_label
from whyword.results.matrix import AttributionMatrix
from whyword.text.tokens import visible

CHIP = TOKEN_STYLE + "font-size:16px;padding:1px 5px;margin:2px 1px;"
OUT_OF_CONTEXT = "background:transparent;color:#8a8a8a;border:1px dashed #b0b0b0;opacity:0.6;"


def method_list(methods: str | Sequence[str] | None, known: Sequence[str]) -> list[str]:
    """The methods to draw, in the order asked (a single name is one method); every name must
    be in `known`."""
    if methods is None:
        return list(known)
    chosen = [methods] if isinstance(methods, str) else list(dict.fromkeys(methods))
    missing = [m for m in chosen if m not in known]
    if missing or not chosen:
        raise InputError(
            f"Not in this result: {', '.join(missing) or 'no method given'}; "
            f"it has: {', '.join(known)}."
        )
    return chosen


def matrix_html(
    matrix: AttributionMatrix,
    level: str = "token",
    methods: str | Sequence[str] | None = None,
    rows: Sequence[int] | None = None,
    numbers: bool = False,
) -> str:
    """Per method, the rows (all, or those indexed by `rows`) over the tokens, or over the
    words / sentences at `level` (signed scores summed, unsigned as the L2 norm). Each method
    is scaled by its own largest |score| among the shown rows' non-special cells."""
    chosen = method_list(methods, [m.method for m in matrix.methods])
    labels, special = _units(matrix, level)
    shown = list(range(len(matrix.outputs))) if rows is None else list(rows)
    bad = [r for r in shown if not (_index(r) and 0 <= r < len(matrix.outputs))]
    if bad or not shown:
        raise InputError(
            f"rows must be indices from 0 to {len(matrix.outputs) - 1}, not {bad or list(rows)}."
        )
    blocks = [
        _method_block(matrix, name, level, labels, special, shown, numbers) for name in chosen
    ]
    r, t = len(matrix.outputs), len(labels)
    head = (
        f'<div style="font-size:15px;opacity:0.8;margin:0 0 4px 0;">{esc(matrix.model)} · '
        f"{r} output{'s' * (r != 1)} × {t} {esc(level)}{'s' * (t != 1)} · red raises the "
        "row's target, blue lowers it; grey dashed: not in the row's context</div>"
    )
    return (
        '<div dir="ltr" style="font-family:system-ui, -apple-system, Segoe UI, Roboto, '
        f'sans-serif;max-width:1100px;">{head}{"".join(blocks)}</div>'
    )


def _index(value) -> bool:
    """A whole number (numpy's too), not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def _units(matrix: AttributionMatrix, level: str) -> tuple[list[str], list[bool]]:
    """The columns' labels and whether each is special (a segment: all its tokens are)."""
    if level == "token":
        return [t.label for t in matrix.tokens], [t.special for t in matrix.tokens]
    levels = ["token", *(s.level for s in matrix.segmentations)]
    if level not in levels:
        raise InputError(f"This matrix has no {level!r} level; it has: {', '.join(levels)}.")
    seg = matrix.segmentation(level)
    special = [all(matrix.tokens[i].special for i in s.tokens) for s in seg.segments]
    return list(seg.labels), special


def _method_block(
    matrix: AttributionMatrix,
    name: str,
    level: str,
    labels: list[str],
    special: list[bool],
    shown: list[int],
    numbers: bool,
) -> str:
    m = matrix.method(name)
    values = matrix.segment_scores(name, level)  # (R, S); NaN: not in context
    cells = [
        abs(float(values[r][i]))
        for r in shown
        for i in range(len(labels))
        if not special[i] and not math.isnan(values[r][i])
    ]
    scale = max(cells, default=0.0)
    lines = []
    for r in shown:
        out = matrix.outputs[r]
        chips = "".join(
            _chip(labels[i], i, float(values[r][i]), scale, m.signed, special[i], numbers)
            for i in range(len(labels))
        )
        label = f"{r}. {visible(out.target)}" + (
            "" if out.foil is None else f" vs {visible(out.foil)}"
        )
        title = f"{out.label} · F = {out.formula} = {fmt_score(out.value)}"
        lines.append(
            '<div style="display:flex;align-items:baseline;gap:8px;margin:2px 0;">'
            f'<div style="flex:0 0 10rem;white-space:pre;overflow:hidden;text-overflow:ellipsis;" '
            f'title="{esc(title)}">{esc(label)}</div>'
            f'<div style="flex:1 1 24rem;min-width:0;">{chips}</div></div>'
        )
    kind = "signed" if m.signed else "unsigned: how much, not which way"
    return (
        '<div style="margin:8px 0;padding-top:4px;border-top:1px solid rgba(128,128,128,0.3);">'
        f'<div style="font-weight:600;font-size:17px;">{esc(method_label(name))} '
        f'<span style="font-weight:400;font-size:14px;opacity:0.8;">({esc(kind)}; full colour '
        f"at |score| {scale:.4g})</span></div>{''.join(lines)}</div>"
    )


def _chip(
    label: str, index: int, score: float, scale: float, signed: bool, special: bool, numbers: bool
) -> str:
    if math.isnan(score):
        title, style, number = f"{label} · position {index} · not in context", OUT_OF_CONTEXT, ""
    else:
        title = f"{label} · position {index} · score {fmt_score(score)}"
        if special:
            style = SPECIAL_STYLE
            title += " · special token, left out of the colour scale"
        else:
            background, text = cell_colours(score, scale, signed)
            style = f"background:{background};color:{text};"
        number = (
            f'<span style="display:block;font-size:0.7em;">{esc(fmt_score(score))}</span>'
            if numbers
            else ""
        )
    return f'<span style="{CHIP}{style}" title="{esc(title)}">{esc(label)}{number}</span>'
