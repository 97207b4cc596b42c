"""Counterfactual agreement: does a method rank first the tokens whose change moves the answer
most? For each method of an explanation, Spearman's ρ between its |score| and the largest
verified |ΔF| of a single-token edit at each position (HotFlip's edits, each run through the
model: `HotFlip.edits`). F is the explanation's objective: log p(target), or log p(target) −
log p(foil) with a foil.

Both sides are magnitudes: an edit's effect is |ΔF| whatever its sign, and a token a signed method
scores hard *against* the target is as important as one it scores for it. The positions
compared are those HotFlip verified (run at every editable position, `positions_compared`),
minus the tokens the explanation held fixed (IG scores them 0 by design) — never an estimate.
Setting it on an explanation: whyword/results/explained_edits.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from whyword.results.counterfactuals import HotFlip
from whyword.results.ranks import spearman


@dataclass(frozen=True)
class EditAgreement:
    """One method's rank agreement with the verified single-token edits."""

    rho: float | None  # Spearman's ρ of |score| and max |ΔF|; None when undefined (constant side)
    positions: tuple[int, ...]  # token positions compared, ascending
    effects: tuple[float, ...]  # the largest verified |ΔF| at each of them
    edits: int  # verified edited inputs behind the effects

    def __post_init__(self) -> None:
        assert len(self.positions) == len(self.effects), "one effect per position"
        assert list(self.positions) == sorted(set(self.positions))
        assert all(e >= 0 and math.isfinite(e) for e in self.effects)
        assert self.rho is None or -1 - 1e-9 <= self.rho <= 1 + 1e-9


def edit_effects(hotflip: HotFlip) -> dict[int, float]:
    """The largest verified |ΔF| at each position HotFlip edited (F: with a foil, the contrast)."""
    contrast = hotflip.subject.foil is not None
    out: dict[int, float] = {}
    for c in hotflip.edits:
        (sub,) = c.substitutions
        delta = c.delta_contrast if contrast else c.delta_log_prob
        out[sub.position] = max(out.get(sub.position, 0.0), abs(delta))
    return out


def agreement(
    scores: tuple[float, ...] | list[float], effects: dict[int, float], skip: set[int] = frozenset()
) -> EditAgreement:
    """Spearman's ρ of |scores| and the effects over the positions both cover (not `skip`)."""
    keep = sorted(p for p in effects if p not in skip and p < len(scores))
    rho = spearman([abs(scores[p]) for p in keep], [effects[p] for p in keep])
    return EditAgreement(
        rho=None if math.isnan(rho) else rho,
        positions=tuple(keep),
        effects=tuple(effects[p] for p in keep),
        edits=0,
    )
