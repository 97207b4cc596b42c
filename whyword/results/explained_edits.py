"""An explanation's methods set against verified edits of its input: each `Attribution` gets
its `edit_agreement` (whyword/results/edit_agreement.py) when the edits answer the same input,
model, target and foil as the heatmap."""

from __future__ import annotations

from dataclasses import replace

from whyword.results.counterfactuals import HotFlip
from whyword.results.edit_agreement import agreement, edit_effects
from whyword.results.explanation import Explanation


def answers_same(explanation: Explanation, hotflip: HotFlip) -> str | None:
    """Why `hotflip` cannot be set against `explanation` (one sentence), or None if it can."""
    s = hotflip.subject
    if explanation.model != s.model or [t.id for t in explanation.tokens] != [
        t.id for t in s.tokens
    ]:
        return "The edits were made on another text or model than the heatmap's."
    if tuple(explanation.target_ids) != s.target_ids or explanation.foil_ids != s.foil_ids:
        return "The edits answer another target or foil than the heatmap's."
    if explanation.mask not in (None, 0):
        return "Edits are read at the first [MASK]; the heatmap explains another one."
    return None


def with_edit_agreement(explanation: Explanation, hotflip: HotFlip) -> Explanation:
    """`explanation` with each method's `edit_agreement` set from `hotflip`'s verified edits
    (refused with one sentence, a ValueError, when they answer another input or target)."""
    why = answers_same(explanation, hotflip)
    if why is not None:
        raise ValueError(why)
    effects = edit_effects(hotflip)
    skip = set(explanation.held) | {
        i for i, t in enumerate(explanation.tokens) if t.special or not t.attributed
    }
    n = len(hotflip.edits)
    attributions = tuple(
        replace(a, edit_agreement=replace(agreement(a.scores, effects, skip), edits=n))
        for a in explanation.attributions
    )
    return replace(explanation, attributions=attributions)
