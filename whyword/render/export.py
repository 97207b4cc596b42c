"""Downloads: CSV (one row per token), JSON (the whole Explanation) and a self-contained HTML."""

from __future__ import annotations

import json

from whyword._version import __version__
from whyword.render.heatmap import heatmap_html
from whyword.render.text import esc, fmt_score, foil_label, target_label
from whyword.render.trust import CELL, trust_html
from whyword.results.explanation import Explanation, Prediction

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # spreadsheets run cells that start so


def export_csv(explanation: Explanation) -> str:
    """Position, token label, token id, special, one column of raw scores per method, then
    the context columns of `csv_context`.

    A token label that a spreadsheet would read as a formula gets a leading apostrophe
    (CSV injection); the exact tokens stay in the JSON export. Methods with a faithfulness
    score add constant columns `<method> deletion`, `<method> insertion` (areas) and
    `random deletion`, `random insertion` (a random order's); the curves are in the JSON. The first
    line is a comment naming the WhyWord version (pandas: `read_csv(path, skiprows=1)`).
    """
    frame = explanation.to_dataframe()
    for a in explanation.attributions:
        if a.deletion is not None:
            frame[f"{a.method} deletion"] = a.deletion
            frame[f"{a.method} insertion"] = a.insertion
            frame["random deletion"] = a.random_deletion
            frame["random insertion"] = a.random_insertion
    frame["token"] = [f"'{t}" if t.startswith(FORMULA_START) else t for t in frame["token"]]
    for name, value in csv_context(explanation).items():  # the same on every row
        text = isinstance(value, str) and value.startswith(FORMULA_START)
        frame[name] = f"'{value}" if text else value
    return f"# WhyWord {__version__}\n" + frame.to_csv(index=False)


def csv_context(explanation: Explanation) -> dict[str, str | float]:
    """What the scores explain, as the CSV's last columns: model, target, foil, objective,
    its value and the options used (JSON), so a CSV read alone says what it is."""
    e = explanation
    return {
        "model": e.model,
        "target": e.target,
        "foil": e.foil or "",
        "objective": e.formula,
        "objective_value": float(e.value),
        "parameters": json.dumps(e.params, sort_keys=True, default=str),
    }


def export_json(explanation: Explanation) -> str:
    """The whole explanation, pretty-printed, with the WhyWord version first;
    `Explanation.from_json` reads it back."""
    return json.dumps(
        {"whyword_version": __version__, **explanation.to_dict()}, ensure_ascii=False, indent=2
    )


def export_html(explanation: Explanation) -> str:
    """One self-contained page: header, heatmap, trust panel and predictions; no scripts or
    external links, inline styles only, every string escaped."""
    title = f"WhyWord: {explanation.text}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="WhyWord {__version__}">'
        f"<title>{esc(title)}</title></head>"
        '<body style="margin:24px auto;max-width:1100px;padding:0 16px;background:#ffffff;'
        'color:#1a1a1a;font-family:system-ui, -apple-system, Segoe UI, Roboto, sans-serif;">'
        f"{_header(explanation)}"
        f"{heatmap_html(explanation)}"
        f"{trust_html(explanation)}"
        f"{predictions_html(explanation.predictions)}"
        f'<p style="font-size:13px;opacity:0.7;margin-top:24px;">WhyWord {__version__}</p>'
        "</body></html>\n"
    )


def _header(explanation: Explanation) -> str:
    foil = foil_label(explanation)
    facts = [
        ("text", explanation.text),
        ("model", f"{explanation.model} ({explanation.kind}, {explanation.mode})"),
        ("target", target_label(explanation)),
    ]
    if foil is not None:
        facts.append(("foil", foil))
    facts.append(("objective", f"F = {explanation.formula} = {fmt_score(explanation.value)}"))
    facts.append(("p(target)", f"{100 * explanation.target_probability:.2f} %"))
    rows = "".join(
        f'<tr><th style="{CELL}">{esc(k)}</th><td style="{CELL}white-space:pre-wrap;">{esc(v)}</td></tr>'
        for k, v in facts
    )
    return (
        '<h1 style="font-size:26px;margin:0 0 8px 0;">Why this word?</h1>'
        f'<table style="border-collapse:collapse;font-size:17px;margin-bottom:12px;">{rows}</table>'
    )


def predictions_html(predictions: tuple[Prediction, ...]) -> str:
    """A table per prediction slot: rank, token, probability, token id."""
    parts = []
    for p in predictions:
        slot = "next token" if p.mask is None else f"mask {p.mask + 1} ({p.scoring})"
        head = "".join(
            f'<th style="{CELL}">{h}</th>' for h in ("rank", "token", "probability", "id")
        )
        body = "".join(
            f'<tr><td style="{CELL}">{r["rank"]}</td><td style="{CELL}">{esc(r["token"])}</td>'
            f'<td style="{CELL}">{100 * r["probability"]:.2f} %</td>'
            f'<td style="{CELL}">{int(r["token_id"])}</td></tr>'
            for r in p.rows()
        )
        note = f'<p style="font-size:15px;">{esc(p.note)}</p>' if p.note else ""
        parts.append(
            f'<div style="font-weight:700;font-size:19px;margin:16px 0 4px 0;">Predictions: '
            f"{esc(slot)}</div>"
            f'<table style="border-collapse:collapse;font-size:17px;">{head}{body}</table>{note}'
        )
    return "".join(parts)
