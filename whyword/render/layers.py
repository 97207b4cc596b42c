"""The logit lens drawn: the layers × top-k table, the target's rank across layers, the
plain-language legend, and the CSV / JSON downloads. Pure: `LayerLens` in, HTML / plotly out.

Every token text goes through `esc` (HTML) or `esc_plotly` (plotly labels); cell colours are the
house sequential scale (render/colours.py) of the probability itself, so a darker cell is a
likelier token, and the target and foil are marked by a sign as well as a colour.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go

from whyword._version import __version__
from whyword.render import colours
from whyword.render.export import FORMULA_START
from whyword.render.figures import FONT_SIZE, GRID_COLOUR, _base_layout
from whyword.render.text import esc, esc_plotly
from whyword.results.layers import LayerLens, LayerRow
from whyword.text.tokens import visible

TARGET_MARK = "◆"  # beside the target's cell: not colour alone
FOIL_MARK = "◇"
CELL = "padding:4px 8px;border:1px solid rgba(128,128,128,0.35);white-space:nowrap;"
RANK_ROW_PX = 22  # the rank chart's height per layer is capped; this is its floor per layer


def cell_colour(probability: float) -> tuple[str, str]:
    """A cell's background and text colour for a probability in [0, 1] (linear)."""
    rgb = colours.sequential(probability)
    return colours.hex_colour(rgb), colours.text_colour(rgb)


def lens_table_html(lens: LayerLens) -> str:
    """Layers (embeddings first) × the top-k tokens, each cell coloured by its probability; the
    target's cell outlined red with ◆, the foil's blue with ◇; the target's (and foil's)
    probability and rank in the first columns."""
    foil = lens.foil is not None
    head = ["layer", f"{TARGET_MARK} {visible(lens.target)}: p · rank"]
    if foil:
        head.append(f"{FOIL_MARK} {visible(lens.foil or '')}: p · rank")
    head += [f"#{i + 1}" for i in range(max(len(r.top) for r in lens.rows))]
    header = "".join(f'<th style="{CELL}text-align:left;">{esc(h)}</th>' for h in head)
    body = "".join(_row_html(lens, row) for row in lens.rows)
    return (
        '<div class="ww-ly-lens" style="overflow-x:auto;max-width:100%;">'
        '<table style="border-collapse:collapse;font-size:16px;">'
        f"<tr>{header}</tr>{body}</table></div>"
    )


def _row_html(lens: LayerLens, row: LayerRow) -> str:
    cells = [
        f'<th style="{CELL}text-align:left;">{esc(row.label)}</th>',
        _standing(row.target_probability, row.target_rank),
    ]
    if lens.foil is not None:
        cells.append(_standing(row.foil_probability or 0.0, row.foil_rank or 0))
    for c in row.top:
        bg, fg = cell_colour(c.probability)
        mark, border, role = "", "", ""
        if c.token_id == lens.target_id:
            mark, border, role = (
                f" {TARGET_MARK}",
                f"outline:3px solid {colours.TARGET_COLOUR};",
                "target, ",
            )
        elif c.token_id == lens.foil_id:
            mark, border, role = (
                f" {FOIL_MARK}",
                f"outline:3px dashed {colours.FOIL_COLOUR};",
                "foil, ",
            )
        title = f"{role}{c.label}: p = {c.probability:.4f}, token id {c.token_id}"
        cells.append(
            f'<td class="ww-ly-cell{" ww-ly-target" if role == "target, " else ""}'
            f'{" ww-ly-foil" if role == "foil, " else ""}" title="{esc(title)}" '
            f'style="{CELL}{border}outline-offset:-3px;background:{bg};color:{fg};">'
            f'{esc(c.label)}{mark} <span style="opacity:0.8;font-size:0.85em;">'
            f"{100 * c.probability:.1f} %</span></td>"
        )
    return f"<tr>{''.join(cells)}</tr>"


def _standing(probability: float, rank: int) -> str:
    return f'<td style="{CELL}">{100 * probability:.2f} % · {rank:,}</td>'


def rank_figure(lens: LayerLens, k: int = 5) -> go.Figure:
    """The target's (and foil's) rank after each layer, on a log scale with rank 1 on top; a
    dashed line at the top-k."""
    x = [r.layer for r in lens.rows]
    labels = [esc_plotly(r.label) for r in lens.rows]
    lines = [(lens.target, [r.target_rank for r in lens.rows], colours.TARGET_COLOUR, "solid")]
    if lens.foil is not None:
        lines.append((lens.foil, [r.foil_rank or 1 for r in lens.rows], colours.FOIL_COLOUR, "dot"))
    fig = go.Figure()
    for word, ranks, colour, dash in lines:
        name = esc_plotly(visible(word))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=ranks,
                mode="lines+markers",
                name=name,
                line={"color": colour, "width": 3, "dash": dash},
                customdata=labels,
                hovertemplate=f"<b>{name}</b><br>%{{customdata}}: rank %{{y:,}}<extra></extra>",
            )
        )
    fig.add_hline(y=k, line={"dash": "dash", "color": "rgba(128,128,128,0.8)", "width": 1})
    fig.update_layout(
        **_base_layout("", 360),
        legend={"orientation": "h", "y": 1.12, "x": 0, "font": {"size": FONT_SIZE}},
    )
    worst = max(max(ranks) for _, ranks, _, _ in lines)
    fig.update_yaxes(
        type="log",
        range=[len(str(worst)) + 0.1, -0.1],  # log10 units, reversed: rank 1 on top
        title={"text": "rank (log)"},
        gridcolor=GRID_COLOUR,
        fixedrange=True,
    )
    fig.update_xaxes(
        title={"text": "layer (0 = embeddings)"}, gridcolor=GRID_COLOUR, fixedrange=True
    )
    return fig


def legend_text(lens: LayerLens, k: int = 5) -> str:
    """Plain language, not escaped: where the target (and foil) first reach the top `k`, and
    the last layer's verdict."""
    target = visible(lens.target)
    sentences = [_entry(lens.first_layer_in_top(k), target, k)]
    last = lens.rows[-1]
    if lens.foil is not None:
        first_foil = next((r.layer for r in lens.rows if (r.foil_rank or k + 1) <= k), None)
        sentences.append(_entry(first_foil, visible(lens.foil), k))
    sentences.append(
        f"After the last layer {target} has p = {last.target_probability:.3f} "
        f"(rank {last.target_rank:,})."
    )
    return " ".join(sentences)


def _entry(layer: int | None, word: str, k: int) -> str:
    if layer is None:
        return f"{word} never reaches the top {k} at any layer."
    if layer == 0:
        return f"{word} is in the top {k} already after the embeddings."
    return f"Layer {layer} is where {word} first reaches the top {k}."


def _safe(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def lens_csv(lens: LayerLens) -> str:
    """One row per layer (`LayerLens.to_dataframe`), then what it reads as constant columns:
    model, text, position and its token, target, foil. A version comment first."""
    frame = lens.to_dataframe()
    context = {
        "model": lens.model,
        "text": lens.text,
        "position": lens.position,
        "position_token": lens.tokens[lens.position].text,
        "target": lens.target,
        "foil": lens.foil or "",
        "max_error": lens.max_error,
    }
    frame["top"] = [_safe(v) for v in frame["top"]]
    for name, value in context.items():
        frame[name] = _safe(value)
    return f"# WhyWord {__version__}\n" + frame.to_csv(index=False)


def components_csv(lens: LayerLens) -> str | None:
    """One row per component (`DirectLogits.to_dataframe`) with the objective's context, or
    None when the lens has no components."""
    d = lens.components
    if d is None:
        return None
    frame = d.to_dataframe()
    context = {
        "model": lens.model,
        "text": lens.text,
        "target": lens.target,
        "foil": lens.foil or "",
        "objective": d.objective,
        "frozen_total": d.frozen_total,
        "real": d.real,
        "frozen_scale": d.scale,
        "zero_agreement": d.zero_agreement,
        "mean_agreement": d.mean_agreement,
    }
    for name, value in context.items():
        frame[name] = _safe(value)
    return f"# WhyWord {__version__}\n" + frame.to_csv(index=False)


def lens_json(lens: LayerLens) -> str:
    """The whole result (the lens and its components), with the WhyWord version first."""
    return json.dumps(
        {"whyword_version": __version__, **lens.to_dict()}, ensure_ascii=False, indent=2
    )
