"""Each method's parameters as a frozen dataclass (torch-free: results carry and rebuild them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from whyword.results.methods import METHODS


@dataclass(frozen=True)
class IGParams:
    baseline: str  # zero / pad / mask: the reference embedding of the tokens that move
    hold_first: bool  # the first token (the attention sink) stays real along the path
    n_steps: int  # gradient evaluations of the first pass
    adaptive: bool  # halve the worst sub-intervals until the tolerance is met
    tolerance: float  # stop at |completeness error| ≤ this × |F(x) − F(x')|
    max_steps: int  # cap on gradient evaluations per row
    nodes_per_interval: int  # Gauss–Legendre nodes per sub-interval
    grading: float  # interval edges at α = t**grading (1: equal intervals)

    @classmethod
    def from_options(cls, o) -> IGParams:
        return cls(
            o.baseline,
            o.hold_first,
            o.n_steps,
            o.adaptive,
            o.ig_tolerance,
            o.max_steps,
            o.nodes_per_interval,
            o.ig_grading if o.adaptive else 1.0,
        )


@dataclass(frozen=True)
class SmoothGradParams:
    nt_samples: int  # noisy copies per row
    noise: float  # noise stdev as a fraction of the embeddings' stdev
    seed: int  # the noise is seeded, so results repeat

    @classmethod
    def from_options(cls, o) -> SmoothGradParams:
        return cls(o.nt_samples, o.noise, o.seed)


@dataclass(frozen=True)
class OcclusionParams:
    baseline: str  # the embedding a token is replaced by

    @classmethod
    def from_options(cls, o) -> OcclusionParams:
        return cls(o.baseline)


def params_from_dict(method: str, data: dict[str, Any] | None):
    """Rebuild a method's typed parameters from JSON (a method not registered keeps its dict)."""
    if data is None:
        return None
    found = METHODS.get(method)
    return dict(data) if found is None else found.params_from_dict(data)
