"""Token heatmap: one row per method, each token an inline span coloured by its score.

Inline styles only (no <style>, no classes), so it survives any HTML component and export.
Every token label and user string is escaped with `esc`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from whyword.render import colours
from whyword.render.text import (
    esc,
    fmt_score,
    foil_label,
    method_description,
    method_label,
    target_label,
)
from whyword.results.explanation import Attribution, Explanation
from whyword.text.tokens import Token, byte_groups

NORMALISE = ("per_method", "shared", "none")
FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
TOKEN_STYLE = (
    "display:inline-block;padding:2px 7px;margin:3px 2px;border-radius:6px;"
    f"font-family:{FONT};font-size:22px;line-height:1.45;white-space:pre;"
    "unicode-bidi:isolate;"
)
SPECIAL_STYLE = "background:transparent;color:#8a8a8a;border:1px dashed #8a8a8a;"
HELD_STYLE = "border:1px dotted #8a8a8a;"
GAP_STYLE = (
    "display:inline-block;padding:2px 7px;margin:3px 2px;border-radius:6px;"
    f"font-family:{FONT};font-size:22px;line-height:1.45;white-space:pre;unicode-bidi:isolate;"
    "border:2px dashed #ca0020;background:transparent;color:inherit;font-weight:600;"
)


def heatmap_html(
    explanation: Explanation,
    methods: Sequence[str] | None = None,
    include_special: bool = False,
    normalise: str = "per_method",
    numbers: bool = False,
) -> str:
    """One row per method: its label, then every token coloured by its score (and written on
    the chip when `numbers`).

    Signed methods use a diverging scale symmetric around zero (red supports the target, blue
    speaks against it); unsigned ones a single-hue scale. `normalise`: `per_method` scales each
    row by its own max |score|, `shared` uses one scale for all signed rows, `none` colours the
    raw scores (clipped at ±1). Special tokens are greyed and left out of the scale unless
    `include_special`.
    """
    if normalise not in NORMALISE:
        raise ValueError(f"normalise must be one of {', '.join(NORMALISE)}, got {normalise!r}")
    attrs = _selected(explanation, methods)
    scales = _scales(explanation.tokens, attrs, include_special, normalise)
    rows = [
        _row(explanation, a, scales[a.method], include_special, normalise, numbers) for a in attrs
    ]
    body = "".join(rows) if rows else "<p>No attribution methods were run.</p>"
    held = any(_held(explanation, a) for a in attrs)
    return (
        '<div dir="ltr" style="font-size:18px;line-height:1.5;">'
        f"{legend_html(explanation, normalise, held=held)}{body}"
        f"{details_html(explanation, attrs, scales, normalise)}</div>"
    )


def _selected(explanation: Explanation, methods: Sequence[str] | None) -> list[Attribution]:
    if methods is None:
        return list(explanation.attributions)
    known = [a.method for a in explanation.attributions]
    missing = [m for m in methods if m not in known]
    if missing:
        raise KeyError(f"Not in this explanation: {', '.join(missing)}. It has: {', '.join(known)}")
    return [explanation.attribution(m) for m in dict.fromkeys(methods)]


def in_scale(token: Token, include_special: bool) -> bool:
    """Whether a token's score takes part in the colour scale."""
    return token.attributed and (include_special or not token.special)


def max_abs(tokens: Sequence[Token], attr: Attribution, include_special: bool) -> float:
    """The largest |score| among the tokens in the colour scale (0 when there are none)."""
    values = [
        abs(s) for t, s in zip(tokens, attr.scores, strict=True) if in_scale(t, include_special)
    ]
    return max(values, default=0.0)


def _scales(
    tokens: Sequence[Token], attrs: Sequence[Attribution], include_special: bool, normalise: str
) -> dict[str, float]:
    """Per method, the |score| that gets the full colour."""
    own = {a.method: max_abs(tokens, a, include_special) for a in attrs}
    if normalise == "none":
        return dict.fromkeys(own, 1.0)
    if normalise == "shared":
        shared = max((own[a.method] for a in attrs if a.signed), default=0.0)
        return {a.method: shared if a.signed else own[a.method] for a in attrs}
    return own


def _row(
    explanation: Explanation,
    attr: Attribution,
    scale: float,
    include_special: bool,
    normalise: str,
    numbers: bool = False,
) -> str:
    held = _held(explanation, attr)
    cells = []
    gap = gap_index(explanation)
    for group in byte_groups(explanation.tokens):
        if gap is not None and group.tokens[0] <= gap <= group.tokens[-1]:
            cells.append(_gap_cell(explanation))
        first = group.tokens[0]
        if not group.pieces:
            token, score = explanation.tokens[first], attr.scores[first]
            cells.append(
                _cell(
                    token, first, score, scale, attr.signed, include_special, first in held, numbers
                )
            )
            continue
        scores = [attr.scores[i] for i in group.tokens]
        score = sum(scores) if attr.signed else math.sqrt(sum(v * v for v in scores))
        token = replace(explanation.tokens[first], label=group.label, text=group.label)
        cell = _cell(
            token,
            first,
            score,
            scale,
            attr.signed,
            include_special,
            all(i in held for i in group.tokens),
            numbers,
            pieces=f"{len(group.tokens)} byte pieces: {group.pieces}",
        )
        cells.append(cell)
    if gap is not None and gap >= len(explanation.tokens):
        cells.append(_gap_cell(explanation))
    return (
        '<div style="display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 12px;'
        'margin:10px 0;padding-top:6px;border-top:1px solid rgba(128,128,128,0.3);">'
        f"{_row_header(attr, scale)}"
        f'<div style="flex:1 1 24rem;min-width:0;">{"".join(cells)}</div></div>'
    )


def _row_header(attr: Attribution, scale: float) -> str:
    notes = []
    if not attr.signed:
        notes.append("how much, not which way (unsigned: magnitude only)")
    if scale == 0:
        notes.append("all scores are 0")
    small = "".join(f'<div style="font-size:15px;opacity:0.8;">{esc(n)}</div>' for n in notes)
    return (
        f'<div style="flex:0 0 14rem;" title="{esc(method_description(attr.method))}">'
        f'<div style="font-weight:600;font-size:19px;">{esc(method_label(attr.method))}</div>'
        f"{small}</div>"
    )


def _held(explanation: Explanation, attr: Attribution) -> set[int]:
    """Positions IG held at their real embedding (their IG score is 0 by construction)."""
    if attr.convergence_delta is None:  # only a baseline-path method holds tokens
        return set()
    return {i for i in explanation.held if attr.scores[i] == 0}


def cell_colours(score: float, scale: float, signed: bool) -> tuple[str, str]:
    """(background, text) colours of a score on a scale whose full colour is at |scale|."""
    t = score / scale if scale > 0 else 0.0
    rgb = colours.diverging(max(-1.0, min(1.0, t))) if signed else colours.sequential(abs(t))
    return colours.hex_colour(rgb), colours.text_colour(rgb)


HELD_MARK = "⚓"
HELD_NOTE = (
    "kept fixed by this method: models lean heavily on the first token, so it is left as it "
    "is and gets no score (held at its real embedding in the IG baseline, so its score is 0)"
)
NUMBER_STYLE = "display:block;font-size:0.62em;line-height:1.1;opacity:0.9;text-align:center;"


def _cell(
    token: Token,
    index: int,
    score: float,
    scale: float,
    signed: bool,
    special_ok: bool,
    held: bool,
    numbers: bool = False,
    pieces: str = "",
) -> str:
    title = f"{token.label} · id {token.id} · position {index} · score {fmt_score(score)}"
    if pieces:  # several byte-level tokens make these characters
        title += f" · {pieces}"
    if token.special and not special_ok:
        style = SPECIAL_STYLE
        title += " · special token, left out of the colour scale"
    elif not token.attributed:
        style = f"background:{colours.hex_colour(colours.NEUTRAL)};color:{colours.DARK_TEXT};"
        style += HELD_STYLE
        title += " · held fixed, not attributed"
    else:
        background, text = cell_colours(score, scale, signed)
        style = f"background:{background};color:{text};"
        if held:
            style += HELD_STYLE
            title += f" · {HELD_MARK} {HELD_NOTE}"
    number = f'<span style="{NUMBER_STYLE}">{esc(fmt_score(score))}</span>' if numbers else ""
    chip = (
        f'<span style="{TOKEN_STYLE}{style}" title="{esc(title)}">{esc(token.label)}{number}</span>'
    )
    if held:  # the mark says why on the chip itself, not only in a note far below
        chip += (
            f'<sup style="font-size:14px;cursor:help;" title="{esc(HELD_NOTE)}">{HELD_MARK}</sup>'
        )
    return chip


def gap_index(explanation: Explanation) -> int | None:
    """Where the infill candidate goes (before this token index), or None."""
    gap = explanation.gap
    if explanation.mode != "infill" or gap is None:
        return None
    return max(0, min(int(gap), len(explanation.tokens)))


def _gap_cell(explanation: Explanation) -> str:
    title = (
        f"infill gap: the target {target_label(explanation)} is scored here; "
        "it is held fixed and gets no score"
    )
    return (
        f'<span style="{GAP_STYLE}" title="{esc(title)}">⟨{esc(target_label(explanation))}⟩</span>'
    )


def legend_html(explanation: Explanation, normalise: str = "per_method", held: bool = False) -> str:
    """What red and blue mean, in words a 14-year-old can read, with the actual target."""
    red, blue = colours.hex_colour(colours.RED), colours.hex_colour(colours.BLUE)
    target = esc(target_label(explanation))
    foil = foil_label(explanation)
    swatch = "display:inline-block;width:1em;height:1em;border-radius:3px;vertical-align:-0.1em;"
    if foil is None:
        colours_line = (
            f'<span style="{swatch}background:{red};"></span> <b>Red</b> words make '
            f"<b>{target}</b> more likely; "
            f'<span style="{swatch}background:{blue};"></span> <b>blue</b> words make it less likely.'
        )
    else:
        colours_line = (
            f'<span style="{swatch}background:{red};"></span> <b>Red</b> words make '
            f"<b>{target}</b> more likely than <b>{esc(foil)}</b>; "
            f'<span style="{swatch}background:{blue};"></span> <b>blue</b> words favour '
            f"<b>{esc(foil)}</b>."
        )
    extra = " Stronger colour, stronger push. ␣ marks a space before a word."
    if held:
        extra += f" {HELD_MARK}: kept fixed, no score (hover it to see why)."
    return f'<div style="font-size:19px;margin:4px 0 8px 0;">{colours_line}{extra}</div>'


def details_html(
    explanation: Explanation,
    attrs: Sequence[Attribution],
    scales: dict[str, float],
    normalise: str,
) -> str:
    """The technical detail, one click away: the objective, the colour scales, special tokens."""
    target = esc(target_label(explanation))
    foil = foil_label(explanation)
    scale_note = {
        "per_method": "Each row is scaled by its own largest |score|.",
        "shared": "Signed rows share one scale (the largest |score| among them).",
        "none": "Raw scores, colour clipped at ±1.",
    }[normalise]
    full = "; ".join(
        f"{esc(method_label(a.method))} {'±' if a.signed else ''}{abs(scales[a.method]):.4g}"
        for a in attrs
        if scales[a.method] > 0
    )
    items = [
        f"Objective F = {esc(explanation.formula)} = {esc(fmt_score(explanation.value))} "
        f"(target {target}" + (f", foil {esc(foil)}" if foil is not None else "") + ").",
        esc(scale_note) + (f" Full colour at: {full}." if full and normalise != "none" else ""),
    ]
    if any(t.special for t in explanation.tokens):
        items.append(
            "Grey boxes with a dashed edge: special tokens the model adds; by default "
            "they are left out of the colour scale."
        )
    lis = "".join(f"<li>{item}</li>" for item in items)
    return (
        '<details style="font-size:16px;margin-top:6px;"><summary style="cursor:pointer;">'
        f'Technical details</summary><ul style="margin:4px 0;">{lis}</ul></details>'
    )
