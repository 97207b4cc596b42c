"""The "What would change the answer?" panel as HTML: HotFlip's verified edits (the sentence
with the changed word highlighted, p(target) before → after, the new top-1, flipped or not),
input reduction's shortest input, and the minimal flip — or why it was not found. Pure:
results in, escaped HTML out. Every edit is a button carrying its edited text (`data-text`):
the page's script loads it into the text box (whyword/ui/views/counterfactuals.js)."""

from __future__ import annotations

import math

from whyword.render.text import esc
from whyword.results.counterfactuals import Counterfactual, Subject, WhatIf
from whyword.text.tokens import from_visible

SHOWN = 8  # edits listed: those that lower F most (really, by their forward), flips first
RETYPED = (
    "Edits are made on the model's tokens: loaded into the text box and explained again, an "
    "edited sentence may split into other tokens, so its numbers can differ a little from "
    "the row's."
)
HINT = "Click an edit to load its sentence into the text box and explain it."


def edit_sentence(subject: Subject, edit: Counterfactual) -> str:
    """The input with each substituted token highlighted (the old one in its title), escaped;
    special tokens left out, a leading space kept outside the highlight."""
    changed = {s.position: s for s in edit.substitutions}
    out = []
    for i, token in enumerate(subject.tokens):
        sub = changed.get(i)
        if sub is None:
            out.append("" if token.special else esc(token.text))
            continue
        new = from_visible(sub.new)
        space = new[: len(new) - len(new.lstrip())]
        out.append(
            f'{esc(space)}<mark class="ww-cf-new" title="was: {esc(sub.old)}">'
            f"{esc(new.lstrip())}</mark>"
        )
    return "".join(out)


def _percent(log_prob: float) -> str:
    """A probability for a class: one decimal, two digits below 1 %, "< 0.01 %" below that."""
    p = 100 * math.exp(log_prob)
    if p < 0.01:
        return "< 0.01 %"
    return f"{p:.2g} %" if p < 1 else f"{p:.1f} %"


def edit_row(subject: Subject, edit: Counterfactual) -> str:
    """One edit: its sentence as a button, the probabilities, the new top-1, flipped or not."""
    r, o = edit.reading, subject.original
    numbers = f"p({subject.target}) {_percent(o.target_log_prob)} → {_percent(r.target_log_prob)}"
    if subject.foil is not None and r.foil_log_prob is not None and o.foil_log_prob is not None:
        numbers += f" · p({subject.foil}) {_percent(o.foil_log_prob)} → {_percent(r.foil_log_prob)}"
    flag = (
        '<span class="ww-cf-flipped">flipped</span>'
        if edit.flipped
        else '<span class="ww-cf-kept">not flipped</span>'
    )
    return (
        f'<li class="ww-cf-row"><button type="button" class="ww-cf-load" '
        f'data-text="{esc(edit.text)}">{edit_sentence(subject, edit)}</button>'
        f'<div class="ww-cf-numbers">{esc(numbers)} · new top-1 <b>{esc(r.top1)}</b> · {flag}</div>'
        "</li>"
    )


def shown_edits(result: WhatIf) -> list[Counterfactual]:
    """Up to `SHOWN` verified single edits that lower F (really: by their forward): each
    position's strongest first (the one the counterfactual agreement reads), strongest position
    first, then each position's second, …; an edit that raised F is left out (it is in the
    JSON)."""
    contrast = result.hotflip.subject.foil is not None

    def delta(c: Counterfactual) -> float:
        return c.delta_contrast if contrast else c.delta_log_prob

    lowering = sorted((c for c in result.hotflip.edits if delta(c) < 0), key=delta)
    seen: dict[int, int] = {}
    ranked = []
    for c in lowering:  # strongest first, so each position's first is its strongest
        p = c.substitutions[0].position
        seen[p] = seen.get(p, 0) + 1
        ranked.append((seen[p], delta(c), c))
    return [c for *_, c in sorted(ranked, key=lambda r: r[:2])][:SHOWN]


def _section(title: str, body: str) -> str:
    return f'<div class="ww-cf-section"><div class="ww-cf-title">{esc(title)}</div>{body}</div>'


def hotflip_html(result: WhatIf) -> str:
    hot = result.hotflip
    edits = shown_edits(result)
    positions = len({c.substitutions[0].position for c in hot.edits})
    lead = (
        f"{hot.forwards} single-token edits run through the model at {positions} positions "
        f"(candidates: {hot.vocabulary}); the {len(edits)} that lower "
        f"{hot.subject.objective} most:"
    )
    if not edits:
        none = f"None of the {hot.forwards} verified edits lowers {hot.subject.objective}."
        return _section("One word changed", f"<p>{esc(none)}</p>")
    rows = "".join(edit_row(hot.subject, c) for c in edits)
    return _section(
        "One word changed",
        f'<p class="ww-cf-lead">{esc(lead)}</p><ol class="ww-cf-edits">{rows}</ol>',
    )


def reduction_html(result: WhatIf) -> str:
    red = result.reduction
    if red is None:
        return _section("Shortest input", f"<p>{esc(result.reduction_failed)}</p>")
    n, kept = len(red.subject.tokens), len(red.kept)
    lead = (
        f"Removing the least important token by {red.method} (recomputed after each removal) "
        f"while {red.subject.target} stays the top-1 keeps {kept} of {n} tokens. "
        f"{red.stopped}"
    )
    button = (
        f'<button type="button" class="ww-cf-load" data-text="{esc(red.text)}">'
        f"{esc(red.text)}</button>"
    )
    return _section("Shortest input", f'<p class="ww-cf-lead">{esc(lead)}</p>{button}')


def flip_html(result: WhatIf) -> str:
    flip = result.flip
    if flip is None:
        return _section("Fewest changes that flip the answer", f"<p>{esc(result.flip_failed)}</p>")
    if flip.found is None:
        return _section(
            "Fewest changes that flip the answer",
            f'<p class="ww-cf-notfound">{esc(flip.message)}</p>',
        )
    body = f'<p class="ww-cf-lead">{esc(flip.message)}</p>'
    body += f'<ol class="ww-cf-edits">{edit_row(flip.subject, flip.found)}</ol>'
    return _section("Fewest changes that flip the answer", body)


def counterfactuals_html(result: WhatIf) -> str:
    """The whole panel, headed by the text and answer it is about (it stays when the heatmap
    moves on to another text or target, until the button is pressed again)."""
    s = result.hotflip.subject
    answer = s.target if s.foil is None else f"{s.target} rather than {s.foil}"
    about = f"Edits of “{s.text}” for {answer} ({s.model}). {HINT}"
    return (
        '<div class="ww-cf" dir="ltr">'
        f'<p class="ww-hint">{esc(about)}</p>'
        + hotflip_html(result)
        + reduction_html(result)
        + flip_html(result)
        + f'<p class="ww-hint ww-cf-retyped">{esc(RETYPED)}</p></div>'
    )


def failed_html(message: str) -> str:
    """A request that could not run: its one sentence, escaped."""
    return f'<div class="ww-error ww-cf-error">⚠️ {esc(message)}</div>'
