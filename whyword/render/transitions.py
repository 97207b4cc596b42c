"""The transition-score table of generated steps (HTML / CSV / JSON) and a `Generation` drawn
as its prompt and coloured steps. Plotly-free, so a notebook can show a Generation cheaply."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from whyword.render import colours
from whyword.render.heatmap import TOKEN_STYLE
from whyword.render.text import esc

if TYPE_CHECKING:  # result types only: render never loads a model
    from whyword.tasks.generate import Generation, Step

MAX_BITS = 16.0  # surprisal at which a token's shade saturates (the Sequence page's strip too)
LN2 = math.log(2.0)
CHIP = TOKEN_STYLE + "font-size:17px;padding:1px 5px;margin:2px 1px;"


COLUMNS = ("step", "token_id", "token", "log_prob", "probability", "rank", "entropy")
RAW = ("raw_log_prob", "raw_probability", "raw_rank", "raw_entropy")


def transition_rows(steps: Sequence[Step]) -> list[dict[str, float | int | str]]:
    return [s.row() for s in steps]


def transition_table_html(steps: Sequence[Step]) -> str:
    """| step | token id | token | log-prob | probability | rank | entropy | (warped, then raw)."""
    if not steps:
        return "<p>Append a token (click a bar) or auto-complete: each step gets a row here.</p>"
    head = "".join(
        f'<th style="padding:4px 10px;text-align:right;">{esc(h)}</th>'
        for h in ("step", "token id", "token", "log-prob", "probability", "rank", "entropy")
        + ("raw log-prob", "raw probability", "raw rank", "raw entropy")
    )
    body = []
    for s in steps:
        cells = (s.step, s.token.id, s.token.label, f"{s.log_prob:.4f}")
        cells += (f"{100 * s.probability:.2f} %", s.rank, f"{s.entropy:.2f} bits")
        cells += (f"{s.raw_log_prob:.4f}", f"{100 * s.raw_probability:.2f} %", s.raw_rank)
        cells += (f"{s.raw_entropy:.2f} bits",)
        body.append(
            "<tr>"
            + "".join(
                f'<td style="padding:3px 10px;text-align:right;">{esc(c)}</td>' for c in cells
            )
            + "</tr>"
        )
    return (
        '<table style="border-collapse:collapse;font-size:17px;font-variant-numeric:tabular-nums;">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def transitions_csv(steps: Sequence[Step]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *RAW], lineterminator="\n")
    writer.writeheader()
    writer.writerows(transition_rows(steps))
    return out.getvalue()


def transitions_json(steps: Sequence[Step], model: str, scores_from: str) -> str:
    data = {"model": model, "scores_from": scores_from, "steps": transition_rows(steps)}
    return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=True)


def generation_html(generation: Generation, table: bool = True) -> str:
    """The prompt in grey, then each generated token shaded by its surprisal under the
    distribution the strategy drew from (darker = less expected; hover for the numbers), and
    the transition-score table (`table`)."""
    g = generation
    prompt = "".join(
        f'<span style="{CHIP}color:#6b6b6b;border:1px solid #d0d0d0;" '
        f'title="{esc(f"{t.label} · id {t.id} · prompt")}">{esc(t.label)}</span>'
        for t in g.prompt
    )
    steps = []
    for s in g.steps:
        bits = s.log_prob / -LN2 if s.log_prob < 0 else 0.0
        rgb = colours.sequential(min(1.0, bits / MAX_BITS))
        title = (
            f"{s.token.label} · id {s.token.id} · step {s.step} · p {100 * s.probability:.2f} % · "
            f"rank {s.rank} · entropy {s.entropy:.2f} bits · raw p {100 * s.raw_probability:.2f} %"
        )
        style = f"background:{colours.hex_colour(rgb)};color:{colours.text_colour(rgb)};"
        steps.append(
            f'<span style="{CHIP}{style}" title="{esc(title)}">{esc(s.token.label)}</span>'
        )
    why = "the end-of-text token" if g.stopped == "eos" else "the length limit"
    head = (
        f'<div style="font-size:15px;opacity:0.8;margin:0 0 4px 0;">{esc(g.model)} · '
        f"{len(g.steps)} tokens, stopped at {why} · log p = {g.log_prob:.3f} · darker = more "
        f"surprising (−log₂ p, full at {MAX_BITS:g} bits)</div>"
    )
    body = f'<div dir="ltr" style="margin:0 0 8px 0;">{prompt}{"".join(steps)}</div>'
    rows = transition_table_html(g.steps) if table else ""
    return (
        '<div style="font-family:system-ui, -apple-system, Segoe UI, Roboto, sans-serif;'
        f'max-width:1100px;">{head}{body}{rows}</div>'
    )
