"""Which heads and MLPs wrote the target, drawn: the heads × layers grid and the MLP bars
coloured by direct logit attribution (the house diverging scale: red wrote the target up, blue
down), the DLA-vs-ablation agreement, and one head's numbers. Pure: `DirectLogits` in.
The HTML parts load no plotly (the notebook display draws them too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whyword.render import colours
from whyword.render.heatmap import TOKEN_STYLE
from whyword.render.text import esc, fmt_score
from whyword.results.attention import HeadAttention
from whyword.results.components import Component, DirectLogits
from whyword.text.tokens import visible

if TYPE_CHECKING:
    import plotly.graph_objects as go

NO_COMPONENTS = (
    "Which heads and MLPs wrote the target (direct logit attribution) is not in this result."
)
CHECKED_MARK = "✓"  # on a grid cell whose head was checked by ablation
ROW_PX = 26  # the grid's height per layer


def _span(values: list[float]) -> float:
    """The colour scale's half-width: the largest |value| (1 when all are zero)."""
    return max((abs(v) for v in values), default=0.0) or 1.0


def heads_figure(d: DirectLogits) -> go.Figure:
    """Layers (block 1 at the bottom) × heads, each cell its DLA on a diverging scale centred
    at 0; `customdata` is "layer.head" (what a click sends); ✓ marks the heads checked by
    ablation."""
    import plotly.graph_objects as go

    from whyword.render.figures import _base_layout

    grid = d.grid()  # (L, H)
    span = _span([v for row in grid for v in row])
    checked = {(a.component.layer, a.component.head) for a in d.ablations}
    layers = list(range(1, d.layers + 1))
    heads = list(range(d.heads))
    custom = [[f"{layer}.{h}" for h in heads] for layer in layers]
    marks = [[CHECKED_MARK if (layer, h) in checked else "" for h in heads] for layer in layers]
    fig = go.Figure(
        go.Heatmap(
            z=[list(row) for row in grid],
            x=heads,
            y=layers,
            zmin=-span,
            zmax=span,
            zmid=0,
            colorscale=colours.plotly_scale("diverging"),
            customdata=custom,
            text=marks,
            texttemplate="%{text}",
            xgap=1,
            ygap=1,
            colorbar={"title": {"text": "DLA"}, "thickness": 14},
            hovertemplate="layer %{y}, head %{x}<br>DLA %{z:+.3f} logits<extra></extra>",
        )
    )
    fig.update_layout(**_base_layout("", 110 + ROW_PX * d.layers), clickmode="event")
    fig.update_xaxes(title={"text": "head"}, dtick=1 if d.heads <= 16 else None, fixedrange=True)
    fig.update_yaxes(title={"text": "layer"}, fixedrange=True)
    return fig


def mlp_figure(d: DirectLogits) -> go.Figure:
    """One bar per block's MLP: its DLA, coloured on the same diverging scale as the grid."""
    import plotly.graph_objects as go

    from whyword.render.figures import GRID_COLOUR, _base_layout

    values = list(d.mlps())
    span = _span(values)
    bar_colours = [colours.hex_colour(colours.diverging(v / span)) for v in values]
    fig = go.Figure(
        go.Bar(
            x=list(range(1, d.layers + 1)),
            y=values,
            marker={"color": bar_colours, "line": {"width": 1, "color": "rgba(128,128,128,0.6)"}},
            hovertemplate="MLP %{x}<br>DLA %{y:+.3f} logits<extra></extra>",
        )
    )
    fig.update_layout(**_base_layout("", 300), showlegend=False)
    fig.update_xaxes(title={"text": "layer (MLP)"}, fixedrange=True)
    fig.update_yaxes(title={"text": "DLA (logits)"}, gridcolor=GRID_COLOUR, fixedrange=True)
    return fig


def agreement_html(d: DirectLogits, target: str, foil: str | None, page: bool = True) -> str:
    """The objective, how the frozen-scale sum compares with the real one, and, when the top
    components were ablated, Spearman ρ of DLA vs their real effects and the table of them.
    `page=False`: inline styles only, no class for the page's CSS (a notebook)."""
    t = visible(target)
    what = f"logit({t})" if foil is None else f"logit({t}) − logit({visible(foil)})"
    lines = [
        f"<b>{esc(what)}</b> = {d.real:+.3f} on the full pass; with the final norm's scale "
        f"frozen at {d.scale:.4g} the components add up to {d.frozen_total:+.3f} "
        f"(gap {d.gap:+.2e})."
    ]
    if d.zero_agreement is not None:
        lines.append(
            f"DLA vs ablation of the top {len(d.ablations)}: Spearman ρ = "
            f"{d.zero_agreement:+.2f} (zeroed), {_rho(d.mean_agreement)} (mean)."
        )
    else:
        lines.append("No component was checked by ablation.")
    body = "".join(f"<p style='margin:4px 0;'>{line}</p>" for line in lines)
    wrapper = ' class="ww-ly-agreement"' if page else ""
    return f"<div{wrapper}>{body}{_ablations_table(d, foil is not None)}</div>"


def _rho(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _ablations_table(d: DirectLogits, foil: bool) -> str:
    if not d.ablations:
        return ""
    cell = "padding:3px 8px;border-bottom:1px solid rgba(128,128,128,0.35);text-align:right;"
    head = ["component", "DLA", "zeroed: −Δ", "mean: −Δ"]
    rows = []
    for a in d.ablations:
        values = [
            a.component.label,
            fmt_score(a.component.dla),
            fmt_score(a.effect("zero", foil)),
            fmt_score(a.effect("mean", foil)),
        ]
        rows.append("".join(f'<td style="{cell}">{esc(v)}</td>' for v in values))
    header = "".join(f'<th style="{cell}">{esc(h)}</th>' for h in head)
    unit = "log p(target) − log p(foil)" if foil else "log p(target)"
    return (
        f'<table style="border-collapse:collapse;font-size:15px;"><tr>{header}</tr>'
        + "".join(f"<tr>{r}</tr>" for r in rows)
        + f"</table><p style='margin:4px 0;font-size:14px;'>−Δ {esc(unit)} when removed: "
        "how much the component supported it.</p>"
    )


def head_choices(d: DirectLogits) -> list[tuple[str, str]]:
    """The heads for a picker (works without a pointer): the top by |DLA| first."""
    top = d.top(len(d.components), kinds=("head",))
    return [(f"{c.label}  (DLA {c.dla:+.2f})", f"{c.layer}.{c.head}") for c in top]


def parse_head(value: str | None, d: DirectLogits) -> Component | None:
    """The head "layer.head" names (from a click or the picker), or None."""
    raw = str(value or "").split(":", 1)[0].strip()
    layer, _, head = raw.partition(".")
    if not (layer.isdigit() and head.isdigit()):
        return None
    return next(
        (
            c
            for c in d.components
            if c.kind == "head" and (c.layer, c.head) == (int(layer), int(head))
        ),
        None,
    )


def head_html(d: DirectLogits, head: Component, foil: bool) -> str:
    """One head: its DLA, its ablation effect if it was checked; room for its attention."""
    lines = [f"<b>{esc(head.label)}</b>: DLA {fmt_score(head.dla)} logits."]
    a = d.ablation_of(head)
    if a is None:
        lines.append(
            f"Not among the top {len(d.ablations)} checked by ablation."
            if d.ablations
            else "Not checked by ablation."
        )
    else:
        unit = "log p(target) − log p(foil)" if foil else "log p(target)"
        zero, mean = -a.effect("zero", foil), -a.effect("mean", foil)  # the Δ when removed
        lines.append(
            f"Removing it changes {esc(unit)} by {zero:+.4f} (zeroed) and {mean:+.4f} (mean)."
        )
    body = "".join(f"<p style='margin:4px 0;'>{line}</p>" for line in lines)
    return f'<div class="ww-ly-head">{body}<div class="ww-ly-attention"></div></div>'


READER_RING = "outline:2px solid #ca0020;"  # the token whose attention is shown


def attention_html(seen: HeadAttention) -> str:
    """One head's attention from the read token as two token strips: where it looked (α,
    the share of its attention) and what it moved (α · ‖v W_O‖, scaled to the largest)."""
    most = max(seen.moved) or 1.0
    reader = seen.tokens[seen.position].label
    strips = []
    for name, values, scale, unit in (
        ("looked at", seen.weights, 1.0, "attention"),
        ("moved", seen.moved, most, "moved norm"),
    ):
        chips = "".join(
            _strip_cell(t.label, v, scale, unit, i == seen.position)
            for i, (t, v) in enumerate(zip(seen.tokens, values, strict=True))
        )
        strips.append(
            f'<div style="margin:2px 0;"><span style="display:inline-block;min-width:6em;">'
            f"{esc(name)}</span>{chips}</div>"
        )
    top = max(range(len(seen.tokens)), key=lambda i: seen.moved[i])
    summary = (
        f"From {esc(reader)} (outlined), L{seen.layer}.H{seen.head} moved most from "
        f"{esc(seen.tokens[top].label)} (attention {100 * seen.weights[top]:.0f} %)."
    )
    return (
        f'<div class="ww-ly-attention" dir="ltr"><p style="margin:4px 0;">{summary}</p>'
        f"{''.join(strips)}</div>"
    )


def _strip_cell(label: str, value: float, scale: float, unit: str, reader: bool) -> str:
    rgb = colours.sequential(max(0.0, min(1.0, value / scale)))
    style = f"background:{colours.hex_colour(rgb)};color:{colours.text_colour(rgb)};"
    ring = READER_RING if reader else ""
    title = f"{label} · {unit} {value:.3g}"
    return f'<span style="{TOKEN_STYLE}{style}{ring}" title="{esc(title)}">{esc(label)}</span>'
