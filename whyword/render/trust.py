"""The trust panel: IG's completeness check, timings, notes and rank agreement, as HTML."""

from __future__ import annotations

import math

from whyword.render.agreement import comparable_positions, rank_agreement
from whyword.render.text import esc, fmt_number, method_label
from whyword.results.explanation import Attribution, Explanation
from whyword.results.params import IGParams
from whyword.runtime.options import CURVE_BOUND

MAX_RELATIVE_ERROR = 0.05  # above this share of F(input) − F(baseline), IG gets a warning
BASELINES = {
    "zero": "the all-zero embedding",
    "pad": "the pad (or end-of-text) token's embedding",
    "mask": "the [MASK] token's embedding",
}
CELL = "padding:3px 12px 3px 0;text-align:left;vertical-align:top;"
WARNING_STYLE = (
    "margin:8px 0;padding:8px 12px;border-left:6px solid #e08a00;"
    "background:rgba(255,170,0,0.16);font-weight:600;"
)
OK_STYLE = (
    "margin:8px 0;padding:8px 12px;border-left:6px solid #2e9d5b;background:rgba(46,157,91,0.12);"
)


def trust_html(explanation: Explanation) -> str:
    """IG's completeness check (with a warning when it is off by more than 5 %), each method's
    time, the explanation's notes, and how well the signed methods agree on token ranks."""
    parts = []
    for ig in explanation.attributions:
        if ig.convergence_delta is not None:  # a method with a completeness check
            parts.append(ig_html(explanation, ig))
    parts.append(faithfulness_html(explanation))
    parts.append(edit_agreement_html(explanation))
    parts.append(timings_html(explanation))
    if len(explanation.attributions) >= 2:
        parts.append(agreement_html(explanation))
    parts.append(notes_html(explanation))
    return '<div dir="ltr" style="font-size:17px;line-height:1.5;">' + "".join(parts) + "</div>"


def _find(explanation: Explanation, method: str) -> Attribution | None:
    return next((a for a in explanation.attributions if a.method == method), None)


def _heading(text: str) -> str:
    return f'<div style="font-weight:700;font-size:19px;margin:12px 0 4px 0;">{esc(text)}</div>'


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None) -> str:
    """A small table; every cell is escaped here."""
    head = ""
    if header:
        head = "<tr>" + "".join(f'<th style="{CELL}">{esc(h)}</th>' for h in header) + "</tr>"
    body = "".join(
        "<tr>" + "".join(f'<td style="{CELL}">{esc(c)}</td>' for c in row) + "</tr>" for row in rows
    )
    table = f'<table style="border-collapse:collapse;font-size:inherit;width:auto;">{head}{body}</table>'
    # a narrow column (a phone, a half-width panel) scrolls the table instead of clipping it
    return f'<div style="max-width:100%;overflow-x:auto;">{table}</div>'


def ig_html(explanation: Explanation, ig: Attribution) -> str:
    """F(input), F(baseline), the convergence delta and relative error, steps and baseline."""
    params = ig.params if isinstance(ig.params, IGParams) else None
    gap = (
        ig.f_input - ig.f_baseline if ig.f_input is not None and ig.f_baseline is not None else None
    )
    rows = [
        ("F(input)", fmt_number(ig.f_input)),
        ("F(baseline)", fmt_number(ig.f_baseline)),
        ("F(input) − F(baseline)", fmt_number(gap)),
        ("sum of IG scores", fmt_number(math.fsum(ig.scores))),
        ("convergence delta", fmt_number(ig.convergence_delta, 6)),
        ("relative error", _percent(ig.relative_error)),
    ]
    if ig.error_bound is not None:
        rows.append(("sum of |interval deltas| (no cancelling)", _percent(ig.error_bound)))
    steps = "n/a" if ig.steps is None else str(ig.steps)
    if params is not None:
        steps += f" (cap {params.max_steps})"
    if ig.intervals is not None:
        steps += f" in {ig.intervals} intervals"
        if params is not None and params.grading != 1:
            steps += f", denser near the baseline (edges at α = t^{params.grading:g})"
    rows.append(("gradient steps", steps))
    rows.append(("baseline", _baseline_text(explanation, ig)))
    return _heading("Integrated gradients: do the scores add up?") + _table(rows) + _verdict(ig)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _baseline_text(explanation: Explanation, ig: Attribution) -> str:
    name = str(getattr(ig.params, "baseline", explanation.params.get("baseline", "zero")))
    text = f"{name}: every token starts from {BASELINES.get(name, name)}"
    held = [
        explanation.tokens[int(i)].label
        for i in explanation.held
        if 0 <= int(i) < len(explanation.tokens)
    ]
    if held:
        text += "; held at the real embedding (IG score 0): " + " ".join(held)
    elif getattr(ig.params, "hold_first", None) is False:
        text += "; no token is held fixed"
    return text


def _verdict(ig: Attribution) -> str:
    err = ig.relative_error
    if err is None:
        if ig.f_input is None:
            return ""
        return (
            f'<div role="alert" style="{WARNING_STYLE}">⚠ F(input) and F(baseline) are almost '
            "equal, so the relative error is undefined: the baseline is no reference for this "
            "target. Try another baseline.</div>"
        )
    if err > MAX_RELATIVE_ERROR:
        steps = getattr(ig.params, "max_steps", None)
        tol = getattr(ig.params, "tolerance", None)
        hint = "Run again with more steps"
        hint += f" (the cap is now {steps})" if steps is not None else ""
        hint += f" or a lower tolerance (now {tol:g})" if isinstance(tol, int | float) else ""
        return (
            f'<div role="alert" style="{WARNING_STYLE}">⚠ The IG scores miss '
            f"{esc(_percent(err))} of F(input) − F(baseline), more than "
            f"{100 * MAX_RELATIVE_ERROR:.0f} %: do not trust the exact values. {esc(hint)}.</div>"
        )
    return (
        f'<div style="{OK_STYLE}">✓ The IG scores add up to F(input) − F(baseline) within '
        f"{esc(_percent(err))} (limit {100 * MAX_RELATIVE_ERROR:.0f} %).</div>"
    )


def faithfulness_html(explanation: Explanation) -> str:
    """Deletion ↓ / insertion ↑ areas per method beside a random order's, and how to read them."""
    rated = [a for a in explanation.attributions if a.deletion is not None]
    if not rated:
        return ""
    rows = [
        (method_label(a.method), f"{a.deletion:.2f}", f"{a.insertion:.2f}", _faith_word(a))
        for a in rated
    ]
    randoms = {round(v, 2) for a in rated for v in (a.random_deletion, a.random_insertion)}
    random = " / ".join(f"{v:.2f}" for v in sorted(randoms))
    return (
        _heading(f"Faithfulness: deletion ↓ / insertion ↑ per method, random order ≈ {random}")
        + _table(rows, ("method", "deletion ↓", "insertion ↑", ""))
        + '<div style="font-size:15px;opacity:0.8;">Tokens are removed (or put back) in the '
        "order of the heatmap's scores: a faithful heatmap makes the prediction fall fast "
        "(deletion well below the random order) and come back fast (insertion well above it)."
        + _precision_note(rated)
        + "</div>"
    )


def _precision_note(rated: list[Attribution]) -> str:
    """One sentence when the curves ran in bf16 (faster; each area within the measured bound)."""
    if not any(a.curve_precision == "bf16" for a in rated):
        return ""
    return (
        f" The curves were computed in bf16, which moves each area by at most {CURVE_BOUND} on "
        "our test prompts; precision fp32 computes them exactly."
    )


def _faith_word(a: Attribution) -> str:
    """Plain words for how the method compares with a random order (±0.05 counts as a tie)."""
    better = (a.random_deletion - a.deletion) + (a.insertion - a.random_insertion)
    if better > 0.1:
        return "better than random"
    if better < -0.1:
        return "worse than random"
    return "no better than random"


def edit_agreement_html(explanation: Explanation) -> str:
    """Each method's Spearman ρ with the verified single-token edits, once they were run."""
    rated = [a for a in explanation.attributions if a.edit_agreement is not None]
    if not rated:
        return ""
    rows = []
    for a in rated:
        g = a.edit_agreement
        rho = "n/a" if g.rho is None else f"{g.rho:+.2f}"
        word = _agreement_word(math.nan if g.rho is None else g.rho)
        if g.rho is not None and len(g.positions) < FEW_TOKENS:
            word += ", by chance?"
        rows.append((method_label(a.method), rho, word, str(len(g.positions))))
    edits = rated[0].edit_agreement.edits
    return (
        _heading("Do the scores match verified edits? (Spearman ρ)")
        + _table(rows, ("method", "ρ", "", "tokens"))
        + '<div style="font-size:15px;opacity:0.8;">'
        + esc(
            f"|score| against the largest real change of {explanation.formula} when one token "
            f"is replaced, over {edits} edits each run through the model (What would change "
            "the answer?). +1: the method ranks first the tokens whose change moves the answer "
            "most."
        )
        + "</div>"
    )


def timings_html(explanation: Explanation) -> str:
    """Seconds and steps per method, then the prediction and total time when known."""
    rows = [
        (
            method_label(a.method),
            f"{a.seconds:.2f} s",
            "" if a.steps is None else f"{a.steps} steps",
        )
        for a in explanation.attributions
    ]
    for key, name in (("predictions", "top-k predictions"), ("total", "total")):
        if key in explanation.timings:
            rows.append((name, f"{explanation.timings[key]:.2f} s", ""))
    return _heading("Time") + _table(rows)


def agreement_html(explanation: Explanation) -> str:
    """Spearman's ρ for each pair of signed methods, with how many tokens it compares."""
    pairs = rank_agreement(explanation)
    if not pairs:
        return ""
    rows = []
    fewest = None
    for (a, b), rho in pairs.items():
        n = len(comparable_positions(explanation, (a, b)))
        fewest = n if fewest is None else min(fewest, n)
        value = "n/a" if math.isnan(rho) else f"{rho:+.2f}"
        word = _agreement_word(rho) if n >= FEW_TOKENS else f"{_agreement_word(rho)}, by chance?"
        rows.append((method_label(a), method_label(b), value, word, str(n)))
    few = ""
    if fewest is not None and fewest < FEW_TOKENS:
        few = (
            f" With only {fewest} tokens, a ρ this size can easily happen by chance: "
            "read it as a hint, not a verdict (a longer text tells more)."
        )
    return (
        _heading("Do the methods agree? (Spearman rank correlation)")
        + _table(rows, ("method", "method", "ρ", "", "tokens"))
        + '<div style="font-size:15px;opacity:0.8;">+1: same token order, 0: unrelated, '
        f"−1: reversed. Special and held-fixed tokens are left out.{esc(few)}</div>"
    )


# Below this many tokens a rank correlation says little: with n = 7, |ρ| ≥ 0.71 is needed for
# p < 0.05 (two-sided), and every |ρ| below ~0.5 is common among random orders.
FEW_TOKENS = 8


def _agreement_word(rho: float) -> str:
    if math.isnan(rho):
        return "undefined (constant scores or too few tokens)"
    if rho >= 0.7:
        return "agree"
    if rho >= 0.3:
        return "partly agree"
    if rho > -0.3:
        return "unrelated"
    return "disagree"


def notes_html(explanation: Explanation) -> str:
    if not explanation.notes:
        return ""
    items = "".join(f'<li style="margin:2px 0;">{esc(n)}</li>' for n in explanation.notes)
    return _heading("Notes") + f'<ul style="margin:0;padding-left:1.2em;">{items}</ul>'
