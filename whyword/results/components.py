"""Which parts of the model wrote the target: direct logit attribution, checked by ablation.

Frozen, torch-free results that check themselves. A `Component` is one writer into the
residual stream (the embeddings, one attention head, one block's MLP, the constant biases);
its `dla` is its share of the objective — the target's logit, or the target − foil logit
difference — with the final norm's scale frozen at its value on the full pass, so the shares
add up to `frozen_total`. An `Ablation` is what really happened to the target when one
component was removed (zeroed, or replaced by its mean over the prompt's positions).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("embeddings", "head", "mlp", "biases")
SUM_TOLERANCE = 1e-3  # Σ dla vs frozen_total, relative to the largest |dla| (float rounding)


@dataclass(frozen=True)
class Component:
    """One writer into the residual stream and its direct share of the objective."""

    kind: str  # one of KINDS
    layer: int  # the block (1-based); 0 for the embeddings and the biases
    head: int | None  # the head (0-based) for kind "head"
    dla: float  # its direct share of the objective, in logits (frozen norm scale)

    def __post_init__(self) -> None:
        assert self.kind in KINDS and self.layer >= 0 and math.isfinite(self.dla)
        assert (self.head is not None) == (self.kind == "head")
        assert (self.layer >= 1) == (self.kind in ("head", "mlp"))

    @property
    def label(self) -> str:
        if self.kind == "head":
            return f"L{self.layer}.H{self.head}"
        return f"MLP {self.layer}" if self.kind == "mlp" else self.kind


@dataclass(frozen=True)
class Ablation:
    """The real effect of removing one component everywhere in the prompt (one batched row)."""

    component: Component
    zero_log_prob: float  # Δ log p(target) when its output is zeroed
    mean_log_prob: float  # Δ log p(target) when replaced by its mean over the positions
    zero_difference: float | None = None  # Δ (log p(target) − log p(foil)), zeroed
    mean_difference: float | None = None

    def __post_init__(self) -> None:
        assert self.component.kind in ("head", "mlp"), "only heads and MLPs are ablated"
        assert (self.zero_difference is None) == (self.mean_difference is None)

    def effect(self, how: str = "zero", foil: bool = False) -> float:
        """How much the component *supported* the objective: −Δ when it is removed."""
        if foil:
            value = self.zero_difference if how == "zero" else self.mean_difference
            assert value is not None, "no foil"
            return -value
        return -(self.zero_log_prob if how == "zero" else self.mean_log_prob)


@dataclass(frozen=True)
class DirectLogits:
    """The objective split over the embeddings, every head, every MLP and the biases."""

    objective: str  # "logit" (of the target) or "logit difference" (target − foil)
    layers: int
    heads: int
    components: tuple[Component, ...]  # embeddings, then per block its heads and MLP; biases
    frozen_total: float  # Σ dla: the objective with the final norm's scale frozen
    real: float  # the objective the model computed on the full pass
    scale: float  # the final norm's frozen 1/rms (1/std) at the read position
    ablations: tuple[Ablation, ...] = ()  # the top components by |dla|, checked
    zero_agreement: float | None = None  # Spearman ρ of dla vs the zero-ablation effects
    mean_agreement: float | None = None  # … vs the mean-ablation effects

    def __post_init__(self) -> None:
        assert self.objective in ("logit", "logit difference")
        assert len(self.components) == 1 + self.layers * (self.heads + 1) + (
            self.components[-1].kind == "biases"
        )
        total = sum(c.dla for c in self.components)
        largest = max(abs(c.dla) for c in self.components)
        assert abs(total - self.frozen_total) <= SUM_TOLERANCE * max(largest, 1.0)
        assert (self.zero_agreement is None) == (len(self.ablations) < 2)

    @property
    def gap(self) -> float:
        """How far the frozen-scale sum is from the real objective (rounding, softcapping)."""
        return self.frozen_total - self.real

    def grid(self) -> tuple[tuple[float, ...], ...]:
        """DLA of every head: layers × heads, block 1 first."""
        rows = [[0.0] * self.heads for _ in range(self.layers)]
        for c in self.components:
            if c.kind == "head":
                rows[c.layer - 1][c.head] = c.dla
        return tuple(tuple(r) for r in rows)

    def mlps(self) -> tuple[float, ...]:
        """DLA of every block's MLP, block 1 first."""
        return tuple(c.dla for c in self.components if c.kind == "mlp")

    def top(self, n: int = 10, kinds: tuple[str, ...] = ("head", "mlp")) -> tuple[Component, ...]:
        """The `n` components of `kinds` with the largest |dla|, largest first."""
        chosen = [c for c in self.components if c.kind in kinds]
        return tuple(sorted(chosen, key=lambda c: -abs(c.dla))[:n])

    def ablation_of(self, component: Component) -> Ablation | None:
        return next((a for a in self.ablations if a.component == component), None)

    def to_dataframe(self):
        """One row per component: kind, layer, head, dla, and its ablation effects if checked."""
        import pandas as pd

        rows = []
        for c in self.components:
            a = self.ablation_of(c)
            rows.append(
                {
                    "component": c.label,
                    "kind": c.kind,
                    "layer": c.layer,
                    "head": c.head,
                    "dla": c.dla,
                    "zero_ablation_delta_log_prob": a.zero_log_prob if a else None,
                    "mean_ablation_delta_log_prob": a.mean_log_prob if a else None,
                    "zero_ablation_delta_difference": a.zero_difference if a else None,
                    "mean_ablation_delta_difference": a.mean_difference if a else None,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
