"""Hand-built counterfactual results for the render, results and UI tests: a five-token input
whose second token is markup, HotFlip edits at every position with known effects, a reduction
and a flip (found or not)."""

from __future__ import annotations

import math

from whyword.results.counterfactuals import (
    Counterfactual,
    HotFlip,
    MinimalFlip,
    Reading,
    Reduction,
    ReductionStep,
    Subject,
    Substitution,
    WhatIf,
)
from whyword.text.tokens import Token, visible

TEXTS = ("The", " <b>cap</b>", " of", " France", " is")
TOKENS = tuple(Token(i, t, visible(t)) for i, t in enumerate(TEXTS))
ORIGINAL = Reading(math.log(0.6), None, 5, "␣Paris")  # p(␣Paris) = 60 %
SUBJECT = Subject(
    "tiny/<b>model</b>",
    "causal",
    "".join(TEXTS),
    TOKENS,
    4,
    "␣Paris",
    (5,),
    None,
    None,
    "log p(target)",
    ORIGINAL,
)
# (position, new text, Δ log p(target), new top-1 id): the largest |Δ| per position is
# 0.2, 1.0, 0.5, 0.1 at positions 1, 2, 3, 4; position 0 has none
EDITS = (
    (1, " <i>x</i>", -0.2, 5),
    (1, " y", 0.1, 5),
    (2, " &amp;", -1.0, 6),
    (3, " Spain", -0.5, 5),
    (4, " was", -0.1, 5),
)
EFFECTS = {1: 0.2, 2: 1.0, 3: 0.5, 4: 0.1}


def edit(position: int, new: str, delta: float, top: int, subject: Subject = SUBJECT):
    old = subject.tokens[position]
    sub = Substitution(position, old.id, old.label, 100 + position, visible(new), delta - 0.05)
    texts = [t.text for t in subject.tokens]
    texts[position] = new
    top1 = "␣London" if top == 6 else "␣Paris"
    reading = Reading(subject.original.target_log_prob + delta, None, top, top1)
    return Counterfactual((sub,), "".join(texts), reading, delta, None, flipped=top != 5)


def hotflip(subject: Subject = SUBJECT) -> HotFlip:
    edits = tuple(edit(*e, subject=subject) for e in EDITS)
    return HotFlip(subject, (2, 3, 1, 4), edits, "whole words", 50, len(edits), 0.1)


def reduction() -> Reduction:
    step = ReductionStep(2, "␣of", 0.01, (0, 1, 3, 4), "The <b>cap</b> France is", ORIGINAL)
    return Reduction(SUBJECT, "input_x_gradient", True, (step,), "It stopped.", 3, 0.1)


def flip(found: bool = True) -> MinimalFlip:
    hit = edit(2, " &amp;", -1.0, 6) if found else None
    return MinimalFlip(
        SUBJECT, hit, 20, 20 if not found else 5, 3, 4, (20,) if not found else (5,), 0.1
    )


def what_if(found: bool = True, reduced: bool = True) -> WhatIf:
    failed = "" if reduced else "Input reduction keeps the target as the top-1, and <b> is not."
    return WhatIf(hotflip(), reduction() if reduced else None, failed, flip(found), "")
