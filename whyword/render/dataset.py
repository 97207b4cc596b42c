"""A dataset run's summary (whyword/results/dataset.py) as printed text and as a
self-contained HTML page: per method the mean deletion / insertion areas with their 95 %
bootstrap intervals, the tokens most often ranked first, and the rows that failed and why.
Pure: every token and user string in the HTML goes through `esc`."""

from __future__ import annotations

from whyword.render.text import esc, method_label
from whyword.results.dataset import MethodSummary, Summary

STYLE = (
    "font-family:system-ui, -apple-system, Segoe UI, Roboto, sans-serif;color:inherit;"
    "max-width:1100px;"
)
CELL = "padding:3px 10px;border-bottom:1px solid rgba(128,128,128,0.3);text-align:left;"
HEAD = "font-weight:600;font-size:17px;margin:14px 0 4px 0;"
NOTE = (
    "Deletion: the objective's area as tokens are removed in score order (lower is better); "
    "insertion: as they are put back (higher is better); a random order scores about 0.5 on both."
)


def area(value: tuple[float, float, float] | None) -> str:
    """`0.312 [0.281, 0.344]`, or `–` where no row computed it."""
    return "–" if value is None else f"{value[0]:.3f} [{value[1]:.3f}, {value[2]:.3f}]"


def _random(m: MethodSummary) -> str:
    if m.random_deletion is None or m.random_insertion is None:
        return "–"
    return f"{m.random_deletion:.3f} / {m.random_insertion:.3f}"


def _tokens(m: MethodSummary, top: int, quote=repr) -> str:
    return ", ".join(f"{quote(t)} ×{n}" for t, n in m.top_tokens[:top]) or "–"


def summary_text(summary: Summary, top: int = 5) -> str:
    """The summary printed at the end of `whyword run`."""
    lines = [
        f"model: {summary.model}   rows: {summary.rows}   ok: {summary.ok}   "
        f"failed: {len(summary.failed)}",
        "",
        "mean area [95 % bootstrap interval] over the rows with faithfulness curves",
    ]
    head = ["method", "rows", "deletion ↓", "insertion ↑", "random del / ins"]
    body = [
        [m.method, str(m.curves), area(m.deletion), area(m.insertion), _random(m)]
        for m in summary.methods
    ]
    lines.append(_table(head, body))
    lines.append("")
    lines.append("tokens most often ranked first")
    lines += [f"  {m.method}: {_tokens(m, top)}" for m in summary.methods]
    if summary.failed:
        lines += ["", "failed rows"]
        lines += [f"  {row_id}: {reason}" for row_id, reason in summary.failed]
    return "\n".join(lines)


def summary_html(summary: Summary, top: int = 10, title: str = "WhyWord dataset run") -> str:
    """The summary as one HTML page (inline styles, no scripts, no fetches)."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}</title></head>'
        f"<body>{summary_fragment(summary, top, title)}</body></html>"
    )


def summary_fragment(summary: Summary, top: int = 10, title: str = "Dataset run") -> str:
    """The summary as one self-contained `<div>`: the page's body and the notebook's display
    (`Summary.show(top=...)`)."""
    th = "".join(
        f'<th style="{CELL}">{esc(h)}</th>'
        for h in ("method", "rows", "with curves", "deletion ↓", "insertion ↑", "random del / ins")
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td style="{CELL}">{esc(c)}</td>'
            for c in (
                method_label(m.method),
                m.rows,
                m.curves,
                area(m.deletion),
                area(m.insertion),
                _random(m),
            )
        )  # fmt: skip
        + "</tr>"
        for m in summary.methods
    )
    firsts = "".join(
        f"<li><b>{esc(method_label(m.method))}</b>: {esc(_tokens(m, top))}</li>"
        for m in summary.methods
    )
    failed = "".join(
        f'<tr><td style="{CELL}">{esc(i)}</td><td style="{CELL}">{esc(r)}</td></tr>'
        for i, r in summary.failed
    )
    failed_part = (
        f'<p style="{HEAD}">Failed rows ({len(summary.failed)})</p>'
        f'<table style="border-collapse:collapse">'
        f'<tr><th style="{CELL}">id</th><th style="{CELL}">reason</th></tr>{failed}</table>'
        if summary.failed
        else "<p>No row failed.</p>"
    )
    return (
        f'<div style="{STYLE}"><div style="font-weight:700;font-size:20px">{esc(title)}</div>'
        f"<p>model <b>{esc(summary.model)}</b> · {summary.rows} rows · {summary.ok} ok · "
        f"{len(summary.failed)} failed</p>"
        f'<p style="{HEAD}">Faithfulness: mean area [95 % bootstrap interval]</p>'
        f'<table style="border-collapse:collapse">'
        f'<tr>{th}</tr>{rows}</table><p style="opacity:0.8">{esc(NOTE)}</p>'
        f'<p style="{HEAD}">Tokens most often ranked first</p><ul>{firsts}</ul>'
        f"{failed_part}</div>"
    )


def _table(head: list[str], body: list[list[str]]) -> str:
    cells = [head, *body]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells)
    return "\n".join(line.rstrip() for line in lines)
