"""Rank agreement between attribution methods: Spearman's ρ over the same tokens."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from whyword.results.explanation import Explanation
from whyword.results.methods import METHODS
from whyword.results.ranks import spearman


def comparable_positions(explanation: Explanation, methods: Sequence[str]) -> list[int]:
    """Token positions both methods really score: not special, not a held-fixed piece, and,
    when IG is one of them, not a token IG held at its real embedding (IG = 0 by design)."""
    anchors = set()
    if any(_holds(m) for m in methods):
        anchors = set(explanation.held)
    return [
        i
        for i, t in enumerate(explanation.tokens)
        if not t.special and t.attributed and i not in anchors
    ]


def rank_agreement(explanation: Explanation) -> dict[tuple[str, str], float]:
    """Spearman's ρ between every pair of signed methods (in the explanation's order)."""
    signed = [a for a in explanation.attributions if a.signed]
    out: dict[tuple[str, str], float] = {}
    for a, b in combinations(signed, 2):
        keep = comparable_positions(explanation, (a.method, b.method))
        out[(a.method, b.method)] = spearman(
            [a.scores[i] for i in keep], [b.scores[i] for i in keep]
        )
    return out


def _holds(method: str) -> bool:
    """Does the method integrate from the baseline that holds some tokens (IG-like)?"""
    found = METHODS.get(method)
    return found is not None and found.holds_anchors
