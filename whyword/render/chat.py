"""A chat explained, drawn: the conversation as token chips coloured by one method's scores for
the chosen span of the reply, each message under its role's label, the chat template's tokens
greyed and never coloured (they are held, not attributed), the span outlined; and bars per
message or sentence.

Plain data in (`ChatPicture`, units with `.label`, `.role`, `.score`): render never imports
the task that made them. Every token label and user string is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from whyword.render import colours
from whyword.render.figures import BAR_HEIGHT, GRID_COLOUR, _base_layout
from whyword.render.heatmap import SPECIAL_STYLE, TOKEN_STYLE, cell_colours
from whyword.render.text import esc, esc_plotly, fmt_score, method_label
from whyword.text.tokens import Token

TEMPLATE = "template"
ROLE_STYLE = (
    "display:block;margin:10px 0 2px;font-weight:600;font-size:15px;letter-spacing:0.04em;"
    "text-transform:uppercase;opacity:0.8;"
)
SPAN_STYLE = "outline:3px solid #b8860b;outline-offset:1px;"
AFTER_STYLE = "background:transparent;color:inherit;opacity:0.45;border:1px dotted #8a8a8a;"
TEMPLATE_TITLE = "chat template token: held at its real embedding, never attributed as a word"
NAN_TEXT = "—"


@dataclass(frozen=True)
class ChatPicture:
    """What the conversation's picture needs: the tokens, each one's role and message, one
    method's scores for the span [start, end), and the messages' labels."""

    tokens: tuple[Token, ...]
    roles: tuple[str, ...]  # per token: template | system | user | assistant
    owners: tuple[int | None, ...]  # per token: its message (the last: the reply), None
    labels: tuple[str, ...]  # per message: "system", "user", ..., then "reply"
    scores: tuple[float, ...]  # per token, one method's, for the span
    signed: bool
    method: str
    prompt_length: int  # the reply's first token
    start: int  # the span's tokens [start, end)
    end: int

    def __post_init__(self) -> None:
        t = len(self.tokens)
        assert len(self.roles) == len(self.owners) == len(self.scores) == t
        assert 0 < self.prompt_length <= self.start < self.end <= t, "a span of the reply"
        assert all((o is None) == (r == TEMPLATE) for o, r in zip(self.owners, self.roles, strict=True))
        assert all(o is None or 0 <= o < len(self.labels) for o in self.owners)


def scale(p: ChatPicture) -> float:
    """The colour scale's full value: the largest |score| of a word the span reads (template
    tokens and the tokens after the span left out)."""
    read = [
        abs(s) for k, s in enumerate(p.scores[: p.end])
        if p.roles[k] != TEMPLATE and math.isfinite(s)
    ]
    return max(read, default=0.0)


def conversation_html(p: ChatPicture) -> str:
    """The conversation's chips: a role label where each message starts, template tokens greyed
    (dashed, uncoloured), the span outlined, the reply's chips numbered for choosing a span
    (`data-ww-reply`: the token's index in the reply)."""
    full = scale(p)
    out = ['<div class="ww-chat-conversation" style="line-height:1.2;">']
    last = None
    for k, token in enumerate(p.tokens):
        owner = p.owners[k]
        if owner is not None and owner != last:
            if last is not None:
                out.append("</div>")
            role = p.roles[k]
            out.append(
                f'<div class="ww-chat-message ww-chat-{esc(role)}">'
                f'<span class="ww-chat-role" style="{ROLE_STYLE}">{esc(p.labels[owner])}</span>'
            )
            last = owner
        out.append(_chip(p, k, token, full))
    if last is not None:
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _chip(p: ChatPicture, k: int, token: Token, full: float) -> str:
    score = p.scores[k]
    reply = k - p.prompt_length
    title = f"{token.label} · id {token.id} · position {k}"
    attrs = f' data-ww-reply="{reply}"' if reply >= 0 else ""
    if p.roles[k] == TEMPLATE:
        style = SPECIAL_STYLE
        title += f" · {TEMPLATE_TITLE}"
    elif k >= p.end or not math.isfinite(score):
        style = AFTER_STYLE
        title += " · not read by the span"
    else:
        background, text = cell_colours(score, full, p.signed)
        style = f"background:{background};color:{text};"
        title += f" · {p.roles[k]} · score {fmt_score(score)}"
    if p.start <= k < p.end:
        style += SPAN_STYLE
        title += " · in the explained span"
    if reply >= 0:
        style += "cursor:pointer;"
        title += f" · reply token {reply}"
    return (
        f'<span class="ww-chat-token" style="{TOKEN_STYLE}{style}" title="{esc(title)}"{attrs}>'
        f"{esc(token.label)}</span>"
    )


def legend_text(p: ChatPicture, span_text: str, value: float, objective: str) -> str:
    """One line: what is explained, by which method, and the objective's value (escaped)."""
    kind = "red: raised the span, blue: lowered it" if p.signed else "darker: more influence"
    return (
        f"{esc(method_label(p.method))} for the span “{esc(span_text)}” (reply tokens "
        f"{p.start - p.prompt_length}:{p.end - p.prompt_length}): {esc(objective)} = "
        f"{esc(fmt_score(value))}. {kind}; greyed dashed tokens are the chat template's, held."
    )


def units_figure(units: Sequence[Any], title: str, signed: bool) -> go.Figure:
    """Horizontal bars, one per message or sentence (`.label`, `.role`, `.score`), top first;
    a unit the span does not read (NaN) gets no bar and says so."""
    labels = [esc_plotly(_short(f"{u.role}: {u.label}" if u.label != u.role else u.role)) for u in units]
    scores = [u.score if math.isfinite(u.score) else 0.0 for u in units]
    top = max((abs(s) for s in scores), default=0.0)
    fills = [colours.hex_colour(_colour(s, top, signed)) for s in scores]
    text = [fmt_score(u.score) if math.isfinite(u.score) else NAN_TEXT for u in units]
    figure = go.Figure(
        go.Bar(
            x=scores, y=labels, orientation="h", marker={"color": fills}, text=text,
            textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    layout = _base_layout(title, 90 + BAR_HEIGHT * max(1, len(units)))
    layout["yaxis"] = {"autorange": "reversed", "automargin": True}
    layout["xaxis"] = {"gridcolor": GRID_COLOUR, "zerolinecolor": GRID_COLOUR}
    figure.update_layout(**layout)
    return figure


def _colour(score: float, top: float, signed: bool) -> colours.RGB:
    t = score / top if top > 0 else 0.0
    return colours.diverging(max(-1.0, min(1.0, t))) if signed else colours.sequential(abs(t))


def _short(text: str, most: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"
