"""What would change the answer: verified edits of the input, frozen and torch-free.

Every edited input here was run through the model: a `Reading` is what a forward of it gave,
never a first-order estimate. `HotFlip` lists single-token substitutions (each with its
estimate beside its real effect), `Reduction` the tokens input reduction removed one by one,
`MinimalFlip` the fewest substitutions found that flip the answer (or that none was found
within the budget).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from whyword.text.tokens import Token


@dataclass(frozen=True)
class Reading:
    """What one forward of an input gave at the read position."""

    target_log_prob: float  # log p(target) (summed over its pieces, teacher-forced)
    foil_log_prob: float | None  # log p(foil), with a foil
    top1_id: int  # the most probable token at the read position
    top1: str  # its text made visible (␣ for a leading space)

    def __post_init__(self) -> None:
        assert self.target_log_prob <= 1e-6 and math.isfinite(self.target_log_prob)
        assert self.foil_log_prob is None or self.foil_log_prob <= 1e-6

    @property
    def contrast(self) -> float | None:
        """log p(target) − log p(foil), with a foil."""
        if self.foil_log_prob is None:
            return None
        return self.target_log_prob - self.foil_log_prob


@dataclass(frozen=True)
class Substitution:
    """One token replaced: position `position` of the input, `old` → `new`."""

    position: int
    old_id: int
    old: str  # visible text
    new_id: int
    new: str  # visible text
    estimate: float  # HotFlip's first-order ΔF = ∂F/∂e · (e_new − e_old) at the original input

    def __post_init__(self) -> None:
        assert self.position >= 0 and self.old_id != self.new_id, "a substitution changes a token"


@dataclass(frozen=True)
class Counterfactual:
    """An edited input and what the model made of it (verified by a forward)."""

    substitutions: tuple[Substitution, ...]  # by position
    text: str  # the edited ids decoded
    reading: Reading
    delta_log_prob: float  # Δ log p(target) against the original input
    delta_contrast: float | None  # Δ(log p(target) − log p(foil)), with a foil
    flipped: bool  # the top-1 is no longer the target (or, with a foil, the foil beats it)

    def __post_init__(self) -> None:
        positions = [s.position for s in self.substitutions]
        assert positions and positions == sorted(set(positions)), "one edit per position, sorted"
        assert (self.delta_contrast is None) == (self.reading.foil_log_prob is None)

    @property
    def estimate(self) -> float:
        """The first-order estimate of ΔF: the sum of its substitutions' estimates."""
        return sum(s.estimate for s in self.substitutions)


@dataclass(frozen=True)
class Subject:
    """The input and the answer the edits work against; shared by every kind of result."""

    model: str
    kind: str  # causal / masked
    text: str
    tokens: tuple[Token, ...]
    position: int  # the read position (causal: the last token; masked: the [MASK])
    target: str
    target_ids: tuple[int, ...]
    foil: str | None
    foil_ids: tuple[int, ...] | None
    objective: str  # F, the objective the gradients differentiate: "log p(target)" …
    original: Reading  # a forward of the unedited input

    def __post_init__(self) -> None:
        assert self.target_ids and 0 <= self.position < len(self.tokens)
        assert (
            (self.foil is None) == (self.foil_ids is None) == (self.original.foil_log_prob is None)
        )


def _row(c: Counterfactual) -> dict[str, Any]:
    return {
        "edits": " · ".join(f"{s.position}:{s.old}→{s.new}" for s in c.substitutions),
        "estimate": c.estimate,
        "delta_log_prob": c.delta_log_prob,
        "delta_contrast": c.delta_contrast,
        "new_top1": c.reading.top1,
        "flipped": c.flipped,
        "text": c.text,
    }


@dataclass(frozen=True)
class HotFlip:
    """Single-token substitutions at the positions whose best first-order estimate lowers F
    most, each verified. `edits` are ordered by position rank, then by estimate."""

    subject: Subject
    positions: tuple[int, ...]  # the positions edited, best estimate first
    edits: tuple[Counterfactual, ...]
    vocabulary: str  # the candidate filter, in words
    vocabulary_size: int  # how many candidate tokens passed it
    forwards: int  # edited inputs run (each one row of a batched forward)
    seconds: float
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert all(len(c.substitutions) == 1 for c in self.edits), "HotFlip edits one token"
        assert {c.substitutions[0].position for c in self.edits} <= set(self.positions)
        assert self.forwards >= len(self.edits) and self.vocabulary_size > 0

    def best(self) -> Counterfactual | None:
        """The verified edit that lowers F most (target, or target − foil) — its real effect."""
        if not self.edits:
            return None
        key = "delta_contrast" if self.subject.foil is not None else "delta_log_prob"
        return min(self.edits, key=lambda c: getattr(c, key))

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame([_row(c) for c in self.edits])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReductionStep:
    """One removal: the token removed (its index in the original input) and the reading after."""

    removed: int
    removed_label: str
    score: float  # its score under the method, on the input it was removed from
    kept: tuple[int, ...]  # the original indices still in the input after this step
    text: str
    reading: Reading

    def __post_init__(self) -> None:
        assert self.removed not in self.kept and list(self.kept) == sorted(self.kept)


@dataclass(frozen=True)
class Reduction:
    """Input reduction: the least important token removed while the target stays the top-1."""

    subject: Subject
    method: str  # whose scores chose the token to remove
    recomputed: bool  # scores recomputed on the reduced input before every removal
    steps: tuple[ReductionStep, ...]
    stopped: str  # why the reduction ended, one sentence
    forwards: int  # reduced inputs run to verify (besides one gradient pass per step)
    seconds: float
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        top = self.subject.target_ids[0]
        assert all(s.reading.top1_id == top for s in self.steps), "every step keeps the top-1"
        sizes = [len(s.kept) for s in self.steps]
        assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)

    @property
    def kept(self) -> tuple[int, ...]:
        """The original indices of the shortest input found (all of them: nothing removed)."""
        return self.steps[-1].kept if self.steps else tuple(range(len(self.subject.tokens)))

    @property
    def text(self) -> str:
        return self.steps[-1].text if self.steps else self.subject.text

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "removed": s.removed_label,
                    "score": s.score,
                    "tokens_kept": len(s.kept),
                    "target_log_prob": s.reading.target_log_prob,
                    "top1": s.reading.top1,
                    "text": s.text,
                }
                for s in self.steps
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MinimalFlip:
    """The fewest substitutions a bounded search found that flip the answer, or none."""

    subject: Subject
    found: Counterfactual | None  # None: not found within the budget
    budget: int  # edited inputs the search may run (HotFlip's verified ones included)
    forwards: int  # edited inputs it ran
    beam: int
    max_edits: int
    tried: tuple[int, ...]  # edited inputs run at each number of substitutions (1, 2, …)
    seconds: float
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.forwards <= self.budget and sum(self.tried) == self.forwards
        assert self.found is None or (
            self.found.flipped and len(self.found.substitutions) <= self.max_edits
        )

    @property
    def message(self) -> str:
        if self.found is None:
            return (
                f"No flip found within the budget ({self.forwards} of {self.budget} edited "
                f"inputs run, up to {self.max_edits} substitutions)."
            )
        n = len(self.found.substitutions)
        edits = f"{n} substitution{'s' if n > 1 else ''}"
        s = "" if n > 1 else "s"  # the verb agrees with the count
        if self.subject.foil is not None:
            foil, target = self.subject.foil, self.subject.target
            return f"{edits} make{s} the foil {foil} beat the target {target}."
        new = self.found.reading.top1
        return f"{edits} change{s} the top-1 from {self.subject.target} to {new}."

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame([_row(self.found)] if self.found is not None else [])

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message}


@dataclass(frozen=True)
class WhatIf:
    """The page's "What would change the answer?": HotFlip at every editable position (within
    its budget), input reduction and the minimal flip, on one input and answer. A part that
    cannot run (no flip to look for: the target is not the top-1) says why in one sentence."""

    hotflip: HotFlip
    reduction: Reduction | None
    reduction_failed: str  # "" when it ran
    flip: MinimalFlip | None
    flip_failed: str  # "" when it ran

    def __post_init__(self) -> None:
        assert (self.reduction is None) == bool(self.reduction_failed)
        assert (self.flip is None) == bool(self.flip_failed)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.flip is not None:
            out["flip"]["message"] = self.flip.message
        return out
