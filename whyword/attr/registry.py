"""What a method returns (`MethodOutput`), and the registry of `Method`s (whyword/results/methods.py).

`register_method` is public: a user-defined method gets the same batching, rows, result
objects and rendering as the built-in ones, through the traits it declares.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from whyword.results.matrix import Completeness
from whyword.results.methods import METHODS, Method, Runner, add_method, get_method, register_method


@dataclass(frozen=True, eq=False)
class MethodOutput:
    """What a method returns: (R, T) scores and, per row, what it knows about their quality."""

    scores: torch.Tensor  # (R, T)
    steps: int | None = None  # gradient evaluations per row (the most any row used)
    # per row, where rows differ (occlusion of right-padded inputs: each its own length)
    row_steps: tuple[int, ...] | None = None
    completeness: tuple[Completeness, ...] | None = None  # one per row (IG)
    stdev: float | None = None  # SmoothGrad's noise level in embedding units
    values: torch.Tensor | None = None  # (R,) F at the real inputs, when the method ran it

    def __post_init__(self) -> None:
        assert self.scores.dim() == 2, "scores are rows × tokens"
        if self.values is not None:
            assert self.values.shape == self.scores.shape[:1], "one value per row"
        if self.completeness is not None:
            assert len(self.completeness) == self.scores.shape[0]
        if self.row_steps is not None:
            assert len(self.row_steps) == self.scores.shape[0], "one step count per row"

    def steps_of(self, rows: slice) -> int | None:
        """Evaluations per row of the rows `rows` (one request's, in a shared call)."""
        return max(self.row_steps[rows]) if self.row_steps is not None else self.steps


__all__ = [
    "METHODS",
    "Completeness",
    "Method",
    "MethodOutput",
    "Runner",
    "add_method",
    "get_method",
    "register_method",
]
