"""Plotly figures: the top-k bar chart and the methods × tokens matrix.

Plotly renders a subset of HTML in titles, tick labels and hover text, so every token label and
user string goes in escaped (plotly turns the entities back into plain text).
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from whyword.render import colours
from whyword.render.heatmap import in_scale, max_abs
from whyword.render.text import esc_plotly, fmt_score, method_label
from whyword.results.explanation import Explanation, Prediction

FONT_SIZE = 20  # classroom projection
FONT_COLOUR = "#7a7a7a"  # about 4.3:1 on white and on a near-black dark theme
GRID_COLOUR = "rgba(128,128,128,0.3)"
BAR_HEIGHT = 46  # px per bar
MATRIX_ROW_HEIGHT = 56  # px per method row


def _base_layout(title: str, height: int) -> dict:
    return {
        "title": {"text": esc_plotly(title), "x": 0.01, "xanchor": "left"} if title else None,
        "height": height,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"size": FONT_SIZE, "color": FONT_COLOUR},
        "hoverlabel": {"font": {"size": FONT_SIZE}},
        "margin": {"l": 10, "r": 30, "t": 60 if title else 20, "b": 40},
    }


def bar_colours(prediction: Prediction, target_id: int | None, foil_id: int | None) -> list[str]:
    """The target's bar in the target colour, the foil's in the foil colour, the rest neutral."""
    out = []
    for c in prediction.candidates:
        if target_id is not None and c.token_id == target_id:
            out.append(colours.TARGET_COLOUR)
        elif foil_id is not None and c.token_id == foil_id:
            out.append(colours.FOIL_COLOUR)
        else:
            out.append(colours.OTHER_COLOUR)
    return out


def _bar_text(probability: float, token_id: int, target_id: int | None, foil_id: int | None) -> str:
    text = f"{100 * probability:.1f} %"
    if target_id is not None and token_id == target_id:
        return text + " · target"  # not colour alone
    if foil_id is not None and token_id == foil_id:
        return text + " · foil"
    return text


def topk_figure(
    prediction: Prediction,
    target_id: int | None = None,
    foil_id: int | None = None,
    title: str = "",
) -> go.Figure:
    """Horizontal probability bars, most likely on top; `customdata` of each bar is its token id.

    The target's bar is red and the foil's blue (the heatmap's "for" and "against" colours).
    """
    cands = prediction.candidates
    probs = [c.probability for c in cands]
    labels = [esc_plotly(c.label) for c in cands]
    positions = list(range(len(cands)))  # numeric y: two candidates may share a label
    bar = go.Bar(
        x=probs,
        y=positions,
        orientation="h",
        customdata=[c.token_id for c in cands],
        hovertext=labels,
        hovertemplate="<b>%{hovertext}</b><br>probability %{x:.2%}<br>token id %{customdata}"
        "<extra></extra>",
        text=[
            _bar_text(p, c.token_id, target_id, foil_id) for p, c in zip(probs, cands, strict=True)
        ],
        textposition="outside",
        cliponaxis=False,
        marker={"color": bar_colours(prediction, target_id, foil_id), "line": {"width": 0}},
    )
    fig = go.Figure(bar)
    top = max(probs, default=1.0)
    fig.update_layout(
        **_base_layout(title, 90 + BAR_HEIGHT * max(1, len(cands)) + (40 if title else 0)),
        bargap=0.25,
        showlegend=False,
        clickmode="event",
    )
    marked = any(c.token_id in (target_id, foil_id) for c in cands)
    # Room for the text outside the bars; a "· target" / "· foil" mark needs more.
    upper = min(1.0, top) * (1.75 if marked else 1.3) or 1.0
    fig.update_xaxes(
        range=[0, upper],
        tickmode="array",
        tickvals=probability_ticks(min(1.0, upper)),
        tickformat=".0%",
        gridcolor=GRID_COLOUR,
        zeroline=False,
        fixedrange=True,
    )
    fig.update_yaxes(
        tickmode="array",
        tickvals=positions,
        ticktext=labels,
        autorange="reversed",  # highest probability on top
        fixedrange=True,
        automargin=True,
    )
    return fig


def probability_ticks(upper: float, most: int = 6) -> list[float]:
    """Evenly spaced ticks from 0 up to `upper` (never past 100 %), at most `most` of them."""
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5):
        if upper / step < most:
            break
    return [round(k * step, 2) for k in range(int(upper / step + 1e-9) + 1)]


def matrix_columns(explanation: Explanation) -> list[str]:
    """Tick labels for the tokens, made unique by position: `␣the` with a subscript 3. A
    left-to-right mark keeps the position after a right-to-left label (Hebrew, Arabic)."""
    return [f"{esc_plotly(t.label)}\u200e<sub>{i}</sub>" for i, t in enumerate(explanation.tokens)]


def method_matrix_figure(explanation: Explanation, include_special: bool = False) -> go.Figure:
    """Methods × tokens, each row divided by its own max |score| (so ±1 is that method's
    strongest token); signed rows diverge around zero, unsigned rows use one hue."""
    tokens = explanation.tokens
    x = list(range(len(tokens)))
    signed = [a for a in explanation.attributions if a.signed]
    unsigned = [a for a in explanation.attributions if not a.signed]
    order = signed + unsigned
    fig = go.Figure()
    for group, kind in ((signed, "diverging"), (unsigned, "sequential")):
        if group:
            fig.add_trace(_matrix_trace(explanation, group, order, kind, include_special, x))
    fig.update_layout(
        **_base_layout(
            "Each row scaled by its own max |score|: ±1 = that method's strongest token",
            140 + MATRIX_ROW_HEIGHT * max(1, len(order)),
        )
    )
    fig.layout.title.font = {"size": FONT_SIZE - 4}
    fig.update_xaxes(
        tickmode="array",
        tickvals=x,
        ticktext=matrix_columns(explanation),
        showgrid=False,
        zeroline=False,
    )
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(order))),
        ticktext=[_row_label(a.method, a.signed) for a in order],
        autorange="reversed",
        showgrid=False,
        zeroline=False,
        automargin=True,
    )
    return fig


def _row_label(method: str, signed: bool) -> str:
    return esc_plotly(method_label(method)) + ("" if signed else " (unsigned)")


def _matrix_trace(explanation, group, order, kind, include_special, x) -> go.Heatmap:
    """One heatmap trace for a group of rows sharing a colour scale; left-out tokens are gaps."""
    signed = kind == "diverging"
    z, hover = [], []
    for a in group:
        scale = max_abs(explanation.tokens, a, include_special)
        row_z, row_hover = [], []
        for i, (t, s) in enumerate(zip(explanation.tokens, a.scores, strict=True)):
            keep = in_scale(t, include_special)
            row_z.append(s / scale if keep and scale > 0 else (0.0 if keep else math.nan))
            note = "" if keep else " (left out of the scale)"
            row_hover.append(
                f"{esc_plotly(method_label(a.method))}<br>{esc_plotly(t.label)} · position {i} · id {t.id}"
                f"<br>score {fmt_score(s)}{note}"
            )
        z.append(row_z)
        hover.append(row_hover)
    return go.Heatmap(
        z=z,
        x=x,
        y=[order.index(a) for a in group],
        text=hover,
        hovertemplate="%{text}<br>scaled %{z:+.2f}<extra></extra>",
        colorscale=colours.plotly_scale(kind),
        zmin=-1.0 if signed else 0.0,
        zmax=1.0,
        zmid=0.0 if signed else None,  # symmetric: +s and −s get mirrored colours
        colorbar={
            "title": {"text": "signed" if signed else "unsigned", "side": "top"},
            "title_font": {"size": FONT_SIZE - 6},
            "tickfont": {"size": FONT_SIZE - 6},
            "thickness": 14,
            "x": 1.01 if signed else 1.11,
            "xanchor": "left",
        },
        xgap=2,
        ygap=2,
        hoverongaps=False,
    )
