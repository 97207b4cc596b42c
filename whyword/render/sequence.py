"""The Sequence page's pictures: the surprisal strip, the raw vs warped next-step chart and the
generated-steps × source-tokens heatmap (the transition-score table is in `transitions.py`).

Pure: results in, plotly figures and HTML out. Token text is escaped once for where it lands
(`esc` for HTML, `esc_plotly` for plotly).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from whyword.render import colours
from whyword.render.figures import GRID_COLOUR, _base_layout, probability_ticks, topk_figure
from whyword.render.heatmap import FONT, TOKEN_STYLE
from whyword.render.text import esc, esc_plotly, method_label
from whyword.render.transitions import MAX_BITS
from whyword.results.explanation import Prediction
from whyword.text.tokens import visible

if TYPE_CHECKING:  # result types only: render never loads a model
    from whyword.results.matrix import AttributionMatrix
    from whyword.tasks.positions import PositionRow, PositionTable
    from whyword.tasks.stepper import NextStep

RAW_COLOUR = "rgba(140, 140, 140, 0.75)"
WARPED_COLOUR = "#0f766e"  # the page's teal: what sampling draws from
CUT_TEXT = "✂ cut"


def surprisal_strip_html(table: PositionTable, selected: int | None = None) -> str:
    """The text's tokens coloured by surprisal (darker = more surprising); hover says what the
    model expected there; each scored token carries `data-pos` for the page's click bridge."""
    rows = {r.position: r for r in table.rows}
    cells = []
    for i, token in enumerate(table.tokens):
        row = rows.get(i)
        style = TOKEN_STYLE + "cursor:pointer;"
        if row is None:
            note = "no prediction here: nothing before it to predict from"
            style = TOKEN_STYLE + "border:1px dashed #8a8a8a;color:#8a8a8a;"
            cells.append(f'<span style="{style}" title="{esc(note)}">{esc(token.label)}</span>')
            continue
        rgb = colours.sequential(min(1.0, row.surprisal / MAX_BITS))
        ring = "outline:3px solid #ca0020;" if i == selected else ""
        style += f"background:{colours.hex_colour(rgb)};color:{colours.text_colour(rgb)};{ring}"
        cells.append(
            f'<span class="ww-seq-pos" data-pos="{i}" style="{style}" title="{esc(_hover(row))}">'
            f"{esc(token.label)}</span>"
        )
    legend = (
        f'<p style="font-family:system-ui,sans-serif;font-size:15px;opacity:0.8;margin:4px 0 0 0;">Darker = more surprising '
        f"(surprisal −log₂ p, saturating at {MAX_BITS:g} bits). Perplexity "
        f"{table.perplexity:.1f}. Click a token to see what the model expected there.</p>"
    )
    return f'<div dir="ltr" style="font-family:{FONT};">{"".join(cells)}{legend}</div>'


def _hover(row: PositionRow) -> str:
    top = ", ".join(f"{c.label} {100 * c.probability:.1f}%" for c in row.top)
    return (
        f"{row.token.label}: rank {row.rank}, p = {100 * row.probability:.2f}%, "
        f"{row.surprisal:.1f} bits. Expected: {top}"
    )


def position_figure(row: PositionRow) -> go.Figure:
    """What the model expected at one position; the token that actually came is marked."""
    where = "in the top-k" if row.rank <= len(row.top) else "below the bars"
    title = (
        f"Position {row.position}: the actual “{row.token.label}” ranked {row.rank} "
        f"({100 * row.probability:.2f} %, {where})"
    )
    fig = topk_figure(
        Prediction(candidates=row.top, scoring="next_token"), row.token.id, None, title
    )
    fig.update_traces(
        text=[
            f"{100 * c.probability:.1f} %" + (" · actual" if c.token_id == row.token.id else "")
            for c in row.top
        ]
    )
    return fig


def next_step_figure(step: NextStep) -> go.Figure:
    """Raw and warped probability of the top raw tokens, side by side; cut-off tokens marked.
    Each bar's `customdata` is its token id (a click appends that token)."""
    ch = step.choices
    labels = [esc_plotly(c.label) for c in ch]
    ids = [c.token_id for c in ch]
    y = list(range(len(ch)))
    raw = [math.exp(c.raw_log_prob) for c in ch]
    warped = [0.0 if c.cut else math.exp(c.log_prob) for c in ch]
    hover = (
        "<b>%{hovertext}</b><br>%{x:.2%}<br>token id %{customdata}<extra>%{fullData.name}</extra>"
    )
    fig = go.Figure(
        [
            go.Bar(
                name="raw (the model)",
                x=raw,
                y=y,
                orientation="h",
                customdata=ids,
                hovertext=labels,
                hovertemplate=hover,
                text=[f"{100 * p:.1f} %" for p in raw],
                textposition="outside",
                cliponaxis=False,
                marker={"color": RAW_COLOUR},
            ),
            go.Bar(
                name="warped (sampled from)",
                x=warped,
                y=y,
                orientation="h",
                customdata=ids,
                hovertext=labels,
                hovertemplate=hover,
                text=[
                    CUT_TEXT if c.cut else f"{100 * p:.1f} %"
                    for c, p in zip(ch, warped, strict=True)
                ],
                textposition="outside",
                cliponaxis=False,
                marker={"color": WARPED_COLOUR},
            ),
        ]
    )
    w = step.warp
    title = (
        f"Next token — temperature {w.temperature:g}, top-k {w.top_k or 'off'}, "
        f"top-p {w.top_p if w.top_p is not None else 'off'}: {step.kept:,} tokens can be drawn"
    )
    upper = min(1.0, max(raw + warped + [0.01]) * 1.35)
    fig.update_layout(
        **_base_layout(title, 110 + 58 * len(ch)),
        barmode="group",
        bargap=0.2,
        clickmode="event",
        legend={"orientation": "h", "y": -0.04, "yanchor": "top"},
    )
    fig.update_xaxes(
        range=[0, upper],
        tickmode="array",
        tickvals=probability_ticks(upper),
        tickformat=".0%",
        gridcolor=GRID_COLOUR,
        fixedrange=True,
    )
    fig.update_yaxes(
        tickmode="array", tickvals=y, ticktext=labels, autorange="reversed", fixedrange=True
    )
    return fig


def steps_heatmap_figure(matrix: AttributionMatrix, method: str, first: int = 0) -> go.Figure:
    """Rows: generated steps (from output row `first`); columns: the source tokens. Cells a
    step cannot see (its own token and later) are grey, "not in context". A click on a row
    reports its row index in `customdata`."""
    scores = matrix.method(method).scores[first:]
    signed = matrix.method(method).signed
    labels = [esc_plotly(t.label) for t in matrix.tokens]
    x = [f"{i}:{lab}" for i, lab in enumerate(labels)]  # unique columns for repeated tokens
    y = [
        f"{first + r + 1}. {esc_plotly(visible(o.target))}"
        for r, o in enumerate(matrix.outputs[first:])
    ]
    finite = [abs(s) for row in scores for s in row if not math.isnan(s)]
    scale = max(finite, default=1.0) or 1.0
    z = [[None if math.isnan(s) else s / scale for s in row] for row in scores]
    hover = [
        [
            f"step {first + r + 1} “{y[r]}” ← {labels[c]}: "
            + ("not in context" if math.isnan(s) else f"{s:.4g}")
            for c, s in enumerate(row)
        ]
        for r, row in enumerate(scores)
    ]
    heat = go.Heatmap(
        z=z,
        x=x,
        y=y,
        zmin=-1 if signed else 0,
        zmax=1,
        colorscale=colours.plotly_scale("diverging" if signed else "sequential"),
        customdata=[[first + r] * len(x) for r in range(len(y))],
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
        colorbar={"title": {"text": "÷ max"}},
        xgap=1,
        ygap=1,
    )
    fig = go.Figure(heat)
    layout = _base_layout(
        f"{method_label(method)}: each generated token ← its context", 160 + 34 * len(y)
    )
    layout["plot_bgcolor"] = "rgba(128,128,128,0.18)"  # not-in-context cells show this grey
    fig.update_layout(**layout, clickmode="event")
    fig.update_xaxes(tickmode="array", tickvals=x, ticktext=labels, tickangle=-45, fixedrange=True)
    fig.update_yaxes(autorange="reversed", fixedrange=True)
    return fig
