"""Two models on one text, side by side: each model's Explanation, and how far they agree.

When both models read the text as the same tokens (same ids, same text: one tokenizer), the
two heatmaps are compared token by token. Otherwise tokens cannot be paired, so both sides
are aggregated to words (`Explanation.at_level("word")`: signed scores summed, saliency as the
L2 norm) and the words are paired by their character offsets in the text: a word both models
cover with the same span is compared; a word one model joins with its neighbour (a token that
straddles two words) is left out and counted in the notes.

Agreement per method is Spearman's ρ (`whyword.results.ranks.spearman`) over the units both
models really score: not special, attributed, and — for a method that holds anchor tokens at
their real embedding (IG) — not held by either side, as the trust panel does within one model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from whyword.results.display import Displayable
from whyword.results.explanation import Candidate, Explanation, Prediction
from whyword.results.methods import METHODS
from whyword.results.ranks import spearman

LEVELS = ("token", "word")


@dataclass(frozen=True)
class Unit:
    """A token (same tokenizer) or a word both models cover with the same characters."""

    label: str
    start: int | None  # character offsets into the text (token level: None)
    end: int | None
    positions: tuple[int, int]  # its index among each side's tokens (or words)

    def __post_init__(self) -> None:
        assert len(self.positions) == 2 and min(self.positions) >= 0
        assert (self.start is None) == (self.end is None)


@dataclass(frozen=True)
class MethodAgreement:
    """Spearman's ρ between the two models' scores of one method over `compared` units."""

    method: str
    rho: float  # NaN: fewer than two units, or one side constant
    compared: tuple[int, ...]  # indices into Comparison.units

    def __post_init__(self) -> None:
        assert math.isnan(self.rho) or -1 - 1e-9 <= self.rho <= 1 + 1e-9, self.rho


@dataclass(frozen=True)
class Comparison(Displayable):
    """`whyword.compare(text, models=(a, b))`: each model's Explanation of the same text and
    target word, the units their scores are compared over, and the agreement per method."""

    display_as: ClassVar[str] = "comparison"

    explanations: tuple[Explanation, Explanation]
    level: str  # "token": one tokenizer; "word": tokenizers differ, compared word by word
    units: tuple[Unit, ...]
    agreements: tuple[MethodAgreement, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        a, b = self.explanations
        assert a.text == b.text, "both models explain the same text"
        assert a.kind == b.kind, "causal and masked models are not compared on one sentence"
        assert self.level in LEVELS, self.level
        sizes = (len(self.shown(0).tokens), len(self.shown(1).tokens))
        assert all(0 <= u.positions[i] < sizes[i] for u in self.units for i in (0, 1))
        assert [m.method for m in self.agreements] == self.methods
        assert all(k < len(self.units) for m in self.agreements for k in m.compared)

    @property
    def text(self) -> str:
        return self.explanations[0].text

    @property
    def models(self) -> tuple[str, str]:
        return (self.explanations[0].model, self.explanations[1].model)

    @property
    def methods(self) -> list[str]:
        """The methods both sides ran, in the first side's order."""
        theirs = {a.method for a in self.explanations[1].attributions}
        return [a.method for a in self.explanations[0].attributions if a.method in theirs]

    def shown(self, side: int) -> Explanation:
        """Side 0 or 1 at the comparison's level."""
        return self.explanations[side].at_level(self.level)

    def scores(self, method: str, side: int) -> tuple[float, ...]:
        """One side's scores of `method`, one per unit."""
        scores = self.shown(side).attribution(method).scores
        return tuple(scores[u.positions[side]] for u in self.units)

    def agreement(self, method: str) -> MethodAgreement:
        for m in self.agreements:
            if m.method == method:
                return m
        raise KeyError(method)

    def top(self, side: int) -> tuple[Candidate, ...]:
        """The side's top-k at the explained slot."""
        return slot(self.explanations[side]).candidates

    def target_probability(self, side: int) -> float:
        return self.explanations[side].target_probability

    def target_rank(self, side: int) -> int | None:
        """1-based rank of a one-token target among the side's top-k; None when the target
        takes several tokens or is not in the top-k."""
        e = self.explanations[side]
        if len(e.target_ids) != 1:
            return None
        ids = [c.token_id for c in self.top(side)]
        return ids.index(e.target_ids[0]) + 1 if e.target_ids[0] in ids else None

    def to_dict(self) -> dict[str, Any]:
        sides = [
            {
                "model": e.model,
                "target": e.target,
                "target_ids": list(e.target_ids),
                "target_probability": self.target_probability(i),
                "target_rank": self.target_rank(i),
                "top": [
                    {"token": c.text, "token_id": c.token_id, "probability": c.probability}
                    for c in self.top(i)
                ],
                "explanation": e.to_dict(),
            }
            for i, e in enumerate(self.explanations)
        ]
        return {
            "text": self.text,
            "level": self.level,
            "models": sides,
            "units": [
                {"label": u.label, "start": u.start, "end": u.end, "positions": list(u.positions)}
                for u in self.units
            ],
            "agreement": {
                m.method: {
                    "spearman": None if math.isnan(m.rho) else m.rho,
                    "units": len(m.compared),
                }
                for m in self.agreements
            },
            "notes": list(self.notes),
        }

    def to_dataframe(self):
        """One row per unit; per method each model's score and the difference (b − a)."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                self.level: [u.label for u in self.units],
                "start": [u.start for u in self.units],
                "end": [u.end for u in self.units],
            }
        )
        for method in self.methods:
            a, b = self.scores(method, 0), self.scores(method, 1)
            frame[f"{method}_a"] = list(a)
            frame[f"{method}_b"] = list(b)
            frame[f"{method}_diff"] = [y - x for x, y in zip(a, b, strict=True)]
        return frame


def slot(e: Explanation) -> Prediction:
    """The prediction slot the explanation's target fills (next token, or its mask)."""
    return next((p for p in e.predictions if p.mask == e.mask), e.predictions[0])


def same_tokens(a: Explanation, b: Explanation) -> bool:
    """Do both read the text as the same tokens (ids and text)?"""
    return [(t.id, t.text) for t in a.tokens] == [(t.id, t.text) for t in b.tokens]


def comparison(a: Explanation, b: Explanation, notes: tuple[str, ...] = ()) -> Comparison:
    """Pair the units of two explanations of one text and measure their agreement."""
    if same_tokens(a, b):
        level = "token"
        units = tuple(Unit(t.label, None, None, (i, i)) for i, t in enumerate(a.tokens))
    else:
        level = "word"
        units, alone = _words(a, b)
        notes = (
            *notes,
            "The models tokenize the text differently: their scores are compared word by word "
            "(signed scores summed over a word's tokens, saliency as their L2 norm), the words "
            "paired by character offsets"
            + (
                f"; {alone} word span(s) only one model has (a token across two words joins them) "
                "are left out."
                if alone
                else "."
            ),
        )
    shown = (a.at_level(level), b.at_level(level))
    theirs = {x.method for x in b.attributions}
    agreements = tuple(
        _agreement(m.method, shown, units) for m in a.attributions if m.method in theirs
    )
    return Comparison((a, b), level, units, agreements, tuple(notes))


def _words(a: Explanation, b: Explanation) -> tuple[tuple[Unit, ...], int]:
    """Words both segmentations cover with the same character span, in text order."""
    spans = []
    for e in (a, b):
        segs = e.segmentation("word").segments
        spans.append({(s.start, s.end): k for k, s in enumerate(segs) if s.start is not None})
    segs_a = a.segmentation("word").segments
    units = tuple(
        Unit(segs_a[k].label, start, end, (k, spans[1][(start, end)]))
        for (start, end), k in spans[0].items()
        if (start, end) in spans[1]
    )
    alone = len(set(spans[0]) ^ set(spans[1]))
    return units, alone


def _agreement(method: str, shown: tuple[Explanation, Explanation], units) -> MethodAgreement:
    found = METHODS.get(method)
    holds = found is not None and found.holds_anchors
    keep = []
    for k, u in enumerate(units):
        fine = True
        for side, e in enumerate(shown):
            p = u.positions[side]
            token = e.tokens[p]
            fine &= not token.special and token.attributed and not (holds and p in e.held)
        if fine:
            keep.append(k)
    sa = shown[0].attribution(method).scores
    sb = shown[1].attribution(method).scores
    rho = spearman(
        [sa[units[k].positions[0]] for k in keep], [sb[units[k].positions[1]] for k in keep]
    )
    return MethodAgreement(method, rho, tuple(keep))
